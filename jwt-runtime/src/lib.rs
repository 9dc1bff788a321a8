//! Runtime of `rocket-flask-jwt`: Flask-JWT 0.3.2 for Rocket 0.5.
//!
//! Applications depend on the `rocket-flask-jwt` package, which re-exports this crate and the
//! `#[jwt_required]` attribute. Everything the attribute does is reachable by hand through the
//! [`JwtAuth`] request guard.
#![warn(missing_docs)]

mod access_token;
mod answer;
mod auth;
mod authorities;
mod authorization;
mod bearer;
mod builder;
mod cache;
mod callbacks;
mod catcher;
mod claims;
mod codec;
mod cookies;
mod crypto;
mod encode;
mod engine;
mod error;
mod extract;
mod fairing;
mod finish;
mod guard;
mod identity;
mod inspect;
mod issue;
mod jwks;
mod keys;
mod locations;
mod manager;
mod refresh;
mod requirements;
mod resource_metadata;
mod revocation;
mod rules;
mod settings;
#[cfg(test)]
mod test_keys;
mod validate;

pub use access_token::{ACCESS_TOKEN_TYP, DEFAULT_MAX_AGE};
pub use authorization::{has_scope, has_scope_in_any, ClaimPredicate, ClaimRule, ClaimValue};
pub use builder::{BuildError, JwtBuilder};
pub use claims::Payload;
pub use codec::TokenCodec;
pub use cookies::JwtCookies;
pub use error::{Check, ErrorKind, JwtError, JwtResponse};
pub use fairing::Jwt;
pub use guard::{JwtAuth, Refused};
pub use identity::{
    get_jwt, get_jwt_header, get_jwt_identity, get_jwt_location, try_current_identity, Identity,
    IdentityError,
};
pub use inspect::{CheckReport, Inspection, Verdict};
pub use issue::{Freshness, TokenType};
pub use jsonwebtoken::Algorithm;
pub use manager::JwtManager;
pub use revocation::{MemoryStore, RevocationState, RevocationStore, Revoker, StoreError};
#[cfg(feature = "redis")]
pub use revocation::{RedisOptions, RedisStore};
pub use rules::{Fresh, Location, Optional, Refresh, Required, Rules};
pub use settings::{KeyMaterial, Profile, Secret, Settings, SettingsError};
pub use settings::{ProtectedResource, TrustedAuthority, WELL_KNOWN_PATH};

/// Internals that this workspace's tests, benchmarks, fuzz targets and the `jwt-inspect` command
/// reach into. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod testing {
    pub use crate::claims::{now, numeric_date};
    pub use crate::extract::parse_authorization;
    pub use crate::identity::{current_identity, sync_scope, Authenticated};
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
    pub use crate::authorization::{ClaimRule, ClaimValue};
    pub use crate::claims::Payload;
    pub use crate::error::JwtResponse;
    pub use crate::guard::JwtAuth;
    pub use crate::identity::{current_identity, optional_identity};
    pub use crate::rules::{Location, Rules};
}
