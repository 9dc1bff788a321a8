//! Where DPoP proofs are remembered, so that each is accepted once: [`ProofReplay`], kept by the
//! revocation store of a fleet (Redis: one `SET NX PX` per proof, shared by every instance) or,
//! on one instance, in memory ([`MemoryReplay`], bounded).

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::StoreError;

/// Proofs seen, each under a key (the SHA-256 of its key's thumbprint and its `jti`), for a
/// lifetime after which its `iat` is too old anyway.
#[rocket::async_trait]
pub trait ProofReplay: Send + Sync + 'static {
    /// Records `key` for `lifetime`: `true` when it was not recorded yet (the proof's first
    /// use), `false` when it was (a replay). Atomic: of two instances recording the same key at
    /// once, one gets `true`.
    async fn first_use(&self, key: &[u8; 32], lifetime: Duration) -> Result<bool, StoreError>;
}

/// Proofs remembered by one instance, in two generations of one lifetime each: a key is kept
/// between one and two lifetimes, and at most `capacity` keys at once (16 bytes each, the first
/// half of the key, plus the set's overhead).
pub(crate) struct MemoryReplay {
    generations: Mutex<Generations>,
    capacity: usize,
}

struct Generations {
    current: HashSet<u128>,
    previous: HashSet<u128>,
    /// When `current` started, seconds since the epoch.
    started: i64,
}

impl MemoryReplay {
    /// An empty store holding at most `capacity` proofs.
    pub(crate) fn new(capacity: usize) -> MemoryReplay {
        MemoryReplay {
            generations: Mutex::new(Generations {
                current: HashSet::new(),
                previous: HashSet::new(),
                started: 0,
            }),
            capacity,
        }
    }

    /// [`ProofReplay::first_use`] at `now`, without waiting.
    pub(crate) fn first_use_at(
        &self,
        key: &[u8; 32],
        lifetime: Duration,
        now: i64,
    ) -> Result<bool, StoreError> {
        let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX).max(1);
        let short = u128::from_be_bytes(key[..16].try_into().unwrap_or_default());
        let mut generations = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let age = now.saturating_sub(generations.started);
        if age >= 2 * lifetime {
            generations.previous.clear();
            generations.current.clear();
            generations.started = now;
        } else if age >= lifetime {
            let current = std::mem::take(&mut generations.current);
            generations.previous = current;
            generations.started = now;
        }
        if generations.current.contains(&short) || generations.previous.contains(&short) {
            return Ok(false);
        }
        if generations.current.len() + generations.previous.len() >= self.capacity {
            return Err(StoreError::new(format!(
                "the in-memory DPoP replay store holds its {} proofs (dpop_replay_capacity)",
                self.capacity
            )));
        }
        generations.current.insert(short);
        Ok(true)
    }

    /// How many proofs are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let generations = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        generations.current.len() + generations.previous.len()
    }
}

#[rocket::async_trait]
impl ProofReplay for MemoryReplay {
    async fn first_use(&self, key: &[u8; 32], lifetime: Duration) -> Result<bool, StoreError> {
        self.first_use_at(key, lifetime, crate::claims::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFETIME: Duration = Duration::from_secs(100);

    fn key(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn a_proof_is_accepted_once_within_its_lifetime() {
        let store = MemoryReplay::new(10);
        assert_eq!(store.first_use_at(&key(1), LIFETIME, 1_000), Ok(true));
        assert_eq!(store.first_use_at(&key(1), LIFETIME, 1_050), Ok(false));
        assert_eq!(store.first_use_at(&key(2), LIFETIME, 1_050), Ok(true));
        // One generation later it is still held.
        assert_eq!(store.first_use_at(&key(1), LIFETIME, 1_120), Ok(false));
        // Two lifetimes later it is gone (its iat is long out of the window by then).
        assert_eq!(store.first_use_at(&key(1), LIFETIME, 1_320), Ok(true));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn the_store_is_bounded() {
        let store = MemoryReplay::new(2);
        assert_eq!(store.first_use_at(&key(1), LIFETIME, 0), Ok(true));
        assert_eq!(store.first_use_at(&key(2), LIFETIME, 0), Ok(true));
        assert!(store.first_use_at(&key(3), LIFETIME, 0).is_err());
        assert_eq!(
            store.first_use_at(&key(1), LIFETIME, 0),
            Ok(false),
            "a replay is still seen"
        );
        // Once the oldest generation expires, there is room again.
        assert_eq!(store.first_use_at(&key(3), LIFETIME, 250), Ok(true));
    }
}
