//! Check 4, **intended authority**: the key that verified the signature belongs to the authority
//! (a configured key, or a key of its JWKS selected by `kid`), and `iss` is the configured issuer,
//! byte for byte (a trailing slash included).

use rocket::http::Status;
use serde_json::Value;

use super::shorten;
use crate::error::{Check, ErrorKind, JwtError};
use crate::jwks::JwksError;
use crate::token::claims::TokenClaims;

/// `iss` equal to `expected`, when an issuer is configured.
pub(crate) fn issuer(expected: Option<&str>, claims: &TokenClaims) -> Result<(), JwtError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    match claims.get("iss") {
        None | Some(Value::Null) => Err(super::missing_claim(Check::Authority, "iss")),
        Some(Value::String(iss)) if iss == expected => Ok(()),
        Some(other) => Err(JwtError::invalid_token(
            Check::Authority,
            "Invalid issuer: the token is not from the intended authority",
        )
        .with_detail(format!("expected iss {expected:?}, received {other}"))),
    }
}

/// A key that could not be had from the JWKS. Its `kid` is not in the set: not from the intended
/// authority. It is in the set but bound to another algorithm: the token's `alg` is not allowed
/// for that key. The endpoint failing past the stale window: the keys are unavailable (503,
/// failing closed).
pub(crate) fn key_error(error: JwksError) -> JwtError {
    match error {
        JwksError::UnknownKid { kid } => JwtError::invalid_token(
            Check::Authority,
            "Unknown signing key: the token is not from the intended authority",
        )
        .with_detail(match kid {
            Some(kid) => format!("kid {:?} is not in the authority's key set", shorten(&kid)),
            None => "the token has no kid".to_string(),
        }),
        JwksError::AlgorithmMismatch { kid, bound } => JwtError::invalid_token(
            Check::Signature,
            "The specified alg value is not allowed for this signing key",
        )
        .with_detail(format!(
            "kid {:?} is bound to {}",
            shorten(&kid),
            bound
                .iter()
                .map(|a| crate::keys::algorithm_name(*a))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        JwksError::AmbiguousKey => JwtError::invalid_token(
            Check::Authority,
            "Ambiguous signing key: the token must name one of the authority's keys (kid)",
        ),
        JwksError::DisallowedAlgorithm(_) => super::signature::not_allowed(),
        other => JwtError::new(
            Status::ServiceUnavailable,
            ErrorKind::KeysUnavailable,
            "Service Unavailable",
            "The authority's signing keys cannot be fetched",
        )
        .with_detail(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issuer_is_compared_byte_for_byte() {
        let claims = |iss: Value| TokenClaims::of(json!({ "iss": iss }));
        let expected = Some("https://tenant.auth0.com/");
        assert!(issuer(expected, &claims(json!("https://tenant.auth0.com/"))).is_ok());
        for other in [
            json!("https://tenant.auth0.com"),
            json!("https://TENANT.auth0.com/"),
            json!("https://tenant.auth0.com/x"),
            json!("tenant.auth0.com/"),
            json!(["https://tenant.auth0.com/"]),
            json!(1),
        ] {
            let error = issuer(expected, &claims(other.clone())).unwrap_err();
            assert_eq!(error.check(), Some(Check::Authority), "{other}");
            assert_eq!(error.error, "Invalid token", "{other}");
            assert_eq!(
                error.description, "Invalid issuer: the token is not from the intended authority",
                "{other}"
            );
        }
        assert_eq!(
            issuer(expected, &claims(json!("https://tenant.auth0.com")))
                .unwrap_err()
                .detail
                .as_deref(),
            Some(
                r#"expected iss "https://tenant.auth0.com/", received "https://tenant.auth0.com""#
            )
        );
        let missing = issuer(expected, &TokenClaims::of(json!({}))).unwrap_err();
        assert_eq!(missing.check(), Some(Check::Authority));
        assert_eq!(missing.description, "Token is missing the \"iss\" claim");
        assert!(issuer(None, &claims(json!("anything"))).is_ok());
    }

    #[test]
    fn a_key_bound_to_another_algorithm_is_not_an_unknown_key() {
        let unknown = key_error(JwksError::UnknownKid {
            kid: Some("k9".into()),
        });
        assert!(unknown.description.starts_with("Unknown signing key"));
        let mismatch = key_error(JwksError::AlgorithmMismatch {
            kid: "k1".into(),
            bound: vec![jsonwebtoken::Algorithm::ES256],
        });
        assert_eq!(mismatch.check(), Some(Check::Signature));
        assert_eq!(
            mismatch.description,
            "The specified alg value is not allowed for this signing key"
        );
        assert_eq!(
            mismatch.detail.as_deref(),
            Some("kid \"k1\" is bound to ES256")
        );
    }
}
