//! Where a key set lives and how it is cached ([`JwksConfig`]), and why no key could be had
//! ([`JwksError`]): what the settings and the checks name, with or without the `remote-keys`
//! feature.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::Algorithm;

/// At most this many characters of a `kid` appear in messages and logs.
const KID_SHOWN: usize = 64;

/// Where the key set lives and how it is cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksConfig {
    /// The JWKS URL: `https://`, or `http://` to a loopback address (for tests).
    pub url: String,
    /// How long a fetched key set is fresh; the next lookup after it refetches. Default 600 s.
    pub cache_ttl: Duration,
    /// The least time between two fetches driven by unknown `kid`s, or after a failed fetch.
    /// Default 30 s.
    pub cooldown: Duration,
    /// The limit on one whole fetch: connect, headers and body. Default 5 s.
    pub timeout: Duration,
    /// The largest response body accepted, in bytes. Default 256 KiB.
    pub max_bytes: usize,
    /// How long after expiring the last good keys keep serving the `kid`s they hold while the
    /// endpoint fails. Default 3600 s.
    pub stale_for: Duration,
    /// The allowed algorithms; keys bound to others are skipped. Default `RS256` (Auth0's).
    pub algorithms: Vec<Algorithm>,
}

impl Default for JwksConfig {
    fn default() -> Self {
        JwksConfig {
            url: String::new(),
            cache_ttl: Duration::from_secs(600),
            cooldown: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            max_bytes: 256 * 1024,
            stale_for: Duration::from_secs(3600),
            algorithms: vec![Algorithm::RS256],
        }
    }
}

impl JwksConfig {
    /// The defaults, with the JWKS URL of an OIDC authority: `https://tenant.auth0.com/` (with or
    /// without the trailing slash) gives `https://tenant.auth0.com/.well-known/jwks.json`. A bare
    /// host such as Auth0's `tenant.auth0.com` domain is taken as `https://`.
    pub fn for_authority(authority: &str) -> Self {
        let authority = authority.trim().trim_end_matches('/');
        let url = if authority.contains("://") {
            format!("{authority}/.well-known/jwks.json")
        } else {
            format!("https://{authority}/.well-known/jwks.json")
        };
        JwksConfig {
            url,
            ..JwksConfig::default()
        }
    }
}

/// Why no key could be had. Messages name `kid`s (shortened) but never tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// Without `remote-keys` only the refusal of a JWKS setting is built.
#[cfg_attr(not(feature = "remote-keys"), allow(dead_code))]
pub enum JwksError {
    /// No usable key has the token's `kid` and is bound to its `alg`.
    #[error("no usable key for {} and this algorithm", ShownKid(.kid.as_deref()))]
    UnknownKid {
        /// The token's `kid`, if it has one.
        kid: Option<String>,
    },
    /// A fetch failed: connection, timeout, HTTP status, redirect, size or not a JWK set.
    #[error("fetching the key set failed: {0}")]
    Fetch(String),
    /// No key set can be used: none was ever fetched, or the last good one is past its stale
    /// window while the endpoint keeps failing.
    #[error("no key set is available: {0}")]
    Unavailable(String),
    /// The JWKS URL is malformed or not allowed (`https://`, or `http://` to loopback only).
    #[error("invalid JWKS URL: {0}")]
    InvalidUrl(String),
    /// The configuration cannot work (no algorithms, zero size limit or timeout).
    #[error("invalid JWKS configuration: {0}")]
    InvalidConfig(String),
    /// The HTTP client could not be built.
    #[error("the HTTP client for the JWKS could not be built: {0}")]
    Client(String),
    /// The key set holds no key fit for checking signatures with the allowed algorithms.
    #[error("the key set holds no usable signature key for the allowed algorithms")]
    NoUsableKeys,
    /// The token's `kid` is in the key set, but bound to other algorithms than its `alg`.
    #[error(
        "{} is bound to {bound:?}, not to the token's algorithm",
        ShownKid(Some(kid))
    )]
    AlgorithmMismatch {
        /// The token's `kid`.
        kid: String,
        /// The algorithms the key set binds that `kid` to.
        bound: Vec<Algorithm>,
    },
    /// More than one key fits: a token without `kid` while several keys are bound to its `alg`,
    /// or a `kid` the key set repeats for the same `alg`.
    #[error("more than one key fits the token's kid and algorithm")]
    AmbiguousKey,
    /// The token's algorithm is not among the allowed algorithms.
    #[error("algorithm {0:?} is not allowed")]
    DisallowedAlgorithm(Algorithm),
}

/// A `kid` as shown in messages: quoted, escaped and shortened.
pub(super) struct ShownKid<'a>(pub(super) Option<&'a str>);

impl fmt::Display for ShownKid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("a token without kid"),
            Some(kid) if kid.chars().count() > KID_SHOWN => {
                let head: String = kid.chars().take(KID_SHOWN).collect();
                write!(f, "kid {head:?}…")
            }
            Some(kid) => write!(f, "kid {kid:?}"),
        }
    }
}
