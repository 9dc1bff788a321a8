//! jsonwebtoken's crypto backends, signing and verifying: `aws_lc` (what the runtime uses) and
//! `rust_crypto`, per algorithm, through each provider's factories (so both run in one process
//! without installing a process-wide default). Verification builds the verifier from the
//! `DecodingKey` as `jsonwebtoken::decode` does at every call.
//!
//! `cargo bench --manifest-path crypto-backends/Cargo.toml`; results in docs/performance.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::crypto::{aws_lc, rust_crypto, CryptoProvider};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

const SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret";
const RSA_PRIVATE: &[u8] = include_bytes!("../../testdata/keys/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../../testdata/keys/rsa_public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../../testdata/keys/ec_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../../testdata/keys/ec_public.pem");
const ED_PRIVATE: &[u8] = include_bytes!("../../testdata/keys/ed_private.pem");
const ED_PUBLIC: &[u8] = include_bytes!("../../testdata/keys/ed_public.pem");

/// A token's signed part, the size of the seed example's.
const MESSAGE: &[u8] = b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTk5OTk5OTksImlhdCI6MTc5OTk5OTY5OSwibmJmIjoxNzk5OTk5Njk5LCJpZGVudGl0eSI6MX0";

fn keys(algorithm: Algorithm) -> (EncodingKey, DecodingKey) {
    match algorithm {
        Algorithm::HS256 => (
            EncodingKey::from_secret(SECRET),
            DecodingKey::from_secret(SECRET),
        ),
        Algorithm::RS256 | Algorithm::PS256 => (
            EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("test key"),
            DecodingKey::from_rsa_pem(RSA_PUBLIC).expect("test key"),
        ),
        Algorithm::ES256 => (
            EncodingKey::from_ec_pem(EC_PRIVATE).expect("test key"),
            DecodingKey::from_ec_pem(EC_PUBLIC).expect("test key"),
        ),
        _ => (
            EncodingKey::from_ed_pem(ED_PRIVATE).expect("test key"),
            DecodingKey::from_ed_pem(ED_PUBLIC).expect("test key"),
        ),
    }
}

fn bench(c: &mut Criterion) {
    let providers: [(&str, &CryptoProvider); 2] = [
        ("aws_lc", &aws_lc::DEFAULT_PROVIDER),
        ("rust_crypto", &rust_crypto::DEFAULT_PROVIDER),
    ];
    for algorithm in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let (encoding, decoding) = keys(algorithm);
        let mut group = c.benchmark_group(format!("{algorithm:?}"));
        for (name, provider) in providers {
            let signer = (provider.signer_factory)(&algorithm, &encoding).expect("signer");
            let signature = signer.try_sign(MESSAGE).expect("signs");
            // Each backend verifies the other's signatures: the two are interchangeable.
            for (_, other) in providers {
                let verifier = (other.verifier_factory)(&algorithm, &decoding).expect("verifier");
                verifier.verify(MESSAGE, &signature).expect("verifies");
            }
            group.bench_function(format!("{name}/sign"), |b| {
                b.iter(|| {
                    (provider.signer_factory)(&algorithm, &encoding)
                        .expect("signer")
                        .try_sign(black_box(MESSAGE))
                        .expect("signs")
                })
            });
            group.bench_function(format!("{name}/verify"), |b| {
                b.iter(|| {
                    (provider.verifier_factory)(&algorithm, &decoding)
                        .expect("verifier")
                        .verify(black_box(MESSAGE), black_box(&signature))
                        .is_ok()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
