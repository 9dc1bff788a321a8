//! A resource server: an RS256 API that only validates tokens issued elsewhere (Auth0 or any
//! OIDC provider), with keys from a JWKS URL. No `/auth` resource, no private key.
//!
//! Try it against the local key set in `testdata/jwks/` (see the README, "Resource server"):
//!
//! ```text
//! python3 -m http.server 8001 --bind 127.0.0.1 --directory testdata/jwks &
//! TOKEN=$(cargo run -q --example resource_server -- mint)
//! cargo run --example resource_server
//! curl -s localhost:8000/api/private -H "Authorization: Bearer $TOKEN"
//! ```
//!
//! Against Auth0, set `JWT_AUTHORITY=https://<tenant>.auth0.com/` (keys and issuer follow from it)
//! and `JWT_AUDIENCE=<your API identifier>`.
#[macro_use]
extern crate rocket;

use rocket::serde::json::{json, Json, Value};
use rocket_flask_jwt::{current_identity, jwt_required, Algorithm, Jwt};

/// The caller, as the identity callback builds it from the token's `sub` claim.
#[derive(Debug)]
struct Caller {
    subject: String,
}

#[get("/api/public")]
fn public() -> Json<Value> {
    Json(
        json!({"message": "Hello from a public endpoint! You don't need to be authenticated to see this."}),
    )
}

#[jwt_required]
#[get("/api/private")]
fn private() -> Json<Value> {
    let caller = current_identity!(Caller);
    Json(json!({
        "message": "Hello from a private endpoint! You need to be authenticated to see this.",
        "sub": caller.subject,
    }))
}

/// The local try-out's issuer and audience; `JWT_*` variables override them.
const DEMO_ISSUER: &str = "https://issuer.example/";
const DEMO_AUDIENCE: &str = "https://api.example/";

fn app() -> rocket::Rocket<rocket::Build> {
    let jwt = Jwt::builder()
        .disable_auth_url_rule()
        .algorithm(Algorithm::RS256)
        .auth_header_prefix("Bearer")
        .jwks_url("http://127.0.0.1:8001/jwks.json")
        .issuer(DEMO_ISSUER)
        .audience([DEMO_AUDIENCE])
        .identity_claim("sub")
        .identity_from_claim(|sub| {
            Some(Caller {
                subject: sub.as_str()?.to_owned(),
            })
        })
        .build()
        .expect("the Jwt configuration is complete");
    rocket::build()
        .attach(jwt)
        .mount("/", routes![public, private])
}

/// `mint`: a demo token signed with the test key of `testdata/keys` (never a real key).
fn mint() -> String {
    let key = include_str!("../testdata/keys/rsa_private.pem");
    let codec = rocket_flask_jwt::TokenCodec::new(rocket_flask_jwt::Settings {
        algorithm: Algorithm::RS256,
        private_key: Some(rocket_flask_jwt::KeyMaterial::Pem(key.into())),
        public_key: Some(rocket_flask_jwt::KeyMaterial::Pem(
            include_str!("../testdata/keys/rsa_public.pem").into(),
        )),
        expiration_delta: std::time::Duration::from_secs(3600),
        identity_claim: "sub".into(),
        ..Default::default()
    })
    .expect("the test key parses");
    let mut claims = codec.default_payload("auth0|demo-user".into());
    claims.insert("iss".into(), DEMO_ISSUER.into());
    claims.insert("aud".into(), DEMO_AUDIENCE.into());
    let mut header = rocket_flask_jwt::Payload::new();
    header.insert("kid".into(), "rsa-1".into());
    codec
        .encode(&claims, &header)
        .expect("signing with the test key")
}

#[launch]
fn rocket() -> _ {
    if std::env::args().nth(1).as_deref() == Some("mint") {
        println!("{}", mint());
        std::process::exit(0);
    }
    app()
}
