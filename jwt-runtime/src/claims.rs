//! The claims of a token and the clock they are read against: the [`Payload`] type, NumericDate
//! values, and the current time.

use std::time::{SystemTime, UNIX_EPOCH};

use std::borrow::Cow;

use serde_json::{Map, Value};

/// The claims of a token: a JSON object, as Flask-JWT's `payload` dict.
pub type Payload = Map<String, Value>;

/// A NumericDate as whole seconds, rounded down: an integer, or a finite float (PyJWT accepts
/// both). Strings, booleans, and numbers beyond ±9·10¹⁸ are not NumericDates.
pub fn numeric_date(value: &Value) -> Option<i64> {
    numeric_date_rounded(value, f64::floor)
}

/// A NumericDate as whole seconds, rounded up (for the claims a token must not be used before).
pub(crate) fn numeric_date_ceil(value: &Value) -> Option<i64> {
    numeric_date_rounded(value, f64::ceil)
}

fn numeric_date_rounded(value: &Value, round: fn(f64) -> f64) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| round(f) as i64)
        }),
        _ => None,
    }
}

/// Seconds since the Unix epoch, rounded down, as PyJWT's
/// `timegm(datetime.utcnow().utctimetuple())`; negative before 1970.
pub fn now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            // -1.5 s is second -2.
            -whole - i64::from(before.subsec_nanos() > 0)
        }
    }
}

/// A claim's value as text, as Python's `str()` shows it: a string as is (borrowed), anything else
/// as JSON (`1`, `true`). For messages and revocation keys.
pub(crate) fn claim_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_dates_round_toward_the_safe_side() {
        assert_eq!(numeric_date(&json!(10)), Some(10));
        assert_eq!(numeric_date(&json!(10.5)), Some(10));
        assert_eq!(numeric_date_ceil(&json!(10.5)), Some(11));
        assert_eq!(numeric_date(&json!(-1.5)), Some(-2));
        assert_eq!(numeric_date_ceil(&json!(10)), Some(10));
        for not_a_date in [
            json!("10"),
            json!(true),
            json!(null),
            json!(1e19),
            json!([1]),
        ] {
            assert_eq!(numeric_date(&not_a_date), None, "{not_a_date}");
        }
    }

    #[test]
    fn the_clock_is_after_the_epoch() {
        assert!(now() > 1_700_000_000);
    }
}
