//! Verifiers of tokens through a JWKS endpoint that we did not write, for the tests that must
//! show that every token the library issues verifies where its public keys are published:
//! panva's `jose` (6.2.19), Auth0's `express-oauth2-jwt-bearer` (1.10.0, its `auth()` middleware
//! used as a library) and PyJWT (2.15.1, `PyJWKClient`), each fetching and caching the key set
//! itself, with its library's defaults, from the URL it is given.
//!
//! [`Verifiers::start`] runs `tests/interop/jwks-verifiers/verify.js` (jose and Auth0's validator)
//! under `node` and `pyjwk_verify.py` (PyJWT) under the Python environment of `requirements.txt`
//! beside it; [`Verifiers::verify`] hands a token to both, which verify it as soon as it arrives
//! (each keeps one instance of its verifier, and so its key set cache, for the whole run);
//! [`Verifiers::finish`] closes their input and returns what each verifier made of the tokens,
//! with `jose`'s RFC 7638 thumbprint of every key the endpoint serves at the end compared with its
//! `kid`:
//!
//! ```json
//! {"jose":   {"verified": 3, "failed": 1, "failures": ["token 2: ERR_JWS_...: ..."]},
//!  "auth0":  {"verified": 3, "failed": 1, "failures": ["token 2: invalid_token: ..."]},
//!  "pyjwt":  {"verified": 3, "failed": 1, "failures": ["token 2: InvalidSignatureError: ..."]},
//!  "thumbprints": {"keys": 2, "kid_equals_thumbprint": 2}}
//! ```
//!
//! `failures` holds the first five failures, in the order of the tokens, numbered from 1.
//!
//! All three refetch the key set for a `kid` they do not know at most once per cooldown (30 s, the
//! default of each), so a key must be published before tokens signed by it are handed to them.
//! [`Verifiers::start_with_cooldown`] sets that cooldown through each library's documented
//! option (jose's and express-oauth2-jwt-bearer's `cooldownDuration`, PyJWT's `cooldown_duration`),
//! for a test that rotates keys more often than every 30 s.
//!
//! The Node packages are installed under the target directory (`npm ci` from the committed
//! `package-lock.json`, again only when it or Node changes; see `node_packages.rs`), and so is the
//! Python environment (see `python_env.rs`; `JWKS_VERIFIERS_PYTHON` names an interpreter that has
//! the requirements instead). Where `node`, `npm` or `python3` is not installed the harness
//! reports the test as ignored, saying why, except under CI (`CI` set), where it fails.

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm as Alg, EncodingKey, Header};
use serde_json::{json, Value};

use crate::common::jwks_server::{testdata, JwksServer};
use crate::common::now;
use crate::node_packages::NodePackages;
use crate::pipes::collect;
use crate::programs::Program;
use crate::python_env::PythonEnv;

/// `verify.js` and its packages.
const APP: NodePackages = NodePackages {
    app_dir: "tests/interop/jwks-verifiers",
    name: "jwks-verifiers",
    package: "jose",
};

/// PyJWT's environment.
pub(crate) static PYJWT_ENV: PythonEnv = PythonEnv {
    name: "jwks-verifiers",
    requirements: "tests/interop/jwks-verifiers/requirements.txt",
    override_var: "JWKS_VERIFIERS_PYTHON",
};

/// How long a verifier may take to start (once its packages are installed).
const STARTUP: Duration = Duration::from_secs(30);
/// How long a verifier may take to finish once its input is closed.
const FINISH: Duration = Duration::from_secs(60);

/// One verifier process: tokens go to its stdin, its answer comes on its stdout.
struct Process {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    /// Its stdout after the `ready` line.
    stdout: Arc<Mutex<String>>,
    stdout_reader: Option<JoinHandle<()>>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    /// The first failure to hand it a token.
    write_error: Option<String>,
}

impl Process {
    /// Spawns `command` and waits for its `ready` line.
    fn start(name: &'static str, mut command: Command) -> Result<Process, String> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {command:?}: {e}"))?;
        let stdin = child.stdin.take();
        let (stderr, stderr_reader) = collect(child.stderr.take().expect("piped stderr"));
        let stdout_pipe = child.stdout.take().expect("piped stdout");
        let stdout = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&stdout);
        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout_reader = std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout_pipe);
            let mut line = String::new();
            let _ = lines.read_line(&mut line);
            let _ = ready_tx.send(line);
            let mut rest = String::new();
            let _ = lines.read_to_string(&mut rest);
            collected.lock().unwrap().push_str(&rest);
        });
        let mut process = Process {
            name,
            child,
            stdin,
            stdout,
            stdout_reader: Some(stdout_reader),
            stderr,
            stderr_reader: Some(stderr_reader),
            write_error: None,
        };
        let line = ready_rx.recv_timeout(STARTUP).unwrap_or_default();
        if line.trim() == "ready" {
            return Ok(process);
        }
        let stderr = process.stop();
        Err(format!(
            "{name} did not say it was ready within {STARTUP:?} (stdout {line:?}); stderr:\n{stderr}"
        ))
    }

    /// Writes `token` and a newline to its stdin.
    fn send(&mut self, token: &str) {
        if self.write_error.is_some() {
            return;
        }
        let Some(stdin) = self.stdin.as_mut() else {
            return;
        };
        let written = stdin
            .write_all(format!("{token}\n").as_bytes())
            .and_then(|()| stdin.flush());
        if let Err(e) = written {
            self.write_error = Some(format!("writing a token to {}: {e}", self.name));
        }
    }

    /// Closes its stdin, waits for it to exit and returns the JSON object it printed last.
    fn finish(mut self) -> Result<Value, String> {
        drop(self.stdin.take());
        let deadline = Instant::now() + FINISH;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => break None,
                Err(e) => return Err(format!("waiting for {}: {e}", self.name)),
            }
        };
        let stderr = self.stop();
        let stdout = self.stdout.lock().unwrap().clone();
        if !stderr.trim().is_empty() {
            eprintln!("{}'s stderr:\n{}", self.name, stderr.trim_end());
        }
        let name = self.name;
        let status = match status {
            Some(status) if status.success() => status,
            Some(status) => {
                return Err(format!(
                    "{name} failed ({status}); stdout:\n{stdout}\nstderr:\n{stderr}"
                ));
            }
            None => {
                return Err(format!(
                    "{name} did not finish within {FINISH:?}; stdout:\n{stdout}\nstderr:\n{stderr}"
                ));
            }
        };
        if let Some(error) = self.write_error.take() {
            return Err(format!(
                "{error} ({name} exited: {status}); stderr:\n{stderr}"
            ));
        }
        let last = stdout.lines().rev().find(|line| !line.trim().is_empty());
        last.and_then(|line| serde_json::from_str::<Value>(line).ok())
            .filter(Value::is_object)
            .ok_or_else(|| {
                format!(
                    "{name} did not end with one JSON object; stdout:\n{stdout}\nstderr:\n{stderr}"
                )
            })
    }

    /// Stops the process (closing its stdin, then killing it by its own pid if it still runs);
    /// what it wrote on stderr.
    fn stop(&mut self) -> String {
        drop(self.stdin.take());
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
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

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The running verifiers: `node verify.js` (jose and Auth0's validator) and
/// `python pyjwk_verify.py` (PyJWT), all against one JWKS URL, issuer and audience.
pub(crate) struct Verifiers {
    node: Process,
    python: Process,
}

impl Verifiers {
    /// Installs the Node packages and the Python environment if needed, then starts both
    /// verifiers and waits until each is ready for tokens.
    pub(crate) fn start(jwks_url: &str, issuer: &str, audience: &str) -> Result<Verifiers, String> {
        Verifiers::launch(jwks_url, issuer, audience, None)
    }

    /// As [`start`](Self::start), with `cooldown` as every verifier's least time between two
    /// fetches of the key set for a `kid` it does not know, in place of their 30 s default.
    pub(crate) fn start_with_cooldown(
        jwks_url: &str,
        issuer: &str,
        audience: &str,
        cooldown: Duration,
    ) -> Result<Verifiers, String> {
        Verifiers::launch(jwks_url, issuer, audience, Some(cooldown))
    }

    fn launch(
        jwks_url: &str,
        issuer: &str,
        audience: &str,
        cooldown: Option<Duration>,
    ) -> Result<Verifiers, String> {
        // The scripts' optional fourth argument, in seconds.
        let cooldown: Vec<String> = cooldown
            .iter()
            .map(|cooldown| cooldown.as_secs_f64().to_string())
            .collect();
        let node_modules = APP.try_node_modules()?;
        let python = std::panic::catch_unwind(|| PYJWT_ENV.interpreter()).map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "cannot prepare PyJWT's Python environment".to_owned())
        })?;
        let source = APP.source();
        let node = Process::start("jose and express-oauth2-jwt-bearer (verify.js)", {
            let mut node = Command::new("node");
            node.arg(source.join("verify.js"))
                .args([jwks_url, issuer, audience])
                .args(&cooldown)
                .env("NODE_PATH", &node_modules)
                .env_remove("NODE_OPTIONS");
            node
        })?;
        let python = Process::start("PyJWT (pyjwk_verify.py)", {
            let mut command = Command::new(python);
            command
                .arg("-u")
                .arg(source.join("pyjwk_verify.py"))
                .args([jwks_url, issuer, audience])
                .args(&cooldown)
                .env_remove("PYTHONPATH")
                .env("PYTHONDONTWRITEBYTECODE", "1");
            command
        })?;
        Ok(Verifiers { node, python })
    }

    /// Hands `token` to every verifier (one line on each one's stdin). A verifier that cannot
    /// take it (it died) makes [`finish`](Self::finish) fail.
    pub(crate) fn verify(&mut self, token: &str) {
        self.node.send(token);
        self.python.send(token);
    }

    /// Closes the verifiers' input, waits for them and returns their answers merged:
    /// `{"jose", "auth0", "pyjwt", "thumbprints"}`.
    pub(crate) fn finish(self) -> Result<Value, String> {
        let Verifiers { node, python } = self;
        let node = node.finish();
        let python = python.finish();
        let (node, python) = match (node, python) {
            (Ok(node), Ok(python)) => (node, python),
            (node, python) => {
                let errors: Vec<String> =
                    [node.err(), python.err()].into_iter().flatten().collect();
                return Err(errors.join("\n"));
            }
        };
        let mut merged = json!({});
        for (answer, name) in [
            (&node, "jose"),
            (&node, "auth0"),
            (&python, "pyjwt"),
            (&node, "thumbprints"),
        ] {
            let part = answer
                .get(name)
                .filter(|part| part.is_object())
                .ok_or_else(|| format!("no `{name}` in {answer}"))?;
            merged[name] = part.clone();
        }
        Ok(merged)
    }
}

// ----- the test ----------------------------------------------------------------------------------

/// The audience of the test's tokens.
const AUDIENCE: &str = "https://api.jwks-verifiers.invalid/";

/// A key pair of `testdata/keys` (`ec`, `ed`, `ec2`): its private PEM and its public JWK.
fn key_pair(stem: &str) -> (String, Value) {
    let read = |path: String| {
        let path = testdata(&path);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let jwk = serde_json::from_str(&read(format!("jwks/{stem}_public.jwk.json"))).expect("JSON");
    (read(format!("keys/{stem}_private.pem")), jwk)
}

/// `jwk` with its `kid` replaced by its RFC 7638 thumbprint (SHA-256, as `jsonwebtoken` computes
/// it).
fn thumbprinted(mut jwk: Value) -> Value {
    let parsed: Jwk = serde_json::from_value(jwk.clone()).expect("a JWK");
    let thumbprint = parsed
        .thumbprint(ThumbprintHash::SHA256)
        .unwrap_or_else(|e| panic!("the thumbprint of {jwk}: {e}"));
    jwk["kid"] = json!(thumbprint);
    jwk
}

/// `claims` signed by the private key `pem` with `alg`, `kid` in the header (`jsonwebtoken`, not
/// our encoder).
fn sign(pem: &str, alg: Alg, kid: &str, claims: &Value) -> String {
    let encoding = match alg {
        Alg::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        Alg::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        other => panic!("no test key for {other:?}"),
    }
    .unwrap_or_else(|e| panic!("a private key for {alg:?}: {e}"));
    let header = Header {
        kid: Some(kid.to_owned()),
        ..Header::new(alg)
    };
    jsonwebtoken::encode(&header, claims, &encoding).expect("signs")
}

/// One verifier's answer: `(verified, failed, the token numbers of its failures)`.
fn tally(answers: &Value, verifier: &str) -> (u64, u64, Vec<u64>) {
    let answer = &answers[verifier];
    let failed_tokens = answer["failures"]
        .as_array()
        .unwrap_or_else(|| panic!("{verifier}: no failures list in {answer}"))
        .iter()
        .map(|failure| {
            failure
                .as_str()
                .and_then(|text| text.strip_prefix("token "))
                .and_then(|text| text.split_once(':'))
                .and_then(|(number, _)| number.parse().ok())
                .unwrap_or_else(|| panic!("{verifier}: a failure without its token: {failure}"))
        })
        .collect();
    (
        answer["verified"].as_u64().expect("verified"),
        answer["failed"].as_u64().expect("failed"),
        failed_tokens,
    )
}

fn independent_verifiers_check_tokens_through_a_jwks_endpoint() {
    let started = Instant::now();
    // The published keys, ES256 and EdDSA, their kids their thumbprints.
    let (ec, ec_jwk) = key_pair("ec");
    let (ed, ed_jwk) = key_pair("ed");
    let jwks = [thumbprinted(ec_jwk), thumbprinted(ed_jwk)];
    let kid = |jwk: &Value| jwk["kid"].as_str().expect("kid").to_owned();
    let signers = [
        (&ec, Alg::ES256, kid(&jwks[0])),
        (&ed, Alg::EdDSA, kid(&jwks[1])),
    ];
    // `ec2`, the attacker's key, whose thumbprint the key set does not have.
    let (attacker, attacker_jwk) = key_pair("ec2");
    let unknown_kid = kid(&thumbprinted(attacker_jwk));
    assert!(jwks.iter().all(|jwk| kid(jwk) != unknown_kid));

    let server = JwksServer::start(&jwks);
    let issuer = server.authority();
    let mut verifiers = Verifiers::start(&server.jwks_url(), &issuer, AUDIENCE)
        .unwrap_or_else(|error| panic!("{error}"));
    let ready = started.elapsed();

    let claims = |n: usize| {
        let now = now();
        json!({"iss": issuer, "aud": AUDIENCE, "sub": format!("user-{n}"), "iat": now,
               "exp": now + 300})
    };
    // Good tokens of both keys, alternating, with the two bad ones among them: a signature by
    // another key under a published kid, and a published key's signature under an unknown kid.
    let mut tokens = Vec::new();
    let mut bad = Vec::new();
    for n in 0..20 {
        let (pem, alg, kid) = &signers[n % 2];
        tokens.push(sign(pem, *alg, kid, &claims(n)));
        if n == 6 {
            tokens.push(sign(&attacker, Alg::ES256, &signers[0].2, &claims(n)));
            bad.push(tokens.len() as u64);
        }
        if n == 13 {
            tokens.push(sign(&ec, Alg::ES256, &unknown_kid, &claims(n)));
            bad.push(tokens.len() as u64);
        }
    }
    for token in &tokens {
        verifiers.verify(token);
        std::thread::sleep(Duration::from_millis(5));
    }
    let answers = verifiers.finish().unwrap_or_else(|error| panic!("{error}"));
    eprintln!(
        "the verifiers' answers for {} tokens ({} bad: tokens {bad:?}), ready after {:.1} s, \
         done after {:.1} s:\n{}",
        tokens.len(),
        bad.len(),
        ready.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        serde_json::to_string_pretty(&answers).expect("JSON")
    );

    let good = (tokens.len() - bad.len()) as u64;
    for verifier in ["jose", "auth0", "pyjwt"] {
        assert_eq!(
            tally(&answers, verifier),
            (good, bad.len() as u64, bad.clone()),
            "{verifier}: (verified, failed, failed tokens) in {answers:#}"
        );
    }
    assert_eq!(
        answers["thumbprints"],
        json!({"keys": jwks.len(), "kid_equals_thumbprint": jwks.len()}),
        "every kid is its key's RFC 7638 thumbprint by jose too"
    );
    // jose, Auth0's validator (its own jose) and PyJWT each fetched the key set, and jose once
    // more for the thumbprints.
    assert!(
        server.jwks_hits() >= 4,
        "{} requests for the key set",
        server.jwks_hits()
    );
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![test!(
        independent_verifiers_check_tokens_through_a_jwks_endpoint,
        needs[Program::Node, Program::Python(&PYJWT_ENV)]
    )]
}
