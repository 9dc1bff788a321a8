//! Wire compatibility with the real Flask-JWT 0.3.2, both ways.
//!
//! The tests that need Python start `tests/interop/flask_app.py` (Flask-JWT 0.3.2's own test-suite
//! application on PyJWT, Flask and Werkzeug's development server) as a child process and talk to
//! it over HTTP on 127.0.0.1, next to the Rust fixture application of `tests/common`. The Python
//! interpreter is `$FLASK_JWT_PYTHON`, or a virtual environment with
//! `tests/interop/requirements.txt` that these tests make under the target directory on first use
//! (see [`crate::python_env`]).
//!
//! Where `python3` is not installed they are skipped, saying so, unless `CI` is set: then they
//! fail. The last tests need no Python: they check tokens assembled by hand the way PyJWT writes
//! them.

use crate::common;
use crate::python_env::{workspace_root, PythonEnv};
use common::*;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rocket::local::blocking::{Client, LocalResponse};
use serde_json::{json, Value};
use sha2::Sha256;

/// The Python side: Flask-JWT 0.3.2 and the versions it still runs on.
const FLASK_JWT: PythonEnv = PythonEnv {
    name: "flask-jwt",
    requirements: "tests/interop/requirements.txt",
    override_var: "FLASK_JWT_PYTHON",
};

/// How long the Flask application may take to answer its first request.
const STARTUP: Duration = Duration::from_secs(15);

/// Timeout of one HTTP exchange with the Flask application.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

// ----- the Flask-JWT 0.3.2 application, as a child process ---------------------------------------

/// An HTTP response of the Flask application.
#[derive(Debug)]
struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not a JSON body ({e}): {:?}", self.text()))
    }
}

/// The running Flask-JWT application; dropping it kills the process, also when a test panics.
struct FlaskJwt {
    child: Child,
    python: PathBuf,
    port: u16,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Drop for FlaskJwt {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl FlaskJwt {
    /// Starts `tests/interop/flask_app.py` on a free port and waits until it answers; `None`
    /// when the test is skipped for want of `python3` (see [`PythonEnv::interpreter`]).
    fn start() -> Option<FlaskJwt> {
        let python = FLASK_JWT.interpreter()?;
        let root = workspace_root();
        let mut child = Command::new(&python)
            .arg(root.join("tests/interop/flask_app.py"))
            .arg("0")
            .current_dir(root)
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run the Python interpreter {} ({e}) for the Flask-JWT 0.3.2 interop \
                     tests. Unset FLASK_JWT_PYTHON to let the tests make their own environment, \
                     or set it to a Python that has tests/interop/requirements.txt installed.",
                    python.display()
                )
            });

        // stderr is kept for the failure messages; stdout's first line is the port.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = child_stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let (port_tx, port_rx) = mpsc::channel();
        let child_stdout = child.stdout.take().expect("piped stdout");
        let stdout_reader = std::thread::spawn(move || {
            let mut stdout = BufReader::new(child_stdout);
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap_or(0) > 0 {
                let _ = port_tx.send(line);
            }
            drop(port_tx);
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        let mut server = FlaskJwt {
            child,
            python,
            port: 0,
            stderr,
            readers: vec![stderr_reader, stdout_reader],
        };

        let deadline = Instant::now() + STARTUP;
        let line = loop {
            match port_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    server.fail("the Flask-JWT application exited before listening")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    server.fail_if_exited();
                    if Instant::now() > deadline {
                        server.fail("the Flask-JWT application did not print its port in 15 s");
                    }
                }
            }
        };
        server.port = match line.trim().parse() {
            Ok(port) => port,
            Err(_) => server.fail(&format!("expected a port on stdout, got {line:?}")),
        };

        let versions = loop {
            match server.try_request("GET", "/versions", &[], b"") {
                Ok(response) if response.status == 200 => break response.json(),
                Ok(response) => server.fail(&format!(
                    "GET /versions answered {}: {}",
                    response.status,
                    response.text()
                )),
                Err(error) => {
                    server.fail_if_exited();
                    if Instant::now() > deadline {
                        server.fail(&format!(
                            "the Flask-JWT application did not answer on 127.0.0.1:{} in 15 s \
                             ({error})",
                            server.port
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        if versions["flask_jwt"] != "0.3.2" {
            server.fail(&format!("Flask-JWT 0.3.2 is required, found {versions}"));
        }
        Some(server)
    }

    /// Panics with `what`, the application's stderr and how to install the Python side.
    fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let status = self.child.wait().map(|s| s.to_string());
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let stderr = self
            .stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        panic!(
            "{what} ({}).\n--- stderr of {} tests/interop/flask_app.py ---\n{stderr}\n---\n\
             The interop tests need Python with Flask-JWT 0.3.2 and the versions pinned in \
             tests/interop/requirements.txt (FLASK_JWT_PYTHON, or the environment these tests \
             make under the target directory).",
            status.unwrap_or_else(|e| format!("wait failed: {e}")),
            self.python.display()
        )
    }

    fn fail_if_exited(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            self.fail("the Flask-JWT application exited");
        }
    }

    /// One HTTP/1.1 exchange (`Connection: close`).
    fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        parse_response(&raw)
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path} to the Flask-JWT application: {e}"))
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

fn parse_response(raw: &[u8]) -> std::io::Result<HttpResponse> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| invalid("non-UTF-8 headers"))?;
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body).ok_or_else(|| invalid("bad chunked body"))?;
    } else if let Some(length) = header("Content-Length").and_then(|v| v.parse::<usize>().ok()) {
        if body.len() < length {
            return Err(invalid("body shorter than Content-Length"));
        }
        body.truncate(length);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = data.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&data[..end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        data = &data[end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
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

#[test]
fn flask_jwt_token_is_accepted_by_rust() {
    let Some(flask) = FlaskJwt::start() else {
        return;
    };
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

#[test]
fn rust_token_is_accepted_by_flask_jwt() {
    let Some(flask) = FlaskJwt::start() else {
        return;
    };
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

#[test]
fn both_sides_answer_the_same_to_bad_requests() {
    let Some(flask) = FlaskJwt::start() else {
        return;
    };
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

#[test]
fn edge_cases_answer_the_same() {
    let Some(flask) = FlaskJwt::start() else {
        return;
    };
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
#[test]
fn documented_differences_from_flask_jwt() {
    let Some(flask) = FlaskJwt::start() else {
        return;
    };
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

#[test]
fn both_auth_resources_answer_the_same() {
    let Some(flask) = FlaskJwt::start() else {
        return;
    };
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
#[test]
fn both_auth_resources_need_a_json_content_type() {
    let Some(flask) = FlaskJwt::start() else {
        return;
    };
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

#[test]
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

#[test]
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

#[test]
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
