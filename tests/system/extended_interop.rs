//! Side by side with the real Flask-JWT-Extended 4.7.1: `examples/extended.rs` and the same
//! application written with Flask-JWT-Extended (`tests/interop/extended_app.py`) get the same
//! requests over HTTP on 127.0.0.1, and must give the same answers: status, media type,
//! `WWW-Authenticate`, JSON body, and the names, values' kinds and attributes of the cookies they
//! set — apart from the token and CSRF values themselves.
//!
//! The Python interpreter is `$FLASK_JWT_EXTENDED_PYTHON`, or a virtual environment with
//! `tests/interop/extended-requirements.txt` that these tests make under the target directory on
//! first use (see [`crate::python_env`]). Where `python3` is not installed the harness reports the
//! tests as ignored, saying why, or as failed when `CI` is set.
//!
//! Each case is a request template: `{A}` (a fresh access token), `{R}` (a refresh token), `{NF}`
//! (a non-fresh access token from `/refresh`), `{CA}`/`{CR}` (the access and refresh tokens of
//! the login cookies) and `{XA}`/`{XR}` (their CSRF cookies) are replaced, for each side, by what
//! that side issued when the test logged in on it. Tokens made by hand (expired, wrong secret,
//! unknown user...) are the same bytes for both sides.
//!
//! A few cases answer differently on purpose, each with the reason: where Flask-JWT-Extended fails
//! with a 500 (an exception in the library), and where Flask and Rocket differ as frameworks
//! (automatic `OPTIONS` answers, 405 for a known path with another method).

use crate::common::{now, sign_hs256, sign_hs256_raw, SECRET};
use crate::extended_example;
use crate::http_client::{self, HttpResponse};
use crate::live_rocket::LiveRocket;
use crate::programs::Program;
use crate::python_env::{workspace_root, PythonEnv};
use crate::reference_app::{AppSpec, ReferenceApp};

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha512;

/// The Python side: Flask-JWT-Extended 4.7.1 and the versions pip resolves for it.
pub(crate) const EXTENDED_ENV: PythonEnv = PythonEnv {
    name: "flask-jwt-extended",
    requirements: "tests/interop/extended-requirements.txt",
    override_var: "FLASK_JWT_EXTENDED_PYTHON",
};

pub(crate) static EXTENDED_APP: AppSpec = AppSpec {
    env: EXTENDED_ENV,
    script: "tests/interop/extended_app.py",
    name: "the Flask-JWT-Extended application",
    ready_path: "/optional",
};

// ----- the two sides ------------------------------------------------------------------------------

/// A server answering over HTTP: the Python reference, or a Rocket.
enum Server {
    Python(ReferenceApp),
    Rust(LiveRocket),
}

impl Server {
    fn port(&self) -> u16 {
        match self {
            Server::Python(app) => app.port(),
            Server::Rust(rocket) => rocket.port(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Server::Python(_) => "Flask-JWT-Extended",
            Server::Rust(_) => "Rust",
        }
    }

    fn is_rust(&self) -> bool {
        matches!(self, Server::Rust(_))
    }

    fn send(&self, request: &Request) -> HttpResponse {
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        http_client::request(
            self.port(),
            &request.method,
            &request.path,
            &headers,
            request.body.as_bytes(),
        )
        .unwrap_or_else(|e| {
            panic!(
                "{} {} to {}: {e}",
                request.method,
                request.path,
                self.name()
            )
        })
    }
}

/// The Flask-JWT-Extended 4.7.1 application.
fn python_app() -> Server {
    Server::Python(ReferenceApp::start(&EXTENDED_APP))
}

/// The side compared with Flask-JWT-Extended: the example's Rocket, served on a free port.
fn rust_app() -> Server {
    Server::Rust(LiveRocket::launch(crate::common::with_test_secret(
        extended_example::rocket(),
    )))
}

/// Both sides, Python first.
fn both_sides() -> (Server, Server) {
    (python_app(), rust_app())
}

// ----- requests -----------------------------------------------------------------------------------

/// One request, possibly with placeholders (see the module's documentation).
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn request(method: &str, path: &str) -> Request {
    Request {
        method: method.to_owned(),
        path: path.to_owned(),
        headers: Vec::new(),
        body: String::new(),
    }
}

impl Request {
    fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn bearer(self, token: &str) -> Request {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    fn cookie(self, cookies: &str) -> Request {
        self.header("Cookie", cookies)
    }

    fn json(self, body: &str) -> Request {
        self.header("Content-Type", "application/json").body(body)
    }

    fn body(mut self, body: &str) -> Request {
        self.body = body.to_owned();
        self
    }

    /// The request with the placeholders replaced by `tokens`.
    fn render(&self, tokens: &Tokens) -> Request {
        let fill = |text: &str| {
            text.replace("{A}", &tokens.access)
                .replace("{R}", &tokens.refresh)
                .replace("{NF}", &tokens.non_fresh)
                .replace("{CA}", &tokens.cookie_access)
                .replace("{CR}", &tokens.cookie_refresh)
                .replace("{XA}", &tokens.csrf_access)
                .replace("{XR}", &tokens.csrf_refresh)
        };
        Request {
            method: self.method.clone(),
            path: fill(&self.path),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), fill(v)))
                .collect(),
            body: fill(&self.body),
        }
    }
}

/// What one side issued when the test logged in on it.
struct Tokens {
    access: String,
    refresh: String,
    non_fresh: String,
    cookie_access: String,
    cookie_refresh: String,
    csrf_access: String,
    csrf_refresh: String,
}

const CREDENTIALS: &str = r#"{"username":"user1","password":"abcxyz"}"#;

/// Logs in on `server` (`/login`, `/login/cookies`) and refreshes once (`/refresh`).
fn tokens_of(server: &Server) -> Tokens {
    let login = server.send(&request("POST", "/login").json(CREDENTIALS));
    assert_eq!(login.status, 200, "{} /login: {login:?}", server.name());
    let login = login.json();
    let string = |value: &Value, key: &str| -> String {
        value[key]
            .as_str()
            .unwrap_or_else(|| panic!("{} answered no {key}: {value}", server.name()))
            .to_owned()
    };
    let access = string(&login, "access_token");
    let refresh = string(&login, "refresh_token");

    let refreshed = server.send(&request("POST", "/refresh").bearer(&refresh));
    assert_eq!(
        refreshed.status,
        200,
        "{} /refresh: {refreshed:?}",
        server.name()
    );
    let non_fresh = string(&refreshed.json(), "access_token");

    let cookies = server.send(&request("POST", "/login/cookies").json(CREDENTIALS));
    assert_eq!(
        cookies.status,
        200,
        "{} /login/cookies: {cookies:?}",
        server.name()
    );
    let value = |name: &str| -> String {
        cookies
            .header_all("Set-Cookie")
            .filter_map(|line| line.split(';').next()?.split_once('='))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| panic!("{} set no {name} cookie: {cookies:?}", server.name()))
    };
    Tokens {
        access,
        refresh,
        non_fresh,
        cookie_access: value("access_token_cookie"),
        cookie_refresh: value("refresh_token_cookie"),
        csrf_access: value("csrf_access_token"),
        csrf_refresh: value("csrf_refresh_token"),
    }
}

// ----- answers ------------------------------------------------------------------------------------

/// What a value looks like, for the token and CSRF values that differ between the sides.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Empty,
    Jwt,
    Uuid,
    Other(String),
}

fn kind(value: &str) -> Kind {
    if value.is_empty() {
        Kind::Empty
    } else if looks_like_jwt(value) {
        Kind::Jwt
    } else if looks_like_uuid(value) {
        Kind::Uuid
    } else {
        Kind::Other(value.to_owned())
    }
}

fn looks_like_jwt(value: &str) -> bool {
    let segments: Vec<&str> = value.split('.').collect();
    segments.len() == 3
        && value.starts_with("eyJ")
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn looks_like_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| {
            g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// A cookie set by an answer: its value's kind and its attributes (names lower-cased, values as
/// sent), sorted.
#[derive(Debug, PartialEq)]
struct CookieSeen {
    value: Kind,
    attributes: BTreeSet<String>,
}

/// What a client sees of an answer, token values aside.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    media_type: Option<String>,
    www_authenticate: Option<String>,
    /// JSON when the media type says so (with every token replaced by `"<jwt>"`), else the text.
    body: Value,
    cookies: BTreeMap<String, CookieSeen>,
}

impl From<HttpResponse> for Answer {
    fn from(response: HttpResponse) -> Answer {
        let media_type = response.header("Content-Type").map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
        let body = if media_type.as_deref() == Some("application/json") && !response.body.is_empty()
        {
            without_tokens(response.json())
        } else {
            Value::String(String::from_utf8_lossy(&response.body).into_owned())
        };
        let cookies = response
            .header_all("Set-Cookie")
            .map(|line| {
                let mut parts = line.split(';').map(str::trim);
                let (name, value) = parts
                    .next()
                    .and_then(|pair| pair.split_once('='))
                    .unwrap_or((line, ""));
                let attributes = parts
                    .map(|attribute| match attribute.split_once('=') {
                        Some((n, v)) => format!("{}={}", n.trim().to_ascii_lowercase(), v.trim()),
                        None => attribute.to_ascii_lowercase(),
                    })
                    .collect();
                (
                    name.trim().to_owned(),
                    CookieSeen {
                        value: kind(value.trim()),
                        attributes,
                    },
                )
            })
            .collect();
        Answer {
            status: response.status,
            www_authenticate: response.header("WWW-Authenticate").map(str::to_owned),
            media_type,
            body,
            cookies,
        }
    }
}

/// `value` with every string that is a JWT replaced by `"<jwt>"`.
fn without_tokens(value: Value) -> Value {
    match value {
        Value::String(s) if looks_like_jwt(&s) => Value::String("<jwt>".to_owned()),
        Value::Array(items) => Value::Array(items.into_iter().map(without_tokens).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, without_tokens(v)))
                .collect(),
        ),
        other => other,
    }
}

// ----- hand-made tokens ---------------------------------------------------------------------------

/// Flask-JWT-Extended's claims of a non-fresh access token for user1, issued now, with
/// `overrides` set (a `null` override removes the claim).
fn ext_claims(overrides: Value) -> Value {
    let now = now();
    let mut claims = json!({
        "fresh": false, "iat": now, "jti": "8a2e8a8e-4c2b-4f0e-9d57-2e1b6f1c0a11",
        "type": "access", "sub": "user1", "nbf": now,
        "csrf": "5b0f4f43-6a1d-4d1e-9c11-0b1a2c3d4e5f", "exp": now + 900
    });
    let (Some(map), Some(overrides)) = (claims.as_object_mut(), overrides.as_object()) else {
        panic!("claims and overrides are JSON objects: {overrides}")
    };
    for (name, value) in overrides {
        if value.is_null() {
            map.remove(name);
        } else {
            map.insert(name.clone(), value.clone());
        }
    }
    claims
}

/// `claims` signed HS256 with the example's secret, under PyJWT's header.
fn signed(claims: &Value) -> String {
    sign_hs256(&json!({"alg": "HS256", "typ": "JWT"}), claims, SECRET)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token whose header is `{"alg":"HS512","typ":"JWT"}`, signed HMAC-SHA512 with the secret.
fn signed_hs512(claims: &Value) -> String {
    let message = format!(
        "{}.{}",
        b64(br#"{"alg":"HS512","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let mut mac = Hmac::<Sha512>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    format!("{message}.{}", b64(&mac.finalize().into_bytes()))
}

// ----- the cases ----------------------------------------------------------------------------------

/// How the two sides' answers to a case relate.
enum Expect {
    /// The same answer.
    Same,
    /// The same status and media type; the texts are each framework's own page.
    SameStatus,
    /// A deliberate difference: Python answers `python`, the Rust side answers what `rust`
    /// accepts (described by `wanted`), because of `why`.
    Differs {
        python: u16,
        rust: fn(&Answer) -> bool,
        wanted: &'static str,
        why: &'static str,
    },
}

struct Case {
    name: String,
    request: Request,
    expect: Expect,
}

fn same(name: &str, request: Request) -> Case {
    Case {
        name: name.to_owned(),
        request,
        expect: Expect::Same,
    }
}

/// A refusal with a `{"msg"}` body and a 4xx status.
fn refused(answer: &Answer) -> bool {
    (400..500).contains(&answer.status) && answer.body["msg"].is_string()
}

fn is_404(answer: &Answer) -> bool {
    answer.status == 404
}

/// Malformed tokens: the Rust side refuses them as Flask-JWT-Extended does (422), in its own
/// words, where the wording comes from the JSON parser or names the check more precisely.
const OWN_WORDS: &str = "the same refusal (422) in this crate's words: JSON parser messages and \
                         header checks are worded by the validation pipeline";

/// Cases answered differently on purpose: name, Python's status, what the Rust side must answer,
/// that answer described, and why.
#[allow(clippy::type_complexity)]
const DELIBERATE: &[(&str, u16, fn(&Answer) -> bool, &str, &str)] = &[
    (
        "four segments",
        422,
        unprocessable,
        "422 Too many segments",
        OWN_WORDS,
    ),
    (
        "header not JSON",
        422,
        unprocessable,
        "422 with serde's message",
        OWN_WORDS,
    ),
    (
        "claims not JSON",
        422,
        unprocessable,
        "422 with serde's message",
        OWN_WORDS,
    ),
    (
        "no alg",
        422,
        unprocessable,
        "422 The specified alg value is not allowed",
        OWN_WORDS,
    ),
    (
        "kid not a string",
        422,
        unprocessable,
        "422, a registered header parameter of the wrong type",
        OWN_WORDS,
    ),
    (
        "unknown crit",
        422,
        unprocessable,
        "422, crit is refused",
        OWN_WORDS,
    ),
    (
        "aud and iss present",
        200,
        unprocessable,
        "422 Invalid audience",
        "RFC 7519 4.1.3: a token with an `aud` must be refused by an application that does not \
         identify itself with one of its values; PyJWT 2 skips the check when no audience is set",
    ),
    (
        "POST, CSRF header with spaces around",
        401,
        ok,
        "200: the header value without its surrounding whitespace matches",
        "HTTP (RFC 9110 5.5): whitespace around a field value is not part of it; Rocket trims it",
    ),
    (
        "POST, two CSRF header lines",
        401,
        refused,
        "a 401 refusal",
        "two CSRF values are refused (Werkzeug joins them into one that matches nothing)",
    ),
    (
        "two access cookies, the first garbage",
        422,
        ok,
        "200 with the last cookie",
        "Rocket's cookie jar keeps the last of two cookies of the same name, Werkzeug the first",
    ),
    (
        "two access cookies, the first good",
        200,
        unprocessable,
        "422 with the last cookie",
        "Rocket's cookie jar keeps the last of two cookies of the same name, Werkzeug the first",
    ),
    (
        "Post in mixed case, right CSRF",
        200,
        |answer| answer.status == 400,
        "Rocket's 400: `Post` is not a method",
        "methods are case-sensitive (RFC 9110 9.1); Werkzeug upper-cases them",
    ),
];

fn unprocessable(answer: &Answer) -> bool {
    answer.status == 422 && answer.body["msg"].is_string()
}

fn ok(answer: &Answer) -> bool {
    answer.status == 200
}

/// Every case compared, grouped as in the catalogue of answers.
fn cases() -> Vec<Case> {
    let now = now();
    let bad_json = |name: &str, body: &str| same(name, request("POST", "/login").json(body));
    let get = |path: &str| request("GET", path);
    let post = |path: &str| request("POST", path);
    let mut cases = vec![
        // Login and logout.
        same("login", post("/login").json(CREDENTIALS)),
        same(
            "login without Content-Type",
            post("/login").body(CREDENTIALS),
        ),
        same(
            "login as text/plain",
            post("/login")
                .header("Content-Type", "text/plain")
                .body(CREDENTIALS),
        ),
        same(
            "login as user2",
            post("/login").json(r#"{"username":"user2","password":"abcxyz"}"#),
        ),
        bad_json(
            "login, wrong password",
            r#"{"username":"user1","password":"x"}"#,
        ),
        bad_json(
            "login, unknown user",
            r#"{"username":"user3","password":"abcxyz"}"#,
        ),
        bad_json("login, no password", r#"{"username":"user1"}"#),
        bad_json("login, empty body", ""),
        bad_json("login, not JSON", "nope"),
        bad_json("login, JSON array", "[1,2]"),
        bad_json("login, JSON null", "null"),
        bad_json("login, JSON string", r#""x""#),
        bad_json(
            "login, numbers as credentials",
            r#"{"username":1,"password":2}"#,
        ),
        same(
            "login with cookies",
            post("/login/cookies").json(CREDENTIALS),
        ),
        same(
            "login with cookies, wrong password",
            post("/login/cookies").json(r#"{"username":"user1","password":"x"}"#),
        ),
        same("logout with cookies, none sent", post("/logout/cookies")),
        same(
            "logout with cookies, no CSRF header",
            post("/logout/cookies").cookie("access_token_cookie={CA}; csrf_access_token={XA}"),
        ),
        // Every route, with a good token.
        same("GET /protected", get("/protected").bearer("{A}")),
        same("POST /protected", post("/protected").bearer("{A}")),
        same("GET /fresh", get("/fresh").bearer("{A}")),
        same("GET /optional with a token", get("/optional").bearer("{A}")),
        same("GET /optional without a token", get("/optional")),
        same("GET /claims, fresh", get("/claims").bearer("{A}")),
        same("GET /claims, not fresh", get("/claims").bearer("{NF}")),
        same("GET /user", get("/user").bearer("{A}")),
        same("GET /headers-only", get("/headers-only").bearer("{A}")),
        same("POST /refresh", post("/refresh").bearer("{R}")),
        // No token.
        same("GET /protected, no token", get("/protected")),
        same("POST /protected, no token", post("/protected")),
        same("POST /refresh, no token", post("/refresh")),
        same("GET /fresh, no token", get("/fresh")),
        same("GET /claims, no token", get("/claims")),
        same("GET /user, no token", get("/user")),
        same("GET /headers-only, no token", get("/headers-only")),
        same(
            "GET /headers-only, cookie only",
            get("/headers-only").cookie("access_token_cookie={CA}"),
        ),
        same(
            "GET /headers-only, query string only",
            get("/headers-only?jwt={A}"),
        ),
        same(
            "GET /headers-only, JSON only",
            get("/headers-only").json(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "GET /protected, empty JSON object",
            get("/protected").json("{}"),
        ),
        same(
            "GET /protected, invalid JSON",
            get("/protected").json("{nope"),
        ),
        same(
            "GET /protected, empty access_token",
            get("/protected").json(r#"{"access_token":""}"#),
        ),
        same(
            "GET /protected, empty jwt parameter",
            get("/protected?jwt="),
        ),
        same(
            "GET /protected, empty cookie",
            get("/protected").cookie("access_token_cookie="),
        ),
        same(
            "GET /protected, empty Authorization",
            get("/protected").header("Authorization", ""),
        ),
        // The Authorization header.
        same(
            "Basic scheme",
            get("/protected").header("Authorization", "Basic dXNlcjE6YWJjeHl6"),
        ),
        same(
            "JWT scheme",
            get("/protected").header("Authorization", "JWT {A}"),
        ),
        same(
            "Bearer alone",
            get("/protected").header("Authorization", "Bearer"),
        ),
        same(
            "Bearer and a space",
            get("/protected").header("Authorization", "Bearer "),
        ),
        same(
            "lowercase bearer",
            get("/protected").header("Authorization", "bearer {A}"),
        ),
        same(
            "uppercase BEARER",
            get("/protected").header("Authorization", "BEARER {A}"),
        ),
        same(
            "Bearer, token and more",
            get("/protected").header("Authorization", "Bearer {A} extra"),
        ),
        same(
            "token without scheme",
            get("/protected").header("Authorization", "{A}"),
        ),
        same(
            "two Bearer entries",
            get("/protected").header("Authorization", "Bearer {A}, Bearer {A}"),
        ),
        same(
            "two Authorization lines",
            get("/protected").bearer("{A}").bearer("{A}"),
        ),
        same(
            "Basic line, then Bearer line",
            get("/protected")
                .header("Authorization", "Basic abc")
                .bearer("{A}"),
        ),
        same(
            "Basic, then Bearer",
            get("/protected").header("Authorization", "Basic abc, Bearer {A}"),
        ),
        same(
            "Bearer, then Basic",
            get("/protected").header("Authorization", "Bearer {A}, Basic abc"),
        ),
        same(
            "Basic,Bearer without a space",
            get("/protected").header("Authorization", "Basic abc,Bearer {A}"),
        ),
        same(
            "trailing comma",
            get("/protected").header("Authorization", "Bearer {A},"),
        ),
        same(
            "leading comma",
            get("/protected").header("Authorization", ",Bearer {A}"),
        ),
        same(
            "two spaces after Bearer",
            get("/protected").header("Authorization", "Bearer  {A}"),
        ),
        same(
            "tab after Bearer",
            get("/protected").header("Authorization", "Bearer\t{A}"),
        ),
        same("Bearer garbage", get("/protected").bearer("abc")),
        same(
            "Basic header, good cookie",
            get("/protected")
                .header("Authorization", "Basic abc")
                .cookie("access_token_cookie={CA}"),
        ),
        same(
            "Bearer alone, good cookie",
            get("/protected")
                .header("Authorization", "Bearer")
                .cookie("access_token_cookie={CA}"),
        ),
    ];

    // Token contents, all in the Authorization header.
    let token_cases: Vec<(&str, &str, &str, String)> = vec![
        (
            "expired",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"exp": now - 10}))),
        ),
        (
            "expired, wrong secret",
            "GET",
            "/protected",
            sign_hs256(
                &json!({"alg": "HS256", "typ": "JWT"}),
                &ext_claims(json!({"exp": now - 10})),
                "other",
            ),
        ),
        (
            "expired refresh token",
            "POST",
            "/refresh",
            signed(&ext_claims(json!({"exp": now - 10, "type": "refresh"}))),
        ),
        (
            "not yet valid (nbf)",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"nbf": now + 100}))),
        ),
        (
            "issued in the future (iat)",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"iat": now + 100}))),
        ),
        (
            "iat not a number",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"iat": "x"}))),
        ),
        (
            "nbf not a number",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"nbf": "x"}))),
        ),
        (
            "exp not a number",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"exp": "x"}))),
        ),
        (
            "exp a float",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"exp": now as f64 + 100.5}))),
        ),
        (
            "no exp",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"exp": null}))),
        ),
        (
            "no iat, nbf, exp",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"exp": null, "iat": null, "nbf": null}))),
        ),
        (
            "wrong secret",
            "GET",
            "/protected",
            sign_hs256(
                &json!({"alg": "HS256", "typ": "JWT"}),
                &ext_claims(json!({})),
                "other",
            ),
        ),
        (
            "empty signature",
            "GET",
            "/protected",
            without_signature(&signed(&ext_claims(json!({})))) + ".",
        ),
        (
            "signature not base64url",
            "GET",
            "/protected",
            without_signature(&signed(&ext_claims(json!({})))) + ".!!!",
        ),
        (
            "two segments",
            "GET",
            "/protected",
            without_signature(&signed(&ext_claims(json!({})))),
        ),
        (
            "four segments",
            "GET",
            "/protected",
            signed(&ext_claims(json!({}))) + ".abc",
        ),
        (
            "header not base64url",
            "GET",
            "/protected",
            format!("!!!.{}", b64(ext_claims(json!({})).to_string().as_bytes())) + ".abc",
        ),
        (
            "header not JSON",
            "GET",
            "/protected",
            sign_hs256_raw("nope", &ext_claims(json!({})).to_string(), SECRET),
        ),
        (
            "header a JSON array",
            "GET",
            "/protected",
            sign_hs256_raw("[1]", &ext_claims(json!({})).to_string(), SECRET),
        ),
        (
            "claims not JSON",
            "GET",
            "/protected",
            sign_hs256_raw(r#"{"alg":"HS256","typ":"JWT"}"#, "nope", SECRET),
        ),
        (
            "claims a JSON array",
            "GET",
            "/protected",
            sign_hs256_raw(r#"{"alg":"HS256","typ":"JWT"}"#, "[1,2]", SECRET),
        ),
        (
            "claims not base64url",
            "GET",
            "/protected",
            format!("{}.!!!.abc", b64(br#"{"alg":"HS256","typ":"JWT"}"#)),
        ),
        (
            "alg none",
            "GET",
            "/protected",
            format!(
                "{}.{}.",
                b64(br#"{"alg":"none","typ":"JWT"}"#),
                b64(ext_claims(json!({})).to_string().as_bytes())
            ),
        ),
        (
            "alg HS512",
            "GET",
            "/protected",
            signed_hs512(&ext_claims(json!({}))),
        ),
        (
            "no alg",
            "GET",
            "/protected",
            sign_hs256(&json!({"typ": "JWT"}), &ext_claims(json!({})), SECRET),
        ),
        (
            "no typ",
            "GET",
            "/protected",
            sign_hs256(&json!({"alg": "HS256"}), &ext_claims(json!({})), SECRET),
        ),
        (
            "kid not a string",
            "GET",
            "/protected",
            sign_hs256(
                &json!({"alg": "HS256", "typ": "JWT", "kid": 5}),
                &ext_claims(json!({})),
                SECRET,
            ),
        ),
        (
            "unknown crit",
            "GET",
            "/protected",
            sign_hs256(
                &json!({"alg": "HS256", "typ": "JWT", "crit": ["x"]}),
                &ext_claims(json!({})),
                SECRET,
            ),
        ),
        (
            "refresh token where access is required",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"type": "refresh"}))),
        ),
        (
            "access token where refresh is required",
            "POST",
            "/refresh",
            signed(&ext_claims(json!({}))),
        ),
        (
            "no type, access route",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"type": null}))),
        ),
        (
            "no type, refresh route",
            "POST",
            "/refresh",
            signed(&ext_claims(json!({"type": null}))),
        ),
        (
            "type foo, access route",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"type": "foo"}))),
        ),
        (
            "refresh token on the optional route",
            "GET",
            "/optional",
            signed(&ext_claims(json!({"type": "refresh"}))),
        ),
        (
            "expired on the optional route",
            "GET",
            "/optional",
            signed(&ext_claims(json!({"exp": now - 10}))),
        ),
        (
            "garbage on the optional route",
            "GET",
            "/optional",
            "abc".to_owned(),
        ),
        (
            "unknown user on the optional route",
            "GET",
            "/optional",
            signed(&ext_claims(json!({"sub": "user3"}))),
        ),
        (
            "unknown user",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"sub": "user3"}))),
        ),
        (
            "unknown user on /user",
            "GET",
            "/user",
            signed(&ext_claims(json!({"sub": "user3"}))),
        ),
        (
            "unknown user on /headers-only",
            "GET",
            "/headers-only",
            signed(&ext_claims(json!({"sub": "user3"}))),
        ),
        (
            "unknown user's refresh token",
            "POST",
            "/refresh",
            signed(&ext_claims(json!({"sub": "user3", "type": "refresh"}))),
        ),
        (
            "unknown non-ASCII user",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"sub": "usér"}))),
        ),
        (
            "sub a number",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"sub": 1}))),
        ),
        (
            "no sub",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"sub": null}))),
        ),
        (
            "jti a number",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"jti": 5}))),
        ),
        (
            "no jti",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"jti": null}))),
        ),
        (
            "not fresh on the fresh route",
            "GET",
            "/fresh",
            signed(&ext_claims(json!({}))),
        ),
        (
            "no fresh claim on the fresh route",
            "GET",
            "/fresh",
            signed(&ext_claims(json!({"fresh": null}))),
        ),
        (
            "fresh until a past time",
            "GET",
            "/fresh",
            signed(&ext_claims(json!({"fresh": now - 10}))),
        ),
        (
            "fresh until a future time",
            "GET",
            "/fresh",
            signed(&ext_claims(json!({"fresh": now + 100}))),
        ),
        (
            "fresh until a future float time",
            "GET",
            "/fresh",
            signed(&ext_claims(json!({"fresh": now as f64 + 100.5}))),
        ),
        (
            "fresh time echoed by /claims",
            "GET",
            "/claims",
            signed(&ext_claims(json!({"fresh": now + 100}))),
        ),
        (
            "refresh token on the fresh route",
            "GET",
            "/fresh",
            signed(&ext_claims(json!({"type": "refresh"}))),
        ),
        (
            "fresh refresh token on the fresh route",
            "GET",
            "/fresh",
            signed(&ext_claims(json!({"type": "refresh", "fresh": true}))),
        ),
        (
            "aud and iss present",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"aud": "x", "iss": "y"}))),
        ),
        (
            "extra claims",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"foo": [1, 2]}))),
        ),
        (
            "no csrf claim in a header token",
            "GET",
            "/protected",
            signed(&ext_claims(json!({"csrf": null}))),
        ),
    ];
    for (name, method, path, token) in token_cases {
        cases.push(same(name, request(method, path).bearer(&token)));
    }
    cases.push(same(
        "the non-fresh token from /refresh on the fresh route",
        get("/fresh").bearer("{NF}"),
    ));

    // Cookies and CSRF.
    // A token whose csrf claim is "c".
    let csrf_claim = |overrides: Value| {
        let mut claims = ext_claims(overrides);
        claims["csrf"] = json!("c");
        signed(&claims)
    };
    let a = "access_token_cookie={CA}";
    cases.extend([
        same("GET, access cookie", get("/protected").cookie(a)),
        same(
            "GET, access cookie, wrong CSRF header",
            get("/protected").cookie(a).header("X-CSRF-TOKEN", "wrong"),
        ),
        same("POST, access cookie, no CSRF", post("/protected").cookie(a)),
        same(
            "POST, access and CSRF cookies, no CSRF header",
            post("/protected").cookie("access_token_cookie={CA}; csrf_access_token={XA}"),
        ),
        same(
            "POST, access cookie, right CSRF",
            post("/protected").cookie(a).header("X-CSRF-TOKEN", "{XA}"),
        ),
        same(
            "POST, access cookie, CSRF header name in lower case",
            post("/protected").cookie(a).header("x-csrf-token", "{XA}"),
        ),
        same(
            "POST, access cookie, wrong CSRF",
            post("/protected").cookie(a).header("X-CSRF-TOKEN", "wrong"),
        ),
        same(
            "POST, access cookie, empty CSRF header",
            post("/protected").cookie(a).header("X-CSRF-TOKEN", ""),
        ),
        same(
            "POST, access cookie, the refresh CSRF value",
            post("/protected").cookie(a).header("X-CSRF-TOKEN", "{XR}"),
        ),
        same(
            "POST, access cookie, CSRF as a form field",
            post("/protected")
                .cookie(a)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("csrf_token={XA}"),
        ),
        same(
            "POST, access cookie, no CSRF, good Bearer header",
            post("/protected").cookie(a).bearer("{A}"),
        ),
        same(
            "POST, access cookie, no CSRF, bad Bearer header",
            post("/protected").cookie(a).bearer("abc"),
        ),
        same(
            "POST, access cookie, no CSRF, Basic header",
            post("/protected")
                .cookie(a)
                .header("Authorization", "Basic abc"),
        ),
        same(
            "POST, access cookie, no CSRF, token in the query string",
            post("/protected?jwt={A}").cookie(a),
        ),
        same(
            "POST, access cookie, no CSRF, token in the JSON body",
            post("/protected")
                .cookie(a)
                .json(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "POST, another token's CSRF value",
            post("/protected")
                .cookie("access_token_cookie={A}")
                .header("X-CSRF-TOKEN", "{XA}"),
        ),
        same(
            "POST, cookie token without a csrf claim",
            post("/protected")
                .cookie(&format!(
                    "access_token_cookie={}",
                    signed(&ext_claims(json!({"csrf": null})))
                ))
                .header("X-CSRF-TOKEN", "x"),
        ),
        same(
            "POST, expired cookie, wrong CSRF",
            post("/protected")
                .cookie(&format!(
                    "access_token_cookie={}",
                    csrf_claim(json!({"exp": now - 10}))
                ))
                .header("X-CSRF-TOKEN", "wrong"),
        ),
        same(
            "POST, expired cookie, right CSRF",
            post("/protected")
                .cookie(&format!(
                    "access_token_cookie={}",
                    csrf_claim(json!({"exp": now - 10}))
                ))
                .header("X-CSRF-TOKEN", "c"),
        ),
        same(
            "POST, CSRF header with spaces around",
            post("/protected")
                .cookie(&format!("access_token_cookie={}", csrf_claim(json!({}))))
                .header("X-CSRF-TOKEN", " c "),
        ),
        same(
            "POST, two CSRF header lines",
            post("/protected")
                .cookie(&format!("access_token_cookie={}", csrf_claim(json!({}))))
                .header("X-CSRF-TOKEN", "c")
                .header("X-CSRF-TOKEN", "c"),
        ),
        same(
            "POST, garbage cookie, CSRF header",
            post("/protected")
                .cookie("access_token_cookie=abc")
                .header("X-CSRF-TOKEN", "x"),
        ),
        same(
            "GET, garbage cookie",
            get("/protected").cookie("access_token_cookie=abc"),
        ),
        same(
            "GET, refresh cookie only",
            get("/protected").cookie("refresh_token_cookie={CR}"),
        ),
        same(
            "GET, refresh token in the access cookie",
            get("/protected").cookie("access_token_cookie={CR}"),
        ),
        same(
            "refresh with the cookie, no CSRF",
            post("/refresh").cookie("refresh_token_cookie={CR}"),
        ),
        same(
            "refresh with the cookie, the access CSRF value",
            post("/refresh")
                .cookie("refresh_token_cookie={CR}")
                .header("X-CSRF-TOKEN", "{XA}"),
        ),
        same(
            "refresh with the cookie, right CSRF",
            post("/refresh")
                .cookie("refresh_token_cookie={CR}")
                .header("X-CSRF-TOKEN", "{XR}"),
        ),
        same(
            "refresh with the access cookie",
            post("/refresh").cookie(a).header("X-CSRF-TOKEN", "{XA}"),
        ),
        same(
            "refresh into cookies, right CSRF",
            post("/refresh/cookies")
                .cookie("refresh_token_cookie={CR}")
                .header("X-CSRF-TOKEN", "{XR}"),
        ),
        same(
            "refresh into cookies, no CSRF",
            post("/refresh/cookies").cookie("refresh_token_cookie={CR}"),
        ),
        same(
            "refresh into cookies, header token",
            post("/refresh/cookies").bearer("{R}"),
        ),
        same(
            "refresh with the header, access cookie present",
            post("/refresh").cookie(a).bearer("{R}"),
        ),
        same("GET /fresh, cookie", get("/fresh").cookie(a)),
        same("GET /claims, cookie", get("/claims").cookie(a)),
        same("GET /user, cookie", get("/user").cookie(a)),
        same("GET /optional, cookie", get("/optional").cookie(a)),
        same(
            "GET /headers-only, cookie and header",
            get("/headers-only").cookie(a).bearer("{A}"),
        ),
        same(
            "two access cookies, the first garbage",
            get("/protected").cookie("access_token_cookie=abc; access_token_cookie={CA}"),
        ),
        same(
            "two access cookies, the first good",
            get("/protected").cookie("access_token_cookie={CA}; access_token_cookie=abc"),
        ),
        same(
            "cookie name in another case",
            get("/protected").cookie("Access_Token_Cookie={CA}"),
        ),
        same(
            "Post in mixed case, right CSRF",
            request("Post", "/protected")
                .cookie(a)
                .header("X-CSRF-TOKEN", "{XA}"),
        ),
        // Query string.
        same("query string", get("/protected?jwt={A}")),
        same("query string, POST", post("/protected?jwt={A}")),
        same(
            "query string with a Bearer prefix",
            get("/protected?jwt=Bearer%20{A}"),
        ),
        same("query string garbage", get("/protected?jwt=abc")),
        same("query parameter JWT", get("/protected?JWT={A}")),
        same(
            "query string, first value empty",
            get("/protected?jwt=&jwt={A}"),
        ),
        same(
            "query string, second value garbage",
            get("/protected?jwt={A}&jwt=abc"),
        ),
        same("query string, refresh", post("/refresh?jwt={R}")),
        same(
            "query string, access token on /refresh",
            post("/refresh?jwt={A}"),
        ),
        same("query string, non-fresh on /fresh", get("/fresh?jwt={NF}")),
        same("query string garbage, optional", get("/optional?jwt=abc")),
        // JSON body.
        same(
            "JSON body, GET",
            get("/protected").json(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "JSON body, POST",
            post("/protected").json(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "JSON body as text/plain",
            post("/protected")
                .header("Content-Type", "text/plain")
                .body(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "JSON body with a charset",
            post("/protected")
                .header("Content-Type", "application/json; charset=utf-8")
                .body(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "JSON body as application/vnd.api+json",
            post("/protected")
                .header("Content-Type", "application/vnd.api+json")
                .body(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "JSON body as APPLICATION/JSON",
            post("/protected")
                .header("Content-Type", "APPLICATION/JSON")
                .body(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "JSON body without Content-Type",
            post("/protected").body(r#"{"access_token":"{A}"}"#),
        ),
        same(
            "JSON body, only refresh_token",
            post("/protected").json(r#"{"refresh_token":"{R}"}"#),
        ),
        same(
            "JSON body, refresh token as access_token",
            post("/protected").json(r#"{"access_token":"{R}"}"#),
        ),
        same(
            "JSON body, refresh",
            post("/refresh").json(r#"{"refresh_token":"{R}"}"#),
        ),
        same(
            "JSON body, refresh with access_token",
            post("/refresh").json(r#"{"access_token":"{R}"}"#),
        ),
        same("JSON body null", post("/protected").json("null")),
        same(
            "JSON body, access_token null",
            post("/protected").json(r#"{"access_token":null}"#),
        ),
        same(
            "JSON body, access_token a number",
            post("/protected").json(r#"{"access_token":5}"#),
        ),
        same(
            "JSON body, access_token a list",
            post("/protected").json(r#"{"access_token":["a"]}"#),
        ),
        same(
            "JSON body, access_token garbage",
            post("/protected").json(r#"{"access_token":"abc"}"#),
        ),
        same("JSON body 0", post("/protected").json("0")),
        same("JSON body false", post("/protected").json("false")),
        same("JSON body empty", post("/protected").json("")),
        same(
            "JSON body invalid, optional",
            get("/optional").json("{nope"),
        ),
        // Several locations.
        same(
            "bad header, good query string",
            get("/protected?jwt={A}").bearer("abc"),
        ),
        same(
            "refresh token in the header, access token in the query string",
            get("/protected?jwt={A}").bearer("{R}"),
        ),
        same(
            "good header, garbage cookie",
            get("/protected")
                .bearer("{A}")
                .cookie("access_token_cookie=abc"),
        ),
        same(
            "good cookie, garbage query string",
            get("/protected?jwt=abc").cookie(a),
        ),
        // HEAD runs the GET route.
        same("HEAD, no token", request("HEAD", "/protected")),
        same("HEAD, token", request("HEAD", "/protected").bearer("{A}")),
    ]);

    // The demo page: the same file from both, once it exists.
    let demo = workspace_root().join("examples/extended/index.html");
    cases.push(Case {
        name: "GET /".to_owned(),
        request: get("/"),
        expect: if demo.is_file() {
            Expect::Same
        } else {
            Expect::SameStatus
        },
    });
    cases.push(Case {
        name: "unknown path".to_owned(),
        request: get("/nope"),
        expect: Expect::SameStatus,
    });

    // Deliberate differences.
    let python_500 = "Flask-JWT-Extended raises an exception (500); the Rust side refuses";
    cases.extend([
        differs(
            "JSON body a list",
            get("/protected").json("[1]"),
            500,
            refused,
            "a 4xx {\"msg\"} refusal",
            python_500,
        ),
        differs(
            "JSON body a string",
            get("/protected").json(r#""abc""#),
            500,
            refused,
            "a 4xx {\"msg\"} refusal",
            python_500,
        ),
        differs(
            "JSON body a list, optional",
            get("/optional").json("[1]"),
            500,
            |answer| answer.status < 500,
            "no server error",
            python_500,
        ),
        differs(
            "Authorization of spaces and commas",
            get("/protected").header("Authorization", " , ,"),
            500,
            refused,
            "a 4xx {\"msg\"} refusal",
            python_500,
        ),
        differs(
            "Authorization with an empty entry",
            get("/protected").header("Authorization", "Basic abc, , Bearer {A}"),
            500,
            |answer| answer.status < 500,
            "no server error",
            python_500,
        ),
        differs(
            "fresh a string",
            get("/fresh").bearer(&signed(&ext_claims(json!({"fresh": "yes"})))),
            500,
            refused,
            "a 4xx {\"msg\"} refusal",
            python_500,
        ),
        differs(
            "fresh null",
            get("/fresh").bearer(&signed(&{
                let mut claims = ext_claims(json!({}));
                claims["fresh"] = Value::Null;
                claims
            })),
            500,
            refused,
            "a 4xx {\"msg\"} refusal",
            python_500,
        ),
        differs(
            "csrf claim a number",
            post("/protected")
                .cookie(&format!(
                    "access_token_cookie={}",
                    signed(&ext_claims(json!({"csrf": 5})))
                ))
                .header("X-CSRF-TOKEN", "5"),
            500,
            refused,
            "a 4xx {\"msg\"} refusal",
            python_500,
        ),
        differs(
            "post in lower case, no CSRF",
            request("post", "/protected").cookie(a),
            401,
            |answer| answer.status >= 400,
            "a refusal",
            "Werkzeug upper-cases the method (then CSRF refuses it); Rocket's HTTP layer does not \
             take `post` for POST, so no route answers",
        ),
        differs(
            "OPTIONS /protected with a cookie",
            request("OPTIONS", "/protected").cookie(a),
            200,
            is_404,
            "404",
            "Flask answers OPTIONS itself (200, Allow); Rocket has no route for it",
        ),
        differs(
            "OPTIONS /refresh",
            request("OPTIONS", "/refresh"),
            200,
            is_404,
            "404",
            "Flask answers OPTIONS itself (200, Allow); Rocket has no route for it",
        ),
        differs(
            "GET /login",
            get("/login"),
            405,
            is_404,
            "404",
            "Flask answers 405 for a known path with another method; Rocket has no route for it",
        ),
        differs(
            "DELETE /protected",
            request("DELETE", "/protected").bearer("{A}"),
            405,
            is_404,
            "404",
            "Flask answers 405 for a known path with another method; Rocket has no route for it",
        ),
    ]);
    // Deliberate differences in what the Rust side answers to a malformed token or request,
    // each for the reason given (also listed in the README).
    for case in &mut cases {
        let Some(&(_, python, rust, wanted, why)) =
            DELIBERATE.iter().find(|(name, ..)| *name == case.name)
        else {
            continue;
        };
        case.expect = Expect::Differs {
            python,
            rust,
            wanted,
            why,
        };
    }
    cases
}

/// A case answered differently on purpose (see [`Expect::Differs`]).
fn differs(
    name: &str,
    request: Request,
    python: u16,
    rust: fn(&Answer) -> bool,
    wanted: &'static str,
    why: &'static str,
) -> Case {
    Case {
        name: name.to_owned(),
        request,
        expect: Expect::Differs {
            python,
            rust,
            wanted,
            why,
        },
    }
}

/// `token` without its last segment.
fn without_signature(token: &str) -> String {
    token
        .rsplit_once('.')
        .map(|(message, _)| message.to_owned())
        .expect("a token has segments")
}

/// Sends `case` to both sides (each with its own tokens) and describes how the answers differ
/// from what the case expects, if they do.
fn difference(
    case: &Case,
    python: (&Server, &Tokens),
    other: (&Server, &Tokens),
) -> Option<String> {
    let python_request = case.request.render(python.1);
    let other_request = case.request.render(other.1);
    let theirs = Answer::from(python.0.send(&python_request));
    let ours = Answer::from(other.0.send(&other_request));
    let describe = |what: &str| {
        Some(format!(
            "{}: {what}\n  request: {:?}\n  {}: {theirs:?}\n  {}: {ours:?}",
            case.name,
            python_request,
            python.0.name(),
            other.0.name()
        ))
    };
    match &case.expect {
        Expect::Same if theirs != ours => describe("the answers differ"),
        Expect::SameStatus
            if (theirs.status, &theirs.media_type) != (ours.status, &ours.media_type) =>
        {
            describe("the statuses or media types differ")
        }
        Expect::Differs {
            python: status,
            rust,
            wanted,
            why,
        } => {
            if theirs.status != *status {
                describe(&format!(
                    "Flask-JWT-Extended was expected to answer {status} ({why})"
                ))
            } else if other.0.is_rust() && !rust(&ours) {
                describe(&format!(
                    "the Rust side was expected to answer {wanted} ({why})"
                ))
            } else {
                None
            }
        }
        _ => None,
    }
}

// ----- the tests ----------------------------------------------------------------------------------

fn both_sides_answer_the_same_to_every_case() {
    let (python, rust) = both_sides();
    let python_tokens = tokens_of(&python);
    let rust_tokens = tokens_of(&rust);
    let cases = cases();
    assert!(cases.len() > 150, "the catalogue of cases is complete");
    let differences: Vec<String> = cases
        .iter()
        .filter_map(|case| difference(case, (&python, &python_tokens), (&rust, &rust_tokens)))
        .collect();
    assert!(
        differences.is_empty(),
        "{} of {} cases answer differently:\n\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n\n")
    );
}

fn the_reference_answers_are_the_expected_ones() {
    // A few answers of Flask-JWT-Extended pinned here, so that the side-by-side comparison is
    // known to compare what it should (and the reference application to be the right one).
    let python = python_app();
    let tokens = tokens_of(&python);
    let answer = |request: Request| Answer::from(python.send(&request.render(&tokens)));

    let login = answer(request("POST", "/login").json(CREDENTIALS));
    assert_eq!(login.status, 200);
    assert_eq!(
        login.body,
        json!({"access_token": "<jwt>", "refresh_token": "<jwt>"})
    );
    assert_eq!(login.media_type.as_deref(), Some("application/json"));
    assert_eq!(login.www_authenticate, None);

    let missing = answer(request("GET", "/protected"));
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.body,
        json!({"msg": "Missing JWT in headers, cookies, query_string or json (Missing \
                Authorization Header; Missing cookie \"access_token_cookie\"; Missing 'jwt' \
                query paramater; Invalid content-type. Must be application/json.)"})
    );
    assert_eq!(missing.www_authenticate, None);

    let wrong_type = answer(request("GET", "/protected").bearer("{R}"));
    assert_eq!(
        (wrong_type.status, wrong_type.body),
        (422, json!({"msg": "Only non-refresh tokens are allowed"}))
    );
    let not_fresh = answer(request("GET", "/fresh").bearer("{NF}"));
    assert_eq!(
        (not_fresh.status, not_fresh.body),
        (401, json!({"msg": "Fresh token required"}))
    );
    let no_csrf = answer(request("POST", "/protected").cookie("access_token_cookie={CA}"));
    assert_eq!(
        (no_csrf.status, no_csrf.body),
        (401, json!({"msg": "Missing CSRF token"}))
    );
    let unknown =
        answer(request("GET", "/user").bearer(&signed(&ext_claims(json!({"sub": "user3"})))));
    assert_eq!(
        (unknown.status, unknown.body),
        (401, json!({"msg": "Error loading the user user3"}))
    );

    let cookies = answer(request("POST", "/login/cookies").json(CREDENTIALS));
    let attributes = |name: &str| -> (Kind, Vec<String>) {
        let cookie = &cookies.cookies[name];
        (
            cookie.value.clone(),
            cookie.attributes.iter().cloned().collect(),
        )
    };
    assert_eq!(
        attributes("access_token_cookie"),
        (Kind::Jwt, vec!["httponly".to_owned(), "path=/".to_owned()])
    );
    assert_eq!(
        attributes("csrf_access_token"),
        (Kind::Uuid, vec!["path=/".to_owned()])
    );
    assert_eq!(cookies.cookies.len(), 4, "{cookies:?}");

    let logout = answer(request("POST", "/logout/cookies"));
    let cookie = &logout.cookies["refresh_token_cookie"];
    assert_eq!(cookie.value, Kind::Empty);
    assert_eq!(
        cookie.attributes.iter().collect::<Vec<_>>(),
        [
            "expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "httponly",
            "path=/"
        ]
    );
}

/// The claims of a token, and its header, as JSON.
fn parts_of(token: &str) -> (Value, Value) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "three segments: {token}");
    let decode = |segment: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD.decode(segment).expect("base64url segment");
        serde_json::from_slice(&bytes).expect("a JSON segment")
    };
    (decode(segments[0]), decode(segments[1]))
}

/// The JSON type of each claim, and the durations between the time claims.
fn shape_of(token: &str) -> (Value, BTreeMap<String, &'static str>, i64, i64) {
    let (header, claims) = parts_of(token);
    let map = claims.as_object().expect("claims are an object");
    let types = map
        .iter()
        .map(|(name, value)| {
            let kind = match value {
                Value::Bool(_) => "bool",
                Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                Value::Number(_) => "float",
                Value::String(s) if looks_like_uuid(s) => "uuid",
                Value::String(_) => "string",
                _ => "other",
            };
            (name.clone(), kind)
        })
        .collect();
    let time = |name: &str| claims[name].as_i64().unwrap_or(i64::MIN);
    (
        header,
        types,
        time("exp") - time("iat"),
        time("nbf") - time("iat"),
    )
}

fn both_sides_issue_tokens_of_the_same_shape() {
    let (python, rust) = both_sides();
    let theirs = tokens_of(&python);
    let ours = tokens_of(&rust);
    for (what, python_token, rust_token) in [
        ("fresh access token", &theirs.access, &ours.access),
        ("refresh token", &theirs.refresh, &ours.refresh),
        ("refreshed access token", &theirs.non_fresh, &ours.non_fresh),
        ("access cookie", &theirs.cookie_access, &ours.cookie_access),
        (
            "refresh cookie",
            &theirs.cookie_refresh,
            &ours.cookie_refresh,
        ),
    ] {
        assert_eq!(
            shape_of(rust_token),
            shape_of(python_token),
            "{what}: the {} token (left) is not shaped like Flask-JWT-Extended's (right)",
            rust.name()
        );
    }
    let (_, access) = parts_of(&theirs.access);
    assert_eq!(
        (&access["fresh"], &access["type"], &access["sub"]),
        (&json!(true), &json!("access"), &json!("user1"))
    );
    let (_, refreshed) = parts_of(&ours.non_fresh);
    assert_eq!(
        (&refreshed["fresh"], &refreshed["type"], &refreshed["sub"]),
        (&json!(false), &json!("access"), &json!("user1"))
    );
    // The CSRF cookies hold the csrf claims of the token cookies.
    for tokens in [&theirs, &ours] {
        assert_eq!(
            parts_of(&tokens.cookie_access).1["csrf"],
            json!(tokens.csrf_access)
        );
        assert_eq!(
            parts_of(&tokens.cookie_refresh).1["csrf"],
            json!(tokens.csrf_refresh)
        );
    }
}

/// The requests a token issued by one side must pass on the other, with their answers.
fn acceptance_cases() -> Vec<(Request, u16, Value)> {
    let user1 = json!({"logged_in_as": "user1"});
    vec![
        (
            request("GET", "/protected").bearer("{A}"),
            200,
            user1.clone(),
        ),
        (
            request("POST", "/protected").bearer("{NF}"),
            200,
            user1.clone(),
        ),
        (
            request("GET", "/fresh").bearer("{A}"),
            200,
            json!({"fresh": true, "logged_in_as": "user1"}),
        ),
        (
            request("GET", "/fresh").bearer("{NF}"),
            401,
            json!({"msg": "Fresh token required"}),
        ),
        (
            request("GET", "/claims").bearer("{A}"),
            200,
            json!({"fresh": true, "sub": "user1", "type": "access"}),
        ),
        (
            request("GET", "/user").bearer("{A}"),
            200,
            json!({"id": 1, "username": "user1"}),
        ),
        (
            request("GET", "/optional?jwt={A}").bearer("{A}"),
            200,
            user1.clone(),
        ),
        (
            request("POST", "/protected").json(r#"{"access_token":"{A}"}"#),
            200,
            user1.clone(),
        ),
        (
            request("POST", "/refresh").bearer("{R}"),
            200,
            json!({"access_token": "<jwt>"}),
        ),
        (
            request("GET", "/protected").bearer("{R}"),
            422,
            json!({"msg": "Only non-refresh tokens are allowed"}),
        ),
        (
            request("GET", "/user").cookie("access_token_cookie={CA}"),
            200,
            json!({"id": 1, "username": "user1"}),
        ),
        (
            request("POST", "/protected")
                .cookie("access_token_cookie={CA}")
                .header("X-CSRF-TOKEN", "{XA}"),
            200,
            user1,
        ),
        (
            request("POST", "/refresh")
                .cookie("refresh_token_cookie={CR}")
                .header("X-CSRF-TOKEN", "{XR}"),
            200,
            json!({"access_token": "<jwt>"}),
        ),
    ]
}

fn tokens_issued_by_either_side_are_accepted_by_the_other() {
    let (python, rust) = both_sides();
    let python_tokens = tokens_of(&python);
    let rust_tokens = tokens_of(&rust);
    let mut failures = Vec::new();
    for (issuer, tokens, verifier) in [
        (&python, &python_tokens, &rust),
        (&rust, &rust_tokens, &python),
    ] {
        for (template, status, body) in acceptance_cases() {
            let request = template.render(tokens);
            let answer = Answer::from(verifier.send(&request));
            if (answer.status, &answer.body) != (status, &body) {
                failures.push(format!(
                    "{} token on {}: {request:?} answered {answer:?}, expected {status} {body}",
                    issuer.name(),
                    verifier.name()
                ));
            }
        }
        // An access token the verifier issued from the issuer's refresh token goes back.
        let refreshed = verifier.send(&request("POST", "/refresh").bearer(&tokens.refresh));
        let access = refreshed.json()["access_token"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default();
        let back = Answer::from(issuer.send(&request("GET", "/claims").bearer(&access)));
        if (back.status, &back.body)
            != (
                200,
                &json!({"fresh": false, "sub": "user1", "type": "access"}),
            )
        {
            failures.push(format!(
                "{}'s refreshed token on {}: {back:?}",
                verifier.name(),
                issuer.name()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            both_sides_answer_the_same_to_every_case,
            needs[Program::Python(&EXTENDED_APP.env)]
        ),
        test!(
            the_reference_answers_are_the_expected_ones,
            needs[Program::Python(&EXTENDED_APP.env)]
        ),
        test!(
            both_sides_issue_tokens_of_the_same_shape,
            needs[Program::Python(&EXTENDED_APP.env)]
        ),
        test!(
            tokens_issued_by_either_side_are_accepted_by_the_other,
            needs[Program::Python(&EXTENDED_APP.env)]
        ),
    ]
}
