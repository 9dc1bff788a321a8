//! Revocation: the behaviour every store shares (the in-memory store and the Redis store on a
//! real `redis-server`), the Redis store's near-cache, and the check in the request pipeline
//! through Rocket's local client (a verified-token cache hit included; both profiles' answers;
//! the blocklist callback; a store that fails or hangs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket::http::{Header, Status};
use rocket::local::blocking::Client;
use rocket::serde::json::{json, Value};
use rocket::{delete, get, post, routes};
use rocket_flask_jwt::{
    extended::Freshness, extended::JwtManager, identity::get_jwt, identity::get_jwt_identity,
    jwt_required, revocation::MemoryStore, revocation::RedisOptions, revocation::RedisStore,
    revocation::RevocationState, revocation::RevocationStore, revocation::Revoker,
    revocation::StoreError, Jwt, JwtResponse, Payload,
};

use crate::common::redis_server::RedisServer;
use crate::common::{claims, next_second, now, token_for};
use crate::programs::Program;

// ----- the behaviour every store shares ----------------------------------------------------------

/// What every [`RevocationStore`] does: tokens and subjects revoked independently, and
/// forgotten once their time is up.
pub(crate) async fn behaves_as_a_revocation_store(store: &dyn RevocationStore) {
    let now = now();
    let state = |subject: &'static str, jti: Option<&'static str>| store.state(subject, jti);
    assert_eq!(
        state("ann", Some("j1")).await.unwrap(),
        RevocationState::default()
    );
    store.revoke_token("ann", "j1", now + 60).await.unwrap();
    assert!(state("ann", Some("j1")).await.unwrap().token_revoked);
    assert!(!state("ann", Some("j2")).await.unwrap().token_revoked);
    assert!(
        !state("bob", Some("j1")).await.unwrap().token_revoked,
        "a jti is revoked for its subject only"
    );
    assert_eq!(state("ann", None).await.unwrap().subject_revoked_at, None);

    store.revoke_subject("ann", now, now + 60).await.unwrap();
    let ann = state("ann", Some("j2")).await.unwrap();
    assert_eq!(ann.subject_revoked_at, Some(now));
    assert!(ann.refuses(Some(now - 100)) && ann.refuses(Some(now)));
    assert!(
        !ann.refuses(Some(now + 1)),
        "a token issued later is accepted"
    );
    assert_eq!(state("bob", None).await.unwrap().subject_revoked_at, None);
    // A later revocation of the subject moves the time on.
    store
        .revoke_subject("ann", now + 5, now + 60)
        .await
        .unwrap();
    assert_eq!(
        state("ann", None).await.unwrap().subject_revoked_at,
        Some(now + 5)
    );

    // Subjects and jtis holding the key separators cannot reach another key.
    store.revoke_token("a}:t:b", "c", now + 60).await.unwrap();
    assert!(!state("a", Some("b}:t:c")).await.unwrap().token_revoked);
    assert!(!state("a}", Some("t:b}:t:c")).await.unwrap().token_revoked);
    assert!(state("a}:t:b", Some("c")).await.unwrap().token_revoked);

    // Kept until `until`, then forgotten (the store does not grow without bound).
    store.revoke_token("cy", "short", now + 1).await.unwrap();
    store.revoke_subject("dee", now, now + 1).await.unwrap();
    assert!(state("cy", Some("short")).await.unwrap().token_revoked);
    // Forgotten within two seconds (`until` is a whole second; Redis expires keys by the second).
    let started = Instant::now();
    loop {
        let token = state("cy", Some("short")).await.unwrap();
        let subject = state("dee", None).await.unwrap();
        if !token.token_revoked && subject.subject_revoked_at.is_none() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_millis(2_200),
            "still kept after {:?}: {token:?} {subject:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn the_memory_store_behaves_as_a_revocation_store() {
    let store = MemoryStore::new();
    behaves_as_a_revocation_store(&store).await;
    assert!(
        store.state_now("ann", Some("j1")).is_some(),
        "always answered locally"
    );
}

async fn the_redis_store_behaves_as_a_revocation_store() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url(), "test:", Duration::from_secs(2)).unwrap();
    behaves_as_a_revocation_store(&store).await;
    // The keys expire with the token: a revoked token's key has a TTL, none lives forever.
    let keys = redis.command("KEYS test:*");
    assert!(keys.contains("test:{YW5u}:t:ajE"), "{keys}");
    let ttl = redis.command("TTL test:{YW5u}:t:ajE");
    let ttl: i64 = ttl.trim().trim_start_matches(':').parse().unwrap();
    assert!((1..=60).contains(&ttl), "{ttl}");
}

async fn without_its_near_cache_the_redis_store_reads_redis_for_every_lookup() {
    let redis = RedisServer::start();
    let timeout = Duration::from_secs(2);
    let direct = RedisOptions {
        near_cache: false,
        ..RedisOptions::default()
    };
    let store = RedisStore::connect_with(&redis.url(), "direct:", timeout, &direct).unwrap();
    behaves_as_a_revocation_store(&store).await;
    let other = RedisStore::connect_with(&redis.url(), "direct:", timeout, &direct).unwrap();
    other.revoke_token("bob", "j9", now() + 60).await.unwrap();
    let before = redis.calls("mget");
    for _ in 0..10 {
        assert!(store.state("bob", Some("j9")).await.unwrap().token_revoked);
        assert_eq!(
            store.state_now("bob", Some("j9")),
            None,
            "never answered locally"
        );
    }
    assert_eq!(redis.calls("mget") - before, 10, "one MGET per lookup");
    assert!(!store.near_cache_live(), "no subscription is made");
}

fn with_the_near_cache_off_every_request_reads_redis_and_nothing_is_stale() {
    let redis = RedisServer::start();
    let app = || {
        configured(
            extended_builder().build().unwrap(),
            json!({"redis_url": redis.url(), "revocation_near_cache": false, "redis_key_prefix": "off:"}),
        )
    };
    let (a, b) = (app(), app());
    let (access, _) = tokens(&a);
    let lookups = || redis.calls("mget");
    let before = lookups();
    for _ in 0..5 {
        assert_eq!(call(&b, "GET", "/protected", &access).0, 200);
    }
    assert_eq!(
        lookups() - before,
        5,
        "one lookup per request, none answered locally"
    );
    assert_eq!(call(&a, "DELETE", "/logout", &access).0, 200);
    // No invalidation to wait for: B's very next request reads the revocation.
    assert_eq!(
        call(&b, "GET", "/protected", &access),
        (401, json!({"msg": "Token has been revoked"}))
    );
}

/// Waits (up to `limit`) for `condition`; whether it came true.
pub(crate) async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    condition()
}

/// Two stores of one server, their subscriptions live: `b` answers a warm lookup from its
/// near-cache, and a revocation made through `a` reaches it within a second.
pub(crate) async fn invalidates_across_stores(a: &RedisStore, b: &RedisStore) {
    assert!(
        eventually(Duration::from_secs(5), || a.near_cache_live()
            && b.near_cache_live())
        .await,
        "the subscriptions did not come up"
    );
    assert_eq!(b.state_now("ann", Some("j1")), None, "cold: not known yet");
    assert!(!b.state("ann", Some("j1")).await.unwrap().token_revoked);
    assert_eq!(
        b.state_now("ann", Some("j1")),
        Some(RevocationState::default()),
        "warm: answered without Redis"
    );
    a.revoke_token("ann", "j1", now() + 60).await.unwrap();
    assert!(
        eventually(Duration::from_secs(1), || b.state_now("ann", Some("j1"))
            != Some(RevocationState::default()))
        .await,
        "B still answers `not revoked` from its near-cache"
    );
    assert!(b.state("ann", Some("j1")).await.unwrap().token_revoked);
}

/// Two applications of one revocation store: a token logged in on `a` is accepted by `b`
/// (warm), then logged out on `a` and refused by `b` within a second.
pub(crate) fn share_a_revocation(a: &Client, b: &Client) {
    let (access, _) = tokens(a);
    assert_eq!(call(b, "GET", "/protected", &access).0, 200);
    assert_eq!(call(b, "GET", "/protected", &access).0, 200, "warm");
    assert_eq!(call(a, "DELETE", "/logout", &access).0, 200);
    let revoked = (401, json!({"msg": "Token has been revoked"}));
    let started = Instant::now();
    while call(b, "GET", "/protected", &access) != revoked {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B still accepts the token revoked on A"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

async fn the_near_cache_answers_warm_lookups_and_is_invalidated_by_other_instances() {
    let mut redis = RedisServer::start();
    let timeout = Duration::from_millis(300);
    let a = RedisStore::connect(&redis.url(), "nc:", timeout).unwrap();
    let b = RedisStore::connect(&redis.url(), "nc:", timeout).unwrap();
    // A revocation on A reaches B's near-cache through the channel.
    invalidates_across_stores(&a, &b).await;
    // Logging out everywhere drops the subject's entries too.
    assert!(!b.state("ann", Some("j2")).await.unwrap().token_revoked);
    a.revoke_subject("ann", now(), now() + 60).await.unwrap();
    assert!(
        eventually(Duration::from_secs(1), || b
            .state_now("ann", Some("j2"))
            .is_none_or(|s| s.subject_revoked_at.is_some()))
        .await
    );

    // Redis lost: the near-cache is dropped (within the heartbeat and the timeout), and lookups
    // fail within the timeout instead of answering from stale state.
    assert!(!b.state("bob", Some("j")).await.unwrap().token_revoked);
    assert!(b.state_now("bob", Some("j")).is_some());
    redis.kill();
    assert!(
        eventually(Duration::from_secs(3), || !b.near_cache_live()).await,
        "the lost channel was not noticed"
    );
    assert_eq!(b.state_now("bob", Some("j")), None);
    let started = Instant::now();
    let error: StoreError = b.state("bob", Some("j")).await.unwrap_err();
    assert!(
        started.elapsed() < timeout + Duration::from_millis(500),
        "{error}"
    );

    // Back (empty): the store recovers on its own, the near-cache too.
    redis.restart();
    assert!(
        eventually(Duration::from_secs(10), || b.near_cache_live()).await,
        "the channel did not come back"
    );
    let mut recovered = false;
    for _ in 0..100 {
        if b.state("bob", Some("j")).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovered, "the store did not reconnect");
}

// ----- the check in the pipeline (Rocket's local client) ----------------------------------------

#[post("/login")]
pub(crate) fn login(jwt: JwtManager<'_>) -> Result<Value, JwtResponse> {
    Ok(json!({
        "access_token": jwt.create_access_token("ann", Freshness::Fresh)?,
        "refresh_token": jwt.create_refresh_token("ann")?,
    }))
}

#[jwt_required]
#[get("/protected")]
pub(crate) fn protected() -> Value {
    json!({"logged_in_as": get_jwt_identity()})
}

#[jwt_required(refresh)]
#[post("/refresh")]
fn refresh() -> Value {
    json!({"refreshed": get_jwt_identity()})
}

#[jwt_required(verify_type = false)]
#[delete("/logout")]
async fn logout(revoker: &Revoker) -> Result<Value, JwtResponse> {
    revoker.revoke_token(&get_jwt()).await?;
    Ok(json!({"msg": "revoked"}))
}

#[jwt_required]
#[delete("/logout/everywhere")]
async fn logout_everywhere(revoker: &Revoker) -> Result<Value, JwtResponse> {
    revoker
        .revoke_subject(get_jwt_identity().unwrap_or_default())
        .await?;
    Ok(json!({"msg": "all revoked"}))
}

pub(crate) fn extended(jwt: Jwt<()>) -> Client {
    let rocket = rocket::custom(rocket::Config::debug_default())
        .attach(jwt)
        .mount("/", routes());
    Client::tracked(rocket).expect("valid rocket")
}

/// An application whose settings come from Rocket's configuration, `jwt` table included.
pub(crate) fn configured(jwt: Jwt<()>, settings: Value) -> Client {
    let figment =
        rocket::figment::Figment::from(rocket::Config::debug_default()).merge(("jwt", settings));
    let rocket = rocket::custom(figment).attach(jwt).mount("/", routes());
    Client::tracked(rocket).expect("valid rocket")
}

pub(crate) fn extended_builder() -> rocket_flask_jwt::JwtBuilder<()> {
    Jwt::builder()
        .extended()
        .secret_key("a-secret-of-at-least-thirty-two-bytes!")
}

pub(crate) fn tokens(client: &Client) -> (String, String) {
    let body: Value = client.post("/login").dispatch().into_json().unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

/// Status and JSON body of `method path` with `token`.
pub(crate) fn call(client: &Client, method: &str, path: &str, token: &str) -> (u16, Value) {
    let request = match method {
        "GET" => client.get(path.to_owned()),
        "POST" => client.post(path.to_owned()),
        _ => client.delete(path.to_owned()),
    };
    let response = request.header(bearer(token)).dispatch();
    let status = response.status().code;
    (status, response.into_json().unwrap_or(Value::Null))
}

fn a_revoked_token_is_refused_even_from_the_verified_token_cache() {
    let client = extended(
        extended_builder()
            .revocation_store(MemoryStore::new())
            .build()
            .unwrap(),
    );
    let (access, refresh_token) = tokens(&client);
    // Twice: the second request is a verified-token cache hit.
    for _ in 0..2 {
        assert_eq!(
            call(&client, "GET", "/protected", &access),
            (200, json!({"logged_in_as": "ann"}))
        );
    }
    assert_eq!(call(&client, "DELETE", "/logout", &access).0, 200);
    let revoked = (401, json!({"msg": "Token has been revoked"}));
    assert_eq!(call(&client, "GET", "/protected", &access), revoked);
    assert_eq!(call(&client, "DELETE", "/logout", &access), revoked, "once");
    // The refresh token is another token: still valid until revoked itself.
    assert_eq!(call(&client, "POST", "/refresh", &refresh_token).0, 200);
    assert_eq!(call(&client, "DELETE", "/logout", &refresh_token).0, 200);
    assert_eq!(call(&client, "POST", "/refresh", &refresh_token), revoked);
    // Another login: new tokens, accepted.
    let (again, _) = tokens(&client);
    assert_eq!(call(&client, "GET", "/protected", &again).0, 200);
}

fn logging_out_everywhere_refuses_every_earlier_token_of_the_subject() {
    let client = extended(
        extended_builder()
            .revocation_store(MemoryStore::new())
            .build()
            .unwrap(),
    );
    let (first, refresh_token) = tokens(&client);
    let (second, _) = tokens(&client);
    assert_eq!(call(&client, "GET", "/protected", &first).0, 200);
    assert_eq!(
        call(&client, "DELETE", "/logout/everywhere", &second).0,
        200
    );
    for (path, token) in [
        ("/protected", &first),
        ("/protected", &second),
        ("/refresh", &refresh_token),
    ] {
        let method = if path == "/refresh" { "POST" } else { "GET" };
        assert_eq!(
            call(&client, method, path, token),
            (401, json!({"msg": "Token has been revoked"})),
            "{path}"
        );
    }
    next_second();
    let (later, _) = tokens(&client);
    assert_eq!(call(&client, "GET", "/protected", &later).0, 200);
}

fn the_flask_jwt_profile_answers_a_401_naming_the_check() {
    let store = MemoryStore::new();
    let jwt = crate::common::builder()
        .revocation_store(store)
        .build()
        .unwrap();
    let client = crate::common::client_with(jwt);
    let token = token_for(&claims(json!(1)));
    let get = |token: &str| {
        let response = client
            .get("/protected")
            .header(Header::new("Authorization", format!("JWT {token}")))
            .dispatch();
        (
            response.status(),
            response.into_string().unwrap_or_default(),
        )
    };
    assert_eq!(get(&token).0, Status::Ok);
    // Flask-JWT's tokens have no jti: the subject (identity 1) is revoked.
    let revoker = client
        .rocket()
        .state::<Revoker>()
        .expect("a store is configured");
    block_on(revoker.revoke_subject(1)).unwrap();
    let (status, body) = get(&token);
    assert_eq!(status, Status::Unauthorized);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({
            "status_code": 401,
            "error": "Invalid token",
            "description": "Token has been revoked (revocation check)"
        })
    );
    // revoke_token needs a jti.
    let payload: Payload = serde_json::from_value(claims(json!(1))).unwrap();
    assert_eq!(
        block_on(revoker.revoke_token(&payload))
            .unwrap_err()
            .status
            .code,
        500
    );
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn the_blocklist_callback_and_the_revoked_token_loader() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let calls = Arc::clone(&seen);
    let jwt = extended_builder()
        .token_in_blocklist_loader(move |header, claims| {
            let calls = Arc::clone(&calls);
            async move {
                tokio::task::yield_now().await;
                calls
                    .lock()
                    .unwrap()
                    .push((header["alg"].clone(), claims["type"].clone()));
                claims["type"] == "refresh"
            }
        })
        .revoked_token_loader(|_header, claims| {
            JwtResponse::json(
                Status::Unauthorized,
                &json!({"revoked": claims["type"], "custom": true}),
            )
        })
        .build()
        .unwrap();
    let client = extended(jwt);
    let (access, refresh_token) = tokens(&client);
    for _ in 0..2 {
        assert_eq!(call(&client, "GET", "/protected", &access).0, 200);
    }
    assert_eq!(
        call(&client, "POST", "/refresh", &refresh_token),
        (401, json!({"revoked": "refresh", "custom": true}))
    );
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            (json!("HS256"), json!("access")),
            (json!("HS256"), json!("access")),
            (json!("HS256"), json!("refresh"))
        ],
        "called on every request, cache hits included, with the header and claims"
    );
    // Without a store there is nothing to revoke with.
    assert_eq!(call(&client, "DELETE", "/logout", &access).0, 500);
}

/// A store that never answers, or always fails: what an unreachable Redis looks like.
pub(crate) struct Unreachable {
    /// Never answers (else fails at once).
    pub(crate) hangs: bool,
}

#[rocket::async_trait]
impl RevocationStore for Unreachable {
    async fn state(&self, _: &str, _: Option<&str>) -> Result<RevocationState, StoreError> {
        if self.hangs {
            std::future::pending::<()>().await;
        }
        Err(StoreError::new("connection refused"))
    }

    async fn revoke_token(&self, _: &str, _: &str, _: i64) -> Result<(), StoreError> {
        Err(StoreError::new("connection refused"))
    }

    async fn revoke_subject(&self, _: &str, _: i64, _: i64) -> Result<(), StoreError> {
        Err(StoreError::new("connection refused"))
    }
}

fn an_unreadable_state_fails_closed_within_the_timeout_or_open_when_asked() {
    for hangs in [false, true] {
        let client = extended(
            extended_builder()
                .revocation_store(Unreachable { hangs })
                .revocation_timeout(Duration::from_millis(200))
                .build()
                .unwrap(),
        );
        let (access, _) = tokens(&client);
        let started = Instant::now();
        assert_eq!(
            call(&client, "GET", "/protected", &access),
            (
                503,
                json!({"msg": "The token's revocation state cannot be read"})
            ),
            "hangs: {hangs}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            call(&client, "DELETE", "/logout", &access).0,
            503,
            "a revocation that cannot be read cannot be written either"
        );
    }
    let client = extended(
        extended_builder()
            .revocation_store(Unreachable { hangs: true })
            .revocation_timeout(Duration::from_millis(100))
            .revocation_fail_open(true)
            .build()
            .unwrap(),
    );
    let (access, _) = tokens(&client);
    for _ in 0..3 {
        assert_eq!(call(&client, "GET", "/protected", &access).0, 200);
    }
}

async fn the_invalidation_delay_between_two_stores_is_measured() {
    let redis = RedisServer::start();
    let timeout = Duration::from_secs(1);
    let a = RedisStore::connect(&redis.url(), "delay:", timeout).unwrap();
    let b = RedisStore::connect(&redis.url(), "delay:", timeout).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || a.near_cache_live()
            && b.near_cache_live())
        .await
    );
    let rounds = 1_000;
    let mut delays = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let jti = round.to_string();
        assert!(!b.state("ann", Some(&jti)).await.unwrap().token_revoked);
        assert_eq!(
            b.state_now("ann", Some(&jti)),
            Some(RevocationState::default())
        );
        // From the moment A starts revoking (its round trip to Redis included).
        let since = Instant::now();
        a.revoke_token("ann", &jti, now() + 60).await.unwrap();
        while b.state_now("ann", Some(&jti)) == Some(RevocationState::default()) {
            assert!(since.elapsed() < Duration::from_secs(2), "round {round}");
            tokio::task::yield_now().await;
        }
        delays.push(since.elapsed());
    }
    delays.sort();
    println!(
        "near-cache invalidation delay over {rounds} revocations (A starts revoking -> B's \
         near-cache dropped the entry): p50 {:?}, p99 {:?}, max {:?}",
        delays[rounds / 2],
        delays[rounds * 99 / 100],
        delays[rounds - 1]
    );
    assert!(delays[rounds * 99 / 100] < Duration::from_millis(500));
}

fn a_redis_url_that_is_not_one_fails_ignition_naming_the_setting_not_the_value() {
    for url in ["http://127.0.0.1:6379/", "redis://user:hunter2@[::1"] {
        let refusal = "invalid jwt setting `redis_url`";
        let before = crate::common::logs::containing(refusal).len();
        let jwt = extended_builder().redis_url(url).build().unwrap();
        let rocket = rocket::custom(rocket::Config::debug_default())
            .attach(jwt)
            .mount("/", routes![protected]);
        let ignition = Client::tracked(rocket).map_err(|error| format!("{:?}", error.kind()));
        assert!(
            ignition
                .as_ref()
                .is_err_and(|kind| kind.contains("FailedFairings")),
            "{url}"
        );
        let lines = crate::common::logs::containing(refusal);
        assert!(lines.len() > before, "{url}: {lines:?}");
        assert!(
            crate::common::logs::all()
                .iter()
                .all(|line| !line.contains("hunter2")),
            "the password is never logged"
        );
    }
}

fn ignition_says_whether_the_redis_store_answers() {
    let redis = RedisServer::start();
    let url = redis.url();
    let _client = configured(
        extended_builder().build().unwrap(),
        json!({"redis_url": url}),
    );
    let lines = crate::common::logs::containing(&format!("jwt: revocation store {url}: "));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("reachable (PING answered in "),
        "{lines:#?}"
    );
}

fn ignition_says_when_the_redis_store_is_unreachable_and_what_requests_get() {
    for (fail_open, consequence) in [
        (
            false,
            "protected requests are answered 503 until it answers",
        ),
        (
            true,
            "accepted WITHOUT the revocation check (revocation_fail_open)",
        ),
    ] {
        // A free port, with a password that never reaches the log.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let url = format!("redis://app:hunter2@127.0.0.1:{port}/");
        let settings = json!({"redis_url": url, "revocation_fail_open": fail_open});
        let _client = configured(extended_builder().build().unwrap(), settings);
        let shown = format!("jwt: revocation store redis://app:***@127.0.0.1:{port}/: UNREACHABLE");
        let lines = crate::common::logs::containing(&shown);
        assert_eq!(lines.len(), 1, "{shown}: {:#?}", crate::common::logs::all());
        assert!(lines[0].contains(consequence), "{lines:#?}");
        assert!(!lines[0].contains("hunter2"), "{lines:#?}");
    }
}

/// The routes of this module's application, for the tests that serve it for real.
pub(crate) fn routes() -> Vec<rocket::Route> {
    routes![login, protected, refresh, logout, logout_everywhere]
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(async the_memory_store_behaves_as_a_revocation_store, needs []),
        test!(async the_redis_store_behaves_as_a_revocation_store, needs [Program::RedisServer]),
        test!(
            async without_its_near_cache_the_redis_store_reads_redis_for_every_lookup,
            needs [Program::RedisServer]
        ),
        test!(
            with_the_near_cache_off_every_request_reads_redis_and_nothing_is_stale,
            needs[Program::RedisServer]
        ),
        test!(
            async the_near_cache_answers_warm_lookups_and_is_invalidated_by_other_instances,
            needs [Program::RedisServer]
        ),
        test!(a_revoked_token_is_refused_even_from_the_verified_token_cache, needs []),
        test!(logging_out_everywhere_refuses_every_earlier_token_of_the_subject, needs []),
        test!(the_flask_jwt_profile_answers_a_401_naming_the_check, needs []),
        test!(the_blocklist_callback_and_the_revoked_token_loader, needs []),
        test!(an_unreadable_state_fails_closed_within_the_timeout_or_open_when_asked, needs []),
        test!(
            async the_invalidation_delay_between_two_stores_is_measured,
            needs [Program::RedisServer]
        ),
        test!(
            a_redis_url_that_is_not_one_fails_ignition_naming_the_setting_not_the_value,
            needs []
        ),
        test!(
            ignition_says_whether_the_redis_store_answers,
            needs[Program::RedisServer]
        ),
        test!(
            ignition_says_when_the_redis_store_is_unreachable_and_what_requests_get,
            needs []
        ),
    ]
}
