//! The resolved extension: codec plus callbacks, and the two paths through it — a protected
//! request ([`Engine::authenticate`]) and a login ([`Engine::login`]).

use std::borrow::Cow;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt as _;

use rocket::http::{Method, Status};
use rocket::Request;
use serde_json::Value;

use crate::authz::admission;
use crate::authz::authorities::Authorities;
use crate::authz::authorization;
use crate::authz::challenge;
use crate::authz::rules::{Location, RouteRules};
use crate::claims::{claim_text, now, Payload};
use crate::error::{ErrorKind, JwtError, JwtResponse};
use crate::http::answer;
use crate::http::callbacks::{BoxFuture, Callbacks};
use crate::http::extract;
use crate::http::identity::{Authenticated, Identity};
use crate::http::issue;
use crate::http::locations::{self, Found};
use crate::revocation::Revocation;
use crate::settings::{Profile, Settings};
use crate::token::access_token;
use crate::token::codec::{Checked, TokenCodec};
use crate::token::validate::Fetch;
use crate::token::verified::VerifiedToken;

/// Managed state: the attached [`Jwt`](crate::Jwt), without its identity type; what the request
/// guards ([`JwtAuth`](crate::JwtAuth), [`JwtCookies`](crate::JwtCookies),
/// [`JwtManager`](crate::JwtManager)) reach the engine through.
pub(crate) struct Registered(pub(crate) Arc<dyn Authenticator>);

/// What the request guard needs, without the identity type.
pub(crate) trait Authenticator: Send + Sync + 'static {
    /// Finds, decodes and validates the request's token as `rules` demand, then looks up the
    /// identity.
    fn authenticate<'r>(
        &'r self,
        request: &'r Request<'_>,
        rules: RouteRules,
    ) -> Authentication<'r>;

    /// Turns an error into the response the profile's error callbacks build. A missing token
    /// gets, in the Flask-JWT profile, the `WWW-Authenticate` challenge for `realm` (the default
    /// realm when `None`).
    fn respond(&self, error: JwtError, realm: Option<&str>) -> JwtResponse;

    /// The resolved settings.
    fn settings(&self) -> &Settings;

    /// Issues an access or refresh token for `identity` (the identity claim's value).
    fn create_token(&self, request: issue::TokenRequest) -> Result<String, JwtError>;
}

/// A [`Jwt`](crate::Jwt) resolved at ignition.
pub(crate) struct Engine<U> {
    pub(crate) codec: TokenCodec,
    /// With the `authorities` setting, the codec of each trusted authority.
    pub(crate) authorities: Option<Authorities>,
    pub(crate) callbacks: Arc<Callbacks<U>>,
    /// The `identity_claim` setting, shared with every verified token (no copy per request).
    pub(crate) identity_claim: Arc<str>,
    /// The revocation check, when a store or the blocklist callback is configured.
    pub(crate) revocation: Option<Arc<Revocation>>,
}

impl<U> Engine<U> {
    pub(crate) fn new(
        codec: TokenCodec,
        authorities: Option<Authorities>,
        callbacks: Arc<Callbacks<U>>,
        revocation: Option<Arc<Revocation>>,
    ) -> Self {
        let identity_claim = Arc::from(codec.settings().identity_claim.as_str());
        Engine {
            codec,
            authorities,
            callbacks,
            identity_claim,
            revocation,
        }
    }
}

/// How authentication went, as far as it could go without waiting.
pub(crate) enum Authentication<'r> {
    /// Decided already: a verified-token cache hit with a sync identity callback, or a request
    /// refused before any token was verified.
    Decided(Result<Authenticated, JwtError>),
    /// To await: a token to verify (keys may be fetched) or an async callback to run.
    Pending(BoxFuture<'r, Result<Authenticated, JwtError>>),
}

/// What a request authenticated as, before the identity is type-erased.
struct Outcome<U> {
    identity: Option<U>,
    token: Option<VerifiedToken>,
}

impl<U> Outcome<U> {
    /// An optional route's request without a token.
    fn anonymous() -> Self {
        Outcome {
            identity: None,
            token: None,
        }
    }
}

/// Where [`Engine::decide_now`] left a request.
enum Early<'r, U> {
    Decided(Result<Outcome<U>, JwtError>),
    Verify(Found<'r>),
    /// Verified and admitted; its revocation state has to be awaited.
    CheckRevocation(VerifiedToken),
    /// Verified, admitted and not revoked; an async token verification callback has to be
    /// awaited, then the identity looked up.
    VerifyClaims(VerifiedToken),
}

impl<U: Send + Sync + 'static> Engine<U> {
    /// The request's token: the request callback's, or the first of the route's locations.
    fn token<'r>(
        &self,
        request: &'r Request<'_>,
        rules: RouteRules,
    ) -> Result<Found<'r>, JwtError> {
        match &self.callbacks.request {
            Some(request_handler) => match request_handler(request)? {
                Some(token) => Ok(Found {
                    token: Cow::Owned(token),
                    location: Location::Headers,
                    csrf: None,
                }),
                None => Err(JwtError::missing_token(JwtError::NO_TOKEN)),
            },
            None => locations::find(request, self.codec.settings(), rules),
        }
    }

    /// Everything that needs no waiting: the token, its validation when no key has to be fetched
    /// (a verified-token cache hit, or static keys), the route's requirements and a sync identity
    /// callback. Anything else is left to [`identify`](Self::identify).
    fn decide_now<'r>(&self, request: &'r Request<'_>, rules: RouteRules) -> Early<'r, U> {
        let settings = self.codec.settings();
        if settings.profile == Profile::Extended && request.method() == Method::Options {
            // Flask-JWT-Extended's exempt method: CORS preflights are not authenticated.
            return Early::Decided(Ok(Outcome::anonymous()));
        }
        let found = match self.token(request, rules) {
            Ok(found) => found,
            Err(error) if rules.optional && error.kind == ErrorKind::MissingToken => {
                return Early::Decided(Ok(Outcome::anonymous()))
            }
            Err(error) => return Early::Decided(Err(error)),
        };
        let lookup = self.callbacks.identity.as_ref();
        if lookup.is_some_and(|lookup| !lookup.is_sync()) {
            return Early::Verify(found);
        }
        let now = now();
        let codec = match self.verifier(&found.token, rules) {
            Ok(codec) => codec,
            Err(error) => return Early::Decided(Err(error)),
        };
        let claims = match &self.callbacks.decode {
            Some(_) if !codec.validates_without_io() => return Early::Verify(found),
            Some(decode) => {
                decode(&found.token, codec).map(|claims| decoded(codec, &found.token, claims))
            }
            None => match codec.cached(&found.token, now) {
                Ok(Some(claims)) => Ok(claims),
                Ok(None) if codec.validates_without_io() => codec.validate_now(&found.token, now),
                Ok(None) => return Early::Verify(found),
                Err(error) => Err(error),
            },
        };
        let token = match claims.and_then(|claims| self.admit(claims, &found, rules, now)) {
            Ok(token) => token,
            Err(error) => return Early::Decided(Err(self.with_parts(error, &found))),
        };
        if let Some(revocation) = &self.revocation {
            match revocation.check_now(&token) {
                Some(Ok(())) => {}
                Some(Err(error)) => return Early::Decided(Err(error)),
                None => return Early::CheckRevocation(token),
            }
        }
        if let Some(verify) = &self.callbacks.loaders.token_verification {
            match verify.call_now(&token.header(), &token.claims) {
                Some(accepted) => {
                    if let Err(error) = claims_verified(accepted, &token) {
                        return Early::Decided(Err(error));
                    }
                }
                None => return Early::VerifyClaims(token),
            }
        }
        let identity = match lookup {
            Some(lookup) => match lookup.call_now(&token.claims, &settings.identity_claim) {
                Some(found) => found,
                None => return Early::Verify(found),
            },
            None => Ok(None),
        };
        Early::Decided(self.conclude_identity(identity, token))
    }

    /// The codec that validates `token`: the one codec, or that of the trusted authority its
    /// `iss` names (no I/O: an unknown issuer is refused without a fetch).
    fn verifier(&self, token: &str, rules: RouteRules) -> Result<&TokenCodec, JwtError> {
        match &self.authorities {
            None => Ok(&self.codec),
            Some(authorities) => authorities.select(token, rules.authorities),
        }
    }

    /// The route's requirements, on verified claims.
    fn admit(
        &self,
        checked: Checked,
        found: &Found<'_>,
        rules: RouteRules,
        now: i64,
    ) -> Result<VerifiedToken, JwtError> {
        let settings = self.codec.settings();
        let claims = &checked.claims;
        access_token::check(claims, settings)?;
        admission::check(claims, rules, found.csrf.as_deref(), settings, now as f64)?;
        authorization::check(claims, &rules.authorization, settings)?;
        let token = VerifiedToken::new(checked, found.location, Arc::clone(&self.identity_claim));
        Ok(token)
    }

    /// The token verification callback, sync or async (after the revocation check, in
    /// Flask-JWT-Extended's order).
    async fn verify_claims(&self, token: &VerifiedToken) -> Result<(), JwtError> {
        match &self.callbacks.loaders.token_verification {
            Some(verify) => {
                let accepted = verify.call(token.header(), Arc::clone(&token.claims)).await;
                claims_verified(accepted, token)
            }
            None => Ok(()),
        }
    }

    /// The identity callback's answer for `token`: who, or the profile's "unknown user" error.
    fn conclude_identity(
        &self,
        identity: Result<Option<U>, JwtError>,
        token: VerifiedToken,
    ) -> Result<Outcome<U>, JwtError> {
        match identity? {
            Some(identity) => Ok(Outcome {
                identity: Some(identity),
                token: Some(token),
            }),
            None if self.callbacks.identity.is_none() => Ok(Outcome {
                identity: None,
                token: Some(token),
            }),
            None => Err(self
                .unknown_identity(&token)
                .with_parts(token.header(), Arc::clone(&token.claims))),
        }
    }

    /// Validates the found token (fetching keys if needed), checks the route's requirements,
    /// then looks up the identity.
    async fn identify(&self, found: Found<'_>, rules: RouteRules) -> Result<Outcome<U>, JwtError> {
        let now = now();
        let codec = self.verifier(&found.token, rules)?;
        let claims = match &self.callbacks.decode {
            Some(decode) => {
                // The callback validates without I/O: bring the JWKS up to date for it first.
                codec.prefetch_key(&found.token).await;
                decode(&found.token, codec).map(|claims| decoded(codec, &found.token, claims))
            }
            None => codec.verify_shared(&found.token, Fetch::Allowed).await,
        };
        let token = claims
            .and_then(|claims| self.admit(claims, &found, rules, now))
            .map_err(|error| self.with_parts(error, &found))?;
        self.identify_unrevoked(token).await
    }

    /// The revocation check (awaited), the token verification callback, then the identity of
    /// an admitted token.
    async fn identify_unrevoked(&self, token: VerifiedToken) -> Result<Outcome<U>, JwtError> {
        if let Some(revocation) = &self.revocation {
            revocation.check(&token).await?;
        }
        self.identify_verified(token).await
    }

    /// The token verification callback (awaited), then the identity of an admitted, unrevoked
    /// token.
    async fn identify_verified(&self, token: VerifiedToken) -> Result<Outcome<U>, JwtError> {
        self.verify_claims(&token).await?;
        let identity = match &self.callbacks.identity {
            Some(lookup) => {
                lookup
                    .call(
                        Arc::clone(&token.claims),
                        &self.codec.settings().identity_claim,
                    )
                    .await
            }
            None => Ok(None),
        };
        self.conclude_identity(identity, token)
    }

    /// For an expired token in the extended profile, the token's header and claims, for the
    /// expired-token callback (the signature was verified before the validity period failed).
    /// As Flask-JWT-Extended, which reads an expired token again to hand it over, a CSRF value
    /// sent with an expired cookie token is still compared: a wrong one is the answer.
    fn with_parts(&self, error: JwtError, found: &Found<'_>) -> JwtError {
        if self.codec.settings().profile != Profile::Extended || !error.is_expired() {
            return error;
        }
        let Some((header, claims)) = issue::unverified_parts(&found.token) else {
            return error;
        };
        if let Some(sent) = found.csrf.as_deref() {
            if admission::csrf_matches(&claims, sent) != Some(true) {
                return admission::csrf_mismatch();
            }
        }
        error.with_parts(Arc::new(header), Arc::new(claims))
    }

    /// 401 for a token whose identity the identity callback does not know.
    fn unknown_identity(&self, token: &VerifiedToken) -> JwtError {
        match self.codec.settings().profile {
            Profile::FlaskJwt => unknown_identity(),
            Profile::Extended => JwtError::new(
                Status::Unauthorized,
                ErrorKind::UnknownIdentity,
                "Invalid JWT",
                format!(
                    "Error loading the user {}",
                    token.identity().map(claim_text).unwrap_or_default()
                ),
            ),
        }
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
            return handler.call(json).await;
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
    fn authenticate<'r>(
        &'r self,
        request: &'r Request<'_>,
        rules: RouteRules,
    ) -> Authentication<'r> {
        let conclude = move |outcome: Result<Outcome<U>, JwtError>| match outcome {
            Ok(Outcome { identity, token }) => Ok(Authenticated {
                identity: identity.map(Identity::new),
                token,
            }),
            Err(error) => {
                log::info!(
                    "jwt: {} {}: {error}",
                    request.method(),
                    request.uri().path()
                );
                Err(error)
            }
        };
        let early = std::panic::catch_unwind(AssertUnwindSafe(|| self.decide_now(request, rules)))
            .unwrap_or_else(|_| Early::Decided(Err(panicked("authentication"))));
        match early {
            Early::Decided(outcome) => Authentication::Decided(conclude(outcome)),
            Early::Verify(found) => Authentication::Pending(Box::pin(async move {
                conclude(unwind_safe("authentication", self.identify(found, rules)).await)
            })),
            Early::CheckRevocation(token) => Authentication::Pending(Box::pin(async move {
                conclude(unwind_safe("authentication", self.identify_unrevoked(token)).await)
            })),
            Early::VerifyClaims(token) => Authentication::Pending(Box::pin(async move {
                conclude(unwind_safe("authentication", self.identify_verified(token)).await)
            })),
        }
    }

    fn respond(&self, mut error: JwtError, realm: Option<&str>) -> JwtResponse {
        let settings = self.codec.settings();
        if settings.profile == Profile::Extended {
            return answer::extended(&error, settings, &self.callbacks.loaders);
        }
        if error.kind == ErrorKind::MissingToken && error.headers.is_empty() {
            let realm = realm.unwrap_or(&settings.default_realm);
            error = extract::authorization_required(&settings.auth_header_prefix, realm);
        }
        if settings.detailed_errors {
            if let Some(detail) = error.detail.take() {
                error.description = format!("{} ({detail})", error.description).into();
            }
        }
        if challenge::answers_rfc6750(settings) {
            challenge::set_challenge(
                &mut error,
                realm.unwrap_or(&settings.default_realm),
                settings,
            );
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

    fn create_token(&self, request: issue::TokenRequest) -> Result<String, JwtError> {
        issue::create(&self.codec, &self.callbacks.loaders, request)
    }
}

/// What a custom decode callback returned, with the token's header (read again: the callback
/// gives only the claims).
fn decoded(codec: &TokenCodec, token: &str, claims: Payload) -> Checked {
    Checked {
        claims: Arc::new(claims),
        header: codec.header(token).unwrap_or_default(),
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

/// The token verification callback's answer for `token`: `false` is 400 `User claims
/// verification failed`.
fn claims_verified(accepted: bool, token: &VerifiedToken) -> Result<(), JwtError> {
    if accepted {
        return Ok(());
    }
    Err(JwtError::new(
        Status::BadRequest,
        ErrorKind::ClaimsVerificationFailed,
        "Invalid token",
        "User claims verification failed",
    )
    .with_parts(token.header(), Arc::clone(&token.claims)))
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
