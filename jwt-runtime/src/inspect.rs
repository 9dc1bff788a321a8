//! Token inspection: every one of the five checks run and reported, passed or failed, with the
//! decoded header and claims — the troubleshooting view behind the `jwt-inspect` command.
//!
//! Unlike [`TokenCodec::verify`], which stops at the first failure, inspection goes on where it
//! can, so one run shows everything that is wrong with a token.

use std::fmt;

use serde_json::Value;

use crate::error::{Check, JwtError};
use crate::token::{now, Payload, TokenCodec};

/// What one check concluded.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The check passed; the text says what was verified.
    Passed(String),
    /// The check failed with this error (its `description` and `detail` say why).
    Failed(JwtError),
    /// The check could not run; the text says why.
    Skipped(String),
}

/// One check's report.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The check.
    pub check: Check,
    /// Its conclusion.
    pub outcome: Outcome,
}

/// The result of [`TokenCodec::inspect`].
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The decoded header, when the token has one.
    pub header: Option<Payload>,
    /// The decoded claims, when they are a JSON object (shown even if the signature fails).
    pub claims: Option<Payload>,
    /// The five checks, in order.
    pub checks: Vec<CheckReport>,
}

impl Inspection {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks
            .iter()
            .all(|report| matches!(report.outcome, Outcome::Passed(_)))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Passed(what) => write!(f, "passed: {what}"),
            Outcome::Failed(error) => {
                write!(f, "FAILED: {}", error.description)?;
                if let Some(detail) = &error.detail {
                    write!(f, " ({detail})")?;
                }
                Ok(())
            }
            Outcome::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

fn report(check: Check, result: Result<String, JwtError>) -> CheckReport {
    CheckReport {
        check,
        outcome: match result {
            Ok(what) => Outcome::Passed(what),
            Err(error) => Outcome::Failed(error),
        },
    }
}

fn skipped(check: Check, why: &str) -> CheckReport {
    CheckReport {
        check,
        outcome: Outcome::Skipped(why.to_owned()),
    }
}

impl TokenCodec {
    /// Runs the five checks on `token`, going on past failures where possible.
    pub async fn inspect(&self, token: &str) -> Inspection {
        let settings = self.settings();
        let parsed = match self.parse(token) {
            Ok(parsed) => parsed,
            Err(error) => {
                let why = "the token is not well-formed";
                return Inspection {
                    header: None,
                    claims: None,
                    checks: vec![
                        report(Check::WellFormed, Err(error)),
                        skipped(Check::Signature, why),
                        skipped(Check::ValidityPeriod, why),
                        skipped(Check::Authority, why),
                        skipped(Check::Audience, why),
                    ],
                };
            }
        };
        let claims = serde_json::from_slice::<Payload>(&parsed.claims).ok();
        let mut checks = Vec::with_capacity(5);
        checks.push(report(
            Check::WellFormed,
            match &claims {
                Some(_) => Ok("three base64url segments, JSON header and claims".into()),
                None => self.check_claims(&parsed.claims).map(|_| String::new()),
            },
        ));

        // 2. signature, and the key half of 4 (the key belongs to the authority).
        let mut key_outcome: Result<String, JwtError> = Err(JwtError::invalid_token(
            Check::Authority,
            "no key of the authority could be selected",
        ));
        let signature = match self.accepted_algorithm(&parsed) {
            Err(error) => Err(error),
            Ok(algorithm) => match self.resolve_key(&parsed, algorithm).await {
                Err(error) => {
                    key_outcome = Err(error);
                    Err(JwtError::invalid_token(
                        Check::Signature,
                        "no key to verify the signature with",
                    ))
                }
                Ok(key) => {
                    key_outcome = Ok(match key.kid() {
                        Some(kid) => format!("key {kid:?} of the configured authority"),
                        None => "the configured key".into(),
                    });
                    match self.verify_with(&parsed, &key) {
                        Err(error) if error.check() == Some(Check::Signature) => Err(error),
                        _ => Ok(format!(
                            "{} signature verified",
                            crate::token::algorithm_name(algorithm)
                        )),
                    }
                }
            },
        };
        let signature_ok = signature.is_ok();
        checks.push(report(Check::Signature, signature));

        let Some(payload) = claims.as_ref() else {
            let why = "the claims are not a JSON object";
            checks.extend([
                skipped(Check::ValidityPeriod, why),
                skipped(Check::Authority, why),
                skipped(Check::Audience, why),
            ]);
            return Inspection {
                header: Some(parsed.header.clone()),
                claims,
                checks,
            };
        };

        // 3. validity period.
        let leeway = settings.leeway.as_secs();
        checks.push(report(
            Check::ValidityPeriod,
            self.check_time_claims(payload, now()).map(|()| {
                format!("exp, nbf and iat within the validity period (leeway {leeway} s)")
            }),
        ));

        // 4. intended authority: the key, then `iss`.
        let authority = key_outcome.and_then(|key| {
            self.check_issuer(payload)?;
            Ok(match payload.get("iss") {
                Some(Value::String(iss)) if self.expects_issuer() => {
                    format!("signed with {key}; iss {iss:?} is the configured issuer")
                }
                _ => format!("signed with {key}; no issuer configured"),
            })
        });
        let authority = match (signature_ok, authority) {
            (false, Ok(_)) => Err(JwtError::invalid_token(
                Check::Authority,
                "the signature does not verify, so the token is not proven to come from the authority",
            )),
            (_, other) => other,
        };
        checks.push(report(Check::Authority, authority));

        // 5. intended audience.
        checks.push(report(
            Check::Audience,
            self.check_audience(payload)
                .map(|()| match payload.get("aud") {
                    Some(aud) => format!("aud {aud} includes a configured audience"),
                    None => "no aud in the token and none configured".into(),
                }),
        ));

        Inspection {
            header: Some(parsed.header.clone()),
            claims,
            checks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Secret, Settings};
    use serde_json::json;

    fn codec(settings: Settings) -> TokenCodec {
        TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            ..settings
        })
        .unwrap()
    }

    fn outcomes(inspection: &Inspection) -> Vec<&'static str> {
        inspection
            .checks
            .iter()
            .map(|r| match r.outcome {
                Outcome::Passed(_) => "passed",
                Outcome::Failed(_) => "failed",
                Outcome::Skipped(_) => "skipped",
            })
            .collect()
    }

    #[tokio::test]
    async fn a_good_token_passes_all_five() {
        let codec = codec(Settings::default());
        let token = codec
            .encode(&codec.default_payload(json!(1)), &Payload::new())
            .unwrap();
        let inspection = codec.inspect(&token).await;
        assert!(inspection.passed(), "{inspection:?}");
        assert_eq!(inspection.checks.len(), 5);
        assert_eq!(inspection.claims.unwrap()["identity"], 1);
    }

    #[tokio::test]
    async fn garbage_fails_well_formed_and_skips_the_rest() {
        let inspection = codec(Settings::default()).inspect("abc").await;
        assert_eq!(
            outcomes(&inspection),
            ["failed", "skipped", "skipped", "skipped", "skipped"]
        );
        assert!(!inspection.passed());
    }

    #[tokio::test]
    async fn every_failure_is_reported_in_one_run() {
        let issuer = codec(Settings::default());
        let now = now();
        let mut claims = issuer.default_payload(json!(1));
        claims.insert("exp".into(), json!(now - 3600));
        claims.insert("iss".into(), json!("https://tenant.auth0.com"));
        claims.insert("aud".into(), json!("other-api"));
        let token = issuer.encode(&claims, &Payload::new()).unwrap();
        let strict = codec(Settings {
            issuer: Some("https://tenant.auth0.com/".into()),
            audience: vec!["api".into()],
            ..Settings::default()
        });
        let inspection = strict.inspect(&token).await;
        assert_eq!(
            outcomes(&inspection),
            ["passed", "passed", "failed", "failed", "failed"]
        );
        let text = inspection.checks[2].outcome.to_string();
        assert!(
            text.contains("Signature has expired") && text.contains("expired 3600 s ago"),
            "{text}"
        );
        let text = inspection.checks[3].outcome.to_string();
        assert!(text.contains("https://tenant.auth0.com/"), "{text}");
    }

    #[tokio::test]
    async fn a_bad_signature_still_shows_the_claims() {
        let codec = codec(Settings::default());
        let other = TokenCodec::new(Settings {
            secret_key: Some(Secret::new("another secret")),
            allow_short_secret: true,
            ..Settings::default()
        })
        .unwrap();
        let token = other
            .encode(&other.default_payload(json!(7)), &Payload::new())
            .unwrap();
        let inspection = codec.inspect(&token).await;
        assert_eq!(
            outcomes(&inspection),
            ["passed", "failed", "passed", "failed", "passed"]
        );
        assert_eq!(inspection.claims.unwrap()["identity"], 7);
    }
}
