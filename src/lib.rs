//! # rocket-flask-jwt
//!
//! Flask-JWT 0.3.2 for Rocket 0.5: [`Jwt::builder()`] with Flask-JWT's callbacks and settings, the
//! `POST /auth` resource, [`macro@jwt_required`] on handlers and [`current_identity!`] inside
//! them. Tokens, error bodies, status codes and headers are wire-compatible with Flask-JWT, so a
//! Python service and its Rust replacement can share a secret during a migration.
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
//!     let jwt = Jwt::builder()
//!         // At least 32 random bytes for HS256; JWT_SECRET_KEY overrides it, keeping the real
//!         // one out of the code.
//!         .secret_key("Yc3q0bZ9X2rM7tN1vK8pL4wH6sJ5dF0g")
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
//! #     let client = rocket::local::blocking::Client::tracked(rocket()).expect("it starts");
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
//! A Flask-JWT application's secret is often shorter than that (its example's `super-secret` has
//! 12 bytes): the library refuses it at start-up unless `.allow_short_secret(true)` (or
//! `allow_short_secret = true` in the `jwt` table of `Rocket.toml`, or
//! `JWT_ALLOW_SHORT_SECRET=true`) says to keep it during the migration.
#![warn(missing_docs)]

pub use jwt_macros::jwt_required;
pub use jwt_runtime::*;

/// The README's Rust snippets, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
