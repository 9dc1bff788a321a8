//! Shared fixtures for the integration tests: the Flask-JWT test-suite application and tokens
//! assembled by hand (HMAC-SHA256 over base64url JSON), independently of the library's encoder,
//! the way a Python service would make them.
#![allow(dead_code)]

pub mod dpop;
pub mod jwks_server;
pub mod logs;
pub mod redis_cluster;
pub mod redis_server;
pub mod test_ca;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::serde::Serialize;
use rocket::{Build, Rocket};
use rocket_flask_jwt::{current_identity, jwt_required, Jwt, JwtBuilder};
use serde_json::{json, Value};
use sha2::Sha256;

/// The secret of Flask-JWT's own test suite.
pub const SECRET: &str = "super-secret";

/// `rocket` configured with [`SECRET`], Flask-JWT's and Flask-JWT-Extended's documentation
/// secret, which the reference applications share, as `JWT_SECRET_KEY` or `Rocket.toml` give it
/// to the examples (which set no secret in code); short, so `allow_short_secret` as well.
pub fn with_test_secret(rocket: Rocket<Build>) -> Rocket<Build> {
    let figment = rocket
        .figment()
        .clone()
        .merge(("jwt.secret_key", SECRET))
        .merge(("jwt.allow_short_secret", true));
    rocket.configure(figment)
}

/// The user of Flask-JWT's own test suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(crate = "rocket::serde")]
pub struct User {
    pub id: u64,
    pub username: String,
}

pub fn joe() -> User {
    User {
        id: 1,
        username: "joe".into(),
    }
}

/// Flask-JWT's test fixture: authentication accepts joe/pass, identity accepts `identity == 1`.
pub fn builder() -> JwtBuilder<User> {
    Jwt::builder()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .authentication_handler(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
}

#[jwt_required]
#[rocket::get("/protected")]
pub fn protected() -> &'static str {
    let _user: std::sync::Arc<User> = current_identity!();
    "success"
}

/// A Rocket with the fixture's `/protected` route and `jwt` attached.
pub fn rocket_with(jwt: Jwt<User>) -> Rocket<Build> {
    rocket::custom(rocket::Config::debug_default())
        .attach(jwt)
        .mount("/", rocket::routes![protected])
}

pub fn client_with(jwt: Jwt<User>) -> Client {
    Client::tracked(rocket_with(jwt)).expect("valid rocket")
}

/// The fixture application.
pub fn client() -> Client {
    client_with(builder().build().expect("fixture builds"))
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Sleeps into the next second, so that tokens issued afterwards have a later `iat` than a
/// revocation made before.
pub fn next_second() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    std::thread::sleep(std::time::Duration::from_nanos(
        1_000_000_000 - u64::from(now.subsec_nanos()) + 5_000_000,
    ));
}

/// Flask-JWT's default claims for `identity`, issued now.
pub fn claims(identity: Value) -> Value {
    let now = now();
    json!({"identity": identity, "iat": now, "nbf": now, "exp": now + 300})
}

/// Assembles `base64url(header).base64url(claims).base64url(HMAC-SHA256)` by hand.
pub fn sign_hs256(header: &Value, claims: &Value, secret: &str) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).expect("json")),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("json"))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    format!(
        "{message}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// Assembles a token from raw header and claims JSON texts, signed HS256 with `secret`.
pub fn sign_hs256_raw(header: &str, claims: &str, secret: &str) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    format!(
        "{message}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A PyJWT-style HS256 token (header `{"typ":"JWT","alg":"HS256"}`, in that order) for `claims`
/// under the fixture secret.
pub fn token_for(claims: &Value) -> String {
    sign_hs256_raw(
        r#"{"typ":"JWT","alg":"HS256"}"#,
        &claims.to_string(),
        SECRET,
    )
}

/// POSTs `body` to `/auth`.
pub fn post_auth<'c>(client: &'c Client, body: &str) -> LocalResponse<'c> {
    client
        .post("/auth")
        .header(rocket::http::ContentType::JSON)
        .body(body)
        .dispatch()
}

/// Logs in as joe and returns the access token.
pub fn login(client: &Client) -> String {
    let response = post_auth(client, r#"{"username":"joe","password":"pass"}"#);
    assert_eq!(response.status(), rocket::http::Status::Ok);
    let body: Value = response.into_json().expect("json body");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// GETs `path` with `Authorization: <value>` when given.
pub fn get_with<'c>(
    client: &'c Client,
    path: &'c str,
    authorization: Option<&str>,
) -> LocalResponse<'c> {
    let mut request = client.get(path);
    if let Some(value) = authorization {
        request = request.header(rocket::http::Header::new("Authorization", value.to_owned()));
    }
    request.dispatch()
}

/// Asserts a Flask-JWT JSON error body and status.
pub fn assert_error(response: LocalResponse<'_>, status: u16, error: &str, description: &str) {
    assert_eq!(response.status().code, status);
    assert_eq!(
        response.content_type(),
        Some(rocket::http::ContentType::JSON)
    );
    let body: Value = response.into_json().expect("json error body");
    assert_eq!(
        body,
        json!({"status_code": status, "error": error, "description": description})
    );
}
