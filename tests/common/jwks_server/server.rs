//! The JWKS and OIDC discovery server on 127.0.0.1 shared by the workspace's tests: the root
//! package's integration tests include it through `tests/common/jwks_server.rs`, the runtime's
//! JWKS cache tests through `#[path]`. It needs only `tokio` and `serde_json`.
//!
//! The server runs in a background thread with its own tokio runtime, so tests can drive Rocket's
//! blocking local client, or their own runtime, while it answers. It serves
//! - `/jwks.json`: the current key set, or what [`Reply`] says instead, after an optional delay;
//! - `/moved`: the key set (the target of [`Reply::Redirect`]);
//! - `/.well-known/openid-configuration`: a discovery document naming this server's `/jwks.json`
//!   and `issuer` = [`JwksServer::authority`] (replaceable with [`JwksServer::set_discovery`]);
//!
//! and counts requests per path. Dropping it (or [`JwksServer::stop`]) stops it, closing the
//! connections left hanging.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The path the key set is served at.
pub const JWKS_PATH: &str = "/jwks.json";
/// The path [`Reply::Redirect`] points to; it serves the key set.
pub const MOVED_PATH: &str = "/moved";
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
    /// 200 with `{}`.
    EmptyObject,
    /// 200 with `{"keys":[]}`.
    EmptyKeys,
    /// 302 to `/moved`, which serves the key set.
    Redirect,
    /// 200 with 10 MB of body and no `Content-Length` (ends when the connection closes).
    Huge,
    /// 200 with 10 MB of body and its `Content-Length`.
    HugeDeclared,
    /// 200 with the key set, one byte every 20 ms.
    SlowDrip,
}

struct Shared {
    reply: Mutex<Reply>,
    keys: Mutex<String>,
    delay: Mutex<Duration>,
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
            delay: Mutex::new(Duration::ZERO),
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

    /// Waits `delay` before answering each request of the key set.
    pub fn set_delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
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

    /// Stops the server, as dropping it does.
    pub fn stop(self) {}
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

/// `{"keys": [...]}`.
pub fn key_set(keys: &[Value]) -> Value {
    json!({ "keys": keys })
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
    let _ = match path.as_str() {
        JWKS_PATH => {
            let reply = *shared.reply.lock().unwrap();
            serve_key_set(&mut stream, &shared, reply).await
        }
        MOVED_PATH => serve_key_set(&mut stream, &shared, Reply::Keys).await,
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
            write_response(&mut stream, "200 OK", JSON, document.as_bytes()).await
        }
        _ => write_response(&mut stream, "404 Not Found", "text/plain", b"not found").await,
    };
    let _ = stream.shutdown().await;
}

const JSON: &str = "application/json";

/// Answers a request for the key set as `reply` says, after the configured delay.
async fn serve_key_set(
    stream: &mut TcpStream,
    shared: &Shared,
    reply: Reply,
) -> std::io::Result<()> {
    let delay = *shared.delay.lock().unwrap();
    let keys = shared.keys.lock().unwrap().clone();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match reply {
        Reply::Keys => write_response(stream, "200 OK", JSON, keys.as_bytes()).await,
        Reply::Error500 => {
            write_response(
                stream,
                "500 Internal Server Error",
                "text/plain",
                b"internal error",
            )
            .await
        }
        Reply::Garbage => {
            write_response(stream, "200 OK", "text/html", b"<html>no keys here</html>").await
        }
        Reply::Hang => std::future::pending().await,
        Reply::EmptyObject => write_response(stream, "200 OK", JSON, b"{}").await,
        Reply::EmptyKeys => write_response(stream, "200 OK", JSON, br#"{"keys":[]}"#).await,
        Reply::Redirect => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {MOVED_PATH}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await
        }
        Reply::Huge => write_huge(stream, false).await,
        Reply::HugeDeclared => write_huge(stream, true).await,
        Reply::SlowDrip => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {JSON}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                keys.len()
            );
            stream.write_all(head.as_bytes()).await?;
            for byte in keys.as_bytes() {
                tokio::time::sleep(Duration::from_millis(20)).await;
                stream.write_all(&[*byte]).await?;
            }
            Ok(())
        }
    }
}

async fn write_response(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await
}

/// 10 MB: `{"keys":[` and spaces, stopping when the client hangs up.
async fn write_huge(stream: &mut TcpStream, declared: bool) -> std::io::Result<()> {
    const SIZE: usize = 10 * 1024 * 1024;
    let length = if declared {
        format!("Content-Length: {SIZE}\r\n")
    } else {
        String::new()
    };
    let head =
        format!("HTTP/1.1 200 OK\r\nContent-Type: {JSON}\r\n{length}Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(br#"{"keys":["#).await?;
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 9;
    while sent < SIZE {
        let n = chunk.len().min(SIZE - sent);
        stream.write_all(&chunk[..n]).await?;
        sent += n;
    }
    Ok(())
}
