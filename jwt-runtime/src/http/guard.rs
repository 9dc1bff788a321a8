//! The request guard behind `#[jwt_required]`, usable by hand as well (see [`JwtAuth`]).
//!
//! Authentication decides first: a request that fails it never reaches the handler, the other
//! guards after [`JwtAuth`] nor the body. The guard fails the request and stores the response the
//! error callback built for the route's realm; the [`Jwt`](crate::Jwt) fairing puts that response
//! in place of whatever the catcher answered. Every error response therefore stays under the
//! application's control (its error callback), whatever catchers the application registers.
//!
//! What a route demands (its realm, token type, freshness, locations) is part of the guard's
//! type: [`JwtAuth`] alone demands a valid access token, `JwtAuth<R>` what the [`Rules`] type `R`
//! says.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use rocket::request::{FromRequest, Outcome};
use rocket::response::Responder;
use rocket::{Request, Response};

use crate::authz::rules::{Location, Required, RouteRules, Rules};
use crate::claims::Payload;
use crate::error::{JwtError, JwtResponse};
use crate::http::engine::Registered;
use crate::http::finish::Finishing;
use crate::http::identity::{self, Authenticated};
use crate::token::verified::VerifiedToken;

/// The request guard that demands a valid token: what `#[jwt_required]` puts first in a handler's
/// parameters, usable by hand with the same behaviour.
///
/// As a guard it runs before the guards after it and before the body is read. A request without a
/// valid token, or whose identity the identity callback does not find, fails here: it gets the
/// error callback's response (Flask-JWT's JSON error by default, with the `WWW-Authenticate`
/// challenge for the realm of `R` when the token is missing) and the handler does not run.
/// Take it as the handler's **first** parameter: Rocket runs request guards in parameter order.
///
/// [`run`](Self::run) and [`run_sync`](Self::run_sync) run the handler's body with the identity as
/// the current identity, so `current_identity!()` works in the body and in everything it calls;
/// `#[jwt_required]` expands to exactly that call. The handler answers
/// `Result<T, JwtResponse>`: the error is a 500 naming the mistake when the [`Jwt`](crate::Jwt)
/// fairing is not attached.
///
/// Wrapping the guard in `Option` or `Result` does not make authentication optional: the request
/// is still answered with the error response, after the handler has run.
///
/// A hand-written handler with a realm, the same as
/// `#[jwt_required(realm = "Admin area")] #[get("/admin")] fn admin() -> String { .. }`:
///
/// ```
/// # use rocket::{get, routes};
/// use std::sync::Arc;
/// use rocket_flask_jwt_runtime::{current_identity, Jwt, JwtAuth, JwtResponse, Rules};
///
/// #[derive(serde::Serialize)]
/// struct User { id: u64 }
///
/// struct AdminArea;
/// impl Rules for AdminArea {
///     const REALM: Option<&'static str> = Some("Admin area");
/// }
///
/// fn greeting() -> String {
///     let user: Arc<User> = current_identity!();
///     format!("User(id='{}')", user.id)
/// }
///
/// #[get("/admin")]
/// fn admin(auth: JwtAuth<AdminArea>) -> Result<String, JwtResponse> {
///     auth.run_sync(|| greeting())
/// }
///
/// #[get("/admin/async")]
/// async fn admin_async(auth: JwtAuth<AdminArea>) -> Result<String, JwtResponse> {
///     auth.run(async { greeting() }).await
/// }
///
/// let jwt = Jwt::builder()
///     .secret_key("a secret of at least thirty-two bytes")
///     .authentication_handler(|username, password| {
///         (username == "joe" && password == "pass").then(|| User { id: 1 })
///     })
///     .identity_handler(|payload| (payload.get("identity")? == 1).then(|| User { id: 1 }))
///     .build()
///     .expect("valid Jwt configuration");
/// let rocket = rocket::build().attach(jwt).mount("/", routes![admin, admin_async]);
///
/// // Without a token: 401 with the route's realm, and the handler does not run.
/// # use rocket::http::{ContentType, Header, Status};
/// # let client = rocket::local::blocking::Client::tracked(rocket).expect("valid rocket");
/// let refused = client.get("/admin").dispatch();
/// assert_eq!(refused.status(), Status::Unauthorized);
/// assert_eq!(
///     refused.headers().get_one("WWW-Authenticate"),
///     Some(r#"JWT realm="Admin area""#)
/// );
/// # let login = client
/// #     .post("/auth")
/// #     .header(ContentType::JSON)
/// #     .body(r#"{"username": "joe", "password": "pass"}"#)
/// #     .dispatch()
/// #     .into_string()
/// #     .expect("login body");
/// # let login: serde_json::Value = serde_json::from_str(&login).expect("login JSON");
/// # let token = login["access_token"].as_str().expect("a token");
///
/// // With a valid token: the body runs in the identity scope.
/// for path in ["/admin", "/admin/async"] {
///     let accepted = client
///         .get(path)
///         .header(Header::new("Authorization", format!("JWT {token}")))
///         .dispatch();
///     assert_eq!(accepted.into_string().as_deref(), Some("User(id='1')"));
/// }
/// ```
pub struct JwtAuth<R: Rules = Required> {
    /// What authentication found, or the 500 answered when the fairing is not attached.
    current: Result<Authenticated, JwtResponse>,
    realm: PhantomData<fn() -> R>,
}

impl<R: Rules> JwtAuth<R> {
    /// Runs `handler` (an async handler's body) with the request's identity as the current
    /// identity, for `current_identity!()` in it and in what it calls on the same task.
    pub async fn run<F: Future>(self, handler: F) -> Result<F::Output, JwtResponse> {
        let current = self.current?;
        Ok(identity::scope(current, handler).await)
    }

    /// Runs `handler` (a sync handler's body) with the request's identity as the current
    /// identity, for `current_identity!()` in it and in what it calls.
    pub fn run_sync<T>(self, handler: impl FnOnce() -> T) -> Result<T, JwtResponse> {
        let current = self.current?;
        Ok(identity::sync_scope(current, handler))
    }

    /// The identity as `U`, outside any identity scope; `None` on an optional route without a
    /// token, or without an identity callback.
    ///
    /// Asking for a type other than the identity callback's answers 500, naming both types.
    pub fn identity<U: Any + Send + Sync>(&self) -> Result<Option<Arc<U>>, JwtResponse> {
        let current = self.current.as_ref().map_err(Clone::clone)?;
        current.identity_as::<U>().map_err(|error| {
            log::error!("jwt: {error}");
            JwtError::internal(error.to_string()).to_response()
        })
    }

    /// The verified claims (`get_jwt()`); `None` on an optional route without a token.
    pub fn claims(&self) -> Option<Arc<Payload>> {
        self.token().map(VerifiedToken::payload)
    }

    /// The token's header (`get_jwt_header()`); `None` on an optional route without a token.
    pub fn header(&self) -> Option<Arc<Payload>> {
        self.token().map(|token| token.header())
    }

    /// Where the token was found; `None` on an optional route without a token.
    pub fn location(&self) -> Option<Location> {
        self.token().map(|token| token.location)
    }

    fn token(&self) -> Option<&VerifiedToken> {
        self.current.as_ref().ok()?.token.as_ref()
    }
}

fn not_attached() -> JwtError {
    JwtError::internal(
        "the Jwt fairing is not attached: add .attach(Jwt::builder()...build()?) to the Rocket instance",
    )
}

/// The error of a [`JwtAuth`] that refused a request. The answer is the error callback's, and
/// the library's one log line says why; Rocket's own log line for a failed guard shows this
/// value's short `Debug` form.
#[derive(Clone, PartialEq, Eq)]
pub struct Refused {
    /// Why, as the error callback received it.
    pub error: JwtError,
}

impl std::fmt::Debug for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refused: {} {}",
            self.error.status.code, self.error.error
        )
    }
}

#[rocket::async_trait]
impl<'r, R: Rules> FromRequest<'r> for JwtAuth<R> {
    /// Why authentication failed (the response sent is the error callback's).
    type Error = Refused;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(Registered(engine)) = request.rocket().state::<Registered>() else {
            // Without the fairing nothing could render a stored refusal: the handler answers.
            log::error!("jwt: {}", not_attached());
            return Outcome::Success(JwtAuth {
                current: Err(not_attached().to_response()),
                realm: PhantomData,
            });
        };
        let outcome = engine
            .authenticate(request, RouteRules::of_route::<R>())
            .await
            // Only a refresh route rotates: other requests skip the request-local lookup.
            .and_then(|current| match R::REFRESH {
                true => crate::http::cookies::write_rotated(request).map(|()| current),
                false => Ok(current),
            });
        match outcome {
            Ok(current) => Outcome::Success(JwtAuth {
                current: Ok(current),
                realm: PhantomData,
            }),
            Err(error) => {
                let response = engine.respond(error.clone(), R::REALM, R::DPOP);
                let status = response.status;
                // A second refusal of the same request (two guards) keeps the first.
                let _ = crate::http::finish::of(request).refusal.set(response);
                Outcome::Error((status, Refused { error }))
            }
        }
    }
}

/// The response fairing's part: a refused request is answered with the stored error response,
/// in place of the catcher's. Headers other fairings added (e.g. Rocket's `Shield`) are kept.
pub(crate) fn answer_refusal<'r>(
    finishing: &Finishing,
    request: &'r Request<'_>,
    response: &mut Response<'r>,
) {
    let Some(refusal) = finishing.refusal.get() else {
        return;
    };
    match refusal.clone().respond_to(request) {
        Ok(refusal) => {
            response.remove_header("Content-Type");
            response.merge(refusal);
        }
        Err(status) => response.set_status(status),
    }
}
