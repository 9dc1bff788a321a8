//! A Python reference application (Flask-JWT 0.3.2 or Flask-JWT-Extended 4.7.1) as a child
//! process on 127.0.0.1, for the tests that compare the library's answers with the real Python
//! library's.
//!
//! The script takes the port as its only argument (0: the server picks one) and prints the port
//! it listens on as the first line of stdout. Dropping a [`ReferenceApp`] kills the process, also
//! when a test panics.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http_client::{self, HttpResponse};
use crate::python_env::{workspace_root, PythonEnv};

/// How long an application may take to answer its first request.
const STARTUP: Duration = Duration::from_secs(15);

/// What to run, and how to tell that it is ready.
pub struct AppSpec {
    /// The Python environment the script needs.
    pub env: PythonEnv,
    /// The script, relative to the workspace root.
    pub script: &'static str,
    /// What the script is, for the failure messages (e.g. "the Flask-JWT application").
    pub name: &'static str,
    /// A `GET` path that answers 200 once the application serves requests.
    pub ready_path: &'static str,
}

/// A running reference application.
pub struct ReferenceApp {
    spec: &'static AppSpec,
    child: Child,
    python: PathBuf,
    port: u16,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Drop for ReferenceApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl ReferenceApp {
    /// Starts `spec.script` on a free port and waits until `spec.ready_path` answers 200. The
    /// test needs `python3` ([`Program::Python`](crate::programs::Program::Python) with
    /// `spec.env`; see [`PythonEnv::interpreter`]).
    pub fn start(spec: &'static AppSpec) -> ReferenceApp {
        ReferenceApp::start_with(spec, &[])
    }

    /// [`start`](Self::start) with these environment variables set for the script.
    pub fn start_with(spec: &'static AppSpec, env: &[(&str, &str)]) -> ReferenceApp {
        let python = spec.env.interpreter();
        let root = workspace_root();
        let mut child = Command::new(&python)
            .arg(root.join(spec.script))
            .arg("0")
            .current_dir(root)
            .envs(env.iter().copied())
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run the Python interpreter {} ({e}) for {}. Unset {} to let the tests \
                     make their own environment, or set it to a Python that has {} installed.",
                    python.display(),
                    spec.name,
                    spec.env.override_var,
                    spec.env.requirements
                )
            });

        // stderr is kept for the failure messages; stdout's first line is the port.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().expect("stderr was piped above");
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
        let child_stdout = child.stdout.take().expect("stdout was piped above");
        let stdout_reader = std::thread::spawn(move || {
            let mut stdout = BufReader::new(child_stdout);
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap_or(0) > 0 {
                let _ = port_tx.send(line);
            }
            drop(port_tx);
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        let mut app = ReferenceApp {
            spec,
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
                    app.fail("the application exited before listening")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    app.fail_if_exited();
                    if Instant::now() > deadline {
                        app.fail("the application did not print its port in 15 s");
                    }
                }
            }
        };
        app.port = match line.trim().parse() {
            Ok(port) => port,
            Err(_) => app.fail(&format!("expected a port on stdout, got {line:?}")),
        };

        loop {
            match app.try_request("GET", spec.ready_path, &[], b"") {
                Ok(response) if response.status == 200 => break,
                Ok(response) => app.fail(&format!(
                    "GET {} answered {}: {}",
                    spec.ready_path,
                    response.status,
                    String::from_utf8_lossy(&response.body)
                )),
                Err(error) => {
                    app.fail_if_exited();
                    if Instant::now() > deadline {
                        app.fail(&format!(
                            "the application did not answer on 127.0.0.1:{} in 15 s ({error})",
                            app.port
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        app
    }

    /// The port the application listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the application and panics with `what`, its stderr and how to install the Python
    /// side.
    pub fn fail(&mut self, what: &str) -> ! {
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
            "{}: {what} ({}).\n--- stderr of {} {} ---\n{stderr}\n---\n\
             These tests need Python with the versions pinned in {} ({}, or the environment \
             these tests make under the target directory).",
            self.spec.name,
            status.unwrap_or_else(|e| format!("wait failed: {e}")),
            self.python.display(),
            self.spec.script,
            self.spec.env.requirements,
            self.spec.env.override_var,
        )
    }

    fn fail_if_exited(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            self.fail("the application exited");
        }
    }

    /// One HTTP/1.1 exchange (see [`http_client::request`]).
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        http_client::request(self.port, method, path, headers, body)
    }

    /// One HTTP/1.1 exchange; panics when it fails.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path} to {}: {e}", self.spec.name))
    }
}
