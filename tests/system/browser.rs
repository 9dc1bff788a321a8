//! The one-page demo of `examples/extended` (`examples/extended/index.html`, served at `GET /`)
//! in a real browser: headless Chromium, driven by `chromedriver` over the W3C WebDriver HTTP
//! protocol, logs in with cookies, calls the protected route with and without the CSRF header,
//! refreshes through the refresh cookie and logs out; every answer the page shows is checked, and
//! so is what the page's JavaScript can see of the cookies.
//!
//! The test needs `chromium` and `chromedriver` (Debian packages `chromium` and
//! `chromium-driver`): where one is not installed, the harness reports it as ignored, saying
//! why, or as failed when `CI` is set.

use std::collections::BTreeSet;
use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

use crate::programs::{on_path, Program};

/// How long chromedriver may take to be ready, and a session to start.
const STARTUP: Duration = Duration::from_secs(60);

/// How long the page may take to show the answer of one request.
const ANSWER: Duration = Duration::from_secs(15);

/// Timeout of one WebDriver command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Chromium's flags: headless, and quiet (no network use of its own, no first-run pages).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The key of a web element reference in WebDriver's JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The answer of `GET /protected` without any token (Flask-JWT-Extended's, with the example's
/// token locations).
const NO_TOKEN: &str = "Missing JWT in headers, cookies, query_string or json (Missing \
    Authorization Header; Missing cookie \"access_token_cookie\"; Missing 'jwt' query paramater; \
    Invalid content-type. Must be application/json.)";

fn the_demo_page_in_headless_chromium() {
    let tools = BrowserTools::find();
    let (base_url, _app) = start_app();
    let driver = Chromedriver::start(&tools);
    let browser = driver.new_session(&tools.chromium);
    browser.navigate(&format!("{base_url}/"));
    assert_eq!(browser.script_cookies(), "", "no cookie before logging in");

    // Logging in sets the four cookies; JavaScript sees only the two CSRF values.
    assert_eq!(browser.click("login"), (200, json!({"login": true})));
    assert_eq!(
        cookie_names(&browser.script_cookies()),
        BTreeSet::from(["csrf_access_token", "csrf_refresh_token"]),
        "document.cookie must show the CSRF cookies and not the HttpOnly token cookies"
    );
    assert_eq!(
        browser.text("cookies"),
        browser.script_cookies(),
        "the page shows document.cookie"
    );
    let jar = browser.all_cookies();
    for (name, http_only) in [
        ("access_token_cookie", true),
        ("refresh_token_cookie", true),
        ("csrf_access_token", false),
        ("csrf_refresh_token", false),
    ] {
        let cookie = jar
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("the browser holds no {name}: {jar:?}"));
        assert_eq!(cookie["httpOnly"], http_only, "{name}: {cookie}");
    }

    // The access cookie authenticates; a POST needs the CSRF header as well.
    let user1 = json!({"logged_in_as": "user1"});
    assert_eq!(browser.click("get-protected"), (200, user1.clone()));
    assert_eq!(browser.click("post-protected"), (200, user1.clone()));
    assert_eq!(
        browser.click("post-protected-no-csrf"),
        (401, json!({"msg": "Missing CSRF token"}))
    );

    // The refresh cookie (with its own CSRF value) gets a new, non-fresh access token for the same
    // identity, in the body: the cookies stay as they were.
    let cookies_before = browser.script_cookies();
    let (status, refreshed) = browser.click("refresh");
    assert_eq!(status, 200, "refresh: {refreshed}");
    assert_eq!(
        refreshed.as_object().map(|o| o.len()),
        Some(1),
        "{refreshed}"
    );
    let token = refreshed["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("refresh answers an access token: {refreshed}"));
    let claims = token_claims(token);
    assert_eq!(
        (&claims["sub"], &claims["type"], &claims["fresh"]),
        (&json!("user1"), &json!("access"), &json!(false)),
        "{claims}"
    );
    assert_eq!(browser.script_cookies(), cookies_before);

    // Logging out removes every cookie; the protected route then refuses the page.
    assert_eq!(browser.click("logout"), (200, json!({"logout": true})));
    assert_eq!(
        browser.script_cookies(),
        "",
        "no cookie left for JavaScript"
    );
    assert_eq!(browser.all_cookies(), Vec::<Value>::new(), "no cookie left");
    assert_eq!(
        browser.click("get-protected"),
        (401, json!({"msg": NO_TOKEN}))
    );
}

/// The claims of a JWS compact token, read without verifying it.
fn token_claims(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact token: {token}");
    let payload = URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap_or_else(|e| panic!("the payload is not base64url ({e}): {token}"));
    serde_json::from_slice(&payload)
        .unwrap_or_else(|e| panic!("the payload is not JSON ({e}): {token}"))
}

/// The names in a `document.cookie` string.
fn cookie_names(cookies: &str) -> BTreeSet<&str> {
    cookies
        .split("; ")
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name))
        .collect()
}

// ----- the application under test ---------------------------------------------------------------

#[allow(dead_code)] // the example's `main`
use crate::extended_example;

/// The application serving the demo, `examples/extended.rs`, started on a free port of 127.0.0.1
/// (port 0: the port it took is read back, so no other test can take it first): its base URL,
/// and a guard that shuts it down when dropped.
fn start_app() -> (String, impl Drop) {
    let app = crate::common::with_test_secret(extended_example::rocket());
    let figment = app.figment().clone().merge(("log_level", "off"));
    let running = crate::live_rocket::LiveRocket::launch(app.configure(figment));
    (format!("http://127.0.0.1:{}", running.port()), running)
}

// ----- chromium and chromedriver ----------------------------------------------------------------

/// The programs the test runs.
pub(crate) struct BrowserTools {
    pub(crate) chromium: PathBuf,
    chromedriver: PathBuf,
}

impl BrowserTools {
    /// `chromium` and `chromedriver` from `PATH`. Panics when one is missing (the harness runs
    /// this test only where both are found).
    pub(crate) fn find() -> BrowserTools {
        let find = |name| on_path(name).unwrap_or_else(|| panic!("{name} not found on PATH"));
        BrowserTools {
            chromium: find("chromium"),
            chromedriver: find("chromedriver"),
        }
    }
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("an ephemeral port on 127.0.0.1")
}

/// A running chromedriver and its WebDriver HTTP client. It runs in a process group of its own,
/// which the browsers it starts join; dropping it kills the group, also when the test panics.
pub(crate) struct Chromedriver {
    child: Child,
    url: String,
    profile: PathBuf,
    log: PathBuf,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Chromedriver {
    /// Starts chromedriver on a free port and waits until it is ready. Each has a Chromium
    /// profile and a log of its own, also beside others of the same process.
    pub(crate) fn start(tools: &BrowserTools) -> Chromedriver {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
        let instance = format!(
            "{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let profile = dir.join(format!("chromium-profile-{instance}"));
        let log = dir.join(format!("chromedriver-{instance}.log"));
        if profile.exists() {
            fs::remove_dir_all(&profile).expect("remove the previous Chromium profile");
        }
        fs::create_dir_all(&profile).expect("create the Chromium profile directory");

        let port = free_port();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", tools.chromedriver.display()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime for the WebDriver client");
        let http = reqwest::Client::builder()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .expect("an HTTP client");
        let mut driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile,
            log,
            http,
            runtime,
        };

        let deadline = Instant::now() + STARTUP;
        loop {
            match driver.send(Method::GET, "/status", None) {
                Ok(status) if status["ready"] == true => return driver,
                Ok(_) | Err(_) if Instant::now() > deadline => {
                    driver.fail("chromedriver was not ready in time")
                }
                _ => {}
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                driver.fail(&format!("chromedriver exited ({status})"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts headless Chromium with a fresh profile.
    pub(crate) fn new_session(&self, chromium: &Path) -> Session<'_> {
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", self.profile.display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let answer = self
            .send(Method::POST, "/session", Some(&capabilities))
            .unwrap_or_else(|e| self.fail(&format!("cannot start Chromium: {e}")));
        let id = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| self.fail(&format!("no session id in {answer}")))
            .to_owned();
        Session { driver: self, id }
    }

    /// One WebDriver command: the `value` of its answer, or the error it reports.
    fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.url);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        self.runtime.block_on(async {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            let mut answer: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{method} {path}: {status}, not JSON ({e}): {text}"))?;
            let value = answer["value"].take();
            if status.is_success() {
                Ok(value)
            } else {
                // The error's stack trace, also in the answer, says nothing useful here.
                Err(format!(
                    "{method} {path}: {status} {}: {}",
                    value["error"], value["message"]
                ))
            }
        })
    }

    /// Panics with `what` and where chromedriver's log is.
    fn fail(&self, what: &str) -> ! {
        panic!("{what} (chromedriver's log: {})", self.log.display())
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // chromedriver, and any browser of its group that outlived its session.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.profile);
        if !std::thread::panicking() {
            // Kept when the test fails: the failure message names it.
            let _ = fs::remove_file(&self.log);
        }
    }
}

/// A browser session; dropping it closes the browser.
pub(crate) struct Session<'d> {
    driver: &'d Chromedriver,
    id: String,
}

impl Session<'_> {
    /// A command of this session; panics on an error.
    pub(crate) fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.id);
        self.driver
            .send(method, &path, body.as_ref())
            .unwrap_or_else(|e| self.driver.fail(&e))
    }

    pub(crate) fn navigate(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({"url": url})));
    }

    /// The reference of the element with this `id` attribute.
    fn element(&self, id: &str) -> String {
        let found = self.command(
            Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": format!("#{id}")})),
        );
        found[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element #{id}: {found}"))
            .to_owned()
    }

    /// The rendered text of the element with this `id` attribute.
    fn text(&self, id: &str) -> String {
        let element = self.element(id);
        let text = self.command(Method::GET, &format!("/element/{element}/text"), None);
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Clicks the button `action` and waits for the page to show the answer in
    /// `#result-<action>` (the element's `data-calls` counts the answers shown): its status
    /// and JSON body.
    fn click(&self, action: &str) -> (u16, Value) {
        let result = format!("result-{action}");
        let calls_before = self.answers_shown(&result);
        let button = self.element(action);
        self.command(
            Method::POST,
            &format!("/element/{button}/click"),
            Some(json!({})),
        );
        let deadline = Instant::now() + ANSWER;
        while self.answers_shown(&result) == calls_before {
            assert!(
                Instant::now() < deadline,
                "#{result} showed no answer within {ANSWER:?} of clicking #{action}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let shown = self.text(&result);
        let (status, body) = shown
            .split_once(' ')
            .unwrap_or_else(|| panic!("#{result} shows no \"<status> <body>\": {shown:?}"));
        let status = status
            .parse()
            .unwrap_or_else(|_| panic!("#{result} shows no status: {shown:?}"));
        let body = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("#{result} shows no JSON body ({e}): {shown:?}"));
        (status, body)
    }

    /// How many answers the element `id` has shown (its `data-calls` attribute).
    fn answers_shown(&self, id: &str) -> u64 {
        let element = self.element(id);
        let calls = self.command(
            Method::GET,
            &format!("/element/{element}/attribute/data-calls"),
            None,
        );
        calls.as_str().and_then(|c| c.parse().ok()).unwrap_or(0)
    }

    /// `document.cookie`, as the page's JavaScript sees it.
    pub(crate) fn script_cookies(&self) -> String {
        let cookies = self.command(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": "return document.cookie;", "args": []})),
        );
        cookies
            .as_str()
            .unwrap_or_else(|| panic!("document.cookie is not a string: {cookies}"))
            .to_owned()
    }

    /// Every cookie the browser holds for the page, `HttpOnly` ones included.
    pub(crate) fn all_cookies(&self) -> Vec<Value> {
        match self.command(Method::GET, "/cookie", None) {
            Value::Array(cookies) => cookies,
            other => panic!("the cookies are not a list: {other}"),
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.id);
        let _ = self.driver.send(Method::DELETE, &path, None);
    }
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![test!(
        the_demo_page_in_headless_chromium,
        needs[Program::Chromium]
    )]
}
