//! Keys: the signing key for issued tokens ([`SigningKey`]), and verification keys each bound to
//! one algorithm.
//!
//! Binding key and algorithm one to one is what defeats algorithm confusion: a token's `alg` only
//! selects among keys the configuration already tied to that algorithm, so an RSA public key can
//! never be used as an HMAC secret.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey};

mod load;
pub(crate) mod ring;
mod signing;

use crate::crypto::{KeyProblem, Verifier};

pub use load::minimum_secret_bytes;
/// The smallest RSA modulus a JWKS key or a DPoP proof's key may have.
pub(crate) use load::MIN_RSA_BITS;
pub(crate) use load::{published_static_key, short_secret_warning, signing_key, static_verify_key};
pub(crate) use signing::SigningKey;

/// A key that verifies signatures of exactly one algorithm.
///
/// The key is prepared once, when it is loaded: an HMAC secret becomes an HMAC key, a public key
/// is parsed (and checked against the algorithm's curve or type). With the `aws-lc-rs` backend,
/// verifying a token then costs the signature check alone, never a key parse; the `rust-crypto`
/// backend checks the key here and makes its verifier anew for each token.
#[derive(Clone)]
pub struct VerifyKey {
    kid: Option<String>,
    algorithm: Algorithm,
    verifier: Verifier,
}

impl VerifyKey {
    /// Binds `key` to `algorithm` (and `kid`), preparing it for verification.
    ///
    /// Fails when the key is not of the algorithm's family, or is malformed for it (an EC key
    /// on another curve, an unreadable public key).
    pub fn new(
        kid: Option<String>,
        algorithm: Algorithm,
        key: &DecodingKey,
    ) -> Result<Self, KeyError> {
        let name = algorithm_name(algorithm);
        if key.family() != algorithm.family() {
            return Err(KeyError(format!("the key is not a {name} key")));
        }
        let verifier = Verifier::new(algorithm, key).map_err(|e| KeyError::of(algorithm, e))?;
        Ok(VerifyKey {
            kid,
            algorithm,
            verifier,
        })
    }

    /// The key id (`kid`) that selects this key, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether `signature` (decoded from base64url) is this key's signature of `message` under
    /// its algorithm. HMAC signatures are compared in constant time.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifier.verify(message, signature)
    }
}

/// The header name of an algorithm, as it appears in `alg`.
pub fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "unsupported",
    }
}

/// A verification key, borrowed from the configuration or shared from a JWKS cache.
pub(crate) enum KeyRef<'a> {
    Borrowed(&'a VerifyKey),
    Shared(Arc<VerifyKey>),
}

impl std::ops::Deref for KeyRef<'_> {
    type Target = VerifyKey;

    fn deref(&self) -> &VerifyKey {
        match self {
            KeyRef::Borrowed(key) => key,
            KeyRef::Shared(key) => key,
        }
    }
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Why a key cannot verify an algorithm's signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

impl KeyError {
    /// The error for `algorithm`'s key that the crypto backend refused.
    pub(crate) fn of(algorithm: Algorithm, problem: KeyProblem) -> KeyError {
        let name = algorithm_name(algorithm);
        KeyError(match problem {
            KeyProblem::Unsupported => format!("{name} is not supported"),
            KeyProblem::WrongKind => format!("the key is not a {name} key"),
            KeyProblem::Malformed(reason) => format!("not a usable {name} key: {reason}"),
        })
    }
}
