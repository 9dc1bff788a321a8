//! `TokenCodec::decode` on arbitrary input, the way a request presents a token.
//!
//! The first byte picks the shape:
//! - `0..=127`: the rest is the token, as text (lossy UTF-8);
//! - `128..=255`: the rest is `header JSON 0xFF claims JSON`, base64url-encoded and signed with
//!   the configured secret, so the fuzzer reaches the header checks and the claim checks behind
//!   the signature.
//!
//! Every outcome must be a 401 `Invalid token` naming a check, or claims that are a JSON object;
//! a panic, another status or an accepted token with a forged signature is a finding.
#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use rocket_flask_jwt_runtime::{settings::Secret, Settings, validation::TokenCodec};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzzing-secret-of-at-least-32-bytes!";

fn codec() -> &'static TokenCodec {
    static CODEC: OnceLock<TokenCodec> = OnceLock::new();
    CODEC.get_or_init(|| {
        TokenCodec::new(Settings {
            secret_key: Some(Secret::new(SECRET)),
            ..Settings::default()
        })
        .expect("valid settings")
    })
}

fn check(token: &str, signed: bool) {
    match codec().decode(token) {
        Ok(claims) => {
            // Only a token carrying a signature made with the secret may pass.
            assert!(signed, "an unsigned token was accepted: {token:?}");
            assert!(
                claims.contains_key("exp"),
                "accepted without exp: {claims:?}"
            );
        }
        Err(error) => {
            assert_eq!(error.status.code, 401, "{error}");
            assert!(error.check().is_some(), "no check named: {error}");
            assert!(!error.description.is_empty());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        check("", false);
        return;
    };
    if mode < 128 {
        check(&String::from_utf8_lossy(rest), false);
        return;
    }
    let (header, claims) = match rest.iter().position(|b| *b == 0xFF) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &b"{}"[..]),
    };
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
        .expect("HMAC signs anything");
    check(&format!("{message}.{signature}"), true);
});
