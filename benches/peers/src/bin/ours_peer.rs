//! This repository's library as its README shows it: `#[jwt_required]` on the handler,
//! `current_identity!()` inside it. The Flask-JWT profile's checks (signature, `exp`, `nbf`,
//! `iat`, all three required), the `Bearer` prefix the other contenders read, the identity from
//! `sub`. The verified-token cache is on (4096 entries) unless `JWT_TOKEN_CACHE_ENTRIES=0`.
#[macro_use]
extern crate rocket;

use rocket_flask_jwt::settings::{KeyMaterial, Secret};
use rocket_flask_jwt::{current_identity, jwt_required, Algorithm, Jwt, Settings};

/// The caller, from the token's `sub` claim.
struct Caller {
    subject: String,
}

#[jwt_required]
#[get("/protected")]
fn protected() -> String {
    peers::body(&current_identity!(Caller).subject)
}

#[launch]
fn rocket() -> _ {
    let mut settings = Settings {
        auth_url_rule: None,
        auth_header_prefix: "Bearer".into(),
        identity_claim: "sub".into(),
        ..Settings::default()
    };
    let alg = peers::alg();
    match alg.key_pair() {
        None => settings.secret_key = Some(Secret::new(peers::SECRET)),
        Some((_, public)) => settings.public_key = Some(KeyMaterial::Pem(public.into())),
    }
    settings.algorithm = match alg {
        peers::Alg::HS256 => Algorithm::HS256,
        peers::Alg::RS256 => Algorithm::RS256,
        peers::Alg::ES256 => Algorithm::ES256,
        peers::Alg::EdDSA => Algorithm::EdDSA,
    };
    let jwt = Jwt::builder()
        .settings(settings)
        .identity_from_claim(|sub| {
            Some(Caller {
                subject: sub.as_str()?.to_owned(),
            })
        })
        .build()
        .expect("the Jwt configuration is complete");
    rocket::build()
        .attach(jwt)
        .mount("/", routes![protected, peers::unprotected])
}
