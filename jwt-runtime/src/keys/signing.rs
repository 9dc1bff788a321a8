//! The key that signs issued tokens, prepared once when the configuration is loaded.
//!
//! `jsonwebtoken::crypto::sign` takes the key's bytes and parses them again for every token: an
//! HMAC key is derived anew, a private key is decoded and checked (for RSA, the consistency of
//! its factors; for ECDSA and Ed25519, the public key is computed from the private one). With the
//! `aws-lc-rs` backend issuing costs the signature alone here; with either backend a key that
//! does not parse is a configuration error at start, not a failure of the first `POST /auth`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};

use super::{algorithm_name, KeyError};
use crate::crypto::Signer;
use crate::error::JwtError;

/// A key that signs with exactly one algorithm.
pub(crate) struct SigningKey {
    algorithm: Algorithm,
    signer: Signer,
}

impl SigningKey {
    /// Prepares `key` (as `jsonwebtoken` loaded it: an HMAC secret, a PKCS#1 RSA key, a PKCS#8
    /// EC or Ed25519 key) for signing with `algorithm`.
    pub(crate) fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Self, KeyError> {
        let name = algorithm_name(algorithm);
        if key.family() != algorithm.family() {
            return Err(KeyError(format!("the key is not a {name} key")));
        }
        let signer = Signer::new(algorithm, key).map_err(|e| KeyError::of(algorithm, e))?;
        Ok(SigningKey { algorithm, signer })
    }

    /// The one algorithm this key signs with.
    pub(crate) fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Appends `.` and the base64url signature of `message` (`header.claims`) to it: the token.
    pub(crate) fn sign_into(&self, message: &mut String) -> Result<(), JwtError> {
        let signature = self
            .signer
            .sign(message.as_bytes())
            .map_err(|e| JwtError::internal(format!("token signing failed: {e}")))?;
        message.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, message);
        Ok(())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}
