//! The guard a Rocket user writes in an afternoon with jsonwebtoken 11: the `Bearer` token of the
//! `Authorization` header, `decode::<Claims>` with `Validation::new(alg)` (`exp` checked, 60 s of
//! leeway), the `DecodingKey` built once at start-up and kept in managed state.
#[macro_use]
extern crate rocket;

use jsonwebtoken11::{decode, Algorithm, DecodingKey, Validation};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[allow(dead_code)]
    exp: u64,
    #[allow(dead_code)]
    iat: u64,
}

/// The verification key, built once.
struct Keys {
    algorithm: Algorithm,
    decoding: DecodingKey,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Claims {
    type Error = &'static str;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(token) = request
            .headers()
            .get_one("Authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
        else {
            return Outcome::Error((Status::Unauthorized, "missing bearer token"));
        };
        let keys = match request.guard::<&State<Keys>>().await {
            Outcome::Success(keys) => keys,
            _ => return Outcome::Error((Status::InternalServerError, "no keys")),
        };
        match decode::<Claims>(token, &keys.decoding, &Validation::new(keys.algorithm)) {
            Ok(data) => Outcome::Success(data.claims),
            Err(_) => Outcome::Error((Status::Unauthorized, "invalid token")),
        }
    }
}

#[get("/protected")]
fn protected(claims: Claims) -> String {
    peers::body(&claims.sub)
}

#[launch]
fn rocket() -> _ {
    let alg = peers::alg();
    let pem = || {
        alg.key_pair()
            .expect("an asymmetric algorithm")
            .1
            .as_bytes()
    };
    let (algorithm, decoding) = match alg {
        peers::Alg::HS256 => (
            Algorithm::HS256,
            Ok(DecodingKey::from_secret(peers::SECRET.as_bytes())),
        ),
        peers::Alg::RS256 => (Algorithm::RS256, DecodingKey::from_rsa_pem(pem())),
        peers::Alg::ES256 => (Algorithm::ES256, DecodingKey::from_ec_pem(pem())),
        peers::Alg::EdDSA => (Algorithm::EdDSA, DecodingKey::from_ed_pem(pem())),
    };
    let keys = Keys {
        algorithm,
        decoding: decoding.expect("the test key parses"),
    };
    rocket::build()
        .manage(keys)
        .mount("/", routes![protected, peers::unprotected])
}
