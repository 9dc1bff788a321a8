//! RFC 9068, the JWT profile for OAuth 2.0 access tokens, as the `strict_access_tokens` setting.
//!
//! The pipeline's checks take the profile's demands where they already have a setting for them:
//! `typ` must be `at+jwt` (or `application/at+jwt`; the `expected_typ` setting, when given,
//! wins), `exp` and `iat` are required, `exp` and `nbf` are checked, and tokens older than
//! `max_age` ([`DEFAULT_MAX_AGE`] unless set) are refused; `iss` and `aud` are checked against
//! the `issuer` and `audience` settings, which the profile requires. [`check`] then requires the
//! claims the pipeline has no setting for: `sub`, `client_id` and `jti` (strings), on verified
//! claims, before the route's own requirements.

use std::time::Duration;

use serde_json::Value;

use crate::error::{Check, JwtError};
use crate::settings::Settings;
use crate::token::claims::TokenClaims;

/// The `typ` RFC 9068 §2.1 requires.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The maximum token age when `max_age` is not set: one day.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The `typ` the pipeline demands: `expected_typ`, or `at+jwt` under the profile.
pub(crate) fn expected_typ(settings: &Settings) -> Option<String> {
    settings.expected_typ.clone().or_else(|| {
        settings
            .strict_access_tokens
            .then(|| ACCESS_TOKEN_TYP.into())
    })
}

/// The maximum age the pipeline demands: `max_age`, or [`DEFAULT_MAX_AGE`] under the profile.
pub(crate) fn max_age(settings: &Settings) -> Option<Duration> {
    settings
        .max_age
        .or_else(|| settings.strict_access_tokens.then_some(DEFAULT_MAX_AGE))
}

/// The claims the profile requires that the pipeline does not: `sub`, `client_id`, `jti` as
/// strings, and (again, whatever the settings) `iss`, `aud`, `exp`, `iat`.
pub(crate) fn check(claims: &TokenClaims, settings: &Settings) -> Result<(), JwtError> {
    if !settings.strict_access_tokens {
        return Ok(());
    }
    for name in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
        if !claims.contains_key(name) {
            return Err(JwtError::invalid_token(
                Check::WellFormed,
                format!("Missing claim: {name} (RFC 9068 access token)"),
            ));
        }
    }
    for name in ["sub", "client_id", "jti"] {
        if !matches!(claims.get(name), Some(Value::String(_))) {
            return Err(JwtError::invalid_token(
                Check::WellFormed,
                format!("Invalid claim: {name} must be a string (RFC 9068 access token)"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strict() -> Settings {
        Settings {
            strict_access_tokens: true,
            issuer: Some("https://issuer.example/".into()),
            audience: vec!["api".into()],
            ..Settings::default()
        }
    }

    fn claims(value: Value) -> TokenClaims {
        TokenClaims::of(value)
    }

    fn good() -> Value {
        json!({"iss": "https://issuer.example/", "exp": 2, "aud": "api", "sub": "u",
               "client_id": "c", "iat": 1, "jti": "j"})
    }

    #[test]
    fn every_rfc_9068_claim_is_required() {
        assert!(check(&claims(good()), &strict()).is_ok());
        for name in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
            let mut token = good();
            token.as_object_mut().expect("an object").remove(name);
            let error = check(&claims(token), &strict()).expect_err(name);
            assert_eq!(
                error.description,
                format!("Missing claim: {name} (RFC 9068 access token)")
            );
            assert_eq!(error.status.code, 401);
        }
        for (name, value) in [
            ("sub", json!(1)),
            ("client_id", json!(["c"])),
            ("jti", json!(null)),
        ] {
            let mut token = good();
            token[name] = value;
            let error = check(&claims(token), &strict()).expect_err(name);
            assert!(
                error.description.contains("must be a string"),
                "{}",
                error.description
            );
        }
        assert!(
            check(&claims(json!({})), &Settings::default()).is_ok(),
            "off by default"
        );
    }

    #[test]
    fn the_profile_sets_typ_and_max_age_unless_given() {
        assert_eq!(expected_typ(&strict()).as_deref(), Some("at+jwt"));
        assert_eq!(max_age(&strict()), Some(DEFAULT_MAX_AGE));
        let given = Settings {
            expected_typ: Some("application/at+jwt".into()),
            max_age: Some(Duration::from_secs(60)),
            ..strict()
        };
        assert_eq!(expected_typ(&given).as_deref(), Some("application/at+jwt"));
        assert_eq!(max_age(&given), Some(Duration::from_secs(60)));
        assert_eq!(expected_typ(&Settings::default()), None);
        assert_eq!(max_age(&Settings::default()), None);
    }
}
