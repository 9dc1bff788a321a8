//! The resolved extension: codec plus callbacks, and the two paths through it — a protected
//! request ([`Engine::authenticate`]) and a login ([`Engine::login`]).

use std::borrow::Cow;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt as _;

use rocket::http::Status;
use rocket::Request;
use serde_json::Value;

use crate::callbacks::{BoxFuture, Callbacks};
use crate::claims::{now, Payload};
use crate::codec::TokenCodec;
use crate::error::{ErrorKind, JwtError, JwtResponse};
use crate::extract;
use crate::identity::Identity;
use crate::settings::Settings;
use crate::validate::Fetch;

/// What the request guard needs, without the identity type.
pub(crate) trait Authenticator: Send + Sync + 'static {
    /// Extracts, decodes and validates the request's token, then looks up the identity.
    fn authenticate<'r>(&'r self, request: &'r Request<'_>) -> Authentication<'r>;

    /// Turns an error into the response the error callback builds. A missing token gets the
    /// `WWW-Authenticate` challenge for `realm` (the default realm when `None`).
    fn respond(&self, error: JwtError, realm: Option<&str>) -> JwtResponse;

    /// The resolved settings.
    fn settings(&self) -> &Settings;
}

/// A [`Jwt`](crate::Jwt) resolved at ignition.
pub(crate) struct Engine<U> {
    pub(crate) codec: TokenCodec,
    pub(crate) callbacks: Arc<Callbacks<U>>,
}

/// How authentication went, as far as it could go without waiting.
pub(crate) enum Authentication<'r> {
    /// Decided already: a verified-token cache hit with a sync identity callback, or a request
    /// refused before any token was verified.
    Decided(Result<Identity, JwtError>),
    /// To await: a token to verify (keys may be fetched) or an async callback to run.
    Pending(BoxFuture<'r, Result<Identity, JwtError>>),
}

/// Where [`Engine::decide_now`] left a request.
enum Early<'r, U> {
    Decided(Result<U, JwtError>),
    Verify(Cow<'r, str>),
}

impl<U: Send + Sync + 'static> Engine<U> {
    /// The request's token (the request callback's, or `Authorization: <prefix> <token>`).
    fn token<'r>(&self, request: &'r Request<'_>) -> Result<Cow<'r, str>, JwtError> {
        match &self.callbacks.request {
            Some(request_handler) => request_handler(request)?.map(Cow::Owned),
            None => {
                extract::authorization_token(request, &self.codec.settings().auth_header_prefix)?
                    .map(Cow::Borrowed)
            }
        }
        .ok_or_else(missing_token)
    }

    /// Everything that needs no waiting: the token, its validation when no key has to be fetched
    /// (a verified-token cache hit, or static keys), and a sync identity callback. Anything else
    /// is left to [`identify`](Self::identify).
    fn decide_now<'r>(&self, request: &'r Request<'_>) -> Early<'r, U> {
        let token = match self.token(request) {
            Ok(token) => token,
            Err(error) => return Early::Decided(Err(error)),
        };
        let lookup = self.callbacks.identity.as_ref();
        if lookup.is_some_and(|lookup| !lookup.is_sync()) {
            return Early::Verify(token);
        }
        let claims = match &self.callbacks.decode {
            Some(_) if !self.codec.validates_without_io() => return Early::Verify(token),
            Some(decode) => decode(&token, &self.codec).map(Arc::new),
            None => {
                let now = now();
                match self.codec.cached(&token, now) {
                    Ok(Some(claims)) => Ok(claims),
                    Ok(None) if self.codec.validates_without_io() => {
                        self.codec.validate_now(&token, now)
                    }
                    Ok(None) => return Early::Verify(token),
                    Err(error) => Err(error),
                }
            }
        };
        let claims = match claims {
            Ok(claims) => claims,
            Err(error) => return Early::Decided(Err(error)),
        };
        let claim = &self.codec.settings().identity_claim;
        Early::Decided(
            match lookup.and_then(|lookup| lookup.call_now(&claims, claim)) {
                Some(found) => found.and_then(|user| user.ok_or_else(unknown_identity)),
                None => Err(unknown_identity()),
            },
        )
    }

    /// Validates `token` (fetching keys if needed), then looks up the identity.
    async fn identify(&self, token: Cow<'_, str>) -> Result<U, JwtError> {
        let payload = match &self.callbacks.decode {
            Some(decode) => {
                // The callback validates without I/O: bring the JWKS up to date for it first.
                self.codec.prefetch_key(&token).await;
                Arc::new(decode(&token, &self.codec)?)
            }
            None => self.codec.verify_shared(&token, Fetch::Allowed).await?,
        };
        let identity = match &self.callbacks.identity {
            Some(lookup) => {
                lookup
                    .call(payload, &self.codec.settings().identity_claim)
                    .await?
            }
            None => None,
        };
        identity.ok_or_else(unknown_identity)
    }

    /// The auth resource: login data in, the auth response (or error) out.
    pub(crate) async fn login(&self, body: Result<Vec<u8>, JwtError>) -> JwtResponse {
        match unwind_safe("login", self.try_login(body)).await {
            Ok(response) => response,
            Err(error) => {
                log::info!("jwt: login refused: {error}");
                self.respond(error, None)
            }
        }
    }

    async fn try_login(&self, body: Result<Vec<u8>, JwtError>) -> Result<JwtResponse, JwtError> {
        let body = body?;
        if let Some(handler) = &self.callbacks.auth_request {
            let json: Value = serde_json::from_slice(&body).map_err(body_error)?;
            return handler(&json);
        }
        let settings = self.codec.settings();
        let data: Payload = serde_json::from_slice(&body).map_err(body_error)?;
        let field = |key: &str| match data.get(key) {
            None | Some(Value::Null) => Ok(""),
            Some(Value::String(value)) => Ok(value.as_str()),
            Some(_) => Err(JwtError::bad_body(
                Status::BadRequest,
                format!(
                    "The \"{}\" and \"{}\" fields must be strings",
                    settings.auth_username_key, settings.auth_password_key
                ),
            )),
        };
        let username = field(&settings.auth_username_key)?;
        let password = field(&settings.auth_password_key)?;
        // Flask-JWT: both present and non-empty, and nothing else in the body.
        if username.is_empty() || password.is_empty() || data.len() != 2 {
            return Err(JwtError::invalid_credentials());
        }
        let authentication = self
            .callbacks
            .authentication
            .as_ref()
            .ok_or_else(|| JwtError::internal("no authentication handler is configured"))?;
        let identity = authentication
            .call(username, password)
            .await
            .ok_or_else(JwtError::invalid_credentials)?;
        let token = self.encode(&identity)?;
        Ok(match &self.callbacks.auth_response {
            Some(response) => response(&token, &identity),
            None => JwtResponse::json(Status::Ok, &serde_json::json!({ "access_token": token })),
        })
    }

    /// Flask-JWT's encode handler: payload and headers callbacks, required claims, signing.
    fn encode(&self, identity: &U) -> Result<String, JwtError> {
        if let Some(encode) = &self.callbacks.encode {
            return encode(identity, &self.codec);
        }
        let settings = self.codec.settings();
        let payload = match (&self.callbacks.payload, self.callbacks.identity_claim) {
            (Some(payload), _) => payload(identity, settings),
            (None, Some(claim)) => self.codec.default_payload(claim(identity)?),
            (None, None) => return Err(JwtError::internal("no payload handler is configured")),
        };
        let missing = self.codec.missing_required_claims(&payload);
        if !missing.is_empty() {
            return Err(JwtError::internal(format!(
                "Payload is missing required claims: {}",
                missing.join(", ")
            )));
        }
        let headers = match &self.callbacks.headers {
            Some(headers) => headers(identity, settings),
            None => Payload::new(),
        };
        self.codec.encode(&payload, &headers)
    }
}

impl<U: Send + Sync + 'static> Authenticator for Engine<U> {
    fn authenticate<'r>(&'r self, request: &'r Request<'_>) -> Authentication<'r> {
        let conclude = move |outcome: Result<U, JwtError>| match outcome {
            Ok(identity) => Ok(Identity::new(identity)),
            Err(error) => {
                log::info!(
                    "jwt: {} {}: {error}",
                    request.method(),
                    request.uri().path()
                );
                Err(error)
            }
        };
        let early = std::panic::catch_unwind(AssertUnwindSafe(|| self.decide_now(request)))
            .unwrap_or_else(|_| Early::Decided(Err(panicked("authentication"))));
        match early {
            Early::Decided(outcome) => Authentication::Decided(conclude(outcome)),
            Early::Verify(token) => Authentication::Pending(Box::pin(async move {
                conclude(unwind_safe("authentication", self.identify(token)).await)
            })),
        }
    }

    fn respond(&self, mut error: JwtError, realm: Option<&str>) -> JwtResponse {
        let settings = self.codec.settings();
        if error.kind == ErrorKind::MissingToken && error.headers.is_empty() {
            let realm = realm.unwrap_or(&settings.default_realm);
            error = extract::authorization_required(&settings.auth_header_prefix, realm);
        }
        if settings.detailed_errors {
            if let Some(detail) = error.detail.take() {
                error.description = format!("{} ({detail})", error.description).into();
            }
        }
        match &self.callbacks.error {
            Some(handler) => std::panic::catch_unwind(AssertUnwindSafe(|| handler(&error)))
                .unwrap_or_else(|_| {
                    log::error!("jwt: the error callback panicked; answering the default error");
                    JwtError::internal("a callback failed").to_response()
                }),
            None => error.to_response(),
        }
    }

    fn settings(&self) -> &Settings {
        self.codec.settings()
    }
}

/// Runs `future` (which calls the application's callbacks), turning a panic into a 500 error
/// for this request only: the server keeps serving.
async fn unwind_safe<T>(
    what: &'static str,
    future: impl Future<Output = Result<T, JwtError>>,
) -> Result<T, JwtError> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(_) => Err(panicked(what)),
    }
}

/// A callback panicked during `what`: 500 for this request only.
fn panicked(what: &str) -> JwtError {
    log::error!("jwt: a callback panicked during {what}; answering 500");
    JwtError::internal("a callback failed")
}

/// 401 for a token whose identity the identity callback does not know.
fn unknown_identity() -> JwtError {
    JwtError::new(
        Status::Unauthorized,
        ErrorKind::UnknownIdentity,
        "Invalid JWT",
        "User does not exist",
    )
}

fn missing_token() -> JwtError {
    JwtError::new(
        Status::Unauthorized,
        ErrorKind::MissingToken,
        "Authorization Required",
        "Request does not contain an access token",
    )
}

/// A body that is not a JSON object: a 400 that says what is wrong.
fn body_error(error: serde_json::Error) -> JwtError {
    let description = if error.is_data() {
        "Request body must be a JSON object".to_string()
    } else if error.is_eof() && error.column() == 0 && error.line() == 1 {
        "Request body is empty: send a JSON object".to_string()
    } else if error.is_eof() {
        format!("Request body is truncated JSON: {error}")
    } else {
        format!("Request body is not valid JSON: {error}")
    };
    JwtError::bad_body(Status::BadRequest, description)
}
