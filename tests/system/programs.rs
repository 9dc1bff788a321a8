//! The programs of the system that this binary's tests run, and whether each can be run here:
//! looked up once, when the harness starts; a test whose program is missing does not run (see
//! `main.rs`), and the reason given here is what the harness reports.
//!
//! - `redis-server`, or the program `REDIS_SERVER` names (see `tests/common/redis_server.rs`):
//!   found when `<program> --version` succeeds.
//! - `python3`, for a Python environment ([`PythonEnv`]): found when `python3 --version`
//!   succeeds, or when the environment's override variable names an interpreter.
//! - `chromium` and `chromedriver`: found as executable files in a directory of `PATH`.
//! - `node` and `npm` (Auth0's validator): found when `<program> --version` succeeds.
//! - `nginx` (the proxy in front of a fleet): found as an executable file in a directory of `PATH`,
//!   or in `/usr/sbin`, where Debian installs it and which is not on every user's `PATH`.
//! - `faketime` (libfaketime: a program run with its clock shifted): found as an executable file
//!   in a directory of `PATH`.
//! - `prometheus` (a real Prometheus server scraping the metrics) and `promtool` (its linter of
//!   the exposition), both of the Debian package `prometheus`: each found as an executable file
//!   in a directory of `PATH`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::redis_server;
use crate::python_env::{self, PythonEnv};

/// A program a test needs.
pub enum Program {
    /// `redis-server` (or `REDIS_SERVER`).
    RedisServer,
    /// `python3`, to make this Python environment.
    Python(&'static PythonEnv),
    /// `chromium` and `chromedriver`.
    Chromium,
    /// `node` and `npm`.
    Node,
    /// `nginx`.
    Nginx,
    /// `faketime`.
    Faketime,
    /// `prometheus`.
    Prometheus,
    /// `promtool`.
    Promtool,
}

/// What was found when the harness started.
pub struct Programs {
    /// The Redis server program, when it cannot be run.
    redis_server_missing: Option<String>,
    python3: bool,
    /// `chromium` and `chromedriver`, those not on `PATH`.
    browser_missing: Vec<&'static str>,
    /// `node` and `npm`, those that cannot be run.
    node_missing: Vec<&'static str>,
    nginx: bool,
    faketime: bool,
    prometheus: bool,
    promtool: bool,
}

impl Programs {
    /// Looks every program up.
    pub fn look_up() -> Programs {
        let redis = redis_server::program();
        Programs {
            redis_server_missing: (!redis_server::installed(&redis))
                .then(|| redis.to_string_lossy().into_owned()),
            python3: python_env::python3_version().is_some(),
            browser_missing: ["chromium", "chromedriver"]
                .into_iter()
                .filter(|name| on_path(name).is_none())
                .collect(),
            node_missing: ["node", "npm"]
                .into_iter()
                .filter(|name| !runs(name))
                .collect(),
            nginx: nginx().is_some(),
            faketime: on_path("faketime").is_some(),
            prometheus: on_path("prometheus").is_some(),
            promtool: on_path("promtool").is_some(),
        }
    }

    /// Why `program` cannot be run here, or `None` when it can.
    pub fn missing(&self, program: &Program) -> Option<String> {
        match program {
            Program::RedisServer => self.redis_server_missing.as_ref().map(|redis| {
                format!(
                    "{redis} cannot be run: install the Debian package redis-server, or set \
                     REDIS_SERVER"
                )
            }),
            Program::Python(env) => {
                (!self.python3 && env.override_interpreter().is_none()).then(|| {
                    format!(
                        "python3 is not installed: install python3, or set {} to a Python that \
                         has {} installed",
                        env.override_var, env.requirements
                    )
                })
            }
            Program::Node => (!self.node_missing.is_empty()).then(|| {
                format!(
                    "{} cannot be run: install Node.js 18 or newer with npm (the Debian packages \
                     nodejs and npm)",
                    self.node_missing.join(" and ")
                )
            }),
            Program::Chromium => (!self.browser_missing.is_empty()).then(|| {
                format!(
                    "{} not found on PATH: install the Debian packages chromium and \
                     chromium-driver",
                    self.browser_missing.join(" and ")
                )
            }),
            Program::Nginx => (!self.nginx).then(|| {
                "nginx not found on PATH nor in /usr/sbin: install the Debian package nginx"
                    .to_owned()
            }),
            Program::Faketime => (!self.faketime).then(|| {
                "faketime not found on PATH: install the Debian package faketime".to_owned()
            }),
            Program::Prometheus => (!self.prometheus).then(|| {
                "prometheus not found on PATH: install the Debian package prometheus".to_owned()
            }),
            Program::Promtool => (!self.promtool).then(|| {
                "promtool not found on PATH: install the Debian package prometheus".to_owned()
            }),
        }
    }
}

/// Whether `program --version` succeeds.
fn runs(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// The `nginx` program: on `PATH`, else Debian's `/usr/sbin/nginx`.
pub fn nginx() -> Option<PathBuf> {
    on_path("nginx").or_else(|| {
        let debian = Path::new("/usr/sbin/nginx");
        is_executable(debian).then(|| debian.to_owned())
    })
}

/// The executable file `name` in a directory of `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|file| is_executable(file))
}

/// Whether `file` is a file that someone may execute.
fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(file).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
