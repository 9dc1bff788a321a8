//! The metrics (`metrics = true`) read by the Prometheus project's own programs: a real
//! `prometheus` server scraping `examples/extended.rs` (revoked tokens on a real `redis-server`)
//! every second while the test sends a known load, then asked through its HTTP API how many
//! requests of each kind it counted; and `promtool check metrics` linting a scrape of the extended
//! example (with its revocation store) and of the resource-server example (keys from a JWKS,
//! DPoP allowed).
//!
//! Prometheus is run by the test on a free port of 127.0.0.1 with a configuration, a data
//! directory and a log of its own under the target directory, never as the system's service. The
//! tests need `redis-server` and `prometheus` or `promtool` (the Debian package `prometheus` has
//! both): where one is missing, the harness reports them as ignored, saying why, or as failed when
//! `CI` is set.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rocket_flask_jwt::Algorithm;
use serde_json::{json, Value};

use crate::common::jwks_server::{self, JwksServer, TestKey};
use crate::common::redis_server::{free_port, RedisServer};
use crate::common::{now, sign_hs256, SECRET};
use crate::http_client::{self, HttpResponse};
use crate::live_rocket::LiveRocket;
use crate::programs::{self, Program};
use crate::resource_server_example as resource_server;
use crate::revocation_live::login;

/// How long Prometheus may take to be ready, and then to scrape twice.
const STARTUP: Duration = Duration::from_secs(15);

/// The metrics route (the `metrics_path` setting's default).
const METRICS_PATH: &str = "/metrics";

/// The Prometheus scrape job's name.
const JOB: &str = "rocket";

// ----- Prometheus ---------------------------------------------------------------------------------

/// `prometheus` as a child process scraping one target every second, with its configuration,
/// data and log in a directory of its own under the target directory. Dropping it kills it;
/// the directory is kept when the test fails (its log may say why).
struct Prometheus {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Prometheus {
    /// Starts Prometheus on a free port, scraping `127.0.0.1:<target_port>` at `metrics_path`
    /// every second, and waits until it is ready.
    fn start(target_port: u16, metrics_path: &str) -> Prometheus {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let program = programs::on_path("prometheus")
            .expect("prometheus (the harness runs this test only with it)");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("metrics")
            .join(format!(
                "prometheus-{}-{}",
                std::process::id(),
                STARTED.fetch_add(1, Ordering::Relaxed)
            ));
        if dir.exists() {
            fs::remove_dir_all(&dir).expect("remove the previous Prometheus directory");
        }
        fs::create_dir_all(dir.join("data")).expect("create the Prometheus directory");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: {JOB}\n    metrics_path: {metrics_path}\n    \
             static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        );
        let config_file = dir.join("prometheus.yml");
        fs::write(&config_file, config).expect("write prometheus.yml");
        let log = fs::File::create(dir.join("prometheus.log")).expect("create prometheus.log");
        let port = free_port();
        let child = Command::new(&program)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let mut prometheus = Prometheus { child, port, dir };

        let deadline = Instant::now() + STARTUP;
        loop {
            match http_client::request(port, "GET", "/-/ready", &[], b"") {
                Ok(answer) if answer.status == 200 => return prometheus,
                _ if Instant::now() > deadline => prometheus.fail(&format!(
                    "Prometheus is not ready on 127.0.0.1:{port} within {STARTUP:?}"
                )),
                _ => {}
            }
            if let Ok(Some(status)) = prometheus.child.try_wait() {
                prometheus.fail(&format!("prometheus exited ({status})"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Panics with `what` and Prometheus's log.
    fn fail(&mut self, what: &str) -> ! {
        let log_file = self.dir.join("prometheus.log");
        let log = fs::read_to_string(&log_file).unwrap_or_default();
        panic!("{what}\n--- {} ---\n{log}---", log_file.display())
    }

    /// The instant vector `promql` evaluates to now: each series' labels and value.
    fn query(&mut self, promql: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let path = format!("/api/v1/query?query={}", percent_encoded(promql));
        let answer = match http_client::request(self.port, "GET", &path, &[], b"") {
            Ok(answer) => answer,
            Err(e) => self.fail(&format!("GET {path}: {e}")),
        };
        let body = answer.json();
        if answer.status != 200 || body["status"] != "success" {
            self.fail(&format!("{promql}: {} {body}", answer.status));
        }
        assert_eq!(body["data"]["resultType"], "vector", "{promql}: {body}");
        let series = body["data"]["result"].as_array().expect("a result array");
        series
            .iter()
            .map(|sample| {
                let labels = sample["metric"]
                    .as_object()
                    .expect("labels")
                    .iter()
                    .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
                    .collect();
                let value = sample["value"][1]
                    .as_str()
                    .and_then(|value| value.parse().ok())
                    .unwrap_or_else(|| panic!("{promql}: not a sample value: {sample}"));
                (labels, value)
            })
            .collect()
    }

    /// The value of `promql`, which must evaluate to one series.
    fn value(&mut self, promql: &str) -> f64 {
        match self.query(promql).as_slice() {
            [(_, value)] => *value,
            other => panic!("{promql}: {} series, not one: {other:?}", other.len()),
        }
    }

    /// The values of `promql` by the value of its `label`, e.g. of `sum by (label) (...)`.
    fn by(&mut self, label: &str, promql: &str) -> BTreeMap<String, u64> {
        self.query(promql)
            .into_iter()
            .map(|(labels, value)| {
                let key = labels.get(label).cloned().unwrap_or_default();
                (key, value as u64)
            })
            .collect()
    }

    /// The time (Unix seconds) of the latest scrape of the target, when there was one.
    fn last_scrape(&mut self) -> Option<f64> {
        self.query(&format!("timestamp(up{{job=\"{JOB}\"}})"))
            .first()
            .map(|(_, time)| *time)
    }

    /// Waits until the target has been scraped twice since `since` (Unix seconds). The first
    /// may not be enough: Prometheus moves a scrape's timestamp by up to a few milliseconds onto
    /// its interval's grid, so a scrape that started just before `since` can be stamped after it;
    /// the second started a whole interval later, once every counter was as it is now.
    fn wait_for_two_scrapes_after(&mut self, since: f64) {
        let deadline = Instant::now() + STARTUP;
        let mut first = None;
        loop {
            if let Some(time) = self.last_scrape().filter(|time| *time > since) {
                match first {
                    None => first = Some(time),
                    Some(first) if time > first => return,
                    Some(_) => {}
                }
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "no two scrapes of the target since {since} within {STARTUP:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// `text` percent-encoded for a query string: every byte but RFC 3986's unreserved ones.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Now, in Unix seconds.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

// ----- the load -----------------------------------------------------------------------------------

/// The extended example's access-token claims (as Flask-JWT-Extended writes them) for user1,
/// with `overrides` over them.
fn access_claims(overrides: Value) -> Value {
    let now = now();
    let mut claims = json!({
        "fresh": false, "iat": now, "jti": "0b6f1c0a-4c2b-4f0e-9d57-8a2e8a8e2e1b",
        "type": "access", "sub": "user1", "nbf": now, "exp": now + 900
    });
    for (name, value) in overrides.as_object().expect("overrides are an object") {
        claims[name] = value.clone();
    }
    claims
}

/// An access token of user1 that expired a minute ago, signed with the example's secret.
fn expired_token() -> String {
    let now = now();
    sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &access_claims(json!({"iat": now - 960, "nbf": now - 960, "exp": now - 60})),
        SECRET,
    )
}

/// A valid-looking access token of user1 signed with another secret.
fn forged_token() -> String {
    sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &access_claims(json!({})),
        "not the example's secret",
    )
}

/// The extended example's answer to a request without a token (it reads tokens from every
/// location, as Flask-JWT-Extended words it).
const MISSING_TOKEN: &str = "Missing JWT in headers, cookies, query_string or json (Missing \
    Authorization Header; Missing cookie \"access_token_cookie\"; Missing 'jwt' query paramater; \
    Invalid content-type. Must be application/json.)";

/// Asserts that `answer` is `status` with the JSON body `body`.
fn assert_answer(answer: &HttpResponse, status: u16, body: Value, what: &str) {
    assert_eq!(
        (answer.status, answer.json()),
        (status, body),
        "{what}: {}",
        answer.text()
    );
}

/// What [`send_load`] sent, by kind.
#[derive(Debug, Default)]
struct Load {
    logins: u64,
    /// GET /protected with a valid access token.
    protected_ok: u64,
    /// GET /protected with an expired access token.
    expired: u64,
    /// GET /protected with an access token signed with another secret.
    bad_signature: u64,
    /// GET /protected without a token.
    missing: u64,
    /// POST /refresh with a refresh token.
    refreshes: u64,
    /// GET /fresh with a non-fresh access token (from /refresh).
    not_fresh: u64,
    /// DELETE /logout with an access token.
    logouts: u64,
    /// GET /protected with a revoked access token.
    revoked: u64,
}

/// Sends the mixed load to `server`, checking every answer; what it sent.
fn send_load(server: &LiveRocket) -> Load {
    let mut load = Load::default();
    let mut sessions = Vec::new();
    for _ in 0..40 {
        sessions.push(login(server));
        load.logins += 1;
    }
    let ok = json!({"logged_in_as": "user1"});
    for (access, _) in sessions.iter().cycle().take(200) {
        assert_answer(
            &server.with_bearer("GET", "/protected", access),
            200,
            ok.clone(),
            "a valid token",
        );
        load.protected_ok += 1;
    }
    let expired = expired_token();
    for _ in 0..30 {
        assert_answer(
            &server.with_bearer("GET", "/protected", &expired),
            401,
            json!({"msg": "Token has expired"}),
            "an expired token",
        );
        load.expired += 1;
    }
    let forged = forged_token();
    for _ in 0..25 {
        assert_answer(
            &server.with_bearer("GET", "/protected", &forged),
            422,
            json!({"msg": "Signature verification failed"}),
            "a token signed with another secret",
        );
        load.bad_signature += 1;
    }
    for _ in 0..20 {
        assert_answer(
            &server.request("GET", "/protected", &[], b""),
            401,
            json!({"msg": MISSING_TOKEN}),
            "no token",
        );
        load.missing += 1;
    }
    let mut not_fresh = Vec::new();
    for (_, refresh) in sessions.iter().take(10) {
        let answer = server.with_bearer("POST", "/refresh", refresh);
        assert_eq!(answer.status, 200, "a refresh: {}", answer.text());
        not_fresh.push(answer.json()["access_token"].as_str().unwrap().to_owned());
        load.refreshes += 1;
    }
    for access in not_fresh.iter().cycle().take(15) {
        assert_answer(
            &server.with_bearer("GET", "/fresh", access),
            401,
            json!({"msg": "Fresh token required"}),
            "a non-fresh token",
        );
        load.not_fresh += 1;
    }
    let revoked: Vec<&str> = sessions[35..]
        .iter()
        .map(|(access, _)| &access[..])
        .collect();
    for access in &revoked {
        assert_answer(
            &server.with_bearer("DELETE", "/logout", access),
            200,
            json!({"msg": "Access token revoked"}),
            "a logout",
        );
        load.logouts += 1;
    }
    for access in revoked.iter().cycle().take(10) {
        assert_answer(
            &server.with_bearer("GET", "/protected", access),
            401,
            json!({"msg": "Token has been revoked"}),
            "a revoked token",
        );
        load.revoked += 1;
    }
    load
}

/// `pairs` as the map [`Prometheus::by`] answers.
fn counts<const N: usize>(pairs: [(&str, u64); N]) -> BTreeMap<String, u64> {
    pairs
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(key, count)| (key.to_owned(), count))
        .collect()
}

// ----- the tests ----------------------------------------------------------------------------------

fn a_real_prometheus_counts_what_the_load_sent() {
    let started = Instant::now();
    let redis = RedisServer::start();
    let server = crate::live_rocket::extended(Some(&redis.url()), &[("metrics", json!(true))]);
    let mut prometheus = Prometheus::start(server.port(), METRICS_PATH);

    let load = send_load(&server);
    let sent = unix_now();
    prometheus.wait_for_two_scrapes_after(sent);
    eprintln!(
        "metrics: sent {load:?}; two scrapes {:?} after the start",
        started.elapsed()
    );

    assert_eq!(prometheus.value(&format!("up{{job=\"{JOB}\"}}")), 1.0);
    let protected = prometheus.by(
        "reason",
        "sum by (reason) (jwt_requests_total{route=\"/protected\"})",
    );
    eprintln!("metrics: Prometheus's /protected by reason: {protected:?}");
    assert_eq!(
        protected,
        counts([
            ("none", load.protected_ok),
            ("validity_period", load.expired),
            ("signature", load.bad_signature),
            ("missing_token", load.missing),
            ("revoked", load.revoked),
        ])
    );
    let by_route = prometheus.by(
        "route",
        "sum by (route) (jwt_requests_total{profile=\"extended\"})",
    );
    eprintln!("metrics: Prometheus's requests by route: {by_route:?}");
    assert_eq!(
        by_route,
        counts([
            (
                "/protected",
                load.protected_ok + load.expired + load.bad_signature + load.missing + load.revoked
            ),
            ("/refresh", load.refreshes),
            ("/fresh", load.not_fresh),
            ("/logout", load.logouts),
        ])
    );
    let fresh = prometheus.by(
        "reason",
        "sum by (reason) (jwt_requests_total{route=\"/fresh\"})",
    );
    assert_eq!(fresh, counts([("freshness", load.not_fresh)]));
    let outcomes = prometheus.by("outcome", "sum by (outcome) (jwt_requests_total)");
    let accepted = load.protected_ok + load.refreshes + load.logouts;
    let refused = load.expired + load.bad_signature + load.missing + load.not_fresh + load.revoked;
    assert_eq!(
        outcomes,
        counts([("authenticated", accepted), ("refused", refused)])
    );
    // Every counted request went through the guard once.
    let guard = prometheus.by(
        "outcome",
        "sum by (outcome) (jwt_guard_duration_seconds_count)",
    );
    assert_eq!(
        guard,
        counts([("accepted", accepted), ("refused", refused)])
    );

    let mut events = BTreeMap::new();
    for name in [
        "jwt_logins_total",
        "jwt_refreshes_total",
        "jwt_logouts_total",
        "jwt_subject_revocations_total",
        "jwt_refresh_token_reuse_total",
        "jwt_key_rotations_total",
    ] {
        events.insert(name, prometheus.value(name) as u64);
    }
    eprintln!("metrics: Prometheus's events: {events:?}");
    assert_eq!(
        events,
        BTreeMap::from([
            ("jwt_logins_total", load.logins),
            ("jwt_refreshes_total", load.refreshes),
            ("jwt_logouts_total", load.logouts),
            ("jwt_subject_revocations_total", 0),
            ("jwt_refresh_token_reuse_total", 0),
            ("jwt_key_rotations_total", 0),
        ])
    );

    // The revocation store's series are there, and nothing failed.
    let revocation: Vec<String> = prometheus
        .query("count by (__name__) ({__name__=~\"jwt_revocation_.*\"})")
        .into_iter()
        .map(|(labels, _)| labels["__name__"].clone())
        .collect();
    eprintln!("metrics: revocation series: {revocation:?}");
    assert!(
        revocation.contains(&"jwt_revocation_store_errors_total".to_owned()),
        "{revocation:?}"
    );
    assert_eq!(prometheus.value("jwt_revocation_store_errors_total"), 0.0);
    assert_eq!(
        prometheus.value("sum(jwt_revocation_unavailable_total)"),
        0.0
    );
    // The cache saw every token that got past its parsing.
    let lookups = prometheus.value("jwt_token_cache_hits_total + jwt_token_cache_misses_total");
    assert!(lookups > 0.0, "{lookups}");
    eprintln!("metrics: done in {:?}", started.elapsed());
}

/// `promtool check metrics` on `scrape`: its exit status and everything it wrote.
fn promtool_check(scrape: &str) -> (std::process::ExitStatus, String) {
    let program =
        programs::on_path("promtool").expect("promtool (the harness runs this test only with it)");
    let mut child = Command::new(&program)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(scrape.as_bytes())
        .expect("write the scrape to promtool");
    let output = child.wait_with_output().expect("promtool's output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status, text)
}

/// GET `METRICS_PATH` of the Rocket on `port`: the scrape's text.
fn scrape(port: u16) -> String {
    let answer = http_client::request(port, "GET", METRICS_PATH, &[], b"").expect("a scrape");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    answer.text()
}

fn the_scrape_passes_promtool() {
    // The extended example with its revocation store, after a little of everything.
    let redis = RedisServer::start();
    let extended = crate::live_rocket::extended(Some(&redis.url()), &[("metrics", json!(true))]);
    let (access, refresh) = login(&extended);
    assert_eq!(
        extended.with_bearer("GET", "/protected", &access).status,
        200
    );
    assert_eq!(
        extended
            .with_bearer("GET", "/protected", &expired_token())
            .status,
        401
    );
    assert_eq!(
        extended
            .with_bearer("GET", "/protected", &forged_token())
            .status,
        422
    );
    assert_eq!(extended.request("GET", "/protected", &[], b"").status, 401);
    assert_eq!(extended.request("GET", "/optional", &[], b"").status, 200);
    let answer = extended.with_bearer("POST", "/refresh", &refresh);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let not_fresh = answer.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        extended.with_bearer("GET", "/fresh", &not_fresh).status,
        401
    );
    assert_eq!(
        extended.with_bearer("DELETE", "/logout", &access).status,
        200
    );
    assert_eq!(
        extended.with_bearer("GET", "/protected", &access).status,
        401
    );

    // The resource-server example with its keys from a JWKS, DPoP allowed.
    let jwks = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let rocket = resource_server::mount(resource_server::api().jwks_url(jwks.jwks_url()));
    let mut figment = rocket.figment().clone();
    for (name, value) in [("metrics", json!(true)), ("dpop", json!("allowed"))] {
        figment = figment.merge((format!("jwt.{name}"), value));
    }
    let api = LiveRocket::launch(rocket.configure(figment));
    let now = now();
    let token = jwks_server::sign(
        TestKey::Rsa,
        Algorithm::RS256,
        Some(TestKey::Rsa.kid()),
        &json!({"sub": "metrics-test", "iat": now, "nbf": now, "exp": now + 300}),
    );
    assert_eq!(api.with_bearer("GET", "/api/private", &token).status, 200);
    let answer = api.request(
        "GET",
        "/api/private",
        &[("Authorization", &format!("DPoP {token}"))],
        b"",
    );
    assert_eq!(
        answer.status,
        401,
        "DPoP without a proof: {}",
        answer.text()
    );

    for (name, port) in [
        ("extended", extended.port()),
        ("resource_server", api.port()),
    ] {
        let text = scrape(port);
        let (status, complaints) = promtool_check(&text);
        eprintln!(
            "metrics: promtool check metrics on the {name} example's scrape ({} lines): {status}, \
             {complaints:?}",
            text.lines().count()
        );
        assert!(
            status.success() && complaints.trim().is_empty(),
            "promtool check metrics on the {name} example's scrape: {status}\n{complaints}\n\
             --- the scrape ---\n{text}"
        );
    }
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(a_real_prometheus_counts_what_the_load_sent, needs [Program::RedisServer, Program::Prometheus]),
        test!(the_scrape_passes_promtool, needs [Program::RedisServer, Program::Promtool]),
    ]
}
