//! Request-local state that the [`Jwt`](crate::Jwt) fairing finishes on response: the answer the
//! request guard stored for a request it refused, and the cookies the cookie helpers wrote. One
//! request-local value holds both, so that every response pays for one lookup.

use std::sync::{Mutex, OnceLock};

use rocket::Request;

use crate::cookies::JwtCookie;
use crate::error::JwtResponse;

/// What the response of one request still needs.
#[derive(Default)]
pub(crate) struct Finishing {
    /// The error callback's response for a request [`JwtAuth`](crate::JwtAuth) refused.
    pub(crate) refusal: OnceLock<JwtResponse>,
    /// The cookies [`JwtCookies`](crate::JwtCookies) wrote, in order.
    pub(crate) cookies: Mutex<Vec<JwtCookie>>,
}

/// The request's [`Finishing`].
pub(crate) fn of<'r>(request: &'r Request<'_>) -> &'r Finishing {
    request.local_cache(Finishing::default)
}
