//! Verification keys: each bound to exactly one algorithm.

use jsonwebtoken::{Algorithm, DecodingKey};

/// A key that verifies signatures of exactly one algorithm.
///
/// Binding key and algorithm one to one is what defeats algorithm confusion: a token's `alg` only
/// selects among keys the configuration already tied to that algorithm.
#[derive(Clone)]
pub struct VerifyKey {
    /// The key id (`kid`) that selects this key, if any.
    pub kid: Option<String>,
    /// The one algorithm this key verifies.
    pub algorithm: Algorithm,
    /// The key material.
    pub key: DecodingKey,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}
