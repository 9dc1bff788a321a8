//! A Node server under test (panva's `oidc-provider` in `tests/interop/oidc-provider/server.js`
//! and `tests/interop/dpop/as.js`): a script that, told to listen on port 0, prints the port it
//! got as its first line on stdout and stops when its stdin closes; run with the packages of its
//! application (`NODE_PATH`, see `node_packages.rs`) and stopped when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::pipes::{collect, first_line};

/// How long a server may take to print its port.
const STARTUP: Duration = Duration::from_secs(30);

/// `node <script> <args>` running on 127.0.0.1; stopped when dropped, which prints its stderr
/// (its log) unless [`NodeServer::stop`] has taken it.
pub(crate) struct NodeServer {
    child: Child,
    port: u16,
    /// The server's name in messages, e.g. `as.js`.
    name: String,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    stopped: bool,
}

impl NodeServer {
    /// Runs `node <script> <args>` (the arguments telling it to listen on port 0) with
    /// `NODE_PATH` set to `node_modules` and no `NODE_OPTIONS`, and reads the port it prints
    /// first; or why it did not start (with its stderr), `name` saying which server.
    pub(crate) fn start(
        script: &Path,
        args: &[&str],
        node_modules: &Path,
        name: &str,
    ) -> Result<NodeServer, String> {
        let mut child = Command::new("node")
            .arg(script)
            .args(args)
            .env("NODE_PATH", node_modules)
            .env_remove("NODE_OPTIONS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run node {}: {e}", script.display()))?;
        let (stderr, stderr_reader) = collect(child.stderr.take().expect("piped stderr"));
        let line = first_line(child.stdout.take().expect("piped stdout"), STARTUP);
        let mut server = NodeServer {
            child,
            port: 0,
            name: name.to_owned(),
            stderr,
            stderr_reader: Some(stderr_reader),
            stopped: false,
        };
        match line.trim().parse() {
            Ok(port) => {
                server.port = port;
                Ok(server)
            }
            Err(_) => Err(format!(
                "{name} did not print its port within {STARTUP:?} (stdout {line:?}); stderr:\n{}",
                server.stop()
            )),
        }
    }

    /// The port it listens on, on 127.0.0.1.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server; what it wrote on stderr.
    pub(crate) fn stop(&mut self) -> String {
        self.stopped = true;
        // Closing its stdin stops it; killing it (by its own pid) makes sure.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        let log = self.stop();
        if !log.trim().is_empty() {
            eprintln!("{}'s log:\n{}", self.name, log.trim_end());
        }
    }
}
