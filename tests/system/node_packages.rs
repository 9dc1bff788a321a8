//! The Node packages of an application under `tests/interop` (Auth0's quickstart, panva's
//! `oidc-provider`), installed by the test that runs it: `npm ci` under the target directory from
//! the committed `package.json` and `package-lock.json`, again only when either file or Node's
//! version changes. The application then runs with `NODE_PATH` set to the folder this gives.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

/// An application's Node packages.
pub struct NodePackages {
    /// The application's folder, relative to the workspace root (`tests/interop/auth0`).
    pub app_dir: &'static str,
    /// The name of its installation under `<target>/tmp/node` (`auth0`).
    pub name: &'static str,
    /// A package of its `dependencies`, whose folder in `node_modules` says the installation is
    /// there.
    pub package: &'static str,
}

/// The workspace root, where `tests/interop` is.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `program --version`, or `None` when it cannot be run.
fn version_of(program: &str) -> Option<String> {
    let output = Command::new(program).arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

impl NodePackages {
    /// The application's folder.
    pub fn source(&self) -> PathBuf {
        workspace_root().join(self.app_dir)
    }

    /// The `node_modules` folder with the application's packages installed, made first if
    /// needed (the harness runs the tests that call this only where `node` and `npm` are
    /// installed).
    pub fn node_modules(&self) -> PathBuf {
        let node = version_of("node").expect("node is installed (the harness checked)");
        self.install(&node)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`node_modules`](Self::node_modules), or why the packages could not be installed.
    pub fn try_node_modules(&self) -> Result<PathBuf, String> {
        let node = version_of("node").ok_or("node cannot be run")?;
        self.install(&node)
    }

    /// [`npm_ci`](Self::npm_ci), its error saying which application's packages.
    fn install(&self, node_version: &str) -> Result<PathBuf, String> {
        self.npm_ci(node_version).map_err(|error| {
            format!(
                "cannot install the Node packages of {}: {error}",
                self.app_dir
            )
        })
    }

    /// `npm ci` into `<target>/tmp/node/<name>` from copies of `package.json` and
    /// `package-lock.json`, unless its stamp (the lock file's SHA-256 and Node's version) says it
    /// is done. Under an exclusive lock on a file beside it, the stamp written last.
    fn npm_ci(&self, node_version: &str) -> Result<PathBuf, String> {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("node");
        fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let dir = root.join(self.name);
        let modules = dir.join("node_modules");
        let source = self.source();
        let read = |name: &str| {
            let path = source.join(name);
            fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let (manifest, lock_file) = (read("package.json")?, read("package-lock.json")?);
        let stamp = format!(
            "package-lock.json sha256 {:x}\npackage.json sha256 {:x}\nnode {node_version}\n",
            Sha256::digest(&lock_file),
            Sha256::digest(&manifest)
        );
        let stamp_path = root.join(format!("{}.stamp", self.name));
        let lock_path = root.join(format!("{}.lock", self.name));
        let lock = File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
        lock.lock()
            .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
        if fs::read_to_string(&stamp_path).is_ok_and(|done| done == stamp)
            && modules.join(self.package).is_dir()
        {
            return Ok(modules);
        }
        let _ = fs::remove_file(&stamp_path);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        fs::write(dir.join("package.json"), &manifest).map_err(|e| e.to_string())?;
        fs::write(dir.join("package-lock.json"), &lock_file).map_err(|e| e.to_string())?;
        eprintln!(
            "Installing the Node packages of {} into {} (npm ci)",
            self.app_dir,
            dir.display()
        );
        let mut npm = Command::new("npm");
        npm.args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&dir);
        let Output {
            status,
            stdout,
            stderr,
        } = npm
            .output()
            .map_err(|e| format!("cannot run {npm:?}: {e}"))?;
        if !status.success() {
            return Err(format!(
                "{npm:?} failed ({status}):\n{}{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            ));
        }
        fs::write(&stamp_path, stamp).map_err(|e| format!("{}: {e}", stamp_path.display()))?;
        Ok(modules)
    }
}
