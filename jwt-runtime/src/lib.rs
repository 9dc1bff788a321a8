//! Runtime of `rocket-flask-jwt`: Flask-JWT 0.3.2 for Rocket 0.5.
//!
//! Applications depend on the `rocket-flask-jwt` package, which re-exports this crate and the
//! `#[jwt_required]` attribute. Everything the attribute does is reachable by hand through the
//! [`JwtAuth`] request guard.
#![warn(missing_docs)]

// The layers, lowest first: claims, error (the refusals), settings, telemetry (the metrics'
// counters, the audit records), crypto, keys, jwks, token (the
// checks, the codec), authz (what a route demands), revocation, dpop (proofs of possession),
// http (the request flow and its Rocket glue), app (builder, fairing, resources). Each names only layers before it in this
// list; each folder's module comment says what it owns. See the README's "Layout".
mod app;
mod authz;
mod claims;
mod crypto;
mod dpop;
mod error;
mod http;
mod jwks;
mod keys;
pub mod revocation;
pub mod settings;
mod telemetry;
#[cfg(test)]
mod test_keys;
mod token;

// The root: what a Flask-JWT application reaches for first.
pub use app::builder::{BuildError, JwtBuilder};
pub use app::fairing::Jwt;
pub use authz::rules::{Fresh, Optional, Refresh, Required, Rules};
pub use claims::Payload;
pub use error::{Check, ErrorKind, JwtError, JwtResponse, ProofCheck};
pub use http::guard::{JwtAuth, Refused};
pub use jsonwebtoken::Algorithm;
pub use settings::{DpopMode, Profile, Settings};

pub mod identity {
    //! The identity and the verified token of the current request, outside the handler's
    //! parameters: Flask-JWT's `current_identity` (the [`current_identity!`](crate::current_identity!) macro) and
    //! Flask-JWT-Extended's `get_jwt_identity()`, `get_jwt()`, `get_jwt_header()`.

    pub use crate::http::identity::{
        get_jwt, get_jwt_header, get_jwt_identity, get_jwt_location, try_current_identity,
        Identity, IdentityError,
    };
}

pub mod extended {
    //! The Flask-JWT-Extended profile's parts: issuing tokens in a handler ([`JwtManager`]), the
    //! JWT cookies with their CSRF values ([`JwtCookies`]), token types, freshness and where a token
    //! may be found.

    pub use crate::app::manager::JwtManager;
    pub use crate::http::cookies::JwtCookies;
    pub use crate::http::issue::{Freshness, TokenType};
    pub use crate::settings::Location;
}

pub mod authorization {
    //! What a route demands beyond a valid token: scopes ([`has_scope`]) and claim rules
    //! ([`ClaimRule`]), answered 403 with RFC 6750's `insufficient_scope`.

    pub use crate::authz::authorization::{
        has_scope, has_scope_in_any, ClaimPredicate, ClaimRule, ClaimValue,
    };
}

pub mod validation {
    //! Token validation without a request: the codec that signs and verifies with the configured
    //! keys ([`TokenCodec`]), an application's resolved validation ([`Verifier`], several trusted
    //! authorities included), the inspector's report ([`Inspection`]), the key ring of issued
    //! tokens ([`KeyRing`], read from `signing_keys_dir`), and the helpers the `jwt-inspect`
    //! command shows its findings with.

    pub use crate::claims::{now, numeric_date};
    pub use crate::dpop::inspect::ProofInspection;
    pub use crate::keys::ring::{
        KeyFileError, KeyRing, KeyState, KeyTimes, RingKey, SharedRing, RING_ALGORITHMS,
    };
    pub use crate::keys::{algorithm_name, minimum_secret_bytes};
    pub use crate::token::access_token::{ACCESS_TOKEN_TYP, DEFAULT_MAX_AGE};
    pub use crate::token::codec::TokenCodec;
    pub use crate::token::inspect::{CheckReport, Inspection, Verdict};
    pub use crate::token::verifier::Verifier;
}

/// Internals that this workspace's tests, benchmarks and fuzz targets reach into, with the
/// `testing` cargo feature (never in an application's build). Not a public API: it may change in
/// any release.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing {
    pub use crate::claims::now;
    pub use crate::http::extract::parse_authorization;
    pub use crate::http::identity::{current_identity, sync_scope, Authenticated};
    pub use crate::jwks::{Jwks, JwksConfig, JwksError};
    pub use crate::keys::{algorithm_name, VerifyKey};

    use crate::validation::TokenCodec;
    use crate::{JwtError, Payload};

    /// The JWKS cache of `codec`, when its keys come from one.
    pub fn jwks(codec: &TokenCodec) -> Option<&Jwks> {
        codec.jwks()
    }

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
    pub use crate::settings::DpopMode;
}
