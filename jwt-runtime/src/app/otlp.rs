//! The metrics pushed over OTLP (the `metrics_otlp_endpoint` setting, the `otlp` cargo feature):
//! the counters that `app/metrics.rs` serves in Prometheus's text format, also sent to an
//! OpenTelemetry collector every `metrics_otlp_interval`, over OTLP/HTTP in protobuf, by the
//! OpenTelemetry project's own SDK and exporter.
//!
//! Every instrument is an *observable* one: its callback reads the same atomic counters
//! ([`Telemetry`]) and the same state of the parts (the JWKS, the verified-token cache, the
//! revocation store) when the SDK's periodic reader collects, on its own thread. Nothing is
//! recorded twice, and a request costs nothing more than with `metrics` alone. The values are
//! cumulative totals (OTLP's cumulative temporality), as in Prometheus.
//!
//! OpenTelemetry has no observable histogram: the two latency histograms are pushed as the
//! observable counters of their sum (seconds) and count (`jwt.guard.duration.sum` and
//! `.count`, `jwt.revocation_store.duration.sum` and `.count`), from which a mean follows; the
//! buckets are served only in Prometheus's format.
//!
//! The exporter is built at ignition (a bad endpoint fails ignition), the meter provider
//! started at liftoff, and shut down (with a last push) when Rocket shuts down. It is this
//! application's own, never OpenTelemetry's global provider. Export failures are logged as
//! warnings under the target of this module (once, until an export succeeds again).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::Resource;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Orbit, Rocket};

use crate::error::ProofCheck;
use crate::http::engine::Authenticator;
use crate::telemetry::{Event, Histogram, Telemetry};

/// With `metrics` on and `metrics_otlp_endpoint` set, builds the exporter and attaches the
/// fairing that pushes the metrics from liftoff to shutdown; fails ignition when the exporter
/// cannot be built.
// Rocket's own ignition result (`on_ignite` returns it), the Rocket in either variant.
#[allow(clippy::result_large_err)]
pub(crate) fn attach(rocket: Rocket<Build>, engine: Arc<dyn Authenticator>) -> fairing::Result {
    let settings = engine.settings();
    let (Some(endpoint), Some(telemetry)) = (&settings.metrics_otlp_endpoint, engine.telemetry())
    else {
        return Ok(rocket);
    };
    let exporter = http_client().and_then(|client| {
        MetricExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint.clone())
            .build()
            .map_err(|error| error.to_string())
    });
    let exporter = match exporter {
        Ok(exporter) => Exporter {
            inner: exporter,
            endpoint: shown(endpoint),
            failing: AtomicBool::new(false),
        },
        Err(error) => {
            log::error!(
                "jwt: cannot push the metrics over OTLP to {} (`metrics_otlp_endpoint`): {error}",
                shown(endpoint)
            );
            return Err(rocket);
        }
    };
    let push = OtlpPush {
        telemetry: Arc::clone(telemetry),
        interval: settings.metrics_otlp_interval,
        exporter: Mutex::new(Some(exporter)),
        provider: Mutex::new(None),
        engine,
    };
    Ok(rocket.attach(push))
}

/// `endpoint` as the logs show it: without the user name, password and query that a hosted
/// collector's URL may carry as credentials.
fn shown(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.to_string()
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// How long one export's HTTP request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The exporter's HTTP client: reqwest's blocking client, the one the exporter's documentation
/// recommends for the periodic reader's thread, with TLS on the crypto backend's provider (as the
/// JWKS fetcher's) and no redirects. Built on a thread of its own: reqwest's blocking client may
/// not be built inside an async runtime.
fn http_client() -> Result<reqwest::blocking::Client, String> {
    std::thread::Builder::new()
        .name("jwt-otlp-client".into())
        .spawn(|| {
            let builder = reqwest::blocking::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!(
                    "jwt-runtime/",
                    env!("CARGO_PKG_VERSION"),
                    " (otlp)"
                ));
            crate::crypto::with_tls_blocking(builder)?
                .build()
                .map_err(|error| format!("the HTTP client: {error}"))
        })
        .map_err(|error| format!("a thread for the HTTP client: {error}"))?
        .join()
        .map_err(|_| "building the HTTP client panicked".to_owned())?
}

/// The fairing that starts the meter provider at liftoff and shuts it down with Rocket.
struct OtlpPush {
    engine: Arc<dyn Authenticator>,
    telemetry: Arc<Telemetry>,
    interval: Duration,
    /// Built at ignition, moved into the periodic reader at liftoff.
    exporter: Mutex<Option<Exporter>>,
    /// From liftoff to shutdown.
    provider: Mutex<Option<SdkMeterProvider>>,
}

#[rocket::async_trait]
impl Fairing for OtlpPush {
    fn info(&self) -> Info {
        Info {
            name: "Flask-JWT metrics over OTLP",
            kind: Kind::Liftoff | Kind::Shutdown,
        }
    }

    async fn on_liftoff(&self, _: &Rocket<Orbit>) {
        let Some(exporter) = take(&self.exporter) else {
            return;
        };
        let endpoint = exporter.endpoint.clone();
        // The reader collects and exports on a thread of its own, every `interval`.
        let reader = PeriodicReader::builder(exporter)
            .with_interval(self.interval)
            .build();
        let provider = SdkMeterProvider::builder()
            .with_resource(Resource::builder().build())
            .with_reader(reader)
            .build();
        let scope = InstrumentationScope::builder("rocket-flask-jwt")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        register(
            &provider.meter_with_scope(scope),
            &self.engine,
            &self.telemetry,
        );
        log::info!(
            "jwt: pushing the metrics over OTLP to {endpoint} every {:?}",
            self.interval
        );
        *self.provider.lock().unwrap_or_else(PoisonError::into_inner) = Some(provider);
    }

    /// The last push, then the reader's thread ends. The provider's shutdown blocks until
    /// then (5 s at most), so it runs where blocking is allowed.
    async fn on_shutdown(&self, _: &Rocket<Orbit>) {
        let Some(provider) = take(&self.provider) else {
            return;
        };
        let shutdown = rocket::tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(error)) = shutdown {
            log::warn!("jwt: shutting down the OTLP metrics export: {error}");
        }
    }
}

/// The value in `slot`, taken.
fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// The OTLP exporter, logging a failed export once (until one succeeds again): the SDK's own
/// diagnostics go to `tracing`, which this crate does not use.
struct Exporter {
    inner: MetricExporter,
    endpoint: String,
    failing: AtomicBool,
}

impl PushMetricExporter for Exporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.inner.export(metrics).await;
        match &result {
            Err(error) if !self.failing.swap(true, Ordering::Relaxed) => log::warn!(
                "jwt: pushing the metrics over OTLP to {} failed: {error}",
                self.endpoint
            ),
            Ok(()) if self.failing.swap(false, Ordering::Relaxed) => log::info!(
                "jwt: pushing the metrics over OTLP to {} works again",
                self.endpoint
            ),
            _ => {}
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

/// An atomic counter's value.
fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Registers every instrument on `meter`, each with the callback that reads its value. The
/// names are the Prometheus exposition's with dots (`jwt_token_cache_hits_total` is
/// `jwt.token_cache.hits`), the attributes its labels.
fn register(meter: &Meter, engine: &Arc<dyn Authenticator>, telemetry: &Arc<Telemetry>) {
    let profile = engine.settings().profile.as_str();
    register_requests(meter, profile, telemetry);
    register_sum_and_count(
        meter,
        "jwt.guard.duration",
        [
            "Time the guard took to accept or refuse requests, summed",
            "Requests the guard accepted or refused (timed)",
        ],
        "{request}",
        telemetry,
        move |telemetry| {
            vec![
                (
                    vec![
                        KeyValue::new("profile", profile),
                        KeyValue::new("outcome", "accepted"),
                    ],
                    &telemetry.latency_accepted,
                ),
                (
                    vec![
                        KeyValue::new("profile", profile),
                        KeyValue::new("outcome", "refused"),
                    ],
                    &telemetry.latency_refused,
                ),
            ]
        },
    );
    let counters = Arc::clone(telemetry);
    meter
        .u64_observable_counter("jwt.dpop.refusals")
        .with_description("DPoP requests refused, by the check that failed")
        .with_unit("{request}")
        .with_callback(move |observer| {
            for (check, count) in ProofCheck::ALL.iter().zip(&counters.dpop_refusals) {
                let count = load(count);
                if count > 0 {
                    observer.observe(count, &[KeyValue::new("check", check.label())]);
                }
            }
        })
        .build();
    let cache = [
        ("jwt.token_cache.hits", "Verified-token cache hits", false),
        (
            "jwt.token_cache.misses",
            "Verified-token cache misses (tokens verified in full)",
            true,
        ),
    ];
    for (name, description, misses) in cache {
        let counters = Arc::clone(telemetry);
        meter
            .u64_observable_counter(name)
            .with_description(description)
            .with_unit("{lookup}")
            .with_callback(move |observer| {
                let counter = match misses {
                    false => &counters.cache_hits,
                    true => &counters.cache_misses,
                };
                observer.observe(load(counter), &[]);
            })
            .build();
    }
    let parts = Arc::clone(engine);
    meter
        .u64_observable_gauge("jwt.token_cache.entries")
        .with_description("Tokens held in the verified-token cache")
        .with_unit("{token}")
        .with_callback(move |observer| {
            for (authority, codec) in parts.verifier().codecs() {
                let held = u64::try_from(codec.cached_tokens()).unwrap_or(u64::MAX);
                observer.observe(held, &[KeyValue::new("authority", authority.to_owned())]);
            }
        })
        .build();
    register_jwks(meter, engine);
    register_revocation(meter, engine, telemetry);
    for event in Event::ALL {
        let (name, help) = event.describe();
        let counters = Arc::clone(telemetry);
        meter
            .u64_observable_counter(format!("jwt.{name}"))
            .with_description(help)
            .with_unit("{event}")
            .with_callback(move |observer| observer.observe(counters.counted(event), &[]))
            .build();
    }
}

/// `jwt.requests`: protected requests by route, outcome and reason, only the pairs that
/// happened, with the Prometheus exposition's labels.
fn register_requests(meter: &Meter, profile: &'static str, telemetry: &Arc<Telemetry>) {
    let counters = Arc::clone(telemetry);
    meter
        .u64_observable_counter("jwt.requests")
        .with_description(
            "Protected requests by route, outcome and the reason of a refusal (the check that \
             failed)",
        )
        .with_unit("{request}")
        .with_callback(move |observer| {
            for (method, uri, reason, count) in counters.requests() {
                let attributes = [
                    KeyValue::new("profile", profile),
                    KeyValue::new("method", method.to_owned()),
                    KeyValue::new("route", uri.to_owned()),
                    KeyValue::new("outcome", reason.outcome()),
                    KeyValue::new("reason", reason.as_str()),
                ];
                observer.observe(count, &attributes);
            }
        })
        .build();
}

/// A latency histogram as two observable counters, `<name>.sum` (seconds) and `<name>.count`
/// (in `unit`), with their `descriptions`, one series each for every attribute set `series`
/// gives.
fn register_sum_and_count(
    meter: &Meter,
    name: &str,
    [sum_description, count_description]: [&'static str; 2],
    unit: &'static str,
    telemetry: &Arc<Telemetry>,
    series: impl Fn(&Telemetry) -> Vec<(Vec<KeyValue>, &Histogram)> + Clone + Send + Sync + 'static,
) {
    let (counters, sums) = (Arc::clone(telemetry), series.clone());
    meter
        .f64_observable_counter(format!("{name}.sum"))
        .with_description(sum_description)
        .with_unit("s")
        .with_callback(move |observer| {
            for (attributes, histogram) in sums(&counters) {
                observer.observe(histogram.snapshot().0, &attributes);
            }
        })
        .build();
    let counters = Arc::clone(telemetry);
    meter
        .u64_observable_counter(format!("{name}.count"))
        .with_description(count_description)
        .with_unit(unit)
        .with_callback(move |observer| {
            for (attributes, histogram) in series(&counters) {
                observer.observe(histogram.snapshot().1, &attributes);
            }
        })
        .build();
}

/// The key sets of the authorities whose keys come from a JWKS (none: nothing registered).
fn register_jwks(meter: &Meter, engine: &Arc<dyn Authenticator>) {
    let with_jwks = engine
        .verifier()
        .codecs()
        .iter()
        .any(|(_, codec)| codec.jwks().is_some());
    if !with_jwks {
        return;
    }
    /// Each authority's attribute and the health of its key set.
    fn health(engine: &dyn Authenticator) -> Vec<(KeyValue, crate::jwks::JwksHealth)> {
        crate::app::metrics::key_sets(&engine.verifier().codecs())
            .into_iter()
            .map(|(name, health)| (KeyValue::new("authority", name.to_owned()), health))
            .collect()
    }
    let parts = Arc::clone(engine);
    meter
        .u64_observable_counter("jwt.jwks.fetches")
        .with_description("Fetches of the JWKS, by result")
        .with_unit("{fetch}")
        .with_callback(move |observer| {
            for (authority, health) in health(&*parts) {
                for (result, count) in [("success", health.fetched), ("failure", health.failed)] {
                    observer.observe(count, &[authority.clone(), KeyValue::new("result", result)]);
                }
            }
        })
        .build();
    let parts = Arc::clone(engine);
    meter
        .u64_observable_gauge("jwt.jwks.keys")
        .with_description("Usable keys held from the JWKS")
        .with_unit("{key}")
        .with_callback(move |observer| {
            for (authority, health) in health(&*parts) {
                let keys = u64::try_from(health.keys).unwrap_or(u64::MAX);
                observer.observe(keys, &[authority]);
            }
        })
        .build();
    let parts = Arc::clone(engine);
    meter
        .f64_observable_gauge("jwt.jwks.seconds_since_success")
        .with_description("Seconds since the JWKS was last fetched with success")
        .with_unit("s")
        .with_callback(move |observer| {
            for (authority, health) in health(&*parts) {
                if let Some(since) = health.since_success {
                    observer.observe(since, &[authority]);
                }
            }
        })
        .build();
    let parts = Arc::clone(engine);
    meter
        .u64_observable_gauge("jwt.jwks.serving_stale")
        .with_description(
            "1 while keys past their time to live are served because the JWKS cannot be fetched",
        )
        .with_callback(move |observer| {
            for (authority, health) in health(&*parts) {
                observer.observe(u64::from(health.serving_stale), &[authority]);
            }
        })
        .build();
}

/// The revocation store, when one is configured (none: nothing registered).
fn register_revocation(meter: &Meter, engine: &Arc<dyn Authenticator>, telemetry: &Arc<Telemetry>) {
    let Some(store) = engine.revocation_store() else {
        return;
    };
    register_sum_and_count(
        meter,
        "jwt.revocation_store.duration",
        [
            "Time of the round trips to the revocation store (lookups the near-cache could not \
             answer), summed",
            "Round trips to the revocation store (lookups the near-cache could not answer)",
        ],
        "{lookup}",
        telemetry,
        |telemetry| vec![(vec![], &telemetry.store_latency)],
    );
    let counters = Arc::clone(telemetry);
    meter
        .u64_observable_counter("jwt.revocation_store.errors")
        .with_description("Revocation lookups that failed or timed out")
        .with_unit("{lookup}")
        .with_callback(move |observer| observer.observe(load(&counters.store_errors), &[]))
        .build();
    let counters = Arc::clone(telemetry);
    meter
        .u64_observable_counter("jwt.revocation.unavailable")
        .with_description(
            "Requests answered without the revocation store: refused with 503 (fail closed) or \
             accepted (fail open)",
        )
        .with_unit("{request}")
        .with_callback(move |observer| {
            for (mode, counter) in [
                ("fail_closed", &counters.store_fail_closed),
                ("fail_open", &counters.store_fail_open),
            ] {
                observer.observe(load(counter), &[KeyValue::new("mode", mode)]);
            }
        })
        .build();
    if store.near_cache_live().is_some() {
        let parts = Arc::clone(engine);
        meter
            .u64_observable_gauge("jwt.revocation.near_cache_live")
            .with_description(
                "1 while the near-cache follows the store's invalidations (warm lookups answered \
                 locally), 0 when dropped",
            )
            .with_callback(move |observer| {
                let live = parts
                    .revocation_store()
                    .and_then(|store| store.near_cache_live());
                if let Some(live) = live {
                    observer.observe(u64::from(live), &[]);
                }
            })
            .build();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logs_show_no_credentials_of_the_endpoint() {
        assert_eq!(
            shown("https://user:hunter2@otlp.example.com:4318/v1/metrics?api_key=hunter2"),
            "https://otlp.example.com:4318/v1/metrics"
        );
        assert_eq!(
            shown("http://127.0.0.1:4318/v1/metrics"),
            "http://127.0.0.1:4318/v1/metrics"
        );
    }

    /// The client builds under either crypto backend (reqwest's `rustls-no-provider` needs the
    /// backend's TLS configuration), also from inside an async runtime, as at ignition.
    #[tokio::test]
    async fn the_exporter_builds_inside_the_runtime() {
        for endpoint in [
            "http://127.0.0.1:4318/v1/metrics",
            "https://collector.example/v1/metrics",
        ] {
            let exporter = http_client().and_then(|client| {
                MetricExporter::builder()
                    .with_http()
                    .with_http_client(client)
                    .with_endpoint(endpoint)
                    .build()
                    .map_err(|error| error.to_string())
            });
            assert!(exporter.is_ok(), "{endpoint}: {:?}", exporter.err());
        }
    }
}
