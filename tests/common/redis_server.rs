//! A real `redis-server` on a free port of 127.0.0.1, for the revocation tests: started by
//! [`RedisServer::start`], stopped when dropped. Nothing is persisted (a restart loses the
//! data, like a Redis restarted without persistence).
//!
//! Whether the server program can be run is the test harness's question, asked once before the
//! tests run ([`installed`]; see `tests/system/programs.rs`): a test that needs it runs only where
//! it can, and is reported as ignored, or fails under `CI`, elsewhere (`.ci/run` installs it).
//!
//! `REDIS_SERVER` names another server program to run in its place, such as Valkey's:
//! `REDIS_SERVER=/path/to/valkey-server cargo test --test system revocation`. It must take
//! `redis-server`'s options (Valkey's does); TLS tests need one built with TLS.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::test_ca::TestCa;

/// How long a started server may take to answer `PING`.
const STARTUP: Duration = Duration::from_secs(10);

/// A running `redis-server`.
pub struct RedisServer {
    /// The plain port: the harness's own commands, and the clients of a server without TLS.
    port: u16,
    /// The TLS port and files of a server started by [`RedisServer::start_tls`].
    tls: Option<Tls>,
    /// More options, for a cluster node.
    options: Vec<OsString>,
    /// The server program ([`program`], or one given to [`RedisServer::start_program`]).
    program: OsString,
    child: Option<Child>,
}

/// What a TLS server listens on and reads.
struct Tls {
    port: u16,
    certificate: PathBuf,
    key: PathBuf,
    ca: PathBuf,
    client_auth: bool,
}

impl RedisServer {
    /// Starts a server on a free port. Panics when it cannot be started (the program not
    /// installed included).
    pub fn start() -> RedisServer {
        RedisServer::started(program(), None, Vec::new())
    }

    /// Starts `program` (another server that speaks Redis's protocol, such as
    /// `valkey-server`) on a free port; it must be installed.
    pub fn start_program(program: OsString) -> RedisServer {
        RedisServer::started(program, None, Vec::new())
    }

    /// [`start`](Self::start) with TLS on a second port as well, with `ca`'s server
    /// certificate; `client_auth` makes it ask clients for a certificate signed by `ca`
    /// (mutual TLS). The plain port stays, for the harness's own commands.
    pub fn start_tls(ca: &TestCa, client_auth: bool) -> RedisServer {
        let tls = Tls {
            port: free_port(),
            certificate: ca.server_certificate_file(),
            key: ca.server_key_file(),
            ca: ca.certificate_file(),
            client_auth,
        };
        RedisServer::started(program(), Some(tls), Vec::new())
    }

    /// [`start`](Self::start) with more `options` (a cluster node's).
    pub fn start_with(options: Vec<OsString>) -> RedisServer {
        RedisServer::started(program(), None, options)
    }

    fn started(program: OsString, tls: Option<Tls>, options: Vec<OsString>) -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            tls,
            options,
            program,
            child: None,
        };
        // A port found free may be taken by another test before the server binds it: the
        // server then exits, and starts again on other ports.
        for _ in 0..4 {
            if server.try_launch() {
                return server;
            }
            server.port = free_port();
            if let Some(tls) = &mut server.tls {
                tls.port = free_port();
            }
        }
        server.launch();
        server
    }

    /// `rediss://127.0.0.1:<TLS port>/`, for a server started with TLS.
    pub fn tls_url(&self) -> String {
        let tls = self.tls.as_ref().expect("a server started by start_tls");
        format!("rediss://127.0.0.1:{}/", tls.port)
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL: no goodbye to clients) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// One command in Redis's inline form (`SET k v`); the raw reply.
    pub fn command(&self, line: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to Redis");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a read timeout");
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("send to Redis");
        let mut reply = [0u8; 4096];
        let read = stream.read(&mut reply).expect("a reply from Redis");
        String::from_utf8_lossy(&reply[..read]).into_owned()
    }

    /// How many times Redis ran `command` (lowercase, from its `INFO commandstats`).
    pub fn calls(&self, command: &str) -> u64 {
        let stats = self.command("INFO commandstats");
        let prefix = format!("cmdstat_{command}:calls=");
        stats
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |calls| calls.parse().expect("a count"))
    }

    /// Starts the server on its ports; panics when it does not answer.
    fn launch(&mut self) {
        if !self.try_launch() {
            panic!(
                "{} on port {} exited before answering",
                self.program.to_string_lossy(),
                self.port
            );
        }
    }

    /// Starts the server on its ports: `true` once it answers, `false` when it exited first (a
    /// port already taken); panics when it neither answers nor exits in time.
    fn try_launch(&mut self) -> bool {
        let mut command = Command::new(&self.program);
        if let Some(tls) = &self.tls {
            command
                .args(["--tls-port", &tls.port.to_string()])
                .arg("--tls-cert-file")
                .arg(&tls.certificate)
                .arg("--tls-key-file")
                .arg(&tls.key)
                .arg("--tls-ca-cert-file")
                .arg(&tls.ca)
                .args([
                    "--tls-auth-clients",
                    if tls.client_auth { "yes" } else { "no" },
                ]);
        }
        let child = command
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            // `DEBUG SLEEP` makes a slow Redis for the fault tests (Redis 7 and Valkey).
            .args(["--enable-debug-command", "yes"])
            .args(&self.options)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.program.to_string_lossy()));
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < STARTUP {
            if self.ping() {
                return true;
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(_)) = child.try_wait()
            {
                self.child = None;
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server on port {} did not answer within {STARTUP:?}",
            self.port
        );
    }

    fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The server program: `REDIS_SERVER` when set (`valkey-server`, another build of Redis), else
/// `redis-server`.
pub fn program() -> OsString {
    std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into())
}

/// Whether the server program can be run (`<program> --version` succeeds).
pub fn installed(program: &OsString) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}
