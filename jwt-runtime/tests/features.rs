//! The cargo feature combinations that CI must cover besides the default one (`cargo test
//! --workspace` builds everything with the default features): each is built by a cargo of its
//! own (the `CARGO` that runs this test) in a target directory of its own, `<target>/tests/features`
//! (beside trybuild's `<target>/tests/trybuild`), so it never waits for the outer cargo's lock.
//! The combinations run one at a time, sharing that directory's artifacts: the first run builds
//! their dependencies (a few minutes on 2 cores), later runs only what changed.
//!
//! - the facade with `default-features = false` and one backend (the README's minimal
//!   application): it compiles, and neither redis nor reqwest is in its tree; with `rust-crypto`,
//!   no aws-lc either;
//! - the runtime with `rust-crypto` and both optional features: ring is rustls's provider, no
//!   aws-lc;
//! - no backend at all: the `compile_error!` that says which features to choose;
//! - the runtime's unit tests under `rust-crypto` alone, which include the messages of the
//!   settings that need a missing feature;
//! - the OTLP exporter (`otlp`) under `rust-crypto`: its HTTP client builds with TLS on ring
//!   (reqwest's `rustls-no-provider` panics without it), and neither aws-lc nor tonic (gRPC) is
//!   in its tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Instant;

/// One nested cargo at a time: they share the target directory.
static CARGO: Mutex<()> = Mutex::new(());

/// The workspace's root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("jwt-runtime lies in the workspace")
        .to_path_buf()
}

/// `<target>/tests/features`: `CARGO_TARGET_TMPDIR` is `<target>/tmp`.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("tests")
        .join("features")
}

/// Runs `cargo <args>` in the workspace (builds on the shared target directory), with the lock
/// file as it is (`--locked`). Fails the test, showing cargo's output, unless the exit status is
/// `success`.
fn cargo(args: &[&str], success: bool) -> Output {
    let _one_at_a_time = CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let program = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let started = Instant::now();
    let output = Command::new(program)
        .args(args)
        .arg("--locked")
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo runs");
    eprintln!(
        "cargo {} (exit {:?}): {:.1} s",
        args.join(" "),
        output.status.code(),
        started.elapsed().as_secs_f64()
    );
    if output.status.success() != success {
        panic!(
            "cargo {} {}:\n{}\n{}",
            args.join(" "),
            if success { "failed" } else { "succeeded" },
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // A combination that builds builds without warnings from the workspace's crates (cargo
    // caps the lints of registry dependencies): code a feature leaves unused is gated with it.
    let stderr = String::from_utf8_lossy(&output.stderr);
    if success
        && stderr
            .lines()
            .any(|line| line.contains("generated") && line.contains(" warning"))
    {
        panic!("cargo {} warned:\n{stderr}", args.join(" "));
    }
    output
}

/// The packages (names) in the normal and build dependency tree of `package` with `features`
/// (and no default feature).
fn tree(package: &str, features: &str) -> Vec<String> {
    let output = cargo(
        &[
            "tree",
            "-p",
            package,
            "--no-default-features",
            "--features",
            features,
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ],
        true,
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Fails when `packages` holds any of `absent`.
fn assert_absent(packages: &[String], absent: &[&str], combination: &str) {
    let found: Vec<&String> = packages
        .iter()
        .filter(|name| absent.contains(&name.as_str()))
        .collect();
    assert!(
        found.is_empty(),
        "{combination} pulls in {found:?}, which it should leave out"
    );
}

#[test]
fn the_minimal_application_with_aws_lc_rs_builds_neither_redis_nor_reqwest() {
    let features = "aws-lc-rs";
    cargo(
        &[
            "check",
            "-p",
            "rocket-flask-jwt",
            "--lib",
            "--no-default-features",
            "--features",
            features,
        ],
        true,
    );
    let packages = tree("rocket-flask-jwt", features);
    assert!(packages.iter().any(|name| name == "aws-lc-rs"));
    assert_absent(
        &packages,
        &["redis", "reqwest", "rustls"],
        "rocket-flask-jwt with aws-lc-rs alone",
    );
}

#[test]
fn the_minimal_application_with_rust_crypto_links_no_aws_lc() {
    let features = "rust-crypto";
    cargo(
        &[
            "check",
            "-p",
            "rocket-flask-jwt",
            "--lib",
            "--no-default-features",
            "--features",
            features,
        ],
        true,
    );
    assert_absent(
        &tree("rocket-flask-jwt", features),
        &[
            "aws-lc-rs",
            "aws-lc-sys",
            "redis",
            "reqwest",
            "rustls",
            "ring",
        ],
        "rocket-flask-jwt with rust-crypto alone",
    );
}

#[test]
fn rust_crypto_with_redis_and_remote_keys_runs_tls_on_ring() {
    let features = "rust-crypto,redis,remote-keys";
    cargo(
        &[
            "check",
            "-p",
            "rocket-flask-jwt-runtime",
            "--lib",
            "--no-default-features",
            "--features",
            features,
        ],
        true,
    );
    let packages = tree("rocket-flask-jwt-runtime", features);
    assert!(packages.iter().any(|name| name == "ring"));
    assert_absent(
        &packages,
        &["aws-lc-rs", "aws-lc-sys"],
        "jwt-runtime with rust-crypto, redis and remote-keys",
    );
}

#[test]
fn no_crypto_backend_is_a_compile_error_naming_the_features() {
    let output = cargo(
        &[
            "check",
            "-p",
            "rocket-flask-jwt-runtime",
            "--lib",
            "--no-default-features",
        ],
        false,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "no crypto backend is enabled; with `default-features = false`, enable exactly one \
             of the features `aws-lc-rs` and `rust-crypto`"
        ),
        "{stderr}"
    );
}

#[test]
fn the_runtimes_unit_tests_pass_under_rust_crypto_alone() {
    cargo(
        &[
            "test",
            "-p",
            "rocket-flask-jwt-runtime",
            "--lib",
            "--no-default-features",
            "--features",
            "rust-crypto",
        ],
        true,
    );
}

#[test]
fn otlp_under_rust_crypto_builds_its_client_on_ring_without_grpc() {
    let features = "rust-crypto,otlp";
    cargo(
        &[
            "test",
            "-p",
            "rocket-flask-jwt-runtime",
            "--lib",
            "--no-default-features",
            "--features",
            features,
            "app::otlp",
        ],
        true,
    );
    let packages = tree("rocket-flask-jwt-runtime", features);
    assert!(packages.iter().any(|name| name == "opentelemetry-otlp"));
    assert_absent(
        &packages,
        &["aws-lc-rs", "aws-lc-sys", "tonic", "redis"],
        "jwt-runtime with rust-crypto and otlp",
    );
}
