//! The metrics' exposition (the `metrics` setting): the route at `metrics_path`, answering the
//! addresses of `metrics_allow`, in Prometheus's text format through the Prometheus project's
//! client (`prometheus-client`). At each scrape it reads the request path's counters
//! ([`Telemetry`]) and the state the parts keep themselves: the JWKS of each authority, the
//! verified-token cache's size, the revocation store's near-cache.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};

use crate::error::{JwtResponse, ProofCheck};
use crate::http::engine::Authenticator;
use crate::settings::Settings;
use crate::telemetry::{Event, Histogram, Telemetry};

/// The route serving the metrics, when `metrics` is on.
pub(crate) fn route(engine: Arc<dyn Authenticator>, settings: &Settings) -> Option<Route> {
    let telemetry = Arc::clone(engine.telemetry()?);
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Exposition { engine, telemetry }));
    let endpoint = Endpoint {
        registry: Arc::new(registry),
        allow: settings.metrics_allow.clone(),
    };
    let mut route = Route::new(Method::Get, &settings.metrics_path, endpoint);
    route.name = Some("jwt_metrics".into());
    Some(route)
}

/// The metrics route's handler.
#[derive(Clone)]
struct Endpoint {
    registry: Arc<Registry>,
    /// The client addresses answered; empty answers any.
    allow: Vec<std::net::IpAddr>,
}

#[rocket::async_trait]
impl Handler for Endpoint {
    async fn handle<'r>(&self, request: &'r Request<'_>, _: Data<'r>) -> Outcome<'r> {
        let allowed = self.allow.is_empty()
            || request
                .remote()
                .is_some_and(|peer| self.allow.contains(&peer.ip()));
        if !allowed {
            return Outcome::from(request, JwtResponse::new(Status::Forbidden));
        }
        let mut text = String::new();
        let response =
            match prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry) {
                Ok(()) => JwtResponse::new(Status::Ok)
                    .with_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                    .with_body(text.into_bytes()),
                Err(_) => JwtResponse::new(Status::InternalServerError),
            };
        Outcome::from(request, response)
    }
}

/// The health of each authority's key set, for the authorities whose keys come from a JWKS: what
/// both the Prometheus exposition and the OTLP push read.
pub(crate) fn key_sets<'c>(
    codecs: &[(&'c str, &'c crate::token::codec::TokenCodec)],
) -> Vec<(&'c str, crate::jwks::JwksHealth)> {
    codecs
        .iter()
        .filter_map(|(name, codec)| Some((*name, codec.jwks()?.health())))
        .collect()
}

/// What a scrape reads.
struct Exposition {
    engine: Arc<dyn Authenticator>,
    telemetry: Arc<Telemetry>,
}

impl fmt::Debug for Exposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Exposition")
    }
}

/// A counter's or gauge's value, written as `encode_descriptor` asks.
struct Value {
    kind: MetricType,
    value: f64,
}

impl EncodeMetric for Value {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), fmt::Error> {
        match self.kind {
            MetricType::Counter => {
                encoder.encode_counter::<NoLabelSet, u64, u64>(&(self.value as u64), None)
            }
            _ => encoder.encode_gauge(&self.value),
        }
    }

    fn metric_type(&self) -> MetricType {
        self.kind
    }
}

/// Writes one metric: its descriptor, then each labelled value.
fn write<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    series: impl IntoIterator<Item = (Vec<(&'a str, &'a str)>, f64)>,
) -> Result<(), fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in series {
        let family = metric.encode_family(&labels)?;
        Value { kind, value }.encode(family)?;
    }
    Ok(())
}

/// Writes one histogram per label set.
fn write_histograms<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (Vec<(&'a str, &'a str)>, &'a Histogram)>,
) -> Result<(), fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (labels, histogram) in series {
        let (sum, count, buckets) = histogram.snapshot();
        let mut family = metric.encode_family(&labels)?;
        family.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
    }
    Ok(())
}

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let telemetry = &self.telemetry;
        let settings = self.engine.settings();
        let profile = settings.profile.as_str();
        // Requests by route, outcome and reason: only the pairs that happened.
        let requests = telemetry.requests().map(|(method, uri, reason, count)| {
            let labels = vec![
                ("profile", profile),
                ("method", method),
                ("route", uri),
                ("outcome", reason.outcome()),
                ("reason", reason.as_str()),
            ];
            (labels, count as f64)
        });
        write(
            &mut encoder,
            "jwt_requests",
            "Protected requests by route, outcome and the reason of a refusal (the check that failed)",
            MetricType::Counter,
            requests,
        )?;
        write_histograms(
            &mut encoder,
            "jwt_guard_duration_seconds",
            "Time the guard took to accept or refuse a request",
            [
                (
                    vec![("profile", profile), ("outcome", "accepted")],
                    &telemetry.latency_accepted,
                ),
                (
                    vec![("profile", profile), ("outcome", "refused")],
                    &telemetry.latency_refused,
                ),
            ],
        )?;
        let dpop = ProofCheck::ALL
            .iter()
            .zip(&telemetry.dpop_refusals)
            .filter(|(_, count)| count.load(Ordering::Relaxed) > 0)
            .map(|(check, count)| {
                (
                    vec![("check", check.label())],
                    count.load(Ordering::Relaxed) as f64,
                )
            });
        write(
            &mut encoder,
            "jwt_dpop_refusals",
            "DPoP requests refused, by the check that failed",
            MetricType::Counter,
            dpop,
        )?;
        let cache = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed) as f64;
        write(
            &mut encoder,
            "jwt_token_cache_hits",
            "Verified-token cache hits",
            MetricType::Counter,
            [(vec![], cache(&telemetry.cache_hits))],
        )?;
        write(
            &mut encoder,
            "jwt_token_cache_misses",
            "Verified-token cache misses (tokens verified in full)",
            MetricType::Counter,
            [(vec![], cache(&telemetry.cache_misses))],
        )?;
        let verifier = self.engine.verifier();
        let codecs = verifier.codecs();
        let entries: Vec<_> = codecs
            .iter()
            .map(|(name, codec)| (vec![("authority", *name)], codec.cached_tokens() as f64))
            .collect();
        write(
            &mut encoder,
            "jwt_token_cache_entries",
            "Tokens held in the verified-token cache",
            MetricType::Gauge,
            entries,
        )?;
        self.encode_jwks(&mut encoder, &codecs)?;
        self.encode_revocation(&mut encoder)?;
        for event in Event::ALL {
            let (name, help) = event.describe();
            write(
                &mut encoder,
                &format!("jwt_{name}"),
                help,
                MetricType::Counter,
                [(vec![], telemetry.counted(event) as f64)],
            )?;
        }
        Ok(())
    }
}

impl Exposition {
    /// The key sets of the authorities whose keys come from a JWKS.
    fn encode_jwks(
        &self,
        encoder: &mut DescriptorEncoder,
        codecs: &[(&str, &crate::token::codec::TokenCodec)],
    ) -> Result<(), fmt::Error> {
        let health = key_sets(codecs);
        if health.is_empty() {
            return Ok(());
        }
        let fetches = health.iter().flat_map(|(name, health)| {
            [
                (
                    vec![("authority", *name), ("result", "success")],
                    health.fetched as f64,
                ),
                (
                    vec![("authority", *name), ("result", "failure")],
                    health.failed as f64,
                ),
            ]
        });
        write(
            encoder,
            "jwt_jwks_fetches",
            "Fetches of the JWKS, by result",
            MetricType::Counter,
            fetches,
        )?;
        let keys = health
            .iter()
            .map(|(name, health)| (vec![("authority", *name)], health.keys as f64));
        write(
            encoder,
            "jwt_jwks_keys",
            "Usable keys held from the JWKS",
            MetricType::Gauge,
            keys,
        )?;
        let since = health
            .iter()
            .filter_map(|(name, health)| Some((vec![("authority", *name)], health.since_success?)));
        write(
            encoder,
            "jwt_jwks_seconds_since_success",
            "Seconds since the JWKS was last fetched with success",
            MetricType::Gauge,
            since,
        )?;
        let stale = health.iter().map(|(name, health)| {
            (
                vec![("authority", *name)],
                f64::from(u8::from(health.serving_stale)),
            )
        });
        write(
            encoder,
            "jwt_jwks_serving_stale",
            "1 while keys past their time to live are served because the JWKS cannot be fetched",
            MetricType::Gauge,
            stale,
        )
    }

    /// The revocation store, when one is configured.
    fn encode_revocation(&self, encoder: &mut DescriptorEncoder) -> Result<(), fmt::Error> {
        let Some(store) = self.engine.revocation_store() else {
            return Ok(());
        };
        let telemetry = &self.telemetry;
        write_histograms(
            encoder,
            "jwt_revocation_store_duration_seconds",
            "Round trips to the revocation store (lookups the near-cache could not answer)",
            [(vec![], &telemetry.store_latency)],
        )?;
        let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed) as f64;
        write(
            encoder,
            "jwt_revocation_store_errors",
            "Revocation lookups that failed or timed out",
            MetricType::Counter,
            [(vec![], load(&telemetry.store_errors))],
        )?;
        write(
            encoder,
            "jwt_revocation_unavailable",
            "Requests answered without the revocation store: refused with 503 (fail closed) or accepted (fail open)",
            MetricType::Counter,
            [
                (vec![("mode", "fail_closed")], load(&telemetry.store_fail_closed)),
                (vec![("mode", "fail_open")], load(&telemetry.store_fail_open)),
            ],
        )?;
        if let Some(live) = store.near_cache_live() {
            write(encoder, "jwt_revocation_near_cache_live", "1 while the near-cache follows the store's invalidations (warm lookups answered locally), 0 when dropped", MetricType::Gauge, [(vec![], f64::from(u8::from(live)))])?;
        }
        Ok(())
    }
}
