//! The crypto backend, chosen by a cargo feature: `aws-lc-rs` (the default) or `rust-crypto`,
//! exactly one. Everything else in the crate reaches cryptography through this module: signing
//! and verification keys prepared once ([`Signer`], [`Verifier`]), random bytes (the `jti` and CSRF
//! values of issued tokens), constant-time comparison (the CSRF double submit), the RSA modulus
//! of a public key, (with `remote-keys`) the TLS configuration of the JWKS fetcher, and (the
//! `aws-lc-rs` backend with `redis`) the key ring on Redis's key generation and AES-256-GCM.
//!
//! - `aws-lc-rs` (`aws_lc.rs`): AWS-LC through aws-lc-rs, and jsonwebtoken's `aws_lc_rs` provider;
//!   rustls (JWKS fetching, Redis over TLS) runs on aws-lc-rs too.
//! - `rust-crypto` (`rust_crypto.rs`): jsonwebtoken's `rust_crypto` provider (RustCrypto's pure-Rust
//!   crates), `getrandom` and `subtle`; rustls runs on ring. Nothing links aws-lc.

#[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]
compile_error!(
    "rocket-flask-jwt: the features `aws-lc-rs` and `rust-crypto` are both enabled; \
     choose one crypto backend (with `default-features = false`, enable either \
     `features = [\"aws-lc-rs\"]` or `features = [\"rust-crypto\"]`)"
);

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "rocket-flask-jwt: no crypto backend is enabled; with \
     `default-features = false`, enable exactly one of the features `aws-lc-rs` and \
     `rust-crypto` (e.g. `features = [\"aws-lc-rs\"]`)"
);

#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
#[cfg(feature = "aws-lc-rs")]
use aws_lc as backend;

#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
mod rust_crypto;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
use rust_crypto as backend;

#[cfg(feature = "remote-keys")]
pub(crate) use backend::with_tls;
#[cfg(feature = "otlp")]
pub(crate) use backend::with_tls_blocking;
pub(crate) use backend::{constant_time_eq, fill_random, Signer, Verifier};
/// Key generation and key encryption, for the key ring on Redis (only this backend has them;
/// `key_rotation_period` is refused without it).
#[cfg(all(feature = "aws-lc-rs", feature = "redis"))]
pub(crate) use backend::{generate_pkcs8, open, seal};

/// A signature, inline up to ECDSA P-384's 96 bytes (RSA's go to the heap).
pub(crate) type Signature = smallvec::SmallVec<[u8; 96]>;

/// Why the backend cannot prepare a key for an algorithm.
#[derive(Debug)]
pub(crate) enum KeyProblem {
    /// The backend does not know the algorithm. (jsonwebtoken's `rust_crypto` provider knows
    /// every algorithm jsonwebtoken names, so only the `aws-lc-rs` backend says this.)
    #[cfg_attr(not(feature = "aws-lc-rs"), allow(dead_code))]
    Unsupported,
    /// The key is of another kind than the algorithm needs (an RSA modulus and exponent given
    /// for HMAC).
    WrongKind,
    /// The key does not parse for the algorithm; the backend's reason.
    Malformed(String),
}

/// The SHA-256 digest of `bytes` (a DPoP proof's key thumbprint and token hash); `None` only if
/// the backend cannot hash, which the callers take as a refusal.
pub(crate) fn sha256(bytes: &[u8]) -> Option<[u8; 32]> {
    let digest = backend::PROVIDER.key_utils.compute_digest;
    let hashed = digest(bytes, jsonwebtoken::jwk::ThumbprintHash::SHA256).ok()?;
    hashed.try_into().ok()
}

/// The modulus (big-endian bytes) of a PKCS#1 DER RSA public key; `None` when it does not parse.
pub(crate) fn rsa_public_modulus(der: &[u8]) -> Option<Vec<u8>> {
    let components = backend::PROVIDER
        .key_utils
        .rsa_pub_components_from_public_key;
    components(der).ok().map(|(modulus, _exponent)| modulus)
}
