//! The metrics pushed over OTLP (`metrics_otlp_endpoint`, the `otlp` cargo feature, which the
//! root package's dev-dependency on the runtime turns on for its tests) as an OpenTelemetry
//! collector decodes them: `tests/interop/otlp/collector.py` stands in for the collector's
//! OTLP/HTTP receiver, decoding each `ExportMetricsServiceRequest` with the OpenTelemetry
//! project's own protobuf classes (PyPI's `opentelemetry-proto`) and printing each data point as
//! one JSON line. The test runs `examples/extended.rs` pushing to it every second, sends a known
//! load (a login, valid, expired, forged and missing tokens), waits for an export that counts it,
//! checks every point against the load and against the same application's Prometheus
//! exposition (the same counters, read by the other encoder), then stops the application and
//! checks that its shutdown pushed the last counts.
//!
//! The collector's Python environment is made under the target directory on first use (see
//! `python_env.rs`; `OTLP_COLLECTOR_PYTHON` names an interpreter that has the requirements
//! instead). Where `python3` is not installed the harness reports the test as ignored, saying
//! why, except under CI (`CI` set), where it fails.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{now, sign_hs256, SECRET};
use crate::pipes::collect;
use crate::programs::Program;
use crate::python_env::{workspace_root, PythonEnv};
use crate::revocation_live::login;

/// The collector stub's environment.
static COLLECTOR_ENV: PythonEnv = PythonEnv {
    name: "otlp-collector",
    requirements: "tests/interop/otlp/requirements.txt",
    override_var: "OTLP_COLLECTOR_PYTHON",
};

/// How long the collector may take to start, and an export to arrive.
const TIMEOUT: Duration = Duration::from_secs(20);

// ----- the collector ------------------------------------------------------------------------------

/// `collector.py` as a child process: its port, and the data points it printed so far. Dropping
/// it closes its stdin (it exits) and kills it if it still runs.
struct Collector {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    /// Every JSON line after the port, parsed.
    points: Arc<Mutex<Vec<Value>>>,
    stdout_reader: Option<JoinHandle<()>>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Collector {
    /// Starts the collector (making its environment first if needed) and reads its port.
    fn start() -> Collector {
        let python = COLLECTOR_ENV.interpreter();
        let script = workspace_root().join("tests/interop/otlp/collector.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {} {}: {e}", python.display(), script.display())
            });
        let (stderr, stderr_reader) = collect(child.stderr.take().expect("piped stderr"));
        let stdout = child.stdout.take().expect("piped stdout");
        let points = Arc::new(Mutex::new(Vec::new()));
        let collected = Arc::clone(&points);
        let (port_tx, port_rx) = mpsc::channel();
        let stdout_reader = std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = port_tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
            for line in lines.map_while(Result::ok) {
                let point = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({"error": format!("not JSON: {line}")}));
                collected.lock().unwrap().push(point);
            }
        });
        let mut collector = Collector {
            child,
            stdin: None,
            port: 0,
            points,
            stdout_reader: Some(stdout_reader),
            stderr,
            stderr_reader: Some(stderr_reader),
        };
        collector.stdin = collector.child.stdin.take();
        let line = port_rx.recv_timeout(TIMEOUT).unwrap_or_default();
        match line.trim().parse() {
            Ok(port) => collector.port = port,
            Err(_) => {
                let stderr = collector.stop();
                panic!("the collector printed no port within {TIMEOUT:?} ({line:?}); stderr:\n{stderr}")
            }
        }
        collector
    }

    /// Its OTLP/HTTP metrics URL.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/metrics", self.port)
    }

    /// The data points of the latest export that `accept` accepts, waiting for one up to
    /// [`TIMEOUT`]; panics with everything received when none comes. An `error` line (a request
    /// it could not decode) fails at once.
    fn wait_for(&mut self, what: &str, accept: impl Fn(&Export) -> bool) -> Export {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let points = self.points.lock().unwrap().clone();
            if let Some(error) = points.iter().find(|point| point.get("error").is_some()) {
                let stderr = self.stop();
                panic!("the collector refused an export: {error}; stderr:\n{stderr}");
            }
            let latest = points
                .iter()
                .filter_map(|point| point["export"].as_u64())
                .max();
            if let Some(export) = latest.map(|number| Export::of(number, &points))
                && accept(&export)
            {
                return export;
            }
            if Instant::now() > deadline {
                let stderr = self.stop();
                let last = latest.map(|number| Export::of(number, &points));
                panic!(
                    "no export {what} within {TIMEOUT:?}; the latest: {last:#?}; collector's \
                     stderr:\n{stderr}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the collector; what it wrote on stderr.
    fn stop(&mut self) -> String {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        for reader in [self.stdout_reader.take(), self.stderr_reader.take()]
            .into_iter()
            .flatten()
        {
            let _ = reader.join();
        }
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The data points of one export.
#[derive(Debug)]
struct Export {
    number: u64,
    points: Vec<Value>,
}

impl Export {
    /// The points of export `number` among `points`.
    fn of(number: u64, points: &[Value]) -> Export {
        Export {
            number,
            points: points
                .iter()
                .filter(|point| point["export"] == number)
                .cloned()
                .collect(),
        }
    }

    /// The points of the metric `name`.
    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.points
            .iter()
            .filter(move |point| point["name"] == name)
    }

    /// The value of the metric `name` (one point, no attributes); `None` when it has no point.
    fn value(&self, name: &str) -> Option<f64> {
        let points: Vec<&Value> = self.named(name).collect();
        match points.as_slice() {
            [] => None,
            [point] => {
                assert_eq!(point["attributes"], json!({}), "{name}: {point}");
                point["value"].as_f64()
            }
            more => panic!("{name}: {} points, not one: {more:?}", more.len()),
        }
    }

    /// The values of the metric `name` summed by the value of its attribute `attribute`, among
    /// the points whose attributes include `with`.
    fn by(&self, name: &str, attribute: &str, with: &[(&str, &str)]) -> BTreeMap<String, f64> {
        let mut sums = BTreeMap::new();
        let points = self.named(name).filter(|point| {
            with.iter()
                .all(|(key, value)| point["attributes"][key] == *value)
        });
        for point in points {
            let key = point["attributes"][attribute].as_str().unwrap_or_default();
            *sums.entry(key.to_owned()).or_insert(0.0) += point["value"].as_f64().expect("a value");
        }
        sums
    }
}

// ----- the load -----------------------------------------------------------------------------------

/// The extended example's access-token claims for user1 (as Flask-JWT-Extended writes them),
/// expiring at `exp`.
fn access_claims(iat: i64, exp: i64) -> Value {
    json!({
        "fresh": false, "iat": iat, "jti": "5d0a3f8e-2b7c-4e51-9a3d-6f1e2c4b8a70",
        "type": "access", "sub": "user1", "nbf": iat, "exp": exp
    })
}

/// `pairs` as the map [`Export::by`] answers.
fn counts<const N: usize>(pairs: [(&str, f64); N]) -> BTreeMap<String, f64> {
    pairs
        .into_iter()
        .map(|(key, count)| (key.to_owned(), count))
        .collect()
}

/// The expected `/protected` requests by reason: 3 valid, 1 expired, 1 forged, 2 without a token.
fn protected_by_reason(missing: f64) -> BTreeMap<String, f64> {
    counts([
        ("none", 3.0),
        ("validity_period", 1.0),
        ("signature", 1.0),
        ("missing_token", missing),
    ])
}

// ----- Prometheus's exposition --------------------------------------------------------------------

/// The samples of a Prometheus text exposition: each series (its name, its labels sorted) and
/// its value. Label values here hold no quote, backslash or comma.
fn prometheus_samples(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                None => (series, BTreeMap::new()),
                Some((name, labels)) => {
                    let labels = labels.trim_end_matches('}');
                    let labels = labels
                        .split(',')
                        .filter(|pair| !pair.is_empty())
                        .map(|pair| {
                            let (key, value) = pair.split_once('=').expect("label=value");
                            (key.to_owned(), value.trim_matches('"').to_owned())
                        })
                        .collect();
                    (name, labels)
                }
            };
            let value = value.parse().unwrap_or_else(|_| panic!("a value: {line}"));
            ((name.to_owned(), labels), value)
        })
        .collect()
}

/// The point's attributes as Prometheus labels.
fn labels(point: &Value) -> BTreeMap<String, String> {
    point["attributes"]
        .as_object()
        .expect("attributes")
        .iter()
        .map(|(key, value)| (key.clone(), value.as_str().expect("a string").to_owned()))
        .collect()
}

// ----- the test -----------------------------------------------------------------------------------

fn a_collector_decodes_the_counters_pushed_over_otlp() {
    let started = Instant::now();
    let mut collector = Collector::start();
    let server = crate::live_rocket::extended(
        None,
        &[
            ("metrics", json!(true)),
            ("metrics_otlp_endpoint", json!(collector.url())),
            ("metrics_otlp_interval", json!(1)),
        ],
    );

    let (access, _) = login(&server);
    for _ in 0..3 {
        let answer = server.with_bearer("GET", "/protected", &access);
        assert_eq!(answer.status, 200, "a valid token: {}", answer.text());
    }
    let now = now();
    let expired = sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &access_claims(now - 960, now - 60),
        SECRET,
    );
    let answer = server.with_bearer("GET", "/protected", &expired);
    assert_eq!(answer.status, 401, "an expired token: {}", answer.text());
    let forged = sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &access_claims(now, now + 900),
        "not the example's secret",
    );
    let answer = server.with_bearer("GET", "/protected", &forged);
    assert_eq!(answer.status, 422, "a forged token: {}", answer.text());
    for _ in 0..2 {
        let answer = server.request("GET", "/protected", &[], b"");
        assert_eq!(answer.status, 401, "no token: {}", answer.text());
    }
    let sent = Instant::now();

    let protected = [("route", "/protected")];
    let export = collector.wait_for("counting the load", |export| {
        export.by("jwt.requests", "reason", &protected) == protected_by_reason(2.0)
    });
    eprintln!(
        "otlp: export {} counted the load {:?} after it was sent ({:?} after the start)",
        export.number,
        sent.elapsed(),
        started.elapsed()
    );
    for point in &export.points {
        eprintln!("otlp: {point}");
    }

    // Every point: this application's scope, a resource with a service name, cumulative sums.
    for point in &export.points {
        assert_eq!(point["scope"], "rocket-flask-jwt", "{point}");
        assert!(point["resource"]["service.name"].is_string(), "{point}");
        if point["kind"] == "sum" {
            assert_eq!(point["temporality"], "cumulative", "{point}");
            assert_eq!(point["monotonic"], true, "{point}");
        }
    }
    // The requests, with the Prometheus exposition's labels.
    let requests: Vec<&Value> = export.named("jwt.requests").collect();
    assert_eq!(requests.len(), 4, "{requests:#?}");
    for point in &requests {
        assert_eq!(point["kind"], "sum", "{point}");
        assert_eq!(point["unit"], "{request}", "{point}");
        let attributes = &point["attributes"];
        assert_eq!(attributes["profile"], "extended", "{point}");
        assert_eq!(attributes["method"], "GET", "{point}");
        let outcome = match attributes["reason"].as_str() {
            Some("none") => "authenticated",
            _ => "refused",
        };
        assert_eq!(attributes["outcome"], outcome, "{point}");
    }
    assert_eq!(
        export.by("jwt.requests", "outcome", &protected),
        counts([("authenticated", 3.0), ("refused", 4.0)])
    );
    // The guard's time as the sum and count of its histogram.
    let guard_count = export.by("jwt.guard.duration.count", "outcome", &[]);
    assert_eq!(guard_count, counts([("accepted", 3.0), ("refused", 4.0)]));
    let guard_sum = export.by("jwt.guard.duration.sum", "outcome", &[]);
    assert_eq!(guard_sum.len(), 2, "{guard_sum:?}");
    assert!(
        guard_sum
            .values()
            .all(|seconds| *seconds > 0.0 && *seconds < 5.0),
        "{guard_sum:?}"
    );
    for point in export.named("jwt.guard.duration.sum") {
        assert_eq!(point["unit"], "s", "{point}");
        assert_eq!(point["attributes"]["profile"], "extended", "{point}");
    }
    // The session events.
    assert_eq!(export.value("jwt.logins"), Some(1.0));
    for event in [
        "jwt.refreshes",
        "jwt.logouts",
        "jwt.subject_revocations",
        "jwt.refresh_token_reuse",
        "jwt.key_rotations",
    ] {
        assert_eq!(export.value(event), Some(0.0), "{event}");
    }
    let hits = export.value("jwt.token_cache.hits").expect("cache hits");
    let misses = export
        .value("jwt.token_cache.misses")
        .expect("cache misses");
    assert!(
        hits >= 2.0,
        "the same token three times: {hits} hits, {misses} misses"
    );
    // No revocation store, no JWKS, no DPoP refusal: none of their metrics.
    for absent in [
        "jwt.revocation_store.errors",
        "jwt.jwks.fetches",
        "jwt.dpop.refusals",
    ] {
        assert_eq!(export.named(absent).count(), 0, "{absent}");
    }

    // The same counters as the Prometheus exposition reads them (nothing was sent since).
    let scrape = server.request("GET", "/metrics", &[], b"");
    assert_eq!(scrape.status, 200, "{}", scrape.text());
    let samples = prometheus_samples(&scrape.text());
    let mut compared = 0;
    for point in &export.points {
        let name = point["name"].as_str().unwrap();
        let prometheus_name = match name {
            "jwt.guard.duration.sum" => "jwt_guard_duration_seconds_sum".to_owned(),
            "jwt.guard.duration.count" => "jwt_guard_duration_seconds_count".to_owned(),
            "jwt.token_cache.entries" => "jwt_token_cache_entries".to_owned(),
            _ => format!("{}_total", name.replace('.', "_")),
        };
        let key = (prometheus_name, labels(point));
        let Some(sample) = samples.get(&key) else {
            panic!(
                "{key:?} (of {point}) is not in the exposition:\n{}",
                scrape.text()
            );
        };
        let value = point["value"].as_f64().unwrap();
        assert!(
            (sample - value).abs() <= 1e-6 * value.abs().max(1.0),
            "{key:?}: {value} over OTLP, {sample} in Prometheus's exposition"
        );
        compared += 1;
    }
    eprintln!(
        "otlp: {compared} points of export {} equal to the exposition",
        export.number
    );

    // One more request, then the shutdown: its last push counts it.
    let answer = server.request("GET", "/protected", &[], b"");
    assert_eq!(answer.status, 401, "no token: {}", answer.text());
    let stopping = Instant::now();
    drop(server);
    let stopped = stopping.elapsed();
    let last = collector.wait_for("after the shutdown", |export| {
        export.by("jwt.requests", "reason", &protected) == protected_by_reason(3.0)
    });
    eprintln!(
        "otlp: the shutdown took {stopped:?}; export {} counted the last request",
        last.number
    );
    let stderr = collector.stop();
    assert!(
        !stderr.contains("Traceback"),
        "the collector failed:\n{stderr}"
    );
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![test!(
        a_collector_decodes_the_counters_pushed_over_otlp,
        needs[Program::Python(&COLLECTOR_ENV)]
    )]
}
