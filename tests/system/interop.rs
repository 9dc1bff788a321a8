//! Wire compatibility with the real Flask-JWT 0.3.2, both ways.
//!
//! The tests that need Python start `tests/interop/flask_app.py` (Flask-JWT 0.3.2's own test-suite
//! application on PyJWT, Flask and Werkzeug's development server) as a child process and talk to
//! it over HTTP on 127.0.0.1, next to the Rust fixture application of `tests/common`. The Python
//! interpreter is `$FLASK_JWT_PYTHON`, or a virtual environment with
//! `tests/interop/requirements.txt` that these tests make under the target directory on first use
//! (see [`crate::python_env`]).
//!
//! Where `python3` is not installed the harness reports the tests that need it as ignored, saying
//! why, or as failed when `CI` is set. The last tests need no Python: they check tokens assembled
//! by hand the way PyJWT writes them.

use crate::common;
use crate::http_client::HttpResponse;
use crate::programs::Program;
use crate::python_env::PythonEnv;
use crate::reference_app::{AppSpec, ReferenceApp};
use common::*;

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rocket::local::blocking::{Client, LocalResponse};
use serde_json::{json, Value};
use sha2::Sha256;

/// The Python side: Flask-JWT 0.3.2 and the versions it still runs on.
static FLASK_JWT_APP: AppSpec = AppSpec {
    env: PythonEnv {
        name: "flask-jwt",
        requirements: "tests/interop/requirements.txt",
        override_var: "FLASK_JWT_PYTHON",
    },
    script: "tests/interop/flask_app.py",
    name: "the Flask-JWT application",
    ready_path: "/versions",
};

// ----- the Flask-JWT 0.3.2 application, as a child process ---------------------------------------

/// The running Flask-JWT application (see [`ReferenceApp`]).
struct FlaskJwt {
    app: ReferenceApp,
}

impl FlaskJwt {
    /// Starts `tests/interop/flask_app.py` and checks that it runs Flask-JWT 0.3.2.
    fn start() -> FlaskJwt {
        let mut app = ReferenceApp::start(&FLASK_JWT_APP);
        let versions = app.request("GET", "/versions", &[], b"").json();
        if versions["flask_jwt"] != "0.3.2" {
            app.fail(&format!("Flask-JWT 0.3.2 is required, found {versions}"));
        }
        FlaskJwt { app }
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        self.app.request(method, path, headers, body)
    }

    /// `GET /protected`, with `Authorization: <value>` when given.
    fn get_protected(&self, authorization: Option<&str>) -> HttpResponse {
        let headers: Vec<(&str, &str)> = authorization
            .map(|value| ("Authorization", value))
            .into_iter()
            .collect();
        self.request("GET", "/protected", &headers, b"")
    }

    /// `POST /auth` with a JSON body.
    fn post_auth(&self, body: &str) -> HttpResponse {
        self.request(
            "POST",
            "/auth",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    }

    /// Flask-JWT's decode callback on `token`: its claims, or the PyJWT error.
    fn decode(&self, token: &str) -> HttpResponse {
        self.request("POST", "/decode", &[], token.as_bytes())
    }

    /// Logs in as joe and returns the access token Flask-JWT issued.
    fn login(&self) -> String {
        let response = self.post_auth(r#"{"username":"joe","password":"pass"}"#);
        assert_eq!(response.status, 200, "Flask-JWT /auth: {}", response.text());
        response.json()["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }
}

// ----- comparing answers --------------------------------------------------------------------------

/// What a client sees of a `/protected` or `/auth` answer: status, media type,
/// `WWW-Authenticate`, and the body (JSON when the media type says so, else text).
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    media_type: Option<String>,
    www_authenticate: Option<String>,
    body: Value,
}

fn media_type(content_type: Option<&str>) -> Option<String> {
    content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

fn body_value(media_type: Option<&str>, body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    if media_type == Some("application/json") {
        serde_json::from_slice(body).unwrap_or_else(|e| panic!("bad JSON body ({e}): {text:?}"))
    } else {
        Value::String(text.into_owned())
    }
}

impl From<HttpResponse> for Answer {
    fn from(response: HttpResponse) -> Answer {
        let media_type = media_type(response.header("Content-Type"));
        Answer {
            status: response.status,
            www_authenticate: response.header("WWW-Authenticate").map(str::to_owned),
            body: body_value(media_type.as_deref(), &response.body),
            media_type,
        }
    }
}

impl From<LocalResponse<'_>> for Answer {
    fn from(response: LocalResponse<'_>) -> Answer {
        let status = response.status().code;
        let media_type = media_type(response.content_type().map(|c| c.to_string()).as_deref());
        let www_authenticate = response
            .headers()
            .get_one("WWW-Authenticate")
            .map(str::to_owned);
        let body = response.into_bytes().unwrap_or_default();
        Answer {
            status,
            body: body_value(media_type.as_deref(), &body),
            media_type,
            www_authenticate,
        }
    }
}

fn error_body(status: u16, error: &str, description: &str) -> Value {
    json!({"status_code": status, "error": error, "description": description})
}

/// Asks both sides `GET /protected` with `authorization` and checks they answer the same.
///
/// On success the body is the view's own `success`, whose media type is the framework's default
/// for a string (Flask: `text/html`, Rocket: `text/plain`), not Flask-JWT's: it is not compared.
fn assert_same_protected(
    flask: &FlaskJwt,
    rust: &Client,
    case: &str,
    authorization: Option<&str>,
) -> Answer {
    let mut python = Answer::from(flask.get_protected(authorization));
    let mut ours = Answer::from(get_with(rust, "/protected", authorization));
    if python.status == 200 && ours.status == 200 {
        python.media_type = None;
        ours.media_type = None;
    }
    assert_eq!(
        ours, python,
        "GET /protected, {case}: the Rust answer (left) differs from Flask-JWT's (right)"
    );
    python
}

/// Posts `body` to both sides' `/auth` and checks they answer the same.
fn assert_same_auth(flask: &FlaskJwt, rust: &Client, body: &str) -> Answer {
    let python = Answer::from(flask.post_auth(body));
    let ours = Answer::from(post_auth(rust, body));
    assert_eq!(
        ours, python,
        "POST /auth {body}: the Rust answer (left) differs from Flask-JWT's (right)"
    );
    python
}

// ----- tokens -------------------------------------------------------------------------------------

fn segments(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "three segments: {token}");
    [parts[0], parts[1], parts[2]]
}

fn decode_segment(segment: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(segment).expect("base64url segment")
}

fn claims_of(token: &str) -> Value {
    serde_json::from_slice(&decode_segment(segments(token)[1])).expect("JSON claims")
}

fn hmac_sha256(message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Signs the exact JSON texts given (so the header's field order is the one written here).
fn sign_raw(header_json: &str, claims_json: &str) -> String {
    sign_hs256_raw(header_json, claims_json, SECRET)
}

/// A valid token with its claims replaced by `claims` (the signature is the original one).
fn tampered_claims(token: &str, claims: &Value) -> String {
    let [header, _, signature] = segments(token);
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("json"));
    format!("{header}.{claims}.{signature}")
}

/// A valid token with one character of the signature's first half changed.
fn tampered_signature(token: &str) -> String {
    let [header, claims, signature] = segments(token);
    let mut signature: Vec<char> = signature.chars().collect();
    let i = 5;
    signature[i] = if signature[i] == 'A' { 'B' } else { 'A' };
    let signature: String = signature.into_iter().collect();
    format!("{header}.{claims}.{signature}")
}

fn assert_integer_claim(claims: &Value, name: &str) -> i64 {
    let value = &claims[name];
    assert!(
        value.is_i64() || value.is_u64(),
        "{name} must be an integer NumericDate: {claims}"
    );
    value.as_i64().expect("fits i64")
}

// ----- against the real Flask-JWT 0.3.2 -------------------------------------------------------------

fn flask_jwt_token_is_accepted_by_rust() {
    let flask = FlaskJwt::start();
    let rust = client();
    let token = flask.login();

    // Flask-JWT writes PyJWT's header, `typ` first, and the default claims.
    let [header, _, _] = segments(&token);
    assert_eq!(
        decode_segment(header),
        br#"{"typ":"JWT","alg":"HS256"}"#.to_vec()
    );
    let claims = claims_of(&token);
    let names: BTreeSet<&str> = claims
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, BTreeSet::from(["exp", "iat", "identity", "nbf"]));

    let response = get_with(&rust, "/protected", Some(&format!("JWT {token}")));
    assert_eq!(response.status().code, 200);
    assert_eq!(response.into_string().as_deref(), Some("success"));

    // Flask-JWT matches the prefix case-insensitively; so does the Rust side.
    let response = get_with(&rust, "/protected", Some(&format!("jwt {token}")));
    assert_eq!(response.status().code, 200);

    // And Flask-JWT accepts its own token, of course.
    let response = flask.get_protected(Some(&format!("JWT {token}")));
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "success")
    );
}

fn rust_token_is_accepted_by_flask_jwt() {
    let flask = FlaskJwt::start();
    let rust = client();
    let token = login(&rust);

    let response = flask.get_protected(Some(&format!("JWT {token}")));
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "success"),
        "Flask-JWT /protected refused the Rust token {token}"
    );

    let response = flask.decode(&token);
    assert_eq!(
        response.status,
        200,
        "Flask-JWT's decode callback refused the Rust token {token}: {}",
        response.text()
    );
    let claims = response.json();
    assert_eq!(claims["identity"], json!(1), "{claims}");
    let iat = assert_integer_claim(&claims, "iat");
    let nbf = assert_integer_claim(&claims, "nbf");
    let exp = assert_integer_claim(&claims, "exp");
    assert_eq!(exp - iat, 300, "{claims}");
    assert_eq!(nbf, iat, "{claims}");
    assert!((iat - now()).abs() <= 5, "iat is now: {claims}");
    let names: BTreeSet<&str> = claims
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, BTreeSet::from(["exp", "iat", "identity", "nbf"]));

    // The header segment is byte for byte the one Flask-JWT (PyJWT) writes.
    let python_token = flask.login();
    assert_eq!(segments(&token)[0], segments(&python_token)[0]);
}

fn both_sides_answer_the_same_to_bad_requests() {
    let flask = FlaskJwt::start();
    let rust = client();
    let now = now();
    let valid = token_for(&claims(json!(1)));
    let expired = token_for(&json!({
        "identity": 1, "iat": now - 400, "nbf": now - 400, "exp": now - 100
    }));
    let tampered = tampered_claims(&valid, &claims(json!(2)));
    let bad_signature = tampered_signature(&valid);

    // The cases of the brief.
    let answer = assert_same_protected(&flask, &rust, "no Authorization header", None);
    assert_eq!(
        answer,
        Answer {
            status: 401,
            media_type: Some("application/json".into()),
            www_authenticate: Some(r#"JWT realm="Login Required""#.into()),
            body: error_body(
                401,
                "Authorization Required",
                "Request does not contain an access token"
            ),
        }
    );
    let cases: Vec<(&str, String, Value)> = vec![
        (
            "unsupported type",
            "Bogus xxx".into(),
            error_body(401, "Invalid JWT header", "Unsupported authorization type"),
        ),
        (
            "prefix only",
            "JWT".into(),
            error_body(401, "Invalid JWT header", "Token missing"),
        ),
        (
            "token with a space",
            "JWT a b".into(),
            error_body(401, "Invalid JWT header", "Token contains spaces"),
        ),
        (
            "one segment",
            "JWT abc".into(),
            error_body(401, "Invalid token", "Not enough segments"),
        ),
        (
            "claims tampered with",
            format!("JWT {tampered}"),
            error_body(401, "Invalid token", "Signature verification failed"),
        ),
        (
            "signature tampered with",
            format!("JWT {bad_signature}"),
            error_body(401, "Invalid token", "Signature verification failed"),
        ),
        (
            "expired",
            format!("JWT {expired}"),
            error_body(401, "Invalid token", "Signature has expired"),
        ),
    ];
    for (case, authorization, expected) in &cases {
        let answer = assert_same_protected(&flask, &rust, case, Some(authorization));
        assert_eq!(answer.status, 401, "{case}");
        assert_eq!(&answer.body, expected, "{case}");
        assert_eq!(answer.www_authenticate, None, "{case}");
    }

    // A few more of Flask-JWT's answers, same on both sides.
    let more: Vec<(&str, String)> = vec![
        ("valid token", format!("JWT {valid}")),
        ("lowercase prefix", format!("jwt {valid}")),
        ("Bearer prefix", format!("Bearer {valid}")),
        (
            "unknown identity",
            format!("JWT {}", token_for(&claims(json!(2)))),
        ),
        (
            "alg none",
            format!(
                "JWT {}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#),
                segments(&valid)[1]
            ),
        ),
        (
            "HS512 instead of HS256",
            format!(
                "JWT {}",
                sign_hs256(
                    &json!({"typ": "JWT", "alg": "HS512"}),
                    &claims(json!(1)),
                    SECRET
                )
            ),
        ),
        (
            "other secret",
            format!(
                "JWT {}",
                sign_hs256(
                    &json!({"typ": "JWT", "alg": "HS256"}),
                    &claims(json!(1)),
                    "other"
                )
            ),
        ),
        (
            "missing exp",
            format!(
                "JWT {}",
                token_for(&json!({"identity": 1, "iat": now, "nbf": now}))
            ),
        ),
        (
            "nbf in the future",
            format!(
                "JWT {}",
                token_for(&json!({"identity": 1, "iat": now, "nbf": now + 60, "exp": now + 300}))
            ),
        ),
        (
            "iat in the future",
            format!(
                "JWT {}",
                token_for(&json!({"identity": 1, "iat": now + 60, "nbf": now, "exp": now + 300}))
            ),
        ),
        (
            "expired within the leeway",
            format!(
                "JWT {}",
                token_for(
                    &json!({"identity": 1, "iat": now - 300, "nbf": now - 300, "exp": now - 5})
                )
            ),
        ),
        (
            "float claims",
            format!(
                "JWT {}",
                sign_raw(
                    r#"{"typ":"JWT","alg":"HS256"}"#,
                    &format!(
                        r#"{{"identity":1,"iat":{now}.5,"nbf":{now}.25,"exp":{}.75}}"#,
                        now + 300
                    )
                )
            ),
        ),
    ];
    for (case, authorization) in &more {
        assert_same_protected(&flask, &rust, case, Some(authorization));
    }
}

/// `segment` with its last character's unused low bit set: PyJWT's lenient
/// `base64.urlsafe_b64decode` reads the same bytes from it.
fn with_trailing_bits(segment: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = segment.as_bytes().to_vec();
    let last = bytes.last_mut().expect("non-empty segment");
    let index = ALPHABET.iter().position(|c| c == last).expect("base64url");
    *last = ALPHABET[index ^ 1];
    String::from_utf8(bytes).expect("ASCII")
}

/// Asks both sides `GET /protected` for each case; returns the cases they answer differently.
fn differences(flask: &FlaskJwt, rust: &Client, cases: &[(&str, String)]) -> Vec<String> {
    let mut differences = Vec::new();
    for (case, authorization) in cases {
        let mut python = Answer::from(flask.get_protected(Some(authorization)));
        let mut ours = Answer::from(get_with(rust, "/protected", Some(authorization)));
        if python.status == 200 && ours.status == 200 {
            python.media_type = None;
            ours.media_type = None;
        }
        if ours != python {
            differences.push(format!(
                "{case} (Authorization: {authorization:?}):\n  Rust:      {ours:?}\n  \
                 Flask-JWT: {python:?}"
            ));
        }
    }
    differences
}

/// A token with the given claims JSON text, signed with the fixture secret.
fn with_claims(claims: &str) -> String {
    format!("JWT {}", sign_raw(r#"{"typ":"JWT","alg":"HS256"}"#, claims))
}

fn edge_cases_answer_the_same() {
    let flask = FlaskJwt::start();
    let rust = client();
    let now = now();
    let valid = token_for(&claims(json!(1)));
    let [_, payload, signature] = segments(&valid);
    let cases: Vec<(&str, String)> = vec![
        ("two spaces after the prefix", format!("JWT  {valid}")),
        ("tab after the prefix", format!("JWT\t{valid}")),
        ("empty header value", String::new()),
        (
            "exp not a number",
            with_claims(&format!(
                r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":"soon"}}"#
            )),
        ),
        (
            "exp null",
            with_claims(&format!(
                r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":null}}"#
            )),
        ),
        (
            "identity a string",
            with_claims(&format!(
                r#"{{"identity":"1","iat":{now},"nbf":{now},"exp":{}}}"#,
                now + 300
            )),
        ),
        ("claims an array", with_claims("[1]")),
        (
            "header an array",
            format!(
                "JWT {}.{payload}.{signature}",
                URL_SAFE_NO_PAD.encode("[1]")
            ),
        ),
    ];
    let differences = differences(&flask, &rust, &cases);
    assert!(
        differences.is_empty(),
        "{} of {} cases differ from Flask-JWT 0.3.2:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );
}

/// Where this library is deliberately stricter than Flask-JWT 0.3.2 (PyJWT 1.4.2's lenient
/// base64 and `int()` conversions) or words a JSON error differently (Python's `json` module
/// texts): each case is asserted on both sides, so a change on either shows up here. Every one is
/// documented in the README's list of deliberate differences.
fn documented_differences_from_flask_jwt() {
    let flask = FlaskJwt::start();
    let rust = client();
    let now = now();
    let valid = token_for(&claims(json!(1)));
    let [header, payload, signature] = segments(&valid);
    // (case, Authorization, Rust's description prefix, Flask-JWT's status)
    let cases: Vec<(&str, String, &str, u16)> = vec![
        (
            "four segments",
            format!("JWT {valid}.x"),
            "Too many segments",
            401,
        ),
        (
            "signature with unused trailing bits set",
            format!("JWT {header}.{payload}.{}", with_trailing_bits(signature)),
            "Invalid crypto padding",
            200,
        ),
        (
            "padded signature",
            format!("JWT {header}.{payload}.{signature}="),
            "Invalid crypto padding",
            200,
        ),
        (
            "exp a numeric string",
            with_claims(&format!(
                r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":"{}"}}"#,
                now + 300
            )),
            "Expiration Time claim (exp) must be an integer.",
            200,
        ),
        (
            "exp true",
            with_claims(&format!(
                r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":true}}"#
            )),
            "Expiration Time claim (exp) must be an integer.",
            401,
        ),
        (
            "exp 1e20",
            with_claims(&format!(
                r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":1e20}}"#
            )),
            "Expiration Time claim (exp) must be an integer.",
            200,
        ),
        (
            "claims not JSON",
            with_claims("{nope"),
            "Invalid payload string: ",
            401,
        ),
        (
            "header not JSON",
            format!(
                "JWT {}.{payload}.{signature}",
                URL_SAFE_NO_PAD.encode("{nope")
            ),
            "Invalid header string: ",
            401,
        ),
        (
            "header not base64url",
            format!("JWT !!!.{payload}.{signature}"),
            "Invalid header padding",
            401,
        ),
        (
            "kid not a string",
            format!(
                "JWT {}",
                sign_raw(r#"{"typ":"JWT","alg":"HS256","kid":1}"#, &claims_json(now))
            ),
            "Invalid header: a registered parameter has the wrong type",
            200,
        ),
    ];
    for (case, authorization, rust_description, flask_status) in &cases {
        let ours = Answer::from(get_with(&rust, "/protected", Some(authorization)));
        assert_eq!(ours.status, 401, "{case}: {ours:?}");
        let body = &ours.body;
        assert_eq!(body["error"], "Invalid token", "{case}: {ours:?}");
        let description = body["description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with(rust_description),
            "{case}: Rust said {description:?}"
        );
        let python = Answer::from(flask.get_protected(Some(authorization)));
        assert_eq!(
            python.status, *flask_status,
            "{case}: Flask-JWT said {python:?}"
        );
    }
    let differing = differences(
        &flask,
        &rust,
        &cases
            .iter()
            .map(|(case, authorization, _, _)| (*case, authorization.clone()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(differing.len(), cases.len(), "{}", differing.join("\n"));
}

fn both_auth_resources_answer_the_same() {
    let flask = FlaskJwt::start();
    let rust = client();
    let invalid = error_body(401, "Bad Request", "Invalid credentials");
    for body in [
        r#"{"username":"joe","password":"wrong"}"#,
        r#"{"username":"jane","password":"pass"}"#,
        r#"{"username":"joe"}"#,
        r#"{"password":"pass"}"#,
        r#"{"username":"joe","password":""}"#,
        r#"{"username":"","password":""}"#,
        r#"{"username":"joe","password":null}"#,
        r#"{"username":"joe","password":"pass","extra":1}"#,
        r#"{"user":"joe","password":"pass"}"#,
        r#"{}"#,
    ] {
        let answer = assert_same_auth(&flask, &rust, body);
        assert_eq!(answer.status, 401, "{body}");
        assert_eq!(answer.body, invalid, "{body}");
        assert_eq!(answer.www_authenticate, None, "{body}");
    }

    // Good credentials: 200 and nothing but the token on both sides.
    let body = r#"{"username":"joe","password":"pass"}"#;
    let python = flask.post_auth(body);
    let ours = post_auth(&rust, body);
    assert_eq!((python.status, ours.status().code), (200, 200));
    let python = python.json();
    let ours: Value = ours.into_json().expect("JSON body");
    let keys =
        |v: &Value| -> Vec<String> { v.as_object().expect("object").keys().cloned().collect() };
    assert_eq!(keys(&ours), keys(&python));
    assert_eq!(keys(&python), ["access_token"]);
}

/// Flask's `request.get_json()` (Werkzeug 2.2) answers 400 to a body whose `Content-Type` is not
/// JSON, with an HTML page; the Rust side answers the same status and description as Flask-JWT's
/// JSON error body (a documented difference of form only).
fn both_auth_resources_need_a_json_content_type() {
    let flask = FlaskJwt::start();
    let rust = client();
    let body = r#"{"username":"joe","password":"pass"}"#;
    let description = "Did not attempt to load JSON data because the request Content-Type was \
                       not 'application/json'.";
    for (content_type, status) in [
        (None, 400),
        (Some("text/plain"), 400),
        (Some("application/x-www-form-urlencoded"), 400),
        (Some("text/json"), 400),
        (Some("application/json"), 200),
        (Some("application/json; charset=utf-8"), 200),
        (Some("application/vnd.api+json"), 200),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|value| ("Content-Type", value))
            .into_iter()
            .collect();
        let python = flask.request("POST", "/auth", &headers, body.as_bytes());
        let mut request = rust.post("/auth").body(body);
        if let Some(value) = content_type {
            request = request.header(rocket::http::Header::new("Content-Type", value));
        }
        let ours = Answer::from(request.dispatch());
        assert_eq!(python.status, status, "{content_type:?}: {python:?}");
        assert_eq!(ours.status, status, "{content_type:?}: {ours:?}");
        if status == 400 {
            assert!(
                python.text().contains(&description.replace('\'', "&#39;")),
                "{content_type:?}: Flask-JWT said {:?}",
                python.text()
            );
            assert_eq!(ours.body, error_body(400, "Bad Request", description));
        }
    }
}

// ----- tokens written the way PyJWT writes them (no Python) -----------------------------------------

fn claims_json(now: i64) -> String {
    format!(
        r#"{{"exp":{},"iat":{now},"nbf":{now},"identity":1}}"#,
        now + 300
    )
}

fn assert_accepted(token: &str) {
    let rust = client();
    let response = get_with(&rust, "/protected", Some(&format!("JWT {token}")));
    let status = response.status().code;
    let body = response.into_string().unwrap_or_default();
    assert_eq!((status, body.as_str()), (200, "success"), "token {token}");
}

fn both_header_field_orders_are_accepted() {
    let now = now();
    for header in [
        r#"{"typ":"JWT","alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"JWT"}"#,
    ] {
        let token = sign_raw(header, &claims_json(now));
        assert_eq!(decode_segment(segments(&token)[0]), header.as_bytes());
        assert_accepted(&token);
    }
}

fn float_numeric_dates_are_accepted() {
    let now = now();
    let claims = format!(
        r#"{{"exp":{}.5,"iat":{now}.25,"nbf":{now}.75,"identity":1}}"#,
        now + 300
    );
    let token = sign_raw(r#"{"typ":"JWT","alg":"HS256"}"#, &claims);
    assert!(claims_of(&token)["exp"].is_f64());
    assert_accepted(&token);
}

fn rust_token_signature_is_hmac_sha256_over_the_first_two_segments() {
    let rust = client();
    let token = login(&rust);
    let [header, claims, signature] = segments(&token);
    assert_eq!(
        decode_segment(header),
        br#"{"typ":"JWT","alg":"HS256"}"#.to_vec()
    );
    assert_eq!(
        decode_segment(signature),
        hmac_sha256(format!("{header}.{claims}").as_bytes()),
        "the signature is HMAC-SHA256(secret, header.claims)"
    );
    // Unpadded base64url, as PyJWT writes it.
    assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
    let claims = claims_of(&token);
    assert_eq!(claims["identity"], json!(1));
    let iat = assert_integer_claim(&claims, "iat");
    assert_eq!(assert_integer_claim(&claims, "exp") - iat, 300);
    assert_eq!(assert_integer_claim(&claims, "nbf"), iat);
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            flask_jwt_token_is_accepted_by_rust,
            needs[Program::Python(&FLASK_JWT_APP.env)]
        ),
        test!(
            rust_token_is_accepted_by_flask_jwt,
            needs[Program::Python(&FLASK_JWT_APP.env)]
        ),
        test!(
            both_sides_answer_the_same_to_bad_requests,
            needs[Program::Python(&FLASK_JWT_APP.env)]
        ),
        test!(
            edge_cases_answer_the_same,
            needs[Program::Python(&FLASK_JWT_APP.env)]
        ),
        test!(
            documented_differences_from_flask_jwt,
            needs[Program::Python(&FLASK_JWT_APP.env)]
        ),
        test!(
            both_auth_resources_answer_the_same,
            needs[Program::Python(&FLASK_JWT_APP.env)]
        ),
        test!(
            both_auth_resources_need_a_json_content_type,
            needs[Program::Python(&FLASK_JWT_APP.env)]
        ),
        test!(both_header_field_orders_are_accepted, needs []),
        test!(float_numeric_dates_are_accepted, needs []),
        test!(rust_token_signature_is_hmac_sha256_over_the_first_two_segments, needs []),
    ]
}
