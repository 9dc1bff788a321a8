//! Runtime of `rocket-flask-jwt`: Flask-JWT 0.3.2 for Rocket 0.5.
//!
//! Applications depend on the `rocket-flask-jwt` package, which re-exports this crate and the
//! `#[jwt_required]` attribute. Everything the attribute does is reachable by hand through the
//! [`JwtAuth`] request guard.
#![warn(missing_docs)]

// The layers, lowest first: claims, error (the refusals), settings, crypto, keys, jwks, token (the
// checks, the codec), authz (what a route demands), revocation, http (the request flow and its
// Rocket glue), app (builder, fairing, resources). Each names only layers before it in this
// list; each folder's module comment says what it owns. See the README's "Layout".
mod app;
mod authz;
mod claims;
mod crypto;
mod error;
mod http;
mod jwks;
mod keys;
mod revocation;
mod settings;
#[cfg(test)]
mod test_keys;
mod token;

pub use app::builder::{BuildError, JwtBuilder};
pub use app::fairing::Jwt;
pub use app::manager::JwtManager;
pub use authz::authorization::{
    has_scope, has_scope_in_any, ClaimPredicate, ClaimRule, ClaimValue,
};
pub use authz::rules::{Fresh, Location, Optional, Refresh, Required, Rules};
pub use claims::Payload;
pub use error::{Check, ErrorKind, JwtError, JwtResponse};
pub use http::cookies::JwtCookies;
pub use http::guard::{JwtAuth, Refused};
pub use http::identity::{
    get_jwt, get_jwt_header, get_jwt_identity, get_jwt_location, try_current_identity, Identity,
    IdentityError,
};
pub use http::issue::{Freshness, TokenType};
pub use jsonwebtoken::Algorithm;
pub use revocation::{MemoryStore, RevocationState, RevocationStore, Revoker, StoreError};
#[cfg(feature = "redis")]
pub use revocation::{RedisOptions, RedisStore};
pub use settings::{KeyMaterial, Profile, Secret, Settings, SettingsError};
pub use settings::{ProtectedResource, TrustedAuthority, WELL_KNOWN_PATH};
pub use token::access_token::{ACCESS_TOKEN_TYP, DEFAULT_MAX_AGE};
pub use token::codec::TokenCodec;
pub use token::inspect::{CheckReport, Inspection, Verdict};
pub use token::verifier::Verifier;

/// Internals that this workspace's tests, benchmarks, fuzz targets and the `jwt-inspect` command
/// reach into. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod testing {
    pub use crate::claims::{now, numeric_date};
    pub use crate::http::extract::parse_authorization;
    pub use crate::http::identity::{current_identity, sync_scope, Authenticated};
    pub use crate::jwks::{Jwks, JwksConfig, JwksError};
    pub use crate::keys::{algorithm_name, minimum_secret_bytes, VerifyKey};
    pub use crate::settings::parse_algorithm;

    use crate::{JwtError, Payload, TokenCodec};

    /// How many verified tokens `codec` caches (0 when its cache is off).
    pub fn cached_tokens(codec: &TokenCodec) -> usize {
        codec.cached_tokens()
    }

    /// The parsing half of check 1 on `token` (no key involved); its header.
    pub fn parse(codec: &TokenCodec, token: &str) -> Result<Payload, JwtError> {
        codec.parse(token).map(|header| Payload::clone(&header))
    }
}

/// What `#[jwt_required]` expands to. Not a public API: it may change in any release. The version
/// in the name ties the expansion to the runtime it was written for.
#[doc(hidden)]
pub mod __private_v1 {
    pub use crate::authz::authorization::{ClaimRule, ClaimValue};
    pub use crate::authz::rules::{Location, Rules};
    pub use crate::claims::Payload;
    pub use crate::error::JwtResponse;
    pub use crate::http::guard::JwtAuth;
    pub use crate::http::identity::{current_identity, optional_identity};
}
