//! # rocket-flask-jwt
//!
//! Flask-JWT 0.3.2 for Rocket 0.5: [`Jwt::builder()`] with Flask-JWT's callbacks and settings, the
//! `POST /auth` resource, [`macro@jwt_required`] on handlers and [`current_identity!`] inside
//! them. Tokens, error bodies, status codes and headers are wire-compatible with Flask-JWT, so a
//! Python service and its Rust replacement can share a secret during a migration.
//!
//! ## Where to start
//!
//! Each kind of user has a chapter of the README (shown on the crate's registry page) and an
//! example to run:
//!
//! - **Porting a Flask-JWT application**: the program below, then the README's "Settings",
//!   "Callbacks" and "Migrating from Flask-JWT" (a row for every Flask-JWT name). Start from
//!   [`Jwt::builder()`]; the callbacks are [`JwtBuilder`]'s methods, the settings [`Settings`];
//!   `examples/seed.rs` is Flask-JWT's minimal application.
//! - **Porting a Flask-JWT-Extended application**: the README's "Flask-JWT-Extended profile",
//!   "Revocation (Redis)" and "Migrating from Flask-JWT-Extended". Start from
//!   [`JwtBuilder::extended`]; issuing is [`JwtManager`](extended::JwtManager), cookies [`JwtCookies`](extended::JwtCookies), route modes
//!   [`Rules`] (or the attribute's arguments); `examples/extended.rs` is Flask-JWT-Extended's
//!   documented application.
//! - **A resource server behind Auth0 or any OIDC issuer**: the README's "Resource server
//!   (Auth0, OIDC)", with its scopes, several authorities and the differences from Auth0's own
//!   validator. Start from [`JwtBuilder::authority`] (or [`TrustedAuthority`](settings::TrustedAuthority) for several);
//!   `examples/resource_server.rs` is Auth0's API quickstart.
//!
//! Every refusal names the check of Auth0's troubleshooting guide that failed ([`Check`]); the
//! README's "Troubleshooting a 401" and the `jwt-inspect` command say what to fix.
//!
//! ```
//! # mod app {
//! use rocket::{get, launch, routes};
//! use rocket_flask_jwt::{current_identity, jwt_required, Jwt};
//!
//! #[derive(rocket::serde::Serialize)]
//! #[serde(crate = "rocket::serde")]
//! struct User { id: u64, username: String }
//!
//! #[jwt_required]
//! #[get("/protected")]
//! fn protected() -> String {
//!     format!("User(id='{}')", current_identity!(User).id)
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     // The secret comes from `JWT_SECRET_KEY` or the `jwt` table of `Rocket.toml`.
//!     let jwt = Jwt::builder()
//!         .authentication_handler(|username, password| {
//!             (username == "user1" && password == "abcxyz")
//!                 .then(|| User { id: 1, username: username.into() })
//!         })
//!         .identity_handler(|payload| {
//!             (payload.get("identity")? == 1).then(|| User { id: 1, username: "user1".into() })
//!         })
//!         .build()
//!         .expect("valid Jwt configuration");
//!     rocket::build().attach(jwt).mount("/", routes![protected])
//! }
//! # pub fn log_in_and_call_protected() {
//! #     use rocket::http::{ContentType, Header, Status};
//! #     let secret = ("jwt.secret_key", "a-test-secret-of-more-than-32-bytes");
//! #     let rocket = rocket().configure(rocket::Config::figment().merge(secret));
//! #     let client = rocket::local::blocking::Client::tracked(rocket).expect("it starts");
//! #     let response = client
//! #         .post("/auth")
//! #         .header(ContentType::JSON)
//! #         .body(r#"{"username": "user1", "password": "abcxyz"}"#)
//! #         .dispatch();
//! #     assert_eq!(response.status(), Status::Ok);
//! #     let body: serde_json::Value =
//! #         serde_json::from_str(&response.into_string().expect("a body")).expect("JSON");
//! #     let token = body["access_token"].as_str().expect("access_token");
//! #     let response = client
//! #         .get("/protected")
//! #         .header(Header::new("Authorization", format!("JWT {token}")))
//! #         .dispatch();
//! #     assert_eq!(response.into_string().as_deref(), Some("User(id='1')"));
//! # }
//! # }
//! # fn main() { app::log_in_and_call_protected() }
//! ```
//!
//! A secret must have at least 32 bytes for HS256 (`openssl rand -base64 32` makes one). A Flask
//! application's secret is often shorter (Flask-JWT's example `super-secret` has 12 bytes): the
//! library refuses it at start-up unless `JWT_ALLOW_SHORT_SECRET=true` (or
//! `allow_short_secret = true` in the `jwt` table of `Rocket.toml`) keeps it during the
//! migration, with a warning at every start.
//!
//! # Cargo features
//!
//! - `aws-lc-rs` (default) or `rust-crypto`: the crypto backend, exactly one of the two.
//! - `redis` (default): the Redis revocation store (`RedisStore`, the `redis_url` setting).
//! - `remote-keys` (default): keys from an authority over HTTPS (JWKS, OIDC discovery: the
//!   `authority`, `jwks_url`, `oidc_discovery` and `authorities` settings).
//!
//! An application that needs neither Redis nor remote keys builds less with
//! `default-features = false, features = ["aws-lc-rs"]`. A setting whose feature the build
//! leaves out fails at ignition, naming the setting and the feature.
#![warn(missing_docs)]

pub use rocket_flask_jwt_macros::jwt_required;
pub use rocket_flask_jwt_runtime::*;

/// The README's Rust snippets, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
