//! Refresh-token rotation with reuse detection as panva's `oidc-provider` (9.13.3, pinned in
//! `tests/interop/oidc-provider/package.json`) does it: the reference answers our rotation is
//! compared with. `tests/interop/oidc-provider/server.js` is an OpenID Provider on 127.0.0.1 with
//! `rotateRefreshToken: true`, introspection and revocation enabled; `scenario.js` logs in by the
//! authorization code flow (`openid offline_access`, `prompt=consent`; the interactions finish
//! without a browser) and refreshes, reuses and introspects, printing each step's answer as one
//! JSON object ([`oidc_provider_rotation`], which a comparison calls).
//!
//! What oidc-provider does, as its refresh grant is written (`lib/actions/grants/refresh_token.js`)
//! and as the test below sees it: every refresh consumes the presented refresh token and answers
//! a new one; presenting a consumed one destroys it, revokes the whole grant (every access and
//! refresh token of that login, `lib/helpers/revoke.js`) and answers 400 `invalid_grant`
//! ("refresh token already used" in its log). After that the newest refresh token of the family
//! and the original one are refused (`invalid_grant`, "refresh token not found"), the family's
//! access token introspects as inactive and userinfo refuses it (401 `invalid_token`), and
//! another login of the same user (another grant) keeps working. There is no grace for
//! concurrent use: of two refreshes of one token sent at once, one rotates and the other is a
//! reuse, which revokes the family, the first one's new refresh token included.
//!
//! The Node packages are installed by the test under the target directory (`npm ci` from the
//! committed `package-lock.json`, again only when it or Node changes; see `node_packages.rs`).
//! oidc-provider 9 warns on its stderr that Node.js 20 is not a runtime it supports (it asks for
//! 22 LTS or later); it runs on it. Where `node` or `npm` is not installed the harness reports the
//! test as ignored, saying why, except under CI (`CI` set), where it fails.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::node_packages::NodePackages;
use crate::node_server::NodeServer;
use crate::pipes::collect;
use crate::programs::Program;

/// The OpenID Provider and the scenario: their folder and their packages.
const APP: NodePackages = NodePackages {
    app_dir: "tests/interop/oidc-provider",
    name: "oidc-provider",
    package: "oidc-provider",
};

/// How long the scenario may take.
const SCENARIO: Duration = Duration::from_secs(60);

/// `node scenario.js <port>`: its stdout, or why it failed (with its stderr).
fn run_scenario(node_modules: &Path, port: u16) -> Result<String, String> {
    let scenario = APP.source().join("scenario.js");
    let mut child = Command::new("node")
        .arg(&scenario)
        .arg(port.to_string())
        .env("NODE_PATH", node_modules)
        .env_remove("NODE_OPTIONS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run node {}: {e}", scenario.display()))?;
    let (stdout, stdout_reader) = collect(child.stdout.take().expect("piped stdout"));
    let (stderr, stderr_reader) = collect(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + SCENARIO;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Err(e) => return Err(format!("waiting for {}: {e}", scenario.display())),
        }
    };
    let _ = stdout_reader.join();
    let _ = stderr_reader.join();
    let stdout = stdout.lock().unwrap().clone();
    let stderr = stderr.lock().unwrap().clone();
    match status {
        Some(status) if status.success() => Ok(stdout),
        Some(status) => Err(format!(
            "the scenario failed ({status}); stdout:\n{stdout}\nstderr:\n{stderr}"
        )),
        None => Err(format!(
            "the scenario did not finish within {SCENARIO:?}; stdout:\n{stdout}\nstderr:\n{stderr}"
        )),
    }
}

/// oidc-provider's answers to the rotation scenario (see `tests/interop/oidc-provider/scenario.js`
/// for the steps): installs the packages, starts `server.js` on a free port of 127.0.0.1, runs
/// `scenario.js` against it, stops the server and returns the JSON object the scenario printed.
/// The server's log (its grant errors and revocations) goes to stderr.
pub(crate) fn oidc_provider_rotation() -> Result<Value, String> {
    let node_modules = APP.try_node_modules()?;
    let server = APP.source().join("server.js");
    let mut provider = NodeServer::start(&server, &["0"], &node_modules, "oidc-provider")?;
    let output = run_scenario(&node_modules, provider.port());
    let log = provider.stop();
    eprintln!("oidc-provider's log:\n{}", log.trim_end());
    let output = output.map_err(|e| format!("{e}\noidc-provider's log:\n{log}"))?;
    serde_json::from_str(output.trim())
        .map_err(|e| format!("the scenario's output is not one JSON object ({e}):\n{output}"))
}

// ----- the test ----------------------------------------------------------------------------------

/// `answers[path]`, where `path` is `step` or `step.sub_step`.
fn step<'a>(answers: &'a Value, path: &str) -> &'a Value {
    let found = path.split('.').fold(answers, |value, name| &value[name]);
    assert!(found.is_object(), "no step {path} in {answers:#}");
    found
}

/// Asserts a token endpoint answer: its status, its `error`, whether a new refresh token came.
fn assert_token(answers: &Value, path: &str, status: u16, error: Option<&str>, new: Option<bool>) {
    let answer = step(answers, path);
    assert_eq!(
        (
            answer["status"].as_u64(),
            answer["error"].as_str(),
            answer["new_refresh_token"].as_bool()
        ),
        (Some(u64::from(status)), error, new),
        "{path}: {answer}"
    );
}

/// Asserts what introspection and userinfo say of an access token.
fn assert_access(answers: &Value, path: &str, active: bool, userinfo: u16, error: Option<&str>) {
    let answer = step(answers, path);
    assert_eq!(
        (
            answer["status"].as_u64(),
            answer["active"].as_bool(),
            answer["userinfo_status"].as_u64(),
            answer["userinfo_error"].as_str()
        ),
        (Some(200), Some(active), Some(u64::from(userinfo)), error),
        "{path}: {answer}"
    );
}

fn oidc_provider_rotates_and_revokes_the_family_on_reuse() {
    let answers = oidc_provider_rotation().unwrap_or_else(|error| panic!("{error}"));
    eprintln!(
        "oidc-provider's answers:\n{}",
        serde_json::to_string_pretty(&answers).expect("JSON")
    );
    let refused = Some("invalid_grant");

    assert_token(&answers, "login", 200, None, Some(true));
    assert_token(&answers, "other_login", 200, None, Some(true));
    // Each refresh answers a refresh token other than the one presented.
    assert_token(&answers, "rotate", 200, None, Some(true));
    assert_token(&answers, "rotate_again", 200, None, Some(true));
    assert_access(&answers, "access_before_reuse", true, 200, None);
    // The rotated R1 again: a reuse, refused.
    assert_token(&answers, "reuse", 400, refused, None);
    // ... which revoked the family: its newest refresh token, its access token, its first one.
    assert_token(&answers, "newest_after_reuse", 400, refused, None);
    assert_access(
        &answers,
        "access_after_reuse",
        false,
        401,
        Some("invalid_token"),
    );
    assert_token(&answers, "original_after_reuse", 400, refused, None);
    // Another login of the same user is another family, untouched.
    assert_token(&answers, "other_session", 200, None, Some(true));

    // No grace: of two refreshes of one token at once, one rotates, the other is a reuse that
    // revokes the family, so the new refresh token the first one got is refused too.
    assert_token(&answers, "concurrent.login", 200, None, Some(true));
    let (winner, loser) = match step(&answers, "concurrent.first")["status"].as_u64() {
        Some(200) => ("first", "second"),
        _ => ("second", "first"),
    };
    assert_token(
        &answers,
        &format!("concurrent.{winner}"),
        200,
        None,
        Some(true),
    );
    assert_token(&answers, &format!("concurrent.{loser}"), 400, refused, None);
    assert_token(
        &answers,
        &format!("concurrent.{winner}_new_after"),
        400,
        refused,
        None,
    );
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![test!(
        oidc_provider_rotates_and_revokes_the_family_on_reuse,
        needs[Program::Node]
    )]
}
