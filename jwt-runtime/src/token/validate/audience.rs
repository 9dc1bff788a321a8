//! Check 5, **intended audience**: one of the token's `aud` values is a configured audience; a
//! token naming an audience is refused when none is configured.

use serde_json::Value;

use super::missing_claim;
use crate::error::{Check, JwtError};
use crate::token::claims::TokenClaims;

/// `aud` (a string, or an array of strings) against the `accepted` audiences.
pub(crate) fn check(accepted: &[String], claims: &TokenClaims) -> Result<(), JwtError> {
    let not_for_us = |detail: String| {
        JwtError::invalid_token(
            Check::Audience,
            "Invalid audience: the token is not for this application",
        )
        .with_detail(detail)
    };
    let claim = match claims.get("aud") {
        None | Some(Value::Null) if accepted.is_empty() => return Ok(()),
        None | Some(Value::Null) => return Err(missing_claim(Check::Audience, "aud")),
        Some(claim) => claim,
    };
    let audiences: Vec<&str> = match claim {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => match many.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
            Some(many) => many,
            None => {
                return Err(not_for_us(
                    "aud is an array with a non-string member".into(),
                ))
            }
        },
        _ => {
            return Err(not_for_us(format!(
                "aud is {claim}, not a string or an array"
            )))
        }
    };
    if accepted.is_empty() {
        return Err(not_for_us(format!(
            "the token has aud {claim} but no audience is configured"
        )));
    }
    if audiences
        .iter()
        .any(|aud| accepted.iter().any(|a| a == aud))
    {
        Ok(())
    } else {
        Err(not_for_us(format!(
            "expected aud {accepted:?}, received {claim}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOT_FOR_US: &str = "Invalid audience: the token is not for this application";
    const MISSING: &str = "Token is missing the \"aud\" claim";

    /// Claims holding `aud` (none when `None`).
    fn claims(aud: Option<Value>) -> TokenClaims {
        let mut claims = json!({"sub": "1"});
        if let Some(aud) = aud {
            claims["aud"] = aud;
        }
        TokenClaims::of(claims)
    }

    fn configured(audiences: &[&str]) -> Vec<String> {
        audiences.iter().map(|a| a.to_string()).collect()
    }

    /// Asserts that `aud` is accepted under `accepted`.
    fn accepted(accepted: &[&str], aud: Option<Value>) {
        let case = format!("{aud:?} under {accepted:?}");
        assert_eq!(check(&configured(accepted), &claims(aud)), Ok(()), "{case}");
    }

    /// Asserts that `aud` is refused under `accepted` by check 5, with `description` and `detail`.
    fn refused(accepted: &[&str], aud: Option<Value>, description: &str, detail: Option<&str>) {
        let case = format!("{aud:?} under {accepted:?}");
        let error = check(&configured(accepted), &claims(aud)).expect_err(&case);
        assert_eq!(error.check(), Some(Check::Audience), "{case}");
        assert_eq!(error.error, "Invalid token", "{case}");
        assert_eq!(error.description, description, "{case}");
        assert_eq!(error.detail.as_deref(), detail, "{case}");
    }

    #[test]
    fn a_string_aud_must_be_a_configured_audience() {
        accepted(&["api"], Some(json!("api")));
        for (aud, detail) in [
            (json!("other"), r#"expected aud ["api"], received "other""#),
            (json!("API"), r#"expected aud ["api"], received "API""#),
            (json!("api "), r#"expected aud ["api"], received "api ""#),
            (json!(""), r#"expected aud ["api"], received """#),
            (
                json!("https://api"),
                r#"expected aud ["api"], received "https://api""#,
            ),
        ] {
            refused(&["api"], Some(aud), NOT_FOR_US, Some(detail));
        }
    }

    #[test]
    fn an_array_aud_needs_one_configured_member() {
        accepted(&["api"], Some(json!(["api"])));
        accepted(&["api"], Some(json!(["other", "api"])));
        accepted(&["api"], Some(json!(["api", "api"])));
        for (aud, detail) in [
            (
                json!(["other"]),
                r#"expected aud ["api"], received ["other"]"#,
            ),
            (
                json!(["other", "API"]),
                r#"expected aud ["api"], received ["other","API"]"#,
            ),
            (json!([]), r#"expected aud ["api"], received []"#),
            (json!([""]), r#"expected aud ["api"], received [""]"#),
        ] {
            refused(&["api"], Some(aud), NOT_FOR_US, Some(detail));
        }
    }

    #[test]
    fn one_of_several_configured_audiences_is_enough() {
        let several = ["api", "https://api.example.com/"];
        accepted(&several, Some(json!("api")));
        accepted(&several, Some(json!("https://api.example.com/")));
        accepted(&several, Some(json!(["other", "https://api.example.com/"])));
        accepted(&several, Some(json!(["api", "https://api.example.com/"])));
        refused(
            &several,
            Some(json!("https://api.example.com")),
            NOT_FOR_US,
            Some(
                r#"expected aud ["api", "https://api.example.com/"], received "https://api.example.com""#,
            ),
        );
        refused(
            &several,
            Some(json!(["other", "else"])),
            NOT_FOR_US,
            Some(r#"expected aud ["api", "https://api.example.com/"], received ["other","else"]"#),
        );
    }

    #[test]
    fn with_none_configured_a_token_without_aud_passes_and_one_with_aud_is_refused() {
        accepted(&[], None);
        for (aud, detail) in [
            (
                json!("api"),
                r#"the token has aud "api" but no audience is configured"#,
            ),
            (
                json!(["api", "other"]),
                r#"the token has aud ["api","other"] but no audience is configured"#,
            ),
            (
                json!([]),
                "the token has aud [] but no audience is configured",
            ),
            (
                json!(""),
                r#"the token has aud "" but no audience is configured"#,
            ),
        ] {
            refused(&[], Some(aud), NOT_FOR_US, Some(detail));
        }
    }

    #[test]
    fn a_missing_aud_is_refused_when_an_audience_is_configured() {
        refused(&["api"], None, MISSING, None);
        refused(&["api", "other"], None, MISSING, None);
    }

    #[test]
    fn a_null_aud_is_no_audience() {
        accepted(&[], Some(Value::Null));
        refused(&["api"], Some(Value::Null), MISSING, None);
    }

    #[test]
    fn an_array_with_a_non_string_member_is_refused() {
        for configured in [&["api"][..], &[]] {
            for aud in [
                json!([1]),
                json!(["api", 1]),
                json!(["api", null]),
                json!(["api", true]),
                json!(["api", ["api"]]),
                json!(["api", {"aud": "api"}]),
            ] {
                refused(
                    configured,
                    Some(aud),
                    NOT_FOR_US,
                    Some("aud is an array with a non-string member"),
                );
            }
        }
    }

    #[test]
    fn other_json_types_are_refused() {
        for configured in [&["api"][..], &[]] {
            for (aud, detail) in [
                (json!(1), "aud is 1, not a string or an array"),
                (json!(1.5), "aud is 1.5, not a string or an array"),
                (json!(true), "aud is true, not a string or an array"),
                (json!(false), "aud is false, not a string or an array"),
                (
                    json!({"aud": "api"}),
                    r#"aud is {"aud":"api"}, not a string or an array"#,
                ),
                (json!({}), "aud is {}, not a string or an array"),
            ] {
                refused(configured, Some(aud), NOT_FOR_US, Some(detail));
            }
        }
    }
}
