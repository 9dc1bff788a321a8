//! DPoP (RFC 9449) against real clients, a real authorization server and a real Redis: panva's
//! libraries (pinned in `tests/interop/dpop/package.json`: `dpop` 2.1.2, `oauth4webapi` 3.8.9,
//! `oidc-provider` 9.13.3, `jose` 6.2.19) talk to the examples served on 127.0.0.1.
//!
//! - `client.js` (oauth4webapi's DPoP handle and `protectedResourceRequest`) logs in at the
//!   extended example (`examples/extended.rs`) with a proof, for each key type it makes, and calls
//!   `/protected` with the bound token; it follows the server's `use_dpop_nonce` answers; with a
//!   key other than the token's it is refused with `invalid_token`.
//! - `proofs.js` (a proof oracle) signs proofs with `alg: "EdDSA"` (by jose: dpop and oauth4webapi
//!   write Ed25519 proofs as `"Ed25519"`), `"Ed25519"`, ES384 and PS256, each proof good once,
//!   the login's too.
//! - `as.js` (oidc-provider with DPoP and RFC 9068 JWT access tokens, client credentials) issues
//!   DPoP-bound tokens that the resource-server example (`examples/resource_server.rs`, with
//!   `dpop = "required"` and `strict_access_tokens`) accepts with their proofs, and refuses sent
//!   by another key, without a proof, or as `Bearer` (no downgrade).
//! - Two instances of the extended example sharing one `redis-server` remember proofs together (a
//!   proof accepted by one is refused by the other), at one `SET NX PX` per proof that reaches
//!   the replay check and none for bearer requests; a Redis that cannot answer fails DPoP
//!   requests closed (503), or open with `revocation_fail_open`.
//!
//! The Node packages are installed by the tests under the target directory (`npm ci` from the
//! committed `package-lock.json`; see `node_packages.rs`). Where `node`, `npm` or `redis-server`
//! is missing the harness reports the tests that need them as ignored, except under `CI`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::common::dpop::ClientKey;
use crate::common::redis_server::RedisServer;
use crate::http_client::{self, HttpResponse};
use crate::live_rocket::LiveRocket;
use crate::node_packages::NodePackages;
use crate::node_server::NodeServer;
use crate::pipes::collect;
use crate::programs::Program;
use crate::resource_server_example as resource_server;

/// The Node side: `proofs.js`, `client.js`, `as.js` and their packages.
const APP: NodePackages = NodePackages {
    app_dir: "tests/interop/dpop",
    name: "dpop",
    package: "oauth4webapi",
};

/// The extended example's users (`examples/extended.rs`); client.js's defaults are another
/// application's (alice / wonderland).
const USERNAME: &str = "user1";
const PASSWORD: &str = "abcxyz";

/// as.js's resource server: the audience of its access tokens.
const AUDIENCE: &str = "https://api.example.test";

/// How long a Node program may take to start listening, or to run.
const STARTUP: Duration = Duration::from_secs(30);
const RUN: Duration = Duration::from_secs(60);

// ----- the Node programs -------------------------------------------------------------------------

fn node_modules() -> PathBuf {
    APP.node_modules()
}

fn script(name: &str) -> PathBuf {
    APP.source().join(name)
}

/// `node <script>` with the packages, no `NODE_OPTIONS` and none of client.js's `DPOP_*`
/// variables from the environment.
fn node(node_modules: &Path, name: &str) -> Command {
    let mut command = Command::new("node");
    command
        .arg(script(name))
        .env("NODE_PATH", node_modules)
        .env_remove("NODE_OPTIONS");
    for (variable, _) in std::env::vars_os() {
        if variable.to_string_lossy().starts_with("DPOP_") {
            command.env_remove(variable);
        }
    }
    command
}

/// What one run of client.js printed: one JSON object per line.
#[derive(Debug)]
struct ClientRun {
    lines: Vec<Value>,
}

impl ClientRun {
    /// The HTTP attempts of one kind (`login`, `token`, `resource`), in order.
    fn attempts(&self, request: &str) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|line| line["attempt"].is_u64() && line["request"] == request)
            .collect()
    }

    /// The token line: `{"access_token", "token_type", "jkt"}`.
    fn token(&self) -> &Value {
        self.lines
            .iter()
            .find(|line| line.get("access_token").is_some())
            .unwrap_or_else(|| panic!("no token line in {:#?}", self.lines))
    }

    fn access_token(&self) -> &str {
        self.token()["access_token"].as_str().expect("a token")
    }

    /// The resource's final answer: its status and body text.
    fn outcome(&self) -> (u64, &str) {
        let last = self.lines.last().expect("some output");
        match (last["status"].as_u64(), last["body"].as_str()) {
            (Some(status), Some(body)) if last.get("attempt").is_none() => (status, body),
            _ => panic!("the last line is no outcome: {:#?}", self.lines),
        }
    }
}

/// `node client.js <args>`, which must exit 0 within [`RUN`].
fn run_client(node_modules: &Path, args: &[&str]) -> ClientRun {
    let mut child = node(node_modules, "client.js")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node client.js runs");
    let (stdout, stdout_reader) = collect(child.stdout.take().expect("piped stdout"));
    let (stderr, stderr_reader) = collect(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + RUN;
    let status = loop {
        match child.try_wait().expect("waiting for client.js") {
            Some(status) => break Some(status),
            None if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let _ = stdout_reader.join();
    let _ = stderr_reader.join();
    let stdout = stdout.lock().unwrap().clone();
    let stderr = stderr.lock().unwrap().clone();
    match status {
        Some(status) if status.success() => {}
        _ => panic!("client.js {args:?} failed ({status:?}); stdout:\n{stdout}\nstderr:\n{stderr}"),
    }
    let lines = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| {
                panic!("client.js printed a line that is not JSON ({e}): {line}")
            })
        })
        .collect();
    let run = ClientRun { lines };
    eprintln!("client.js {args:?}:\n{:#?}", run.lines);
    run
}

/// proofs.js, the proof oracle: one JSON request per line in, one answer per line out.
struct Oracle {
    child: Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<String>,
}

impl Oracle {
    fn start(node_modules: &Path) -> Oracle {
        let mut child = node(node_modules, "proofs.js")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node proofs.js runs");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, answers) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Oracle {
            child,
            stdin,
            answers,
        }
    }

    fn ask(&mut self, request: Value) -> Value {
        let stdin = self.stdin.as_mut().expect("the oracle's stdin");
        writeln!(stdin, "{request}").expect("a request to proofs.js");
        stdin.flush().expect("flushed");
        let line = self
            .answers
            .recv_timeout(STARTUP)
            .unwrap_or_else(|e| panic!("no answer from proofs.js to {request} ({e})"));
        let answer: Value = serde_json::from_str(&line).expect("a JSON answer");
        assert!(answer.get("error").is_none(), "{request} -> {answer}");
        answer
    }

    /// A fresh key: its id and thumbprint.
    fn key(&mut self, alg: &str) -> (u64, String) {
        let answer = self.ask(json!({"op": "key", "alg": alg}));
        assert_eq!(answer["alg"], alg, "{answer}");
        (
            answer["id"].as_u64().expect("an id"),
            answer["jkt"].as_str().expect("a thumbprint").to_owned(),
        )
    }

    fn proof(&mut self, key: u64, htm: &str, htu: &str, token: Option<&str>) -> String {
        let mut request = json!({"op": "proof", "key": key, "htm": htm, "htu": htu});
        if let Some(token) = token {
            request["token"] = json!(token);
        }
        self.ask(request)["proof"]
            .as_str()
            .expect("a proof")
            .to_owned()
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- helpers -----------------------------------------------------------------------------------

/// A JWT's (or proof's) header and claims, read without verification.
fn parts(token: &str) -> (Value, Value) {
    let mut segments = token.split('.');
    let mut decode = |what: &str| -> Value {
        let segment = segments
            .next()
            .unwrap_or_else(|| panic!("no {what} in {token}"));
        let bytes = URL_SAFE_NO_PAD.decode(segment).expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    let header = decode("header");
    (header, decode("claims"))
}

fn claims(token: &str) -> Value {
    parts(token).1
}

/// The `DPoP` challenge of a response.
fn dpop_challenge(response: &HttpResponse) -> &str {
    response
        .header_all("WWW-Authenticate")
        .find(|challenge| challenge.starts_with("DPoP "))
        .unwrap_or_else(|| panic!("no DPoP challenge: {response:?}"))
}

/// Asserts a 401 whose DPoP challenge has `error="<code>"` and whose body names `words`.
#[track_caller]
fn assert_refused(response: &HttpResponse, code: &str, words: &str) {
    assert_eq!(response.status, 401, "{}", response.text());
    let challenge = dpop_challenge(response);
    assert!(
        challenge.contains(&format!("error=\"{code}\"")),
        "{code} not in {challenge}"
    );
    assert!(
        challenge.contains("error_description=\"DPoP proof: "),
        "{challenge}"
    );
    assert!(
        response.text().contains(words),
        "{words:?} not in {}",
        response.text()
    );
}

/// `GET path` with `Authorization: DPoP <token>` and one `DPoP` header.
fn dpop_get(server: &LiveRocket, path: &str, token: &str, proof: &str) -> HttpResponse {
    server.request(
        "GET",
        path,
        &[("Authorization", &format!("DPoP {token}")), ("DPoP", proof)],
        b"",
    )
}

/// `POST /login` with the example's credentials and, when given, a proof.
fn login(server: &LiveRocket, proof: Option<&str>) -> HttpResponse {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(proof) = proof {
        headers.push(("DPoP", proof));
    }
    server.request(
        "POST",
        "/login",
        &headers,
        format!(r#"{{"username": "{USERNAME}", "password": "{PASSWORD}"}}"#).as_bytes(),
    )
}

/// Logs in with a proof and asserts the tokens are bound to `thumbprint`: the access token.
#[track_caller]
fn bound_login(server: &LiveRocket, proof: &str, thumbprint: &str) -> String {
    let response = login(server, Some(proof));
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let access = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let refresh = body["refresh_token"].as_str().expect("refresh_token");
    assert_eq!(claims(&access)["cnf"], json!({"jkt": thumbprint}));
    assert_eq!(claims(refresh)["cnf"], json!({"jkt": thumbprint}));
    access
}

/// Asserts the 200 of the extended example's `/protected` for user1.
#[track_caller]
fn assert_user1(response: &HttpResponse) {
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json(), json!({"logged_in_as": USERNAME}));
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// `rocket` with `settings` over its `jwt` table.
fn configured(
    rocket: rocket::Rocket<rocket::Build>,
    settings: &[(&str, Value)],
) -> rocket::Rocket<rocket::Build> {
    let mut figment = rocket.figment().clone();
    for (name, value) in settings {
        figment = figment.merge((format!("jwt.{name}"), value.clone()));
    }
    rocket.configure(figment)
}

// ----- 1. panva's client at the extended example -------------------------------------------------

/// client.js logging in at `server` and calling `/protected`, with `more` arguments.
fn client_at_extended(node_modules: &Path, server: &LiveRocket, more: &[&str]) -> ClientRun {
    let (login, resource) = (
        url(server.port(), "/login"),
        url(server.port(), "/protected"),
    );
    let mut args = vec![
        "--login",
        &login,
        "--username",
        USERNAME,
        "--password",
        PASSWORD,
        "--resource",
        &resource,
    ];
    args.extend_from_slice(more);
    run_client(node_modules, &args)
}

/// Asserts that `run` logged in once, got a token bound to its key, and read `/protected` once.
#[track_caller]
fn assert_bound_and_accepted(run: &ClientRun, what: &str) {
    let token = run.token();
    assert_eq!(token["token_type"], "DPoP", "{what}: {token}");
    let jkt = token["jkt"].as_str().expect("jkt");
    assert_eq!(
        claims(run.access_token())["cnf"],
        json!({"jkt": jkt}),
        "{what}: the token is bound to the client's key"
    );
    let statuses = |kind| {
        run.attempts(kind)
            .iter()
            .map(|attempt| attempt["status"].as_u64().expect("a status"))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses("login"), [200], "{what}");
    assert_eq!(statuses("resource"), [200], "{what}");
    let (status, body) = run.outcome();
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(
        serde_json::from_str::<Value>(body).expect("JSON"),
        json!({"logged_in_as": USERNAME}),
        "{what}"
    );
}

fn panva_client_logs_in_and_reads_protected_with_each_key_type() {
    let modules = node_modules();
    let server = crate::live_rocket::extended(None, &[("dpop", json!("allowed"))]);
    // EdDSA and Ed25519 are one key type to client.js: both write proofs with alg "Ed25519".
    for alg in ["ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA"] {
        let run = client_at_extended(&modules, &server, &["--alg", alg]);
        assert_bound_and_accepted(&run, alg);
    }
}

fn panva_client_follows_the_server_nonce() {
    let modules = node_modules();
    let server = crate::live_rocket::extended(
        None,
        &[
            ("dpop", json!("allowed")),
            ("dpop_nonce", json!(true)),
            (
                "dpop_nonce_secret",
                json!("a DPoP nonce secret of at least 32 bytes"),
            ),
        ],
    );
    let run = client_at_extended(&modules, &server, &[]);
    // Each of the login and the resource: told to use a nonce, then accepted with it.
    for kind in ["login", "resource"] {
        let attempts = run.attempts(kind);
        assert_eq!(attempts.len(), 2, "{kind}: {attempts:#?}");
        let (first, retry) = (attempts[0], attempts[1]);
        assert_eq!(first["status"], 401, "{kind}: {first}");
        assert_eq!(first["proof_nonce"], Value::Null, "{kind}: {first}");
        let challenge = first["www_authenticate"].as_str().expect("a challenge");
        assert!(
            challenge.starts_with("DPoP ") && challenge.contains(r#"error="use_dpop_nonce""#),
            "{kind}: {challenge}"
        );
        let nonce = first["dpop_nonce"].as_str().expect("a DPoP-Nonce header");
        assert!(!nonce.is_empty());
        assert_eq!(retry["status"], 200, "{kind}: {retry}");
        assert_eq!(
            retry["proof_nonce"], nonce,
            "{kind}: the retry carries the nonce"
        );
    }
    assert_eq!(run.token()["token_type"], "DPoP");
    let (status, body) = run.outcome();
    assert_eq!((status, body), (200, r#"{"logged_in_as":"user1"}"#));
}

fn panva_client_with_another_key_is_refused_invalid_token() {
    let modules = node_modules();
    let server = crate::live_rocket::extended(None, &[("dpop", json!("allowed"))]);
    let run = client_at_extended(&modules, &server, &["--other-key"]);
    assert_eq!(run.token()["token_type"], "DPoP");
    let attempts = run.attempts("resource");
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_ne!(
        attempts[0]["jkt"],
        run.token()["jkt"],
        "the proof is signed by another key than the token's"
    );
    assert_eq!(attempts[0]["status"], 401);
    let challenge = attempts[0]["www_authenticate"]
        .as_str()
        .expect("a challenge");
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let (status, body) = run.outcome();
    assert_eq!(status, 401);
    assert!(body.contains("cnf.jkt"), "{body}");
}

/// proofs.js's keys: EdDSA-named proofs (jose), Ed25519-named ones (dpop) and ES384 (jose), at
/// the login and at `/protected`; each proof once only.
fn panva_proofs_of_every_alg_name_bind_and_prove() {
    let mut oracle = Oracle::start(&node_modules());
    let server = crate::live_rocket::extended(None, &[("dpop", json!("allowed"))]);
    let port = server.port();
    for alg in ["EdDSA", "Ed25519", "ES384", "PS256"] {
        let (key, jkt) = oracle.key(alg);
        let login_proof = oracle.proof(key, "POST", &url(port, "/login"), None);
        assert_eq!(parts(&login_proof).0["alg"], alg, "the proof's alg header");
        let access = bound_login(&server, &login_proof, &jkt);
        let proof = oracle.proof(key, "GET", &url(port, "/protected"), Some(&access));
        assert_user1(&dpop_get(&server, "/protected", &access, &proof));
        assert_refused(
            &dpop_get(&server, "/protected", &access, &proof),
            "invalid_dpop_proof",
            "already used",
        );
        // The login's proof is burnt as well: no second pair of tokens for it.
        let again = login(&server, Some(&login_proof));
        assert_refused(&again, "invalid_dpop_proof", "already used");
        assert!(!again.text().contains("access_token"), "{}", again.text());
    }
}

// ----- 2. oidc-provider's tokens at the resource server ------------------------------------------

fn oidc_provider_tokens_are_accepted_with_their_proofs_and_never_as_bearer() {
    let modules = node_modules();
    let issuer_server = NodeServer::start(&script("as.js"), &["0"], &modules, "as.js")
        .unwrap_or_else(|error| panic!("{error}"));
    let issuer = url(issuer_server.port(), "");
    let discovery = http_client::request(
        issuer_server.port(),
        "GET",
        "/.well-known/openid-configuration",
        &[],
        b"",
    )
    .expect("as.js's discovery");
    assert_eq!(discovery.status, 200);
    let discovery = discovery.json();
    assert_eq!(discovery["issuer"], issuer.as_str());
    let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri");
    assert_eq!(jwks_uri, url(issuer_server.port(), "/jwks"));

    // oidc-provider's tokens carry iss, aud, sub (the client), client_id, iat, exp, jti, scope
    // and cnf, under `typ: at+jwt`: RFC 9068's profile holds them.
    let rocket = configured(
        resource_server::mount(resource_server::api()),
        &[
            ("jwks_url", json!(jwks_uri)),
            ("issuer", json!(issuer)),
            ("audience", json!([AUDIENCE])),
            ("algorithms", json!(["ES256"])),
            ("dpop", json!("required")),
            ("strict_access_tokens", json!(true)),
        ],
    );
    let api = LiveRocket::launch(rocket);
    let resource = url(api.port(), "/api/private");

    let run = run_client(&modules, &["--issuer", &issuer, "--resource", &resource]);
    let token_line = run.token();
    assert_eq!(token_line["token_type"], "DPoP");
    let token = run.access_token().to_owned();
    let (header, token_claims) = parts(&token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(token_claims["iss"], issuer.as_str());
    assert_eq!(token_claims["aud"], AUDIENCE);
    assert_eq!(token_claims["client_id"], "dpop-client");
    assert_eq!(token_claims["cnf"], json!({"jkt": token_line["jkt"]}));
    assert_eq!(run.attempts("token")[0]["status"], 200);
    let (status, body) = run.outcome();
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(body["sub"], "dpop-client");
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Hello from a private endpoint!")));

    // Another key's proof: the token is bound to the client's.
    let other = run_client(
        &modules,
        &["--issuer", &issuer, "--resource", &resource, "--other-key"],
    );
    let attempts = other.attempts("resource");
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!(attempts[0]["status"], 401);
    let challenge = attempts[0]["www_authenticate"]
        .as_str()
        .expect("a challenge");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("cnf.jkt"), "{challenge}");
    assert_eq!(other.outcome().0, 401);

    // No downgrade: the bound token as a bearer token, or with the DPoP scheme and no proof.
    let bearer = api.with_bearer("GET", "/api/private", &token);
    assert_refused(&bearer, "invalid_token", "DPoP-bound");
    let unproven = api.request(
        "GET",
        "/api/private",
        &[("Authorization", &format!("DPoP {token}"))],
        b"",
    );
    assert_refused(&unproven, "invalid_dpop_proof", "no DPoP header");
    // A well-formed proof for the right URL and token, by a key of our own: not the token's.
    let stranger = ClientKey::es256().proof("GET", &resource, Some(&token));
    assert_refused(
        &dpop_get(&api, "/api/private", &token, &stranger),
        "invalid_token",
        "cnf.jkt",
    );

    // oidc-provider's bearer token (a token request without a proof): valid, but this API takes
    // only DPoP-bound tokens.
    let basic = base64::engine::general_purpose::STANDARD
        .encode("dpop-client:dpop-client-secret-0123456789abcdef");
    let form = format!("grant_type=client_credentials&scope=read&resource={AUDIENCE}");
    let answer = http_client::request(
        issuer_server.port(),
        "POST",
        "/token",
        &[
            ("Authorization", &format!("Basic {basic}")),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    )
    .expect("as.js's token endpoint");
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["token_type"], "Bearer", "{answer}");
    let plain = answer["access_token"].as_str().expect("a token");
    assert_eq!(claims(plain).get("cnf"), None);
    let refused = api.with_bearer("GET", "/api/private", plain);
    assert_refused(&refused, "invalid_token", "only DPoP-bound tokens");
}

// ----- 3. two instances, one Redis ---------------------------------------------------------------

/// Both instances are reached as this origin (a load balancer's), so that one proof is good for
/// either.
const FLEET: &str = "http://fleet.test";

fn a_proof_accepted_by_one_instance_is_refused_by_the_other() {
    let redis = RedisServer::start();
    let settings = [("dpop", json!("allowed")), ("public_origin", json!(FLEET))];
    let a = crate::live_rocket::extended(Some(&redis.url()), &settings);
    let b = crate::live_rocket::extended(Some(&redis.url()), &settings);
    let sets = || redis.calls("set");
    let key = ClientKey::es256();
    let protected = format!("{FLEET}/protected");

    let before = sets();
    let access = bound_login(
        &a,
        &key.proof("POST", &format!("{FLEET}/login"), None),
        &key.thumbprint,
    );
    assert_eq!(sets() - before, 1, "the login's proof: one SET");

    // Accepted by A, then refused by B (and by A), as already used.
    let proof = key.proof("GET", &protected, Some(&access));
    let before = sets();
    assert_user1(&dpop_get(&a, "/protected", &access, &proof));
    assert_eq!(sets() - before, 1, "one SET for the accepted proof");
    for (name, server) in [("B", &b), ("A", &a)] {
        let replay = dpop_get(server, "/protected", &access, &proof);
        assert_refused(&replay, "invalid_dpop_proof", "already used");
        assert!(
            dpop_challenge(&replay).contains("already used"),
            "on {name}: {}",
            dpop_challenge(&replay)
        );
    }
    assert_eq!(
        sets() - before,
        3,
        "one SET NX per proof that reaches the replay check, refused or not"
    );

    // Fresh proofs on either: one SET each.
    let before = sets();
    for round in 0..10 {
        let server = if round % 2 == 0 { &a } else { &b };
        assert_user1(&dpop_get(
            server,
            "/protected",
            &access,
            &key.proof("GET", &protected, Some(&access)),
        ));
    }
    assert_eq!(sets() - before, 10, "one SET per accepted proof");

    // A proof refused by an earlier check (the URL the instance is reached at directly, not the
    // public origin; the wrong method) is never written.
    let before = sets();
    let direct = key.proof("GET", &url(a.port(), "/protected"), Some(&access));
    assert_refused(
        &dpop_get(&a, "/protected", &access, &direct),
        "invalid_dpop_proof",
        "htu",
    );
    let posted = key.proof("POST", &protected, Some(&access));
    assert_refused(
        &dpop_get(&b, "/protected", &access, &posted),
        "invalid_dpop_proof",
        "htm",
    );
    assert_eq!(
        sets() - before,
        0,
        "refused before the replay check: no SET"
    );

    // Bearer tokens cost no SET.
    let bearer = login(&a, None);
    assert_eq!(bearer.status, 200, "{}", bearer.text());
    assert_eq!(bearer.json().get("token_type"), None, "a bearer login");
    let bearer = bearer.json()["access_token"].as_str().unwrap().to_owned();
    let before = sets();
    for round in 0..20 {
        let server = if round % 2 == 0 { &a } else { &b };
        assert_user1(&server.with_bearer("GET", "/protected", &bearer));
    }
    assert_eq!(sets() - before, 0, "bearer requests: no SET");

    // The proofs are kept under the prefix for the `iat` window and the 30 s skew (330 s).
    let keys = redis.command("KEYS jwt:revocation:dpop:*");
    assert!(
        keys.starts_with("*12\r\n"),
        "the login's proof and 11 accepted ones: {keys:?}"
    );
    let one = keys
        .lines()
        .find(|line| line.starts_with("jwt:revocation:dpop:"))
        .expect("a key");
    let ttl: i64 = redis
        .command(&format!("PTTL {one}"))
        .trim_start_matches(':')
        .trim()
        .parse()
        .expect("a TTL");
    assert!((300_000..=330_000).contains(&ttl), "PTTL {ttl}");
}

// ----- 4. faults ---------------------------------------------------------------------------------

/// The extended profile's 503 bodies: the DPoP replay store's, and the revocation check's.
const REPLAY_UNAVAILABLE: &str = "The DPoP replay store cannot be reached";
const REVOCATION_UNAVAILABLE: &str = "The token's revocation state cannot be read";

/// A 503 whose body is nothing but `{"msg": <one of messages>}`: no identity, no tokens.
#[track_caller]
fn assert_unavailable(response: &HttpResponse, what: &str, messages: &[&str]) {
    assert_eq!(response.status, 503, "{what}: {}", response.text());
    let body = response.json();
    println!("{what}: 503 {body}");
    assert!(
        messages
            .iter()
            .any(|message| body == json!({ "msg": message })),
        "{what}: {body}, expected one of {messages:?}"
    );
}

fn a_replay_store_that_cannot_answer_fails_closed_unless_told_to_fail_open() {
    let mut redis = RedisServer::start();
    let timeout = ("revocation_timeout", json!(0.3));
    let closed = crate::live_rocket::extended(
        Some(&redis.url()),
        &[("dpop", json!("allowed")), timeout.clone()],
    );
    let open = crate::live_rocket::extended(
        Some(&redis.url()),
        &[
            ("dpop", json!("allowed")),
            timeout,
            ("revocation_fail_open", json!(true)),
        ],
    );
    let key = ClientKey::es256();
    let sign_in = |server: &LiveRocket| {
        bound_login(
            server,
            &key.proof("POST", &url(server.port(), "/login"), None),
            &key.thumbprint,
        )
    };
    let proof_for = |server: &LiveRocket, token: &str| {
        key.proof("GET", &url(server.port(), "/protected"), Some(token))
    };
    let (on_closed, on_open) = (sign_in(&closed), sign_in(&open));
    let bearer = login(&closed, None).json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Warm: the tokens' revocation states are known (near-cache).
    assert_user1(&dpop_get(
        &closed,
        "/protected",
        &on_closed,
        &proof_for(&closed, &on_closed),
    ));
    assert_user1(&dpop_get(
        &open,
        "/protected",
        &on_open,
        &proof_for(&open, &on_open),
    ));
    assert_user1(&closed.with_bearer("GET", "/protected", &bearer));

    // Redis holds every write (the SET) for 5 s; reads go through.
    assert!(redis.command("CLIENT PAUSE 5000 WRITE").contains("OK"));
    let paused_at = Instant::now();
    let held = proof_for(&closed, &on_closed);
    let paused = dpop_get(&closed, "/protected", &on_closed, &held);
    assert_unavailable(&paused, "paused, fail closed", &[REPLAY_UNAVAILABLE]);
    let paused_login = login(
        &closed,
        Some(&key.proof("POST", &url(closed.port(), "/login"), None)),
    );
    assert_unavailable(
        &paused_login,
        "a login with a proof, paused",
        &[REPLAY_UNAVAILABLE],
    );
    // A bearer token needs no write: its revocation state is read (here: known locally).
    assert_user1(&closed.with_bearer("GET", "/protected", &bearer));
    // With fail open, the proof is accepted without its replay check: twice, even.
    let unchecked = proof_for(&open, &on_open);
    assert_user1(&dpop_get(&open, "/protected", &on_open, &unchecked));
    assert_user1(&dpop_get(&open, "/protected", &on_open, &unchecked));
    assert!(
        paused_at.elapsed() < Duration::from_millis(4500),
        "the requests took {:?}, the pause may have ended",
        paused_at.elapsed()
    );
    thread::sleep(Duration::from_millis(5200).saturating_sub(paused_at.elapsed()));
    // The held SET ran once Redis woke: the proof that got 503 is burnt, never let through.
    assert_refused(
        &dpop_get(&closed, "/protected", &on_closed, &held),
        "invalid_dpop_proof",
        "already used",
    );
    assert_user1(&dpop_get(
        &closed,
        "/protected",
        &on_closed,
        &proof_for(&closed, &on_closed),
    ));

    // Redis gone: 503 when failing closed, 200 when failing open.
    redis.kill();
    let down = dpop_get(
        &closed,
        "/protected",
        &on_closed,
        &proof_for(&closed, &on_closed),
    );
    // The revocation check comes before the replay check: it answers first once the near-cache
    // is dropped with the connection.
    assert_unavailable(
        &down,
        "Redis down, fail closed",
        &[REVOCATION_UNAVAILABLE, REPLAY_UNAVAILABLE],
    );
    let down_login = login(
        &closed,
        Some(&key.proof("POST", &url(closed.port(), "/login"), None)),
    );
    assert_unavailable(
        &down_login,
        "a login with a proof, Redis down",
        &[REPLAY_UNAVAILABLE],
    );
    assert_user1(&dpop_get(
        &open,
        "/protected",
        &on_open,
        &proof_for(&open, &on_open),
    ));

    // Back (empty): DPoP requests work again on both once the client has reconnected, their
    // proofs remembered in Redis again (a replay refused, which failing open would let through).
    redis.restart();
    for (name, server, token) in [("closed", &closed, &on_closed), ("open", &open, &on_open)] {
        let since = Instant::now();
        let (first, replay) = loop {
            let proof = proof_for(server, token);
            let first = dpop_get(server, "/protected", token, &proof);
            let replay = dpop_get(server, "/protected", token, &proof);
            if (first.status, replay.status) == (200, 401)
                || since.elapsed() > Duration::from_secs(10)
            {
                break (first, replay);
            }
            assert!(
                [first.status, replay.status]
                    .iter()
                    .all(|status| [200, 503].contains(status)),
                "{name}, reconnecting: {} then {}",
                first.status,
                replay.status
            );
            thread::sleep(Duration::from_millis(100));
        };
        assert_user1(&first);
        assert_refused(&replay, "invalid_dpop_proof", "already used");
        println!(
            "Redis back: {name} checks proofs again after {:?}",
            since.elapsed()
        );
    }
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            panva_client_logs_in_and_reads_protected_with_each_key_type,
            needs[Program::Node]
        ),
        test!(panva_client_follows_the_server_nonce, needs[Program::Node]),
        test!(
            panva_client_with_another_key_is_refused_invalid_token,
            needs[Program::Node]
        ),
        test!(
            panva_proofs_of_every_alg_name_bind_and_prove,
            needs[Program::Node]
        ),
        test!(
            oidc_provider_tokens_are_accepted_with_their_proofs_and_never_as_bearer,
            needs[Program::Node]
        ),
        test!(
            a_proof_accepted_by_one_instance_is_refused_by_the_other,
            needs[Program::RedisServer]
        ),
        test!(
            a_replay_store_that_cannot_answer_fails_closed_unless_told_to_fail_open,
            needs[Program::RedisServer]
        ),
    ]
}
