//! Token inspection: every one of the five checks run and reported, passed, failed or skipped,
//! with the decoded header and claims — the troubleshooting view behind the `jwt-inspect`
//! command.
//!
//! Inspection runs the validation pipeline of the request path (the same steps, in the same
//! order) with a recorder that notes each check's conclusion and goes on where it can, instead of
//! stopping at the first failure. So it cannot disagree with [`TokenCodec::verify`]: a token
//! passes inspection exactly when it verifies, and [`Inspection::first_failure`] is the check the
//! request path rejects it with.

use std::fmt;

use crate::claims::{now, Payload};
use crate::error::{Check, JwtError};
use crate::settings::Settings;
use crate::token::claim_checks;
use crate::token::claims::TokenClaims;
use crate::token::codec::TokenCodec;
use crate::token::validate::{self, Recorder};

/// What one check concluded.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The check passed; the text says what was verified.
    Passed(String),
    /// The check failed with this error (its `description` and `detail` say why).
    Failed(JwtError),
    /// The check did not run; the text says why.
    Skipped(String),
}

/// One check's report.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The check.
    pub check: Check,
    /// Its conclusion.
    pub verdict: Verdict,
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
    /// The first check that failed, in the order the pipeline ran them: the one the request path
    /// answers with. `None` when the token is accepted.
    pub first_failure: Option<JwtError>,
}

impl Inspection {
    /// Whether the token is accepted: no check failed (a check the settings turn off is skipped).
    pub fn passed(&self) -> bool {
        self.first_failure.is_none()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Passed(what) => write!(f, "passed: {what}"),
            Verdict::Failed(error) => {
                write!(f, "FAILED: {}", error.description)?;
                if let Some(detail) = &error.detail {
                    write!(f, " ({detail})")?;
                }
                Ok(())
            }
            Verdict::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

/// Notes every check's first conclusion and lets the run go on.
struct Collect {
    verdicts: [Option<Verdict>; 5],
    first_failure: Option<JwtError>,
    header: Option<Payload>,
    claims: Option<Payload>,
}

fn slot(check: Check) -> usize {
    match check {
        Check::WellFormed => 0,
        Check::Signature => 1,
        Check::ValidityPeriod => 2,
        Check::Authority => 3,
        Check::Audience => 4,
    }
}

impl Recorder for Collect {
    fn pass(&mut self, check: Check, what: impl FnOnce() -> String) {
        self.verdicts[slot(check)].get_or_insert_with(|| Verdict::Passed(what()));
    }

    fn fail(&mut self, check: Check, error: JwtError) -> Result<(), JwtError> {
        let verdict = &mut self.verdicts[slot(check)];
        if !matches!(verdict, Some(Verdict::Failed(_))) {
            *verdict = Some(Verdict::Failed(error.clone()));
        }
        self.first_failure.get_or_insert(error);
        Ok(())
    }

    fn skip(&mut self, check: Check, why: &'static str) {
        self.verdicts[slot(check)].get_or_insert_with(|| Verdict::Skipped(why.into()));
    }

    fn header(&mut self, header: &Payload) {
        self.header = Some(header.clone());
    }

    fn claims(&mut self, claims: &TokenClaims) {
        self.claims = Some(claims.to_payload());
    }
}

impl TokenCodec {
    /// Runs the five checks on `token`, going on past failures where possible, then the claim
    /// requirements of every route (RFC 9068's under `strict_access_tokens`, the extended
    /// profile's `jti` and identity claim). Keys are fetched from the JWKS as
    /// [`verify`](Self::verify) would; the verified-token cache is not used.
    pub async fn inspect(&self, token: &str) -> Inspection {
        let mut collect = Collect {
            verdicts: Default::default(),
            first_failure: None,
            header: None,
            claims: None,
        };
        let (rules, keys) = self.parts();
        let outcome = validate::run(rules, keys, token, now(), &mut collect).await;
        if let Err(error) = outcome {
            // A recorder that goes on never ends the run early; keep the error if it did.
            collect.first_failure.get_or_insert(error);
        }
        let checks = Check::ALL
            .into_iter()
            .map(|check| CheckReport {
                check,
                verdict: collect.verdicts[slot(check)]
                    .take()
                    .unwrap_or_else(|| Verdict::Skipped("not reached".into())),
            })
            .collect();
        Inspection {
            header: collect.header,
            claims: collect.claims,
            checks,
            first_failure: collect.first_failure,
        }
        .with_claim_checks(self.settings())
    }
}

impl Inspection {
    /// The claim requirements of every route ([`claim_checks`]) on the decoded claims of a token
    /// that passed the five checks, and, with the `dpop` setting off, no DPoP binding (`cnf.jkt`):
    /// a failure is the first failure, under check 1 (well-formed), as the request path answers
    /// it.
    fn with_claim_checks(mut self, settings: &Settings) -> Self {
        let Some(claims) = self
            .claims
            .as_ref()
            .filter(|_| self.first_failure.is_none())
        else {
            return self;
        };
        let claims = TokenClaims::from_payload(claims.clone());
        // A DPoP-bound token passes only where DPoP is on, with a proof (the inspector's
        // `--dpop`); elsewhere it is a bearer token that cannot be one.
        let bound_as_bearer = (!settings.dpop.is_on()
            && crate::token::validate::well_formed::dpop_bound(&claims))
        .then(crate::token::validate::well_formed::bound_as_bearer);
        let refused = claim_checks::check(&claims, settings)
            .err()
            .or(bound_as_bearer);
        if let Some(error) = refused {
            if let Some(report) = self
                .checks
                .iter_mut()
                .find(|r| Some(r.check) == error.check())
            {
                report.verdict = Verdict::Failed(error.clone());
            }
            self.first_failure = Some(error);
        }
        self
    }

    /// A token refused before any check that needs a key: `error` (check 1's, or the authority
    /// check's when no trusted authority issues as the token's `iss`); `header` and `claims` as
    /// far as they could be decoded. The checks after the failed one did not run.
    pub(crate) fn refused(
        error: JwtError,
        header: Option<Payload>,
        claims: Option<Payload>,
    ) -> Inspection {
        let failed = error.check().unwrap_or(Check::WellFormed);
        let checks = Check::ALL
            .into_iter()
            .map(|check| CheckReport {
                check,
                verdict: if check == failed {
                    Verdict::Failed(error.clone())
                } else if check == Check::WellFormed {
                    Verdict::Passed("decoded to choose the trusted authority".into())
                } else {
                    Verdict::Skipped("no trusted authority validates this token".into())
                },
            })
            .collect();
        Inspection {
            header,
            claims,
            checks,
            first_failure: Some(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::now;
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
            .map(|r| match r.verdict {
                Verdict::Passed(_) => "passed",
                Verdict::Failed(_) => "failed",
                Verdict::Skipped(_) => "skipped",
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
        let text = inspection.checks[2].verdict.to_string();
        assert!(
            text.contains("Signature has expired") && text.contains("expired 3600 s ago"),
            "{text}"
        );
        let text = inspection.checks[3].verdict.to_string();
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
