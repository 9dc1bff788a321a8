//! The validation pipeline: the five checks of a token, in the order of Auth0's troubleshooting
//! guide, in one routine ([`run`]) that the request guard, [`TokenCodec`](crate::TokenCodec)'s
//! `decode`/`verify` and the inspector all call.
//!
//! 1. [`well_formed`] — three base64url segments, a JSON header with typed registered parameters,
//!    JSON object claims (read once the signature vouches for them);
//! 2. [`signature`] — an accepted `alg`, and the key bound to it verifies the signature;
//! 3. [`validity`] — `exp`, `nbf`, `iat` (and the maximum age) with the leeway;
//! 4. [`authority`] — the key is the authority's (configured, or in its JWKS by `kid`), and `iss`;
//! 5. [`audience`] — `aud`.
//!
//! How a run reports is the caller's choice, through a [`Recorder`]: [`Stop`] ends the run at the
//! first failure (the request path), the inspector's recorder notes every check and goes on where
//! it can. Both see the same checks in the same order, so they cannot disagree. The
//! verified-token cache sits around the pipeline (in [`TokenCodec`](crate::TokenCodec)), never
//! inside a step.

pub(crate) mod audience;
pub(crate) mod authority;
pub(crate) mod signature;
pub(crate) mod validity;
pub(crate) mod well_formed;

use std::sync::Arc;

use jsonwebtoken::Algorithm;

use crate::claims::Payload;
use crate::error::{Check, JwtError};
use crate::keys::KeySource;
use crate::settings::Settings;

/// What the five checks demand, resolved once from the settings.
#[derive(Debug)]
pub(crate) struct Rules {
    /// The algorithms a token may use; each has its own key.
    pub(crate) accepted: Vec<Algorithm>,
    /// `verify`: when false, only well-formedness is checked.
    pub(crate) verify: bool,
    /// Whether signatures are checked (`verify`, and `signature` in `verify_claims`).
    pub(crate) signature: bool,
    pub(crate) time: validity::TimeRules,
    /// The expected `iss` (`issuer`, or `authority`).
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Vec<String>,
    pub(crate) expected_typ: Option<String>,
    pub(crate) max_token_bytes: usize,
    /// The registered claims that must be strings when present (tokens from an issuer; check 1).
    pub(crate) string_claims: &'static [&'static str],
    /// The last header segment decoded (check 1).
    pub(crate) header_memo: well_formed::HeaderMemo,
}

impl Rules {
    pub(crate) fn new(settings: &Settings, accepted: Vec<Algorithm>) -> Self {
        Rules {
            accepted,
            verify: settings.verify,
            signature: settings.verify && settings.verify_claims.iter().any(|c| c == "signature"),
            time: validity::TimeRules::new(settings),
            issuer: settings
                .issuer
                .clone()
                .or_else(|| settings.authority.clone()),
            audience: settings.audience.clone(),
            expected_typ: crate::access_token::expected_typ(settings),
            max_token_bytes: settings.max_token_bytes,
            string_claims: well_formed::string_claims(settings),
            header_memo: well_formed::HeaderMemo::default(),
        }
    }
}

/// Receives each check's conclusion as the pipeline reaches it.
pub(crate) trait Recorder {
    /// `check` passed; `what` says what was verified (built only by recorders that keep it).
    fn pass(&mut self, check: Check, what: impl FnOnce() -> String);
    /// `check` failed. Returning the error ends the run with it; returning `Ok` goes on.
    fn fail(&mut self, check: Check, error: JwtError) -> Result<(), JwtError>;
    /// `check` did not run, for the reason given.
    fn skip(&mut self, check: Check, why: &'static str);
    /// The decoded header, once it is known to be a JSON object.
    fn header(&mut self, _header: &Payload) {}
    /// The decoded claims, once they are known to be a JSON object.
    fn claims(&mut self, _claims: &Payload) {}
}

/// The request path's recorder: the first failure ends the run.
pub(crate) struct Stop;

impl Recorder for Stop {
    #[inline]
    fn pass(&mut self, _check: Check, _what: impl FnOnce() -> String) {}

    #[inline]
    fn fail(&mut self, _check: Check, error: JwtError) -> Result<(), JwtError> {
        Err(error)
    }

    #[inline]
    fn skip(&mut self, _check: Check, _why: &'static str) {}
}

/// A token that went through the pipeline, and the key that verified it.
#[derive(Debug)]
pub(crate) struct Validated {
    /// The header, as check 1 read it.
    pub(crate) header: Arc<Payload>,
    pub(crate) claims: Payload,
    /// The `kid` and algorithm of the key, when a signature was verified.
    pub(crate) key: Option<(Option<String>, Algorithm)>,
    /// The time claims read by check 3 (none when `verify` is off).
    pub(crate) window: Option<validity::Window>,
}

/// Whether a key may be fetched from the authority during the run (the request path), or only
/// keys already held are used (`decode`, which does no I/O).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fetch {
    Allowed,
    CachedOnly,
}

/// Runs the five checks on `token` at time `now`, reporting each to `recorder`.
///
/// With [`Stop`] it returns the claims or the first failure. With a recorder that goes on, it
/// returns `Ok(None)` where the claims could not be had.
pub(crate) async fn run<R: Recorder>(
    rules: &Rules,
    keys: &KeySource,
    token: &str,
    fetch: Fetch,
    now: i64,
    recorder: &mut R,
) -> Result<Option<Validated>, JwtError> {
    const LATER: [Check; 4] = [
        Check::Signature,
        Check::ValidityPeriod,
        Check::Authority,
        Check::Audience,
    ];
    // 1. Well-formed: without a header nothing else can run; without claims, only the signature.
    let segments = match well_formed::segments(rules, token) {
        Ok(segments) => segments,
        Err(error) => {
            recorder.fail(Check::WellFormed, error)?;
            for check in LATER {
                recorder.skip(check, "the token is not well-formed");
            }
            return Ok(None);
        }
    };
    recorder.header(&segments.header.fields);
    let (claim_bytes, signature) = match well_formed::decode(&segments) {
        Ok(decoded) => decoded,
        Err(error) => {
            recorder.fail(Check::WellFormed, error)?;
            for check in LATER {
                recorder.skip(check, "the token is not well-formed");
            }
            return Ok(None);
        }
    };

    // 2. Signature, with the key of the authority (whose absence check 4 reports).
    let mut key_found = None;
    let mut verified = false;
    if !rules.signature {
        recorder.skip(Check::Signature, "signature checks are turned off");
    } else {
        match signature::algorithm(&rules.accepted, &segments.header) {
            Err(error) => recorder.fail(Check::Signature, error)?,
            Ok(algorithm) => match keys.resolve(segments.header.kid(), algorithm, fetch).await {
                Err(error) => {
                    let check = error.check().unwrap_or(Check::Authority);
                    recorder.fail(check, error)?;
                    if check != Check::Signature {
                        recorder.fail(
                            Check::Signature,
                            JwtError::invalid_token(
                                Check::Signature,
                                "no key to verify the signature with",
                            ),
                        )?;
                    }
                }
                Ok(key) => {
                    match signature::verify(&key, segments.message, &signature) {
                        Ok(()) => {
                            verified = true;
                            recorder.pass(Check::Signature, || {
                                format!(
                                    "{} signature verified",
                                    crate::keys::algorithm_name(algorithm)
                                )
                            });
                        }
                        Err(error) => recorder.fail(Check::Signature, error)?,
                    }
                    key_found = Some((key.kid().map(str::to_owned), algorithm));
                }
            },
        }
    }

    // 1, continued: the claims, read once the signature vouches for them.
    let claims = well_formed::claims(&claim_bytes).and_then(|claims| {
        well_formed::registered_claim_types(rules.string_claims, &claims)?;
        Ok(claims)
    });
    let claims = match claims {
        Ok(claims) => {
            recorder.pass(Check::WellFormed, || {
                "three base64url segments, JSON header and claims".into()
            });
            recorder.claims(&claims);
            Some(claims)
        }
        Err(error) => {
            recorder.fail(Check::WellFormed, error)?;
            None
        }
    };

    let Some(claims) = claims else {
        for check in &LATER[1..] {
            recorder.skip(*check, "the claims are not a JSON object");
        }
        return Ok(None);
    };
    if !rules.verify {
        for check in &LATER[1..] {
            recorder.skip(*check, "verification is turned off (verify = false)");
        }
        return Ok(Some(Validated {
            header: Arc::clone(&segments.header.fields),
            claims,
            key: None,
            window: None,
        }));
    }

    // 3. Validity period.
    let window = match validity::check(&rules.time, &claims, now) {
        Ok(window) => {
            recorder.pass(Check::ValidityPeriod, || {
                format!(
                    "exp, nbf and iat within the validity period (leeway {} s)",
                    rules.time.leeway()
                )
            });
            Some(window)
        }
        Err(error) => {
            recorder.fail(Check::ValidityPeriod, error)?;
            None
        }
    };

    // 4. Intended authority: the key (found above) and `iss`.
    if rules.signature && !verified {
        recorder.fail(
            Check::Authority,
            JwtError::invalid_token(
                Check::Authority,
                "The signature does not verify, so the token is not proven to come from the authority",
            ),
        )?;
    }
    match authority::issuer(rules.issuer.as_deref(), &claims) {
        Ok(()) => recorder.pass(Check::Authority, || {
            let key = match &key_found {
                Some((Some(kid), _)) => {
                    format!("signed with key {kid:?} of the configured authority")
                }
                Some((None, _)) => "signed with the configured key".to_string(),
                None => "no signature checked".to_string(),
            };
            match (&rules.issuer, claims.get("iss")) {
                (Some(_), Some(iss)) => format!("{key}; iss {iss} is the configured issuer"),
                _ => format!("{key}; no issuer configured"),
            }
        }),
        Err(error) => recorder.fail(Check::Authority, error)?,
    }

    // 5. Intended audience.
    match audience::check(&rules.audience, &claims) {
        Ok(()) => recorder.pass(Check::Audience, || match claims.get("aud") {
            Some(aud) => format!("aud {aud} includes a configured audience"),
            None => "no aud in the token and none configured".into(),
        }),
        Err(error) => recorder.fail(Check::Audience, error)?,
    }

    Ok(Some(Validated {
        header: segments.header.fields,
        claims,
        key: key_found,
        window,
    }))
}

/// PyJWT's `MissingRequiredClaimError`.
pub(crate) fn missing_claim(check: Check, claim: &str) -> JwtError {
    JwtError::invalid_token(check, format!("Token is missing the \"{claim}\" claim"))
}

/// At most 64 characters of an attacker-controlled string, for messages and logs.
pub(crate) fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
}
