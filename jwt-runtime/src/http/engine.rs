//! The resolved extension: codec plus callbacks, and the path of a protected request through it
//! ([`Engine::authenticate`]); the other path, a login, is [`login`](super::login).

use std::borrow::Cow;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::future::{ready, Either, Ready};
use futures_util::FutureExt as _;

use rocket::http::{Method, Status};
use rocket::Request;

use crate::authz::admission;
use crate::authz::authorization;
use crate::authz::rules::{Location, RouteRules};
use crate::claims::{claim_text, now};
use crate::dpop::DpopVerifier;
use crate::error::{ErrorKind, JwtError, JwtResponse};
use crate::http::answer;
use crate::http::callbacks::{BoxFuture, Callbacks, DecodeFn, IdentityLookup};
use crate::http::dpop;
use crate::http::identity::{Authenticated, Identity};
use crate::http::issue;
use crate::http::locations::{self, Found};
use crate::http::rotation::Rotator;
use crate::revocation::Revocation;
use crate::settings::{DpopMode, Profile, Settings};
use crate::telemetry::{Audit, Reason, Telemetry};
use crate::token::claim_checks;
use crate::token::claims::TokenClaims;
use crate::token::codec::{Checked, TokenCodec};
use crate::token::verified::VerifiedToken;
use crate::token::verifier::Verifier;
use std::time::Instant;

/// Managed state: the attached [`Jwt`](crate::Jwt), without its identity type; what the request
/// guards ([`JwtAuth`](crate::JwtAuth), [`JwtCookies`](crate::extended::JwtCookies),
/// [`JwtManager`](crate::extended::JwtManager)) reach the engine through.
pub(crate) struct Registered(pub(crate) Arc<dyn Authenticator>);

/// An authentication's answer: decided at once, or a future that may wait (for a key set, the
/// revocation store, an async callback). Either way, awaited like a future.
pub(crate) type Authentication<'r> =
    Either<Ready<Result<Authenticated, JwtError>>, BoxFuture<'r, Result<Authenticated, JwtError>>>;

/// What the request guard needs, without the identity type.
pub(crate) trait Authenticator: Send + Sync + 'static {
    /// Finds, decodes and validates the request's token as `rules` demand, then looks up the
    /// identity. Where no step of the flow can wait (see [`Engine::decides_now`]) the request is
    /// decided before this returns, without a future; otherwise the answer is a boxed future.
    fn authenticate<'r>(
        &'r self,
        request: &'r Request<'_>,
        rules: &'static RouteRules,
    ) -> Authentication<'r>;

    /// Turns an error into the response the profile's error callbacks build. A missing token
    /// gets, in the Flask-JWT profile, the `WWW-Authenticate` challenge for `realm` (the default
    /// realm when `None`); a route that takes DPoP (`dpop`, else the `dpop` setting) its `DPoP`
    /// challenge.
    fn respond(&self, error: JwtError, realm: Option<&str>, dpop: Option<DpopMode>) -> JwtResponse;

    /// The DPoP checks.
    fn dpop(&self) -> &DpopVerifier;

    /// The metrics' counters, when `metrics` is on.
    fn telemetry(&self) -> Option<&Arc<Telemetry>>;

    /// The audit records, when `audit_log` is on.
    fn audit(&self) -> Option<&Audit>;

    /// The token validation (its codecs, for the metrics).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn verifier(&self) -> &Verifier;

    /// The revocation store, when one is configured.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn revocation_store(&self) -> Option<&Arc<dyn crate::revocation::RevocationStore>>;

    /// The resolved settings.
    fn settings(&self) -> &Settings;

    /// Issues an access or refresh token for `identity` (the identity claim's value).
    fn create_token(&self, request: issue::TokenRequest) -> Result<String, JwtError>;

    /// The refresh-token rotation, when `refresh_token_rotation` is on.
    fn rotation(&self) -> Option<&Rotator>;
}

/// A [`Jwt`](crate::Jwt) resolved at ignition.
pub(crate) struct Engine<U> {
    /// The token validation: the codec, or one per trusted authority.
    pub(crate) verifier: Verifier,
    pub(crate) callbacks: Arc<Callbacks<U>>,
    /// The `identity_claim` setting, shared with every verified token (no copy per request).
    pub(crate) identity_claim: Arc<str>,
    /// The revocation check, when a store or the blocklist callback is configured.
    pub(crate) revocation: Option<Arc<Revocation>>,
    /// The refresh-token rotation of refresh routes, when `refresh_token_rotation` is on.
    pub(crate) rotation: Option<Rotator>,
    /// The DPoP checks of routes that take DPoP (the `dpop` setting, or the route's own).
    pub(crate) dpop: DpopVerifier,
    /// The metrics' counters, when `metrics` is on.
    pub(crate) telemetry: Option<Arc<Telemetry>>,
    /// The audit records, when `audit_log` is on.
    pub(crate) audit: Option<Audit>,
    /// Whether the steps every route takes have nothing to wait for: keys that are never
    /// fetched, no decode callback, no revocation check, no token verification callback, a sync
    /// identity callback or none (see [`decides_now`](Engine::decides_now)).
    steps_without_waits: bool,
}

impl<U> Engine<U> {
    pub(crate) fn new(
        verifier: Verifier,
        callbacks: Arc<Callbacks<U>>,
        revocation: Option<Arc<Revocation>>,
        rotation: Option<Rotator>,
        dpop: DpopVerifier,
        telemetry: Option<Arc<Telemetry>>,
        audit: Option<Audit>,
    ) -> Self {
        let identity_claim = Arc::from(verifier.settings().identity_claim.as_str());
        let steps_without_waits = verifier.validates_now()
            && callbacks.decode.is_none()
            && revocation.is_none()
            && callbacks.loaders.token_verification.is_none()
            && callbacks
                .identity
                .as_ref()
                .is_none_or(IdentityLookup::is_sync);
        Engine {
            steps_without_waits,
            verifier,
            callbacks,
            identity_claim,
            revocation,
            rotation,
            dpop,
            telemetry,
            audit,
        }
    }

    /// The codec of the settings (with several authorities, the first authority's), which signs.
    pub(crate) fn codec(&self) -> &TokenCodec {
        self.verifier.codec()
    }
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

impl<U: Send + Sync + 'static> Engine<U> {
    /// The request flow, written once: the token, its verification (the verified-token cache,
    /// then the pipeline, fetching keys when needed), the route's admission, on a route that
    /// takes DPoP the proof's checks, the revocation check, the token verification callback, the
    /// proof's replay check, the identity, then, on a refresh route with
    /// `refresh_token_rotation` on, the rotation.
    ///
    /// Every step that has nothing to wait for (a cache hit, static keys, a sync callback, a
    /// revocation state the near-cache holds) completes when first polled. Where no step of the
    /// route can wait at all, [`flow_now`](Self::flow_now) takes the same steps without a future.
    async fn flow(
        &self,
        request: &Request<'_>,
        rules: &'static RouteRules,
    ) -> Result<Outcome<U>, JwtError> {
        let settings = self.codec().settings();
        let Some(found) = self.found(request, rules)? else {
            return Ok(Outcome::anonymous());
        };
        let now = now();
        let checked = self.verify(&found.token, rules, now).await;
        let token = self.admitted(checked, &found, rules, now)?;
        let mode = rules.dpop_mode(settings);
        // Boxed: the request's future stays small on routes without DPoP.
        let proof = match mode.is_on() {
            true => dpop::check(
                &self.dpop,
                request,
                settings,
                mode,
                &found,
                &token.claims,
                now,
            )?
            .map(Box::new),
            false => None,
        };
        if let Some(revocation) = &self.revocation {
            revocation.check(&token).await?;
        }
        if let Some(verify) = &self.callbacks.loaders.token_verification {
            let accepted = verify.call(token.header(), token.payload()).await;
            claims_verified(accepted, &token)?;
        }
        if let Some(proof) = proof {
            // Last of the checks, so that a proof refused by another is never burnt; in a
            // future of its own: the request's future stays small on the usual path.
            Box::pin(self.dpop.record(&proof)).await?;
            dpop::keep(request, *proof);
        }
        let identity = match &self.callbacks.identity {
            Some(lookup) => lookup.call(&token.claims, &settings.identity_claim).await,
            None => Ok(None),
        };
        let outcome = self.conclude_identity(identity, token)?;
        if let Some(rotation) = &self.rotation
            && rules.refresh
            // A route that takes either type rotates only refresh tokens.
            && let Some(token) = outcome
                .token
                .as_ref()
                .filter(|token| token.claims.is_refresh())
        {
            // In a future of its own: the request's future stays small on the usual path.
            let create = |request| issue::create(self.codec(), &self.callbacks.loaders, request);
            Box::pin(rotation.rotate(request, token, create)).await?;
        }
        Ok(outcome)
    }

    /// Whether the flow has nothing to wait for on a route of `rules`: the steps every route
    /// takes have none (`steps_without_waits`), the route takes no DPoP proof (whose replay
    /// check may ask a store) and rotates no refresh token.
    fn decides_now(&self, rules: &'static RouteRules) -> bool {
        self.steps_without_waits
            && !rules.dpop_mode(self.codec().settings()).is_on()
            && !(rules.refresh && self.rotation.is_some())
    }

    /// [`flow`](Self::flow) where it has nothing to wait for ([`decides_now`](Self::decides_now)):
    /// the same steps, those that are off left out, without a future.
    fn flow_now(
        &self,
        request: &Request<'_>,
        rules: &'static RouteRules,
    ) -> Result<Outcome<U>, JwtError> {
        let Some(found) = self.found(request, rules)? else {
            return Ok(Outcome::anonymous());
        };
        let now = now();
        let checked = self
            .verifier
            .checked_now(&found.token, rules.authorities, now);
        let token = self.admitted(checked, &found, rules, now)?;
        let identity = match &self.callbacks.identity {
            Some(lookup) => lookup.call_now(&token.claims, &self.settings().identity_claim),
            None => Ok(None),
        };
        self.conclude_identity(identity, token)
    }

    /// The request's token, or `None` where the request goes without one: Flask-JWT-Extended's
    /// exempt method (CORS preflights), an optional route's request without a token.
    fn found<'r>(
        &self,
        request: &'r Request<'_>,
        rules: &'static RouteRules,
    ) -> Result<Option<Found<'r>>, JwtError> {
        if self.settings().profile == Profile::Extended && request.method() == Method::Options {
            return Ok(None);
        }
        match self.token(request, rules) {
            Ok(found) => Ok(Some(found)),
            Err(error) if rules.optional && error.kind == ErrorKind::MissingToken => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The verified token, admitted by the route's requirements (an expired token's error
    /// carries its parts for the expired-token callback).
    fn admitted(
        &self,
        checked: Result<Checked, JwtError>,
        found: &Found<'_>,
        rules: &'static RouteRules,
        now: i64,
    ) -> Result<VerifiedToken, JwtError> {
        checked
            .inspect(|checked| self.count_cache(checked))
            .and_then(|checked| self.admit(checked, found, rules, now))
            .map_err(|error| self.with_parts(error, found))
    }

    /// The end of every authentication: the metrics' and audit's records, the refusal's log
    /// line, and the identity type-erased.
    fn settle(
        &self,
        request: &Request<'_>,
        rules: &'static RouteRules,
        started: Option<Instant>,
        result: Result<Outcome<U>, JwtError>,
    ) -> Result<Authenticated, JwtError> {
        if let (Some(telemetry), Some(started)) = (&self.telemetry, started) {
            let (reason, proof_check) = match &result {
                Ok(Outcome { token: Some(_), .. }) => (Reason::Authenticated, None),
                Ok(Outcome { token: None, .. }) => (Reason::Anonymous, None),
                Err(error) => (Reason::of(error), error.proof_check()),
            };
            let route = request.route().map(|route| route as *const _ as usize);
            telemetry.record_request(route, reason, rules.refresh, started.elapsed(), proof_check);
        }
        match result {
            Ok(Outcome { identity, token }) => {
                if let (Some(audit), true, Some(token)) = (&self.audit, rules.refresh, &token) {
                    audit.refresh(request, token.identity().map(claim_text).as_deref());
                }
                Ok(Authenticated {
                    identity: identity.map(Identity::new),
                    token,
                })
            }
            Err(error) => {
                log::info!(
                    "jwt: {} {}: {error}",
                    request.method(),
                    request.uri().path()
                );
                if let Some(audit) = &self.audit {
                    audit.refusal(request, &error);
                }
                Err(error)
            }
        }
    }

    /// Counts a verified-token cache hit or miss, when metrics are on.
    fn count_cache(&self, checked: &Checked) {
        if let Some(telemetry) = &self.telemetry {
            let counter = match checked.from_cache {
                true => &telemetry.cache_hits,
                false => &telemetry.cache_misses,
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The request's token: the request callback's, or the first of the route's locations.
    fn token<'r>(
        &self,
        request: &'r Request<'_>,
        rules: &'static RouteRules,
    ) -> Result<Found<'r>, JwtError> {
        match &self.callbacks.request {
            Some(request_handler) => match request_handler(request)? {
                Some(token) => Ok(Found {
                    token: Cow::Owned(token),
                    location: Location::Headers,
                    csrf: None,
                    dpop: false,
                }),
                None => Err(JwtError::missing_token(JwtError::NO_TOKEN)),
            },
            None => locations::find(request, self.codec().settings(), rules),
        }
    }

    /// The token's header and claims once through the five checks: by the decode callback,
    /// or by the verifier (the verified-token cache, then the pipeline, fetching keys when
    /// needed).
    async fn verify(
        &self,
        token: &str,
        rules: &'static RouteRules,
        now: i64,
    ) -> Result<Checked, JwtError> {
        match &self.callbacks.decode {
            None => self.verifier.checked(token, rules.authorities, now).await,
            // In a future of its own: the request's future stays small on the usual path.
            Some(decode) => Box::pin(self.by_decode_callback(decode, token, rules)).await,
        }
    }

    /// The decode callback's claims. The callback validates without I/O: the JWKS is brought up
    /// to date for it first.
    async fn by_decode_callback(
        &self,
        decode: &DecodeFn,
        token: &str,
        rules: &'static RouteRules,
    ) -> Result<Checked, JwtError> {
        let codec = self.verifier.codec_for(token, rules.authorities)?;
        codec.prefetch_key(token).await;
        let claims = TokenClaims::from_payload(decode(token, codec)?);
        // The codec's own path checks these before its cache; the callback's claims here.
        claim_checks::check(&claims, codec.settings())?;
        Ok(decoded(codec, token, claims))
    }

    /// The route's requirements, on verified claims.
    fn admit(
        &self,
        checked: Checked,
        found: &Found<'_>,
        rules: &'static RouteRules,
        now: i64,
    ) -> Result<VerifiedToken, JwtError> {
        let settings = self.codec().settings();
        if checked.dpop_bound && !rules.dpop_mode(settings).is_on() {
            return Err(crate::token::validate::well_formed::bound_as_bearer());
        }
        let claims = &checked.claims;
        admission::check(
            claims,
            checked.refresh,
            rules,
            found.csrf.as_deref(),
            now as f64,
        )?;
        authorization::check(claims, &rules.authorization, settings)?;
        let token = VerifiedToken::new(checked, found.location, Arc::clone(&self.identity_claim));
        Ok(token)
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
                .with_parts(token.header(), token.payload())),
        }
    }

    /// For an expired token in the extended profile, the token's header and claims, for the
    /// expired-token callback (the signature was verified before the validity period failed).
    /// As Flask-JWT-Extended, which reads an expired token again to hand it over, a CSRF value
    /// sent with an expired cookie token is still compared: a wrong one is the answer.
    fn with_parts(&self, error: JwtError, found: &Found<'_>) -> JwtError {
        if self.codec().settings().profile != Profile::Extended || !error.is_expired() {
            return error;
        }
        let Some((header, claims)) = issue::unverified_parts(&found.token) else {
            return error;
        };
        let claims = TokenClaims::from_payload(claims);
        if let Some(sent) = found.csrf.as_deref()
            && admission::csrf_matches(&claims, sent) != Some(true)
        {
            return admission::csrf_mismatch();
        }
        error.with_parts(Arc::new(header), Arc::clone(claims.payload()))
    }

    /// 401 for a token whose identity the identity callback does not know.
    fn unknown_identity(&self, token: &VerifiedToken) -> JwtError {
        match self.codec().settings().profile {
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
}

impl<U: Send + Sync + 'static> Authenticator for Engine<U> {
    fn authenticate<'r>(
        &'r self,
        request: &'r Request<'_>,
        rules: &'static RouteRules,
    ) -> Authentication<'r> {
        let started = self.telemetry.as_ref().map(|_| Instant::now());
        if self.decides_now(rules) {
            let result =
                std::panic::catch_unwind(AssertUnwindSafe(|| self.flow_now(request, rules)))
                    .unwrap_or_else(|_| Err(panicked("authentication")));
            return Either::Left(ready(self.settle(request, rules, started, result)));
        }
        Either::Right(Box::pin(async move {
            let result = unwind_safe("authentication", self.flow(request, rules)).await;
            self.settle(request, rules, started, result)
        }))
    }

    fn respond(&self, error: JwtError, realm: Option<&str>, dpop: Option<DpopMode>) -> JwtResponse {
        let settings = self.codec().settings();
        let mode = dpop.unwrap_or(settings.dpop);
        let mut response = answer::refusal(error.clone(), realm, settings, &self.callbacks);
        crate::authz::challenge::add_dpop(&mut response, &error, mode, settings);
        response
    }

    fn dpop(&self) -> &DpopVerifier {
        &self.dpop
    }

    fn telemetry(&self) -> Option<&Arc<Telemetry>> {
        self.telemetry.as_ref()
    }

    fn audit(&self) -> Option<&Audit> {
        self.audit.as_ref()
    }

    fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    fn revocation_store(&self) -> Option<&Arc<dyn crate::revocation::RevocationStore>> {
        self.revocation.as_ref()?.store()
    }

    fn settings(&self) -> &Settings {
        self.codec().settings()
    }

    fn create_token(&self, request: issue::TokenRequest) -> Result<String, JwtError> {
        issue::create(self.codec(), &self.callbacks.loaders, request)
    }

    fn rotation(&self) -> Option<&Rotator> {
        self.rotation.as_ref()
    }
}

/// What a custom decode callback returned, with the token's header (read again: the callback
/// gives only the claims).
fn decoded(codec: &TokenCodec, token: &str, claims: TokenClaims) -> Checked {
    Checked {
        from_cache: false,
        dpop_bound: crate::token::validate::well_formed::dpop_bound(&claims),
        refresh: claims.is_refresh(),
        claims: Arc::new(claims),
        header: codec.header(token).unwrap_or_default(),
    }
}

/// Runs `future` (which calls the application's callbacks), turning a panic into a 500 error
/// for this request only: the server keeps serving.
pub(crate) async fn unwind_safe<T>(
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
    .with_parts(token.header(), token.payload()))
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

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;
    use rocket::http::Header;
    use rocket::local::asynchronous::Client;
    use serde_json::{json, Value};

    use super::*;
    use crate::authz::rules::Required;
    use crate::Jwt;

    const SECRET: &str = "a secret of at least thirty-two bytes";

    fn token(identity: i64) -> String {
        let now = now();
        let claims = json!({"identity": identity, "iat": now, "nbf": now, "exp": now + 300});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("signed")
    }

    /// The application with `builder`'s identity callback, ignited.
    async fn client(builder: crate::JwtBuilder<i64>) -> Client {
        let jwt = builder.build().expect("valid");
        Client::tracked(rocket::build().attach(jwt))
            .await
            .expect("ignites")
    }

    /// A builder with the test secret and no auth resource.
    fn builder() -> crate::JwtBuilder<()> {
        Jwt::builder().secret_key(SECRET).disable_auth_url_rule()
    }

    /// The identity an authentication found, as the test's `i64`.
    fn identity(authenticated: Authenticated) -> Option<i64> {
        authenticated
            .identity_as::<i64>()
            .expect("an i64")
            .as_deref()
            .copied()
    }

    fn engine(client: &Client) -> &dyn Authenticator {
        let Registered(engine) = client.rocket().state::<Registered>().expect("attached");
        engine.as_ref()
    }

    /// Where no step can wait (static keys, a sync identity callback), the flow decides before
    /// `authenticate` returns, without a future: from the pipeline and from the verified-token
    /// cache alike; a refusal too.
    #[rocket::async_test]
    async fn a_request_without_io_is_decided_without_a_future() {
        let client = client(
            builder().identity_handler(|payload| payload.get("identity").and_then(Value::as_i64)),
        )
        .await;
        let rules = RouteRules::of_route::<Required>();
        let request = client
            .get("/")
            .header(Header::new("Authorization", format!("JWT {}", token(7))));
        for round in ["pipeline", "cache"] {
            let Either::Left(decided) = engine(&client).authenticate(&request, rules) else {
                panic!("{round}: a future");
            };
            assert_eq!(identity(decided.into_inner().expect("accepted")), Some(7));
        }
        let refused = client.get("/");
        let Either::Left(decided) = engine(&client).authenticate(&refused, rules) else {
            panic!("a refusal: a future");
        };
        match decided.into_inner() {
            Ok(_) => panic!("a request without a token was accepted"),
            Err(error) => assert_eq!(error.kind, ErrorKind::MissingToken),
        }
    }

    /// A blocking identity callback is awaited off the async workers: the first poll waits, and
    /// the same future then completes with its answer (nothing is verified twice).
    #[rocket::async_test]
    async fn a_blocking_identity_callback_is_awaited_by_the_same_flow() {
        let client = client(builder().identity_handler_blocking(|payload| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            payload.get("identity").and_then(Value::as_i64)
        }))
        .await;
        let rules = RouteRules::of_route::<Required>();
        let request = client
            .get("/")
            .header(Header::new("Authorization", format!("JWT {}", token(9))));
        let mut pending = engine(&client).authenticate(&request, rules);
        assert!(matches!(pending, Either::Right(_)), "a future");
        assert!(
            (&mut pending).now_or_never().is_none(),
            "waits for the callback"
        );
        assert_eq!(identity(pending.await.expect("accepted")), Some(9));
    }
}
