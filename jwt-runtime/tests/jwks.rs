//! The JWKS key cache against a real HTTP server on 127.0.0.1, started and stopped by each test.
//!
//! The server is the workspace's shared JWKS test server (`tests/common/jwks_server/server.rs`):
//! it counts requests, and the test switches what it answers (a key set, 500, a hang, garbage,
//! `{}`, an empty set, a redirect, a 10 MB body, a slow drip). Keys are the fixed test vectors of
//! the workspace's `testdata/`; tokens are signed with their private PEMs and verified with the
//! keys the cache hands out.

#[path = "../../tests/common/jwks_server/server.rs"]
mod jwks_server;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwks_server::{JwksServer, Reply};
use rocket_flask_jwt_runtime::testing::VerifyKey;
use rocket_flask_jwt_runtime::testing::{Jwks, JwksConfig, JwksError};
use serde_json::{json, Value};
use tokio::task::JoinSet;

const TTL: Duration = Duration::from_millis(200);
const COOLDOWN: Duration = Duration::from_millis(300);
const TIMEOUT: Duration = Duration::from_millis(250);
const STALE: Duration = Duration::from_millis(800);
const MARGIN: Duration = Duration::from_millis(60);

// The keys of the workspace's `testdata/`: RSA 2048 (`rsa`, `rsa2`), RSA 1024, EC P-256, Ed25519.
const RSA_A_JWK: &str = include_str!("../../testdata/keys/rsa_public.jwk.json");
const RSA_B_JWK: &str = include_str!("../../testdata/jwks/rsa2_public.jwk.json");
const RSA_1024_JWK: &str = include_str!("../../testdata/jwks/rsa1024_public.jwk.json");
const EC_P256_JWK: &str = include_str!("../../testdata/jwks/ec_public.jwk.json");
const ED25519_JWK: &str = include_str!("../../testdata/jwks/ed_public.jwk.json");
const RSA_A_PEM: &str = include_str!("../../testdata/keys/rsa_private.pem");
const RSA_B_PEM: &str = include_str!("../../testdata/keys/rsa2_private.pem");
const EC_P256_PEM: &str = include_str!("../../testdata/keys/ec_private.pem");

// ---------------------------------------------------------------------------------------------
// Keys, tokens and configuration.

/// A test JWK: `base`'s key material without its `kid`, `alg` and `use`, with `extra` members
/// (kid, alg, use, ...) added.
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

fn rsa_a(kid: &str) -> Value {
    jwk(RSA_A_JWK, json!({"kid": kid, "alg": "RS256", "use": "sig"}))
}

fn rsa_b(kid: &str) -> Value {
    jwk(RSA_B_JWK, json!({"kid": kid, "alg": "RS256", "use": "sig"}))
}

fn ec(kid: &str) -> Value {
    jwk(EC_P256_JWK, json!({"kid": kid, "use": "sig"}))
}

/// A token signed with `pem` for `alg`, with `kid` in its header.
fn token(pem: &str, alg: Algorithm, kid: Option<&str>) -> String {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    jsonwebtoken::encode(&header, &json!({"sub": "alice", "exp": exp}), &key).unwrap()
}

/// Whether `token`'s signature verifies under `key` with the key's own algorithm.
fn verifies(token: &str, key: &VerifyKey) -> bool {
    let (message, signature) = token.rsplit_once('.').expect("three segments");
    URL_SAFE_NO_PAD
        .decode(signature)
        .is_ok_and(|signature| key.verify(message.as_bytes(), &signature))
}

fn config(server: &JwksServer) -> JwksConfig {
    JwksConfig {
        url: server.jwks_url(),
        cache_ttl: TTL,
        cooldown: COOLDOWN,
        timeout: TIMEOUT,
        max_bytes: 256 * 1024,
        stale_for: STALE,
        algorithms: vec![Algorithm::RS256, Algorithm::ES256],
    }
}

fn random_kid(i: usize) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("made-up-{i}-{nanos}")
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn cold_fetch_serves_keys_that_verify_real_tokens() {
    let server = JwksServer::start(&[rsa_a("a"), ec("e")]);
    let jwks = Jwks::new(config(&server)).unwrap();
    assert_eq!(jwks.generation(), 0);
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_none());

    let a = jwks.key(Some("a"), Algorithm::RS256).await.unwrap();
    assert_eq!(server.total_hits(), 1);
    assert_eq!(jwks.generation(), 1);
    assert_eq!(a.kid(), Some("a"));
    assert_eq!(a.algorithm(), Algorithm::RS256);
    assert!(verifies(&token(RSA_A_PEM, Algorithm::RS256, Some("a")), &a));
    // A token signed by another key under the same kid does not verify.
    assert!(!verifies(
        &token(RSA_B_PEM, Algorithm::RS256, Some("a")),
        &a
    ));

    let e = jwks.key(Some("e"), Algorithm::ES256).await.unwrap();
    assert!(verifies(
        &token(EC_P256_PEM, Algorithm::ES256, Some("e")),
        &e
    ));
    // A kid is bound to its algorithm only, and the error names the algorithms it is bound to.
    match jwks.key(Some("a"), Algorithm::ES256).await {
        Err(JwksError::AlgorithmMismatch { kid, bound }) => {
            assert_eq!(kid, "a");
            assert!(bound.contains(&Algorithm::RS256), "{bound:?}");
        }
        other => panic!("expected an algorithm mismatch, got {other:?}"),
    }
    assert!(matches!(
        jwks.key(Some("zz"), Algorithm::ES256).await,
        Err(JwksError::UnknownKid { .. })
    ));
    // An algorithm outside the configuration never reaches the key set.
    assert!(matches!(
        jwks.key(Some("a"), Algorithm::HS256).await,
        Err(JwksError::DisallowedAlgorithm(Algorithm::HS256))
    ));
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_some());
    assert_eq!(server.total_hits(), 1);

    // Refreshing an unchanged set does not move the generation.
    assert_eq!(jwks.refresh().await.unwrap(), 2);
    assert_eq!(server.total_hits(), 2);
    assert_eq!(jwks.generation(), 1);
    server.stop();
}

#[tokio::test]
async fn a_token_without_kid_needs_exactly_one_key_for_its_algorithm() {
    let server = JwksServer::start(&[rsa_a("a"), ec("e")]);
    let jwks = Jwks::new(config(&server)).unwrap();
    let key = jwks.key(None, Algorithm::RS256).await.unwrap();
    assert!(verifies(&token(RSA_A_PEM, Algorithm::RS256, None), &key));

    server.set_keys(&[rsa_a("a"), rsa_b("b")]);
    jwks.refresh().await.unwrap();
    assert!(matches!(
        jwks.key(None, Algorithm::RS256).await,
        Err(JwksError::AmbiguousKey)
    ));
    assert!(jwks.key(Some("b"), Algorithm::RS256).await.is_ok());

    // The same kid twice for one algorithm is refused, not resolved by order.
    server.set_keys(&[rsa_a("dup"), rsa_b("dup")]);
    jwks.refresh().await.unwrap();
    assert!(matches!(
        jwks.key(Some("dup"), Algorithm::RS256).await,
        Err(JwksError::AmbiguousKey)
    ));
    assert!(jwks.cached_key(Some("dup"), Algorithm::RS256).is_none());
    assert!(matches!(
        jwks.cached_lookup(Some("dup"), Algorithm::RS256),
        Err(JwksError::AmbiguousKey)
    ));
    assert!(matches!(
        jwks.cached_lookup(Some("nope"), Algorithm::RS256),
        Err(JwksError::UnknownKid { .. })
    ));
    server.stop();
}

#[tokio::test]
async fn rotation_accepts_a_new_kid_after_one_refetch() {
    let server = JwksServer::start(&[rsa_a("a")]);
    let jwks = Jwks::new(JwksConfig {
        cache_ttl: Duration::from_secs(60),
        ..config(&server)
    })
    .unwrap();
    assert_eq!(jwks.refresh().await.unwrap(), 1);
    assert_eq!(jwks.generation(), 1);

    server.set_keys(&[rsa_a("a"), rsa_b("b")]);
    // Within the cooldown of the last fetch, the new kid is not fetched for.
    assert!(matches!(
        jwks.key(Some("b"), Algorithm::RS256).await,
        Err(JwksError::UnknownKid { .. })
    ));
    assert_eq!(server.total_hits(), 1);

    tokio::time::sleep(COOLDOWN + MARGIN).await;
    let b = jwks.key(Some("b"), Algorithm::RS256).await.unwrap();
    assert_eq!(server.total_hits(), 2);
    assert_eq!(jwks.generation(), 2);
    assert!(verifies(&token(RSA_B_PEM, Algorithm::RS256, Some("b")), &b));
    // The old key still works, from the cache.
    let a = jwks.key(Some("a"), Algorithm::RS256).await.unwrap();
    assert!(verifies(&token(RSA_A_PEM, Algorithm::RS256, Some("a")), &a));
    assert_eq!(server.total_hits(), 2);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_unknown_kids_costs_at_most_one_fetch_per_cooldown() {
    let server = JwksServer::start(&[rsa_a("a")]);
    let jwks = Arc::new(
        Jwks::new(JwksConfig {
            cache_ttl: Duration::from_secs(60),
            ..config(&server)
        })
        .unwrap(),
    );
    jwks.refresh().await.unwrap();
    tokio::time::sleep(COOLDOWN + MARGIN).await;

    // 50 concurrent unknown kids: one fetch.
    let burst_start = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..50 {
        let jwks = Arc::clone(&jwks);
        tasks.spawn(async move { jwks.key(Some(&random_kid(i)), Algorithm::RS256).await });
    }
    while let Some(result) = tasks.join_next().await {
        assert!(matches!(result.unwrap(), Err(JwksError::UnknownKid { .. })));
    }
    assert_eq!(server.total_hits(), 2);

    // Then a steady stream of unknown kids for more than two cooldowns, while the known kid keeps
    // working: at most one fetch per cooldown window.
    let mut i = 50;
    while burst_start.elapsed() < COOLDOWN * 5 / 2 {
        for _ in 0..5 {
            i += 1;
            assert!(jwks
                .key(Some(&random_kid(i)), Algorithm::RS256)
                .await
                .is_err());
        }
        assert!(jwks.key(Some("a"), Algorithm::RS256).await.is_ok());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let windows = (burst_start.elapsed().as_millis() / COOLDOWN.as_millis()) as usize;
    let later_fetches = server.total_hits() - 2;
    assert!(
        (1..=windows).contains(&later_fetches),
        "{later_fetches} fetches in {windows} cooldown windows after the burst"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_start_calls_share_one_fetch() {
    let server = JwksServer::start(&[rsa_a("a")]);
    server.set_delay(Duration::from_millis(100));
    let jwks = Arc::new(Jwks::new(config(&server)).unwrap());
    let mut tasks = JoinSet::new();
    for _ in 0..100 {
        let jwks = Arc::clone(&jwks);
        tasks.spawn(async move { jwks.key(Some("a"), Algorithm::RS256).await });
    }
    let mut keys = Vec::new();
    while let Some(result) = tasks.join_next().await {
        keys.push(result.unwrap().unwrap());
    }
    assert_eq!(keys.len(), 100);
    assert_eq!(server.total_hits(), 1);
    assert!(keys.iter().all(|key| Arc::ptr_eq(key, &keys[0])));
    server.stop();
}

/// With the endpoint answering `reply`: stale keys serve known kids, unknown kids are refused,
/// then after the stale window the cache fails closed, and recovers once the endpoint does.
async fn stale_keys_then_fail_closed(reply: Reply) {
    let server = JwksServer::start(&[rsa_a("a")]);
    let jwks = Jwks::new(config(&server)).unwrap();
    jwks.refresh().await.unwrap();
    let fetched = Instant::now();
    let token_a = token(RSA_A_PEM, Algorithm::RS256, Some("a"));

    server.set_reply(reply);
    // Expired: the next lookup refetches, fails, and serves the last good key.
    tokio::time::sleep(TTL + MARGIN).await;
    let a = jwks.key(Some("a"), Algorithm::RS256).await.unwrap();
    assert!(verifies(&token_a, &a));
    // One request per fetch: a redirect is not followed.
    assert_eq!(server.total_hits(), 2, "{reply:?}");
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_some());
    // An unknown kid is never served, and the cooldown holds back another fetch.
    assert!(matches!(
        jwks.key(Some("z"), Algorithm::RS256).await,
        Err(JwksError::UnknownKid { .. })
    ));
    assert!(jwks.key(Some("a"), Algorithm::RS256).await.is_ok());
    assert_eq!(server.total_hits(), 2, "{reply:?}");
    assert_eq!(jwks.generation(), 1);

    // Past the stale window: fail closed.
    let closed = (TTL + STALE + MARGIN).saturating_sub(fetched.elapsed());
    tokio::time::sleep(closed).await;
    assert!(matches!(
        jwks.key(Some("a"), Algorithm::RS256).await,
        Err(JwksError::Unavailable(_))
    ));
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_none());
    assert!(jwks.key(Some("z"), Algorithm::RS256).await.is_err());

    // The endpoint recovers: after the cooldown the next lookup fetches again.
    server.set_reply(Reply::Keys);
    tokio::time::sleep(COOLDOWN + MARGIN).await;
    assert!(jwks.key(Some("a"), Algorithm::RS256).await.is_ok());
    server.stop();
}

#[tokio::test]
async fn endpoint_error_500_serves_stale_then_fails_closed() {
    stale_keys_then_fail_closed(Reply::Error500).await;
}

#[tokio::test]
async fn endpoint_hanging_serves_stale_then_fails_closed() {
    stale_keys_then_fail_closed(Reply::Hang).await;
}

#[tokio::test]
async fn endpoint_garbage_serves_stale_then_fails_closed() {
    stale_keys_then_fail_closed(Reply::Garbage).await;
}

#[tokio::test]
async fn endpoint_empty_object_serves_stale_then_fails_closed() {
    stale_keys_then_fail_closed(Reply::EmptyObject).await;
}

#[tokio::test]
async fn endpoint_empty_key_set_serves_stale_then_fails_closed() {
    stale_keys_then_fail_closed(Reply::EmptyKeys).await;
}

#[tokio::test]
async fn endpoint_redirect_serves_stale_then_fails_closed() {
    stale_keys_then_fail_closed(Reply::Redirect).await;
}

#[tokio::test]
async fn failed_fetches_report_what_went_wrong() {
    let server = JwksServer::start(&[rsa_a("a")]);
    let jwks = Jwks::new(config(&server)).unwrap();
    for (reply, expected) in [
        (Reply::Error500, "500"),
        (Reply::Redirect, "redirect"),
        (Reply::Garbage, "not JSON"),
        (Reply::EmptyObject, "`keys`"),
    ] {
        server.set_reply(reply);
        match jwks.refresh().await {
            Err(JwksError::Fetch(message)) => assert!(message.contains(expected), "{message}"),
            other => panic!("{reply:?}: {other:?}"),
        }
    }
    server.set_reply(Reply::EmptyKeys);
    assert!(matches!(jwks.refresh().await, Err(JwksError::NoUsableKeys)));
    // Never a good fetch: unavailable, and the failures were not cached as a key set.
    assert!(matches!(
        jwks.key(Some("a"), Algorithm::RS256).await,
        Err(JwksError::Unavailable(_))
    ));
    assert_eq!(jwks.generation(), 0);
    server.stop();
}

#[tokio::test]
async fn a_removed_key_is_refused_once_the_cache_expires() {
    let server = JwksServer::start(&[rsa_a("a"), rsa_b("b")]);
    let jwks = Jwks::new(config(&server)).unwrap();
    jwks.refresh().await.unwrap();
    assert_eq!(jwks.generation(), 1);

    // Key `a` is compromised and withdrawn from the set.
    server.set_keys(&[rsa_b("b")]);
    tokio::time::sleep(TTL + MARGIN).await;
    assert!(matches!(
        jwks.key(Some("a"), Algorithm::RS256).await,
        Err(JwksError::UnknownKid { .. })
    ));
    assert_eq!(server.total_hits(), 2);
    assert_eq!(jwks.generation(), 2);
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_none());
    assert!(jwks.key(Some("b"), Algorithm::RS256).await.is_ok());
    assert_eq!(server.total_hits(), 2);
    server.stop();
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = JwksServer::start(&[rsa_a("a")]);
    // A long timeout, so only the size cap can stop the fetch quickly.
    let jwks = Jwks::new(JwksConfig {
        timeout: Duration::from_secs(5),
        ..config(&server)
    })
    .unwrap();
    for reply in [Reply::Huge, Reply::HugeDeclared] {
        server.set_reply(reply);
        let started = Instant::now();
        match jwks.refresh().await {
            Err(JwksError::Fetch(message)) => {
                assert!(message.contains("exceeds"), "{reply:?}: {message}")
            }
            other => panic!("{reply:?}: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2), "{reply:?}");
    }
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_none());
    server.stop();
}

#[tokio::test]
async fn a_slow_drip_is_refused_by_the_whole_fetch_timeout() {
    let server = JwksServer::start(&[rsa_a("a")]);
    server.set_reply(Reply::SlowDrip);
    let jwks = Jwks::new(config(&server)).unwrap();
    let started = Instant::now();
    assert!(matches!(jwks.refresh().await, Err(JwksError::Fetch(_))));
    let elapsed = started.elapsed();
    // Headers come at once and a byte every 20 ms: only a timeout on the whole fetch stops it.
    assert!(
        elapsed >= TIMEOUT - Duration::from_millis(10),
        "{elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert!(matches!(
        jwks.key(Some("a"), Algorithm::RS256).await,
        Err(JwksError::Unavailable(_))
    ));
    server.stop();
}

#[tokio::test]
async fn skipped_entries_are_never_selectable() {
    let unfit = [
        ("enc", jwk(RSA_B_JWK, json!({"kid": "enc", "use": "enc"}))),
        (
            "verify-less",
            jwk(
                RSA_B_JWK,
                json!({"kid": "verify-less", "key_ops": ["sign"]}),
            ),
        ),
        (
            "private",
            jwk(EC_P256_JWK, json!({"kid": "private", "d": "c2VjcmV0"})),
        ),
        (
            "oct",
            json!({"kid": "oct", "kty": "oct", "alg": "HS256", "k": "c2VjcmV0"}),
        ),
        (
            "weak",
            jwk(RSA_1024_JWK, json!({"kid": "weak", "alg": "RS256"})),
        ),
        (
            "p521",
            json!({"kid": "p521", "kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}),
        ),
        // Ed25519 is fine, but EdDSA is not an allowed algorithm here.
        ("ed", jwk(ED25519_JWK, json!({"kid": "ed"}))),
        (
            "broken",
            json!({"kid": "broken", "kty": "RSA", "n": 42, "e": "AQAB"}),
        ),
    ];
    let mut keys: Vec<Value> = unfit.iter().map(|(_, entry)| entry.clone()).collect();
    let server = JwksServer::start(&keys);
    let jwks = Jwks::new(config(&server)).unwrap();
    assert!(matches!(jwks.refresh().await, Err(JwksError::NoUsableKeys)));

    keys.push(rsa_a("a"));
    server.set_keys(&keys);
    assert_eq!(jwks.refresh().await.unwrap(), 1);
    for (kid, _) in &unfit {
        for alg in [Algorithm::RS256, Algorithm::ES256] {
            assert!(
                matches!(
                    jwks.key(Some(kid), alg).await,
                    Err(JwksError::UnknownKid { .. })
                ),
                "{kid} {alg:?}"
            );
            assert!(jwks.cached_key(Some(kid), alg).is_none(), "{kid} {alg:?}");
        }
    }
    assert!(jwks.key(Some("a"), Algorithm::RS256).await.is_ok());
    server.stop();
}

#[tokio::test]
async fn new_refuses_plain_http_except_to_loopback() {
    let server = JwksServer::start(&[rsa_a("a")]);
    for url in [
        "http://example.com/.well-known/jwks.json",
        "http://192.168.1.10/.well-known/jwks.json",
        "ftp://127.0.0.1/jwks.json",
    ] {
        assert!(
            matches!(
                Jwks::new(JwksConfig {
                    url: url.into(),
                    ..config(&server)
                }),
                Err(JwksError::InvalidUrl(_))
            ),
            "{url}"
        );
    }
    for url in [
        "https://tenant.auth0.com/.well-known/jwks.json",
        "http://localhost:1/.well-known/jwks.json",
        "http://[::1]:1/.well-known/jwks.json",
    ] {
        assert!(
            Jwks::new(JwksConfig {
                url: url.into(),
                ..config(&server)
            })
            .is_ok(),
            "{url}"
        );
    }
    let jwks = Jwks::new(config(&server)).unwrap();
    assert!(server.jwks_url().starts_with("http://127.0.0.1:"));
    assert_eq!(jwks.refresh().await.unwrap(), 1);
    server.stop();
}

#[test]
fn for_authority_builds_the_jwks_url() {
    for authority in [
        "https://tenant.auth0.com/",
        "https://tenant.auth0.com",
        "tenant.auth0.com",
    ] {
        let config = JwksConfig::for_authority(authority);
        assert_eq!(
            config.url, "https://tenant.auth0.com/.well-known/jwks.json",
            "{authority}"
        );
        assert_eq!(config.cache_ttl, Duration::from_secs(600));
        assert!(Jwks::new(config).is_ok());
    }
}
