//! One DPoP proof (RFC 9449 §4.2): a JWS the client signs with its own key for each request,
//! read and verified on its own (the checks that need the request and the token are the
//! verifier's).

use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::dpop::thumbprint::thumbprint;
use crate::error::{JwtError, ProofCheck};
use crate::jwks::usable_entry;

/// The largest proof read, in bytes: an RSA-4096 key and its signature take under 2 KiB.
pub(crate) const MAX_PROOF_BYTES: usize = 4096;
/// The longest `jti` accepted (RFC 9449 asks for 96 bits of randomness; UUIDs take 36 bytes).
const MAX_JTI_BYTES: usize = 256;

/// The `typ` of a DPoP proof.
pub(crate) const PROOF_TYP: &str = "dpop+jwt";

/// A proof whose signature verified under the key it carries.
#[derive(Debug, Clone)]
pub(crate) struct Proof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key.
    pub(crate) thumbprint: String,
    pub(crate) jti: String,
    pub(crate) htm: String,
    pub(crate) htu: String,
    /// `iat`, whole seconds.
    pub(crate) iat: i64,
    pub(crate) ath: Option<String>,
    pub(crate) nonce: Option<String>,
}

/// A DPoP refusal by `check`, its description prefixed as every proof refusal's.
pub(crate) fn refused(check: ProofCheck, description: impl Into<String>) -> JwtError {
    JwtError::invalid_proof(check, format!("DPoP proof: {}", description.into()))
}

/// `text` read as a proof and its signature verified under its own key, which must be a public
/// key for one of `algorithms`: the checks from "one proof" to "proof signature".
pub(crate) fn verify(text: &str, algorithms: &[Algorithm]) -> Result<Proof, JwtError> {
    if text.len() > MAX_PROOF_BYTES {
        return Err(refused(
            ProofCheck::OneProof,
            format!("larger than {MAX_PROOF_BYTES} bytes"),
        ));
    }
    let mut parts = text.split('.');
    let (Some(header_part), Some(claims_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused(
            ProofCheck::WellFormed,
            "not a compact JWS (three segments)",
        ));
    };
    let header = json_object(header_part, "header")?;
    if header.get("typ").and_then(Value::as_str) != Some(PROOF_TYP) {
        return Err(refused(
            ProofCheck::Type,
            format!("`typ` is not \"{PROOF_TYP}\""),
        ));
    }
    let algorithm = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|name| match name {
            // RFC 9864's fully specified name, which panva's clients write.
            "Ed25519" => Some(Algorithm::EdDSA),
            name => Algorithm::from_str(name).ok(),
        })
        .filter(|algorithm| algorithms.contains(algorithm))
        .ok_or_else(|| refused(ProofCheck::Algorithm, "`alg` is not an accepted algorithm"))?;
    let jwk = header
        .get("jwk")
        .ok_or_else(|| refused(ProofCheck::Key, "no `jwk` in the header"))?;
    let (_, keys) = usable_entry(jwk, &[algorithm])
        .map_err(|reason| refused(ProofCheck::Key, format!("`jwk` is not usable: {reason}")))?;
    let key = keys
        .first()
        .ok_or_else(|| refused(ProofCheck::Key, "`jwk` does not fit `alg`"))?;
    let thumbprint = jwk
        .as_object()
        .and_then(thumbprint)
        .ok_or_else(|| refused(ProofCheck::Key, "`jwk` has no thumbprint"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| refused(ProofCheck::WellFormed, "the signature is not base64url"))?;
    let signed = &text[..header_part.len() + 1 + claims_part.len()];
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(refused(
            ProofCheck::Signature,
            "the signature does not verify under `jwk`",
        ));
    }
    let claims = json_object(claims_part, "claims")?;
    let text_claim = |name: &str| match claims.get(name) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        _ => Err(refused(
            ProofCheck::WellFormed,
            format!("`{name}` is missing or not a non-empty string"),
        )),
    };
    let optional_text = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(refused(
            ProofCheck::WellFormed,
            format!("`{name}` is not a string"),
        )),
    };
    let jti = text_claim("jti")?;
    if jti.len() > MAX_JTI_BYTES {
        return Err(refused(
            ProofCheck::WellFormed,
            format!("`jti` is longer than {MAX_JTI_BYTES} bytes"),
        ));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .filter(|iat| iat.is_finite() && iat.abs() < 1e15)
        .map(|iat| iat.floor() as i64)
        .ok_or_else(|| refused(ProofCheck::WellFormed, "`iat` is missing or not a number"))?;
    Ok(Proof {
        thumbprint,
        jti,
        htm: text_claim("htm")?,
        htu: text_claim("htu")?,
        iat,
        ath: optional_text("ath")?,
        nonce: optional_text("nonce")?,
    })
}

/// A base64url segment holding a JSON object.
fn json_object(segment: &str, what: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| {
        refused(
            ProofCheck::WellFormed,
            format!("the {what} is not base64url"),
        )
    })?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(refused(
            ProofCheck::WellFormed,
            format!("the {what} is not a JSON object"),
        )),
    }
}

/// The header and claims of `text` without verifying anything (the inspector's view of a
/// proof); `None` when it is not a JWS of two JSON objects.
pub(crate) fn unverified_parts(text: &str) -> Option<(Map<String, Value>, Map<String, Value>)> {
    let mut parts = text.split('.');
    let header = json_object(parts.next()?, "header").ok()?;
    let claims = json_object(parts.next()?, "claims").ok()?;
    Some((header, claims))
}
