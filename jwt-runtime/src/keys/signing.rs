//! The key that signs issued tokens, prepared once when the configuration is loaded.
//!
//! `jsonwebtoken::crypto::sign` takes the key's bytes and parses them again for every token: an
//! HMAC key is derived anew, a private key is decoded and checked (for RSA, the consistency of
//! its factors; for ECDSA and Ed25519, the public key is computed from the private one). Issuing
//! costs the signature alone here; a key that does not parse is a configuration error at start,
//! not a failure of the first `POST /auth`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::{hmac, signature};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};

use super::{algorithm_name, KeyError};
use crate::error::JwtError;

/// A key that signs with exactly one algorithm.
pub(crate) struct SigningKey {
    algorithm: Algorithm,
    signer: Signer,
}

/// The key in the form aws-lc-rs signs with.
enum Signer {
    Hmac(Box<hmac::Key>),
    Rsa(
        Box<signature::RsaKeyPair>,
        &'static dyn signature::RsaEncoding,
    ),
    Ecdsa(Box<signature::EcdsaKeyPair>),
    Ed25519(Box<signature::Ed25519KeyPair>),
}

impl SigningKey {
    /// Prepares `key` (as `jsonwebtoken` loaded it: an HMAC secret, a PKCS#1 RSA key, a PKCS#8
    /// EC or Ed25519 key) for signing with `algorithm`.
    pub(crate) fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Self, KeyError> {
        let name = algorithm_name(algorithm);
        if key.family() != algorithm.family() {
            return Err(KeyError(format!("the key is not a {name} key")));
        }
        let bytes = key.as_bytes();
        let unusable =
            |e: &dyn std::fmt::Display| KeyError(format!("not a usable {name} key: {e}"));
        let hmac = |algorithm| Signer::Hmac(Box::new(hmac::Key::new(algorithm, bytes)));
        let rsa = |encoding: &'static dyn signature::RsaEncoding| {
            let pair = signature::RsaKeyPair::from_der(bytes).map_err(|e| unusable(&e))?;
            Ok::<_, KeyError>(Signer::Rsa(Box::new(pair), encoding))
        };
        let ecdsa = |curve| {
            let pair =
                signature::EcdsaKeyPair::from_pkcs8(curve, bytes).map_err(|e| unusable(&e))?;
            Ok::<_, KeyError>(Signer::Ecdsa(Box::new(pair)))
        };
        let signer = match algorithm {
            Algorithm::HS256 => hmac(hmac::HMAC_SHA256),
            Algorithm::HS384 => hmac(hmac::HMAC_SHA384),
            Algorithm::HS512 => hmac(hmac::HMAC_SHA512),
            Algorithm::RS256 => rsa(&signature::RSA_PKCS1_SHA256)?,
            Algorithm::RS384 => rsa(&signature::RSA_PKCS1_SHA384)?,
            Algorithm::RS512 => rsa(&signature::RSA_PKCS1_SHA512)?,
            Algorithm::PS256 => rsa(&signature::RSA_PSS_SHA256)?,
            Algorithm::PS384 => rsa(&signature::RSA_PSS_SHA384)?,
            Algorithm::PS512 => rsa(&signature::RSA_PSS_SHA512)?,
            Algorithm::ES256 => ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)?,
            Algorithm::ES384 => ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING)?,
            Algorithm::EdDSA => {
                let pair =
                    signature::Ed25519KeyPair::from_pkcs8(bytes).map_err(|e| unusable(&e))?;
                Signer::Ed25519(Box::new(pair))
            }
            _ => return Err(KeyError(format!("{name} is not supported"))),
        };
        Ok(SigningKey { algorithm, signer })
    }

    /// The one algorithm this key signs with.
    pub(crate) fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Appends `.` and the base64url signature of `message` (`header.claims`) to it: the token.
    pub(crate) fn sign_into(&self, message: &mut String) -> Result<(), JwtError> {
        let failed = |e: aws_lc_rs::error::Unspecified| {
            JwtError::internal(format!("token signing failed: {e}"))
        };
        let append = |message: &mut String, signature: &[u8]| {
            message.push('.');
            URL_SAFE_NO_PAD.encode_string(signature, message);
        };
        match &self.signer {
            Signer::Hmac(key) => {
                let tag = hmac::sign(key, message.as_bytes());
                append(message, tag.as_ref());
            }
            Signer::Rsa(pair, encoding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                let rng = SystemRandom::new();
                pair.sign(*encoding, &rng, message.as_bytes(), &mut signature)
                    .map_err(failed)?;
                append(message, &signature);
            }
            Signer::Ecdsa(pair) => {
                let signature = pair
                    .sign(&SystemRandom::new(), message.as_bytes())
                    .map_err(failed)?;
                append(message, signature.as_ref());
            }
            Signer::Ed25519(pair) => {
                let signature = pair.sign(message.as_bytes());
                append(message, signature.as_ref());
            }
        }
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
