//! The auth resource's path through the engine ([`Engine::login`]): the login data read as
//! Flask-JWT reads them, the authentication callback, Flask-JWT's encode handler (payload and
//! headers callbacks, required claims, signing) and the auth response.

use rocket::http::Status;
use rocket::Request;
use serde_json::Value;

use crate::claims::{claim_text, Payload};
use crate::error::{JwtError, JwtResponse};
use crate::http::engine::{unwind_safe, Authenticator as _, Engine};
use crate::http::issue;
use crate::settings::Settings;
use crate::telemetry::Event;

impl<U: Send + Sync + 'static> Engine<U> {
    /// The auth resource: login data in, the auth response (or error) out.
    pub(crate) async fn login(
        &self,
        request: &Request<'_>,
        body: Result<Vec<u8>, JwtError>,
    ) -> JwtResponse {
        match unwind_safe("login", self.try_login(request, body)).await {
            Ok(response) => response,
            Err(error) => {
                log::info!("jwt: login refused: {error}");
                self.respond(error, None, None)
            }
        }
    }

    async fn try_login(
        &self,
        request: &Request<'_>,
        body: Result<Vec<u8>, JwtError>,
    ) -> Result<JwtResponse, JwtError> {
        let body = body?;
        if let Some(handler) = &self.callbacks.auth_request {
            let json: Value = serde_json::from_slice(&body).map_err(body_error)?;
            return handler.call(json).await;
        }
        let settings = self.codec().settings();
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
        if let Some(telemetry) = &self.telemetry {
            telemetry.count(Event::Login);
        }
        if let Some(audit) = &self.audit {
            audit.login(request, issued_subject(&token, self.settings()).as_deref());
        }
        Ok(match &self.callbacks.auth_response {
            Some(response) => response(&token, &identity),
            None => JwtResponse::json(Status::Ok, &serde_json::json!({ "access_token": token })),
        })
    }

    /// Flask-JWT's encode handler: payload and headers callbacks, required claims, signing.
    fn encode(&self, identity: &U) -> Result<String, JwtError> {
        if let Some(encode) = &self.callbacks.encode {
            return encode(identity, self.codec());
        }
        let settings = self.codec().settings();
        let payload = match (&self.callbacks.payload, self.callbacks.identity_claim) {
            (Some(payload), _) => payload(identity, settings),
            (None, Some(claim)) => self.codec().default_payload(claim(identity)?),
            (None, None) => return Err(JwtError::internal("no payload handler is configured")),
        };
        let missing = self.codec().missing_required_claims(&payload);
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
        self.codec().encode(&payload, &headers)
    }
}

/// The identity claim's value of `token`, a token this application just issued (read without
/// verification: we signed it), as text; for the audit records.
pub(crate) fn issued_subject(token: &str, settings: &Settings) -> Option<String> {
    let (_, claims) = issue::unverified_parts(token)?;
    Some(claim_text(claims.get(&settings.identity_claim)?).into_owned())
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
