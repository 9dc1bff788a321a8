//! The JWKS key cache against a real HTTP server on 127.0.0.1, started and stopped by each test.
//!
//! The server is a small HTTP/1.1 responder on a tokio `TcpListener`: it counts requests, and the
//! test switches what it answers (a key set, 500, a hang, garbage, `{}`, an empty set, a redirect,
//! a 10 MB body, a slow drip). Keys are the fixed test vectors in `tests/keys/`; tokens are signed
//! with their private PEMs and verified with the keys the cache hands out.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_runtime::jwks::{Jwks, JwksConfig, JwksError};
use jwt_runtime::keys::VerifyKey;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

const TTL: Duration = Duration::from_millis(200);
const COOLDOWN: Duration = Duration::from_millis(300);
const TIMEOUT: Duration = Duration::from_millis(250);
const STALE: Duration = Duration::from_millis(800);
const MARGIN: Duration = Duration::from_millis(60);

const RSA_A_JWK: &str = include_str!("keys/rsa_a.jwk.json");
const RSA_B_JWK: &str = include_str!("keys/rsa_b.jwk.json");
const RSA_1024_JWK: &str = include_str!("keys/rsa_1024.jwk.json");
const EC_P256_JWK: &str = include_str!("keys/ec_p256.jwk.json");
const ED25519_JWK: &str = include_str!("keys/ed25519.jwk.json");
const RSA_A_PEM: &str = include_str!("keys/rsa_a.pem");
const RSA_B_PEM: &str = include_str!("keys/rsa_b.pem");
const EC_P256_PEM: &str = include_str!("keys/ec_p256.pem");

// ---------------------------------------------------------------------------------------------
// The test server.

/// What the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// 200 with the current key set.
    Keys,
    /// 500 Internal Server Error.
    Error500,
    /// Reads the request and never answers.
    Hang,
    /// 200 with an HTML body.
    Garbage,
    /// 200 with `{}`.
    EmptyObject,
    /// 200 with `{"keys":[]}`.
    EmptyKeys,
    /// 302 to `/moved`, which would serve the key set.
    Redirect,
    /// 200 with 10 MB of body and no `Content-Length` (ends when the connection closes).
    Huge,
    /// 200 with 10 MB of body and its `Content-Length`.
    HugeDeclared,
    /// 200 with the key set, one byte every 20 ms.
    SlowDrip,
}

struct Shared {
    reply: Mutex<Reply>,
    keys: Mutex<String>,
    delay: Mutex<Duration>,
    hits: AtomicUsize,
}

struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(keys: &[Value]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            reply: Mutex::new(Reply::Keys),
            keys: Mutex::new(key_set(keys)),
            delay: Mutex::new(Duration::ZERO),
            hits: AtomicUsize::new(0),
        });
        let state = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            // Connections live in this set: aborting the server task aborts them all.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            connections.spawn(serve(stream, Arc::clone(&state)));
                        }
                        Err(_) => break,
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Server { addr, shared, task }
    }

    fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    fn reply(&self, reply: Reply) {
        *self.shared.reply.lock().unwrap() = reply;
    }

    fn keys(&self, keys: &[Value]) {
        *self.shared.keys.lock().unwrap() = key_set(keys);
    }

    fn delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }

    fn stop(self) {
        self.task.abort();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one request on `stream`, then closes it.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 2048];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    shared.hits.fetch_add(1, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&request);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let reply = if path == "/moved" {
        Reply::Keys
    } else {
        *shared.reply.lock().unwrap()
    };
    let delay = *shared.delay.lock().unwrap();
    let keys = shared.keys.lock().unwrap().clone();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let json = "application/json";
    let _ = match reply {
        Reply::Keys => write_response(&mut stream, "200 OK", json, keys.as_bytes()).await,
        Reply::Error500 => {
            write_response(
                &mut stream,
                "500 Internal Server Error",
                "text/plain",
                b"oops",
            )
            .await
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        }
        Reply::Garbage => {
            write_response(&mut stream, "200 OK", "text/html", b"<html>no keys</html>").await
        }
        Reply::EmptyObject => write_response(&mut stream, "200 OK", json, b"{}").await,
        Reply::EmptyKeys => write_response(&mut stream, "200 OK", json, br#"{"keys":[]}"#).await,
        Reply::Redirect => {
            let head = "HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 0\r\n\
                        Connection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await
        }
        Reply::Huge => write_huge(&mut stream, false).await,
        Reply::HugeDeclared => write_huge(&mut stream, true).await,
        Reply::SlowDrip => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {json}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                keys.len()
            );
            let mut result = stream.write_all(head.as_bytes()).await;
            for byte in keys.as_bytes() {
                if result.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                result = stream.write_all(&[*byte]).await;
            }
            result
        }
    };
    let _ = stream.shutdown().await;
}

async fn write_response(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await
}

/// 10 MB: `{"keys":[` and spaces, stopping when the client hangs up.
async fn write_huge(stream: &mut TcpStream, declared: bool) -> std::io::Result<()> {
    const SIZE: usize = 10 * 1024 * 1024;
    let length = if declared {
        format!("Content-Length: {SIZE}\r\n")
    } else {
        String::new()
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(br#"{"keys":["#).await?;
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 9;
    while sent < SIZE {
        let n = chunk.len().min(SIZE - sent);
        stream.write_all(&chunk[..n]).await?;
        sent += n;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Keys, tokens and configuration.

/// A test JWK with `extra` members (kid, alg, use, ...) added.
fn jwk(base: &str, extra: Value) -> Value {
    let mut value: Value = serde_json::from_str(base).unwrap();
    let object = value.as_object_mut().unwrap();
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

fn key_set(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
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

fn config(server: &Server) -> JwksConfig {
    JwksConfig {
        url: server.url(),
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
    let server = Server::start(&[rsa_a("a"), ec("e")]).await;
    let jwks = Jwks::new(config(&server)).unwrap();
    assert_eq!(jwks.generation(), 0);
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_none());

    let a = jwks.key(Some("a"), Algorithm::RS256).await.unwrap();
    assert_eq!(server.hits(), 1);
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
    assert_eq!(server.hits(), 1);

    // Refreshing an unchanged set does not move the generation.
    assert_eq!(jwks.refresh().await.unwrap(), 2);
    assert_eq!(server.hits(), 2);
    assert_eq!(jwks.generation(), 1);
    server.stop();
}

#[tokio::test]
async fn a_token_without_kid_needs_exactly_one_key_for_its_algorithm() {
    let server = Server::start(&[rsa_a("a"), ec("e")]).await;
    let jwks = Jwks::new(config(&server)).unwrap();
    let key = jwks.key(None, Algorithm::RS256).await.unwrap();
    assert!(verifies(&token(RSA_A_PEM, Algorithm::RS256, None), &key));

    server.keys(&[rsa_a("a"), rsa_b("b")]);
    jwks.refresh().await.unwrap();
    assert!(matches!(
        jwks.key(None, Algorithm::RS256).await,
        Err(JwksError::AmbiguousKey)
    ));
    assert!(jwks.key(Some("b"), Algorithm::RS256).await.is_ok());

    // The same kid twice for one algorithm is refused, not resolved by order.
    server.keys(&[rsa_a("dup"), rsa_b("dup")]);
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
    let server = Server::start(&[rsa_a("a")]).await;
    let jwks = Jwks::new(JwksConfig {
        cache_ttl: Duration::from_secs(60),
        ..config(&server)
    })
    .unwrap();
    assert_eq!(jwks.refresh().await.unwrap(), 1);
    assert_eq!(jwks.generation(), 1);

    server.keys(&[rsa_a("a"), rsa_b("b")]);
    // Within the cooldown of the last fetch, the new kid is not fetched for.
    assert!(matches!(
        jwks.key(Some("b"), Algorithm::RS256).await,
        Err(JwksError::UnknownKid { .. })
    ));
    assert_eq!(server.hits(), 1);

    tokio::time::sleep(COOLDOWN + MARGIN).await;
    let b = jwks.key(Some("b"), Algorithm::RS256).await.unwrap();
    assert_eq!(server.hits(), 2);
    assert_eq!(jwks.generation(), 2);
    assert!(verifies(&token(RSA_B_PEM, Algorithm::RS256, Some("b")), &b));
    // The old key still works, from the cache.
    let a = jwks.key(Some("a"), Algorithm::RS256).await.unwrap();
    assert!(verifies(&token(RSA_A_PEM, Algorithm::RS256, Some("a")), &a));
    assert_eq!(server.hits(), 2);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_unknown_kids_costs_at_most_one_fetch_per_cooldown() {
    let server = Server::start(&[rsa_a("a")]).await;
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
    assert_eq!(server.hits(), 2);

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
    let later_fetches = server.hits() - 2;
    assert!(
        (1..=windows).contains(&later_fetches),
        "{later_fetches} fetches in {windows} cooldown windows after the burst"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_start_calls_share_one_fetch() {
    let server = Server::start(&[rsa_a("a")]).await;
    server.delay(Duration::from_millis(100));
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
    assert_eq!(server.hits(), 1);
    assert!(keys.iter().all(|key| Arc::ptr_eq(key, &keys[0])));
    server.stop();
}

/// With the endpoint answering `reply`: stale keys serve known kids, unknown kids are refused,
/// then after the stale window the cache fails closed, and recovers once the endpoint does.
async fn stale_keys_then_fail_closed(reply: Reply) {
    let server = Server::start(&[rsa_a("a")]).await;
    let jwks = Jwks::new(config(&server)).unwrap();
    jwks.refresh().await.unwrap();
    let fetched = Instant::now();
    let token_a = token(RSA_A_PEM, Algorithm::RS256, Some("a"));

    server.reply(reply);
    // Expired: the next lookup refetches, fails, and serves the last good key.
    tokio::time::sleep(TTL + MARGIN).await;
    let a = jwks.key(Some("a"), Algorithm::RS256).await.unwrap();
    assert!(verifies(&token_a, &a));
    // One request per fetch: a redirect is not followed.
    assert_eq!(server.hits(), 2, "{reply:?}");
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_some());
    // An unknown kid is never served, and the cooldown holds back another fetch.
    assert!(matches!(
        jwks.key(Some("z"), Algorithm::RS256).await,
        Err(JwksError::UnknownKid { .. })
    ));
    assert!(jwks.key(Some("a"), Algorithm::RS256).await.is_ok());
    assert_eq!(server.hits(), 2, "{reply:?}");
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
    server.reply(Reply::Keys);
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
    let server = Server::start(&[rsa_a("a")]).await;
    let jwks = Jwks::new(config(&server)).unwrap();
    for (reply, expected) in [
        (Reply::Error500, "500"),
        (Reply::Redirect, "redirect"),
        (Reply::Garbage, "not JSON"),
        (Reply::EmptyObject, "`keys`"),
    ] {
        server.reply(reply);
        match jwks.refresh().await {
            Err(JwksError::Fetch(message)) => assert!(message.contains(expected), "{message}"),
            other => panic!("{reply:?}: {other:?}"),
        }
    }
    server.reply(Reply::EmptyKeys);
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
    let server = Server::start(&[rsa_a("a"), rsa_b("b")]).await;
    let jwks = Jwks::new(config(&server)).unwrap();
    jwks.refresh().await.unwrap();
    assert_eq!(jwks.generation(), 1);

    // Key `a` is compromised and withdrawn from the set.
    server.keys(&[rsa_b("b")]);
    tokio::time::sleep(TTL + MARGIN).await;
    assert!(matches!(
        jwks.key(Some("a"), Algorithm::RS256).await,
        Err(JwksError::UnknownKid { .. })
    ));
    assert_eq!(server.hits(), 2);
    assert_eq!(jwks.generation(), 2);
    assert!(jwks.cached_key(Some("a"), Algorithm::RS256).is_none());
    assert!(jwks.key(Some("b"), Algorithm::RS256).await.is_ok());
    assert_eq!(server.hits(), 2);
    server.stop();
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = Server::start(&[rsa_a("a")]).await;
    // A long timeout, so only the size cap can stop the fetch quickly.
    let jwks = Jwks::new(JwksConfig {
        timeout: Duration::from_secs(5),
        ..config(&server)
    })
    .unwrap();
    for reply in [Reply::Huge, Reply::HugeDeclared] {
        server.reply(reply);
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
    let server = Server::start(&[rsa_a("a")]).await;
    server.reply(Reply::SlowDrip);
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
    let server = Server::start(&keys).await;
    let jwks = Jwks::new(config(&server)).unwrap();
    assert!(matches!(jwks.refresh().await, Err(JwksError::NoUsableKeys)));

    keys.push(rsa_a("a"));
    server.keys(&keys);
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
    let server = Server::start(&[rsa_a("a")]).await;
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
    assert!(server.url().starts_with("http://127.0.0.1:"));
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
