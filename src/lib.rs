//! # rocket-flask-jwt
//!
//! Flask-JWT 0.3.2 for Rocket 0.5: [`Jwt::builder()`] with Flask-JWT's callbacks and settings, the
//! `POST /auth` resource, [`macro@jwt_required`] on handlers and [`current_identity!`] inside
//! them. Tokens, error bodies, status codes and headers are wire-compatible with Flask-JWT, so a
//! Python service and its Rust replacement can share a secret during a migration.
//!
//! ```no_run
//! #[macro_use] extern crate rocket;
//! use rocket_flask_jwt::{current_identity, jwt_required, Jwt};
//!
//! #[derive(serde::Serialize)]
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
//!         .secret_key("super-secret")
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
//! ```
#![warn(missing_docs)]

pub use jwt_macros::jwt_required;
pub use jwt_runtime::*;
