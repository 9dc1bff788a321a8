//! The `aws-lc-rs` backend: keys prepared in aws-lc-rs's own types, so that signing and verifying
//! cost the signature alone, never a key parse (`jsonwebtoken::crypto::sign` parses the key for
//! every token).

#[cfg(feature = "redis")]
use aws_lc_rs::aead;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::{hmac, signature};
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};

use super::{KeyProblem, Signature};

/// jsonwebtoken's provider of this backend (for its key utilities).
pub(super) static PROVIDER: &CryptoProvider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;

/// Fills `bytes` from the system's random number generator.
pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), ()> {
    aws_lc_rs::rand::fill(bytes).map_err(drop)
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(feature = "redis")]
/// A new private key for `algorithm` (ES256, ES384 or EdDSA), PKCS#8 DER: the key ring on Redis
/// creates its keys with it.
pub(crate) fn generate_pkcs8(algorithm: Algorithm) -> Result<Vec<u8>, String> {
    let rng = SystemRandom::new();
    let document = match algorithm {
        Algorithm::ES256 => signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        ),
        Algorithm::ES384 => signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            &rng,
        ),
        Algorithm::EdDSA => signature::Ed25519KeyPair::generate_pkcs8(&rng),
        other => {
            return Err(format!(
                "keys for {other:?} are not generated (ES256, ES384, EdDSA)"
            ))
        }
    };
    document
        .map(|document| document.as_ref().to_vec())
        .map_err(|e| format!("key generation failed: {e}"))
}

#[cfg(feature = "redis")]
/// `plaintext` sealed with AES-256-GCM under `key`, bound to `aad`: a random 12-byte nonce, then
/// the ciphertext and its tag.
pub(crate) fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, String> {
    let sealing = aead_key(key)?;
    let mut nonce = [0u8; aead::NONCE_LEN];
    fill_random(&mut nonce).map_err(|()| "the random number generator failed".to_string())?;
    let mut sealed = plaintext.to_vec();
    sealing
        .seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(aad),
            &mut sealed,
        )
        .map_err(|e| format!("encryption failed: {e}"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

#[cfg(feature = "redis")]
/// What [`seal`] sealed under `key` with `aad`; an error when either differs or the data was
/// changed.
pub(crate) fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, String> {
    if sealed.len() < aead::NONCE_LEN {
        return Err("the sealed data is too short".into());
    }
    let (nonce, ciphertext) = sealed.split_at(aead::NONCE_LEN);
    let nonce = aead::Nonce::try_assume_unique_for_key(nonce).map_err(|e| e.to_string())?;
    let mut buffer = ciphertext.to_vec();
    let opened = aead_key(key)?
        .open_in_place(nonce, aead::Aad::from(aad), &mut buffer)
        .map_err(|_| {
            "decryption failed: another key-encryption key, or changed data".to_string()
        })?;
    Ok(opened.to_vec())
}

#[cfg(feature = "redis")]
fn aead_key(key: &[u8; 32]) -> Result<aead::LessSafeKey, String> {
    aead::UnboundKey::new(&aead::AES_256_GCM, key)
        .map(aead::LessSafeKey::new)
        .map_err(|e| format!("the key-encryption key: {e}"))
}

/// The JWKS fetcher's HTTP client as it is: reqwest's `rustls` feature runs on aws-lc-rs.
#[cfg(feature = "remote-keys")]
pub(crate) fn with_tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, String> {
    Ok(builder)
}

/// The OTLP exporter's blocking HTTP client as it is, likewise.
#[cfg(feature = "otlp")]
pub(crate) fn with_tls_blocking(
    builder: reqwest::blocking::ClientBuilder,
) -> Result<reqwest::blocking::ClientBuilder, String> {
    Ok(builder)
}

/// A signing key in the form aws-lc-rs signs with.
pub(crate) enum Signer {
    Hmac(Box<hmac::Key>),
    Rsa(
        Box<signature::RsaKeyPair>,
        &'static dyn signature::RsaEncoding,
    ),
    Ecdsa(Box<signature::EcdsaKeyPair>),
    Ed25519(Box<signature::Ed25519KeyPair>),
}

impl Signer {
    /// Prepares `key` (as `jsonwebtoken` loaded it: an HMAC secret, a PKCS#1 RSA key, a PKCS#8
    /// EC or Ed25519 key, of `algorithm`'s family) for signing with `algorithm`.
    pub(crate) fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Self, KeyProblem> {
        let bytes = key.as_bytes();
        let malformed = |e: &dyn std::fmt::Display| KeyProblem::Malformed(e.to_string());
        let hmac = |algorithm| Signer::Hmac(Box::new(hmac::Key::new(algorithm, bytes)));
        let rsa = |encoding: &'static dyn signature::RsaEncoding| {
            let pair = signature::RsaKeyPair::from_der(bytes).map_err(|e| malformed(&e))?;
            Ok::<_, KeyProblem>(Signer::Rsa(Box::new(pair), encoding))
        };
        let ecdsa = |curve| {
            let pair =
                signature::EcdsaKeyPair::from_pkcs8(curve, bytes).map_err(|e| malformed(&e))?;
            Ok::<_, KeyProblem>(Signer::Ecdsa(Box::new(pair)))
        };
        Ok(match algorithm {
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
                    signature::Ed25519KeyPair::from_pkcs8(bytes).map_err(|e| malformed(&e))?;
                Signer::Ed25519(Box::new(pair))
            }
            #[allow(unreachable_patterns)]
            _ => return Err(KeyProblem::Unsupported),
        })
    }

    /// The signature of `message`; the reason when signing failed.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, String> {
        let failed = |e: aws_lc_rs::error::Unspecified| e.to_string();
        Ok(match self {
            Signer::Hmac(key) => Signature::from_slice(hmac::sign(key, message).as_ref()),
            Signer::Rsa(pair, encoding) => {
                let mut signature = Signature::from_elem(0, pair.public_modulus_len());
                pair.sign(*encoding, &SystemRandom::new(), message, &mut signature)
                    .map_err(failed)?;
                signature
            }
            Signer::Ecdsa(pair) => Signature::from_slice(
                pair.sign(&SystemRandom::new(), message)
                    .map_err(failed)?
                    .as_ref(),
            ),
            Signer::Ed25519(pair) => Signature::from_slice(pair.sign(message).as_ref()),
        })
    }
}

/// A verification key in the form aws-lc-rs checks signatures with.
#[derive(Clone)]
pub(crate) enum Verifier {
    Hmac(Box<hmac::Key>),
    Public(signature::ParsedPublicKey),
}

impl Verifier {
    /// Prepares `key` (of `algorithm`'s family) for checking `algorithm`'s signatures: an HMAC
    /// secret becomes an HMAC key, a public key is parsed and checked against the algorithm's
    /// curve or type.
    pub(crate) fn new(algorithm: Algorithm, key: &DecodingKey) -> Result<Self, KeyProblem> {
        let malformed = |e: &dyn std::fmt::Display| KeyProblem::Malformed(e.to_string());
        Ok(match (scheme(algorithm)?, key.kind()) {
            (Scheme::Hmac(hmac), DecodingKeyKind::SecretOrDer(secret)) => {
                Verifier::Hmac(Box::new(hmac::Key::new(hmac, secret)))
            }
            (Scheme::Public(public), DecodingKeyKind::SecretOrDer(der)) => Verifier::Public(
                signature::ParsedPublicKey::new(public, der).map_err(|e| malformed(&e))?,
            ),
            (Scheme::Public(public), DecodingKeyKind::RsaModulusExponent { n, e }) => {
                let der = signature::RsaPublicKeyComponents { n, e }
                    .as_der()
                    .map_err(|e| malformed(&e))?;
                Verifier::Public(
                    signature::ParsedPublicKey::new(public, der.as_ref())
                        .map_err(|e| malformed(&e))?,
                )
            }
            (Scheme::Hmac(_), DecodingKeyKind::RsaModulusExponent { .. }) => {
                return Err(KeyProblem::WrongKind)
            }
        })
    }

    /// Whether `signature` is this key's signature of `message`. HMAC signatures are compared in
    /// constant time.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Verifier::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Verifier::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

/// How an algorithm checks signatures.
enum Scheme {
    Hmac(hmac::Algorithm),
    Public(&'static dyn signature::VerificationAlgorithm),
}

/// The aws-lc-rs algorithm behind a JWS `alg`.
fn scheme(algorithm: Algorithm) -> Result<Scheme, KeyProblem> {
    Ok(match algorithm {
        Algorithm::HS256 => Scheme::Hmac(hmac::HMAC_SHA256),
        Algorithm::HS384 => Scheme::Hmac(hmac::HMAC_SHA384),
        Algorithm::HS512 => Scheme::Hmac(hmac::HMAC_SHA512),
        Algorithm::RS256 => Scheme::Public(&signature::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => Scheme::Public(&signature::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => Scheme::Public(&signature::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => Scheme::Public(&signature::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => Scheme::Public(&signature::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => Scheme::Public(&signature::RSA_PSS_2048_8192_SHA512),
        Algorithm::ES256 => Scheme::Public(&signature::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => Scheme::Public(&signature::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => Scheme::Public(&signature::ED25519),
        #[allow(unreachable_patterns)]
        _ => return Err(KeyProblem::Unsupported),
    })
}
