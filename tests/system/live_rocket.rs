//! A Rocket served for real on 127.0.0.1 (a free port, its own thread and runtime), for the tests
//! that talk to it over HTTP the way they talk to a Python reference application.
//!
//! The Rocket's own configuration is kept, except the address (127.0.0.1), the port (0: the
//! operating system picks a free one) and the shutdown settings (no signal handling, no grace
//! period). Dropping a [`LiveRocket`] shuts the server down and waits for its thread.

use std::net::Ipv4Addr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket, Shutdown};

use crate::http_client::{self, HttpResponse};

/// How long the Rocket may take to ignite and listen.
const STARTUP: Duration = Duration::from_secs(30);

/// A running Rocket.
pub struct LiveRocket {
    port: u16,
    shutdown: Shutdown,
    thread: Option<JoinHandle<()>>,
}

/// `examples/extended.rs` with the test secret, revoked tokens in the Redis at `redis_url` when
/// given, and `settings` over its configuration (`("<name>", value)` of its `jwt` table).
pub fn extended(redis_url: Option<&str>, settings: &[(&str, serde_json::Value)]) -> LiveRocket {
    let rocket =
        crate::common::with_test_secret(crate::extended_example::app(redis_url.map(str::to_owned)));
    let mut figment = rocket.figment().clone();
    for (name, value) in settings {
        figment = figment.merge((format!("jwt.{name}"), value.clone()));
    }
    LiveRocket::launch(rocket.configure(figment))
}

impl LiveRocket {
    /// Ignites and launches `rocket` on a free port of 127.0.0.1; returns once it listens.
    /// Panics when it does not launch (the tests that need it cannot run).
    pub fn launch(rocket: Rocket<Build>) -> LiveRocket {
        let figment = rocket
            .figment()
            .clone()
            .merge(("address", Ipv4Addr::LOCALHOST))
            .merge(("port", 0))
            .merge(("shutdown.ctrlc", false))
            .merge(("shutdown.signals", Vec::<String>::new()))
            .merge(("shutdown.grace", 0))
            .merge(("shutdown.mercy", 0));
        let (listening_tx, listening_rx) = mpsc::channel();
        let rocket =
            rocket
                .configure(figment)
                .attach(AdHoc::on_liftoff("Report the port", move |rocket| {
                    Box::pin(async move {
                        let _ = listening_tx.send((rocket.config().port, rocket.shutdown()));
                    })
                }));
        let thread = std::thread::spawn(move || {
            if let Err(error) = rocket::execute(rocket.launch()) {
                // Seen by the test that waits for the port, through the closed channel.
                eprintln!("the Rocket did not launch: {error}");
            }
        });
        match listening_rx.recv_timeout(STARTUP) {
            Ok((port, shutdown)) => LiveRocket {
                port,
                shutdown,
                thread: Some(thread),
            },
            Err(error) => {
                let _ = thread.join();
                panic!("the Rocket did not listen within {STARTUP:?} ({error}); see stderr")
            }
        }
    }

    /// The port the Rocket listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `method path` with `Authorization: Bearer <token>` and no body; panics when it fails.
    pub fn with_bearer(&self, method: &str, path: &str, token: &str) -> HttpResponse {
        self.request(
            method,
            path,
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        )
    }

    /// One HTTP/1.1 exchange (see [`http_client::request`]); panics when it fails.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http_client::request(self.port, method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path} to the Rocket on port {}: {e}", self.port))
    }
}

impl Drop for LiveRocket {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn a_launched_rocket_answers_over_http_and_stops_when_dropped() {
    let rocket = crate::common::rocket_with(crate::common::builder().build().expect("fixture"));
    let live = LiveRocket::launch(rocket);
    let port = live.port();
    assert_ne!(port, 0);
    let response = live.request("GET", "/protected", &[], b"");
    assert_eq!(response.status, 401, "{:?}", response);
    let token = crate::common::token_for(&crate::common::claims(serde_json::json!(1)));
    let response = live.request(
        "GET",
        "/protected",
        &[("Authorization", &format!("JWT {token}"))],
        b"",
    );
    assert_eq!(response.status, 200, "{:?}", response);
    drop(live);
    assert!(
        http_client::request(port, "GET", "/protected", &[], b"").is_err(),
        "the port still answers after the drop"
    );
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![test!(a_launched_rocket_answers_over_http_and_stops_when_dropped, needs [])]
}
