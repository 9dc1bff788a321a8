//! The inspector's view of a DPoP proof: its header and claims, and the verdict of the same
//! checks a protected route runs (the replay check aside: the inspector keeps no store).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::claims::Payload;
use crate::dpop::proof::unverified_parts;
use crate::dpop::thumbprint::thumbprint;
use crate::dpop::{target, DpopVerifier, ProofRequest};
use crate::error::JwtError;
use crate::settings::Settings;

/// A DPoP proof as the inspector shows it.
#[derive(Debug)]
pub struct ProofInspection {
    /// The proof's header and claims, decoded without verification; `None` when it is not a
    /// JWS of two JSON objects.
    pub parts: Option<(Payload, Payload)>,
    /// The RFC 7638 thumbprint of the key in the proof's header (`jwk`), whatever the checks
    /// say; `None` when it has no usable key members.
    pub thumbprint: Option<String>,
    /// The key the token names (`cnf.jkt`), when a token was given and names one.
    pub bound_to: Option<String>,
    /// The checks' verdict, the replay check aside: the thumbprint of the proof's key, or the
    /// refusal, which names the check that failed ([`ErrorKind::InvalidProof`]).
    ///
    /// [`ErrorKind::InvalidProof`]: crate::ErrorKind::InvalidProof
    pub verdict: Result<String, JwtError>,
}

impl ProofInspection {
    /// Inspects `proof` sent with `token` (none at a login) in a `method` request to `url`, at
    /// `now`, under `settings`' DPoP settings (algorithms, `iat` window, nonces). Without a
    /// method or URL the proof's own `htm` or `htu` stands in: that check then says nothing.
    pub fn new(
        settings: &Settings,
        proof: &str,
        token: Option<&str>,
        method: Option<&str>,
        url: Option<&str>,
        now: i64,
    ) -> Result<ProofInspection, String> {
        let verifier = DpopVerifier::new(settings, None)?;
        let parts = unverified_parts(proof);
        let claimed = |name: &str| {
            parts
                .as_ref()
                .and_then(|(_, claims)| claims.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let method = method.map(str::to_owned).or_else(|| claimed("htm"));
        let url = url.map(str::to_owned).or_else(|| claimed("htu"));
        let url = url.as_deref().and_then(target::normalise);
        let bound_to = token.and_then(bound_key);
        let verdict = verifier
            .check(&ProofRequest {
                proofs: &[proof],
                method: method.as_deref().unwrap_or_default(),
                url: url.as_deref(),
                token,
                bound_to: bound_to.as_deref(),
                now,
            })
            .map(|accepted| accepted.proof.thumbprint);
        let thumbprint = parts
            .as_ref()
            .and_then(|(header, _)| header.get("jwk")?.as_object())
            .and_then(thumbprint);
        Ok(ProofInspection {
            parts,
            thumbprint,
            bound_to,
            verdict,
        })
    }
}

/// The `cnf.jkt` of `token`'s claims, read without verification.
fn bound_key(token: &str) -> Option<String> {
    let claims = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    let claims: Value = serde_json::from_slice(&claims).ok()?;
    Some(claims.get("cnf")?.get("jkt")?.as_str()?.to_owned())
}
