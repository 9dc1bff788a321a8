//! The catcher of refused requests: when the application has no default catcher of its own at
//! `/`, the [`Jwt`](crate::Jwt) fairing registers this one, so that a request [`JwtAuth`]
//! refused is not handed to Rocket's default catcher (which logs `No 401 catcher registered.
//! Using Rocket default.` for every refusal). Its body is replaced on response by the error
//! callback's answer ([`answer_refusal`](crate::http::guard::answer_refusal)), as any catcher's is;
//! every other error is answered by Rocket's default catcher, exactly as without it.
//!
//! [`JwtAuth`]: crate::JwtAuth

use rocket::catcher::{self, Catcher, Handler};
use rocket::http::Status;
use rocket::{Build, Request, Response, Rocket};

/// The catcher's name, as Rocket's log shows it.
const NAME: &str = "jwt";

/// Refusals get an empty response of their status (the fairing writes the answer); anything
/// else goes to `fallback`, Rocket's default catcher.
#[derive(Clone)]
struct Refusals {
    fallback: Box<dyn Handler>,
}

#[rocket::async_trait]
impl Handler for Refusals {
    async fn handle<'r>(&self, status: Status, request: &'r Request<'_>) -> catcher::Result<'r> {
        if crate::http::finish::of(request).refusal.get().is_some() {
            return Ok(Response::build().status(status).finalize());
        }
        self.fallback.handle(status, request).await
    }
}

/// `rocket` with the refusals' catcher as its default catcher at `/`, unless it has one there.
pub(crate) fn register(rocket: Rocket<Build>) -> Rocket<Build> {
    let taken = rocket
        .catchers()
        .any(|catcher| catcher.code.is_none() && catcher.base.path() == "/");
    if taken {
        return rocket;
    }
    let fallback = Catcher::default().handler;
    let mut catcher = Catcher::new(None, Refusals { fallback });
    catcher.name = Some(NAME.into());
    rocket.register("/", vec![catcher])
}
