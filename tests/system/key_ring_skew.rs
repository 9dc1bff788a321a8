//! The key ring on Redis (`key_rotation_period`) with one instance's clock 30 s behind the
//! other's.
//!
//! The guarantee: every instance computes a key's state from the key's times (written in the
//! clock of the instance that created it) and its own clock, and a key is published
//! `jwks_max_age` (the lead) before it signs. An instance whose clock is `s` seconds behind takes
//! a key created by the other for pending, which does not verify, until `s` seconds after the
//! other sees it published, and signs with it `s` seconds after the other does; a key it creates
//! itself carries times `s` seconds early, so the other verifies it at once and signs with it
//! `lead - s` seconds later, still after the lagging instance can verify it. While the lead
//! exceeds the skew, every instance verifies a key before any instance signs with it: no token
//! is refused for its key, through every rotation.
//!
//! The runtime reads one process-wide clock, so the lagging instance is another process:
//! instance A is `examples/extended.rs` in this process ([`crate::live_rocket::extended`]),
//! instance B is the same example's binary run under libfaketime (`faketime -f -30s`, the
//! monotonic clock left alone so that Tokio's timers run), configured by its environment. Both
//! share one `redis-server` and one key-encryption key; period 45 s, lead 35 s (over the 30 s
//! skew). The test checks first that B's tokens carry an `iat` 30 s behind the real time.
//!
//! B starts first and creates the fleet's first key (dated the lead back, so that an instance up to
//! the lead behind sees it signing too). A's first round finds B's key already old and creates
//! the next key at once; it signs on A 35 s later and on B 30 s after A. Logins on A and on B every ~100 ms until B signs with the new key (about
//! 65 s in all); every token must verify on its issuer and on the other instance
//! (`GET /protected`, 200). The test prints the timeline in real time and the counts, and every
//! refusal with its answer.
//!
//! The keys are not the only thing a skew touches: A's tokens reach B with an `iat` and an `nbf`
//! 30 s in B's future, and the extended profile checks both within its leeway (`leeway`,
//! Flask-JWT-Extended's `JWT_DECODE_LEEWAY`, 0 by default), as every verifier does. The leeway is
//! what covers a fleet's clock skew for the validity period, the publication lead what covers it
//! for the keys: both instances here run with a leeway of 30 s. (With the default leeway, every
//! token of A was refused on B with 422 `The token is not yet valid (iat)`, whatever its key.)
//!
//! The example's binary is the one `cargo test` builds (`<target>/<profile>/examples/extended`);
//! when it is missing, or older than the sources it is built from, the test builds it
//! (`cargo build --example extended`). Skipped (saying why) where `redis-server` or `faketime`
//! (Debian package faketime) is not installed, unless `CI` is set.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::common::redis_server::RedisServer;
use crate::http_client::{self, HttpResponse};
use crate::programs::Program;

/// How far B's clock is behind the real time, seconds.
const SKEW: i64 = 30;
/// `key_rotation_period`, seconds.
const PERIOD: i64 = 45;
/// `jwks_max_age`, the publication lead, seconds: over the skew.
const LEAD: i64 = 35;
/// How long B may take to ignite and listen.
const STARTUP: Duration = Duration::from_secs(30);
/// Between two rounds of logins.
const PACE: Duration = Duration::from_millis(100);

/// The key-encryption key of the fleet (32 bytes, base64).
fn kek() -> String {
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}

/// The real time, seconds since the epoch.
fn real_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

// ----- the example's binary --------------------------------------------------------------------

/// The package's directory.
fn package_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The sources the example's binary is built from.
fn sources() -> [PathBuf; 8] {
    let dir = package_dir();
    [
        dir.join("Cargo.toml"),
        dir.join("Cargo.lock"),
        dir.join("src"),
        dir.join("examples/extended.rs"),
        dir.join("examples/extended"),
        dir.join("jwt-runtime/Cargo.toml"),
        dir.join("jwt-runtime/src"),
        dir.join("jwt-macros/src"),
    ]
}

/// The latest modification time of `path`, a file or a directory's files, if any.
fn last_modified(path: &Path) -> Option<SystemTime> {
    let metadata = fs::metadata(path).ok()?;
    if !metadata.is_dir() {
        return metadata.modified().ok();
    }
    fs::read_dir(path)
        .ok()?
        .filter_map(|entry| last_modified(&entry.ok()?.path()))
        .max()
}

/// `examples/extended` beside this test binary (`<target>/<profile>/deps/<test>`), built when it
/// is missing or older than its sources.
fn extended_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary in <target>/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("extended{}", std::env::consts::EXE_SUFFIX));
    let built = last_modified(&binary);
    let changed = sources()
        .iter()
        .filter_map(|path| last_modified(path))
        .max();
    if built.is_none() || built < changed {
        build_extended(profile_dir);
    }
    assert!(
        binary.is_file(),
        "the example's binary {} is missing: build it with `cargo build --example extended` \
         (with this test's profile and target directory)",
        binary.display()
    );
    binary
}

/// `cargo build --example extended` into the target directory and profile of this test binary.
fn build_extended(profile_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let target_dir = profile_dir.parent().expect("<target>/<profile>");
    let mut command = Command::new(&cargo);
    command
        .args(["build", "--example", "extended", "--manifest-path"])
        .arg(package_dir().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => {}
        Some(profile) => {
            command.args(["--profile", profile]);
        }
        None => panic!("no profile directory in {}", profile_dir.display()),
    }
    println!("building the example: {command:?}");
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cargo.to_string_lossy()));
    assert!(
        status.success(),
        "`cargo build --example extended` failed ({status}); the test needs the example's binary"
    );
}

// ----- instance B: the example under faketime ----------------------------------------------------

/// The example's binary as a child process under `faketime`, its clock [`SKEW`] seconds behind,
/// in a process group of its own (`faketime` runs the program as its own child); dropping it
/// kills the group.
struct Skewed {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Skewed {
    /// Starts it on a free port with the ring on the Redis at `redis_url`; returns once it
    /// listens.
    fn start(redis_url: &str, kek: &str) -> Skewed {
        let binary = extended_binary();
        let mut child = Command::new("faketime")
            .args(["-f", &format!("-{SKEW}s")])
            .arg(&binary)
            // The wall clock only: Tokio's timers run on the monotonic clock.
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", "0")
            .env("ROCKET_CLI_COLORS", "false")
            .env("REDIS_URL", redis_url)
            .env("JWT_KEY_ROTATION_PERIOD", PERIOD.to_string())
            .env("JWT_JWKS_MAX_AGE", LEAD.to_string())
            .env("JWT_KEY_ENCRYPTION_KEY", kek)
            .env("JWT_LEEWAY", SKEW.to_string())
            // The ring alone signs and verifies (no secret, so no `JWT_STATIC_KEYS_UNTIL`).
            .env_remove("JWT_SECRET_KEY")
            .current_dir(package_dir())
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run faketime: {e}"));
        let (output, out_reader) = crate::pipes::collect(child.stdout.take().expect("stdout"));
        let (errors, err_reader) = crate::pipes::collect(child.stderr.take().expect("stderr"));
        // One text for both: the errors are few, and read at the end.
        let merged = Arc::clone(&output);
        let err_merger = std::thread::spawn(move || {
            let _ = err_reader.join();
            let errors = errors.lock().unwrap().clone();
            merged.lock().unwrap().push_str(&errors);
        });
        let mut skewed = Skewed {
            child,
            port: 0,
            output,
            readers: vec![out_reader, err_merger],
        };
        // Port 0: B's launch line names the port it took (no other test can take it first).
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(port) = launched_port(&skewed.output()) {
                skewed.port = port;
                if http_client::request(port, "GET", "/protected", &[], b"").is_ok() {
                    return skewed;
                }
            }
            if let Ok(Some(status)) = skewed.child.try_wait() {
                skewed.fail(&format!("B exited before listening ({status})"));
            }
            if Instant::now() > deadline {
                skewed.fail(&format!("B did not listen within {STARTUP:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What B wrote so far.
    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Panics with `what` and the end of B's output.
    fn fail(&mut self, what: &str) -> ! {
        self.kill();
        let output = self.output();
        let lines: Vec<&str> = output.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        panic!("{what}\n--- B's output, last lines ---\n{tail}\n---")
    }

    fn kill(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl Drop for Skewed {
    fn drop(&mut self) {
        self.kill();
    }
}

// ----- requests --------------------------------------------------------------------------------

/// One of the two instances, as the scenario talks to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Name {
    A,
    B,
}

/// A login's token, as issued.
struct Issued {
    token: String,
    kid: String,
    iat: i64,
    /// The real time of the login.
    at: f64,
}

/// One HTTP exchange with the instance on `port`; panics when it fails.
fn request(
    port: u16,
    who: Name,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let body: &[u8] = match path {
        "/login" => br#"{"username": "user1", "password": "abcxyz"}"#,
        _ => b"",
    };
    http_client::request(port, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path} to {who:?} (port {port}): {e}"))
}

/// A fresh access token for user1 from the instance on `port`.
fn login(port: u16, who: Name) -> Issued {
    let at = real_now();
    let response = request(
        port,
        who,
        "POST",
        "/login",
        &[("Content-Type", "application/json")],
    );
    assert_eq!(
        response.status,
        200,
        "login on {who:?}: {}",
        response.text()
    );
    let token = response.json()["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let header = part(&token, 0);
    let claims = part(&token, 1);
    Issued {
        kid: header["kid"].as_str().expect("a kid").to_owned(),
        iat: claims["iat"].as_i64().expect("an iat"),
        token,
        at,
    }
}

/// The JSON of a token's `index`th part.
fn part(token: &str, index: usize) -> Value {
    let text = token.split('.').nth(index).expect("a JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// `GET /protected` with `token` on the instance on `port`: the status and the body.
fn protected(port: u16, who: Name, token: &str) -> (u16, String) {
    let response = request(
        port,
        who,
        "GET",
        "/protected",
        &[("Authorization", &format!("Bearer {token}"))],
    );
    (response.status, response.text())
}

// ----- the record -------------------------------------------------------------------------------

/// One key as the Redis hash holds it (the times in its creator's clock).
struct Record {
    kid: String,
    published_at: i64,
    signs_from: i64,
}

/// The keys in the hash, oldest first.
fn records(redis: &RedisServer) -> Vec<Record> {
    let reply = redis.command("HGETALL jwt:revocation:signing-keys");
    let items: Vec<&str> = reply
        .split("\r\n")
        .filter(|line| !line.is_empty() && !line.starts_with(['*', '$']))
        .collect();
    let mut records: Vec<Record> = items
        .chunks(2)
        .map(|pair| {
            let record: Value = serde_json::from_str(pair[1])
                .unwrap_or_else(|e| panic!("a key record ({e}): {reply:?}"));
            Record {
                kid: pair[0].to_owned(),
                published_at: record["published_at"].as_i64().expect("published_at"),
                signs_from: record["signs_from"].as_i64().expect("signs_from"),
            }
        })
        .collect();
    records.sort_by_key(|record| record.signs_from);
    records
}

/// What one instance signed: the first and last real times of each key, in order of first use.
#[derive(Default)]
struct Signed {
    keys: Vec<(String, f64, f64, usize)>,
}

impl Signed {
    fn add(&mut self, issued: &Issued) {
        match self.keys.last_mut() {
            Some((kid, _, last, count)) if *kid == issued.kid => {
                *last = issued.at;
                *count += 1;
            }
            _ => self
                .keys
                .push((issued.kid.clone(), issued.at, issued.at, 1)),
        }
    }

    /// When it first signed with `kid`.
    fn first(&self, kid: &str) -> Option<f64> {
        self.keys
            .iter()
            .find(|(k, ..)| k == kid)
            .map(|(_, first, ..)| *first)
    }

    /// When it last signed with the key before `kid`.
    fn last_before(&self, kid: &str) -> Option<f64> {
        let index = self.keys.iter().position(|(k, ..)| k == kid)?;
        index.checked_sub(1).map(|before| self.keys[before].2)
    }
}

/// The port of Rocket's launch line (`Rocket has launched from http://127.0.0.1:<port>`) in
/// `output`, once it is there.
fn launched_port(output: &str) -> Option<u16> {
    let rest = output.split("launched from http://127.0.0.1:").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A refusal: issuer, verifier, kid, status and body.
type Refusal = (Name, Name, String, u16, String);

fn the_clock_of_one_instance_30_s_behind_fails_no_verification_through_a_rotation() {
    let redis = RedisServer::start();
    let kek = kek();
    let started = Instant::now();
    let t0 = real_now();
    let since = |at: f64| at - t0;

    // B first: it creates the fleet's first key, in its own clock.
    let b = Skewed::start(&redis.url(), &kek);
    let b_listening = real_now();
    let settings = [
        ("key_rotation_period", json!(PERIOD)),
        ("jwks_max_age", json!(LEAD)),
        ("key_encryption_key", json!(kek)),
        ("static_keys_until", json!(0)),
        ("leeway", json!(SKEW)),
    ];
    let a = crate::live_rocket::extended(Some(&redis.url()), &settings);
    let a_listening = real_now();
    let (a_port, b_port) = (a.port(), b.port);
    let port = |who: Name| match who {
        Name::A => a_port,
        Name::B => b_port,
    };

    // B's clock is behind: its tokens' `iat` is the real time less the skew.
    let first = login(b_port, Name::B);
    let behind = first.at.floor() as i64 - first.iat;
    assert!(
        (SKEW - 1..=SKEW + 1).contains(&behind),
        "B's iat is {behind} s behind the real time, not {SKEW} s: faketime does not shift its \
         clock here"
    );
    let first_key = first.kid.clone();

    let mut signed: BTreeMap<Name, Signed> = BTreeMap::new();
    let mut verified: BTreeMap<(Name, Name), usize> = BTreeMap::new();
    let mut refused: BTreeMap<Refusal, (usize, f64, f64)> = BTreeMap::new();
    let mut new_key: Option<String> = None;
    let deadline = started + Duration::from_secs((SKEW + LEAD + 30) as u64);
    let b_switched = loop {
        for issuer in [Name::A, Name::B] {
            let issued = login(port(issuer), issuer);
            signed.entry(issuer).or_default().add(&issued);
            if issuer == Name::A && issued.kid != first_key && new_key.is_none() {
                new_key = Some(issued.kid.clone());
            }
            for verifier in [issuer, if issuer == Name::A { Name::B } else { Name::A }] {
                let (status, body) = protected(port(verifier), verifier, &issued.token);
                if status == 200 {
                    *verified.entry((issuer, verifier)).or_default() += 1;
                } else {
                    let key = (issuer, verifier, issued.kid.clone(), status, body);
                    let entry = refused.entry(key).or_insert((0, issued.at, issued.at));
                    entry.0 += 1;
                    entry.2 = issued.at;
                }
            }
        }
        let b_new = new_key
            .as_deref()
            .and_then(|kid| signed.get(&Name::B)?.first(kid));
        if let Some(at) = b_new {
            break Some(at);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(PACE);
    };
    let elapsed = started.elapsed();

    // The timeline, in real time (seconds since the test started, then since the epoch).
    let records = records(&redis);
    let a_logs = crate::common::logs::containing("created in Redis");
    let b_output = b.output();
    let label = |kid: &str| {
        records
            .iter()
            .position(|record| record.kid == kid)
            .map_or_else(|| format!("key {kid}"), |index| format!("K{index} ({kid})"))
    };
    let mut timeline = vec![
        (b_listening, "B (30 s behind) listens".to_owned()),
        (a_listening, "A listens".to_owned()),
    ];
    for record in &records {
        let by_a = a_logs.iter().any(|line| line.contains(&record.kid));
        let by_b = b_output.contains(&format!("signing key {}", record.kid));
        let (creator, offset) = match (by_a, by_b) {
            (true, false) => ("A", 0),
            (false, true) => ("B", SKEW),
            _ => ("?", 0),
        };
        timeline.push((
            (record.published_at + offset) as f64,
            format!(
                "{} created by {creator}: published_at {}, signs_from {} (whole seconds, its \
                 creator's clock)",
                label(&record.kid),
                record.published_at,
                record.signs_from
            ),
        ));
    }
    for (who, what) in &signed {
        for (index, (kid, first, last, count)) in what.keys.iter().enumerate() {
            let since_previous = match index {
                0 => String::new(),
                _ => format!(
                    " (its last token with the previous key at {:.1})",
                    since(what.keys[index - 1].2)
                ),
            };
            timeline.push((
                *first,
                format!(
                    "{who:?} signs with {}{since_previous}: {count} tokens until {:.1}",
                    label(kid),
                    since(*last)
                ),
            ));
        }
    }
    timeline.sort_by(|x, y| x.0.total_cmp(&y.0));
    println!("timeline (real time; s since the test started, then since the epoch):");
    for (at, what) in &timeline {
        println!("  {:6.1}  {at:.1}  {what}", since(*at));
    }
    for ((issuer, verifier), count) in &verified {
        println!("tokens of {issuer:?} verified on {verifier:?}: {count}");
    }
    let refusals: Vec<String> = refused
        .iter()
        .map(
            |((issuer, verifier, kid, status, body), (count, first, last))| {
                format!(
                    "{count} tokens of {issuer:?} signed by {} refused on {verifier:?} (issued \
                 {:.1} to {:.1}): {status} {body}",
                    label(kid),
                    since(*first),
                    since(*last)
                )
            },
        )
        .collect();
    for refusal in &refusals {
        println!("REFUSED: {refusal}");
    }
    println!("the scenario took {:.1} s", elapsed.as_secs_f64());

    let new_key = new_key.expect("A never signed with a new key");
    let b_switched = b_switched.unwrap_or_else(|| {
        panic!(
            "B did not sign with the new key {} within {:?}",
            label(&new_key),
            deadline - started
        )
    });
    assert!(
        refusals.is_empty(),
        "{} refusals:\n{}",
        refusals.len(),
        refusals.join("\n")
    );
    let a_switched = signed[&Name::A]
        .first(&new_key)
        .expect("A used the new key");
    assert!(
        signed[&Name::A].last_before(&new_key).is_some()
            && signed[&Name::B].last_before(&new_key).is_some(),
        "both signed with the first key before the new one"
    );
    let lag = b_switched - a_switched;
    assert!(
        (SKEW as f64 - 2.0..=SKEW as f64 + 2.0).contains(&lag),
        "B signs with the new key {lag:.1} s after A, not about {SKEW} s"
    );
}

pub fn tests() -> Vec<crate::Test> {
    vec![test!(
        the_clock_of_one_instance_30_s_behind_fails_no_verification_through_a_rotation,
        needs[Program::RedisServer, Program::Faketime]
    )]
}
