//! Issuing tokens the way Flask-JWT 0.3.2 (on PyJWT) does: its default payload, its header
//! (`typ` then `alg`, then any extra fields), compact serialization, the configured signing key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use crate::claims::{now, Payload};
use crate::error::JwtError;
use crate::keys::{algorithm_name, SigningKey};
use crate::settings::Settings;

/// The header of issued tokens: `typ` then `alg`, as PyJWT writes it, then any extra fields.
#[derive(Serialize)]
struct IssuedHeader<'a> {
    typ: &'static str,
    alg: &'static str,
    #[serde(flatten)]
    extra: &'a Payload,
}

/// Signs `claims` with `key` (under its algorithm). `extra_headers` are added to the header after
/// `typ` and `alg` (which they cannot replace).
pub(crate) fn sign(
    key: &SigningKey,
    claims: &Payload,
    extra_headers: &Payload,
) -> Result<String, JwtError> {
    let mut extra = extra_headers.clone();
    extra.remove("typ");
    extra.remove("alg");
    let header = IssuedHeader {
        typ: "JWT",
        alg: algorithm_name(key.algorithm()),
        extra: &extra,
    };
    let header = serde_json::to_vec(&header)
        .map_err(|e| JwtError::internal(format!("token header: {e}")))?;
    let claims =
        serde_json::to_vec(claims).map_err(|e| JwtError::internal(format!("token claims: {e}")))?;
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims, &mut token);
    key.sign_into(&mut token)?;
    Ok(token)
}

/// Flask-JWT's default payload for an identity value: the identity claim (`identity` unless
/// configured otherwise), `iat`, `nbf`, `exp`.
pub(crate) fn default_payload(settings: &Settings, identity: Value) -> Payload {
    let iat = now();
    let delta = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let mut payload = Payload::new();
    payload.insert(
        "exp".into(),
        iat.saturating_add(delta(settings.expiration_delta)).into(),
    );
    payload.insert("iat".into(), iat.into());
    payload.insert(
        "nbf".into(),
        iat.saturating_add(delta(settings.not_before_delta)).into(),
    );
    payload.insert(settings.identity_claim.clone(), identity);
    payload
}

/// The claims `required_claims` names that `payload` lacks (Flask-JWT refuses to sign those).
pub(crate) fn missing_required_claims<'s>(
    settings: &'s Settings,
    payload: &Payload,
) -> Vec<&'s str> {
    settings
        .effective_required_claims()
        .into_iter()
        .filter(|claim| !payload.contains_key(*claim))
        .collect()
}
