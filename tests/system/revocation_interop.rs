//! Revocation side by side with the real Flask-JWT-Extended 4.7.1: `examples/extended.rs` and
//! `tests/interop/extended_app.py`, both with `REDIS_URL` set to one real `redis-server`, answer
//! `DELETE /logout`, `DELETE /logout/everywhere` and revoked tokens the same way, and a token
//! revoked by either is refused by both (they share the key layout and the invalidation channel).
//!
//! And beside Flask-JWT-Extended's own Redis blocklist recipe (`tests/interop/blocklist_redis_app.py`,
//! as its documentation writes it): with `revocation_key_layout = "flask-jwt-extended"`, a token
//! revoked by either application is refused by both.
//!
//! Without `python3` or `redis-server` the harness reports the tests as ignored, saying why, or as
//! failed when `CI` is set.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::redis_server::RedisServer;
use crate::extended_example;
use crate::extended_interop::{EXTENDED_APP, EXTENDED_ENV};
use crate::http_client::{self, HttpResponse};
use crate::live_rocket::LiveRocket;
use crate::programs::Program;
use crate::reference_app::{AppSpec, ReferenceApp};

/// The two applications on one Redis: (Python, Rust) ports, kept alive by the returned guards.
struct Sides {
    python: ReferenceApp,
    rust: LiveRocket,
    _redis: RedisServer,
}

fn sides() -> Sides {
    let redis = RedisServer::start();
    let url = redis.url();
    let python = ReferenceApp::start_with(&EXTENDED_APP, &[("REDIS_URL", &url)]);
    let rust = LiveRocket::launch(crate::common::with_test_secret(extended_example::app(
        Some(url),
    )));
    Sides {
        python,
        rust,
        _redis: redis,
    }
}

impl Sides {
    /// `(name, port)` of each side.
    fn each(&self) -> [(&'static str, u16); 2] {
        [
            ("Flask-JWT-Extended", self.python.port()),
            ("Rust", self.rust.port()),
        ]
    }
}

fn send(port: u16, method: &str, path: &str, token: Option<&str>) -> HttpResponse {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = match &authorization {
        Some(value) => vec![("Authorization", value.as_str())],
        None => Vec::new(),
    };
    http_client::request(port, method, path, &headers, b"")
        .unwrap_or_else(|e| panic!("{method} {path} on port {port}: {e}"))
}

fn answer(response: HttpResponse) -> (u16, Value) {
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

/// A fresh access and refresh token of user1 from the server on `port`.
fn login(port: u16) -> (String, String) {
    let response = http_client::request(
        port,
        "POST",
        "/login",
        &[("Content-Type", "application/json")],
        br#"{"username":"user1","password":"abcxyz"}"#,
    )
    .expect("login");
    let body: Value = serde_json::from_slice(&response.body).expect("JSON");
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

/// Waits until `path` on `port` with `token` is refused as revoked (the other side learns of a
/// revocation through the channel); the last answer.
fn until_revoked(port: u16, method: &str, path: &str, token: &str) -> (u16, Value) {
    let started = Instant::now();
    loop {
        let answer = answer(send(port, method, path, Some(token)));
        if answer.0 != 200 || started.elapsed() > Duration::from_secs(2) {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn revoked() -> (u16, Value) {
    (401, json!({"msg": "Token has been revoked"}))
}

fn logout_and_revoked_tokens_answer_as_flask_jwt_extended_s_redis_blocklist() {
    let sides = sides();
    let mut failures = Vec::new();
    for (name, port) in sides.each() {
        let (access, refresh) = login(port);
        let (other, _) = login(port);
        let cases: Vec<(&str, (u16, Value))> = vec![
            (
                "logout without a token",
                answer(send(port, "DELETE", "/logout", None)),
            ),
            (
                "logout with the access token",
                answer(send(port, "DELETE", "/logout", Some(&access))),
            ),
            (
                "the revoked access token",
                answer(send(port, "GET", "/protected", Some(&access))),
            ),
            (
                "logout again",
                answer(send(port, "DELETE", "/logout", Some(&access))),
            ),
            (
                "another token of the user",
                answer(send(port, "GET", "/protected", Some(&other))),
            ),
            (
                "logout with the refresh token",
                answer(send(port, "DELETE", "/logout", Some(&refresh))),
            ),
            (
                "the revoked refresh token",
                answer(send(port, "POST", "/refresh", Some(&refresh))),
            ),
            (
                "the revoked access token where a refresh token is required",
                answer(send(port, "POST", "/refresh", Some(&access))),
            ),
        ];
        let expected = [
            (
                401,
                json!({"msg": "Missing JWT in headers, cookies, query_string or json (Missing \
                    Authorization Header; Missing cookie \"access_token_cookie\"; Missing 'jwt' \
                    query paramater; Invalid content-type. Must be application/json.)"}),
            ),
            (200, json!({"msg": "Access token revoked"})),
            revoked(),
            revoked(),
            (200, json!({"logged_in_as": "user1"})),
            (200, json!({"msg": "Refresh token revoked"})),
            revoked(),
            (422, json!({"msg": "Only refresh tokens are allowed"})),
        ];
        for ((case, got), expected) in cases.into_iter().zip(expected) {
            if got != expected {
                failures.push(format!("{name}: {case}: {got:?}, expected {expected:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn a_token_revoked_by_either_application_is_refused_by_both() {
    let sides = sides();
    let [(first, a), (second, b)] = sides.each();
    for (revoker, revoker_port, issuer_port) in [(first, a, b), (second, b, a), (first, a, a)] {
        // Issued by one side, used on both, revoked by `revoker`.
        let (access, _) = login(issuer_port);
        for port in [a, b] {
            let answer = answer(send(port, "GET", "/protected", Some(&access)));
            assert_eq!(answer.0, 200, "{answer:?}");
        }
        let logout = answer(send(revoker_port, "DELETE", "/logout", Some(&access)));
        assert_eq!(logout, (200, json!({"msg": "Access token revoked"})));
        for (name, port) in sides.each() {
            assert_eq!(
                until_revoked(port, "GET", "/protected", &access),
                revoked(),
                "revoked by {revoker}, used on {name}"
            );
        }
    }
    // Logging out everywhere on either side reaches tokens issued by both.
    for (revoker, port) in sides.each() {
        std::thread::sleep(Duration::from_millis(1_100));
        let tokens = [login(a).0, login(b).0];
        for token in &tokens {
            assert_eq!(answer(send(a, "GET", "/protected", Some(token))).0, 200);
            assert_eq!(answer(send(b, "GET", "/protected", Some(token))).0, 200);
        }
        let everywhere = answer(send(port, "DELETE", "/logout/everywhere", Some(&tokens[0])));
        assert_eq!(everywhere, (200, json!({"msg": "All tokens revoked"})));
        for token in &tokens {
            for (name, port) in sides.each() {
                assert_eq!(
                    until_revoked(port, "GET", "/protected", token),
                    revoked(),
                    "logged out everywhere by {revoker}, used on {name}"
                );
            }
        }
    }
}

/// Flask-JWT-Extended's Redis blocklist recipe, as its documentation writes it.
static RECIPE_APP: AppSpec = AppSpec {
    env: EXTENDED_ENV,
    script: "tests/interop/blocklist_redis_app.py",
    name: "Flask-JWT-Extended's Redis blocklist recipe",
    ready_path: "/ready",
};

fn the_recipe_of_flask_jwt_extended_and_ours_share_revoked_tokens() {
    let redis = RedisServer::start();
    let url = redis.url();
    let recipe = ReferenceApp::start_with(&RECIPE_APP, &[("REDIS_URL", &url)]);
    let rocket = crate::common::with_test_secret(extended_example::app(Some(url)));
    let figment = rocket
        .figment()
        .clone()
        .merge(("jwt.revocation_key_layout", "flask-jwt-extended"));
    let rust = LiveRocket::launch(rocket.configure(figment));
    let sides = [("the recipe", recipe.port()), ("Rust", rust.port())];
    let accepted = |token: &str| {
        for (name, port) in sides {
            let answer = answer(send(port, "GET", "/protected", Some(token)));
            assert_eq!(answer.0, 200, "{name}: {answer:?}");
        }
    };
    // No near-cache to wait for: each side reads Redis on every request.
    let refused = |token: &str, revoker: &str| {
        for (name, port) in sides {
            assert_eq!(
                answer(send(port, "GET", "/protected", Some(token))),
                revoked(),
                "revoked by {revoker}, used on {name}"
            );
        }
    };
    for (revoker, port) in sides {
        let (access, _) = login(rust.port());
        accepted(&access);
        let logout = answer(send(port, "DELETE", "/logout", Some(&access)));
        assert_eq!(
            logout,
            (200, json!({"msg": "Access token revoked"})),
            "{revoker}"
        );
        refused(&access, revoker);
    }
    // A token the recipe issued (for its `example_user`, whom the Rust side's user lookup does not
    // know) and revoked is refused as revoked by the Rust side too: revocation comes first.
    let issued = http_client::request(recipe.port(), "POST", "/login", &[], b"").expect("login");
    let body: Value = serde_json::from_slice(&issued.body).expect("JSON");
    let theirs = body["access_token"].as_str().expect("access").to_owned();
    let unknown = answer(send(rust.port(), "GET", "/protected", Some(&theirs)));
    assert_eq!(unknown.0, 401, "{unknown:?}");
    assert_ne!(unknown, revoked());
    assert_eq!(
        answer(send(recipe.port(), "DELETE", "/logout", Some(&theirs))).0,
        200
    );
    refused(&theirs, "the recipe");
    // Logging out everywhere still works on the Rust side; the recipe does not read the
    // subject's key (the README says what it must add for that).
    let (access, _) = login(rust.port());
    accepted(&access);
    let everywhere = answer(send(
        rust.port(),
        "DELETE",
        "/logout/everywhere",
        Some(&access),
    ));
    assert_eq!(everywhere, (200, json!({"msg": "All tokens revoked"})));
    assert_eq!(
        answer(send(rust.port(), "GET", "/protected", Some(&access))),
        revoked()
    );
    assert_eq!(
        answer(send(recipe.port(), "GET", "/protected", Some(&access))).0,
        200
    );
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            logout_and_revoked_tokens_answer_as_flask_jwt_extended_s_redis_blocklist,
            needs [Program::RedisServer, Program::Python(&EXTENDED_APP.env)]
        ),
        test!(
            a_token_revoked_by_either_application_is_refused_by_both,
            needs [Program::RedisServer, Program::Python(&EXTENDED_APP.env)]
        ),
        test!(
            the_recipe_of_flask_jwt_extended_and_ours_share_revoked_tokens,
            needs [Program::RedisServer, Program::Python(&RECIPE_APP.env)]
        ),
    ]
}
