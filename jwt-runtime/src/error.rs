//! Errors and the responses they become.
//!
//! Every failure on a request path is a [`JwtError`]: the HTTP status, Flask-JWT's `error` title and
//! `description`, and, for token rejections, the [`Check`] that failed. The error callback turns a
//! [`JwtError`] into a [`JwtResponse`]; the default one answers Flask-JWT 0.3.2's JSON body
//! `{"status_code", "error", "description"}`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder, Response};
use rocket::Request;
use serde::Serialize;

use crate::claims::Payload;

/// The five checks a token goes through (after Auth0's troubleshooting guide), in order.
///
/// Every token rejection names the check that failed, so a 401 can be traced to the setting or the
/// token field to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// The token is three base64url segments holding a JSON header and JSON claims.
    WellFormed,
    /// The signature matches the header and claims under the configured key and algorithm.
    Signature,
    /// The token is inside its validity period (`exp`, `nbf`, `iat`, with the leeway).
    ValidityPeriod,
    /// The token comes from the intended authority (its key and `iss`).
    Authority,
    /// The token is meant for this application (`aud`).
    Audience,
}

impl Check {
    /// The five checks, in the order they run.
    pub const ALL: [Check; 5] = [
        Check::WellFormed,
        Check::Signature,
        Check::ValidityPeriod,
        Check::Authority,
        Check::Audience,
    ];

    /// The check's name as written in logs and documentation.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::WellFormed => "well-formed",
            Check::Signature => "signature",
            Check::ValidityPeriod => "validity period",
            Check::Authority => "intended authority",
            Check::Audience => "intended audience",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The checks of a DPoP proof (RFC 9449 §4.3) and of the token's binding to it (§7.1), in the
/// order they run. Every refusal of a DPoP request names the one that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProofCheck {
    /// The scheme: a DPoP-bound token sent as `Bearer` (a downgrade), or a bearer token on a
    /// route that requires DPoP. (An unbound token sent with the `DPoP` scheme fails
    /// [`Binding`](Self::Binding).)
    Scheme,
    /// Exactly one `DPoP` header, no larger than a proof can be.
    OneProof,
    /// The proof is a compact JWS with a JSON header and JSON claims, and the claims RFC 9449
    /// requires (`jti`, `htm`, `htu`, `iat`) of the right types.
    WellFormed,
    /// `typ` is `dpop+jwt`.
    Type,
    /// `alg` is one of `dpop_algorithms` (asymmetric only).
    Algorithm,
    /// `jwk` is a public key (no private members) fit for `alg`.
    Key,
    /// The signature verifies under `jwk`.
    Signature,
    /// `htm` is the request's method.
    Method,
    /// `htu` is the request's URL (scheme, authority and path; no query or fragment), both
    /// normalised as RFC 3986 says.
    Url,
    /// `iat` is inside the `dpop_iat_window`.
    IssuedAt,
    /// `ath` is the hash of the access token sent with it.
    TokenHash,
    /// The token's `cnf.jkt` is the thumbprint of the proof's key.
    Binding,
    /// `nonce` is a current server nonce (with `dpop_nonce`).
    Nonce,
    /// The proof's `jti` was not seen within the window (on any instance sharing the store).
    Replay,
}

impl ProofCheck {
    /// Every check, in the order they run.
    pub const ALL: [ProofCheck; 14] = [
        ProofCheck::Scheme,
        ProofCheck::OneProof,
        ProofCheck::WellFormed,
        ProofCheck::Type,
        ProofCheck::Algorithm,
        ProofCheck::Key,
        ProofCheck::Signature,
        ProofCheck::Method,
        ProofCheck::Url,
        ProofCheck::IssuedAt,
        ProofCheck::TokenHash,
        ProofCheck::Binding,
        ProofCheck::Nonce,
        ProofCheck::Replay,
    ];

    /// The check's name as written in logs and documentation.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofCheck::Scheme => "DPoP scheme",
            ProofCheck::OneProof => "one proof",
            ProofCheck::WellFormed => "well-formed proof",
            ProofCheck::Type => "proof type",
            ProofCheck::Algorithm => "proof algorithm",
            ProofCheck::Key => "proof key",
            ProofCheck::Signature => "proof signature",
            ProofCheck::Method => "proof method (htm)",
            ProofCheck::Url => "proof URL (htu)",
            ProofCheck::IssuedAt => "proof age (iat)",
            ProofCheck::TokenHash => "token hash (ath)",
            ProofCheck::Binding => "key binding (cnf.jkt)",
            ProofCheck::Nonce => "server nonce",
            ProofCheck::Replay => "proof replay (jti)",
        }
    }

    /// The check's name as a metric label writes it (`replay`, `key_binding`, ...).
    pub fn label(self) -> &'static str {
        match self {
            ProofCheck::Scheme => "scheme",
            ProofCheck::OneProof => "one_proof",
            ProofCheck::WellFormed => "well_formed",
            ProofCheck::Type => "type",
            ProofCheck::Algorithm => "algorithm",
            ProofCheck::Key => "key",
            ProofCheck::Signature => "signature",
            ProofCheck::Method => "method",
            ProofCheck::Url => "url",
            ProofCheck::IssuedAt => "issued_at",
            ProofCheck::TokenHash => "token_hash",
            ProofCheck::Binding => "key_binding",
            ProofCheck::Nonce => "nonce",
            ProofCheck::Replay => "replay",
        }
    }

    /// The RFC 9449 §7.1 / RFC 6750 error code of a refusal by this check.
    pub fn error_code(self) -> &'static str {
        match self {
            ProofCheck::Scheme | ProofCheck::Binding => "invalid_token",
            ProofCheck::Nonce => "use_dpop_nonce",
            _ => "invalid_dpop_proof",
        }
    }
}

impl fmt::Display for ProofCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong, in a form an error callback can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request carries no token (no or empty `Authorization` header).
    MissingToken,
    /// The `Authorization` header is malformed (other scheme, no token, spaces in the token).
    InvalidHeader,
    /// The token was rejected by one of the five checks.
    InvalidToken(Check),
    /// The token is valid but the identity callback found no one.
    UnknownIdentity,
    /// The token is valid but of the other type (a refresh token where an access token is
    /// required, or the reverse).
    WrongTokenType,
    /// The route needs a fresh token and this one is not (or no longer) fresh.
    FreshTokenRequired,
    /// A cookie token without its CSRF value, or with another one (double submit).
    Csrf,
    /// The token verification callback refused the token's claims.
    ClaimsVerificationFailed,
    /// The token is valid but lacks a scope or claim the route needs: 403 with
    /// `WWW-Authenticate: Bearer error="insufficient_scope"` (RFC 6750 §3.1), in every profile.
    InsufficientScope,
    /// `/auth`: missing or empty fields, or the authentication callback refused them.
    InvalidCredentials,
    /// `/auth`: the body is not a JSON object with string fields, or is too large.
    BadRequestBody,
    /// The authority's keys (JWKS) cannot be fetched: 503, failing closed.
    KeysUnavailable,
    /// The token was revoked (logged out, or every token of its subject was).
    Revoked,
    /// A DPoP request refused by the check named (RFC 9449): 401 with a `DPoP` challenge.
    InvalidProof(ProofCheck),
    /// The token's revocation state cannot be read in time (the store is down or slow): 503,
    /// failing closed (see the `revocation_fail_open` setting).
    RevocationUnavailable,
    /// Misconfiguration or a failing callback: a server-side error.
    Internal,
}

/// A failure on a request path: status, Flask-JWT `error` title, `description` and extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtError {
    /// The HTTP status (401 for every token and credential failure, as in Flask-JWT).
    pub status: Status,
    /// Flask-JWT's short title, e.g. `Invalid token`.
    pub error: Cow<'static, str>,
    /// Flask-JWT's description, e.g. `Signature has expired`.
    pub description: Cow<'static, str>,
    /// What went wrong, for error callbacks and logs.
    pub kind: ErrorKind,
    /// Headers the response must carry, e.g. `WWW-Authenticate` when no token was sent.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// Safe detail for troubleshooting (expected and received `iss`, seconds since expiry, ...):
    /// always logged, added to the response only with the `detailed_errors` setting. Never holds
    /// a token or a secret.
    pub detail: Option<String>,
    /// The token's header and claims, where an error callback of the extended profile receives
    /// them (expired, not fresh, unknown user, claims verification failed).
    parts: Option<Arc<(Arc<Payload>, Arc<Payload>)>>,
}

impl JwtError {
    /// A new error with no extra headers.
    pub fn new(
        status: Status,
        kind: ErrorKind,
        error: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        JwtError {
            status,
            error: error.into(),
            description: description.into(),
            kind,
            headers: Vec::new(),
            detail: None,
            parts: None,
        }
    }

    /// 401 `Invalid token` rejected by `check`, with PyJWT's wording in `description`.
    pub fn invalid_token(check: Check, description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorKind::InvalidToken(check),
            "Invalid token",
            description,
        )
    }

    /// 401 `Authorization Required`: the request carries no token. `description` is Flask-JWT's
    /// [`NO_TOKEN`](Self::NO_TOKEN), or Flask-JWT-Extended's message naming the locations tried.
    pub(crate) fn missing_token(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorKind::MissingToken,
            "Authorization Required",
            description,
        )
    }

    /// Flask-JWT's description of a request that carries no token.
    pub(crate) const NO_TOKEN: &'static str = "Request does not contain an access token";

    /// 401 `Invalid JWT header` (malformed `Authorization` header).
    pub fn invalid_header(description: &'static str) -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorKind::InvalidHeader,
            "Invalid JWT header",
            description,
        )
    }

    /// 422 (Flask-JWT-Extended's `WrongTokenError`) for a token of the other type.
    pub fn wrong_token_type(refresh_required: bool) -> Self {
        Self::new(
            Status::UnprocessableEntity,
            ErrorKind::WrongTokenType,
            "Invalid token",
            if refresh_required {
                "Only refresh tokens are allowed"
            } else {
                "Only non-refresh tokens are allowed"
            },
        )
    }

    /// 401 `Fresh token required`.
    pub fn fresh_token_required() -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorKind::FreshTokenRequired,
            "Invalid token",
            "Fresh token required",
        )
    }

    /// 401 for a CSRF double-submit failure (`Missing CSRF token`, `CSRF double submit tokens do
    /// not match`).
    pub fn csrf(description: &'static str) -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorKind::Csrf,
            "Invalid CSRF token",
            description,
        )
    }

    /// Whether this is the rejection of an expired token.
    pub fn is_expired(&self) -> bool {
        self.kind == ErrorKind::InvalidToken(Check::ValidityPeriod)
            && self.description == "Signature has expired"
    }

    /// 401 `Bad Request` / `Invalid credentials`, Flask-JWT's answer to any refused login.
    pub fn invalid_credentials() -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorKind::InvalidCredentials,
            "Bad Request",
            "Invalid credentials",
        )
    }

    /// A 4xx `Bad Request` for a body that cannot be read as login data.
    pub fn bad_body(status: Status, description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            status,
            ErrorKind::BadRequestBody,
            "Bad Request",
            description,
        )
    }

    /// 500 `Internal Server Error` with a description for the operator.
    pub fn internal(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            Status::InternalServerError,
            ErrorKind::Internal,
            "Internal Server Error",
            description,
        )
    }

    /// 401 for a DPoP request refused by `check`; the route's `DPoP` challenge is added where the
    /// request flow answers it.
    pub fn invalid_proof(check: ProofCheck, description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorKind::InvalidProof(check),
            if check.error_code() == "invalid_token" {
                "Invalid token"
            } else {
                "Invalid DPoP proof"
            },
            description,
        )
    }

    /// Adds a header to the response this error becomes.
    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Attaches the token's header and claims, for the error callbacks that receive them.
    pub(crate) fn with_parts(mut self, header: Arc<Payload>, claims: Arc<Payload>) -> Self {
        self.parts = Some(Arc::new((header, claims)));
        self
    }

    /// The refused token's header and claims, where known (expired, not fresh, unknown user,
    /// claims verification failed, in the extended profile).
    pub fn token_parts(&self) -> Option<(&Payload, &Payload)> {
        self.parts
            .as_deref()
            .map(|(header, claims)| (&**header, &**claims))
    }

    /// Adds safe troubleshooting detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The check that rejected the token, if this is a token rejection.
    pub fn check(&self) -> Option<Check> {
        match self.kind {
            ErrorKind::InvalidToken(check) => Some(check),
            _ => None,
        }
    }

    /// The DPoP check that refused the request, if this is a DPoP refusal.
    pub fn proof_check(&self) -> Option<ProofCheck> {
        match self.kind {
            ErrorKind::InvalidProof(check) => Some(check),
            _ => None,
        }
    }

    /// Flask-JWT's JSON error response for this error.
    pub fn to_response(&self) -> JwtResponse {
        #[derive(Serialize)]
        struct Body<'a> {
            status_code: u16,
            error: &'a str,
            description: &'a str,
        }
        let body = Body {
            status_code: self.status.code,
            error: &self.error,
            description: &self.description,
        };
        let mut response = JwtResponse::json(self.status, &body);
        for (name, value) in &self.headers {
            response = response.with_header(name.clone(), value.clone());
        }
        response
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)?;
        if let Some(detail) = &self.detail {
            write!(f, " [{detail}]")?;
        }
        if let Some(check) = self.check() {
            write!(f, " (failed check: {check})")?;
        }
        if let ErrorKind::InvalidProof(check) = self.kind {
            write!(f, " (failed check: {check})")?;
        }
        Ok(())
    }
}

impl std::error::Error for JwtError {}

/// A complete HTTP response built by the library or by a callback: status, headers (the
/// `Content-Type` among them) and body. It is a Rocket [`Responder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtResponse {
    /// The status line.
    pub status: Status,
    /// The headers, in order.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl JwtResponse {
    /// An empty response with `status`.
    pub fn new(status: Status) -> Self {
        JwtResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON response: `value` serialised, `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(status: Status, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => JwtResponse::new(status)
                .with_header("Content-Type", ContentType::JSON.to_string())
                .with_body(body),
            Err(e) => {
                log::error!("jwt: a response body could not be serialised: {e}");
                JwtResponse::new(Status::InternalServerError)
            }
        }
    }

    /// A plain-text response.
    pub fn text(status: Status, text: impl Into<String>) -> Self {
        JwtResponse::new(status)
            .with_header("Content-Type", ContentType::Text.to_string())
            .with_body(text.into().into_bytes())
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Adds a header.
    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The error's default (Flask-JWT) response, for `?` in handlers that answer `JwtResponse`.
impl From<JwtError> for JwtResponse {
    fn from(error: JwtError) -> Self {
        error.to_response()
    }
}

impl<'r> Responder<'r, 'static> for JwtResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut builder = Response::build();
        builder.status(self.status);
        for (name, value) in self.headers {
            if name.eq_ignore_ascii_case("content-type") {
                builder.header(Header::new(name, value));
            } else {
                builder.header_adjoin(Header::new(name, value));
            }
        }
        builder.sized_body(self.body.len(), std::io::Cursor::new(self.body));
        Ok(builder.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_body_has_flask_jwt_key_order() {
        let error = JwtError::invalid_token(Check::Signature, "Signature verification failed");
        let response = error.to_response();
        assert_eq!(response.status, Status::Unauthorized);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(
            String::from_utf8(response.body).unwrap(),
            r#"{"status_code":401,"error":"Invalid token","description":"Signature verification failed"}"#
        );
    }

    #[test]
    fn headers_are_carried_to_the_response() {
        let error = JwtError::new(
            Status::Unauthorized,
            ErrorKind::MissingToken,
            "Authorization Required",
            "Request does not contain an access token",
        )
        .with_header("WWW-Authenticate", r#"JWT realm="Login Required""#);
        let response = error.to_response();
        assert_eq!(
            response.header("WWW-Authenticate"),
            Some(r#"JWT realm="Login Required""#)
        );
    }

    #[test]
    fn display_names_the_failed_check() {
        let error = JwtError::invalid_token(Check::ValidityPeriod, "Signature has expired");
        assert_eq!(
            error.to_string(),
            "Invalid token: Signature has expired (failed check: validity period)"
        );
        assert_eq!(error.check(), Some(Check::ValidityPeriod));
        assert_eq!(JwtError::invalid_credentials().check(), None);
    }
}
