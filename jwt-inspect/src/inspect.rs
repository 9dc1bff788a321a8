//! The inspection: the API's pipeline with the configured keys, or without a key (every check
//! that needs none), saying which option would let the signature be checked.

use std::sync::Arc;

use rocket_flask_jwt_runtime::validation::{algorithm_name, KeyRing};
use rocket_flask_jwt_runtime::{
    settings::Secret, validation::Inspection, validation::Verdict, Algorithm, Check, JwtError,
    Settings,
};

use crate::config::{accepted, has_key, key_hint, verifier};
use crate::Fatal;

/// What the inspection found: the five checks, and the key ring the token was checked against
/// when keys come from one (`signing_keys_dir`), for the line on the token's key.
pub(crate) struct Findings {
    pub(crate) inspection: Inspection,
    pub(crate) key_ring: Option<Arc<KeyRing>>,
}

/// Runs the five checks. When the token's algorithm has no key configured, the header and
/// claims are still decoded and every key-independent check still runs; the signature check is
/// skipped with a hint naming the option to pass.
pub(crate) async fn inspect(mut settings: Settings, token: &str) -> Result<Findings, Fatal> {
    let accepted = accepted(&settings);
    let (usable, missing): (Vec<Algorithm>, Vec<Algorithm>) = accepted
        .iter()
        .partition(|&&algorithm| has_key(&settings, algorithm));

    // A codec that needs no key: the same pipeline with signature checks turned off, which
    // decodes the header (for its `alg`) and runs every check that needs no key.
    let keyless = verifier(Settings {
        // 64 bytes: long enough for HS512, so no short-secret warning is logged for it.
        secret_key: Some(Secret::new(
            "jwt-inspect: no key is configured; this stand-in verifies nothing",
        )),
        private_key: None,
        public_key: None,
        algorithm: Algorithm::HS256,
        algorithms: vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
        verify_claims: settings
            .verify_claims
            .iter()
            .filter(|claim| *claim != "signature")
            .cloned()
            .collect(),
        issuer: settings
            .issuer
            .clone()
            .or_else(|| settings.authority.clone()),
        authority: None,
        jwks_url: None,
        oidc_discovery: false,
        signing_keys_dir: None,
        static_keys_until: None,
        ..settings.clone()
    })
    .await?;
    let mut inspection = keyless.inspect(token).await;
    let header_alg: Option<String> = inspection
        .header
        .as_ref()
        .and_then(|header| Some(header.get("alg")?.as_str()?.to_owned()));
    let token_alg: Option<Algorithm> = header_alg.as_deref().and_then(|alg| {
        accepted
            .iter()
            .copied()
            .find(|&algorithm| algorithm_name(algorithm) == alg)
    });

    let keyed = match token_alg {
        _ if missing.is_empty() => true,
        Some(alg) => !missing.contains(&alg),
        None => !usable.is_empty(),
    };
    if keyed {
        if !missing.is_empty() {
            let left_out: Vec<_> = missing.iter().map(|a| algorithm_name(*a)).collect();
            eprintln!(
                "jwt-inspect: note: no key for {}: left out of the accepted algorithms",
                left_out.join(", ")
            );
            settings.algorithms = usable;
        }
        let verifier = verifier(settings).await?;
        let inspection = verifier.inspect(token).await;
        return Ok(Findings {
            inspection,
            key_ring: verifier.codec().key_ring(),
        });
    }

    // The signature was not checked: say what to pass, or that the API refuses the `alg`
    // whatever the keys.
    let signature = match (&header_alg, token_alg) {
        (Some(alg), None) => {
            let names: Vec<_> = accepted.iter().map(|a| algorithm_name(*a)).collect();
            let error =
                JwtError::invalid_token(Check::Signature, "The specified alg value is not allowed")
                    .with_detail(format!(
                        "token alg {alg:?}, accepted {names:?}: pass --algorithm {alg} and its key"
                    ));
            inspection.first_failure.get_or_insert(error.clone());
            Verdict::Failed(error)
        }
        _ => Verdict::Skipped(key_hint(token_alg.unwrap_or(missing[0]))),
    };
    for report in &mut inspection.checks {
        if report.check == Check::Signature && matches!(report.verdict, Verdict::Skipped(_)) {
            report.verdict = signature.clone();
        }
    }
    Ok(Findings {
        inspection,
        key_ring: None,
    })
}
