//! The application parts: the builder and the fairing it builds (ignition, the settings layered
//! under Rocket's configuration), the `POST /auth` and refresh resources, the `JwtManager` request
//! guard that issues tokens, the RFC 9728 metadata route, the metrics route and the metrics'
//! push over OTLP. The top layer: it uses every layer below, and nothing below names it.

pub(crate) mod auth;
pub(crate) mod builder;
pub(crate) mod fairing;
#[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
pub(crate) mod key_rotation;
pub(crate) mod key_set;
pub(crate) mod manager;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
#[cfg(feature = "otlp")]
pub(crate) mod otlp;
pub(crate) mod refresh;
pub(crate) mod resource_metadata;
