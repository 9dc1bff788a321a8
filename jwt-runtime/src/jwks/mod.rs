//! A JWKS key cache: the signature keys an OIDC provider (Auth0 or any other) publishes as a JSON
//! Web Key Set, fetched over HTTPS, filtered, bound to one algorithm each and kept fresh.
//!
//! # Selection
//!
//! A token's `kid` and `alg` select a key: the key must carry that `kid` and be bound to that
//! algorithm. Each JWK is bound to its own `alg` when it has one (which must be allowed), otherwise
//! to what its type fits among the allowed algorithms: RSA to every allowed `RS*`/`PS*` (one
//! [`VerifyKey`] each), EC P-256 to `ES256`, P-384 to `ES384`, OKP Ed25519 to `EdDSA`. A token
//! without `kid` is accepted only when exactly one key is bound to its `alg`. Entries unfit for
//! checking signatures (`use` other than `sig`, `key_ops` without `verify`, private or symmetric
//! key material, unsupported key types or curves, RSA moduli under 2048 bits, malformed members)
//! are skipped with a warning naming the `kid` and the reason (logged when the set changes, so an
//! unchanged set does not repeat it every refresh).
//!
//! # Cache
//!
//! The last good key set sits behind a [`RwLock`] holding an `Arc`: a lookup clones the `Arc`
//! under a brief read lock and searches it with no lock held. Fetches are serialised by an async
//! mutex that the fast path never touches, and counted: a caller that waited for the mutex while
//! another caller fetched sees the count moved and uses that result instead of fetching again
//! (single flight).
//!
//! - A set is fresh for [`JwksConfig::cache_ttl`]; after it, the next [`Jwks::key`] refetches, and
//!   callers arriving meanwhile wait for that one fetch (at most [`JwksConfig::timeout`]).
//! - An unknown `kid` refetches only when no fetch was attempted within [`JwksConfig::cooldown`], so
//!   a flood of made-up `kid`s costs the provider at most one request per cooldown.
//! - A failed fetch is never cached as a key set. The last good keys keep serving the `kid`s they
//!   hold until [`JwksConfig::stale_for`] after they expired, then [`Jwks::key`] fails closed.
//!   After a failure the next attempt waits for the cooldown.
//! - One fetch is bounded by [`JwksConfig::timeout`] as a whole (connect, headers and body) and by
//!   [`JwksConfig::max_bytes`], enforced while the body streams in. Redirects are not followed.
//!
//! # Feature
//!
//! The cache and its HTTP fetcher (reqwest) are the `remote-keys` cargo feature. Without it,
//! [`JwksConfig`] and [`JwksError`] remain, but no [`Jwks`] can be made: the settings that need one
//! (`authority`, `jwks_url`, `oidc_discovery`, `authorities` with a JWKS) are refused at ignition
//! with a message naming the feature.

#[cfg(feature = "remote-keys")]
use std::fmt;
#[cfg(feature = "remote-keys")]
use std::time::Duration;

#[cfg(feature = "remote-keys")]
use jsonwebtoken::Algorithm;

// The cache and its fetcher, below and in `fetch` and `jwk`, are the `remote-keys` feature's.
// Without it, `unavailable` stands in: no `Jwks` can be made, and the settings that need one are
// refused at ignition, naming the feature.
#[cfg(feature = "remote-keys")]
use std::sync::{Arc, PoisonError, RwLock};
#[cfg(feature = "remote-keys")]
use std::time::Instant;

#[cfg(feature = "remote-keys")]
use jsonwebtoken::jwk::Jwk;
#[cfg(feature = "remote-keys")]
use reqwest::Url;

#[cfg(feature = "remote-keys")]
use crate::keys::VerifyKey;

mod config;
#[cfg(feature = "remote-keys")]
mod fetch;
// Reading one JWK is also what a DPoP proof's key needs, with or without the feature.
mod jwk;
#[cfg(not(feature = "remote-keys"))]
mod unavailable;

#[cfg(feature = "remote-keys")]
pub(crate) use fetch::discover;
#[cfg(feature = "remote-keys")]
use fetch::{check_url, download};
pub(crate) use jwk::usable_entry;
#[cfg(feature = "remote-keys")]
use jwk::{parse_key_set, LoadedKeys};
#[cfg(not(feature = "remote-keys"))]
pub(crate) use unavailable::discover;
#[cfg(not(feature = "remote-keys"))]
pub use unavailable::Jwks;

#[cfg(feature = "remote-keys")]
use config::ShownKid;
pub use config::{JwksConfig, JwksError};

#[cfg(feature = "remote-keys")]
/// The JWKS key cache. `Send + Sync`: share it behind an `Arc`.
pub struct Jwks {
    config: JwksConfig,
    url: Url,
    client: reqwest::Client,
    state: RwLock<Arc<KeySetState>>,
    fetch_lock: tokio::sync::Mutex<()>,
}

#[cfg(feature = "remote-keys")]
impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url.as_str())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "remote-keys")]
/// A fetched key set that was usable.
struct KeySet {
    keys: Vec<Arc<VerifyKey>>,
    /// What the set holds, to tell whether a refetch changed it.
    fingerprint: Vec<(Algorithm, Jwk)>,
    fetched_at: Instant,
}

#[cfg(feature = "remote-keys")]
/// The outcome of the last fetch attempt.
#[derive(Clone)]
struct Attempt {
    at: Instant,
    /// Why it failed; `None` when it succeeded.
    error: Option<String>,
}

#[cfg(feature = "remote-keys")]
/// Everything a lookup reads, swapped as a whole.
#[derive(Clone, Default)]
struct KeySetState {
    /// The last good key set.
    keys: Option<Arc<KeySet>>,
    /// Incremented whenever the last good key set changes.
    generation: u64,
    /// Fetch attempts completed, successful or not.
    attempts: u64,
    /// Of those, the ones that failed.
    failures: u64,
    last_attempt: Option<Attempt>,
}

/// A key set's state for the metrics, read when they are scraped.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) struct JwksHealth {
    /// Fetches that succeeded, and that failed, since start.
    pub(crate) fetched: u64,
    pub(crate) failed: u64,
    /// Keys held (0 before the first good fetch).
    pub(crate) keys: usize,
    /// Seconds since the last good fetch; `None` before it.
    pub(crate) since_success: Option<f64>,
    /// The keys held are past their time to live (the endpoint has not answered since) but
    /// still served, within the stale window.
    pub(crate) serving_stale: bool,
}

#[cfg(feature = "remote-keys")]
/// What a key set holds for a `kid` and `alg`.
enum Lookup {
    Found(Arc<VerifyKey>),
    Ambiguous,
    /// The `kid` is in the set, bound to these other algorithms only.
    OtherAlgorithms(Vec<Algorithm>),
    Missing,
}

#[cfg(feature = "remote-keys")]
impl KeySet {
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let mut matches = self
            .keys
            .iter()
            .filter(|key| key.algorithm() == alg && (kid.is_none() || key.kid() == kid));
        match (matches.next(), matches.next()) {
            (Some(key), None) => Lookup::Found(Arc::clone(key)),
            (Some(_), Some(_)) => Lookup::Ambiguous,
            (None, _) => {
                let bound: Vec<Algorithm> = self
                    .keys
                    .iter()
                    .filter(|key| kid.is_some() && key.kid() == kid)
                    .map(|key| key.algorithm())
                    .collect();
                if bound.is_empty() {
                    Lookup::Missing
                } else {
                    Lookup::OtherAlgorithms(bound)
                }
            }
        }
    }

    /// Whether the set is inside its time to live.
    fn is_fresh(&self, now: Instant, config: &JwksConfig) -> bool {
        before(now, self.fetched_at, config.cache_ttl)
    }

    /// Whether the set may still serve the `kid`s it holds: fresh, or within the stale window.
    fn is_servable(&self, now: Instant, config: &JwksConfig) -> bool {
        before(
            now,
            self.fetched_at,
            config.cache_ttl.saturating_add(config.stale_for),
        )
    }
}

#[cfg(feature = "remote-keys")]
/// The error for a `kid` bound to other algorithms than the token's.
fn mismatch(kid: Option<&str>, bound: Vec<Algorithm>) -> JwksError {
    JwksError::AlgorithmMismatch {
        kid: kid.unwrap_or_default().to_owned(),
        bound,
    }
}

#[cfg(feature = "remote-keys")]
/// `now < start + span`, where a span past the end of time never ends.
fn before(now: Instant, start: Instant, span: Duration) -> bool {
    start.checked_add(span).is_none_or(|end| now < end)
}

#[cfg(feature = "remote-keys")]
impl KeySetState {
    /// Whether a fetch may start now for a set that is missing or expired: always after a success
    /// (the set's expiry paces those), after a failure only once the cooldown has passed.
    fn may_refetch_expired(&self, now: Instant, cooldown: Duration) -> bool {
        match &self.last_attempt {
            None => true,
            Some(Attempt { error: None, .. }) => true,
            Some(Attempt { at, .. }) => !before(now, *at, cooldown),
        }
    }

    /// Whether a fetch may start now for an unknown `kid`: only once the cooldown has passed since
    /// the last attempt.
    fn may_refetch_unknown(&self, now: Instant, cooldown: Duration) -> bool {
        match &self.last_attempt {
            None => true,
            Some(Attempt { at, .. }) => !before(now, *at, cooldown),
        }
    }

    /// Why no key set can serve.
    fn unavailable(&self, url: &Url) -> JwksError {
        let reason = match (&self.keys, &self.last_attempt) {
            (Some(_), Some(Attempt { error: Some(e), .. })) => {
                format!("the keys from {url} are past their stale window; last fetch: {e}")
            }
            (Some(_), _) => format!("the keys from {url} are past their stale window"),
            (None, Some(Attempt { error: Some(e), .. })) => {
                format!("no key set from {url} was ever fetched; last fetch: {e}")
            }
            (None, _) => format!("no key set from {url} was fetched yet"),
        };
        JwksError::Unavailable(reason)
    }
}

#[cfg(feature = "remote-keys")]
impl Jwks {
    /// A cache for `config.url`, with nothing fetched yet. Refuses URLs other than `https://` and
    /// `http://` to loopback (`127.0.0.0/8`, `localhost`, `[::1]`), URLs with credentials, and a
    /// configuration with no algorithm, a zero timeout or a zero size limit.
    pub fn new(config: JwksConfig) -> Result<Jwks, JwksError> {
        let url = check_url(&config.url)?;
        if config.algorithms.is_empty() {
            return Err(JwksError::InvalidConfig(
                "`algorithms` is empty: no key could ever be used".into(),
            ));
        }
        if config.timeout.is_zero() {
            return Err(JwksError::InvalidConfig("`timeout` is zero".into()));
        }
        if config.max_bytes == 0 {
            return Err(JwksError::InvalidConfig("`max_bytes` is zero".into()));
        }
        let client = fetch::client(config.timeout)?;
        Ok(Jwks {
            config,
            url,
            client,
            state: RwLock::new(Arc::new(KeySetState::default())),
            fetch_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The configuration this cache was built with.
    pub fn config(&self) -> &JwksConfig {
        &self.config
    }

    /// Fetches the key set now, waiting for a fetch already under way first (used at ignition).
    /// Returns the number of usable keys: one per key and algorithm it is bound to.
    pub async fn refresh(&self) -> Result<usize, JwksError> {
        let _fetching = self.fetch_lock.lock().await;
        self.fetch_and_store().await
    }

    /// The key for a token's `kid` and `alg`, refetching the key set when it expired, or when the
    /// `kid` is unknown and the cooldown allows. While the endpoint fails, the last good keys serve
    /// the `kid`s they hold until their stale window ends; an unknown `kid` is never served.
    pub async fn key(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<VerifyKey>, JwksError> {
        if !self.config.algorithms.contains(&alg) {
            return Err(JwksError::DisallowedAlgorithm(alg));
        }
        let mut fetched = false;
        loop {
            let state = self.snapshot();
            let (outcome, refetch) = self.evaluate(&state, kid, alg, Instant::now());
            if refetch && !fetched {
                fetched = true;
                self.fetch_once(state.attempts).await;
                continue;
            }
            return outcome;
        }
    }

    #[cfg(any(test, feature = "testing"))]
    /// The cached key for `kid` and `alg` if the cache holds one that is fresh or within its stale
    /// window; no I/O.
    pub fn cached_key(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<VerifyKey>> {
        self.cached_lookup(kid, alg).ok()
    }

    /// [`cached_key`](Self::cached_key), saying why there is none: a `kid` the cache does not
    /// hold for `alg` (or no servable cache at all), or one it holds more than once.
    pub fn cached_lookup(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<VerifyKey>, JwksError> {
        let unknown = || JwksError::UnknownKid {
            kid: kid.map(str::to_owned),
        };
        if !self.config.algorithms.contains(&alg) {
            return Err(unknown());
        }
        let state = self.snapshot();
        let set = state.keys.as_ref().ok_or_else(unknown)?;
        if !set.is_servable(Instant::now(), &self.config) {
            return Err(unknown());
        }
        match set.find(kid, alg) {
            Lookup::Found(key) => Ok(key),
            Lookup::Ambiguous => Err(JwksError::AmbiguousKey),
            Lookup::OtherAlgorithms(bound) => Err(mismatch(kid, bound)),
            Lookup::Missing => Err(unknown()),
        }
    }

    /// Whether `kid` is bound to `alg` in a key set that is still fresh (within `cache_ttl`) and
    /// of `generation`: what a verified-token cache needs to serve a hit without I/O. Past the
    /// cache lifetime it says no, so the request path refetches (and a removed or unavailable key
    /// stops being honoured on schedule).
    pub fn is_current(&self, kid: Option<&str>, alg: Algorithm, generation: u64) -> bool {
        let state = self.snapshot();
        if state.generation != generation {
            return false;
        }
        let Some(set) = state.keys.as_ref() else {
            return false;
        };
        set.is_fresh(Instant::now(), &self.config) && matches!(set.find(kid, alg), Lookup::Found(_))
    }

    /// Incremented each time the cached key set changes (0 until the first successful fetch), so
    /// caches of verified tokens can be dropped when it moves. The passing of time alone (a set
    /// leaving its stale window) does not move it.
    pub fn generation(&self) -> u64 {
        self.snapshot().generation
    }

    fn snapshot(&self) -> Arc<KeySetState> {
        Arc::clone(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The answer `state` gives for `kid` and `alg` now, and whether a fetch should be tried first.
    fn evaluate(
        &self,
        state: &KeySetState,
        kid: Option<&str>,
        alg: Algorithm,
        now: Instant,
    ) -> (Result<Arc<VerifyKey>, JwksError>, bool) {
        let unknown = || JwksError::UnknownKid {
            kid: kid.map(str::to_owned),
        };
        let cooldown = self.config.cooldown;
        match &state.keys {
            Some(set) if set.is_fresh(now, &self.config) => match set.find(kid, alg) {
                Lookup::Found(key) => (Ok(key), false),
                Lookup::Ambiguous => (Err(JwksError::AmbiguousKey), false),
                Lookup::OtherAlgorithms(bound) => (Err(mismatch(kid, bound)), false),
                Lookup::Missing => (Err(unknown()), state.may_refetch_unknown(now, cooldown)),
            },
            Some(set) if set.is_servable(now, &self.config) => {
                let refetch = state.may_refetch_expired(now, cooldown);
                match set.find(kid, alg) {
                    Lookup::Found(key) => (Ok(key), refetch),
                    Lookup::Ambiguous => (Err(JwksError::AmbiguousKey), refetch),
                    Lookup::OtherAlgorithms(bound) => (Err(mismatch(kid, bound)), refetch),
                    Lookup::Missing => (Err(unknown()), refetch),
                }
            }
            _ => (
                Err(state.unavailable(&self.url)),
                state.may_refetch_expired(now, cooldown),
            ),
        }
    }

    /// The set's state for the metrics.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn health(&self) -> JwksHealth {
        let state = self.snapshot();
        let now = Instant::now();
        let keys = state.keys.as_deref();
        JwksHealth {
            fetched: state.attempts.wrapping_sub(state.failures),
            failed: state.failures,
            keys: keys.map_or(0, |set| set.keys.len()),
            since_success: keys
                .map(|set| now.saturating_duration_since(set.fetched_at).as_secs_f64()),
            serving_stale: keys.is_some_and(|set| {
                !set.is_fresh(now, &self.config) && set.is_servable(now, &self.config)
            }),
        }
    }

    /// Fetches unless another caller completed a fetch since `seen_attempts` was read: concurrent
    /// callers share one fetch.
    async fn fetch_once(&self, seen_attempts: u64) {
        let _fetching = self.fetch_lock.lock().await;
        if self.snapshot().attempts != seen_attempts {
            return;
        }
        // The outcome is recorded in the state, where the caller reads it.
        let _ = self.fetch_and_store().await;
    }

    /// Fetches and records the outcome. Callers hold `fetch_lock`.
    async fn fetch_and_store(&self) -> Result<usize, JwksError> {
        let result = self.fetch().await;
        let now = Instant::now();
        let mut slot = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = KeySetState::clone(&slot);
        next.attempts = next.attempts.wrapping_add(1);
        let outcome = match result {
            Ok(loaded) => {
                let count = loaded.keys.len();
                let changed = next
                    .keys
                    .as_ref()
                    .is_none_or(|old| old.fingerprint != loaded.fingerprint);
                if changed {
                    next.generation = next.generation.wrapping_add(1);
                    for note in &loaded.notes {
                        log::warn!("jwks: {note}");
                    }
                    log::info!(
                        "jwks: {count} usable keys from {} (generation {})",
                        self.url,
                        next.generation
                    );
                } else {
                    for note in &loaded.notes {
                        log::debug!("jwks: {note}");
                    }
                    log::debug!("jwks: key set from {} unchanged", self.url);
                }
                next.keys = Some(Arc::new(KeySet {
                    keys: loaded.keys.into_iter().map(Arc::new).collect(),
                    fingerprint: loaded.fingerprint,
                    fetched_at: now,
                }));
                next.last_attempt = Some(Attempt {
                    at: now,
                    error: None,
                });
                Ok(count)
            }
            Err(error) => {
                if next.keys.is_some() {
                    log::warn!(
                        "jwks: {error}; the last good keys serve known kids until their stale window ends"
                    );
                } else {
                    log::warn!("jwks: {error}; no key set is available");
                }
                next.failures = next.failures.wrapping_add(1);
                next.last_attempt = Some(Attempt {
                    at: now,
                    error: Some(error.to_string()),
                });
                Err(error)
            }
        };
        *slot = Arc::new(next);
        outcome
    }

    /// One fetch, bounded by the timeout as a whole, parsed into usable keys.
    async fn fetch(&self) -> Result<LoadedKeys, JwksError> {
        let body = tokio::time::timeout(self.config.timeout, self.download())
            .await
            .map_err(|_| {
                JwksError::Fetch(format!(
                    "{}: no complete response within {:?}",
                    self.url, self.config.timeout
                ))
            })??;
        parse_key_set(&body, &self.config.algorithms).map_err(|error| match error {
            JwksError::Fetch(reason) => JwksError::Fetch(format!("{}: {reason}", self.url)),
            other => other,
        })
    }

    /// The response body, refused past `max_bytes` while it streams in.
    async fn download(&self) -> Result<Vec<u8>, JwksError> {
        download(&self.client, &self.url, self.config.max_bytes).await
    }
}

#[cfg(test)]
#[cfg(feature = "remote-keys")]
mod tests {
    use serde_json::{json, Value};

    use super::jwk::{bit_length, usable_entry};
    use super::*;

    const RSA_A: &str = include_str!("../../../testdata/keys/rsa_public.jwk.json");
    const RSA_B: &str = include_str!("../../../testdata/jwks/rsa2_public.jwk.json");
    const RSA_1024: &str = include_str!("../../../testdata/jwks/rsa1024_public.jwk.json");
    const EC_P256: &str = include_str!("../../../testdata/jwks/ec_public.jwk.json");
    const ED25519: &str = include_str!("../../../testdata/jwks/ed_public.jwk.json");

    /// A test JWK: `base`'s key material without its `kid`, `alg` and `use`, with `extra` members
    /// added.
    fn jwk(base: &str, extra: Value) -> Value {
        let mut value: Value = serde_json::from_str(base).unwrap();
        let object = value.as_object_mut().unwrap();
        for name in ["kid", "alg", "use"] {
            object.remove(name);
        }
        for (name, member) in extra.as_object().unwrap() {
            object.insert(name.clone(), member.clone());
        }
        value
    }

    fn set(keys: Vec<Value>, algorithms: &[Algorithm]) -> Result<KeySet, JwksError> {
        let body = serde_json::to_vec(&json!({ "keys": keys })).unwrap();
        let loaded = parse_key_set(&body, algorithms)?;
        Ok(KeySet {
            keys: loaded.keys.into_iter().map(Arc::new).collect(),
            fingerprint: loaded.fingerprint,
            fetched_at: Instant::now(),
        })
    }

    fn found(set: &KeySet, kid: Option<&str>, alg: Algorithm) -> Option<Arc<VerifyKey>> {
        match set.find(kid, alg) {
            Lookup::Found(key) => Some(key),
            _ => None,
        }
    }

    #[test]
    fn jwks_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Jwks>();
        assert_send_sync::<JwksError>();
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = JwksConfig::default();
        assert_eq!(config.cache_ttl, Duration::from_secs(600));
        assert_eq!(config.cooldown, Duration::from_secs(30));
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert_eq!(config.max_bytes, 256 * 1024);
        assert_eq!(config.stale_for, Duration::from_secs(3600));
        assert_eq!(config.algorithms, vec![Algorithm::RS256]);
    }

    #[test]
    fn for_authority_builds_the_well_known_url() {
        let expected = "https://tenant.auth0.com/.well-known/jwks.json";
        assert_eq!(
            JwksConfig::for_authority("https://tenant.auth0.com/").url,
            expected
        );
        assert_eq!(
            JwksConfig::for_authority("https://tenant.auth0.com").url,
            expected
        );
        assert_eq!(JwksConfig::for_authority("tenant.auth0.com").url, expected);
        assert_eq!(
            JwksConfig::for_authority("https://idp.example/realms/main/").url,
            "https://idp.example/realms/main/.well-known/jwks.json"
        );
    }

    #[test]
    fn urls_other_than_https_or_loopback_http_are_refused() {
        for good in [
            "https://tenant.auth0.com/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks.json",
            "http://127.1.2.3/jwks.json",
            "http://localhost:3000/jwks.json",
            "http://[::1]:3000/jwks.json",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://example.com/jwks.json",
            "http://10.0.0.1/jwks.json",
            "http://127.0.0.1.example.com/jwks.json",
            "http://localhost.example.com/jwks.json",
            "ftp://127.0.0.1/jwks.json",
            "file:///etc/jwks.json",
            "https://user:secret@tenant.auth0.com/jwks.json",
            "not a url",
            "",
        ] {
            assert!(
                matches!(check_url(bad), Err(JwksError::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn invalid_configurations_are_refused() {
        let base = || JwksConfig {
            url: "https://tenant.auth0.com/.well-known/jwks.json".into(),
            ..JwksConfig::default()
        };
        assert!(Jwks::new(base()).is_ok());
        for config in [
            JwksConfig {
                algorithms: vec![],
                ..base()
            },
            JwksConfig {
                timeout: Duration::ZERO,
                ..base()
            },
            JwksConfig {
                max_bytes: 0,
                ..base()
            },
        ] {
            assert!(matches!(
                Jwks::new(config),
                Err(JwksError::InvalidConfig(_))
            ));
        }
    }

    #[test]
    fn keys_are_selected_by_kid_and_algorithm() {
        let set = set(
            vec![
                jwk(RSA_A, json!({"kid": "a", "alg": "RS256", "use": "sig"})),
                jwk(EC_P256, json!({"kid": "e"})),
            ],
            &[Algorithm::RS256, Algorithm::ES256],
        )
        .unwrap();
        assert_eq!(set.keys.len(), 2);
        let a = found(&set, Some("a"), Algorithm::RS256).unwrap();
        assert_eq!(a.kid(), Some("a"));
        assert_eq!(a.algorithm(), Algorithm::RS256);
        let e = found(&set, Some("e"), Algorithm::ES256).unwrap();
        assert_eq!(e.algorithm(), Algorithm::ES256);
        // The kid must be bound to the token's algorithm.
        assert!(found(&set, Some("a"), Algorithm::ES256).is_none());
        assert!(found(&set, Some("e"), Algorithm::RS256).is_none());
        assert!(found(&set, Some("z"), Algorithm::RS256).is_none());
    }

    #[test]
    fn rsa_keys_without_alg_are_bound_to_every_allowed_rsa_algorithm() {
        let allowed = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];
        let set = set(vec![jwk(RSA_A, json!({"kid": "a"}))], &allowed).unwrap();
        let mut bound: Vec<Algorithm> = set.keys.iter().map(|k| k.algorithm()).collect();
        bound.sort_by_key(|alg| format!("{alg:?}"));
        assert_eq!(bound, vec![Algorithm::PS256, Algorithm::RS256]);
        assert!(found(&set, Some("a"), Algorithm::RS384).is_none());
    }

    #[test]
    fn curves_give_their_algorithm() {
        let set = set(
            vec![
                jwk(EC_P256, json!({"kid": "e"})),
                jwk(ED25519, json!({"kid": "ed"})),
            ],
            &[Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA],
        )
        .unwrap();
        assert!(found(&set, Some("e"), Algorithm::ES256).is_some());
        assert!(found(&set, Some("e"), Algorithm::ES384).is_none());
        assert!(found(&set, Some("ed"), Algorithm::EdDSA).is_some());
    }

    #[test]
    fn an_alg_that_is_not_allowed_or_does_not_fit_skips_the_key() {
        let allowed = [Algorithm::RS256, Algorithm::ES256];
        for extra in [
            json!({"kid": "x", "alg": "RS512"}),
            json!({"kid": "x", "alg": "ES256"}),
            json!({"kid": "x", "alg": "HS256"}),
            json!({"kid": "x", "alg": "RSA-OAEP"}),
            json!({"kid": "x", "alg": 7}),
        ] {
            assert!(
                matches!(
                    set(vec![jwk(RSA_A, extra.clone())], &allowed),
                    Err(JwksError::NoUsableKeys)
                ),
                "{extra}"
            );
        }
    }

    #[test]
    fn entries_unfit_for_signatures_are_skipped() {
        let allowed = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];
        let unfit = [
            (jwk(RSA_B, json!({"kid": "enc", "use": "enc"})), "`use`"),
            (jwk(RSA_B, json!({"kid": "use-number", "use": 1})), "`use`"),
            (
                jwk(RSA_B, json!({"kid": "ops", "key_ops": ["encrypt"]})),
                "`key_ops`",
            ),
            (
                jwk(RSA_B, json!({"kid": "ops-bad", "key_ops": "verify"})),
                "`key_ops`",
            ),
            (
                jwk(EC_P256, json!({"kid": "private", "d": "c2VjcmV0"})),
                "private",
            ),
            (
                jwk(RSA_B, json!({"kid": "private-p", "p": "c2VjcmV0"})),
                "private",
            ),
            (
                json!({"kid": "oct", "kty": "oct", "k": "c2VjcmV0"}),
                "symmetric",
            ),
            (jwk(RSA_1024, json!({"kid": "weak"})), "1024 bits"),
            (
                json!({"kid": "p521", "kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}),
                "curve",
            ),
            (
                json!({"kid": "k1", "kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}),
                "curve",
            ),
            (
                json!({"kid": "x448", "kty": "OKP", "crv": "X448", "x": "AA"}),
                "curve",
            ),
            (
                json!({"kid": "short-x", "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}),
                "bytes",
            ),
            (
                json!({"kid": "broken", "kty": "RSA", "n": 12, "e": "AQAB"}),
                "RSA",
            ),
            (json!({"kid": "no-n", "kty": "RSA", "e": "AQAB"}), "RSA"),
            (
                json!({"kid": "bad-n", "kty": "RSA", "n": "!!", "e": "AQAB"}),
                "base64url",
            ),
            (json!({"kid": "unknown-kty", "kty": "DSA"}), "not supported"),
            (json!({"kid": "no-kty"}), "`kty`"),
            (json!({"kid": 5, "kty": "RSA"}), "`kid`"),
            (json!("not an object"), "object"),
        ];
        for (entry, reason) in &unfit {
            match usable_entry(entry, &allowed) {
                Err(message) => assert!(message.contains(reason), "{entry}: {message}"),
                Ok(_) => panic!("{entry} was accepted"),
            }
        }
        let entries: Vec<Value> = unfit.iter().map(|(entry, _)| entry.clone()).collect();
        assert!(matches!(
            set(entries.clone(), &allowed),
            Err(JwksError::NoUsableKeys)
        ));
        let mut keys = entries;
        keys.push(jwk(
            RSA_A,
            json!({"kid": "good", "use": "sig", "key_ops": ["verify"]}),
        ));
        let set = set(keys, &allowed).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].kid(), Some("good"));
    }

    #[test]
    fn skipped_entries_and_repeated_kids_are_noted_by_kid() {
        let body = serde_json::to_vec(&json!({ "keys": [
            jwk(RSA_A, json!({"kid": "a", "alg": "RS256"})),
            jwk(RSA_B, json!({"kid": "a", "alg": "RS256"})),
            jwk(RSA_B, json!({"kid": "enc", "use": "enc"})),
            json!({"kty": "oct", "k": "c2VjcmV0"}),
        ]}))
        .unwrap();
        let loaded = parse_key_set(&body, &[Algorithm::RS256]).unwrap();
        assert_eq!(loaded.keys.len(), 2);
        assert_eq!(loaded.notes.len(), 3, "{:?}", loaded.notes);
        assert!(loaded.notes[0].contains("kid \"enc\""));
        assert!(loaded.notes[1].contains("no kid"));
        assert!(loaded.notes[2].contains("kid \"a\" appears more than once"));
        // Private material is named, never shown.
        assert!(loaded.notes.iter().all(|note| !note.contains("c2VjcmV0")));
    }

    #[test]
    fn a_token_without_kid_needs_exactly_one_key_for_its_algorithm() {
        let allowed = [Algorithm::RS256, Algorithm::ES256];
        let one = set(
            vec![
                jwk(RSA_A, json!({"kid": "a", "alg": "RS256"})),
                jwk(EC_P256, json!({"kid": "e"})),
            ],
            &allowed,
        )
        .unwrap();
        assert_eq!(
            found(&one, None, Algorithm::RS256).unwrap().kid(),
            Some("a")
        );
        let two = set(
            vec![
                jwk(RSA_A, json!({"kid": "a", "alg": "RS256"})),
                jwk(RSA_B, json!({"kid": "b", "alg": "RS256"})),
            ],
            &allowed,
        )
        .unwrap();
        assert!(matches!(
            two.find(None, Algorithm::RS256),
            Lookup::Ambiguous
        ));
        assert!(found(&two, Some("b"), Algorithm::RS256).is_some());
    }

    #[test]
    fn a_kid_repeated_for_one_algorithm_is_ambiguous() {
        let set = set(
            vec![
                jwk(RSA_A, json!({"kid": "dup", "alg": "RS256"})),
                jwk(RSA_B, json!({"kid": "dup", "alg": "RS256"})),
            ],
            &[Algorithm::RS256],
        )
        .unwrap();
        assert!(matches!(
            set.find(Some("dup"), Algorithm::RS256),
            Lookup::Ambiguous
        ));
    }

    #[test]
    fn documents_that_are_not_key_sets_are_fetch_failures() {
        let allowed = [Algorithm::RS256];
        assert!(matches!(
            parse_key_set(b"<html>", &allowed),
            Err(JwksError::Fetch(_))
        ));
        assert!(matches!(
            parse_key_set(b"{}", &allowed),
            Err(JwksError::Fetch(_))
        ));
        assert!(matches!(
            parse_key_set(br#"{"keys": {}}"#, &allowed),
            Err(JwksError::Fetch(_))
        ));
        assert!(matches!(
            parse_key_set(br#"{"keys": []}"#, &allowed),
            Err(JwksError::NoUsableKeys)
        ));
    }

    #[test]
    fn bit_length_counts_significant_bits() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f; 256]), 2047);
    }

    #[test]
    fn messages_shorten_kids() {
        let long = "k".repeat(10_000);
        let message = JwksError::UnknownKid { kid: Some(long) }.to_string();
        assert!(message.len() < 200, "{message}");
        assert_eq!(
            JwksError::UnknownKid { kid: None }.to_string(),
            "no usable key for a token without kid and this algorithm"
        );
    }

    #[test]
    fn state_rules_pace_refetches() {
        let now = Instant::now();
        let cooldown = Duration::from_secs(30);
        let mut state = KeySetState::default();
        assert!(state.may_refetch_expired(now, cooldown));
        assert!(state.may_refetch_unknown(now, cooldown));
        state.last_attempt = Some(Attempt {
            at: now,
            error: None,
        });
        assert!(state.may_refetch_expired(now, cooldown));
        assert!(!state.may_refetch_unknown(now, cooldown));
        assert!(state.may_refetch_unknown(now + cooldown, cooldown));
        state.last_attempt = Some(Attempt {
            at: now,
            error: Some("down".into()),
        });
        assert!(!state.may_refetch_expired(now, cooldown));
        assert!(state.may_refetch_expired(now + cooldown, cooldown));
    }
}
