//! The auth resource: `POST <auth_url_rule>` trades a username and password for a token.

use std::sync::Arc;

use rocket::data::ToByteUnit;
use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};

use crate::error::JwtError;
use crate::http::engine::Engine;

/// Largest login body read when Rocket's `json` limit is not configured.
const DEFAULT_LIMIT_KIB: u64 = 16;

/// The route handler; it holds the resolved extension.
pub(crate) struct AuthResource<U>(Arc<Engine<U>>);

impl<U> Clone for AuthResource<U> {
    fn clone(&self) -> Self {
        AuthResource(Arc::clone(&self.0))
    }
}

impl<U: Send + Sync + 'static> AuthResource<U> {
    /// `POST rule`, named `endpoint`. `rule` was validated with the settings.
    pub(crate) fn route(engine: Arc<Engine<U>>, rule: &str, endpoint: String) -> Route {
        let mut route = Route::new(Method::Post, rule, AuthResource(engine));
        route.name = Some(endpoint.into());
        route
    }
}

/// Flask's `request.get_json()`, which Flask-JWT's auth resource calls: the body is JSON only when
/// the request says so (`application/json` or `application/<name>+json`); otherwise 400 with
/// Werkzeug's description, and the body is not read.
fn require_json(request: &Request<'_>) -> Result<(), JwtError> {
    let is_json = request.content_type().is_some_and(|media| {
        media.top() == "application"
            && (media.sub() == "json"
                || media.sub().as_str().to_ascii_lowercase().ends_with("+json"))
    });
    if is_json {
        Ok(())
    } else {
        Err(JwtError::bad_body(
            Status::BadRequest,
            "Did not attempt to load JSON data because the request Content-Type was not \
             'application/json'.",
        ))
    }
}

/// Reads the body up to the `json` limit (16 KiB when unset): 413 beyond it.
async fn read_body(request: &Request<'_>, data: Data<'_>) -> Result<Vec<u8>, JwtError> {
    let limit = request
        .limits()
        .get("json")
        .unwrap_or_else(|| DEFAULT_LIMIT_KIB.kibibytes());
    let body = data.open(limit).into_bytes().await.map_err(|e| {
        JwtError::bad_body(
            Status::BadRequest,
            format!("Request body could not be read: {e}"),
        )
    })?;
    if !body.is_complete() {
        return Err(JwtError::bad_body(
            Status::PayloadTooLarge,
            format!("Request body is larger than the {limit} limit"),
        ));
    }
    Ok(body.into_inner())
}

#[rocket::async_trait]
impl<U: Send + Sync + 'static> Handler for AuthResource<U> {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let body = match require_json(request) {
            Ok(()) => read_body(request, data).await,
            Err(error) => Err(error),
        };
        let response = self.0.login(request, body).await;
        Outcome::from(request, response)
    }
}
