//! Check 5, **intended audience**: one of the token's `aud` values is a configured audience; a
//! token naming an audience is refused when none is configured.

use serde_json::Value;

use super::missing_claim;
use crate::claims::Payload;
use crate::error::{Check, JwtError};

/// `aud` (a string, or an array of strings) against the `accepted` audiences.
pub(crate) fn check(accepted: &[String], claims: &Payload) -> Result<(), JwtError> {
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
