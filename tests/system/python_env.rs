//! Python environments for the tests that run a Python reference application: a virtual
//! environment under the target directory per requirements file, made on first use with
//! `python3 -m venv` and `pip install -r`, and made again when the requirements file or the
//! interpreter changes.
//!
//! One environment with pip in it (`pip`) installs into all the others (`pip --python`), which are
//! made without their own pip: each copy of pip that `venv` installs costs more CPU than the
//! reference application's own packages. pip's download cache is kept beside them, under the
//! target directory.
//!
//! Several test threads and test processes may ask at once: the work is done under an exclusive
//! lock on a file beside the environment, and the environment counts as ready only once its stamp
//! (the requirements' SHA-256 and the interpreter's version) is written, last.
//!
//! Whether `python3` is installed is the harness's question, asked once before the tests run (see
//! `programs.rs`): a test that needs an environment runs only where it is, or where the
//! environment's override variable names an interpreter.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

/// A Python environment for one reference application.
pub struct PythonEnv {
    /// The directory name of the environment under the target directory.
    pub name: &'static str,
    /// The requirements file, relative to the workspace root.
    pub requirements: &'static str,
    /// The environment variable that names an interpreter to use instead (it must have the
    /// requirements installed).
    pub override_var: &'static str,
}

impl PythonEnv {
    /// The Python interpreter of this environment: the one the override variable names, else
    /// the environment's own, made ready first if needed.
    ///
    /// Panics when the environment cannot be made, `python3` absent included (the harness runs
    /// the tests that need an environment only where `python3` is found): the tests that need it
    /// cannot run, and must not pass.
    pub fn interpreter(&self) -> PathBuf {
        if let Some(path) = self.override_interpreter() {
            return path;
        }
        let Some(version) = python3_version() else {
            panic!(
                "python3 cannot be run: the Python environment {} cannot be made",
                self.name
            );
        };
        match self.prepare(&version) {
            Ok(python) => python,
            Err(error) => panic!(
                "cannot prepare the Python environment {} from {}: {error}",
                self.name, self.requirements
            ),
        }
    }

    /// The interpreter the override variable names, when it is set (and not empty).
    pub fn override_interpreter(&self) -> Option<PathBuf> {
        std::env::var_os(self.override_var)
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
    }

    /// Makes the environment if its stamp is missing or differs.
    fn prepare(&self, python_version: &str) -> Result<PathBuf, String> {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python");
        let requirements_path = workspace_root().join(self.requirements);
        let requirements = fs::read(&requirements_path)
            .map_err(|e| format!("{}: {e}", requirements_path.display()))?;
        let stamp = format!(
            "requirements sha256 {:x}\n{python_version}\n",
            Sha256::digest(&requirements)
        );
        ready(&root, self.name, &stamp, |dir| {
            eprintln!(
                "Preparing the Python environment {} (python3 -m venv, pip install -r {})",
                dir.display(),
                self.requirements
            );
            let installer = installer(&root, python_version)?;
            let pip_install = |python: &Path, target: Option<&Path>| {
                let mut pip = Command::new(python);
                pip.args(["-m", "pip"]);
                if let Some(target) = target {
                    pip.arg("--python").arg(target);
                }
                run(pip
                    .args(["install", "--quiet", "--disable-pip-version-check"])
                    .arg("--cache-dir")
                    .arg(root.join("pip-cache"))
                    .arg("-r")
                    .arg(&requirements_path))
            };
            let python = dir.join("bin").join("python");
            let shared = run(Command::new("python3")
                .args(["-m", "venv", "--without-pip"])
                .arg(dir))
            .and_then(|()| pip_install(&installer, Some(&python)));
            if let Err(error) = shared {
                // A pip that cannot run under another interpreter (an unbundled one, whose
                // vendored libraries are packages of its own environment): the environment gets
                // a pip of its own, made the usual way.
                eprintln!("{error}\n{} gets a pip of its own", dir.display());
                run(Command::new("python3")
                    .args(["-m", "venv", "--clear"])
                    .arg(dir))?;
                pip_install(&python, None)?;
            }
            Ok(())
        })
    }
}

/// The interpreter of the environment with pip that installs into all the others, made once.
///
/// Not `python3`'s own pip, which Debian packages apart from Python and unbundles (its vendored
/// libraries are system packages, which the environments do not see).
fn installer(root: &Path, python_version: &str) -> Result<PathBuf, String> {
    ready(root, "pip", &format!("{python_version}\n"), |dir| {
        run(Command::new("python3").arg("-m").arg("venv").arg(dir))
    })
}

/// The interpreter of the environment `name` under `root`, made with `make` first unless its
/// stamp says it is ready.
///
/// The work is done under an exclusive lock on a file beside the environment, and the stamp is
/// written last, once `make` has succeeded.
fn ready(
    root: &Path,
    name: &str,
    stamp: &str,
    make: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let dir = root.join(name);
    let python = dir.join("bin").join("python");
    let stamp_path = root.join(format!("{name}.stamp"));
    let lock_path = root.join(format!("{name}.lock"));
    let lock = File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if fs::read_to_string(&stamp_path).is_ok_and(|ready| ready == stamp) && python.exists() {
        return Ok(python);
    }
    let _ = fs::remove_file(&stamp_path);
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    make(&dir)?;
    fs::write(&stamp_path, stamp).map_err(|e| format!("{}: {e}", stamp_path.display()))?;
    Ok(python)
}

/// The workspace root (the root package's directory).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `python3 --version`, or `None` when it cannot be run.
pub fn python3_version() -> Option<String> {
    let output = Command::new("python3").arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs `command`; an error holds its output when it fails.
fn run(command: &mut Command) -> Result<(), String> {
    let Output {
        status,
        stdout,
        stderr,
    } = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?} failed ({status}):\n{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    ))
}
