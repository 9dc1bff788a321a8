//! The root package's integration tests, in one binary so that Rocket and the library are linked
//! once: each module was a test file of its own (see the README's "Testing" section).
//!
//! `settings` is a binary of its own (`tests/settings.rs`): it sets `JWT_*` environment variables,
//! which every Rocket of a binary reads at ignition, so it cannot share a process with tests that
//! expect the defaults.

#[path = "../common/mod.rs"]
mod common;
/// The Flask-JWT-Extended example application (`cargo run --example extended`), for the
/// side-by-side and browser tests.
#[path = "../../examples/extended.rs"]
#[allow(dead_code)] // its `main` is not called here
mod extended_example;
mod http_client;
mod live_rocket;
mod python_env;
mod reference_app;

mod auth0_side_by_side;
mod auth_first;
mod auth_resource;
mod authorities;
mod authorization;
mod browser;
mod cookies;
mod extended;
mod extended_interop;
mod extended_security;
mod flask_jwt_suite;
mod interop;
mod jwt_required;
mod macro_expansion;
mod oauth_resource;
mod properties;
mod resource_server;
mod revocation;
mod revocation_cluster;
mod revocation_interop;
mod revocation_live;
mod revocation_tls;
mod revocation_valkey;
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
