//! A JWKS and OIDC discovery server on 127.0.0.1 for the root package's integration tests, and the
//! test keys: tokens signed with their private PEMs, their public halves as JWKs.
//!
//! The server runs in a background thread with its own tokio runtime, so tests can drive Rocket's
//! blocking local client while it answers. It serves
//! - `/jwks.json`: the current key set, or a 500, an HTML page, or no answer at all ([`Reply`]);
//! - `/.well-known/openid-configuration`: a discovery document naming this server's `/jwks.json`
//!   and `issuer` = [`JwksServer::authority`] (replaceable with [`JwksServer::set_discovery`]);
//!
//! and counts requests per path. Dropping it stops it, closing connections left hanging.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rocket_flask_jwt::{Algorithm, KeyMaterial, Payload, Settings, TokenCodec};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The path the key set is served at.
pub const JWKS_PATH: &str = "/jwks.json";
/// The path of the OIDC discovery document.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// What `/jwks.json` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// 200 with the current key set.
    Keys,
    /// 500 Internal Server Error.
    Error500,
    /// 200 with an HTML page, not a key set.
    Garbage,
    /// Reads the request and never answers (until the server is dropped).
    Hang,
}

struct Shared {
    reply: Mutex<Reply>,
    keys: Mutex<String>,
    discovery: Mutex<Option<String>>,
    /// The path of every request received, in order.
    requests: Mutex<Vec<String>>,
}

/// The running server; stops when dropped.
pub struct JwksServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl JwksServer {
    /// Starts serving `keys` (JWKs) as the key set, on a free port of 127.0.0.1.
    pub fn start(keys: &[Value]) -> JwksServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            reply: Mutex::new(Reply::Keys),
            keys: Mutex::new(key_set(keys).to_string()),
            discovery: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
        });
        let (shutdown, mut stop) = oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("jwks-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the test server's runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    loop {
                        tokio::select! {
                            _ = &mut stop => break,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    tokio::spawn(serve(stream, Arc::clone(&state)));
                                }
                            }
                        }
                    }
                });
                // Dropping the runtime cancels the connections still open (`Reply::Hang`).
                drop(runtime);
            })
            .expect("spawn the test server's thread");
        JwksServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>/`: the authority (and default issuer) of OIDC discovery.
    pub fn authority(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// `http://127.0.0.1:<port>/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.base_url())
    }

    /// Replaces the key set.
    pub fn set_keys(&self, keys: &[Value]) {
        *self.shared.keys.lock().unwrap() = key_set(keys).to_string();
    }

    /// Switches what `/jwks.json` answers.
    pub fn set_reply(&self, reply: Reply) {
        *self.shared.reply.lock().unwrap() = reply;
    }

    /// Replaces the discovery document.
    pub fn set_discovery(&self, document: Value) {
        *self.shared.discovery.lock().unwrap() = Some(document.to_string());
    }

    /// The number of requests for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        let requests = self.shared.requests.lock().unwrap();
        requests.iter().filter(|p| *p == path).count()
    }

    /// The number of requests for the key set so far.
    pub fn jwks_hits(&self) -> usize {
        self.hits(JWKS_PATH)
    }

    /// The number of requests for the discovery document so far.
    pub fn discovery_hits(&self) -> usize {
        self.hits(DISCOVERY_PATH)
    }

    /// The number of requests for any path so far.
    pub fn total_hits(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request on `stream`, then closes it.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 2048];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await;
        match read {
            Ok(Ok(n)) if n > 0 => request.extend_from_slice(&buffer[..n]),
            _ => return,
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&request);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    shared.requests.lock().unwrap().push(path.clone());
    let (status, content_type, body) = match path.as_str() {
        JWKS_PATH => {
            let reply = *shared.reply.lock().unwrap();
            match reply {
                Reply::Keys => (
                    "200 OK",
                    "application/json",
                    shared.keys.lock().unwrap().clone(),
                ),
                Reply::Error500 => (
                    "500 Internal Server Error",
                    "text/plain",
                    "internal error".into(),
                ),
                Reply::Garbage => ("200 OK", "text/html", "<html>no keys here</html>".into()),
                Reply::Hang => {
                    std::future::pending::<()>().await;
                    return;
                }
            }
        }
        DISCOVERY_PATH => {
            let document = shared.discovery.lock().unwrap().clone();
            let local = stream.local_addr().expect("local address");
            let document = document.unwrap_or_else(|| {
                json!({
                    "issuer": format!("http://{local}/"),
                    "jwks_uri": format!("http://{local}{JWKS_PATH}"),
                })
                .to_string()
            });
            ("200 OK", "application/json", document)
        }
        _ => ("404 Not Found", "text/plain", "not found".into()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Test keys.

/// A file under the workspace's `testdata/` (found from any member of the workspace).
pub fn testdata(path: &str) -> PathBuf {
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .map(|dir| dir.join("testdata"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| panic!("no testdata/ above {}", manifest_dir.display()))
        .join(path)
}

fn read(path: &str) -> String {
    let path = testdata(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The key pairs of `testdata/keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    /// RSA 2048, `rsa_*.pem`; JWK kid `rsa-1`.
    Rsa,
    /// Another RSA 2048, `rsa2_*.pem`; JWK kid `rsa-2`.
    Rsa2,
    /// EC P-256, `ec_*.pem`; JWK kid `ec-1`.
    Ec,
    /// EC P-384, `ec384_*.pem`; JWK kid `ec384-1`.
    Ec384,
    /// Ed25519, `ed_*.pem`; JWK kid `ed-1`.
    Ed,
}

impl TestKey {
    fn stem(self) -> &'static str {
        match self {
            TestKey::Rsa => "rsa",
            TestKey::Rsa2 => "rsa2",
            TestKey::Ec => "ec",
            TestKey::Ec384 => "ec384",
            TestKey::Ed => "ed",
        }
    }

    /// The private key PEM.
    pub fn private_pem(self) -> String {
        read(&format!("keys/{}_private.pem", self.stem()))
    }

    /// The public key PEM.
    pub fn public_pem(self) -> String {
        read(&format!("keys/{}_public.pem", self.stem()))
    }

    /// The public key as a JWK, with `kid`, `use` and `alg` as its file has them.
    pub fn jwk(self) -> Value {
        let text = match self {
            TestKey::Rsa => read("keys/rsa_public.jwk.json"),
            other => read(&format!("jwks/{}_public.jwk.json", other.stem())),
        };
        serde_json::from_str(&text).expect("a JWK file is JSON")
    }

    /// The `kid` of [`jwk`](Self::jwk).
    pub fn kid(self) -> &'static str {
        match self {
            TestKey::Rsa => "rsa-1",
            TestKey::Rsa2 => "rsa-2",
            TestKey::Ec => "ec-1",
            TestKey::Ec384 => "ec384-1",
            TestKey::Ed => "ed-1",
        }
    }
}

/// `key`'s JWK with `members` set over it; a `null` member removes it (`{"alg": null}`).
pub fn jwk(key: TestKey, members: Value) -> Value {
    let mut jwk = key.jwk();
    let object = jwk.as_object_mut().expect("a JWK is an object");
    for (name, value) in members.as_object().expect("members are an object") {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    jwk
}

/// `{"keys": [...]}`.
pub fn key_set(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

/// A token for `claims` signed by `key`'s private PEM with `algorithm` (through the runtime's
/// [`TokenCodec`]), with `kid` in its header when given.
pub fn sign(key: TestKey, algorithm: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let codec = TokenCodec::new(Settings {
        algorithm,
        private_key: Some(KeyMaterial::Pem(key.private_pem())),
        public_key: Some(KeyMaterial::Pem(key.public_pem())),
        ..Settings::default()
    })
    .unwrap_or_else(|e| panic!("{key:?} {algorithm:?}: {e}"));
    let mut header = Payload::new();
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    let claims = claims.as_object().expect("claims are an object");
    codec
        .encode(claims, &header)
        .unwrap_or_else(|e| panic!("signing with {key:?}: {e}"))
}
