//! Reading a JWK set: which entries are usable signature keys, and the algorithms each is bound
//! to (see the selection rules in the [module documentation](super)).

#[cfg(feature = "remote-keys")]
use std::collections::HashSet;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

#[cfg(feature = "remote-keys")]
use super::{JwksError, ShownKid};
use crate::keys::{VerifyKey, MIN_RSA_BITS};

/// The RSA signature algorithms, in the order keys without `alg` are bound to them.
const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// JWK members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The usable keys of one key set.
#[cfg(feature = "remote-keys")]
#[derive(Debug)]
pub(super) struct LoadedKeys {
    pub(super) keys: Vec<VerifyKey>,
    pub(super) fingerprint: Vec<(Algorithm, Jwk)>,
    /// Warnings about the set: skipped entries, repeated `kid`s. Logged when the set changes.
    pub(super) notes: Vec<String>,
}

#[cfg(feature = "remote-keys")]
/// Parses a JWK set document into the keys fit for checking signatures with `algorithms`.
/// Entries that are not fit are skipped, with a note saying why; a set left with no key is an
/// error (its notes are logged then).
pub(super) fn parse_key_set(
    body: &[u8],
    algorithms: &[Algorithm],
) -> Result<LoadedKeys, JwksError> {
    let document: Value = serde_json::from_slice(body)
        .map_err(|e| JwksError::Fetch(format!("the response is not JSON ({e})")))?;
    let entries = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| JwksError::Fetch("the response is not a JWK set: no `keys` array".into()))?;
    let mut loaded = LoadedKeys {
        keys: Vec::new(),
        fingerprint: Vec::new(),
        notes: Vec::new(),
    };
    for (index, entry) in entries.iter().enumerate() {
        match usable_entry(entry, algorithms) {
            Ok((jwk, keys)) => {
                for key in keys {
                    loaded.fingerprint.push((key.algorithm(), jwk.clone()));
                    loaded.keys.push(key);
                }
            }
            Err(reason) => {
                let kid = match entry.get("kid").and_then(Value::as_str) {
                    Some(kid) => ShownKid(Some(kid)).to_string(),
                    None => "no kid".into(),
                };
                loaded
                    .notes
                    .push(format!("skipping key #{index} ({kid}): {reason}"));
            }
        }
    }
    if loaded.keys.is_empty() {
        for note in &loaded.notes {
            log::warn!("jwks: {note}");
        }
        return Err(JwksError::NoUsableKeys);
    }
    let mut seen = HashSet::new();
    for key in &loaded.keys {
        if let Some(kid) = key.kid()
            && !seen.insert((kid, key.algorithm()))
        {
            loaded.notes.push(format!(
                "{} appears more than once for {:?}: tokens naming it are refused",
                ShownKid(Some(kid)),
                key.algorithm()
            ));
        }
    }
    Ok(loaded)
}

/// The keys one JWK yields (one per algorithm it is bound to), or why it is skipped.
pub(crate) fn usable_entry(
    entry: &Value,
    allowed: &[Algorithm],
) -> Result<(Jwk, Vec<VerifyKey>), String> {
    let object = entry.as_object().ok_or("it is not a JSON object")?;
    let kid = match object.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err("its `kid` is not a string".into()),
    };
    if let Some(usage) = object.get("use")
        && usage.as_str() != Some("sig")
    {
        return Err(format!("its `use` is {usage}, not \"sig\""));
    }
    if let Some(operations) = object.get("key_ops") {
        let verifies = operations
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err("its `key_ops` do not include \"verify\"".into());
        }
    }
    let kty = object
        .get("kty")
        .and_then(Value::as_str)
        .ok_or("it has no `kty`")?;
    if kty == "oct" {
        return Err("it is a symmetric (`oct`) key, never accepted from a key set".into());
    }
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| object.contains_key(**m)) {
        return Err(format!("it holds private key material (`{member}`)"));
    }
    // Read in place (a `&Value` is a deserializer): no copy of the entry.
    let jwk = <Jwk as serde::Deserialize>::deserialize(entry)
        .map_err(|e| format!("it is not a valid JWK: {e}"))?;
    let fitting = fitting_algorithms(kty, object, &jwk)?;
    let algorithms = bound_algorithms(kty, object, &fitting, allowed)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("its key is invalid: {e}"))?;
    let keys = algorithms
        .into_iter()
        .map(|algorithm| VerifyKey::new(kid.clone(), algorithm, &key))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("its key is invalid: {e}"))?;
    Ok((jwk, keys))
}

/// The algorithms a key of this type and curve can verify, after checking its size.
fn fitting_algorithms(
    kty: &str,
    object: &Map<String, Value>,
    jwk: &Jwk,
) -> Result<Vec<Algorithm>, String> {
    let unsupported_curve = || {
        let crv = object
            .get("crv")
            .map_or_else(|| "none".into(), Value::to_string);
        format!("its curve {crv} is not supported for `{kty}` keys, or its members are malformed")
    };
    match (kty, &jwk.algorithm) {
        ("RSA", AlgorithmParameters::RSA(rsa)) => {
            let modulus = decode_member(&rsa.n).ok_or("its modulus `n` is not base64url")?;
            let bits = bit_length(&modulus);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "its RSA modulus has {bits} bits, under the {MIN_RSA_BITS}-bit minimum"
                ));
            }
            Ok(RSA_ALGORITHMS.to_vec())
        }
        ("EC", AlgorithmParameters::EllipticCurve(ec)) => {
            let (algorithm, size) = match ec.curve {
                EllipticCurve::P256 => (Algorithm::ES256, 32),
                EllipticCurve::P384 => (Algorithm::ES384, 48),
                _ => return Err(unsupported_curve()),
            };
            check_length("x", &ec.x, size)?;
            check_length("y", &ec.y, size)?;
            Ok(vec![algorithm])
        }
        ("OKP", AlgorithmParameters::OctetKeyPair(okp)) => match okp.curve {
            EllipticCurve::Ed25519 => {
                check_length("x", &okp.x, 32)?;
                Ok(vec![Algorithm::EdDSA])
            }
            _ => Err(unsupported_curve()),
        },
        ("RSA", _) => Err("its RSA members `n` and `e` are missing or malformed".into()),
        ("EC" | "OKP", _) => Err(unsupported_curve()),
        (other, _) => Err(format!("key type {} is not supported", Value::from(other))),
    }
}

/// The algorithms the key is bound to: its own `alg` (which must fit and be allowed), or else every
/// allowed algorithm that fits.
fn bound_algorithms(
    kty: &str,
    object: &Map<String, Value>,
    fitting: &[Algorithm],
    allowed: &[Algorithm],
) -> Result<Vec<Algorithm>, String> {
    match object.get("alg") {
        None => {
            let bound: Vec<Algorithm> = fitting
                .iter()
                .copied()
                .filter(|alg| allowed.contains(alg))
                .collect();
            if bound.is_empty() {
                Err(format!(
                    "it has no `alg`, and no allowed algorithm fits a `{kty}` key"
                ))
            } else {
                Ok(bound)
            }
        }
        Some(Value::String(name)) => {
            let algorithm = Algorithm::from_str(name).map_err(|_| {
                format!("its `alg` {name:?} is not a supported signature algorithm")
            })?;
            if !fitting.contains(&algorithm) {
                Err(format!("its `alg` {name:?} does not fit a `{kty}` key"))
            } else if !allowed.contains(&algorithm) {
                Err(format!("its `alg` {name:?} is not an allowed algorithm"))
            } else {
                Ok(vec![algorithm])
            }
        }
        Some(_) => Err("its `alg` is not a string".into()),
    }
}

/// A base64url member's bytes (padding tolerated).
fn decode_member(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok()
}

fn check_length(name: &str, value: &str, size: usize) -> Result<(), String> {
    match decode_member(value) {
        Some(bytes) if bytes.len() == size => Ok(()),
        Some(bytes) => Err(format!(
            "its `{name}` has {} bytes, not {size}",
            bytes.len()
        )),
        None => Err(format!("its `{name}` is not base64url")),
    }
}

/// The number of significant bits of a big-endian unsigned integer.
pub(super) fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&byte| byte != 0) {
        None => 0,
        Some(first) => (bytes.len() - first - 1) * 8 + (8 - bytes[first].leading_zeros() as usize),
    }
}
