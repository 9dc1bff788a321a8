//! `BENCH_ALG=HS256|RS256 mint`: prints the one token every contender accepts, valid for a day.
//! Its claims: `sub` and `identity` (the subject), `iat`, `nbf`, `exp`, and `user` (`{"sub": ...}`,
//! where rocket-jwt 0.5.2 reads its claims struct from).
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken11::{encode, Algorithm, EncodingKey, Header};
use serde::Serialize;

#[derive(Serialize)]
struct User {
    sub: &'static str,
}

#[derive(Serialize)]
struct Claims {
    sub: &'static str,
    identity: &'static str,
    iat: u64,
    nbf: u64,
    exp: u64,
    user: User,
}

fn main() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let claims = Claims {
        sub: peers::SUBJECT,
        identity: peers::SUBJECT,
        iat: now,
        nbf: now,
        exp: now + 24 * 3600,
        user: User {
            sub: peers::SUBJECT,
        },
    };
    let alg = peers::alg();
    let pem = || {
        alg.key_pair()
            .expect("an asymmetric algorithm")
            .0
            .as_bytes()
    };
    let (algorithm, key) = match alg {
        peers::Alg::HS256 => (
            Algorithm::HS256,
            Ok(EncodingKey::from_secret(peers::SECRET.as_bytes())),
        ),
        peers::Alg::RS256 => (Algorithm::RS256, EncodingKey::from_rsa_pem(pem())),
        peers::Alg::ES256 => (Algorithm::ES256, EncodingKey::from_ec_pem(pem())),
        peers::Alg::EdDSA => (Algorithm::EdDSA, EncodingKey::from_ed_pem(pem())),
    };
    let key = key.expect("the test key parses");
    let token = encode(&Header::new(algorithm), &claims, &key).expect("signing with the test key");
    println!("{token}");
}
