//! Request-local state that the [`Jwt`](crate::Jwt) fairing finishes on response: the answer the
//! request guard stored for a request it refused, and the cookies the cookie helpers wrote. One
//! request-local value holds both, so that every response pays for one lookup.

use std::sync::{Mutex, OnceLock, PoisonError};

use rocket::http::Cookie;
use rocket::{Request, Response};

use crate::error::JwtResponse;

/// What the response of one request still needs.
#[derive(Default)]
pub(crate) struct Finishing {
    /// The error callback's response for a request [`JwtAuth`](crate::JwtAuth) refused.
    pub(crate) refusal: OnceLock<JwtResponse>,
    /// The cookies [`JwtCookies`](crate::extended::JwtCookies) wrote, in order.
    pub(crate) cookies: Mutex<Vec<JwtCookie>>,
    /// The refresh-token rotation of a refresh route's request.
    pub(crate) rotated: OnceLock<Rotated>,
    /// The key a DPoP request proved it holds.
    pub(crate) dpop: OnceLock<Proven>,
}

/// What a DPoP proof the request passed leaves for the rest of it.
#[derive(Debug)]
pub(crate) struct Proven {
    /// The RFC 7638 thumbprint of the proof's key: tokens issued for the request are bound to
    /// it (`cnf.jkt`).
    pub(crate) thumbprint: String,
    /// The current server nonce, sent as `DPoP-Nonce` when the proof's is about to expire.
    pub(crate) renewed_nonce: Option<String>,
}

/// The response fairing's part: the renewed server nonce of a proven request.
pub(crate) fn write_nonce(finishing: &Finishing, response: &mut Response<'_>) {
    if let Some(nonce) = finishing
        .dpop
        .get()
        .and_then(|proven| proven.renewed_nonce.as_ref())
    {
        response.set_raw_header("DPoP-Nonce", nonce.clone());
    }
}

/// The request's [`Finishing`].
pub(crate) fn of<'r>(request: &'r Request<'_>) -> &'r Finishing {
    request.local_cache(Finishing::default)
}

/// What a rotation left for the rest of the request: the successor to send, and the `jti`
/// reserved for the access token the handler issues beside it (recorded with the family, so
/// that a reuse revokes it too).
#[derive(Debug)]
pub(crate) struct Rotated {
    pub(crate) refresh_token: String,
    pub(crate) access_jti: Mutex<Option<String>>,
    /// The rotated token came in a cookie: the successor goes in the refresh cookies.
    pub(crate) in_cookie: bool,
    /// Whether those cookies were written.
    pub(crate) cookies_written: std::sync::atomic::AtomicBool,
}

impl Rotated {
    /// The reserved access `jti`, once.
    pub(crate) fn take_access_jti(&self) -> Option<String> {
        self.access_jti
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// One cookie as Rocket's jar holds it and as Flask-JWT-Extended writes it.
#[derive(Debug, Clone)]
pub(crate) struct JwtCookie {
    /// What goes in the jar: the same name, value, path, domain, `HttpOnly`, `Secure` and expiry;
    /// `SameSite` is the setting, or `Lax` (what browsers assume when the attribute is absent)
    /// where Flask-JWT-Extended sends none, so that Rocket adds no default of its own.
    pub(crate) jar: Cookie<'static>,
    /// The `Set-Cookie` line Rocket emits for `jar`.
    pub(crate) rocket_line: String,
    /// The `Set-Cookie` line Flask-JWT-Extended sends.
    pub(crate) line: String,
}

/// The response fairing's part: each `Set-Cookie` line the jar emitted for a cookie
/// [`JwtCookies`](crate::extended::JwtCookies) wrote is replaced by Flask-JWT-Extended's line for it. These come after the
/// other `Set-Cookie` lines, in the order they were written (the jar keeps one cookie per name:
/// the last written).
pub(crate) fn write_exact_lines(written: &Mutex<Vec<JwtCookie>>, response: &mut Response<'_>) {
    let written = written.lock().unwrap_or_else(PoisonError::into_inner);
    if written.is_empty() {
        return;
    }
    let mut lines: Vec<String> = response
        .headers()
        .get("Set-Cookie")
        .map(str::to_owned)
        .collect();
    let mut exact = Vec::new();
    for (index, cookie) in written.iter().enumerate() {
        let name = cookie.jar.name();
        let overwritten = written[index + 1..]
            .iter()
            .any(|later| later.jar.name() == name);
        if overwritten {
            continue;
        }
        if let Some(at) = lines.iter().position(|line| *line == cookie.rocket_line) {
            lines.remove(at);
            exact.push(cookie.line.clone());
        }
    }
    if exact.is_empty() {
        return;
    }
    response.remove_header("Set-Cookie");
    for line in lines.into_iter().chain(exact) {
        response.adjoin_raw_header("Set-Cookie", line);
    }
}
