//! The `rust-crypto` backend: jsonwebtoken's `rust_crypto` provider (RustCrypto's pure-Rust
//! crates), `getrandom` for random bytes, `subtle` for constant-time comparison, and rustls on ring
//! for the JWKS fetcher. Nothing here links aws-lc.
//!
//! A key is checked once, when it is loaded (a key that does not parse is a configuration error
//! at start). The provider's signers and verifiers are not `Send`, so the key is kept as
//! jsonwebtoken loaded it and each signature makes its signer or verifier anew: more work per
//! token than the `aws-lc-rs` backend's prepared keys (docs/performance.md compares the two).

use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use subtle::ConstantTimeEq as _;

use super::{KeyProblem, Signature};

/// jsonwebtoken's provider of this backend.
pub(super) static PROVIDER: &CryptoProvider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;

/// Fills `bytes` from the operating system's random number generator.
pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), ()> {
    getrandom::getrandom(bytes).map_err(drop)
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The JWKS fetcher's HTTP client on rustls with ring as its crypto provider and the platform's
/// certificate verifier (what reqwest's `rustls` feature sets up on aws-lc-rs).
#[cfg(feature = "remote-keys")]
pub(crate) fn with_tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, String> {
    Ok(builder.tls_backend_preconfigured(tls_config()?))
}

/// The OTLP exporter's blocking HTTP client, likewise.
#[cfg(feature = "otlp")]
pub(crate) fn with_tls_blocking(
    builder: reqwest::blocking::ClientBuilder,
) -> Result<reqwest::blocking::ClientBuilder, String> {
    Ok(builder.tls_backend_preconfigured(tls_config()?))
}

/// rustls on ring with the platform's certificate verifier.
#[cfg(any(feature = "remote-keys", feature = "otlp"))]
fn tls_config() -> Result<rustls::ClientConfig, String> {
    use std::sync::Arc;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
        .map_err(|e| e.to_string())?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// A signing key, checked by the provider when it was made.
pub(crate) struct Signer {
    algorithm: Algorithm,
    key: EncodingKey,
}

impl Signer {
    /// Checks `key` (as `jsonwebtoken` loaded it: an HMAC secret, a PKCS#1 RSA key, a PKCS#8
    /// EC or Ed25519 key, of `algorithm`'s family) for signing with `algorithm`.
    pub(crate) fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Self, KeyProblem> {
        (PROVIDER.signer_factory)(&algorithm, key).map_err(|e| malformed(&e))?;
        // The provider reads an RSA key only when it signs: parse it now.
        if algorithm.family() == AlgorithmFamily::Rsa {
            (PROVIDER.key_utils.rsa_pub_components_from_private_key)(key.as_bytes())
                .map_err(|e| malformed(&e))?;
        }
        Ok(Signer {
            algorithm,
            key: key.clone(),
        })
    }

    /// The signature of `message`; the reason when signing failed.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, String> {
        let signer =
            (PROVIDER.signer_factory)(&self.algorithm, &self.key).map_err(|e| e.to_string())?;
        let signature = signer.try_sign(message).map_err(|e| e.to_string())?;
        Ok(Signature::from_vec(signature))
    }
}

/// A verification key, checked by the provider when it was made.
#[derive(Clone)]
pub(crate) struct Verifier {
    algorithm: Algorithm,
    key: DecodingKey,
}

impl Verifier {
    /// Checks `key` (of `algorithm`'s family) for checking `algorithm`'s signatures: an EC or
    /// Ed25519 public key is parsed against the algorithm's curve, an RSA one (as DER) read.
    pub(crate) fn new(algorithm: Algorithm, key: &DecodingKey) -> Result<Self, KeyProblem> {
        match (algorithm.family(), key.kind()) {
            (AlgorithmFamily::Hmac, DecodingKeyKind::RsaModulusExponent { .. }) => {
                return Err(KeyProblem::WrongKind)
            }
            // The provider reads the first 32 bytes of an Ed25519 key, panicking on fewer.
            (AlgorithmFamily::Ed, DecodingKeyKind::SecretOrDer(bytes)) if bytes.len() != 32 => {
                return Err(KeyProblem::Malformed(format!(
                    "an Ed25519 public key has 32 bytes, not {}",
                    bytes.len()
                )))
            }
            (AlgorithmFamily::Rsa, DecodingKeyKind::SecretOrDer(der)) => {
                (PROVIDER.key_utils.rsa_pub_components_from_public_key)(der)
                    .map_err(|e| malformed(&e))?;
            }
            _ => {}
        }
        (PROVIDER.verifier_factory)(&algorithm, key).map_err(|e| malformed(&e))?;
        Ok(Verifier {
            algorithm,
            key: key.clone(),
        })
    }

    /// Whether `signature` is this key's signature of `message`. HMAC signatures are compared in
    /// constant time (by the `hmac` crate).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        (PROVIDER.verifier_factory)(&self.algorithm, &self.key)
            .is_ok_and(|verifier| verifier.verify(message, &signature.to_vec()).is_ok())
    }
}

/// The provider's reason for refusing a key.
fn malformed(error: &jsonwebtoken::errors::Error) -> KeyProblem {
    KeyProblem::Malformed(error.to_string())
}
