//! The claim requirements that hold on every route, checked on verified claims after the five
//! checks and before the route's own demands: RFC 9068's claims under `strict_access_tokens`
//! ([`access_token`](crate::token::access_token)), and in the extended profile Flask-JWT-Extended's
//! two (`jti`, when present, is a string; the identity claim is present).
//!
//! The request flow and the inspector both call [`check`], so a token the guard refuses for its
//! claims is refused by the inspector with the same error.

use crate::error::{Check, JwtError};
use crate::settings::{Profile, Settings};
use crate::token::access_token;
use crate::token::claims::TokenClaims;

/// Checks the route-independent claim requirements of `settings` on verified `claims`.
pub(crate) fn check(claims: &TokenClaims, settings: &Settings) -> Result<(), JwtError> {
    access_token::check(claims, settings)?;
    if settings.profile != Profile::Extended {
        return Ok(());
    }
    if claims.get("jti").is_some_and(|jti| !jti.is_string()) {
        return Err(JwtError::invalid_token(
            Check::WellFormed,
            "JWT ID must be a string",
        ));
    }
    if !claims.contains_key(&settings.identity_claim) {
        return Err(JwtError::invalid_token(
            Check::WellFormed,
            format!("Missing claim: {}", settings.identity_claim),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn answer(value: Value, settings: &Settings) -> Result<(), String> {
        check(&TokenClaims::of(value), settings).map_err(|error| error.description.to_string())
    }

    #[test]
    fn the_extended_profile_requires_the_identity_claim() {
        let extended = Settings::for_profile(Profile::Extended);
        assert_eq!(
            answer(json!({"type": "access"}), &extended),
            Err("Missing claim: sub".into())
        );
        assert_eq!(answer(json!({"sub": "u"}), &extended), Ok(()));
        assert_eq!(answer(json!({}), &Settings::default()), Ok(()));
    }

    #[test]
    fn the_extended_profile_refuses_a_jti_that_is_not_a_string() {
        let extended = Settings::for_profile(Profile::Extended);
        assert_eq!(
            answer(json!({"sub": "u", "jti": 7}), &extended),
            Err("JWT ID must be a string".into())
        );
        assert_eq!(answer(json!({"sub": "u", "jti": "7"}), &extended), Ok(()));
        assert_eq!(
            answer(json!({"jti": 7}), &Settings::default()),
            Ok(()),
            "Flask-JWT has no such rule"
        );
    }

    #[test]
    fn strict_access_tokens_come_first() {
        let strict = Settings {
            strict_access_tokens: true,
            ..Settings::for_profile(Profile::Extended)
        };
        assert_eq!(
            answer(json!({"sub": "u", "jti": 7}), &strict),
            Err("Missing claim: iss (RFC 9068 access token)".into())
        );
    }
}
