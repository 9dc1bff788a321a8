//! The root package's integration tests that run programs of the system — `redis-server`,
//! `python3` (the Python reference applications, Valkey), `chromium` and `chromedriver`, `node`
//! (Auth0's validator, panva's `oidc-provider`), `nginx` (the proxy in front of a fleet) — with
//! the helpers only they use. A binary of its own with its own harness (`libtest-mimic`), so that
//! a test that cannot run for want of a program is reported as ignored, with the reason, in the
//! harness's output and summary, never as passed; with the `CI` environment variable set it fails
//! instead (see the README's "Tests" section).
//!
//! Each module lists its tests in a `tests()` function ([`test!`]), each with the programs it
//! needs, possibly none; the harness looks the programs up once, when it starts
//! ([`programs::Programs`]). The tests are named `module::function`, as libtest names them, and
//! the command line is libtest's: a name filter, `--exact`, `--skip`, `--list`, `--ignored`,
//! `--include-ignored`, `--test-threads` (else `RUST_TEST_THREADS`, which `.cargo/config.toml`
//! sets to 8, else one thread per core). The tests' output is not captured.

#[path = "../common/mod.rs"]
mod common;

/// One test of a module's `tests()`: `test!(function, needs [programs])` for a plain function,
/// `test!(async function, needs [programs])` for an `async fn`, which runs on a current-thread
/// Tokio runtime of its own, as under `#[tokio::test]`.
macro_rules! test {
    ($function:ident, needs [$($program:expr),* $(,)?]) => {
        $crate::Test::new(
            module_path!(),
            stringify!($function),
            vec![$($program),*],
            $crate::Body::Blocking($function),
        )
    };
    (async $function:ident, needs [$($program:expr),* $(,)?]) => {
        $crate::Test::new(
            module_path!(),
            stringify!($function),
            vec![$($program),*],
            $crate::Body::Async(|| Box::pin($function())),
        )
    };
}

/// The Flask-JWT-Extended example application (`cargo run --example extended`), for the
/// side-by-side, revocation and browser tests.
#[path = "../../examples/extended.rs"]
#[allow(dead_code)] // its `main` is not called here
mod extended_example;
mod http_client;
mod live_rocket;
mod node_packages;
mod node_server;
mod pipes;
mod programs;
mod python_env;
mod reference_app;
/// The resource-server example (`cargo run --example resource_server`), for the side-by-side
/// test with Auth0's validator.
#[path = "../../examples/resource_server.rs"]
// Its `main` and try-out are not used here, and its own tests are libtest's, which this harness
// does not compile (`cargo test --example resource_server` runs them).
#[allow(dead_code, unused_imports)]
mod resource_server_example;

mod auth0_side_by_side;
mod browser;
mod dpop;
mod extended_interop;
mod fleet;
mod interop;
mod jwks_verifiers;
mod key_ring_redis;
mod key_ring_rotation;
mod key_ring_skew;
mod metrics;
mod oidc_provider;
mod otlp;
mod revocation;
mod revocation_cluster;
mod revocation_interop;
mod revocation_live;
mod revocation_tls;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod revocation_valkey;
mod rotation;
mod rotation_side_by_side;

use std::future::Future;
use std::pin::Pin;

use libtest_mimic::{Arguments, Completion, Trial};

use programs::{Program, Programs};

fn main() {
    // Before any test builds a Rocket: Rocket installs its own logger when none is set.
    common::logs::install();

    let mut arguments = Arguments::from_args();
    if arguments.test_threads.is_none() {
        arguments.test_threads = rust_test_threads();
    }

    let mut tests = Vec::new();
    tests.extend(auth0_side_by_side::tests());
    tests.extend(browser::tests());
    tests.extend(dpop::tests());
    tests.extend(extended_interop::tests());
    tests.extend(fleet::tests());
    tests.extend(http_client::tests::tests());
    tests.extend(interop::tests());
    tests.extend(jwks_verifiers::tests());
    tests.extend(key_ring_redis::tests());
    tests.extend(key_ring_rotation::tests());
    tests.extend(key_ring_skew::tests());
    tests.extend(live_rocket::tests());
    tests.extend(metrics::tests());
    tests.extend(oidc_provider::tests());
    tests.extend(otlp::tests());
    tests.extend(revocation::tests());
    tests.extend(revocation_cluster::tests());
    tests.extend(revocation_interop::tests());
    tests.extend(revocation_live::tests());
    tests.extend(revocation_tls::tests());
    tests.extend(rotation::tests());
    tests.extend(rotation_side_by_side::tests());
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    tests.extend(revocation_valkey::tests());
    tests.sort_by(|a, b| a.name.cmp(&b.name));

    let programs = Programs::look_up();
    let ci = std::env::var_os("CI").is_some();
    let trials = tests
        .into_iter()
        .map(|test| test.trial(&programs, ci))
        .collect();
    libtest_mimic::run(&arguments, trials).exit();
}

/// `RUST_TEST_THREADS`, which libtest reads and `libtest-mimic` does not.
fn rust_test_threads() -> Option<usize> {
    let value = std::env::var("RUST_TEST_THREADS").ok()?;
    match value.parse() {
        Ok(threads) if threads > 0 => Some(threads),
        _ => panic!("RUST_TEST_THREADS is `{value}`, should be a positive integer"),
    }
}

/// A test: its name, the programs it needs and what it runs.
pub struct Test {
    name: String,
    needs: Vec<Program>,
    body: Body,
}

/// What a test runs.
pub enum Body {
    Blocking(fn()),
    Async(fn() -> Pin<Box<dyn Future<Output = ()>>>),
}

impl Test {
    /// The test `function` of the module `module_path` (as `module_path!()` gives it, the crate's
    /// name first), named as libtest names it: the path without the crate's name.
    pub fn new(module_path: &str, function: &str, needs: Vec<Program>, body: Body) -> Test {
        let module = module_path
            .split_once("::")
            .expect("a module of this crate")
            .1;
        Test {
            name: format!("{module}::{function}"),
            needs,
            body,
        }
    }

    /// The trial the harness runs: the test itself when its programs are found; otherwise a
    /// trial that is ignored saying what is missing, or that fails saying so when `ci`.
    fn trial(self, programs: &Programs, ci: bool) -> Trial {
        let missing: Vec<String> = self
            .needs
            .iter()
            .filter_map(|program| programs.missing(program))
            .collect();
        if missing.is_empty() {
            let body = self.body;
            return Trial::test(self.name, move || {
                body.run();
                Ok(())
            });
        }
        let reason = missing.join("; ");
        if ci {
            Trial::test(self.name, move || {
                Err(format!("{reason}; CI is set, so this is a failure").into())
            })
        } else {
            Trial::ignorable_test(self.name, move || Ok(Completion::ignored_with(reason)))
        }
    }
}

impl Body {
    fn run(self) {
        match self {
            Body::Blocking(function) => function(),
            Body::Async(function) => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a Tokio runtime")
                .block_on(function()),
        }
    }
}
