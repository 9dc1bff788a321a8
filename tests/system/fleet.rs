//! One fleet behind one proxy: nginx, run by the test on a free port of 127.0.0.1 from
//! `tests/interop/fleet-nginx.conf`, in front of the real Flask-JWT-Extended 4.7.1 (the
//! application `tests/interop/fleet_flask_app.py`, written as its documentation teaches) under
//! `/py/` and `examples/extended.rs` under `/rs/`, with one Redis and one secret, on one origin
//! that also serves the page `tests/interop/fleet.html`. The Flask side keeps revoked tokens as
//! Flask-JWT-Extended's Redis blocklist recipe does (the `jti` as the key); the Rust side reads and
//! writes the same keys (`revocation_key_layout = "flask-jwt-extended"`). Every cookie of both
//! sides is on the path `/`, which the browser sends to both prefixes.
//!
//! - Cookies, in headless Chromium (the page's `fetch`, with the value of the `csrf_access_token`
//!   or `csrf_refresh_token` cookie in `X-CSRF-TOKEN`): logged in on one side, the protected
//!   routes of both answer, with the CSRF header and not without it; the other side refreshes
//!   through the refresh cookie into new access cookies (the Flask side at `POST /py/refresh`, the
//!   Rust side at `POST /rs/refresh/cookies`), which the protected routes of both take; that side
//!   logs the session out (`DELETE /logout/refresh` with the refresh cookie, `DELETE /logout` with
//!   the access cookie); the cookies the browser held just before the logout, put back, are then
//!   refused by every route of both that reads them.
//! - Tokens in headers, over plain HTTP through nginx: logged in on either side, refreshed on the
//!   other, logged out on either; every route of both then refuses each token of the session.
//!
//! A logout revokes the tokens it is shown, and no other, as the recipe does: the client shows
//! each token it holds. In headers, those are the refreshed access token, the refresh token and
//! the login's access token, which the refresh replaced. In cookies, those are the two token
//! cookies held just before the logout, each shown with its CSRF value: the access cookie, which
//! holds the refreshed access token, and the refresh cookie; the replay puts back both, with their
//! CSRF cookies. The login's access token, which the refresh replaced in the browser's cookies,
//! is not revoked by a logout that cannot be shown it (the page cannot read an `HttpOnly`
//! cookie); the tests check that too.
//!
//! The tests need `redis-server`, `python3` (the Flask-JWT-Extended environment of
//! `extended_interop`), `nginx`, and those with cookies `chromium` and `chromedriver`: where one
//! is missing, the harness reports them as ignored, saying why, or as failed when `CI` is set.
//! With `FLEET_TRANSCRIPT` set, each test writes every call it made, with its answer, on stderr.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

use crate::browser::{BrowserTools, Chromedriver, Session};
use crate::common::redis_server::{free_port, RedisServer};
use crate::common::{with_test_secret, SECRET};
use crate::extended_example;
use crate::extended_interop::EXTENDED_ENV;
use crate::http_client::{self, HttpResponse};
use crate::live_rocket::LiveRocket;
use crate::programs::{self, Program};
use crate::reference_app::{AppSpec, ReferenceApp};

/// The Flask-JWT-Extended side, in the environment of `extended_interop`.
static FLEET_APP: AppSpec = AppSpec {
    env: EXTENDED_ENV,
    script: "tests/interop/fleet_flask_app.py",
    name: "the fleet's Flask-JWT-Extended application",
    ready_path: "/ready",
};

/// How long nginx may take to serve the page.
const STARTUP: Duration = Duration::from_secs(15);

/// The login body both sides take.
const CREDENTIALS: &str = r#"{"username":"user1","password":"abcxyz"}"#;

// ----- the fleet ----------------------------------------------------------------------------------

/// One side of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Flask,
    Rust,
}

const SIDES: [Side; 2] = [Side::Flask, Side::Rust];

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Flask => "Flask-JWT-Extended",
            Side::Rust => "Rust",
        }
    }

    fn other(self) -> Side {
        match self {
            Side::Flask => Side::Rust,
            Side::Rust => Side::Flask,
        }
    }

    /// `route` as the browser sees it, under this side's prefix.
    fn path(self, route: &str) -> String {
        let prefix = match self {
            Side::Flask => "/py",
            Side::Rust => "/rs",
        };
        format!("{prefix}{route}")
    }

    /// Every route of this side that takes an access token: (method, route, whether it reads
    /// the access cookie too).
    fn access_routes(self) -> &'static [(&'static str, &'static str, bool)] {
        match self {
            Side::Flask => &[
                ("GET", "/protected", true),
                ("POST", "/protected", true),
                ("DELETE", "/logout", true),
            ],
            Side::Rust => &[
                ("GET", "/protected", true),
                ("POST", "/protected", true),
                ("GET", "/fresh", true),
                ("GET", "/optional", true),
                ("GET", "/claims", true),
                ("GET", "/user", true),
                ("GET", "/headers-only", false),
                ("DELETE", "/logout", true),
                ("DELETE", "/logout/everywhere", true),
            ],
        }
    }

    /// Every route of this side that takes a refresh token: (method, route, whether it reads the
    /// refresh cookie too; a logout that takes any token reads only the access cookie).
    fn refresh_routes(self) -> &'static [(&'static str, &'static str, bool)] {
        match self {
            Side::Flask => &[
                ("POST", "/refresh", true),
                ("DELETE", "/logout/refresh", true),
                ("DELETE", "/logout", false),
            ],
            Side::Rust => &[
                ("POST", "/refresh", true),
                ("POST", "/refresh/cookies", true),
                ("DELETE", "/logout/refresh", true),
                ("DELETE", "/logout", false),
            ],
        }
    }
}

/// nginx in front of both applications, one Redis. Dropped in this order: nginx first.
struct Fleet {
    nginx: Nginx,
    _python: ReferenceApp,
    _rust: LiveRocket,
    _redis: RedisServer,
}

/// Starts the fleet: Redis, the Flask side, the Rust side, then nginx.
fn fleet() -> Fleet {
    let redis = RedisServer::start();
    let url = redis.url();
    let python = ReferenceApp::start_with(
        &FLEET_APP,
        &[("REDIS_URL", &url), ("JWT_SECRET_KEY", SECRET)],
    );
    let rocket = with_test_secret(extended_example::app(Some(url)));
    let figment = rocket
        .figment()
        .clone()
        .merge(("jwt.revocation_key_layout", "flask-jwt-extended"));
    let rust = LiveRocket::launch(rocket.configure(figment));
    let nginx = Nginx::start(python.port(), rust.port());
    Fleet {
        nginx,
        _python: python,
        _rust: rust,
        _redis: redis,
    }
}

/// nginx as a child process, with its configuration, page, logs, pid file and temporary files in
/// a directory of its own under the target directory. It runs in a process group of its own;
/// dropping it kills the group (the master and its worker), also when the test panics.
struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Nginx {
    /// Starts nginx on a free port in front of the applications on these ports, and waits until
    /// it serves the page.
    fn start(python_port: u16, rust_port: u16) -> Nginx {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let program = programs::nginx().expect("nginx (the harness runs this test only with it)");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("fleet")
            .join(format!(
                "nginx-{}-{}",
                std::process::id(),
                STARTED.fetch_add(1, Ordering::Relaxed)
            ));
        if dir.exists() {
            fs::remove_dir_all(&dir).expect("remove the previous nginx directory");
        }
        fs::create_dir_all(&dir).expect("create the nginx directory");
        let port = free_port();
        let dir_text = dir.to_str().expect("a UTF-8 target directory");
        // As root, nginx runs its workers as nobody, who may not reach the target directory.
        let user = if running_as_root() { "user root;" } else { "" };
        let config = include_str!("../interop/fleet-nginx.conf")
            .replace("@DIR@", dir_text)
            .replace("@PORT@", &port.to_string())
            .replace("@PY_PORT@", &python_port.to_string())
            .replace("@RS_PORT@", &rust_port.to_string())
            .replace("@USER@", user);
        let config_file = dir.join("nginx.conf");
        fs::write(&config_file, config).expect("write nginx.conf");
        fs::write(
            dir.join("fleet.html"),
            include_str!("../interop/fleet.html"),
        )
        .expect("write fleet.html");
        let child = Command::new(&program)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&config_file)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-g", "daemon off;"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let mut nginx = Nginx { child, port, dir };

        let deadline = Instant::now() + STARTUP;
        loop {
            match http_client::request(port, "GET", "/fleet.html", &[], b"") {
                Ok(page) if page.status == 200 => return nginx,
                Ok(page) => nginx.fail(&format!("GET /fleet.html answered {}", page.status)),
                Err(_) if Instant::now() > deadline => nginx.fail(&format!(
                    "nginx does not serve 127.0.0.1:{port} in {STARTUP:?}"
                )),
                Err(_) => {}
            }
            if let Ok(Some(status)) = nginx.child.try_wait() {
                nginx.fail(&format!("nginx exited ({status})"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Panics with `what` and nginx's error log.
    fn fail(&mut self, what: &str) -> ! {
        let log = fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
        panic!(
            "{what}\n--- {} ---\n{log}---",
            self.dir.join("error.log").display()
        )
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            // Kept when the test fails: its error log may say why.
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether this process runs as root (`/proc/self` belongs to the process's user).
fn running_as_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

// ----- answers --------------------------------------------------------------------------------------

type Answer = (u16, Value);

fn logged_in_as_user1() -> Answer {
    (200, json!({"logged_in_as": "user1"}))
}

fn revoked() -> Answer {
    (401, json!({"msg": "Token has been revoked"}))
}

fn missing_csrf() -> Answer {
    (401, json!({"msg": "Missing CSRF token"}))
}

/// How a route refuses a revoked access token: as revoked, unless a check that
/// Flask-JWT-Extended makes before the blocklist's (the token's type, then its freshness) refuses
/// it first: a non-fresh token at `/fresh`.
fn refusal(route: &str, token: &str) -> Answer {
    if route == "/fresh" && claims_of(token)["fresh"] == false {
        (401, json!({"msg": "Fresh token required"}))
    } else {
        revoked()
    }
}

fn token_revoked(kind: &str) -> Answer {
    (200, json!({"msg": format!("{kind} token revoked")}))
}

/// The claims of a JWS compact token, read without verifying it.
fn claims_of(token: &str) -> Value {
    let payload = token
        .split('.')
        .nth(1)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .unwrap_or_else(|| panic!("not a JWS compact token: {token}"));
    serde_json::from_slice(&payload).unwrap_or_else(|e| panic!("claims not JSON ({e}): {token}"))
}

/// The string member `key` of an answer's body.
fn member(answer: &Answer, key: &str) -> String {
    answer.1[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {answer:?}"))
        .to_owned()
}

/// Checks that a refreshed access token is a non-fresh access token of user1.
fn assert_refreshed(token: &str) {
    let claims = claims_of(token);
    assert_eq!(
        (&claims["sub"], &claims["type"], &claims["fresh"]),
        (&json!("user1"), &json!("access"), &json!(false)),
        "{claims}"
    );
}

/// Every call of a test and its answer: in the message of a failed check, and on stderr when
/// `FLEET_TRANSCRIPT` is set.
struct Transcript {
    lines: Vec<String>,
}

impl Transcript {
    fn new() -> Transcript {
        Transcript { lines: Vec::new() }
    }

    /// A heading: the scenario that the following calls belong to.
    fn scenario(&mut self, title: &str) {
        self.lines.push(format!("== {title}"));
    }

    /// Records `call` and its answer (each token in it shown as `<jwt>`); returns the answer.
    fn record(&mut self, call: &str, answer: Answer) -> Answer {
        let body = match &answer.1 {
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(name, value)| match value {
                        Value::String(text) if text.starts_with("eyJ") => {
                            (name.clone(), json!("<jwt>"))
                        }
                        _ => (name.clone(), value.clone()),
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        self.lines.push(format!("{call} -> {} {body}", answer.0));
        answer
    }

    /// Records `call` and its answer, which must be `expected`.
    fn expect(&mut self, call: &str, answer: Answer, expected: Answer) {
        let answer = self.record(call, answer);
        if answer != expected {
            self.fail(&format!("{call}: {answer:?}, expected {expected:?}"));
        }
    }

    /// Records `call` and its answer, whose status must be `status`; returns the answer.
    fn expect_status(&mut self, call: &str, answer: Answer, status: u16) -> Answer {
        let answer = self.record(call, answer);
        if answer.0 != status {
            self.fail(&format!("{call}: {answer:?}, expected status {status}"));
        }
        answer
    }

    /// Panics with `what` and the calls so far.
    fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\n--- the calls so far ---\n{}",
            self.lines.join("\n")
        )
    }
}

impl Drop for Transcript {
    fn drop(&mut self) {
        if std::env::var_os("FLEET_TRANSCRIPT").is_some() && !std::thread::panicking() {
            eprintln!("{}", self.lines.join("\n"));
        }
    }
}

// ----- cookies, in headless Chromium ---------------------------------------------------------------

/// What the page's `fetch` sends besides the browser's cookies.
#[derive(Clone, Copy)]
enum With<'t> {
    /// The cookies alone.
    Cookies,
    /// The cookies, with `X-CSRF-TOKEN` from `csrf_access_token`.
    AccessCsrf,
    /// The cookies, with `X-CSRF-TOKEN` from `csrf_refresh_token`.
    RefreshCsrf,
    /// The login credentials as a JSON body.
    Credentials,
    /// `Authorization: Bearer <token>` (named as given), the cookies too.
    Bearer(&'t str, &'t str),
}

/// The fleet's page in a browser.
struct Page<'d> {
    session: Session<'d>,
}

/// Runs `fleet.call(method, path, options)` in the page and hands its answer to WebDriver.
const CALL: &str = "const [method, path, options, done] = arguments; \
    window.fleet.call(method, path, options).then(done, (error) => done({status: 0, body: String(error)}));";

impl Page<'_> {
    /// One request from the page's JavaScript: its description and answer.
    fn call(&self, method: &str, path: &str, with: With<'_>) -> (String, Answer) {
        let (options, how) = match with {
            With::Cookies => (json!({}), "cookies".to_owned()),
            With::AccessCsrf => (
                json!({"csrf": "access"}),
                "cookies, X-CSRF-TOKEN from csrf_access_token".to_owned(),
            ),
            With::RefreshCsrf => (
                json!({"csrf": "refresh"}),
                "cookies, X-CSRF-TOKEN from csrf_refresh_token".to_owned(),
            ),
            With::Credentials => (
                json!({"json": serde_json::from_str::<Value>(CREDENTIALS).expect("JSON")}),
                "credentials".to_owned(),
            ),
            With::Bearer(name, token) => (json!({"bearer": token}), format!("Bearer {name}")),
        };
        let answer = self.session.command(
            Method::POST,
            "/execute/async",
            Some(json!({"script": CALL, "args": [method, path, options]})),
        );
        let status = answer["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or_else(|| panic!("{method} {path}: the page answered {answer}"));
        (
            format!("browser: {method} {path} ({how})"),
            (status, answer["body"].clone()),
        )
    }

    /// The value of the cookie `name` the browser holds, `HttpOnly` or not.
    fn cookie(&self, name: &str) -> Option<String> {
        self.session
            .all_cookies()
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_str().map(str::to_owned))
    }

    /// Replaces every cookie of the page by `jar` (as [`Session::all_cookies`] gave it).
    fn restore(&self, jar: &[Value]) {
        self.session.command(Method::DELETE, "/cookie", None);
        for cookie in jar {
            let cookie = json!({
                "name": cookie["name"],
                "value": cookie["value"],
                "path": cookie["path"],
                "httpOnly": cookie["httpOnly"],
                "secure": cookie["secure"],
            });
            self.session
                .command(Method::POST, "/cookie", Some(json!({ "cookie": cookie })));
        }
        assert_eq!(self.session.all_cookies().len(), jar.len(), "{jar:?}");
    }
}

/// The names, paths and `HttpOnly` flags of the cookies the browser holds, sorted.
fn cookie_shapes(jar: &[Value]) -> Vec<(String, String, bool)> {
    let mut shapes: Vec<_> = jar
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["path"].as_str().unwrap_or_default().to_owned(),
                c["httpOnly"] == true,
            )
        })
        .collect();
    shapes.sort();
    shapes
}

/// Logs in with cookies on `login`, calls both sides, refreshes on the other side, logs out there,
/// and puts back the cookies held before the logout: every route of both refuses them.
fn cookies_across_the_fleet(login: Side) {
    let refresher = login.other();
    let fleet = fleet();
    let tools = BrowserTools::find();
    let driver = Chromedriver::start(&tools);
    let page = Page {
        session: driver.new_session(&tools.chromium),
    };
    page.session
        .navigate(&format!("http://127.0.0.1:{}/fleet.html", fleet.nginx.port));
    assert_eq!(
        page.session.script_cookies(),
        "",
        "no cookie before logging in"
    );
    let mut t = Transcript::new();
    t.scenario(&format!(
        "cookies: log in on {}, refresh and log out on {}",
        login.name(),
        refresher.name()
    ));
    // nginx serves the page, and nothing outside the two prefixes (its own 404 page).
    for (path, status) in [("/fleet.html", 200), ("/login/cookies", 404)] {
        let response = http_client::request(fleet.nginx.port, "GET", path, &[], b"")
            .unwrap_or_else(|e| panic!("GET {path} through nginx: {e}"));
        let answer = (response.status, json!(response.header("Content-Type")));
        t.expect(
            &format!("http: GET {path}"),
            answer,
            (status, json!("text/html")),
        );
    }

    // Logging in sets the four cookies, on the path / that both prefixes are under; JavaScript
    // sees only the CSRF values.
    let (call, answer) = page.call("POST", &login.path("/login/cookies"), With::Credentials);
    t.expect(&call, answer, (200, json!({"login": true})));
    let shapes = |http_only_tokens: bool| {
        vec![
            (
                "access_token_cookie".to_owned(),
                "/".to_owned(),
                http_only_tokens,
            ),
            ("csrf_access_token".to_owned(), "/".to_owned(), false),
            ("csrf_refresh_token".to_owned(), "/".to_owned(), false),
            (
                "refresh_token_cookie".to_owned(),
                "/".to_owned(),
                http_only_tokens,
            ),
        ]
    };
    assert_eq!(cookie_shapes(&page.session.all_cookies()), shapes(true));
    let script_cookies = page.session.script_cookies();
    assert!(
        !script_cookies.contains("token_cookie") && script_cookies.contains("csrf_access_token"),
        "{script_cookies}"
    );
    let login_access = page
        .cookie("access_token_cookie")
        .expect("an access cookie");

    // Both sides take the access cookie; a POST needs the CSRF header as well.
    for side in SIDES {
        let (call, answer) = page.call("GET", &side.path("/protected"), With::Cookies);
        t.expect(&call, answer, logged_in_as_user1());
        let (call, answer) = page.call("POST", &side.path("/protected"), With::AccessCsrf);
        t.expect(&call, answer, logged_in_as_user1());
        let (call, answer) = page.call("POST", &side.path("/protected"), With::Cookies);
        t.expect(&call, answer, missing_csrf());
    }

    // The other side refreshes through the refresh cookie, with its own CSRF value, and sets the
    // new access token's cookies: the Flask side at `/refresh` (which answers the token too), the
    // Rust side at `/refresh/cookies` (which answers only that it refreshed).
    let refresh_path = refresher.path(match refresher {
        Side::Flask => "/refresh",
        Side::Rust => "/refresh/cookies",
    });
    let (call, answer) = page.call("POST", &refresh_path, With::Cookies);
    t.expect(&call, answer, missing_csrf());
    let (call, answer) = page.call("POST", &refresh_path, With::RefreshCsrf);
    let refreshed = page
        .cookie("access_token_cookie")
        .expect("an access cookie");
    match refresher {
        Side::Flask => {
            let answered = member(&t.expect_status(&call, answer, 200), "access_token");
            assert_eq!(
                refreshed, answered,
                "the refresh sets the new access cookie"
            );
        }
        Side::Rust => t.expect(&call, answer, (200, json!({"refresh": true}))),
    }
    assert_ne!(
        refreshed, login_access,
        "the refresh replaces the access cookie"
    );
    assert_refreshed(&refreshed);
    assert_eq!(
        page.cookie("csrf_access_token").as_deref(),
        claims_of(&refreshed)["csrf"].as_str(),
        "and its CSRF cookie"
    );
    assert_eq!(cookie_shapes(&page.session.all_cookies()), shapes(true));
    // Both sides take the new access cookie.
    for side in SIDES {
        let (call, answer) = page.call("GET", &side.path("/protected"), With::Cookies);
        t.expect(&call, answer, logged_in_as_user1());
        let (call, answer) = page.call("POST", &side.path("/protected"), With::AccessCsrf);
        t.expect(&call, answer, logged_in_as_user1());
    }

    // The same side logs the session out: it revokes the refresh cookie, then the access cookie,
    // each shown with its own CSRF value.
    let before_logout = page.session.all_cookies();
    for (route, with, kind) in [
        ("/logout/refresh", With::RefreshCsrf, "Refresh"),
        ("/logout", With::AccessCsrf, "Access"),
    ] {
        let path = refresher.path(route);
        let (call, answer) = page.call("DELETE", &path, With::Cookies);
        t.expect(&call, answer, missing_csrf());
        let (call, answer) = page.call("DELETE", &path, with);
        t.expect(&call, answer, token_revoked(kind));
    }
    // The Flask side's `/logout` unsets every cookie; the Rust side's `/logout/refresh` unsets
    // the refresh cookies, and its `/logout` no cookie: `/logout/cookies` unsets the rest.
    if refresher == Side::Rust {
        assert_eq!(
            cookie_shapes(&page.session.all_cookies()),
            shapes(true)
                .into_iter()
                .filter(|(name, _, _)| name.contains("access"))
                .collect::<Vec<_>>(),
            "the access cookies are left"
        );
        let (call, answer) = page.call("POST", "/rs/logout/cookies", With::Cookies);
        t.expect(&call, answer, (200, json!({"logout": true})));
    }
    assert_eq!(
        page.session.all_cookies(),
        Vec::<Value>::new(),
        "no cookie left"
    );

    // The cookies held before the logout, put back: every route of both that reads them refuses
    // them.
    page.restore(&before_logout);
    let cookie_access = access_cookie_in(&before_logout);
    assert_eq!(cookie_access, refreshed);
    for side in SIDES {
        for &(method, route, _) in side.access_routes().iter().filter(|r| r.2) {
            let (call, answer) = page.call(method, &side.path(route), With::AccessCsrf);
            t.expect(&call, answer, refusal(route, &cookie_access));
        }
        for &(method, route, _) in side.refresh_routes().iter().filter(|r| r.2) {
            let (call, answer) = page.call(method, &side.path(route), With::RefreshCsrf);
            t.expect(&call, answer, revoked());
        }
    }
    // The login's access token, which the refresh replaced in the cookies, was never shown to the
    // logout: both sides still take it, until it expires.
    for side in SIDES {
        let with = With::Bearer("the login's access token", &login_access);
        let (call, answer) = page.call("GET", &side.path("/protected"), with);
        t.expect(&call, answer, logged_in_as_user1());
    }
}

/// The access cookie's value in `jar`.
fn access_cookie_in(jar: &[Value]) -> String {
    jar.iter()
        .find(|c| c["name"] == "access_token_cookie")
        .and_then(|c| c["value"].as_str())
        .expect("an access cookie")
        .to_owned()
}

fn cookies_log_in_on_flask_refresh_and_log_out_on_rust() {
    cookies_across_the_fleet(Side::Flask);
}

fn cookies_log_in_on_rust_refresh_and_log_out_on_flask() {
    cookies_across_the_fleet(Side::Rust);
}

// ----- tokens in headers ------------------------------------------------------------------------------

/// One request through nginx, with `Authorization: Bearer <token>` when given (named as given).
fn send(
    fleet: &Fleet,
    method: &str,
    path: &str,
    token: Option<(&str, &str)>,
    body: &str,
) -> (String, Answer) {
    let authorization = token.map(|(_, token)| format!("Bearer {token}"));
    let mut headers = Vec::new();
    if let Some(value) = &authorization {
        headers.push(("Authorization", value.as_str()));
    }
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    let response: HttpResponse =
        http_client::request(fleet.nginx.port, method, path, &headers, body.as_bytes())
            .unwrap_or_else(|e| panic!("{method} {path} through nginx: {e}"));
    let answer = (
        response.status,
        serde_json::from_slice(&response.body).unwrap_or(Value::Null),
    );
    let how = token.map_or("credentials".to_owned(), |(name, _)| {
        format!("Bearer {name}")
    });
    (format!("http: {method} {path} ({how})"), answer)
}

/// Logs in on `login`, calls both sides, refreshes on the other side, logs out on `logout`: every
/// route of both then refuses each token of the session.
fn headers_across_the_fleet(fleet: &Fleet, t: &mut Transcript, login: Side, logout: Side) {
    let refresher = login.other();
    t.scenario(&format!(
        "headers: log in on {}, refresh on {}, log out on {}",
        login.name(),
        refresher.name(),
        logout.name()
    ));
    let (call, answer) = send(fleet, "POST", &login.path("/login"), None, CREDENTIALS);
    let answer = t.expect_status(&call, answer, 200);
    let (access, refresh) = (
        member(&answer, "access_token"),
        member(&answer, "refresh_token"),
    );
    let access = ("the login's access token", access.as_str());
    let refresh = ("the refresh token", refresh.as_str());

    // No CSRF value is needed with a header.
    let protected = |t: &mut Transcript, token: (&str, &str)| {
        for side in SIDES {
            for method in ["GET", "POST"] {
                let (call, answer) = send(fleet, method, &side.path("/protected"), Some(token), "");
                t.expect(&call, answer, logged_in_as_user1());
            }
        }
    };
    protected(t, access);
    let (call, answer) = send(
        fleet,
        "POST",
        &refresher.path("/refresh"),
        Some(refresh),
        "",
    );
    let refreshed = member(&t.expect_status(&call, answer, 200), "access_token");
    assert_refreshed(&refreshed);
    let refreshed = ("the refreshed token", refreshed.as_str());
    protected(t, refreshed);

    // The logout revokes what it is shown: the tokens the client holds now. The login's access
    // token, which the client replaced, stays valid until it is shown too.
    let logout_path = logout.path("/logout");
    let (call, answer) = send(fleet, "DELETE", &logout_path, Some(refreshed), "");
    t.expect(&call, answer, token_revoked("Access"));
    let (call, answer) = send(fleet, "DELETE", &logout_path, Some(refresh), "");
    t.expect(&call, answer, token_revoked("Refresh"));
    for side in SIDES {
        let (call, answer) = send(fleet, "GET", &side.path("/protected"), Some(access), "");
        t.expect(&call, answer, logged_in_as_user1());
    }
    let (call, answer) = send(fleet, "DELETE", &logout_path, Some(access), "");
    t.expect(&call, answer, token_revoked("Access"));

    for side in SIDES {
        for token in [access, refreshed] {
            for &(method, route, _) in side.access_routes() {
                let (call, answer) = send(fleet, method, &side.path(route), Some(token), "");
                t.expect(&call, answer, refusal(route, token.1));
            }
        }
        for &(method, route, _) in side.refresh_routes() {
            let (call, answer) = send(fleet, method, &side.path(route), Some(refresh), "");
            t.expect(&call, answer, revoked());
        }
    }
}

fn tokens_in_headers_log_in_refresh_and_log_out_on_either_side() {
    let fleet = fleet();
    let mut t = Transcript::new();
    for login in SIDES {
        for logout in SIDES {
            headers_across_the_fleet(&fleet, &mut t, login, logout);
        }
    }
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            cookies_log_in_on_flask_refresh_and_log_out_on_rust,
            needs [
                Program::RedisServer,
                Program::Python(&FLEET_APP.env),
                Program::Nginx,
                Program::Chromium
            ]
        ),
        test!(
            cookies_log_in_on_rust_refresh_and_log_out_on_flask,
            needs [
                Program::RedisServer,
                Program::Python(&FLEET_APP.env),
                Program::Nginx,
                Program::Chromium
            ]
        ),
        test!(
            tokens_in_headers_log_in_refresh_and_log_out_on_either_side,
            needs [Program::RedisServer, Program::Python(&FLEET_APP.env), Program::Nginx]
        ),
    ]
}
