//! The root package's integration tests, in one binary so that Rocket and the library are linked
//! once: each module was a test file of its own (see the README's "Tests" section).
//!
//! The tests that run programs of the system (`redis-server`, `python3`, Chromium) are the
//! `system` binary's (`tests/system/`), whose harness reports them as ignored where a program is
//! missing. `settings` is a binary of its own (`tests/settings.rs`): it sets `JWT_*` environment
//! variables, which every Rocket of a binary reads at ignition, so it cannot share a process with
//! tests that expect the defaults.

#[path = "../common/mod.rs"]
mod common;
/// The Flask-JWT-Extended example application (`cargo run --example extended`), for its
/// tests through Rocket's local client.
#[path = "../../examples/extended.rs"]
#[allow(dead_code)] // its `main` is not called here
mod extended_example;
/// The resource-server example (`cargo run --example resource_server`), for the tests of tokens
/// from issuers.
#[path = "../../examples/resource_server.rs"]
#[allow(dead_code)] // its `main` and try-out are not used here
mod resource_server_example;

mod audit;
mod auth_first;
mod auth_resource;
mod authorities;
mod authorization;
mod blocking_callbacks;
mod cookies;
mod dpop;
mod extended;
mod extended_security;
mod flask_jwt_suite;
mod inspector_agrees;
mod issuer_tokens;
mod jwt_required;
mod key_ring;
mod macro_expansion;
mod metrics;
mod oauth_resource;
mod properties;
mod resource_server;
mod rotation;
mod security;

/// Installs the log capture of [`common::logs`] before `main`, so before any test builds a Rocket
/// (Rocket installs its own logger when none is set, and the tests run in parallel threads).
///
/// SAFETY: runs before `main`; it only allocates and sets the `log` crate's global logger, which
/// needs no runtime set up by `main`.
#[ctor::ctor(unsafe)]
fn capture_logs() {
    common::logs::install();
}
