//! What the application counts while it serves, for its metrics (the `metrics` setting): every
//! protected request's outcome and reason by route, the guard's latency, the verified-token cache's
//! hits and misses, the revocation store's round trips, and the events of a session (logins,
//! refreshes, logouts, reuse, key rotations).
//!
//! Recording is atomic counters only: no lock and no allocation per request. Nothing here is
//! made when `metrics` is off, and the request path then only tests an `Option`. The counters
//! are read, with the state of the parts that keep their own (the JWKS, the cache's size, the
//! near-cache), when the metrics are scraped (`app/metrics.rs`, in Prometheus's text format).
//!
//! No label takes a value from a token or a request: routes are the application's route
//! templates, reasons and events are the fixed sets below.
//!
//! The same events, and every refusal with its reason, are also audit records (the `audit_log`
//! setting, [`Audit`]): one `log` record each, under the target `jwt::audit`.

mod audit;
mod histogram;
mod reason;
mod routes;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub(crate) use audit::Audit;
pub(crate) use histogram::Histogram;
pub(crate) use reason::{Event, Reason};
pub(crate) use routes::{RouteCounts, RouteTable};

/// The counters of one application.
#[derive(Debug, Default)]
pub(crate) struct Telemetry {
    /// Requests by route and reason; set at liftoff, when the routes are known.
    routes: OnceLock<RouteTable>,
    /// Requests whose route is not in the table (served before liftoff).
    pub(crate) unrouted: RouteCounts,
    /// The guard's latency: authenticated (or anonymous) requests, and refused ones.
    pub(crate) latency_accepted: Histogram,
    pub(crate) latency_refused: Histogram,
    /// Verified-token cache lookups.
    pub(crate) cache_hits: AtomicU64,
    pub(crate) cache_misses: AtomicU64,
    /// DPoP refusals by the check that failed (`ProofCheck::ALL`'s order).
    pub(crate) dpop_refusals: [AtomicU64; 14],
    /// Revocation store round trips (lookups the near-cache could not answer), their errors,
    /// and the answers given without the store: refused (fail closed) or accepted (fail open).
    pub(crate) store_latency: Histogram,
    pub(crate) store_errors: AtomicU64,
    pub(crate) store_fail_closed: AtomicU64,
    pub(crate) store_fail_open: AtomicU64,
    /// Session events, by [`Event`].
    pub(crate) events: [AtomicU64; Event::ALL.len()],
}

impl Telemetry {
    /// The routes' table, once the routes are known.
    pub(crate) fn set_routes(&self, table: RouteTable) {
        let _ = self.routes.set(table);
    }

    /// The routes' table, when set.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn routes(&self) -> Option<&RouteTable> {
        self.routes.get()
    }

    /// The counts of the route at `route` (its address while Rocket serves).
    pub(crate) fn route_counts(&self, route: Option<usize>) -> &RouteCounts {
        route
            .and_then(|route| self.routes.get()?.counts(route))
            .unwrap_or(&self.unrouted)
    }

    /// Every count of requests that happened: the route's method and URI template (empty for
    /// requests served before liftoff), the reason, and how many.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn requests(&self) -> impl Iterator<Item = (&str, &str, Reason, u64)> {
        let rows = self.routes().map(RouteTable::rows).unwrap_or(&[]);
        rows.iter()
            .map(|row| (row.method.as_str(), row.uri.as_str(), &row.counts))
            .chain([("", "", &self.unrouted)])
            .flat_map(|(method, uri, counts)| {
                Reason::ALL
                    .into_iter()
                    .map(move |reason| (method, uri, reason, counts.get(reason)))
            })
            .filter(|(.., count)| *count > 0)
    }

    /// Counts one protected request: its route (its address while Rocket serves) and reason,
    /// the guard's `elapsed` time, a refresh that got through, and the DPoP check that refused
    /// it.
    pub(crate) fn record_request(
        &self,
        route: Option<usize>,
        reason: Reason,
        refresh: bool,
        elapsed: std::time::Duration,
        proof_check: Option<crate::error::ProofCheck>,
    ) {
        self.route_counts(route).count(reason);
        if reason.accepted() {
            self.latency_accepted.observe(elapsed);
            if refresh && reason == Reason::Authenticated {
                self.count(Event::Refresh);
            }
        } else {
            self.latency_refused.observe(elapsed);
        }
        if let Some(check) = proof_check {
            self.dpop_refusals[reason::proof_check_index(check)].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one `event`.
    pub(crate) fn count(&self, event: Event) {
        self.events[event as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// How many `event`s were counted.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn counted(&self, event: Event) -> u64 {
        self.events[event as usize].load(Ordering::Relaxed)
    }
}
