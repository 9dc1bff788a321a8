//! Rotation of the signing keys without a single failed request, proven against verifiers we did
//! not write. Two instances of the Flask-JWT-Extended example (A and B) share one key directory
//! (`signing_keys_dir`, no secret) and issue tokens under load while three keys are rotated in,
//! one after the other: ES256 `ec_a` signs first, then `ec_b`, `ec_c` (ES256) and `ed_a` (EdDSA)
//! take over, each by a key file written with `published-at` now and `signs-from` [`LEAD`] later.
//! Every token issued, access and refresh, goes as it is issued to panva's `jose`, Auth0's
//! `express-oauth2-jwt-bearer` and PyJWT's `PyJWKClient` (see `jwks_verifiers.rs`), and to our
//! own resource-server example (`GET /api/private` over HTTP, which must answer 200), all four
//! with their own cache of instance A's JWKS; not one token may be refused, nor one login.
//!
//! The timing. A verifier fetches the key set again for a `kid` it does not know at most once per
//! cooldown, counted from its last fetch, which was for the first token of the key before (or for
//! its very first token): a key must start signing more than a cooldown after the key before it,
//! or its first tokens are refused. The libraries' cooldown is 30 s by default; rather than
//! rotate only every 30 s, the test gives every verifier a cooldown of [`COOLDOWN`] (2 s) through
//! its documented option: `cooldownDuration` of `jose`'s `createRemoteJWKSet` and of
//! `express-oauth2-jwt-bearer`'s `auth()`, `cooldown_duration` of PyJWT's `PyJWKClient` (2.15.1),
//! and `jwks_cooldown` of the resource server. Each rotation is written once both instances sign
//! with the key before and [`HOLD`] (2 s) of load has gone by, its `published-at` the second it
//! is written and its `signs-from` [`LEAD`] (3 s) later, so 2 to 3 s after the writing, and
//! consecutive keys start signing at least 4 s apart, twice the cooldown. The lead also covers
//! the instances' reading of the directory (every second): by the time a key signs, A publishes
//! it, so a verifier's fetch for its first token finds it. With the libraries' 30 s cooldowns
//! instead, every token of the new keys is refused by all four.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm as Alg, EncodingKey};
use rocket_flask_jwt::Algorithm;
use serde_json::{json, Value};

use crate::common::now;
use crate::extended_example;
use crate::http_client;
use crate::jwks_verifiers::{Verifiers, PYJWT_ENV};
use crate::live_rocket::LiveRocket;
use crate::programs::Program;
use crate::resource_server_example as resource_server;

/// The issuer and audience the instances write into their tokens and every verifier expects.
const ISSUER: &str = "https://issuer.key-ring-rotation.invalid/";
const AUDIENCE: &str = "https://api.key-ring-rotation.invalid/";

/// How long after its publication a new key starts signing, seconds.
const LEAD: i64 = 3;
/// Every verifier's least time between two fetches of the key set for an unknown `kid`.
const COOLDOWN: Duration = Duration::from_secs(2);
/// How long the load goes on with each key once both instances sign with it (and with the first
/// key before the first rotation, and with the last one at the end).
const HOLD: Duration = Duration::from_secs(2);
/// How long after its `signs-from` both instances may take to sign with a new key.
const SWITCH_WITHIN: Duration = Duration::from_secs(5);

/// The threads logging in, alternately on A and on B, and the pause of each between two logins.
const THREADS: usize = 4;
const PAUSE: Duration = Duration::from_millis(15);

/// The key that signs first, and the keys rotated in after it, in order (`testdata/keys/ring`).
const FIRST_KEY: &str = "ec_a";
const ROTATED_KEYS: [&str; 3] = ["ec_b", "ec_c", "ed_a"];

/// The instances' names, by index.
const INSTANCES: [&str; 2] = ["A", "B"];

/// Seconds since the epoch, with the fraction.
fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// A test key of `testdata/keys/ring`: its PEM and its algorithm (EdDSA for `ed_*`, else ES256).
fn ring_key(stem: &str) -> (String, Alg) {
    let path = crate::common::jwks_server::testdata(&format!("keys/ring/{stem}.pem"));
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let alg = if stem.starts_with("ed_") {
        Alg::EdDSA
    } else {
        Alg::ES256
    };
    (pem, alg)
}

/// The RFC 7638 thumbprint (SHA-256) of a test key's public key, computed here.
fn thumbprint(stem: &str) -> String {
    let (pem, alg) = ring_key(stem);
    let key = match alg {
        Alg::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        _ => EncodingKey::from_ec_pem(pem.as_bytes()),
    }
    .unwrap_or_else(|e| panic!("{stem}: {e}"));
    Jwk::from_encoding_key(&key, alg)
        .and_then(|jwk| jwk.thumbprint(ThumbprintHash::SHA256))
        .unwrap_or_else(|e| panic!("the thumbprint of {stem}: {e}"))
}

/// A key directory of its own under the target directory, removed when dropped.
struct KeyDir(PathBuf);

impl KeyDir {
    fn new() -> KeyDir {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("key-ring-rotation-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        KeyDir(path)
    }

    /// Writes `<stem>.pem`: the test key `stem` with its times. Written beside under another
    /// name, then renamed, so that the instances never read half a file.
    fn add(&self, stem: &str, published_at: i64, signs_from: i64) {
        let (pem, _) = ring_key(stem);
        let text = format!("published-at: {published_at}\nsigns-from: {signs_from}\n{pem}");
        let partial = self.0.join(format!("{stem}.pem.partial"));
        std::fs::write(&partial, text).expect("a key file");
        std::fs::rename(&partial, self.0.join(format!("{stem}.pem"))).expect("a key file");
    }
}

impl Drop for KeyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An instance of the extended example signing with the key ring of `keys`, with no secret.
fn instance(keys: &KeyDir) -> LiveRocket {
    let rocket = extended_example::app(None);
    let figment = rocket
        .figment()
        .clone()
        .merge(("jwt.signing_keys_dir", keys.0.display().to_string()))
        .merge(("jwt.encode_issuer", ISSUER))
        .merge(("jwt.encode_audience", vec![AUDIENCE]));
    LiveRocket::launch(rocket.configure(figment))
}

/// The resource-server example taking its keys from `jwks_url`, with the instances' `issuer`
/// and `audience`, their algorithms and a JWKS refetch `cooldown`: `GET /api/private` answers
/// 200 to their access tokens.
pub(crate) fn resource_server(
    jwks_url: &str,
    issuer: &str,
    audience: &str,
    cooldown: Duration,
) -> LiveRocket {
    let rocket = resource_server::mount(
        resource_server::api()
            .jwks_url(jwks_url)
            .issuer(issuer)
            .audience([audience])
            .algorithms([Algorithm::ES256, Algorithm::EdDSA]),
    );
    let figment = rocket
        .figment()
        .clone()
        .merge(("jwt.jwks_cooldown", cooldown.as_secs()));
    LiveRocket::launch(rocket.configure(figment))
}

/// A segment of a token (0: header, 1: claims), decoded.
fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// One token issued during the test.
struct Issued {
    instance: usize,
    kind: &'static str,
    kid: String,
    iat: i64,
}

/// Where the load threads put each token: the verifiers (fed under the same lock as the list, so
/// that the verifiers' token numbers are the list's), the list, and when each instance first
/// signed with each `kid` (wall clock).
struct Sink {
    verifiers: Verifiers,
    issued: Vec<Issued>,
    first_signed: HashMap<(usize, String), f64>,
}

/// What the load threads share.
struct Load<'a> {
    instances: [&'a LiveRocket; 2],
    resource_server: &'a LiveRocket,
    sink: Mutex<Sink>,
    stop: AtomicBool,
    /// Logins that did not answer 200 with two tokens.
    login_failures: Mutex<Vec<String>>,
    logins: AtomicU64,
    /// Tokens the resource server answered 200 for, and its other answers.
    accepted: AtomicU64,
    refused: Mutex<Vec<String>>,
}

impl Load<'_> {
    /// Logs in on A and on B alternately (starting on `thread % 2`) until told to stop.
    fn run(&self, thread: usize) {
        let mut n = thread;
        while !self.stop.load(Ordering::SeqCst) {
            let instance = n % 2;
            n += 1;
            self.login(instance);
            std::thread::sleep(PAUSE);
        }
    }

    fn login(&self, instance: usize) {
        self.logins.fetch_add(1, Ordering::SeqCst);
        let response = http_client::request(
            self.instances[instance].port(),
            "POST",
            "/login",
            &[("Content-Type", "application/json")],
            br#"{"username": "user1", "password": "abcxyz"}"#,
        );
        let body = match response {
            Ok(response) if response.status == 200 => response.json(),
            Ok(response) => {
                return self.login_failed(
                    instance,
                    format!("{}: {}", response.status, response.text()),
                );
            }
            Err(error) => return self.login_failed(instance, error.to_string()),
        };
        let tokens: Vec<(&'static str, String)> =
            [("access", "access_token"), ("refresh", "refresh_token")]
                .into_iter()
                .filter_map(|(kind, field)| Some((kind, body[field].as_str()?.to_owned())))
                .collect();
        if tokens.len() != 2 {
            return self.login_failed(instance, format!("not two tokens: {body}"));
        }
        let mut numbers = Vec::new();
        {
            let mut sink = self.sink.lock().unwrap();
            let signed = wall_clock();
            for (kind, token) in &tokens {
                let kid = segment(token, 0)["kid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let iat = segment(token, 1)["iat"].as_i64().unwrap_or_default();
                sink.first_signed
                    .entry((instance, kid.clone()))
                    .or_insert(signed);
                sink.issued.push(Issued {
                    instance,
                    kind,
                    kid,
                    iat,
                });
                sink.verifiers.verify(token);
                numbers.push(sink.issued.len());
            }
        }
        // The resource server's protected route takes access tokens only (a refresh token is
        // refused there, 422 "Only non-refresh tokens are allowed", whatever its signature).
        for ((kind, token), number) in tokens.iter().zip(numbers) {
            if *kind != "access" {
                continue;
            }
            let answer = http_client::request(
                self.resource_server.port(),
                "GET",
                "/api/private",
                &[("Authorization", &format!("Bearer {token}"))],
                b"",
            );
            match answer {
                Ok(answer) if answer.status == 200 => {
                    self.accepted.fetch_add(1, Ordering::SeqCst);
                }
                Ok(answer) => self.refused.lock().unwrap().push(format!(
                    "token {number} ({kind} of {}): {} {}",
                    INSTANCES[instance],
                    answer.status,
                    answer.text()
                )),
                Err(error) => self.refused.lock().unwrap().push(format!(
                    "token {number} ({kind} of {}): {error}",
                    INSTANCES[instance]
                )),
            }
        }
    }

    fn login_failed(&self, instance: usize, why: String) {
        self.login_failures
            .lock()
            .unwrap()
            .push(format!("login on {}: {why}", INSTANCES[instance]));
    }

    /// When each instance first signed with `kid`, once both have.
    fn first_signed(&self, kid: &str) -> Option<[f64; 2]> {
        let sink = self.sink.lock().unwrap();
        let on = |instance: usize| sink.first_signed.get(&(instance, kid.to_owned())).copied();
        Some([on(0)?, on(1)?])
    }
}

/// Tells the load threads to stop when dropped, so that a panic of the test's own thread does not
/// leave them running.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// One rotation: the key written, its `kid`, its times, and when each instance first signed with
/// it.
struct Rotation {
    stem: &'static str,
    kid: String,
    written: f64,
    signs_from: i64,
    first_signed: [f64; 2],
}

fn signing_keys_rotate_under_load_without_a_failed_verification() {
    let started = Instant::now();
    let t0 = wall_clock();
    let keys = KeyDir::new();
    let first = now() - 60;
    keys.add(FIRST_KEY, first, first);
    let a = instance(&keys);
    let b = instance(&keys);
    let jwks_url = format!("http://127.0.0.1:{}/.well-known/jwks.json", a.port());
    let ours = resource_server(&jwks_url, ISSUER, AUDIENCE, COOLDOWN);
    let verifiers = Verifiers::start_with_cooldown(&jwks_url, ISSUER, AUDIENCE, COOLDOWN)
        .unwrap_or_else(|error| panic!("{error}"));
    let ready = started.elapsed();

    let load = Load {
        instances: [&a, &b],
        resource_server: &ours,
        sink: Mutex::new(Sink {
            verifiers,
            issued: Vec::new(),
            first_signed: HashMap::new(),
        }),
        stop: AtomicBool::new(false),
        login_failures: Mutex::new(Vec::new()),
        logins: AtomicU64::new(0),
        accepted: AtomicU64::new(0),
        refused: Mutex::new(Vec::new()),
    };
    let first_kid = thumbprint(FIRST_KEY);
    let mut rotations = Vec::new();
    std::thread::scope(|scope| {
        let _stop = StopOnDrop(&load.stop);
        for thread in 0..THREADS {
            let load = &load;
            scope.spawn(move || load.run(thread));
        }
        let until = |what: &str, deadline: Instant, done: &dyn Fn() -> bool| {
            while !done() {
                assert!(Instant::now() < deadline, "{what}");
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        until(
            "both instances sign with the first key",
            Instant::now() + SWITCH_WITHIN,
            &|| load.first_signed(&first_kid).is_some(),
        );
        std::thread::sleep(HOLD);
        for stem in ROTATED_KEYS {
            let kid = thumbprint(stem);
            let written = wall_clock();
            let published_at = now();
            let signs_from = published_at + LEAD;
            keys.add(stem, published_at, signs_from);
            let lead_left = Duration::from_secs_f64((signs_from as f64 - wall_clock()).max(0.0));
            until(
                &format!(
                    "both instances sign with {stem} within {SWITCH_WITHIN:?} of its signs-from"
                ),
                Instant::now() + lead_left + SWITCH_WITHIN,
                &|| load.first_signed(&kid).is_some(),
            );
            let first_signed = load.first_signed(&kid).expect("both signed");
            rotations.push(Rotation {
                stem,
                kid,
                written,
                signs_from,
                first_signed,
            });
            std::thread::sleep(HOLD);
        }
    });
    let load_ended = wall_clock();
    let Load {
        sink,
        login_failures,
        logins,
        accepted,
        refused,
        ..
    } = load;
    let Sink {
        verifiers, issued, ..
    } = sink.into_inner().unwrap();
    let answers = verifiers.finish().unwrap_or_else(|error| panic!("{error}"));
    let refused = refused.into_inner().unwrap();
    let login_failures = login_failures.into_inner().unwrap();
    let accepted = accepted.into_inner();
    let total = issued.len() as u64;

    // The summary.
    let name = |stem: &str| {
        let (_, alg) = ring_key(stem);
        format!("{stem} ({alg:?})")
    };
    eprintln!(
        "key_ring_rotation: {} logins, {total} tokens ({} from A, {} from B) in {:.1} s of load; \
         verifiers ready {:.1} s after the start, first key {} kid {first_kid}",
        logins.into_inner(),
        issued.iter().filter(|t| t.instance == 0).count(),
        issued.iter().filter(|t| t.instance == 1).count(),
        load_ended - t0 - ready.as_secs_f64(),
        ready.as_secs_f64(),
        name(FIRST_KEY),
    );
    for verifier in ["jose", "auth0", "pyjwt"] {
        eprintln!(
            "key_ring_rotation: {verifier:<16} {} tokens verified, {} failed {}",
            answers[verifier]["verified"],
            answers[verifier]["failed"],
            answers[verifier]["failures"]
        );
    }
    eprintln!(
        "key_ring_rotation: {:<16} {accepted} access tokens verified (200), {} failed {:?}",
        "resource_server",
        refused.len(),
        refused.iter().take(5).collect::<Vec<_>>()
    );
    for (n, rotation) in rotations.iter().enumerate() {
        let [on_a, on_b] = rotation
            .first_signed
            .map(|at| at - rotation.signs_from as f64);
        eprintln!(
            "key_ring_rotation: rotation {}: {} kid {}, written at +{:.2} s, signs from +{:.2} s; \
             first token on A at signs-from {on_a:+.2} s, on B at {on_b:+.2} s",
            n + 1,
            name(rotation.stem),
            rotation.kid,
            rotation.written - t0,
            rotation.signs_from as f64 - t0,
        );
    }
    eprintln!(
        "key_ring_rotation: thumbprints {}; done after {:.1} s",
        answers["thumbprints"],
        started.elapsed().as_secs_f64()
    );

    // Not one failed request.
    assert!(
        login_failures.is_empty(),
        "failed logins: {login_failures:?}"
    );
    assert!(
        total >= 300,
        "{total} tokens: too few for the test to mean much"
    );
    for verifier in ["jose", "auth0", "pyjwt"] {
        assert_eq!(
            (
                answers[verifier]["verified"].as_u64(),
                answers[verifier]["failed"].as_u64()
            ),
            (Some(total), Some(0)),
            "{verifier}: (verified, failed) in {answers:#}"
        );
    }
    let access_tokens = issued.iter().filter(|token| token.kind == "access").count() as u64;
    assert_eq!(
        (accepted, refused.len()),
        (access_tokens, 0),
        "the resource server: (200s, refusals), the first refusals {:#?}",
        &refused[..refused.len().min(5)]
    );

    // Every key named by its thumbprint: the four keys the JWKS serves at the end, by jose, and
    // every token's kid by the thumbprint of the key file it came from, computed here.
    assert_eq!(
        answers["thumbprints"],
        json!({"keys": 1 + ROTATED_KEYS.len(), "kid_equals_thumbprint": 1 + ROTATED_KEYS.len()}),
        "every published kid is its key's RFC 7638 thumbprint by jose"
    );
    // The keys in order of signing, each with its signs-from.
    let mut schedule = vec![(FIRST_KEY, first_kid.clone(), first)];
    schedule.extend(
        rotations
            .iter()
            .map(|rotation| (rotation.stem, rotation.kid.clone(), rotation.signs_from)),
    );
    let mut per_key: BTreeMap<usize, [u64; 2]> = BTreeMap::new();
    for (number, token) in issued.iter().enumerate() {
        let Some(position) = schedule.iter().position(|(_, kid, _)| *kid == token.kid) else {
            panic!(
                "token {} ({} of {}) has kid {:?}, the thumbprint of none of the keys",
                number + 1,
                token.kind,
                INSTANCES[token.instance],
                token.kid
            );
        };
        // Signed by the key current when it was issued (to the second: `iat` is whole seconds).
        let from = schedule[position].2;
        let until = schedule
            .get(position + 1)
            .map(|(_, _, signs_from)| *signs_from);
        assert!(
            from <= token.iat + 1 && until.is_none_or(|until| token.iat < until + 1),
            "token {} ({} of {}, iat {}) signed by {}, which signs from {from} until {until:?}",
            number + 1,
            token.kind,
            INSTANCES[token.instance],
            token.iat,
            schedule[position].0
        );
        per_key.entry(position).or_default()[token.instance] += 1;
    }
    let new_kids: Vec<&String> = rotations.iter().map(|rotation| &rotation.kid).collect();
    let mut distinct = new_kids.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() >= 3 && !distinct.contains(&&first_kid),
        "three new kids: {new_kids:?}"
    );
    // Both instances issued tokens with every key, the first and each new one.
    for (position, (stem, _, _)) in schedule.iter().enumerate() {
        let counts = per_key.get(&position).copied().unwrap_or_default();
        assert!(
            counts.iter().all(|&count| count > 0),
            "tokens signed by {stem} from A and B: {counts:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the test took {:?}",
        started.elapsed()
    );
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![test!(
        signing_keys_rotate_under_load_without_a_failed_verification,
        needs[Program::Node, Program::Python(&PYJWT_ENV)]
    )]
}
