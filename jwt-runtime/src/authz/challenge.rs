//! RFC 6750 §3 challenges: the `WWW-Authenticate: Bearer ...` values of an OAuth resource server.
//!
//! - no token sent: `Bearer realm="..."`, no error code;
//! - a malformed request (the `Authorization` header): `error="invalid_request"`;
//! - a token refused by a check: `error="invalid_token"`, `error_description` naming the check's
//!   failure;
//! - a valid token without the route's scopes or claims: `error="insufficient_scope"` (403).
//!
//! The first three apply in the Flask-JWT profile when the header scheme
//! (`auth_header_prefix`) is `Bearer`; the Flask-JWT scheme `JWT` and the extended profile keep
//! their own answers. The last applies in every profile.

use crate::error::{ErrorKind, JwtError};
use crate::keys::algorithm_name;
use crate::settings::{DpopMode, Profile, Settings};

/// The scheme of RFC 6750.
const BEARER: &str = "Bearer";

/// Whether `settings` answer errors as an RFC 6750 resource server.
pub(crate) fn answers_rfc6750(settings: &Settings) -> bool {
    settings.profile == Profile::FlaskJwt
        && settings.auth_header_prefix.eq_ignore_ascii_case(BEARER)
}

/// `Bearer error="insufficient_scope"`, with the route's `scopes` when it names any.
pub(crate) fn insufficient_scope(scopes: &[&str], settings: &Settings) -> String {
    let mut challenge = format!("{BEARER} error=\"insufficient_scope\"");
    if !scopes.is_empty() {
        push_param(&mut challenge, "scope", &scopes.join(" "));
    }
    push_metadata(&mut challenge, settings);
    challenge
}

/// Puts the challenge for `error` in its `WWW-Authenticate` header, in place of any other.
pub(crate) fn set_challenge(error: &mut JwtError, realm: &str, settings: &Settings) {
    if let Some(challenge) = challenge(error, realm, settings) {
        error
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("WWW-Authenticate"));
        error.headers.push(("WWW-Authenticate".into(), challenge));
    }
}

/// The challenge for `error` on a route challenged as `realm`, or `None` when the error is not a
/// refusal of the request's credentials (a server error, an unavailable key set).
pub(crate) fn challenge(error: &JwtError, realm: &str, settings: &Settings) -> Option<String> {
    if let ErrorKind::InvalidProof(_) = error.kind {
        // The `DPoP` challenge says what is wrong with a proof (see `add_dpop`).
        return None;
    }
    let code = error_code(error.kind)?;
    // The configured spelling of the scheme, as the challenge without a token always had.
    let scheme = &settings.auth_header_prefix;
    let mut challenge = format!("{scheme} realm=\"{}\"", quoted(realm));
    if let Some(code) = code {
        push_param(&mut challenge, "error", code);
        push_param(&mut challenge, "error_description", &error.description);
    }
    push_metadata(&mut challenge, settings);
    Some(challenge)
}

/// Adds the `DPoP` challenge (RFC 9449 §7.1) of a route whose DPoP mode is `mode` to `response`,
/// the refusal of `error`: `DPoP algs="..."` with the error code and description of a refusal of
/// the request's credentials. A route that requires DPoP takes no bearer token, so its `Bearer`
/// challenges are removed; a route that allows both keeps them beside it.
pub(crate) fn add_dpop(
    response: &mut crate::error::JwtResponse,
    error: &JwtError,
    mode: DpopMode,
    settings: &Settings,
) {
    if !mode.is_on() {
        return;
    }
    let Some(code) = error_code(error.kind) else {
        return;
    };
    let mut algorithms: Vec<&str> = Vec::new();
    for algorithm in &settings.dpop_algorithms {
        algorithms.push(algorithm_name(*algorithm));
        if *algorithm == jsonwebtoken::Algorithm::EdDSA {
            // RFC 9864's fully specified name of the same proofs, which panva's clients write.
            algorithms.push("Ed25519");
        }
    }
    let mut challenge = format!("DPoP algs=\"{}\"", algorithms.join(" "));
    if let Some(code) = code {
        push_param(&mut challenge, "error", code);
        push_param(&mut challenge, "error_description", &error.description);
    }
    if mode == DpopMode::Required {
        response.headers.retain(|(name, value)| {
            !(name.eq_ignore_ascii_case("WWW-Authenticate")
                && !value.starts_with("DPoP ")
                && error.kind != ErrorKind::InsufficientScope)
        });
    }
    response
        .headers
        .push(("WWW-Authenticate".into(), challenge));
}

/// The error code of a refusal of the request's credentials (`None` inside: no token was sent,
/// a challenge without a code), or `None` for an error that refuses no credentials (a server
/// error, an unavailable key set or store, insufficient scope, the login's errors).
fn error_code(kind: ErrorKind) -> Option<Option<&'static str>> {
    match kind {
        ErrorKind::MissingToken => Some(None),
        ErrorKind::InvalidHeader => Some(Some("invalid_request")),
        ErrorKind::InvalidProof(check) => Some(Some(check.error_code())),
        ErrorKind::InvalidToken(_)
        | ErrorKind::UnknownIdentity
        | ErrorKind::WrongTokenType
        | ErrorKind::FreshTokenRequired
        | ErrorKind::Csrf
        | ErrorKind::Revoked
        | ErrorKind::ClaimsVerificationFailed => Some(Some("invalid_token")),
        ErrorKind::InsufficientScope
        | ErrorKind::RevocationUnavailable
        | ErrorKind::KeysUnavailable
        | ErrorKind::Internal
        | ErrorKind::InvalidCredentials
        | ErrorKind::BadRequestBody => None,
    }
}

/// Adds the RFC 9728 `resource_metadata` parameter when protected-resource metadata is served.
fn push_metadata(challenge: &mut String, settings: &Settings) {
    if let Some(url) = settings
        .protected_resource
        .as_ref()
        .and_then(crate::settings::ProtectedResource::document_url)
    {
        push_param(challenge, "resource_metadata", &url);
    }
}

fn push_param(challenge: &mut String, name: &str, value: &str) {
    challenge.push_str(&format!(", {name}=\"{}\"", safe(value)));
}

/// A value in the characters RFC 6750 allows in `error_description` and `scope`
/// (`%x20-21 / %x23-5B / %x5D-7E`): `"` and `\` become `'`, anything else outside is dropped.
fn safe(value: &str) -> String {
    value
        .chars()
        .filter_map(|c| match c {
            '"' | '\\' => Some('\''),
            ' '..='~' => Some(c),
            _ => None,
        })
        .collect()
}

/// `value` as the inside of an RFC 7235 quoted string (a challenge's realm): `\` and `"` escaped.
pub(crate) fn quoted(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Check;

    fn bearer() -> Settings {
        Settings {
            auth_header_prefix: "Bearer".into(),
            ..Settings::default()
        }
    }

    #[test]
    fn only_the_flask_jwt_profile_with_the_bearer_scheme_answers_rfc_6750() {
        assert!(answers_rfc6750(&bearer()));
        assert!(answers_rfc6750(&Settings {
            auth_header_prefix: "bearer".into(),
            ..Settings::default()
        }));
        assert!(!answers_rfc6750(&Settings::default()));
        assert!(!answers_rfc6750(&Settings::for_profile(Profile::Extended)));
    }

    #[test]
    fn each_kind_of_refusal_has_its_error_code() {
        let settings = bearer();
        let missing = JwtError::new(
            rocket::http::Status::Unauthorized,
            ErrorKind::MissingToken,
            "Authorization Required",
            "Request does not contain an access token",
        );
        assert_eq!(
            challenge(&missing, "Login Required", &settings).as_deref(),
            Some(r#"Bearer realm="Login Required""#)
        );
        let header = JwtError::invalid_header("Token contains spaces");
        assert_eq!(
            challenge(&header, "Login Required", &settings).as_deref(),
            Some(
                r#"Bearer realm="Login Required", error="invalid_request", error_description="Token contains spaces""#
            )
        );
        let expired = JwtError::invalid_token(Check::ValidityPeriod, "Signature has expired");
        assert_eq!(
            challenge(&expired, "A \"b\"", &settings).as_deref(),
            Some(
                r#"Bearer realm="A \"b\"", error="invalid_token", error_description="Signature has expired""#
            )
        );
        assert_eq!(
            challenge(&JwtError::internal("x"), "Login Required", &settings),
            None
        );
    }

    #[test]
    fn descriptions_keep_to_the_allowed_characters() {
        assert_eq!(safe("kid \"a\\b\" \u{e9}\n"), "kid 'a'b' ");
        assert_eq!(
            insufficient_scope(&["read:messages", "a\"b"], &bearer()),
            r#"Bearer error="insufficient_scope", scope="read:messages a'b""#
        );
        assert_eq!(
            insufficient_scope(&[], &bearer()),
            r#"Bearer error="insufficient_scope""#
        );
    }
}
