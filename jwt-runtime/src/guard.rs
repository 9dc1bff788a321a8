//! The request guard behind `#[jwt_required]`, usable by hand as well.
//!
//! [`JwtAuth`] never fails as a guard: it carries the outcome of authentication to the handler,
//! which turns a failure into the error callback's response (with the route's realm). That keeps
//! every error response under the application's control instead of Rocket's catchers.
//!
//! Without the macro:
//!
//! ```
//! # #[macro_use] extern crate rocket;
//! use std::sync::Arc;
//! use jwt_runtime::{JwtAuth, JwtResponse};
//!
//! struct User { id: u64 }
//!
//! #[get("/protected")]
//! fn protected(auth: JwtAuth<'_>) -> Result<String, JwtResponse> {
//!     let user: Arc<User> = auth.identity(Some("Admin area"))?;
//!     Ok(format!("User(id='{}')", user.id))
//! }
//! # fn main() {}
//! ```

use std::any::Any;
use std::sync::Arc;

use rocket::request::{FromRequest, Outcome};
use rocket::Request;

use crate::engine::Authenticator;
use crate::error::{JwtError, JwtResponse};
use crate::identity::Identity;

/// Managed state: the attached [`Jwt`](crate::Jwt), without its identity type.
pub(crate) struct Registered(pub(crate) Arc<dyn Authenticator>);

/// The outcome of authenticating a request: the identity, or the error to answer with.
pub struct JwtAuth<'r> {
    outcome: Result<Identity, JwtError>,
    engine: Option<&'r dyn Authenticator>,
}

impl<'r> JwtAuth<'r> {
    /// The identity, or the error response for `realm` (`None`: the default realm).
    pub fn require(self, realm: Option<&str>) -> Result<Identity, JwtResponse> {
        let engine = match self.engine {
            Some(engine) => engine,
            None => return Err(not_attached().to_response()),
        };
        self.outcome.map_err(|error| engine.respond(error, realm))
    }

    /// The identity as `U`, or the error response for `realm`.
    ///
    /// Asking for a type other than the identity callback's answers 500, naming both types.
    pub fn identity<U: Any + Send + Sync>(
        self,
        realm: Option<&str>,
    ) -> Result<Arc<U>, JwtResponse> {
        let identity = self.require(realm)?;
        identity.downcast::<U>().map_err(|error| {
            log::error!("jwt: {error}");
            JwtError::internal(error.to_string()).to_response()
        })
    }
}

fn not_attached() -> JwtError {
    JwtError::internal(
        "the Jwt fairing is not attached: add .attach(Jwt::builder()...build()?) to the Rocket instance",
    )
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for JwtAuth<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(Registered(engine)) = request.rocket().state::<Registered>() else {
            log::error!("jwt: {}", not_attached());
            return Outcome::Success(JwtAuth {
                outcome: Err(not_attached()),
                engine: None,
            });
        };
        let outcome = engine.authenticate(request).await;
        Outcome::Success(JwtAuth {
            outcome,
            engine: Some(engine.as_ref()),
        })
    }
}
