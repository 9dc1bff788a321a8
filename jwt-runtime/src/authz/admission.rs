//! Admission: whether a token that passed the five checks and the claim requirements of every
//! route (`token::claim_checks`) is admitted to this route — the CSRF double submit of a cookie
//! token, the token type and freshness, in Flask-JWT-Extended's order, so the same token gets
//! the same answer. The route's scopes and claim rules come after, in `authorization`.

use serde_json::Value;

use crate::authz::rules::RouteRules;
use crate::error::{Check, JwtError};
use crate::token::claims::TokenClaims;

/// Checks `claims` (a refresh token's when `refresh`, as read when it was verified) against
/// `rules`; `csrf` is the value sent beside a cookie token on a
/// CSRF-protected method; `now` is the current time in seconds.
pub(crate) fn check(
    claims: &TokenClaims,
    refresh: bool,
    rules: &RouteRules,
    csrf: Option<&str>,
    now: f64,
) -> Result<(), JwtError> {
    if let Some(sent) = csrf {
        match csrf_matches(claims, sent) {
            None => {
                return Err(JwtError::invalid_token(
                    Check::WellFormed,
                    "Missing claim: csrf",
                ))
            }
            Some(false) => return Err(csrf_mismatch()),
            Some(true) => {}
        }
    }
    if rules.verify_type {
        // As Flask-JWT-Extended: a token without `type` is an access token; a type other than
        // `refresh` is not refused where an access token is required.
        if rules.refresh != refresh && (rules.refresh || refresh) {
            return Err(JwtError::wrong_token_type(rules.refresh));
        }
    }
    if rules.fresh && !is_fresh(claims.get("fresh"), now) {
        return Err(JwtError::fresh_token_required());
    }
    Ok(())
}

/// `"fresh": true`, or a time (seconds) not yet past.
fn is_fresh(fresh: Option<&Value>, now: f64) -> bool {
    match fresh {
        Some(Value::Bool(fresh)) => *fresh,
        Some(Value::Number(until)) => until.as_f64().is_some_and(|until| until >= now),
        _ => false,
    }
}

/// Whether the token's `csrf` claim is the value `sent` beside it (compared in constant time);
/// `None` when the claim is absent or not a string.
pub(crate) fn csrf_matches(claims: &TokenClaims, sent: &str) -> Option<bool> {
    let Some(Value::String(expected)) = claims.get("csrf") else {
        return None;
    };
    Some(crate::crypto::constant_time_eq(
        expected.as_bytes(),
        sent.as_bytes(),
    ))
}

/// Flask-JWT-Extended's answer to a CSRF value that is not the token's.
pub(crate) fn csrf_mismatch() -> JwtError {
    JwtError::csrf("CSRF double submit tokens do not match")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::rules::{Fresh, Refresh, Required, RouteRules, Rules};
    use serde_json::json;

    fn claims(value: Value) -> TokenClaims {
        TokenClaims::of(value)
    }

    fn answer(value: Value, rules: RouteRules, csrf: Option<&str>) -> Result<(), String> {
        let claims = claims(value);
        check(&claims, claims.is_refresh(), &rules, csrf, 1000.0)
            .map_err(|error| format!("{} {}", error.status.code, error.description))
    }

    struct AnyType;
    impl Rules for AnyType {
        const REFRESH: bool = true;
        const VERIFY_TYPE: bool = false;
    }

    #[test]
    fn token_types_are_checked_both_ways_unless_verify_type_is_off() {
        let access = json!({"sub": "u", "type": "access"});
        let refresh = json!({"sub": "u", "type": "refresh"});
        let required = RouteRules::of::<Required>();
        let refresh_rules = RouteRules::of::<Refresh>();
        assert_eq!(answer(access.clone(), required, None), Ok(()));
        assert_eq!(
            answer(refresh.clone(), required, None),
            Err("422 Only non-refresh tokens are allowed".into())
        );
        assert_eq!(answer(refresh.clone(), refresh_rules, None), Ok(()));
        assert_eq!(
            answer(access.clone(), refresh_rules, None),
            Err("422 Only refresh tokens are allowed".into())
        );
        assert_eq!(
            answer(json!({"sub": "u"}), refresh_rules, None),
            Err("422 Only refresh tokens are allowed".into()),
            "no type is an access token"
        );
        assert_eq!(answer(json!({"sub": "u"}), required, None), Ok(()));
        let any = RouteRules::of::<AnyType>();
        assert_eq!(answer(access, any, None), Ok(()));
        assert_eq!(answer(refresh, any, None), Ok(()));
    }

    #[test]
    fn freshness_is_true_or_a_time_to_come() {
        let fresh = RouteRules::of::<Fresh>();
        assert_eq!(
            answer(json!({"sub": "u", "fresh": true}), fresh, None),
            Ok(())
        );
        for stale in [
            json!({"sub": "u", "fresh": false}),
            json!({"sub": "u"}),
            json!({"sub": "u", "fresh": 999.5}),
            json!({"sub": "u", "fresh": "true"}),
            json!({"sub": "u", "fresh": 1}),
        ] {
            assert_eq!(
                answer(stale.clone(), fresh, None),
                Err("401 Fresh token required".into()),
                "{stale}"
            );
        }
        assert_eq!(
            answer(json!({"sub": "u", "fresh": 1000.0}), fresh, None),
            Ok(())
        );
    }

    #[test]
    fn csrf_double_submit_compares_the_claim() {
        let required = RouteRules::of::<Required>();
        let token = json!({"sub": "u", "csrf": "abc"});
        assert_eq!(answer(token.clone(), required, Some("abc")), Ok(()));
        assert_eq!(
            answer(token.clone(), required, Some("abd")),
            Err("401 CSRF double submit tokens do not match".into())
        );
        assert_eq!(
            answer(token, required, Some("ab")),
            Err("401 CSRF double submit tokens do not match".into())
        );
        assert_eq!(
            answer(json!({"sub": "u"}), required, Some("abc")),
            Err("401 Missing claim: csrf".into())
        );
        assert_eq!(
            answer(json!({"sub": "u", "csrf": 1}), required, Some("1")),
            Err("401 Missing claim: csrf".into())
        );
    }
}
