//! [`KeySource`]: where the pipeline's verification keys come from, the settings' own keys or an
//! authority's JWKS, and the lookup of the key bound to a token's `alg` (and `kid`). Uses keys,
//! JWKS and the pipeline's fetch policy and key errors.

use std::sync::Arc;

use jsonwebtoken::Algorithm;

use super::authority::key_error;
use crate::claims::now;
use crate::error::JwtError;
use crate::jwks::{Jwks, JwksError};
use crate::keys::ring::directory::Listing;
use crate::keys::ring::SharedRing;
use crate::keys::{KeyRef, VerifyKey};

/// Where verification keys come from.
pub(crate) enum KeySource {
    /// Keys from the settings: the secret and/or the public key, one per accepted algorithm.
    Static(Vec<VerifyKey>),
    /// Keys from the authority's JWKS, selected by `kid` and `alg`.
    Jwks(Arc<Jwks>),
    /// This application's own key ring (`signing_keys_dir`), selected by `kid` and `alg` among
    /// the keys that verify now; and, until `static_until`, the settings' own keys (a secret or
    /// key being replaced by the ring) for tokens they signed.
    Ring {
        ring: Arc<SharedRing>,
        static_keys: Vec<VerifyKey>,
        static_until: i64,
        /// The key directory's files when the ring was read, for its watch.
        listing: Listing,
    },
}

impl KeySource {
    /// The key bound to `algorithm` (and `kid`, for a JWKS). A JWKS is refetched when it expired
    /// or does not hold `kid`; other keys are [`held`](Self::held).
    pub(crate) async fn resolve(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<KeyRef<'_>, JwtError> {
        match self {
            // The lookup may fetch: its (large) future is boxed.
            KeySource::Jwks(jwks) => Box::pin(jwks.key(kid, algorithm))
                .await
                .map(KeyRef::Shared)
                .map_err(key_error),
            _ => self.held(kid, algorithm),
        }
    }

    /// Whether [`held`](Self::held) decides for every token: the keys are the settings' or the
    /// key ring's, never fetched.
    pub(crate) fn is_local(&self) -> bool {
        !matches!(self, KeySource::Jwks(_))
    }

    /// The key bound to `algorithm` (and `kid`) among the keys held now, without fetching.
    pub(crate) fn held(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<KeyRef<'_>, JwtError> {
        match self {
            KeySource::Static(keys) => keys
                .iter()
                .find(|key| key.algorithm() == algorithm)
                .map(KeyRef::Borrowed)
                .ok_or_else(|| {
                    JwtError::internal("no key is configured for an accepted algorithm")
                }),
            KeySource::Jwks(jwks) => jwks
                .cached_lookup(kid, algorithm)
                .map(KeyRef::Shared)
                .map_err(key_error),
            KeySource::Ring {
                ring,
                static_keys,
                static_until,
                ..
            } => {
                let now = now();
                if let Some(kid) = kid
                    && let Some(key) = ring.load().verifier(kid, algorithm, now)
                {
                    return Ok(KeyRef::Shared(Arc::clone(key)));
                }
                match static_keys.iter().find(|key| key.algorithm() == algorithm) {
                    Some(key) if now < *static_until => Ok(KeyRef::Borrowed(key)),
                    _ => Err(key_error(JwksError::UnknownKid {
                        kid: kid.map(str::to_owned),
                    })),
                }
            }
        }
    }

    /// The key set's generation: it moves when the JWKS changes, invalidating cached tokens.
    pub(crate) fn generation(&self) -> u64 {
        match self {
            KeySource::Static(_) => 0,
            KeySource::Jwks(jwks) => jwks.generation(),
            KeySource::Ring { ring, .. } => ring.generation(),
        }
    }

    /// Whether the key that verified a cached token is still the authority's, unchanged.
    pub(crate) fn is_current(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
        generation: u64,
    ) -> bool {
        match self {
            KeySource::Static(_) => true,
            KeySource::Jwks(jwks) => jwks.is_current(kid, algorithm, generation),
            KeySource::Ring {
                ring, static_until, ..
            } => match kid {
                Some(kid) => {
                    let (ring, current) = ring.load_with_generation();
                    current == generation && ring.verifier(kid, algorithm, now()).is_some()
                }
                None => ring.generation() == generation && now() < *static_until,
            },
        }
    }
}
