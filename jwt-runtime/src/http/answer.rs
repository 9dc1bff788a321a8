//! Every refusal's response, rendered here alone: in the Flask-JWT profile, Flask-JWT's JSON error
//! (or the error callback's answer) with its `WWW-Authenticate` challenge; in the extended profile,
//! Flask-JWT-Extended 4.7.1's default loaders (status and `{"msg": ..}` body, no
//! `WWW-Authenticate`), or the application's loaders in their place.

use std::panic::AssertUnwindSafe;

use rocket::http::Status;
use serde_json::{Map, Value};

use crate::authz::challenge;
use crate::claims::Payload;
use crate::error::{ErrorKind, JwtError, JwtResponse};
use crate::http::callbacks::{Callbacks, Loaders};
use crate::http::extract;
use crate::settings::{Profile, Settings};

/// The response to `error`, refused on a route of `realm` (the default realm when `None`).
pub(crate) fn refusal<U>(
    error: JwtError,
    realm: Option<&str>,
    settings: &Settings,
    callbacks: &Callbacks<U>,
) -> JwtResponse {
    match settings.profile {
        Profile::Extended => extended(&error, settings, &callbacks.loaders),
        Profile::FlaskJwt => flask_jwt(error, realm, settings, callbacks),
    }
}

/// The response to `error` in the Flask-JWT profile. A missing token gets the
/// `WWW-Authenticate` challenge for `realm`; with `detailed_errors` the description carries the
/// detail; the error callback, when given, answers in place of the JSON error.
fn flask_jwt<U>(
    mut error: JwtError,
    realm: Option<&str>,
    settings: &Settings,
    callbacks: &Callbacks<U>,
) -> JwtResponse {
    let realm = realm.unwrap_or(&settings.default_realm);
    if error.kind == ErrorKind::MissingToken && error.headers.is_empty() {
        error = extract::authorization_required(&settings.auth_header_prefix, realm);
    }
    if settings.detailed_errors
        && let Some(detail) = error.detail.take()
    {
        error.description = format!("{} ({detail})", error.description).into();
    }
    if challenge::answers_rfc6750(settings) {
        challenge::set_challenge(&mut error, realm, settings);
    }
    match &callbacks.error {
        Some(handler) => std::panic::catch_unwind(AssertUnwindSafe(|| handler(&error)))
            .unwrap_or_else(|_| {
                log::error!("jwt: the error callback panicked; answering the default error");
                JwtError::internal("a callback failed").to_response()
            }),
        None => error.to_response(),
    }
}

/// The response to `error` in the extended profile.
fn extended(error: &JwtError, settings: &Settings, loaders: &Loaders) -> JwtResponse {
    // Flask-JWT-Extended's body, with the headers the error carries (the `insufficient_scope`
    // challenge of a scoped route).
    let message = |status: Status, text: &str| {
        let mut body = Map::new();
        body.insert(
            settings.error_message_key.clone(),
            Value::String(text.to_owned()),
        );
        let answer = JwtResponse::json(status, &Value::Object(body));
        error.headers.iter().fold(answer, |answer, (name, value)| {
            answer.with_header(name.clone(), value.clone())
        })
    };
    let empty = Payload::new();
    let (header, claims) = error.token_parts().unwrap_or((&empty, &empty));
    let description = error.description.as_ref();
    let answer = || match error.kind {
        ErrorKind::MissingToken | ErrorKind::Csrf => match &loaders.unauthorized {
            Some(loader) => loader(description),
            None => message(Status::Unauthorized, description),
        },
        ErrorKind::InvalidToken(_) if error.is_expired() => match &loaders.expired_token {
            Some(loader) => loader(header, claims),
            None => message(Status::Unauthorized, "Token has expired"),
        },
        ErrorKind::InvalidToken(_) | ErrorKind::InvalidHeader | ErrorKind::WrongTokenType => {
            let text = pyjwt_message(description);
            match &loaders.invalid_token {
                Some(loader) => loader(text),
                None => message(Status::UnprocessableEntity, text),
            }
        }
        ErrorKind::FreshTokenRequired => match &loaders.needs_fresh_token {
            Some(loader) => loader(header, claims),
            None => message(Status::Unauthorized, "Fresh token required"),
        },
        ErrorKind::UnknownIdentity => match &loaders.user_lookup_error {
            Some(loader) => loader(header, claims),
            None => message(Status::Unauthorized, description),
        },
        ErrorKind::ClaimsVerificationFailed => match &loaders.token_verification_failed {
            Some(loader) => loader(header, claims),
            None => message(Status::BadRequest, "User claims verification failed"),
        },
        ErrorKind::Revoked => match &loaders.revoked_token {
            Some(loader) => loader(header, claims),
            None => message(Status::Unauthorized, "Token has been revoked"),
        },
        ErrorKind::InvalidProof(_)
        | ErrorKind::InsufficientScope
        | ErrorKind::KeysUnavailable
        | ErrorKind::RevocationUnavailable
        | ErrorKind::Internal
        | ErrorKind::InvalidCredentials
        | ErrorKind::BadRequestBody => message(error.status, description),
    };
    std::panic::catch_unwind(AssertUnwindSafe(answer)).unwrap_or_else(|_| {
        log::error!("jwt: an error loader panicked; answering 500");
        message(Status::InternalServerError, "a callback failed")
    })
}

/// PyJWT 2's wording where it differs from PyJWT 1's (which the pipeline's errors use, for
/// Flask-JWT 0.3.2).
fn pyjwt_message(description: &str) -> &str {
    match description {
        "Issued At claim (iat) cannot be in the future." => "The token is not yet valid (iat)",
        "Invalid subject: sub must be a string" => "Subject must be a string",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Check;
    use crate::settings::Profile;
    use std::sync::Arc;

    /// Status and body of `error`'s extended answer.
    fn answered(error: JwtError, loaders: &Loaders) -> (u16, String) {
        let settings = Settings::for_profile(Profile::Extended);
        let response = extended(&error, &settings, loaders);
        assert!(
            !response
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("WWW-Authenticate")),
            "no challenge in the extended profile"
        );
        let body = String::from_utf8(response.body).expect("UTF-8 body");
        (response.status.code, body)
    }

    #[test]
    fn default_answers_are_flask_jwt_extended_s() {
        let none = Loaders::default();
        let missing = JwtError::new(
            Status::Unauthorized,
            ErrorKind::MissingToken,
            "Authorization Required",
            "Missing Authorization Header",
        );
        assert_eq!(
            answered(missing, &none),
            (401, r#"{"msg":"Missing Authorization Header"}"#.into())
        );
        let expired = JwtError::invalid_token(Check::ValidityPeriod, "Signature has expired");
        assert_eq!(
            answered(expired, &none),
            (401, r#"{"msg":"Token has expired"}"#.into())
        );
        let tampered = JwtError::invalid_token(Check::Signature, "Signature verification failed");
        assert_eq!(
            answered(tampered, &none),
            (422, r#"{"msg":"Signature verification failed"}"#.into())
        );
        assert_eq!(
            answered(JwtError::wrong_token_type(true), &none),
            (422, r#"{"msg":"Only refresh tokens are allowed"}"#.into())
        );
        assert_eq!(
            answered(JwtError::fresh_token_required(), &none),
            (401, r#"{"msg":"Fresh token required"}"#.into())
        );
        assert_eq!(
            answered(JwtError::csrf("Missing CSRF token"), &none),
            (401, r#"{"msg":"Missing CSRF token"}"#.into())
        );
    }

    #[test]
    fn loaders_replace_the_defaults_and_see_the_token() {
        let loaders = Loaders {
            expired_token: Some(Box::new(|_header, claims| {
                JwtResponse::json(
                    Status::Unauthorized,
                    &serde_json::json!({"expired_for": claims["sub"]}),
                )
            })),
            invalid_token: Some(Box::new(|msg| {
                JwtResponse::json(Status::BadRequest, &serde_json::json!({"why": msg}))
            })),
            ..Loaders::default()
        };
        let claims: Payload = serde_json::from_value(serde_json::json!({"sub": "ann"})).unwrap();
        let expired = JwtError::invalid_token(Check::ValidityPeriod, "Signature has expired")
            .with_parts(Arc::new(Payload::new()), Arc::new(claims));
        assert_eq!(
            answered(expired, &loaders),
            (401, r#"{"expired_for":"ann"}"#.into())
        );
        let malformed = JwtError::invalid_token(Check::WellFormed, "Not enough segments");
        assert_eq!(
            answered(malformed, &loaders),
            (400, r#"{"why":"Not enough segments"}"#.into())
        );
    }
}
