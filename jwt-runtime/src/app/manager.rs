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
use crate::http::finish::Rotated;
use crate::http::issue::{unverified_parts, Freshness, TokenRequest, TokenType};
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
    request: &'r Request<'r>,
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
    ///
    /// With `refresh_token_rotation` on, the first access token issued in a request whose
    /// refresh token was rotated is recorded with the token's family, so that a reuse of the
    /// family revokes it too.
    pub fn create(
        &self,
        identity: impl Serialize,
        kind: TokenType,
        fresh: Freshness,
        mut claims: Payload,
    ) -> Result<String, JwtError> {
        let identity = serde_json::to_value(identity).map_err(|e| {
            JwtError::internal(format!("the identity could not be serialised: {e}"))
        })?;
        if kind == TokenType::Access
            && let Some(jti) = self.rotated().and_then(Rotated::take_access_jti)
        {
            claims.entry("jti").or_insert(Value::String(jti));
        }
        crate::http::dpop::bind(self.request, &mut claims);
        let login = kind == TokenType::Access && fresh == Freshness::Fresh;
        let mut request = TokenRequest::new(identity, kind, fresh);
        request.claims = claims;
        let token = self.engine.create_token(request)?;
        if let (true, Some(telemetry)) = (login, self.engine.telemetry()) {
            // Flask-JWT-Extended's login issues a fresh access token.
            telemetry.count(crate::telemetry::Event::Login);
        }
        if let (true, Some(audit)) = (login, self.engine.audit()) {
            let subject = crate::http::login::issued_subject(&token, self.settings());
            audit.login(self.request, subject.as_deref());
        }
        Ok(token)
    }

    /// With `refresh_token_rotation` on, in a refresh route's handler: the refresh token that
    /// replaced the presented one, to send to the client (in the body; a token that came in a
    /// cookie is already in the response's refresh cookies). `None` without rotation.
    ///
    /// ```
    /// # use rocket::post;
    /// use rocket::serde::json::{json, Value};
    /// use rocket_flask_jwt_runtime::extended::{Freshness, JwtManager};
    /// use rocket_flask_jwt_runtime::{JwtAuth, JwtResponse, Refresh};
    ///
    /// // `#[jwt_required(refresh)]` in an application.
    /// #[post("/refresh")]
    /// fn refresh(auth: JwtAuth<Refresh>, jwt: JwtManager<'_>) -> Result<Value, JwtResponse> {
    ///     let identity = auth.claims().and_then(|claims| claims.get("sub").cloned());
    ///     let access_token = jwt.create_access_token(identity, Freshness::NotFresh)?;
    ///     Ok(json!({
    ///         "access_token": access_token,
    ///         "refresh_token": jwt.rotated_refresh_token(),
    ///     }))
    /// }
    /// ```
    pub fn rotated_refresh_token(&self) -> Option<&str> {
        self.rotated().map(|rotated| rotated.refresh_token.as_str())
    }

    /// A login's refresh token for `identity` that starts a session: with
    /// `refresh_token_rotation` on, its family is recorded now (with the client's `User-Agent`
    /// when `refresh_token_record_user_agent` is on), so that the session is listed
    /// ([`Revoker::sessions`](crate::revocation::Revoker::sessions)) before its first refresh.
    /// Without rotation, [`create_refresh_token`](Self::create_refresh_token). 503 when the
    /// store does not answer.
    pub async fn start_session(&self, identity: impl Serialize) -> Result<String, JwtError> {
        let token = self.create_refresh_token(identity)?;
        if let Some(rotation) = self.engine.rotation() {
            let (_, claims) = unverified_parts(&token)
                .ok_or_else(|| JwtError::internal("an issued token cannot be read"))?;
            rotation.start(self.request, &claims).await?;
        }
        Ok(token)
    }

    /// The RFC 7638 thumbprint of the key this request proved it holds with a DPoP proof (RFC
    /// 9449), if it did: every token this manager issues is then bound to it (`cnf.jkt`), and
    /// the answer should say `"token_type": "DPoP"` ([`token_type`](Self::token_type)).
    ///
    /// A request proves it when the `dpop` setting is `allowed` or `required` and it carries a
    /// valid `DPoP` header (a login), or when its route's guard checked a DPoP-bound token and
    /// its proof (a refresh).
    pub fn dpop_key(&self) -> Option<&str> {
        crate::http::dpop::proven_key(self.request)
    }

    /// `"DPoP"` when the tokens issued are bound to the request's key ([`dpop_key`](Self::dpop_key)),
    /// else `"Bearer"`: the `token_type` of an OAuth token answer.
    pub fn token_type(&self) -> &'static str {
        match self.dpop_key() {
            Some(_) => "DPoP",
            None => "Bearer",
        }
    }

    /// The request's rotation, if its refresh token was rotated.
    fn rotated(&self) -> Option<&Rotated> {
        self.engine.rotation()?;
        crate::http::finish::of(self.request).rotated.get()
    }

    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        self.engine.settings()
    }
}

/// With the `dpop` setting on, the DPoP proof of a request that issues tokens without a token of
/// its own (a login): checked, then recorded against replays, so that the tokens issued are bound
/// to its key. A request whose route's guard already proved a key (a refresh) is left alone; a
/// request without a proof gets bearer tokens.
async fn prove_login_key(
    engine: &dyn Authenticator,
    request: &Request<'_>,
) -> Result<(), JwtError> {
    let settings = engine.settings();
    if !settings.dpop.is_on() || crate::http::dpop::proven_key(request).is_some() {
        return Ok(());
    }
    let now = crate::claims::now();
    let Some(accepted) =
        crate::http::dpop::check_without_token(engine.dpop(), request, settings, now)?
    else {
        return Ok(());
    };
    engine.dpop().record(&accepted).await?;
    crate::http::dpop::keep(request, accepted);
    Ok(())
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
            Some(Registered(engine)) => match prove_login_key(engine.as_ref(), request).await {
                Ok(()) => Outcome::Success(JwtManager {
                    engine: engine.as_ref(),
                    request,
                }),
                Err(error) => {
                    log::info!(
                        "jwt: {} {}: {error}",
                        request.method(),
                        request.uri().path()
                    );
                    if let Some(audit) = engine.audit() {
                        audit.refusal(request, &error);
                    }
                    let response = engine.respond(error.clone(), None, None);
                    let status = response.status;
                    let _ = crate::http::finish::of(request).refusal.set(response);
                    Outcome::Error((status, error))
                }
            },
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
