//! A real `redis-server` on a free port of 127.0.0.1, for the revocation tests: started by
//! [`RedisServer::start`], stopped when dropped. Nothing is persisted (a restart loses the
//! data, like a Redis restarted without persistence).
//!
//! Where `redis-server` is not installed the tests that need it are skipped, saying why, unless
//! the `CI` environment variable is set: then they fail (`.ci/run` installs it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a started server may take to answer `PING`.
const STARTUP: Duration = Duration::from_secs(10);

/// A running `redis-server`.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port; `None` (after printing why) when `redis-server` is not
    /// installed and `CI` is not set. Panics when it cannot be started otherwise.
    pub fn start() -> Option<RedisServer> {
        if !installed() {
            let reason = "redis-server is not installed (apt-get install redis-server)";
            if std::env::var_os("CI").is_some() {
                panic!("{reason}; CI is set, so this is a failure");
            }
            eprintln!("SKIPPED: {reason}");
            return None;
        }
        let port = free_port();
        let mut server = RedisServer { port, child: None };
        server.launch();
        Some(server)
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

    fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            // `DEBUG SLEEP` makes a slow Redis for the fault tests (Redis 7 and Valkey).
            .args(["--enable-debug-command", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < STARTUP {
            if self.ping() {
                return;
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

/// Whether `redis-server` can be run.
fn installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}
