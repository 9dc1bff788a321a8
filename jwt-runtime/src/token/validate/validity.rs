//! Check 3, **validity period**: the required time claims are present, and `iat`, `nbf`, `exp`
//! (and the maximum age, when set) hold at the current time, with the leeway.
//!
//! The comparisons follow RFC 7519: the token is expired once the current time is at or after
//! `exp` (§4.1.4), not yet valid while it is before `nbf` (§4.1.5), and `iat` may not be in the
//! future. The leeway widens each window by the same number of seconds. Fractional NumericDates
//! round toward refusal: `exp` down, `nbf` and `iat` up.

use serde_json::Value;

use super::missing_claim;
use crate::claims::{numeric_date, numeric_date_ceil};
use crate::error::{Check, JwtError};
use crate::settings::Settings;
use crate::token::claims::TokenClaims;

/// Which time checks run, resolved once from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeRules {
    exp: bool,
    nbf: bool,
    iat: bool,
    /// For each time claim that must be present, the setting that requires it.
    require_exp: Option<&'static str>,
    require_iat: Option<&'static str>,
    require_nbf: Option<&'static str>,
    leeway: i64,
    max_age: Option<i64>,
}

impl TimeRules {
    pub(crate) fn new(settings: &Settings) -> Self {
        let has = |list: &[String], name: &str| list.iter().any(|c| c == name);
        let verify = settings.verify;
        let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let required = settings.effective_required_claims();
        // `strict` claims are also required by the RFC 9068 profile.
        let required_by = |claim: &str, strict: bool| {
            if !verify {
                None
            } else if strict && settings.strict_access_tokens {
                Some(STRICT_ACCESS_TOKENS)
            } else if !required.contains(&claim) {
                None
            } else if settings.required_claims.is_some() {
                Some(REQUIRED_CLAIMS)
            } else {
                Some(REQUIRED_CLAIMS_DEFAULT)
            }
        };
        TimeRules {
            exp: verify && settings.verify_expiration && has(&settings.verify_claims, "exp"),
            nbf: verify && has(&settings.verify_claims, "nbf"),
            iat: verify && has(&settings.verify_claims, "iat"),
            require_exp: required_by("exp", true),
            require_iat: required_by("iat", true),
            require_nbf: required_by("nbf", false),
            leeway: seconds(settings.leeway),
            max_age: crate::token::access_token::max_age(settings).map(seconds),
        }
    }

    /// The leeway, in seconds.
    pub(crate) fn leeway(&self) -> i64 {
        self.leeway
    }
}

/// What a missing time claim's detail says requires it.
const STRICT_ACCESS_TOKENS: &str = "required by strict_access_tokens (RFC 9068)";
const REQUIRED_CLAIMS: &str = "required by the required_claims setting";
const REQUIRED_CLAIMS_DEFAULT: &str = "required by the required_claims setting, whose default is \
    exp, iat and nbf with a secret or key of your own (Flask-JWT), exp alone when keys come from \
    an authority; set required_claims to what the issuer's tokens carry";

/// A token's time claims as whole seconds, read once. The verified-token cache keeps it with the
/// claims, so a hit re-checks the validity period with integer comparisons alone ([`recheck`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Window {
    /// `iat` rounded up, when checked.
    iat: Option<i64>,
    /// `nbf` rounded up, when checked.
    nbf: Option<i64>,
    /// `iat` rounded down, when a maximum age is set.
    issued: Option<i64>,
    /// `exp` rounded down, when checked.
    exp: Option<i64>,
}

impl Window {
    fn check_iat(&self, rules: &TimeRules, now: i64) -> Result<(), JwtError> {
        let leeway = rules.leeway;
        match self.iat {
            Some(iat) if iat > now.saturating_add(leeway) => {
                Err(invalid("Issued At claim (iat) cannot be in the future.")
                    .with_detail(format!("iat is {} s ahead (leeway {leeway} s)", iat - now)))
            }
            _ => Ok(()),
        }
    }

    fn check_nbf(&self, rules: &TimeRules, now: i64) -> Result<(), JwtError> {
        let leeway = rules.leeway;
        match self.nbf {
            Some(nbf) if nbf > now.saturating_add(leeway) => {
                Err(invalid("The token is not yet valid (nbf)")
                    .with_detail(format!("valid in {} s (leeway {leeway} s)", nbf - now)))
            }
            _ => Ok(()),
        }
    }

    fn check_age(&self, rules: &TimeRules, now: i64) -> Result<(), JwtError> {
        let (Some(max_age), Some(issued)) = (rules.max_age, self.issued) else {
            return Ok(());
        };
        let age = now.saturating_sub(issued);
        if age > max_age.saturating_add(rules.leeway) {
            return Err(invalid("The token is too old (iat)").with_detail(format!(
                "issued {age} s ago; the maximum age is {max_age} s"
            )));
        }
        Ok(())
    }

    fn check_exp(&self, rules: &TimeRules, now: i64) -> Result<(), JwtError> {
        let leeway = rules.leeway;
        match self.exp {
            Some(exp) if exp <= now.saturating_sub(leeway) => Err(invalid("Signature has expired")
                .with_detail(format!(
                    "expired {} s ago (leeway {leeway} s)",
                    now.saturating_sub(exp)
                ))),
            _ => Ok(()),
        }
    }
}

/// The time claims of `claims` at `now` (seconds since the epoch): each is read (present when
/// required, a number) and compared in turn, as PyJWT does; the window read is returned.
pub(crate) fn check(rules: &TimeRules, claims: &TokenClaims, now: i64) -> Result<Window, JwtError> {
    // Each time claim is looked up once, for both its presence and its value.
    let (exp, iat, nbf) = (claims.read("exp"), claims.read("iat"), claims.read("nbf"));
    let (exp, iat, nbf) = (exp.as_deref(), iat.as_deref(), nbf.as_deref());
    for (required, claim, value) in [
        (rules.require_exp, "exp", exp),
        (rules.require_iat, "iat", iat),
        (rules.require_nbf, "nbf", nbf),
    ] {
        if let Some(setting) = required
            && value.is_none_or(Value::is_null)
        {
            return Err(missing_claim(Check::ValidityPeriod, claim).with_detail(setting));
        }
    }
    let mut window = Window::default();
    if rules.iat {
        window.iat = time_claim(iat, "iat", numeric_date_ceil)?;
        window.check_iat(rules, now)?;
    }
    if rules.nbf {
        window.nbf = time_claim(nbf, "nbf", numeric_date_ceil)?;
        window.check_nbf(rules, now)?;
    }
    if rules.max_age.is_some() {
        let issued = time_claim(iat, "iat", numeric_date)?;
        window.issued = Some(issued.ok_or_else(|| {
            missing_claim(Check::ValidityPeriod, "iat").with_detail("required by max_age")
        })?);
        window.check_age(rules, now)?;
    }
    if rules.exp {
        window.exp = time_claim(exp, "exp", numeric_date)?;
        window.check_exp(rules, now)?;
    }
    Ok(window)
}

/// The comparisons of [`check`] again, at `now`, for a window read before (a cache hit): in the
/// same order, with the same answers.
pub(crate) fn recheck(rules: &TimeRules, window: &Window, now: i64) -> Result<(), JwtError> {
    window.check_iat(rules, now)?;
    window.check_nbf(rules, now)?;
    window.check_age(rules, now)?;
    window.check_exp(rules, now)
}

fn invalid(description: &'static str) -> JwtError {
    JwtError::invalid_token(Check::ValidityPeriod, description)
}

/// Reads the value of the NumericDate claim `claim` as whole seconds; `None` when absent. Integers
/// and finite floats are accepted (PyJWT reads both); strings, booleans and anything else are
/// rejected.
fn time_claim(
    value: Option<&Value>,
    claim: &str,
    read: fn(&Value) -> Option<i64>,
) -> Result<Option<i64>, JwtError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let label = match claim {
        "exp" => "Expiration Time claim (exp)",
        "nbf" => "Not Before claim (nbf)",
        _ => "Issued At claim (iat)",
    };
    match read(value) {
        Some(seconds) => Ok(Some(seconds)),
        None => Err(JwtError::invalid_token(
            Check::ValidityPeriod,
            format!("{label} must be an integer."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn rules(leeway: u64) -> TimeRules {
        TimeRules::new(&Settings {
            leeway: Duration::from_secs(leeway),
            ..Settings::default()
        })
    }

    fn claims(value: Value) -> TokenClaims {
        TokenClaims::of(value)
    }

    const NOW: i64 = 1_800_000_000;

    /// The answer of `check` at `NOW`, after asserting that `recheck` of the window read at a
    /// time it was valid gives the same answer at `NOW`.
    fn at(rules: &TimeRules, value: Value) -> Result<(), String> {
        let claims = claims(value);
        let answer = check(rules, &claims, NOW)
            .map(|_| ())
            .map_err(|e| e.description.into_owned());
        // The same token read when it was valid (if it ever was, within a day), then rechecked.
        for then in [NOW - 86_400, NOW - 600, NOW - 30, NOW, NOW + 30, NOW + 600] {
            if let Ok(window) = check(rules, &claims, then) {
                let again = recheck(rules, &window, NOW).map_err(|e| e.description.into_owned());
                assert_eq!(again, answer, "read at {then}, rechecked at {NOW}");
            }
        }
        answer
    }

    #[test]
    fn exp_is_expired_from_the_second_it_names() {
        for leeway in [0, 10] {
            let rules = rules(leeway);
            let l = leeway as i64;
            let base = json!({"iat": NOW - 100, "nbf": NOW - 100});
            let with_exp = |exp: Value| {
                let mut c = base.clone();
                c["exp"] = exp;
                c
            };
            assert_eq!(
                at(&rules, with_exp(json!(NOW - l + 1))),
                Ok(()),
                "leeway {l}"
            );
            assert_eq!(
                at(&rules, with_exp(json!(NOW - l))),
                Err("Signature has expired".into()),
                "exp == now - leeway is expired (leeway {l})"
            );
            assert!(at(&rules, with_exp(json!(NOW - l - 1))).is_err());
            let expired = check(&rules, &claims(with_exp(json!(NOW - l))), NOW).unwrap_err();
            assert_eq!(expired.check(), Some(Check::ValidityPeriod));
            assert_eq!(expired.error, "Invalid token");
            // A fractional exp just after the boundary second still expires with it.
            assert!(at(&rules, with_exp(json!((NOW - l) as f64 + 0.5))).is_err());
            assert_eq!(at(&rules, with_exp(json!((NOW - l) as f64 + 1.5))), Ok(()));
        }
    }

    #[test]
    fn nbf_and_iat_are_valid_from_the_second_they_name() {
        for leeway in [0, 10] {
            let rules = rules(leeway);
            let l = leeway as i64;
            for claim in ["nbf", "iat"] {
                let token = |value: Value| {
                    let mut c = json!({"iat": NOW, "nbf": NOW, "exp": NOW + 600});
                    c[claim] = value;
                    c
                };
                assert_eq!(at(&rules, token(json!(NOW + l))), Ok(()), "{claim} {l}");
                let refusal = match claim {
                    "nbf" => "The token is not yet valid (nbf)",
                    _ => "Issued At claim (iat) cannot be in the future.",
                };
                assert_eq!(
                    at(&rules, token(json!(NOW + l + 1))),
                    Err(refusal.into()),
                    "{claim} {l}"
                );
                assert!(
                    at(&rules, token(json!((NOW + l) as f64 + 0.5))).is_err(),
                    "a fractional {claim} is not yet reached ({l})"
                );
            }
        }
    }

    #[test]
    fn max_age_boundary_is_inclusive() {
        let rules = TimeRules::new(&Settings {
            leeway: Duration::ZERO,
            max_age: Some(Duration::from_secs(60)),
            ..Settings::default()
        });
        let token = |iat: i64| json!({"iat": iat, "nbf": iat, "exp": NOW + 600});
        assert_eq!(at(&rules, token(NOW - 60)), Ok(()));
        assert_eq!(
            at(&rules, token(NOW - 61)),
            Err("The token is too old (iat)".into())
        );
    }

    #[test]
    fn time_claims_must_be_present_and_numbers() {
        let rules = rules(0);
        assert_eq!(
            at(&rules, json!({"iat": NOW, "nbf": NOW})),
            Err("Token is missing the \"exp\" claim".into())
        );
        assert_eq!(
            at(&rules, json!({"iat": NOW, "nbf": NOW, "exp": "9999999999"})),
            Err("Expiration Time claim (exp) must be an integer.".into())
        );
        assert_eq!(
            at(&rules, json!({"iat": true, "nbf": NOW, "exp": NOW + 1})),
            Err("Issued At claim (iat) must be an integer.".into())
        );
    }
}
