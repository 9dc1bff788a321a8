//! The DPoP proof (RFC 9449) given beside the token: the runtime's inspection of it (the checks
//! of a protected route, with the application's DPoP settings), turned into one verdict per
//! proof check in the order the API runs them.

use rocket_flask_jwt_runtime::validation::{algorithm_name, ProofInspection};
use rocket_flask_jwt_runtime::{ErrorKind, JwtError, Payload, ProofCheck, Settings};
use serde_json::Value;

use crate::report::human_duration;
use crate::Fatal;

/// The request the proof came with, as given on the command line.
pub(crate) struct ProofRequest<'a> {
    /// The proof's text.
    pub(crate) proof: &'a str,
    /// The token it was sent beside.
    pub(crate) token: &'a str,
    /// The scheme word the token's text named (`Bearer`, `DPoP`, ...), if any.
    pub(crate) scheme: Option<&'a str>,
    /// `--method`.
    pub(crate) method: Option<&'a str>,
    /// `--url`.
    pub(crate) url: Option<&'a str>,
}

/// What one proof check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Passed; the text says what was verified.
    Passed(String),
    /// Failed: the API's refusal.
    Failed(String),
    /// Not run or not compared; the text says why.
    Skipped(String),
}

/// What the inspector found about the proof.
pub(crate) struct ProofFindings {
    /// The proof's header and claims, decoded without verification.
    pub(crate) parts: Option<(Payload, Payload)>,
    /// The RFC 7638 thumbprint of the proof's key.
    pub(crate) thumbprint: Option<String>,
    /// The token's `cnf.jkt`.
    pub(crate) bound_to: Option<String>,
    /// One verdict per check of [`ProofCheck::ALL`], in that order.
    pub(crate) checks: Vec<(ProofCheck, Outcome)>,
}

impl ProofFindings {
    /// Whether no check failed (the checks not compared and the replay check aside).
    pub(crate) fn passed(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|(_, outcome)| matches!(outcome, Outcome::Failed(_)))
    }
}

/// Inspects the proof of `request` at `now` under `settings`' DPoP settings.
pub(crate) fn inspect_proof(
    settings: &Settings,
    request: &ProofRequest<'_>,
    now: i64,
) -> Result<ProofFindings, Fatal> {
    let inspection = ProofInspection::new(
        settings,
        request.proof,
        Some(request.token),
        request.method,
        request.url,
        now,
    )
    .map_err(|e| format!("DPoP settings: {e}"))?;
    let bound = inspection.bound_to.is_some();

    // The first check that refuses the request, as the API runs them: the scheme (which the
    // runtime's inspection cannot see), the proof's checks, and the binding of a token that
    // names no key, which the API refuses whatever the proof.
    let scheme_failure = request
        .scheme
        .filter(|scheme| !scheme.eq_ignore_ascii_case("DPoP"))
        .map(|scheme| {
            let why = if bound {
                "the token is DPoP-bound (cnf.jkt) and must be sent with the DPoP scheme and its \
                 proof"
            } else {
                "the API reads a proof only beside a token sent with the DPoP scheme"
            };
            format!("DPoP proof: {why} (the token was given with the {scheme} scheme)")
        });
    let failure: Option<(ProofCheck, String)> = match (scheme_failure, &inspection.verdict) {
        (Some(why), _) => Some((ProofCheck::Scheme, why)),
        (None, Err(error)) => match error.kind {
            ErrorKind::InvalidProof(check) => Some((check, describe(error))),
            _ => return Err(Fatal(format!("DPoP proof: {}", describe(error)))),
        },
        (None, Ok(_)) if !bound => Some((
            ProofCheck::Binding,
            "DPoP proof: the token sent with the DPoP scheme is not bound to a key (no cnf.jkt)"
                .into(),
        )),
        (None, Ok(_)) => None,
    };

    let thumbprint = inspection.thumbprint.clone();
    let texts = PassTexts {
        settings,
        request,
        parts: inspection.parts.as_ref(),
        now,
    };
    let position = |check: ProofCheck| ProofCheck::ALL.iter().position(|c| *c == check);
    let failed_at = failure.as_ref().and_then(|(check, _)| position(*check));
    let checks = ProofCheck::ALL
        .iter()
        .enumerate()
        .map(|(index, &check)| {
            let outcome = match &failure {
                _ if check == ProofCheck::Replay => {
                    Outcome::Skipped("not checked (needs the application's replay store)".into())
                }
                Some((failed, why)) if *failed == check => Outcome::Failed(why.clone()),
                _ if check == ProofCheck::Method && request.method.is_none() => {
                    Outcome::Skipped(texts.not_compared("htm", "--method"))
                }
                _ if check == ProofCheck::Url && request.url.is_none() => {
                    Outcome::Skipped(texts.not_compared("htu", "--url"))
                }
                Some((failed, _)) if failed_at.is_some_and(|at| index > at) => {
                    Outcome::Skipped(format!("not run (the {failed} check failed)"))
                }
                _ => Outcome::Passed(texts.passed(check)),
            };
            (check, outcome)
        })
        .collect();
    Ok(ProofFindings {
        parts: inspection.parts,
        thumbprint,
        bound_to: inspection.bound_to,
        checks,
    })
}

/// The refusal's description, and its detail when it has one.
fn describe(error: &JwtError) -> String {
    match &error.detail {
        Some(detail) => format!("{} ({detail})", error.description),
        None => error.description.to_string(),
    }
}

/// What a passed check verified, in words.
struct PassTexts<'a> {
    settings: &'a Settings,
    request: &'a ProofRequest<'a>,
    parts: Option<&'a (Payload, Payload)>,
    now: i64,
}

impl PassTexts<'_> {
    /// The string `name` of the header (`claims == false`) or the claims, for display.
    fn field(&self, claims: bool, name: &str) -> String {
        let value = self.parts.and_then(|(header, body)| {
            match claims {
                true => body,
                false => header,
            }
            .get(name)
        });
        match value {
            Some(Value::String(text)) => format!("{text:?}"),
            Some(other) => other.to_string(),
            None => "(none)".into(),
        }
    }

    fn not_compared(&self, claim: &str, option: &str) -> String {
        match self.parts.and_then(|(_, claims)| claims.get(claim)) {
            Some(_) => format!(
                "not compared: no {option} given, the proof's own {claim} {} stood in",
                self.field(true, claim)
            ),
            None => format!("not compared: no {option} given"),
        }
    }

    fn passed(&self, check: ProofCheck) -> String {
        match check {
            ProofCheck::Scheme => match self.request.scheme {
                Some(_) => "the token was given with the DPoP scheme".into(),
                None => "the token is taken as sent with the DPoP scheme".into(),
            },
            ProofCheck::OneProof => format!("one proof of {} bytes", self.request.proof.len()),
            ProofCheck::WellFormed => {
                "a compact JWS with a JSON header and claims, and jti, htm, htu and iat".into()
            }
            ProofCheck::Type => "typ is \"dpop+jwt\"".into(),
            ProofCheck::Algorithm => {
                let names: Vec<_> = self
                    .settings
                    .dpop_algorithms
                    .iter()
                    .map(|a| algorithm_name(*a))
                    .collect();
                format!(
                    "alg {} is one of dpop_algorithms ({})",
                    self.field(false, "alg"),
                    names.join(", ")
                )
            }
            ProofCheck::Key => {
                let kty = self
                    .parts
                    .and_then(|(header, _)| header.get("jwk")?.get("kty")?.as_str())
                    .unwrap_or("?");
                format!("jwk is a public {kty} key fit for the alg")
            }
            ProofCheck::Signature => "the signature verifies under jwk".into(),
            ProofCheck::Method => {
                format!("htm {} is the request's method", self.field(true, "htm"))
            }
            ProofCheck::Url => format!("htu {} is the request's URL", self.field(true, "htu")),
            ProofCheck::IssuedAt => {
                let iat = self
                    .parts
                    .and_then(|(_, claims)| claims.get("iat")?.as_f64())
                    .map_or(self.now, |iat| iat.floor() as i64);
                let delta = self.now.saturating_sub(iat);
                let age = human_duration(delta.unsigned_abs());
                match delta < 0 {
                    true => format!("issued {age} ahead of this clock, within the skew allowed"),
                    false => format!(
                        "issued {age} ago, within dpop_iat_window ({} s)",
                        self.settings.dpop_iat_window.as_secs()
                    ),
                }
            }
            ProofCheck::TokenHash => "ath is the SHA-256 hash of the token".into(),
            ProofCheck::Binding => {
                "the token's cnf.jkt is the thumbprint of the proof's key".into()
            }
            ProofCheck::Nonce => match self.settings.dpop_nonce {
                true => "nonce is a current server nonce".into(),
                false => "no server nonce required (dpop_nonce is off)".into(),
            },
            _ => "passed".into(),
        }
    }
}
