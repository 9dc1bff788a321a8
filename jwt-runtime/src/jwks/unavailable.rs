//! [`Jwks`] without the `remote-keys` feature: a type with no values, since no key set can be
//! fetched. The settings that would make one (`authority`, `jwks_url`, `oidc_discovery`,
//! `authorities` with a JWKS) are refused at ignition before anything here is reached; what is
//! reached anyway answers with an error naming the feature.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::{JwksConfig, JwksError};
use crate::keys::VerifyKey;

/// What this build answers where a key set would be fetched.
fn missing_feature(what: &str) -> JwksError {
    JwksError::InvalidConfig(format!(
        "{what} needs the `remote-keys` feature of rocket-flask-jwt, which this build leaves out"
    ))
}

/// The JWKS key cache, which this build does not have (it needs the `remote-keys` feature): no
/// value of this type exists, and [`Jwks::new`] always fails.
pub enum Jwks {}

impl Jwks {
    /// Always fails: fetching keys from `config.url` needs the `remote-keys` feature.
    pub fn new(config: JwksConfig) -> Result<Jwks, JwksError> {
        Err(missing_feature(&format!("the key set at {}", config.url)))
    }

    /// The configuration this cache was built with.
    pub fn config(&self) -> &JwksConfig {
        match *self {}
    }

    /// Fetches the key set now.
    pub async fn refresh(&self) -> Result<usize, JwksError> {
        match *self {}
    }

    /// The set's state for the metrics.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn health(&self) -> super::JwksHealth {
        match *self {}
    }

    /// The key for a token's `kid` and `alg`.
    pub async fn key(
        &self,
        _kid: Option<&str>,
        _alg: Algorithm,
    ) -> Result<Arc<VerifyKey>, JwksError> {
        match *self {}
    }

    #[cfg(any(test, feature = "testing"))]
    /// The cached key for `kid` and `alg`.
    pub fn cached_key(&self, _kid: Option<&str>, _alg: Algorithm) -> Option<Arc<VerifyKey>> {
        match *self {}
    }

    /// The cached key for `kid` and `alg`, saying why there is none.
    pub fn cached_lookup(
        &self,
        _kid: Option<&str>,
        _alg: Algorithm,
    ) -> Result<Arc<VerifyKey>, JwksError> {
        match *self {}
    }

    /// Whether `kid` is bound to `alg` in a fresh key set of `generation`.
    pub fn is_current(&self, _kid: Option<&str>, _alg: Algorithm, _generation: u64) -> bool {
        match *self {}
    }

    /// The key set's generation.
    pub fn generation(&self) -> u64 {
        match *self {}
    }
}

impl fmt::Debug for Jwks {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

/// What OIDC discovery would have found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Discovery {
    /// The provider's `issuer`.
    pub issuer: String,
    /// The provider's `jwks_uri`.
    pub jwks_uri: String,
}

/// Always fails: OIDC discovery at `authority` needs the `remote-keys` feature.
pub(crate) async fn discover(
    authority: &str,
    _expected_issuer: &str,
    _timeout: Duration,
    _max_bytes: usize,
) -> Result<Discovery, JwksError> {
    Err(missing_feature(&format!("OIDC discovery at {authority}")))
}
