//! RFC 9728 protected-resource metadata: the document at
//! `/.well-known/oauth-protected-resource` that tells an OAuth client (an MCP client among them)
//! which authorization servers issue tokens for this API, and the `resource_metadata` parameter of
//! the `WWW-Authenticate` challenge that points at it.
//!
//! Served when the `protected_resource` setting is given; with the `dpop` setting on, it also
//! names the DPoP proof algorithms and whether only DPoP-bound tokens are taken.

use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};

use crate::error::JwtResponse;
use crate::settings::Settings;

/// The route serving the document, when `settings` configure one.
pub(crate) fn route(settings: &Settings) -> Option<Route> {
    let metadata = settings.protected_resource.as_ref()?;
    let path = metadata.document_path()?;
    let mut document = metadata.document();
    if settings.dpop.is_on() {
        // RFC 9449 §5.1 / RFC 9728 §2: the proofs this API accepts, and whether it takes only
        // DPoP-bound tokens.
        let algorithms: Vec<&str> = settings
            .dpop_algorithms
            .iter()
            .map(|algorithm| crate::keys::algorithm_name(*algorithm))
            .collect();
        document["dpop_signing_alg_values_supported"] = serde_json::json!(algorithms);
        document["dpop_bound_access_tokens_required"] =
            serde_json::json!(settings.dpop == crate::settings::DpopMode::Required);
    }
    let body = serde_json::to_vec(&document).ok()?;
    Some(Route::new(Method::Get, &path, Document(body)))
}

/// The handler of a fixed JSON document: its serialized bytes.
#[derive(Clone)]
pub(crate) struct Document(pub(crate) Vec<u8>);

#[rocket::async_trait]
impl Handler for Document {
    async fn handle<'r>(&self, request: &'r Request<'_>, _: Data<'r>) -> Outcome<'r> {
        let response = JwtResponse::new(Status::Ok)
            .with_header("Content-Type", "application/json")
            .with_body(self.0.clone());
        Outcome::from(request, response)
    }
}
