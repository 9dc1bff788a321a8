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
pub mod claims;
mod codec;
mod encode;
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
mod validate;

pub use builder::{BuildError, JwtBuilder};
pub use callbacks::BoxFuture;
pub use claims::Payload;
pub use codec::TokenCodec;
pub use error::{Check, ErrorKind, JwtError, JwtResponse};
pub use fairing::Jwt;
pub use guard::JwtAuth;
pub use identity::{try_current_identity, Identity, IdentityError};
pub use jsonwebtoken::Algorithm;
pub use settings::{KeyMaterial, Secret, Settings, SettingsError};

/// What `#[jwt_required]` expands to. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::error::JwtResponse;
    pub use crate::guard::JwtAuth;
    pub use crate::identity::{scope, sync_scope, Identity};
}
