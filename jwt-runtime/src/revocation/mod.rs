//! Token revocation: logging out one token, logging out every token of a subject, and the check
//! every protected request goes through once its token is verified (a verified-token cache hit
//! included, so a cached token is never served once revoked).
//!
//! The state lives in a [`RevocationStore`]: [`MemoryStore`] for tests and single instances,
//! [`RedisStore`] for a state shared by every instance (the `redis_url` setting), or the
//! application's own. Flask-JWT-Extended's `token_in_blocklist_loader` callback may answer in its
//! place, or beside it. A token is refused when its `jti` was revoked, or when every token of its
//! subject issued at or before a time was, and its `iat` is not later.
//!
//! When the state cannot be read within `revocation_timeout`, the request is refused with 503
//! (the default), or accepted with one warning per outage (`revocation_fail_open`).
//!
//! [`RedisStore`] is the `redis` cargo feature; without it the `redis_url` setting is refused at
//! ignition, naming the feature.

// What only the Redis store uses (`redis`, `redis_connection`, `near_cache`, and the store of the
// `redis_url` setting, `redis_url`) is the `redis` feature; `without_redis` stands in for
// `redis_url` without it.

#[cfg(feature = "redis")]
mod encoding;
mod families;
mod memory;
#[cfg(feature = "redis")]
mod near_cache;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
mod redis_connection;
#[cfg(feature = "redis")]
mod redis_families;
#[cfg(feature = "redis")]
mod redis_replay;
#[cfg(feature = "redis")]
mod redis_url;
mod replay;
mod revoker;
#[cfg(not(feature = "redis"))]
mod without_redis;
#[cfg(not(feature = "redis"))]
use without_redis as redis_url;

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rocket::http::Status;
use serde_json::Value;

use crate::claims::{claim_text, Payload};
use crate::error::{ErrorKind, JwtError};
use crate::settings::{Settings, SettingsError};
use crate::telemetry::Telemetry;
use crate::token::claims::TokenClaims;
use crate::token::verified::VerifiedToken;
use futures_util::future::BoxFuture;

pub(crate) use families::ReuseFn;
pub use families::{
    AccessToken, FamilyRecord, FamilyStart, IssuedAccess, RefreshFamilies, RefreshTokenReuse,
    Rotation, RotationAttempt, Session, FAMILY_CLAIM,
};
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "redis")]
pub use redis_connection::RedisOptions;
/// The Redis connection of the stores, for the key ring on Redis.
#[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
pub(crate) use redis_connection::{
    open as connect_redis, Connection as RedisConnection, Subscriptions,
};
pub(crate) use replay::MemoryReplay;
pub use replay::ProofReplay;
pub use revoker::Revoker;

use redis_url::UrlStore;

/// The revocation state of one token, as a store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RevocationState {
    /// The token's `jti` was revoked.
    pub token_revoked: bool,
    /// Every token of the subject issued at or before this time (seconds since the epoch) was
    /// revoked ("log out everywhere").
    pub subject_revoked_at: Option<i64>,
}

impl RevocationState {
    /// Whether a token issued at `issued_at` (its `iat`) is refused. A token without `iat` is
    /// refused once its subject was revoked: nothing says it was issued later.
    pub fn refuses(&self, issued_at: Option<i64>) -> bool {
        self.token_revoked
            || match (self.subject_revoked_at, issued_at) {
                (Some(at), Some(issued_at)) => issued_at <= at,
                (Some(_), None) => true,
                (None, _) => false,
            }
    }
}

/// A store that could not answer (unreachable, timed out, an unexpected reply).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(String);

impl StoreError {
    /// An error saying `reason`; it is logged, never sent to clients.
    pub fn new(reason: impl fmt::Display) -> Self {
        StoreError(reason.to_string())
    }
}

/// Where revoked tokens are kept. Subjects and `jti`s are strings: the identity claim's value as
/// Python's `str()` shows it (a string as is, anything else as JSON).
///
/// Implementations keep a revoked token until `until` (its `exp` plus the leeway) and a
/// subject's revocation until its `until` (the longest token lifetime), so that nothing grows
/// without bound.
#[rocket::async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Whether `subject`'s token `jti` was revoked, and when every token of `subject` was.
    async fn state(&self, subject: &str, jti: Option<&str>) -> Result<RevocationState, StoreError>;

    /// [`state`](Self::state) when it is known without waiting (a local store, or a near-cache
    /// kept up to date); `None` sends the request down the async path.
    fn state_now(&self, subject: &str, jti: Option<&str>) -> Option<RevocationState> {
        let _ = (subject, jti);
        None
    }

    /// Revokes `subject`'s token `jti` until `until` (seconds since the epoch).
    async fn revoke_token(&self, subject: &str, jti: &str, until: i64) -> Result<(), StoreError>;

    /// Revokes every token of `subject` issued at or before `at`, remembered until `until`
    /// (seconds since the epoch). A later call with a later `at` replaces it.
    async fn revoke_subject(&self, subject: &str, at: i64, until: i64) -> Result<(), StoreError>;

    /// The refresh-token families this store keeps, for `refresh_token_rotation`; `None` (the
    /// default) when it keeps none, and rotation cannot be switched on with it.
    fn families(&self) -> Option<&dyn RefreshFamilies> {
        None
    }

    /// Whether a near-cache answers warm lookups locally (the Redis store's invalidation channel
    /// is live); `None` (the default) for a store without one. Read by the metrics.
    fn near_cache_live(&self) -> Option<bool> {
        None
    }

    /// Where this store remembers DPoP proofs, so that a fleet sharing it refuses a proof
    /// replayed on any instance; `None` (the default) when it does not, and proofs are then
    /// remembered in this instance's memory.
    fn proof_replay(&self) -> Option<&dyn ProofReplay> {
        None
    }
}

/// Flask-JWT-Extended's `token_in_blocklist_loader(jwt_header, jwt_payload)`: `true` refuses
/// the token.
pub(crate) type BlocklistFn =
    dyn Fn(Arc<Payload>, Arc<Payload>) -> BoxFuture<'static, bool> + Send + Sync;

/// The revocation check of an engine: the store and the blocklist callback, and what to do when
/// they cannot answer.
pub(crate) struct Revocation {
    store: Option<Arc<dyn RevocationStore>>,
    /// The store of `redis_url` (the same as `store`), with its URL as logs show it.
    redis: Option<UrlStore>,
    blocklist: Option<Arc<BlocklistFn>>,
    fail_open: bool,
    timeout: Duration,
    identity_claim: String,
    /// In an outage: the first failure logs a warning, the first success after it a notice.
    failing: AtomicBool,
    /// In an outage, one lookup at a time probes the store (waiting up to the timeout); the
    /// others are answered at once, so that an outage does not hold every request.
    probing: AtomicBool,
    /// The metrics' counters (round trips, errors, answers without the store), when `metrics`
    /// is on.
    telemetry: Option<Arc<Telemetry>>,
}

impl Revocation {
    /// The check the settings and callbacks ask for: `store` (the application's), else a
    /// Redis store when `redis_url` is set; `None` when nothing revokes tokens.
    pub(crate) fn new(
        settings: &Settings,
        store: Option<Arc<dyn RevocationStore>>,
        blocklist: Option<Arc<BlocklistFn>>,
        telemetry: Option<Arc<Telemetry>>,
    ) -> Result<Option<Revocation>, SettingsError> {
        let (store, redis) = match store {
            Some(store) => (Some(store), None),
            None => {
                let redis = UrlStore::from_settings(settings)?;
                (redis.as_ref().map(UrlStore::store), redis)
            }
        };
        if store.is_none() && blocklist.is_none() {
            return Ok(None);
        }
        Ok(Some(Revocation {
            store,
            redis,
            blocklist,
            fail_open: settings.revocation_fail_open,
            timeout: settings.revocation_timeout,
            identity_claim: settings.identity_claim.clone(),
            failing: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            telemetry,
        }))
    }

    /// At ignition, whether the Redis store of `redis_url` answers, in one log line that says
    /// what it means for requests (as the JWKS fetch at ignition does). Nothing for other stores.
    pub(crate) async fn log_reachability(&self) {
        if let Some(redis) = &self.redis {
            redis.log_reachability(self.fail_open).await;
        }
    }

    /// The store, for revoking.
    pub(crate) fn store(&self) -> Option<&Arc<dyn RevocationStore>> {
        self.store.as_ref()
    }

    /// The check without waiting: `Some` when the answer is known locally, `None` when the
    /// store has to be asked.
    fn check_now(&self, token: &VerifiedToken) -> Option<Result<(), JwtError>> {
        if self.blocklist.is_some() {
            return None;
        }
        let store = self.store.as_ref()?;
        let key = TokenKey::of(&token.claims, &self.identity_claim);
        let state = store.state_now(&key.subject, key.jti.as_deref())?;
        Some(self.conclude(state, &key, token))
    }

    /// The check: the blocklist callback and the store, within `revocation_timeout`. A state the
    /// near-cache holds answers when first polled.
    pub(crate) async fn check(&self, token: &VerifiedToken) -> Result<(), JwtError> {
        match self.check_now(token) {
            Some(known) => known,
            // The store's lookup, in a future of its own: the request's future stays small.
            None => Box::pin(self.ask(token)).await,
        }
    }

    /// The blocklist callback and the store, asked within `revocation_timeout`.
    async fn ask(&self, token: &VerifiedToken) -> Result<(), JwtError> {
        let key = TokenKey::of(&token.claims, &self.identity_claim);
        let _probe = if self.failing.load(Ordering::Relaxed) {
            match Probe::take(&self.probing) {
                Some(probe) => Some(probe),
                None => return self.unavailable("the store is failing; another request probes it"),
            }
        } else {
            None
        };
        let lookup = async {
            if let Some(blocklist) = &self.blocklist
                && blocklist(token.header(), token.payload()).await
            {
                return Ok(RevocationState {
                    token_revoked: true,
                    subject_revoked_at: None,
                });
            }
            match &self.store {
                Some(store) => store.state(&key.subject, key.jti.as_deref()).await,
                None => Ok(RevocationState::default()),
            }
        };
        let started = self.telemetry.as_ref().map(|_| std::time::Instant::now());
        let answer = tokio::time::timeout(self.timeout, lookup).await;
        if let (Some(telemetry), Some(started)) = (&self.telemetry, started) {
            telemetry.store_latency.observe(started.elapsed());
            if !matches!(answer, Ok(Ok(_))) {
                telemetry.store_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        let state = match answer {
            Ok(Ok(state)) => state,
            Ok(Err(error)) => return self.unavailable(&error.to_string()),
            Err(_) => {
                return self.unavailable(&format!("no answer within {:?}", self.timeout));
            }
        };
        if self.failing.swap(false, Ordering::Relaxed) {
            log::warn!("jwt: the revocation state can be read again");
        }
        self.conclude(state, &key, token)
    }

    /// The answer for a token whose state is `state`.
    fn conclude(
        &self,
        state: RevocationState,
        key: &TokenKey,
        token: &VerifiedToken,
    ) -> Result<(), JwtError> {
        if state.refuses(key.issued_at) {
            return Err(revoked().with_parts(token.header(), token.payload()));
        }
        Ok(())
    }

    /// The state could not be read: 503, or the token accepted when failing open. One warning
    /// per outage (logged again only after a success).
    fn unavailable(&self, reason: &str) -> Result<(), JwtError> {
        if !self.failing.swap(true, Ordering::Relaxed) {
            let outcome = if self.fail_open {
                "tokens are ACCEPTED without a revocation check until it recovers \
                 (revocation_fail_open)"
            } else {
                "requests are refused with 503 until it recovers"
            };
            log::warn!("jwt: the revocation state cannot be read ({reason}); {outcome}");
        }
        if let Some(telemetry) = &self.telemetry {
            let counter = match self.fail_open {
                true => &telemetry.store_fail_open,
                false => &telemetry.store_fail_closed,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if self.fail_open {
            Ok(())
        } else {
            Err(unavailable().with_detail(reason.to_owned()))
        }
    }
}

/// The right to probe a failing store, given back when dropped (the lookup ended or was
/// cancelled).
struct Probe<'a>(&'a AtomicBool);

impl<'a> Probe<'a> {
    /// The right, unless another lookup holds it.
    fn take(probing: &'a AtomicBool) -> Option<Probe<'a>> {
        // Lazily: a `Probe` made and dropped here would give back a right it never had.
        (!probing.swap(true, Ordering::Acquire)).then(|| Probe(probing))
    }
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// What identifies a token for revocation: its subject, `jti` and `iat`.
/// Borrowed from the claims (no copy on the request path) where they are strings.
pub(crate) struct TokenKey<'c> {
    pub(crate) subject: Cow<'c, str>,
    pub(crate) jti: Option<Cow<'c, str>>,
    pub(crate) issued_at: Option<i64>,
}

impl<'c> TokenKey<'c> {
    /// The key of a token with these claims; `identity_claim` names its subject.
    pub(crate) fn of(claims: &'c TokenClaims, identity_claim: &str) -> TokenKey<'c> {
        TokenKey {
            subject: claims
                .get(identity_claim)
                .map(claim_text)
                .unwrap_or_default(),
            jti: claims.get("jti").map(claim_text),
            issued_at: claims.get("iat").and_then(seconds),
        }
    }
}

/// A NumericDate claim in whole seconds (rounded down).
pub(crate) fn seconds(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|seconds| seconds.floor() as i64))
}

/// 401 for a revoked token: Flask-JWT-Extended's `Token has been revoked`.
pub(crate) fn revoked() -> JwtError {
    JwtError::new(
        Status::Unauthorized,
        ErrorKind::Revoked,
        "Invalid token",
        "Token has been revoked (revocation check)",
    )
}

/// 503 for a token whose revocation state cannot be read, failing closed.
fn unavailable() -> JwtError {
    JwtError::new(
        Status::ServiceUnavailable,
        ErrorKind::RevocationUnavailable,
        "Service Unavailable",
        "The token's revocation state cannot be read",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_revocation_refuses_tokens_issued_up_to_it() {
        let state = RevocationState {
            token_revoked: false,
            subject_revoked_at: Some(100),
        };
        assert!(state.refuses(Some(99)));
        assert!(state.refuses(Some(100)), "the same second is refused");
        assert!(!state.refuses(Some(101)));
        assert!(state.refuses(None), "no iat: nothing says it is later");
        assert!(!RevocationState::default().refuses(None));
        let token = RevocationState {
            token_revoked: true,
            subject_revoked_at: None,
        };
        assert!(token.refuses(Some(1_000)));
    }

    #[test]
    fn the_settings_default_to_fail_closed_and_never_show_the_url() {
        let settings = Settings::default();
        assert_eq!(settings.redis_url, None);
        assert_eq!(settings.redis_key_prefix, "jwt:revocation:");
        assert!(!settings.revocation_fail_open);
        assert_eq!(settings.revocation_timeout, Duration::from_millis(500));
        let configured = Settings {
            redis_url: Some(crate::settings::Secret::new(
                "redis://app:hunter2@db:6379/0",
            )),
            ..Settings::default()
        };
        assert!(!format!("{configured:?}").contains("hunter2"));
        assert!(matches!(
            Revocation::new(&Settings::default(), None, None, None),
            Ok(None)
        ));
    }

    #[test]
    fn keys_read_the_subject_jti_and_iat() {
        let claims = TokenClaims::of(serde_json::json!({
            "sub": "ann", "jti": "j-1", "iat": 1700000000.7, "identity": 7
        }));
        let key = TokenKey::of(&claims, "sub");
        assert_eq!(key.subject, "ann");
        assert_eq!(key.jti.as_deref(), Some("j-1"));
        assert_eq!(key.issued_at, Some(1_700_000_000));
        let key = TokenKey::of(&claims, "identity");
        assert_eq!(key.subject, "7");
        let empty = TokenClaims::of(serde_json::json!({}));
        let key = TokenKey::of(&empty, "sub");
        assert_eq!((&*key.subject, key.jti, key.issued_at), ("", None, None));
    }
}
