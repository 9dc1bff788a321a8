//! [`JwtManager`]: issuing tokens from a handler (Flask-JWT-Extended's `create_access_token`
//! and `create_refresh_token`).

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::Request;
use serde::Serialize;
use serde_json::Value;

use crate::claims::Payload;
use crate::error::JwtError;
use crate::http::engine::Authenticator;
use crate::http::engine::Registered;
use crate::http::issue::{Freshness, TokenRequest, TokenType};
use crate::settings::Settings;

/// A request guard that issues tokens signed with the configured key: Flask-JWT-Extended's
/// `create_access_token` and `create_refresh_token`.
///
/// The identity becomes the identity claim (`sub` in the extended profile); the
/// `additional_claims_loader` and `additional_headers_loader` callbacks add to every token.
///
/// ```
/// # use rocket::post;
/// use rocket::serde::json::{json, Value};
/// use rocket_flask_jwt_runtime::extended::{Freshness, JwtManager};
/// use rocket_flask_jwt_runtime::JwtResponse;
///
/// #[post("/login")]
/// fn login(jwt: JwtManager<'_>) -> Result<Value, JwtResponse> {
///     // ... check the credentials, then:
///     Ok(json!({
///         "access_token": jwt.create_access_token("user1", Freshness::Fresh)?,
///         "refresh_token": jwt.create_refresh_token("user1")?,
///     }))
/// }
/// ```
pub struct JwtManager<'r> {
    engine: &'r dyn Authenticator,
}

impl JwtManager<'_> {
    /// An access token for `identity`, fresh or not (`true`/`false`, or a [`Freshness`]).
    pub fn create_access_token(
        &self,
        identity: impl Serialize,
        fresh: impl Into<Freshness>,
    ) -> Result<String, JwtError> {
        self.create(identity, TokenType::Access, fresh.into(), Payload::new())
    }

    /// A refresh token for `identity` (never fresh).
    pub fn create_refresh_token(&self, identity: impl Serialize) -> Result<String, JwtError> {
        self.create(
            identity,
            TokenType::Refresh,
            Freshness::NotFresh,
            Payload::new(),
        )
    }

    /// A token of `kind` for `identity` with `claims` added last (Flask-JWT-Extended's
    /// `additional_claims` argument).
    pub fn create(
        &self,
        identity: impl Serialize,
        kind: TokenType,
        fresh: Freshness,
        claims: Payload,
    ) -> Result<String, JwtError> {
        let identity = serde_json::to_value(identity).map_err(|e| {
            JwtError::internal(format!("the identity could not be serialised: {e}"))
        })?;
        let mut request = TokenRequest::new(identity, kind, fresh);
        request.claims = claims;
        self.engine.create_token(request)
    }

    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        self.engine.settings()
    }
}

/// The identity claim of `claims` (for re-issuing on refresh).
pub(crate) fn identity_of(claims: &Payload, settings: &Settings) -> Value {
    claims
        .get(&settings.identity_claim)
        .cloned()
        .unwrap_or(Value::Null)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for JwtManager<'r> {
    /// The fairing is not attached.
    type Error = JwtError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match request.rocket().state::<Registered>() {
            Some(Registered(engine)) => Outcome::Success(JwtManager {
                engine: engine.as_ref(),
            }),
            None => {
                let error = JwtError::internal(
                    "the Jwt fairing is not attached: JwtManager cannot issue tokens",
                );
                log::error!("jwt: {error}");
                Outcome::Error((Status::InternalServerError, error))
            }
        }
    }
}
