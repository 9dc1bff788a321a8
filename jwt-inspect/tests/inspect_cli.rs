//! The `jwt-inspect` command, run as a process: output and exit status for good, expired,
//! tampered, misaddressed and malformed tokens, keys from files, a JWKS and a key ring, settings
//! from Rocket.toml, and that the secret is never printed.
//!
//! Each test runs the binary in its own empty directory (so no Rocket.toml is found unless the
//! test writes one) with every `JWT_*` and `ROCKET_*` variable removed from its environment.

#[allow(dead_code)]
#[path = "../../tests/common/jwks_server.rs"]
mod jwks_server;
use jwks_server::{sign, testdata, JwksServer, Reply, TestKey};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket_flask_jwt::{
    settings::KeyMaterial, settings::Secret, validation::TokenCodec, Algorithm, Payload, Profile,
    Settings,
};
use serde_json::{json, Value};

/// A secret distinctive enough that finding it in the output can only be a leak.
const SECRET: &str = "s3cret-never-printed-7b1d";

/// An empty directory of the test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "jwt-inspect-test-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `name` in the directory and returns its path.
    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write temp file");
        path
    }

    /// The secret in a file, with the trailing newline editors leave.
    fn secret_file(&self) -> String {
        self.file("secret.txt", &format!("{SECRET}\n"))
            .to_str()
            .expect("utf-8 path")
            .to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a run of the command produced.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The check lines (`[PASS] ...`), in order.
    fn checks(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|line| line.starts_with('['))
            .collect()
    }

    /// The tags of the check lines: `PASS`, `FAIL`, `SKIP`.
    fn tags(&self) -> Vec<&str> {
        self.checks().iter().map(|line| &line[1..5]).collect()
    }

    /// The line of `check` (e.g. `validity period`).
    fn check(&self, check: &str) -> &str {
        self.checks()
            .into_iter()
            .find(|line| line[7..].starts_with(&format!("{check}:")))
            .unwrap_or_else(|| panic!("no {check} line in {self:#?}"))
    }

    fn assert_no_secret(&self) {
        assert!(!self.stdout.contains(SECRET), "secret in stdout: {self:#?}");
        assert!(!self.stderr.contains(SECRET), "secret in stderr: {self:#?}");
    }
}

/// Runs `jwt-inspect args` in `dir`, with `stdin` as standard input (none when `None`).
fn inspect_with(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jwt-inspect"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("JWT_") || name.starts_with("ROCKET_") {
            command.env_remove(&*name);
        }
    }
    command.envs(env.iter().copied());
    let mut child = command.spawn().expect("run jwt-inspect");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("jwt-inspect output");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    };
    run.assert_no_secret();
    run
}

fn inspect(dir: &Path, args: &[&str]) -> Run {
    inspect_with(dir, args, None, &[])
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn payload(value: Value) -> Payload {
    value.as_object().expect("a JSON object").clone()
}

/// Flask-JWT's default claims, issued now, plus `extra`.
fn claims(extra: Value) -> Payload {
    let now = now();
    let mut claims = payload(json!({"identity": 1, "iat": now, "nbf": now, "exp": now + 300}));
    claims.extend(payload(extra));
    claims
}

/// An HS256 token signed with [`SECRET`] by the runtime's codec.
fn hs256(claims: &Payload) -> String {
    TokenCodec::new(Settings {
        secret_key: Some(Secret::new(SECRET)),
        allow_short_secret: true,
        ..Settings::default()
    })
    .expect("codec")
    .encode(claims, &Payload::new())
    .expect("token")
}

fn key_path(name: &str) -> String {
    testdata(&format!("keys/{name}"))
        .to_str()
        .expect("utf-8 path")
        .to_owned()
}

fn key(name: &str) -> KeyMaterial {
    KeyMaterial::detect(std::fs::read(key_path(name)).expect("test key"))
}

fn rs256(claims: &Payload) -> String {
    TokenCodec::new(Settings {
        algorithm: Algorithm::RS256,
        private_key: Some(key("rsa_private.pem")),
        public_key: Some(key("rsa_public.pem")),
        ..Settings::default()
    })
    .expect("codec")
    .encode(claims, &Payload::new())
    .expect("token")
}

/// The number right after `marker` in `text`.
fn number_after(text: &str, marker: &str) -> i64 {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} in {text}"))
        + marker.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("a number after {marker:?} in {text}"))
}

fn rfc3339(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[test]
fn a_good_hs256_token_passes_all_five_checks() {
    let dir = TempDir::new("good");
    let claims = claims(json!({}));
    let token = hs256(&claims);
    let run = inspect(dir.path(), &["--secret-file", &dir.secret_file(), &token]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.tags(), ["PASS"; 5], "{run:#?}");
    let names: Vec<&str> = run
        .checks()
        .iter()
        .map(|line| line[7..].split(':').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "well-formed",
            "signature",
            "validity period",
            "intended authority",
            "intended audience"
        ]
    );
    assert!(
        run.check("signature").contains("HS256 signature verified"),
        "{run:#?}"
    );
    // The header and claims, pretty-printed.
    assert!(run.stdout.contains("\"alg\": \"HS256\""), "{run:#?}");
    assert!(run.stdout.contains("\"typ\": \"JWT\""), "{run:#?}");
    assert!(run.stdout.contains("\"identity\": 1"), "{run:#?}");
    // exp, human-readable: UTC time and how far ahead.
    let exp = claims["exp"].as_i64().unwrap();
    let exp_line = run
        .stdout
        .lines()
        .find(|line| line.trim_start().starts_with("exp: "))
        .unwrap_or_else(|| panic!("no exp annotation in {run:#?}"));
    assert!(exp_line.contains(&rfc3339(exp)), "{exp_line}");
    assert!(
        exp_line.contains("(expires in 5 min)") || exp_line.contains("(expires in 4 min 5"),
        "{exp_line}"
    );
    for claim in ["iat: ", "nbf: "] {
        assert!(
            run.stdout
                .lines()
                .any(|line| line.trim_start().starts_with(claim) && line.contains(" ago)")),
            "{claim} in {run:#?}"
        );
    }
}

/// [`SECRET`] has 25 bytes, fewer than the 32 HS256 needs: the API refuses it unless
/// `allow_short_secret` is set, and the inspector says so without claiming the setting is set.
#[test]
fn a_short_secret_is_used_with_a_note_that_the_api_refuses_it() {
    let dir = TempDir::new("short-secret");
    let token = hs256(&claims(json!({})));
    let run = inspect(dir.path(), &["--secret-file", &dir.secret_file(), &token]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.tags(), ["PASS"; 5], "{run:#?}");
    assert!(
        run.stderr.contains(
            "jwt-inspect: note: the secret has 25 bytes, fewer than the 32 HS256 needs: the API \
             refuses it unless `allow_short_secret` is set"
        ),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("accepted only because"), "{run:#?}");
    assert!(!run.stderr.contains("INSECURE"), "{run:#?}");

    // Set by the configuration: then the runtime's warning is true, and no note contradicts it.
    let run = inspect_with(
        dir.path(),
        &["--secret-file", &dir.secret_file(), &token],
        None,
        &[("JWT_ALLOW_SHORT_SECRET", "true")],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stderr
            .contains("accepted only because `allow_short_secret` is set"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("the API refuses it"), "{run:#?}");

    // A secret long enough for HS256 but not for HS512, both accepted: the note names HS512.
    let secret = dir.file("forty.txt", "a-secret-of-forty-bytes-0123456789abcdef");
    let run = inspect(
        dir.path(),
        &[
            "--secret-file",
            secret.to_str().expect("utf-8 path"),
            "--algorithm",
            "HS256",
            "--algorithm",
            "HS512",
            &token,
        ],
    );
    assert!(
        run.stderr
            .contains("the secret has 40 bytes, fewer than the 64 HS512 needs"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("accepted only because"), "{run:#?}");
    assert_eq!(
        run.check("signature"),
        "[FAIL] signature: Signature verification failed",
        "{run:#?}"
    );
}

#[test]
fn the_token_can_come_from_standard_input() {
    let dir = TempDir::new("stdin");
    let token = hs256(&claims(json!({})));
    let secret_file = dir.secret_file();
    // No argument, with the scheme word and a newline as copied from a request.
    let input = format!("  Bearer {token}\n");
    let run = inspect_with(
        dir.path(),
        &["--secret-file", &secret_file],
        Some(&input),
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.tags(), ["PASS"; 5]);
    // `-` means standard input too; `JWT ` is Flask-JWT's scheme.
    let input = format!("JWT {token}");
    let run = inspect_with(
        dir.path(),
        &["--secret-file", &secret_file, "-"],
        Some(&input),
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    // Nothing at all is a usage error.
    let run = inspect_with(
        dir.path(),
        &["--secret-file", &secret_file],
        Some(" \n"),
        &[],
    );
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("no token"), "{run:#?}");
}

#[test]
fn an_expired_token_fails_the_validity_period_with_seconds() {
    let dir = TempDir::new("expired");
    let now = now();
    let token = hs256(&payload(
        json!({"identity": 1, "iat": now - 3900, "nbf": now - 3900, "exp": now - 3600}),
    ));
    let run = inspect(dir.path(), &["--secret-file", &dir.secret_file(), &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.tags(),
        ["PASS", "PASS", "FAIL", "PASS", "PASS"],
        "{run:#?}"
    );
    let line = run.check("validity period");
    assert!(
        line.starts_with("[FAIL] validity period: Signature has expired (expired "),
        "{line}"
    );
    assert!(line.ends_with(" s ago (leeway 10 s))"), "{line}");
    let seconds = number_after(line, "(expired ");
    assert!((3600..=3605).contains(&seconds), "{line}");
    assert!(
        run.stdout.contains("(expired 1 h ago)"),
        "exp annotation in {run:#?}"
    );
    // A leeway from the command line is applied, up to the 300 s the API allows.
    let run = inspect(
        dir.path(),
        &[
            "--secret-file",
            &dir.secret_file(),
            "--leeway",
            "300",
            &token,
        ],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.check("validity period").contains("(leeway 300 s)"),
        "{run:#?}"
    );
    let run = inspect(
        dir.path(),
        &[
            "--secret-file",
            &dir.secret_file(),
            "--leeway",
            "7200",
            &token,
        ],
    );
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("`leeway`"), "{run:#?}");
}

#[test]
fn a_tampered_token_fails_the_signature() {
    let dir = TempDir::new("tampered");
    let token = hs256(&claims(json!({})));
    let mut segments: Vec<String> = token.split('.').map(str::to_owned).collect();
    segments[1] = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&claims(json!({"identity": 2, "admin": true}))).unwrap());
    let tampered = segments.join(".");
    let run = inspect(
        dir.path(),
        &["--secret-file", &dir.secret_file(), &tampered],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.check("signature"),
        "[FAIL] signature: Signature verification failed"
    );
    assert!(
        run.check("intended authority").starts_with("[FAIL]"),
        "{run:#?}"
    );
    // The claims are shown all the same.
    assert!(run.stdout.contains("\"admin\": true"), "{run:#?}");
}

#[test]
fn a_wrong_issuer_names_expected_and_received() {
    let dir = TempDir::new("issuer");
    let token = hs256(&claims(json!({"iss": "https://tenant.auth0.com"})));
    let run = inspect(
        dir.path(),
        &[
            "--secret-file",
            &dir.secret_file(),
            "--issuer",
            "https://tenant.auth0.com/",
            &token,
        ],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.tags(),
        ["PASS", "PASS", "PASS", "FAIL", "PASS"],
        "{run:#?}"
    );
    let line = run.check("intended authority");
    assert!(line.contains("Invalid issuer"), "{line}");
    assert!(
        line.contains(
            r#"expected iss "https://tenant.auth0.com/", received "https://tenant.auth0.com""#
        ),
        "{line}"
    );
    // The same issuer byte for byte passes.
    let run = inspect(
        dir.path(),
        &[
            "--secret-file",
            &dir.secret_file(),
            "--issuer",
            "https://tenant.auth0.com",
            &token,
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
}

#[test]
fn an_audience_mismatch_fails_the_audience_check() {
    let dir = TempDir::new("audience");
    let token = hs256(&claims(json!({"aud": "other-api"})));
    let secret_file = dir.secret_file();
    let run = inspect(
        dir.path(),
        &[
            "--secret-file",
            &secret_file,
            "--audience",
            "api",
            "--audience",
            "admin-api",
            &token,
        ],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.tags(),
        ["PASS", "PASS", "PASS", "PASS", "FAIL"],
        "{run:#?}"
    );
    let line = run.check("intended audience");
    assert!(line.contains("Invalid audience"), "{line}");
    assert!(
        line.contains(r#"expected aud ["api", "admin-api"], received "other-api""#),
        "{line}"
    );
    // One of the token's audiences accepted: pass.
    let token = hs256(&claims(json!({"aud": ["x", "admin-api"]})));
    let run = inspect(
        dir.path(),
        &[
            "--secret-file",
            &secret_file,
            "--audience",
            "admin-api",
            &token,
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
}

#[test]
fn garbage_fails_well_formed_and_skips_the_rest() {
    let dir = TempDir::new("garbage");
    let run = inspect(
        dir.path(),
        &["--secret-file", &dir.secret_file(), "not-a-token"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.tags(),
        ["FAIL", "SKIP", "SKIP", "SKIP", "SKIP"],
        "{run:#?}"
    );
    assert_eq!(
        run.check("well-formed"),
        "[FAIL] well-formed: Not enough segments"
    );
    assert!(run.stdout.contains("Header: (not decoded"), "{run:#?}");
}

#[test]
fn an_rs256_token_verifies_with_a_public_key_file() {
    let dir = TempDir::new("rs256");
    let token = rs256(&claims(json!({"sub": "user-1"})));
    for public_key in [
        "rsa_public.pem",
        "rsa_public.jwk.json",
        "rsa_public_pkcs1.der",
    ] {
        let run = inspect(
            dir.path(),
            &[
                "--public-key",
                &key_path(public_key),
                "--algorithm",
                "RS256",
                "--identity-claim",
                "sub",
                &token,
            ],
        );
        assert_eq!(run.code, Some(0), "{public_key}: {run:#?}");
        assert_eq!(run.tags(), ["PASS"; 5], "{public_key}: {run:#?}");
        assert!(run.check("signature").contains("RS256 signature verified"));
        assert!(run.stdout.contains("\"alg\": \"RS256\""), "{run:#?}");
    }
    // Another RSA key: the signature fails.
    let run = inspect(
        dir.path(),
        &[
            "--public-key",
            &key_path("rsa2_public.pem"),
            "--algorithm",
            "RS256",
            &token,
        ],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.check("signature").starts_with("[FAIL]"), "{run:#?}");
}

#[test]
fn settings_come_from_rocket_toml_and_options_override_them() {
    let dir = TempDir::new("rocket-toml");
    dir.file(
        "Rocket.toml",
        &format!(
            "[default.jwt]\nsecret_key = \"{SECRET}\"\nissuer = \"https://issuer.example/\"\n\
             audience = \"api\"\n"
        ),
    );
    let token = hs256(&claims(
        json!({"iss": "https://issuer.example/", "aud": "api"}),
    ));
    let run = inspect(dir.path(), &[&token]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.tags(), ["PASS"; 5], "{run:#?}");
    assert!(
        run.check("intended authority")
            .contains(r#"iss "https://issuer.example/" is the configured issuer"#),
        "{run:#?}"
    );
    // A command-line audience replaces the configured one.
    let run = inspect(dir.path(), &["--audience", "billing", &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.check("intended audience").starts_with("[FAIL]"),
        "{run:#?}"
    );
    // --no-config ignores Rocket.toml: no key at all.
    let run = inspect(dir.path(), &["--no-config", &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.check("signature").starts_with("[SKIP]"), "{run:#?}");
}

#[test]
fn settings_come_from_jwt_environment_variables() {
    let dir = TempDir::new("env");
    let token = hs256(&claims(json!({})));
    let run = inspect_with(dir.path(), &[&token], None, &[("JWT_SECRET_KEY", SECRET)]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    // JWT_LEEWAY and friends too: a bad value is a configuration error, named.
    let run = inspect_with(
        dir.path(),
        &[&token],
        None,
        &[("JWT_SECRET_KEY", SECRET), ("JWT_ALGORITHM", "HS257")],
    );
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("algorithm"), "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");
}

#[test]
fn with_no_key_the_claims_are_shown_and_the_signature_skipped() {
    let dir = TempDir::new("no-key");
    let token = hs256(&claims(json!({"iss": "https://a.example"})));
    let run = inspect(dir.path(), &["--issuer", "https://a.example/", &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("\"identity\": 1"), "{run:#?}");
    let line = run.check("signature");
    assert!(
        line.starts_with("[SKIP] signature:") && line.contains("--secret-file"),
        "{line}"
    );
    // The checks that need no key still run.
    assert!(
        run.check("validity period").starts_with("[PASS]"),
        "{run:#?}"
    );
    assert!(
        run.check("intended authority")
            .contains(r#"expected iss "https://a.example/""#),
        "{run:#?}"
    );
    // An RS256 token names the public-key options.
    let token = rs256(&claims(json!({})));
    let run = inspect(dir.path(), &["--algorithm", "RS256", &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.check("signature").contains("--public-key"), "{run:#?}");
    // A token whose alg is not accepted fails as the API would fail it, naming the option.
    let token = hs256(&claims(json!({})));
    let run = inspect(dir.path(), &["--algorithm", "RS256", &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let line = run.check("signature");
    assert!(
        line.starts_with("[FAIL] signature: The specified alg value is not allowed")
            && line.contains("--algorithm HS256"),
        "{line}"
    );
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let dir = TempDir::new("errors");
    let token = hs256(&claims(json!({})));
    let missing = dir.path().join("no-such-secret.txt");
    let missing = missing.to_str().unwrap();
    let run = inspect(dir.path(), &["--secret-file", missing, &token]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr.contains("--secret-file") && run.stderr.contains("no-such-secret.txt"),
        "{run:#?}"
    );
    assert!(run.stdout.is_empty(), "{run:#?}");

    let run = inspect(dir.path(), &["--algorithm", "HS257", &token]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("HS257"), "{run:#?}");

    let run = inspect(dir.path(), &["--secret", SECRET, &token]);
    assert_eq!(run.code, Some(2), "{run:#?}");

    dir.file("Rocket.toml", "[default.jwt]\nleeway = \"ten\"\n");
    let run = inspect(dir.path(), &["--secret-file", &dir.secret_file(), &token]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("leeway"), "{run:#?}");
}

#[test]
fn the_secret_is_never_printed() {
    let dir = TempDir::new("secret");
    let good = hs256(&claims(json!({})));
    let secret_file = dir.secret_file();
    // Every run is checked by `inspect_with`; these are the runs where the secret is in play.
    let forged = {
        let mut segments: Vec<&str> = good.split('.').collect();
        segments[2] = "c2lnbmF0dXJl";
        segments.join(".")
    };
    for args in [
        vec!["--secret-file", &secret_file, &good],
        vec!["--secret-file", &secret_file, &forged],
        vec!["--secret-file", &secret_file, "--algorithm", "RS256", &good],
        vec!["--secret-file", &secret_file, "--algorithm", "HS512", &good],
        vec!["--secret-file", &secret_file, "x.y"],
    ] {
        let run = inspect(dir.path(), &args);
        assert!(run.code.is_some(), "{run:#?}");
    }
    // A secret that is key material is refused without showing it.
    let pem = dir.file(
        "pem-secret.txt",
        &format!("-----BEGIN PUBLIC KEY-----\n{SECRET}\n-----END PUBLIC KEY-----\n"),
    );
    let run = inspect(dir.path(), &["--secret-file", pem.to_str().unwrap(), &good]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    // From the configuration as a TOML number: taken as its text, and not shown either.
    dir.file(
        "Rocket.toml",
        "[default.jwt]\nsecret_key = 4711471147114711\n",
    );
    let run = inspect(dir.path(), &[&good]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("[FAIL] signature"), "{run:#?}");
    assert!(!run.stderr.contains("4711471147114711"), "{run:#?}");
    assert!(!run.stdout.contains("4711471147114711"), "{run:#?}");
}

// ----- keys from a JWKS ----------------------------------------------------------------------------

/// An RS256 token for this API (`sub`, `iss`, `aud`) signed by `key` with `kid` in its header.
fn rs256_for_api(key: TestKey, kid: &str) -> String {
    let claims = claims(json!({
        "sub": "auth0|alice",
        "iss": "https://issuer.example/",
        "aud": "api",
    }));
    sign(key, Algorithm::RS256, Some(kid), &Value::Object(claims))
}

/// `--jwks-url <server>/jwks.json --algorithm RS256 --issuer ... --audience api <token>`.
fn inspect_with_jwks(dir: &Path, server: &JwksServer, token: &str) -> Run {
    inspect(
        dir,
        &[
            "--jwks-url",
            &server.jwks_url(),
            "--algorithm",
            "RS256",
            "--issuer",
            "https://issuer.example/",
            "--audience",
            "api",
            token,
        ],
    )
}

#[test]
fn a_jwks_url_verifies_an_rs256_token_by_its_kid() {
    let dir = TempDir::new("jwks-good");
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let token = rs256_for_api(TestKey::Rsa, "rsa-1");
    let run = inspect_with_jwks(dir.path(), &server, &token);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.tags(), ["PASS"; 5], "{run:#?}");
    assert_eq!(
        run.check("signature"),
        "[PASS] signature: RS256 signature verified"
    );
    assert_eq!(
        run.check("intended authority"),
        "[PASS] intended authority: signed with key \"rsa-1\" of the configured authority; \
         iss \"https://issuer.example/\" is the configured issuer"
    );
    assert!(run.stdout.contains("\"kid\": \"rsa-1\""), "{run:#?}");
    assert!(run.stdout.contains("Result: valid"), "{run:#?}");
    // One fetch of the key set, and the token itself is never echoed.
    assert_eq!(server.jwks_hits(), 1);
    let signature = token.rsplit('.').next().unwrap();
    assert!(!run.stdout.contains(signature) && !run.stderr.contains(signature));
}

#[test]
fn an_unknown_kid_fails_the_intended_authority() {
    let dir = TempDir::new("jwks-unknown-kid");
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let token = rs256_for_api(TestKey::Rsa2, "rsa-2");
    let run = inspect_with_jwks(dir.path(), &server, &token);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.tags(),
        ["PASS", "FAIL", "PASS", "FAIL", "PASS"],
        "{run:#?}"
    );
    assert_eq!(
        run.check("intended authority"),
        "[FAIL] intended authority: Unknown signing key: the token is not from the intended \
         authority (kid \"rsa-2\" is not in the authority's key set)"
    );
    assert_eq!(
        run.check("signature"),
        "[FAIL] signature: no key to verify the signature with"
    );
    assert!(
        run.stdout
            .contains("Result: invalid: failed signature, intended authority"),
        "{run:#?}"
    );
    // The claims are shown all the same.
    assert!(run.stdout.contains("\"sub\": \"auth0|alice\""), "{run:#?}");
    assert_eq!(server.jwks_hits(), 1);
}

#[test]
fn a_jwks_endpoint_that_fails_fails_the_intended_authority() {
    let dir = TempDir::new("jwks-down");
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    server.set_reply(Reply::Error500);
    let token = rs256_for_api(TestKey::Rsa, "rsa-1");
    let run = inspect_with_jwks(dir.path(), &server, &token);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.tags(),
        ["PASS", "FAIL", "PASS", "FAIL", "PASS"],
        "{run:#?}"
    );
    let line = run.check("intended authority");
    assert!(
        line.starts_with(
            "[FAIL] intended authority: The authority's signing keys cannot be fetched ("
        ) && line.contains("500"),
        "{line}"
    );
    assert_eq!(server.jwks_hits(), 1);
}

#[test]
fn a_missing_claim_names_the_setting_that_requires_it() {
    let dir = TempDir::new("missing-nbf");
    let now = now();
    // An Auth0-like token: no `nbf`.
    let token = hs256(&payload(
        json!({"identity": 1, "iat": now, "exp": now + 300}),
    ));
    // Flask-JWT's defaults with the application's own secret: `nbf` is required.
    let run = inspect(dir.path(), &["--secret-file", &dir.secret_file(), &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let line = run.check("validity period");
    assert!(
        line.starts_with("[FAIL] validity period: Token is missing the \"nbf\" claim"),
        "{line}"
    );
    assert!(
        line.contains("required by the required_claims setting"),
        "{line}"
    );
    // Tokens from an issuer need only `exp`; `nbf` is checked when present.
    let run = inspect(
        dir.path(),
        &[
            "--secret-file",
            &dir.secret_file(),
            "--issuer",
            "https://issuer.example/",
            &hs256(&payload(json!({
                "identity": 1, "iss": "https://issuer.example/", "iat": now, "exp": now + 300
            }))),
        ],
    );
    assert_eq!(
        run.check("validity period").get(..6),
        Some("[PASS]"),
        "{run:#?}"
    );
}

#[test]
fn the_extended_profile_s_claim_rules_are_the_api_s() {
    let dir = TempDir::new("extended-profile");
    dir.file(
        "Rocket.toml",
        &format!("[default.jwt]\nprofile = \"extended\"\nsecret_key = \"{SECRET}\"\n"),
    );
    // Valid for the five checks, but without the identity claim (`sub`) the guard refuses.
    let run = inspect(dir.path(), &[&hs256(&claims(json!({})))]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.check("well-formed").starts_with("[FAIL]")
            && run.check("well-formed").contains("Missing claim: sub"),
        "{run:#?}"
    );
    let run = inspect(
        dir.path(),
        &[&hs256(&claims(json!({"sub": "u", "jti": 7})))],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.check("well-formed").contains("JWT ID must be a string"),
        "{run:#?}"
    );
    let run = inspect(dir.path(), &[&hs256(&claims(json!({"sub": "u"})))]);
    assert_eq!(run.code, Some(0), "{run:#?}");
}

#[test]
fn several_trusted_authorities_are_resolved_as_the_api_resolves_them() {
    let dir = TempDir::new("authorities");
    let authority = |name: &str, issuer: &str, key: &str| {
        format!(
            "[[default.jwt.authorities]]\nname = \"{name}\"\nissuer = \"{issuer}\"\n\
             audience = \"api\"\nalgorithms = [\"RS256\"]\npublic_key = '''\n{}'''\n",
            std::fs::read_to_string(key_path(key)).expect("test key")
        )
    };
    dir.file(
        "Rocket.toml",
        &format!(
            "{}{}",
            authority("a", "https://a.example/", "rsa2_public.pem"),
            authority("b", "https://b.example/", "rsa_public.pem")
        ),
    );
    // Signed with b's key: checked with b's key, issuer and audience.
    let from_b = rs256(&claims(json!({"iss": "https://b.example/", "aud": "api"})));
    let run = inspect(dir.path(), &[&from_b]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.tags(), ["PASS"; 5], "{run:#?}");
    // Claiming to be a's: a's key does not verify it.
    let claims_a = rs256(&claims(json!({"iss": "https://a.example/", "aud": "api"})));
    let run = inspect(dir.path(), &[&claims_a]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.check("signature").starts_with("[FAIL]"), "{run:#?}");
    // No trusted authority issues as this `iss`: refused before any key, as the guard does.
    let elsewhere = rs256(&claims(json!({"iss": "https://c.example/", "aud": "api"})));
    let run = inspect(dir.path(), &[&elsewhere]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.check("intended authority").starts_with("[FAIL]")
            && run
                .check("intended authority")
                .contains("https://c.example/"),
        "{run:#?}"
    );
    assert!(run.check("signature").starts_with("[SKIP]"), "{run:#?}");
}

// ----- keys from a key ring -------------------------------------------------------------------------

/// A key directory in `dir`: key files as an application with a key ring (`signing_keys_dir`)
/// reads them.
struct KeyDir(PathBuf);

impl KeyDir {
    fn new(dir: &TempDir) -> KeyDir {
        let path = dir.path().join("keys");
        std::fs::create_dir_all(&path).expect("a key directory");
        KeyDir(path)
    }

    /// Writes `<file>`: the times `preamble`, then the ring test key `key`'s PEM.
    fn add(&self, file: &str, preamble: &str, key: &str) {
        let pem = std::fs::read_to_string(testdata(&format!("keys/ring/{key}.pem")))
            .expect("a ring test key");
        std::fs::write(self.0.join(file), format!("{preamble}{pem}")).expect("a key file");
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }

    /// The application's codec: signs with the current key, named by its thumbprint.
    fn codec(&self) -> TokenCodec {
        TokenCodec::new(Settings {
            signing_keys_dir: Some(self.path().to_owned()),
            ..Settings::for_profile(Profile::Extended)
        })
        .expect("a codec with a key ring")
    }

    /// A token for `claims` signed by the current key, and that key's kid and public JWK.
    fn token(&self, claims: &Payload) -> (String, String, Value) {
        let codec = self.codec();
        let token = codec.encode(claims, &Payload::new()).expect("token");
        let ring = codec.key_ring().expect("a key ring");
        let key = ring.current(now()).expect("a current key");
        (token, key.kid().to_owned(), key.public_jwk().clone())
    }
}

impl Run {
    /// The line on the token's key.
    fn key_line(&self) -> &str {
        self.stdout
            .lines()
            .find(|line| line.starts_with("Key: "))
            .unwrap_or_else(|| panic!("no key line in {self:#?}"))
    }
}

#[test]
fn a_token_of_a_key_ring_verifies_with_its_key_directory_and_shows_its_key() {
    let dir = TempDir::new("ring-current");
    let keys = KeyDir::new(&dir);
    let (published, signs) = (now() - 7200, now() - 3600);
    keys.add(
        "a.pem",
        &format!("alg: ES256\npublished-at: {published}\nsigns-from: {signs}\n"),
        "ec_a",
    );
    let (token, kid, _) = keys.token(&claims(json!({})));
    let run = inspect(dir.path(), &["--signing-keys-dir", keys.path(), &token]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.tags(), ["PASS"; 5], "{run:#?}");
    assert_eq!(
        run.key_line(),
        format!(
            "Key: kid {kid:?} (ES256) of the key ring: current: signs the tokens issued now; \
             published at {} (2 h ago), signs from {} (1 h ago), retires when its tokens have \
             expired",
            rfc3339(published),
            rfc3339(signs)
        ),
        "{run:#?}"
    );
    assert_eq!(
        run.check("signature"),
        "[PASS] signature: ES256 signature verified"
    );
    assert!(
        run.check("intended authority")
            .contains(&format!("signed with key {kid:?}")),
        "{run:#?}"
    );
    // The setting reaches the inspector as it reaches the API.
    let run = inspect_with(
        dir.path(),
        &[&token],
        None,
        &[("JWT_SIGNING_KEYS_DIR", keys.path())],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(run.key_line().contains(": current: "), "{run:#?}");
    // Without a key ring, no key line.
    let run = inspect(dir.path(), &["--secret-file", &dir.secret_file(), &token]);
    assert!(!run.stdout.contains("Key: "), "{run:#?}");
    let help = inspect(dir.path(), &["--help"]);
    assert!(
        help.stdout.contains("--signing-keys-dir <PATH>"),
        "{help:#?}"
    );
}

#[test]
fn a_token_whose_key_was_replaced_and_retired_is_refused_saying_why() {
    let dir = TempDir::new("ring-retired");
    let keys = KeyDir::new(&dir);
    let times = format!(
        "published-at: {}\nsigns-from: {}\n",
        now() - 7200,
        now() - 3600
    );
    keys.add("a.pem", &times, "ec_a");
    let (token, kid, _) = keys.token(&claims(json!({})));
    // A second key took over two minutes ago: the first still verifies.
    keys.add(
        "b.pem",
        &format!(
            "published-at: {}\nsigns-from: {}\n",
            now() - 600,
            now() - 120
        ),
        "ec_b",
    );
    let run = inspect(dir.path(), &["--signing-keys-dir", keys.path(), &token]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(
        run.key_line().starts_with(&format!(
            "Key: kid {kid:?} (ES256) of the key ring: previous: a later key signs; its tokens \
             verify until it retires; "
        )),
        "{run:#?}"
    );
    // Retired a minute ago.
    let retired = now() - 60;
    keys.add("a.pem", &format!("{times}retires-at: {retired}\n"), "ec_a");
    let run = inspect(dir.path(), &["--signing-keys-dir", keys.path(), &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.tags(),
        ["PASS", "FAIL", "PASS", "FAIL", "PASS"],
        "{run:#?}"
    );
    let line = run.key_line();
    assert!(
        line.starts_with(&format!(
            "Key: kid {kid:?} (ES256) of the key ring: retired: its retires-at time has passed, \
             so it is gone from the key set and its tokens are refused; "
        )) && line.contains(&format!("retires at {} (1 min ", rfc3339(retired))),
        "{line}"
    );
    assert!(
        run.check("intended authority")
            .starts_with("[FAIL] intended authority: Unknown signing key"),
        "{run:#?}"
    );
    // Its file removed: not in the ring at all.
    std::fs::remove_file(keys.0.join("a.pem")).expect("removed");
    let run = inspect(dir.path(), &["--signing-keys-dir", keys.path(), &token]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.key_line().starts_with(&format!(
            "Key: kid {kid:?} is not in the key ring (1 key read)"
        )),
        "{run:#?}"
    );
    assert!(run.check("signature").starts_with("[FAIL]"), "{run:#?}");
}

#[test]
fn a_broken_key_file_is_named_and_the_other_keys_used() {
    let dir = TempDir::new("ring-broken");
    let keys = KeyDir::new(&dir);
    keys.add("a.pem", "", "ec_a");
    keys.add("broken.pem", "signs-from: soon\n", "ec_b");
    let (token, _, _) = keys.token(&claims(json!({})));
    let run = inspect(dir.path(), &["--signing-keys-dir", keys.path(), &token]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let refused = run
        .stderr
        .lines()
        .find(|line| line.contains("broken.pem"))
        .unwrap_or_else(|| panic!("the broken file named in {run:#?}"));
    assert!(
        refused.contains("neither RFC 3339") && refused.contains("the other keys are used"),
        "{refused}"
    );
    assert!(
        run.key_line().contains(": current: ")
            && run
                .key_line()
                .contains("published at the start (not set), signs from the start (not set)"),
        "{run:#?}"
    );
    // A directory without a usable key is a configuration error, as at the API's ignition.
    std::fs::remove_file(keys.0.join("a.pem")).expect("removed");
    let run = inspect(dir.path(), &["--signing-keys-dir", keys.path(), &token]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr.contains("no usable signing key") && run.stderr.contains("broken.pem"),
        "{run:#?}"
    );
}

#[test]
fn a_token_of_a_key_ring_verifies_against_a_jwks_holding_its_key() {
    let dir = TempDir::new("ring-jwks");
    let keys = KeyDir::new(&dir);
    keys.add("a.pem", "", "ec_a");
    let (token, kid, jwk) = keys.token(&claims(json!({})));
    let server = JwksServer::start(&[jwk]);
    let args = [
        "--jwks-url",
        &server.jwks_url(),
        "--algorithm",
        "ES256",
        &token,
    ];
    let run = inspect(dir.path(), &args);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.tags(), ["PASS"; 5], "{run:#?}");
    assert!(
        run.check("intended authority")
            .contains(&format!("signed with key {kid:?}")),
        "{run:#?}"
    );
    assert!(!run.stdout.contains("Key: "), "{run:#?}");
    // With the key ring configured, --jwks-url replaces it.
    dir.file(
        "Rocket.toml",
        &format!("[default.jwt]\nsigning_keys_dir = {:?}\n", keys.path()),
    );
    let run = inspect(dir.path(), &args);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stderr
            .contains("--jwks-url replaces the configured key ring"),
        "{run:#?}"
    );
    let run = inspect(dir.path(), &[&token]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(run.key_line().contains(": current: "), "{run:#?}");
    // Both on the command line: a usage error.
    let run = inspect(
        dir.path(),
        &[
            "--signing-keys-dir",
            keys.path(),
            "--jwks-url",
            &server.jwks_url(),
            &token,
        ],
    );
    assert_eq!(run.code, Some(2), "{run:#?}");
}

// ---------------------------------------------------------------------------------------------
// DPoP proofs (RFC 9449) beside the token: `--dpop`, `--dpop-file`, `--method`, `--url`.

mod dpop {
    use super::*;

    use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
    use jsonwebtoken::{Algorithm as Alg, EncodingKey, Header};
    use sha2::{Digest as _, Sha256};

    /// The URL the proofs name.
    const HTU: &str = "https://api.example.com/protected";

    /// The key the token is bound to (`ec_private.pem`, P-256).
    const BOUND_KEY: &str = "ec_private.pem";
    /// Another P-256 key (`ec2_private.pem`).
    const OTHER_KEY: &str = "ec2_private.pem";

    /// The proof checks, in the API's order, as the report names them.
    const PROOF_CHECKS: [&str; 14] = [
        "DPoP scheme",
        "one proof",
        "well-formed proof",
        "proof type",
        "proof algorithm",
        "proof key",
        "proof signature",
        "proof method (htm)",
        "proof URL (htu)",
        "proof age (iat)",
        "token hash (ath)",
        "key binding (cnf.jkt)",
        "server nonce",
        "proof replay (jti)",
    ];

    fn encoding_key(file: &str) -> EncodingKey {
        let pem = std::fs::read(key_path(file)).expect("test key");
        EncodingKey::from_ec_pem(&pem).expect("an EC private key")
    }

    /// The public JWK of the private key in `file`.
    fn public_jwk(file: &str) -> Jwk {
        Jwk::from_encoding_key(&encoding_key(file), Alg::ES256).expect("a public JWK")
    }

    /// The RFC 7638 thumbprint of the key in `file`, as `cnf.jkt` holds it.
    fn thumbprint(file: &str) -> String {
        public_jwk(file)
            .thumbprint(ThumbprintHash::SHA256)
            .expect("a thumbprint")
    }

    /// An HS256 token (signed with [`SECRET`] by `jsonwebtoken`) bound to the key in `file`.
    fn bound_token(file: &str) -> String {
        let claims = claims(json!({"cnf": {"jkt": thumbprint(file)}}));
        jsonwebtoken::encode(
            &Header::new(Alg::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("token")
    }

    /// A proof for a GET of [`HTU`] with `token`, signed by the key in `file`, whose header has
    /// `typ`.
    fn proof(file: &str, token: &str, typ: &str) -> String {
        static JTI: AtomicUsize = AtomicUsize::new(0);
        let header = Header {
            typ: Some(typ.to_owned()),
            jwk: Some(public_jwk(file)),
            ..Header::new(Alg::ES256)
        };
        let claims = json!({
            "jti": format!("proof-{}-{}", std::process::id(), JTI.fetch_add(1, Ordering::Relaxed)),
            "htm": "GET",
            "htu": HTU,
            "iat": now(),
            "ath": URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())),
        });
        jsonwebtoken::encode(&header, &claims, &encoding_key(file)).expect("proof")
    }

    /// The proof check lines, after `Proof checks:`.
    fn proof_lines(run: &Run) -> Vec<&str> {
        let (_, after) = run
            .stdout
            .split_once("\nProof checks:\n")
            .unwrap_or_else(|| panic!("no proof checks in {run:#?}"));
        after
            .lines()
            .take_while(|line| line.starts_with('['))
            .collect()
    }

    /// The token's five check lines, before the DPoP section.
    fn token_tags(run: &Run) -> Vec<&str> {
        let (before, _) = run
            .stdout
            .split_once("DPoP proof (RFC 9449):")
            .expect("DPoP section");
        before
            .lines()
            .filter(|line| line.starts_with('['))
            .map(|line| &line[1..5])
            .collect()
    }

    /// The proof lines are the fourteen checks, in order; those before `failed` passed, `failed`
    /// failed with `reason`, those after it were not run (the replay check is never run).
    fn assert_failed_at(run: &Run, failed: &str, reason: &str) {
        let lines = proof_lines(run);
        let at = PROOF_CHECKS
            .iter()
            .position(|check| *check == failed)
            .expect("a proof check");
        assert_eq!(lines.len(), 14, "{run:#?}");
        for (index, (line, check)) in lines.iter().zip(PROOF_CHECKS).enumerate() {
            let expected = if check == "proof replay (jti)" {
                format!("[SKIP] {check}: not checked (needs the application's replay store)")
            } else if index < at {
                format!("[PASS] {check}: ")
            } else if index == at {
                format!("[FAIL] {check}: {reason}")
            } else {
                format!("[SKIP] {check}: not run (the {failed} check failed)")
            };
            assert!(
                line.starts_with(&expected),
                "{line:?} is not {expected:?}: {run:#?}"
            );
        }
        assert!(
            run.stdout
                .contains(&format!("Proof result: invalid: failed {failed}\n")),
            "{run:#?}"
        );
    }

    fn inspect_proof(dir: &TempDir, token: &str, proof: &str, extra: &[&str]) -> Run {
        let secret_file = dir.secret_file();
        let mut args = vec!["--secret-file", &secret_file, "--dpop", proof];
        args.extend_from_slice(extra);
        args.push(token);
        inspect(dir.path(), &args)
    }

    /// Without a proof, a bound token is refused as the API refuses it on a route without DPoP.
    #[test]
    fn a_bound_token_without_its_proof_is_not_a_bearer_token() {
        let dir = TempDir::new("dpop-bearer");
        let token = bound_token(BOUND_KEY);
        let secret_file = dir.secret_file();
        let run = inspect(dir.path(), &["--secret-file", &secret_file, &token]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert!(
            run.stdout
                .contains("[FAIL] well-formed: The token is bound to a key (cnf): it cannot be used as a bearer token"),
            "{run:#?}"
        );
    }

    #[test]
    fn a_valid_es256_proof_bound_to_its_token_passes_every_check() {
        let dir = TempDir::new("dpop-valid");
        let token = bound_token(BOUND_KEY);
        let proof = proof(BOUND_KEY, &token, "dpop+jwt");
        let run = inspect_proof(&dir, &token, &proof, &["--method", "GET", "--url", HTU]);
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert_eq!(token_tags(&run), ["PASS"; 5], "{run:#?}");
        let lines = proof_lines(&run);
        assert_eq!(lines.len(), 14, "{run:#?}");
        for (line, check) in lines.iter().zip(PROOF_CHECKS) {
            let tag = if check == "proof replay (jti)" {
                "SKIP"
            } else {
                "PASS"
            };
            assert!(
                line.starts_with(&format!("[{tag}] {check}: ")),
                "{line}: {run:#?}"
            );
        }
        assert_eq!(
            run.check("proof replay (jti)"),
            "[SKIP] proof replay (jti): not checked (needs the application's replay store)"
        );
        assert_eq!(
            run.check("proof method (htm)"),
            "[PASS] proof method (htm): htm \"GET\" is the request's method"
        );
        assert!(
            run.check("proof age (iat)")
                .contains(" ago, within dpop_iat_window ("),
            "{run:#?}"
        );
        // The proof's header and claims, pretty-printed as the token's; its iat annotated.
        assert!(run.stdout.contains("Proof header:\n{"), "{run:#?}");
        assert!(run.stdout.contains("\"typ\": \"dpop+jwt\""), "{run:#?}");
        assert!(run.stdout.contains("\"alg\": \"ES256\""), "{run:#?}");
        assert!(run.stdout.contains("\"kty\": \"EC\""), "{run:#?}");
        assert!(
            run.stdout.contains(&format!("\"htu\": \"{HTU}\"")),
            "{run:#?}"
        );
        // The key's thumbprint, and the token's cnf.jkt naming it.
        let jkt = thumbprint(BOUND_KEY);
        assert!(
            run.stdout
                .contains(&format!("Proof key thumbprint (RFC 7638): {jkt}\n")),
            "{run:#?}"
        );
        assert!(
            run.stdout
                .contains(&format!("Token cnf.jkt: {jkt} (the proof's key)\n")),
            "{run:#?}"
        );
        assert!(
            run.stdout.contains("Proof result: valid: no check failed"),
            "{run:#?}"
        );

        // Without --method and --url the proof's own htm and htu stand in, not compared; from
        // a file, with the header name as copied from a request, and the token's DPoP scheme.
        let file = dir.file("proof.txt", &format!("DPoP: {proof}\n"));
        let run = inspect(
            dir.path(),
            &[
                "--secret-file",
                &dir.secret_file(),
                "--dpop-file",
                file.to_str().expect("utf-8 path"),
                &format!("DPoP {token}"),
            ],
        );
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert_eq!(
            run.check("proof method (htm)"),
            "[SKIP] proof method (htm): not compared: no --method given, the proof's own htm \
             \"GET\" stood in"
        );
        assert_eq!(
            run.check("proof URL (htu)"),
            format!(
                "[SKIP] proof URL (htu): not compared: no --url given, the proof's own htu \
                 \"{HTU}\" stood in"
            )
        );
        assert_eq!(
            run.check("DPoP scheme"),
            "[PASS] DPoP scheme: the token was given with the DPoP scheme"
        );
    }

    #[test]
    fn a_proof_of_another_method_fails_the_method_check() {
        let dir = TempDir::new("dpop-method");
        let token = bound_token(BOUND_KEY);
        let proof = proof(BOUND_KEY, &token, "dpop+jwt");
        let run = inspect_proof(&dir, &token, &proof, &["--method", "POST", "--url", HTU]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        // The token itself is valid.
        assert_eq!(token_tags(&run), ["PASS"; 5], "{run:#?}");
        assert!(run.stdout.contains("Result: valid"), "{run:#?}");
        assert_failed_at(
            &run,
            "proof method (htm)",
            "DPoP proof: `htm` is not the request's method POST",
        );
        // The key was read before the method was compared.
        assert!(
            run.stdout.contains(&format!(
                "Token cnf.jkt: {} (the proof's key)",
                thumbprint(BOUND_KEY)
            )),
            "{run:#?}"
        );
    }

    #[test]
    fn a_proof_signed_by_another_key_than_cnf_jkt_fails_the_binding() {
        let dir = TempDir::new("dpop-binding");
        let token = bound_token(BOUND_KEY);
        let proof = proof(OTHER_KEY, &token, "dpop+jwt");
        let run = inspect_proof(&dir, &token, &proof, &["--method", "GET", "--url", HTU]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert_eq!(token_tags(&run), ["PASS"; 5], "{run:#?}");
        assert_failed_at(
            &run,
            "key binding (cnf.jkt)",
            "DPoP proof: the token is bound to another key than the proof's (cnf.jkt)",
        );
        // Both keys are named: the proof's, and the one the token is bound to.
        let (proof_key, bound_key) = (thumbprint(OTHER_KEY), thumbprint(BOUND_KEY));
        assert_ne!(proof_key, bound_key);
        assert!(
            run.stdout
                .contains(&format!("Proof key thumbprint (RFC 7638): {proof_key}\n")),
            "{run:#?}"
        );
        assert!(
            run.stdout.contains(&format!(
                "Token cnf.jkt: {bound_key} (another key than the proof's)\n"
            )),
            "{run:#?}"
        );
    }

    #[test]
    fn a_proof_typed_jwt_fails_the_type_check() {
        let dir = TempDir::new("dpop-typ");
        let token = bound_token(BOUND_KEY);
        let proof = proof(BOUND_KEY, &token, "JWT");
        let run = inspect_proof(&dir, &token, &proof, &["--method", "GET", "--url", HTU]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert_eq!(token_tags(&run), ["PASS"; 5], "{run:#?}");
        assert_failed_at(&run, "proof type", "DPoP proof: `typ` is not \"dpop+jwt\"");
        assert!(run.stdout.contains("\"typ\": \"JWT\""), "{run:#?}");
    }

    #[test]
    fn a_token_sent_as_bearer_or_unbound_is_refused_as_the_api_refuses_it() {
        let dir = TempDir::new("dpop-scheme");
        let token = bound_token(BOUND_KEY);
        let proof = proof(BOUND_KEY, &token, "dpop+jwt");
        // A bound token given with the Bearer scheme: a downgrade.
        let run = inspect_proof(&dir, &format!("Bearer {token}"), &proof, &[]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        let lines = proof_lines(&run);
        assert!(
            lines[0].starts_with(
                "[FAIL] DPoP scheme: DPoP proof: the token is DPoP-bound (cnf.jkt) and must be \
                 sent with the DPoP scheme and its proof (the token was given with the Bearer \
                 scheme)"
            ),
            "{run:#?}"
        );
        // A token without cnf.jkt: the proof is fine, the binding is not.
        let unbound = hs256(&claims(json!({})));
        let proof = super::dpop::proof(BOUND_KEY, &unbound, "dpop+jwt");
        let run = inspect_proof(&dir, &unbound, &proof, &["--method", "get", "--url", HTU]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert_failed_at(
            &run,
            "key binding (cnf.jkt)",
            "DPoP proof: the token sent with the DPoP scheme is not bound to a key (no cnf.jkt)",
        );
        assert!(run.stdout.contains("Token cnf.jkt: (none: "), "{run:#?}");
    }

    #[test]
    fn dpop_usage_errors_exit_2() {
        let dir = TempDir::new("dpop-usage");
        let token = bound_token(BOUND_KEY);
        // --method and --url need a proof; --dpop and --dpop-file exclude each other.
        for args in [
            vec!["--no-config", "--method", "GET", &token],
            vec!["--no-config", "--url", HTU, &token],
            vec![
                "--no-config",
                "--dpop",
                "a.b.c",
                "--dpop-file",
                "p.txt",
                &token,
            ],
            vec!["--no-config", "--dpop", " ", &token],
            vec!["--no-config", "--dpop-file", "missing.txt", &token],
        ] {
            let run = inspect(dir.path(), &args);
            assert_eq!(run.code, Some(2), "{args:?}: {run:#?}");
        }
    }
}
