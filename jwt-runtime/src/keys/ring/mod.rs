//! The key ring of issued tokens: several asymmetric signing keys, each named by its RFC 7638
//! JWK thumbprint (`kid`) and each with its own times, from which every instance computes the
//! same state from the clock alone (no leader switches keys):
//!
//! - before `published_at`: unknown (neither published nor used);
//! - *next* from `published_at`: published in the JWKS, not signing yet;
//! - *current* from `signs_from`, while no later key signs: signs every token issued;
//! - *previous* once a later key signs: published and verifying only, until `retires_at`, or,
//!   without it, until every token it signed has expired (the later key's `signs_from` plus the
//!   longest token lifetime plus the leeway);
//! - then retired: gone from the JWKS, refused.
//!
//! The ring is read from a key directory ([`directory`]), re-read when it changes.

pub(crate) mod directory;
mod key_file;

use std::sync::{Arc, PoisonError, RwLock};

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::Value;

use super::{algorithm_name, KeyError, SigningKey, VerifyKey};

pub use key_file::KeyFileError;

/// The algorithms a ring key may have: every asymmetric one (each key is bound to its own, so a
/// token's `alg` only selects among keys already tied to it).
pub const RING_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// When a key is published, signs, and retires (seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTimes {
    /// Published in the JWKS from then on.
    pub published_at: i64,
    /// Signs from then on (until a later key does).
    pub signs_from: i64,
    /// Retired then, if set; otherwise once every token it signed has expired.
    pub retires_at: Option<i64>,
}

/// A key's state at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Not published yet.
    Pending,
    /// Published, not signing yet.
    Next,
    /// Signing.
    Current,
    /// Published, verifying only.
    Previous,
    /// Gone.
    Retired,
}

/// One key of the ring: its signer, its verifier and its public JWK.
pub struct RingKey {
    kid: String,
    algorithm: Algorithm,
    times: KeyTimes,
    signer: SigningKey,
    verifier: Arc<VerifyKey>,
    /// The public JWK as published (`kty`, the public members, `kid`, `alg`, `use`).
    public: Value,
}

impl RingKey {
    /// The key of a private key (`key`, as `jsonwebtoken` loads it) for `algorithm`, with its
    /// times; its `kid` is the RFC 7638 thumbprint (SHA-256) of its public key.
    pub fn new(algorithm: Algorithm, key: &EncodingKey, times: KeyTimes) -> Result<Self, KeyError> {
        let name = algorithm_name(algorithm);
        if key.family() == jsonwebtoken::AlgorithmFamily::Hmac {
            return Err(KeyError(format!(
                "{name}: a key ring holds asymmetric keys only (its public keys are published)"
            )));
        }
        let signer = SigningKey::new(algorithm, key)?;
        let jwk = Jwk::from_encoding_key(key, algorithm)
            .map_err(|e| KeyError(format!("the {name} key's public part: {e}")))?;
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| KeyError(format!("the {name} key's thumbprint: {e}")))?;
        let decoding = DecodingKey::from_jwk(&jwk)
            .map_err(|e| KeyError(format!("the {name} key's public part: {e}")))?;
        let verifier = VerifyKey::new(Some(kid.clone()), algorithm, &decoding)?;
        let mut public = serde_json::to_value(&jwk)
            .map_err(|e| KeyError(format!("the {name} key's JWK: {e}")))?;
        if let Value::Object(members) = &mut public {
            members.retain(|name, value| !value.is_null() && name != "key_ops");
            members.insert("kid".into(), Value::String(kid.clone()));
            members.insert("alg".into(), Value::String(name.into()));
            members.insert("use".into(), Value::String("sig".into()));
        }
        Ok(RingKey {
            kid,
            algorithm,
            times,
            signer,
            verifier: Arc::new(verifier),
            public,
        })
    }

    /// The key's `kid`: its RFC 7638 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm it signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Its times.
    pub fn times(&self) -> KeyTimes {
        self.times
    }

    /// Its public JWK, as the JWKS publishes it.
    pub fn public_jwk(&self) -> &Value {
        &self.public
    }

    pub(crate) fn signer(&self) -> &SigningKey {
        &self.signer
    }
}

impl std::fmt::Debug for RingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("times", &self.times)
            .finish_non_exhaustive()
    }
}

/// The keys of a ring, oldest first (by `signs_from`), and what their states depend on.
#[derive(Debug)]
pub struct KeyRing {
    keys: Vec<Arc<RingKey>>,
    /// The longest token lifetime plus the leeway: how long a key verifies after its successor
    /// took over, unless it says otherwise.
    verifies_for: i64,
}

impl KeyRing {
    /// A ring of `keys`; `verifies_for` is the longest token lifetime plus the leeway. Two keys
    /// that sign from the same time are refused: which would sign is not determined.
    pub fn new(mut keys: Vec<RingKey>, verifies_for: i64) -> Result<Self, KeyError> {
        keys.sort_by(|a, b| (a.times.signs_from, &a.kid).cmp(&(b.times.signs_from, &b.kid)));
        for (index, key) in keys.iter().enumerate() {
            if keys[..index].iter().any(|earlier| earlier.kid == key.kid) {
                return Err(KeyError(format!("key {} is in the ring twice", key.kid)));
            }
        }
        if let Some(pair) = keys
            .windows(2)
            .find(|pair| pair[0].times.signs_from == pair[1].times.signs_from)
        {
            return Err(KeyError(format!(
                "keys {} and {} both sign from {}: give them different signs-from times",
                pair[0].kid, pair[1].kid, pair[0].times.signs_from
            )));
        }
        Ok(KeyRing {
            keys: keys.into_iter().map(Arc::new).collect(),
            verifies_for,
        })
    }

    /// Every key, oldest first.
    pub fn keys(&self) -> &[Arc<RingKey>] {
        &self.keys
    }

    /// The state of the key at `index` at `now`.
    fn state_at(&self, index: usize, now: i64) -> KeyState {
        let key = &self.keys[index];
        let times = key.times;
        if now < times.published_at.min(times.signs_from) {
            return KeyState::Pending;
        }
        if now < times.signs_from {
            return KeyState::Next;
        }
        let successor = self.keys[index + 1..]
            .iter()
            .map(|later| later.times.signs_from)
            .find(|&from| from <= now);
        let retires = times
            .retires_at
            .or(successor.map(|from| from.saturating_add(self.verifies_for)));
        match (successor, retires) {
            (_, Some(at)) if now >= at => KeyState::Retired,
            (Some(_), _) => KeyState::Previous,
            (None, _) => KeyState::Current,
        }
    }

    /// The state of `kid` at `now` (`None` for a key not in the ring).
    pub fn state(&self, kid: &str, now: i64) -> Option<KeyState> {
        let index = self.keys.iter().position(|key| key.kid == kid)?;
        Some(self.state_at(index, now))
    }

    /// The key that signs at `now`.
    pub fn current(&self, now: i64) -> Option<&Arc<RingKey>> {
        (0..self.keys.len())
            .rev()
            .find(|&index| self.state_at(index, now) == KeyState::Current)
            .map(|index| &self.keys[index])
    }

    /// The key `kid` for `algorithm` when it verifies at `now` (next, current or previous).
    pub fn verifier(&self, kid: &str, algorithm: Algorithm, now: i64) -> Option<&Arc<VerifyKey>> {
        let index = self
            .keys
            .iter()
            .position(|key| key.kid == kid && key.algorithm == algorithm)?;
        matches!(
            self.state_at(index, now),
            KeyState::Next | KeyState::Current | KeyState::Previous
        )
        .then(|| &self.keys[index].verifier)
    }

    /// The keys published at `now` (next, current and previous), with their states.
    pub fn published(&self, now: i64) -> Vec<(&Arc<RingKey>, KeyState)> {
        (0..self.keys.len())
            .map(|index| (&self.keys[index], self.state_at(index, now)))
            .filter(|(_, state)| {
                matches!(
                    state,
                    KeyState::Next | KeyState::Current | KeyState::Previous
                )
            })
            .collect()
    }
}

/// The ring in use, replaced whole when its source changes; a generation number moves with
/// each replacement (verified tokens cached under an older ring are checked again).
#[derive(Debug)]
pub struct SharedRing {
    ring: RwLock<(Arc<KeyRing>, u64)>,
}

impl SharedRing {
    /// The ring `ring`, generation 1.
    pub fn new(ring: KeyRing) -> Self {
        SharedRing {
            ring: RwLock::new((Arc::new(ring), 1)),
        }
    }

    /// The ring now.
    pub fn load(&self) -> Arc<KeyRing> {
        Arc::clone(&self.ring.read().unwrap_or_else(PoisonError::into_inner).0)
    }

    /// The ring's generation.
    pub fn generation(&self) -> u64 {
        self.ring.read().unwrap_or_else(PoisonError::into_inner).1
    }

    /// The ring now with its generation, read together.
    pub fn load_with_generation(&self) -> (Arc<KeyRing>, u64) {
        let held = self.ring.read().unwrap_or_else(PoisonError::into_inner);
        (Arc::clone(&held.0), held.1)
    }

    /// Replaces the ring.
    pub fn replace(&self, ring: KeyRing) {
        let mut held = self.ring.write().unwrap_or_else(PoisonError::into_inner);
        *held = (Arc::new(ring), held.1 + 1);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ring key from `testdata/keys/ring/<name>.pem`.
    pub(crate) fn test_key(name: &str, signs_from: i64, retires_at: Option<i64>) -> RingKey {
        let path = format!(
            "{}/../testdata/keys/ring/{name}.pem",
            env!("CARGO_MANIFEST_DIR")
        );
        let pem = std::fs::read(&path).expect("a test key");
        let (algorithm, encoding) = if name.starts_with("ed") {
            (Algorithm::EdDSA, EncodingKey::from_ed_pem(&pem))
        } else {
            (Algorithm::ES256, EncodingKey::from_ec_pem(&pem))
        };
        RingKey::new(
            algorithm,
            &encoding.expect("a private key"),
            KeyTimes {
                published_at: signs_from - 10,
                signs_from,
                retires_at,
            },
        )
        .expect("a ring key")
    }

    fn key(signs_from: i64, retires_at: Option<i64>) -> RingKey {
        let name = ["ec_a", "ec_b", "ec_c"][(signs_from / 100 - 1) as usize % 3];
        test_key(name, signs_from, retires_at)
    }

    #[test]
    fn states_follow_the_clock() {
        let ring = KeyRing::new(
            vec![key(100, None), key(200, None), key(300, Some(350))],
            50,
        )
        .expect("a ring");
        let states = |now| -> Vec<KeyState> { (0..3).map(|i| ring.state_at(i, now)).collect() };
        use KeyState::*;
        assert_eq!(states(85), vec![Pending, Pending, Pending]);
        assert_eq!(states(95), vec![Next, Pending, Pending]);
        assert_eq!(states(150), vec![Current, Pending, Pending]);
        assert_eq!(states(195), vec![Current, Next, Pending]);
        assert_eq!(states(200), vec![Previous, Current, Pending]);
        assert_eq!(states(249), vec![Previous, Current, Pending]);
        assert_eq!(states(250), vec![Retired, Current, Pending]);
        assert_eq!(states(300), vec![Retired, Previous, Current]);
        assert_eq!(states(349), vec![Retired, Previous, Current]);
        assert_eq!(states(350), vec![Retired, Retired, Retired]);
        assert!(
            ring.current(350).is_none(),
            "a retired newest key leaves none signing"
        );
    }

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint_and_the_jwk_is_public() {
        let key = key(100, None);
        assert_eq!(key.kid().len(), 43, "base64url of a SHA-256");
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["alg"], "ES256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], key.kid());
        assert!(jwk.get("d").is_none(), "never a private member: {jwk}");
        let same_time = KeyRing::new(
            vec![test_key("ec_a", 5, None), test_key("ec_b", 5, None)],
            1,
        );
        assert!(same_time.is_err());
        let same_key = KeyRing::new(
            vec![test_key("ec_a", 5, None), test_key("ec_a", 9, None)],
            1,
        );
        assert!(same_key.is_err(), "one key in two files");
    }
}
