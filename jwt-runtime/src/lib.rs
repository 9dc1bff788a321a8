//! Runtime of `rocket-flask-jwt`: Flask-JWT 0.3.2 for Rocket 0.5.
//!
//! Applications depend on the `rocket-flask-jwt` package, which re-exports this crate and the
//! `#[jwt_required]` attribute. Everything the attribute does is reachable by hand through the
//! [`JwtAuth`] request guard.
#![warn(missing_docs)]

mod auth;
pub mod builder;
mod cache;
mod callbacks;
mod engine;
pub mod error;
pub mod extract;
mod fairing;
mod guard;
pub mod identity;
pub mod inspect;
pub mod jwks;
pub mod keys;
pub mod settings;
#[cfg(test)]
mod test_keys;
pub mod token;

pub use builder::{BuildError, JwtBuilder};
pub use callbacks::BoxFuture;
pub use error::{Check, ErrorKind, JwtError, JwtResponse};
pub use fairing::Jwt;
pub use guard::{DefaultRealm, JwtAuth, Realm};
pub use identity::{try_current_identity, Identity, IdentityError};
pub use jsonwebtoken::Algorithm;
pub use settings::{KeyMaterial, Secret, Settings, SettingsError};
pub use token::{Payload, TokenCodec};

/// What `#[jwt_required]` expands to. Not a public API: it may change in any release. The version
/// in the name ties the expansion to the runtime it was written for.
#[doc(hidden)]
pub mod __private_v1 {
    pub use crate::error::JwtResponse;
    pub use crate::guard::{JwtAuth, Realm};
}
