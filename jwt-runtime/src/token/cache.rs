//! The verified-token cache: a token whose signature was verified is not verified again while it
//! is cached.
//!
//! - Only tokens that passed every check enter it; a failing token never does.
//! - It never extends validity: the caller re-checks the time claims (with the leeway) on every
//!   hit.
//! - Entries are bound to the key set they were verified with: when the JWKS changes (its
//!   generation moves), older entries no longer hit.
//! - It is bounded by entries (S3-FIFO eviction), so an attacker sending many distinct tokens —
//!   which must be valid to enter at all — only evicts, never grows it. An entry holds the token
//!   (at most `max_token_bytes`) and its claims.
//! - A hit is an exact match: entries are keyed by the whole token, hashed with a randomly seeded
//!   hasher and compared byte for byte, so no other token (a tampered one included) can hit.

use std::sync::Arc;

use jsonwebtoken::Algorithm;

use crate::claims::Payload;
use crate::token::claims::TokenClaims;
use crate::token::validate::validity::Window;

/// The claims of a verified token, and the key (`kid`, algorithm, key-set generation) that
/// verified it.
pub(crate) struct Verified {
    pub(crate) payload: Arc<TokenClaims>,
    /// Its header, for `get_jwt_header()` without decoding it again.
    pub(crate) header: Arc<Payload>,
    /// Its time claims, read when it was verified: a hit re-checks them without reading JSON.
    pub(crate) window: Window,
    pub(crate) kid: Option<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) generation: u64,
    /// The token is bound to a DPoP key (`cnf.jkt`).
    pub(crate) dpop_bound: bool,
    /// A refresh token's (`"type": "refresh"`).
    pub(crate) refresh: bool,
}

/// A bounded, concurrent map from tokens to their verified claims.
pub(crate) struct VerifiedTokens {
    entries: quick_cache::sync::Cache<Box<str>, Arc<Verified>>,
}

impl VerifiedTokens {
    /// A cache of at most `capacity` tokens; `None` when `capacity` is 0 (the cache is off).
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| VerifiedTokens {
            entries: quick_cache::sync::Cache::new(capacity),
        })
    }

    /// The verified claims of `token`, if `current` says the key that verified it is still
    /// current; an entry whose key is not is dropped.
    pub(crate) fn get(
        &self,
        token: &str,
        current: impl FnOnce(&Verified) -> bool,
    ) -> Option<Arc<Verified>> {
        let hit = self.entries.get(token)?;
        if current(&hit) {
            Some(hit)
        } else {
            self.entries.remove(token);
            None
        }
    }

    /// Records a token that passed every check.
    pub(crate) fn insert(&self, token: &str, verified: Verified) {
        self.entries.insert(token.into(), Arc::new(verified));
    }

    /// How many tokens are cached.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(n: u64) -> TokenClaims {
        TokenClaims::of(json!({ "identity": n }))
    }

    #[test]
    fn zero_capacity_is_off() {
        assert!(VerifiedTokens::new(0).is_none());
    }

    fn verified(n: u64, generation: u64) -> Verified {
        Verified {
            payload: Arc::new(payload(n)),
            header: Arc::new(Payload::new()),
            window: Window::default(),
            kid: None,
            algorithm: Algorithm::RS256,
            generation,
            dpop_bound: false,
            refresh: false,
        }
    }

    #[test]
    fn hits_only_while_the_key_is_current() {
        let cache = VerifiedTokens::new(8).expect("on");
        cache.insert("a.b.c", verified(1, 3));
        let hit = cache.get("a.b.c", |v| v.generation == 3).expect("hit");
        assert_eq!(*hit.payload, payload(1));
        assert!(
            cache.get("a.b.c", |v| v.generation == 4).is_none(),
            "a new key set invalidates"
        );
        assert!(
            cache.get("a.b.c", |_| true).is_none(),
            "and the stale entry is gone"
        );
    }

    #[test]
    fn distinct_tokens_never_grow_it_past_its_bound() {
        let cache = VerifiedTokens::new(100).expect("on");
        for n in 0..10_000u64 {
            cache.insert(&format!("token-{n}"), verified(n, 0));
        }
        assert!(cache.len() <= 100, "{} entries", cache.len());
    }

    #[test]
    fn only_the_exact_token_hits() {
        let cache = VerifiedTokens::new(8).expect("on");
        cache.insert("a.b.c", verified(1, 0));
        for other in ["a.b.d", "a.b.c ", "a.b.", "A.b.c", "a.b.cc", ""] {
            assert!(cache.get(other, |_| true).is_none(), "{other:?}");
        }
        assert!(cache.get("a.b.c", |_| true).is_some());
    }
}
