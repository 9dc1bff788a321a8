//! `jwt-inspect`: the jwt.io debugger, offline.
//!
//! Decodes a token, prints its header and claims (NumericDate claims annotated with their UTC time
//! and how long ago or ahead they are), then runs the five checks of the API with the API's own
//! settings and prints one line per check. With `--dpop`, the DPoP proof (RFC 9449) sent beside
//! the token is decoded and checked the same way, with the API's DPoP settings. Install it with `cargo install --path jwt-inspect`, or
//! run it from the workspace with `cargo run -p rocket-flask-jwt-inspect -- --help`.
//!
//! The token is never sent anywhere; the only network access is fetching the configured JWKS.
//! Neither the token's signature key nor the secret is ever printed.

mod cli;
mod config;
mod dpop;
mod inspect;
mod report;

use std::process::ExitCode;

use clap::Parser;

use rocket_flask_jwt_runtime::validation::now;

use crate::cli::{read_proof, read_token, split_scheme, Cli};
use crate::config::{apply_options, configured_settings};
use crate::dpop::{inspect_proof, ProofRequest};
use crate::inspect::inspect;
use crate::report::{all_passed, print_inspection, print_proof};

/// A usage or configuration error: printed on stderr, exit status 2.
#[derive(Debug)]
struct Fatal(String);

impl<T: std::fmt::Display> From<T> for Fatal {
    fn from(message: T) -> Self {
        Fatal(message.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = log::set_logger(&STDERR_LOGGER);
    log::set_max_level(log::LevelFilter::Warn);
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Fatal(message)) => {
            eprintln!("jwt-inspect: error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Inspects the token, and the DPoP proof when one is given; `Ok(true)` when all five checks
/// pass and no proof check fails.
fn run(cli: Cli) -> Result<bool, Fatal> {
    let proof = read_proof(&cli)?;
    let raw = read_token(cli.token.as_deref())?;
    let mut settings = configured_settings(&cli)?;
    apply_options(&cli, &mut settings)?;
    if proof.is_some() && !settings.dpop.is_on() {
        // A proof comes to a route that takes DPoP (`#[jwt_required(dpop = "..")]` turns it on
        // where the setting leaves it off): the token is inspected as that route reads it.
        settings.dpop = rocket_flask_jwt_runtime::DpopMode::Allowed;
    }
    let (scheme, token) = split_scheme(&raw, &settings.auth_header_prefix);
    if token.is_empty() {
        return Err("no token given: pass it as the argument or on standard input".into());
    }
    let proof = match &proof {
        Some(proof) => {
            let request = ProofRequest {
                proof,
                token,
                scheme,
                method: cli.method.as_deref(),
                url: cli.url.as_deref(),
            };
            Some(inspect_proof(&settings, &request, now())?)
        }
        None => None,
    };

    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let findings = runtime.block_on(inspect(settings, token))?;
    print_inspection(&findings.inspection, findings.key_ring.as_deref());
    let mut valid = all_passed(&findings.inspection);
    if let Some(proof) = &proof {
        print_proof(proof);
        valid &= proof.passed();
    }
    Ok(valid)
}

/// Prints the runtime's warnings (unknown settings, JWKS trouble) on stderr.
struct StderrLogger;

static STDERR_LOGGER: StderrLogger = StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                log::Level::Error => "error",
                _ => "warning",
            };
            eprintln!("jwt-inspect: {level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}
