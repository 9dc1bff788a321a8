//! One key file of a key directory: a PEM private key (PKCS#8, or PKCS#1 for RSA), preceded by
//! its times as `name: value` lines (RFC 7468 lets text precede the PEM):
//!
//! ```text
//! alg: ES256
//! published-at: 2026-12-06T00:00:00Z
//! signs-from: 2026-12-06T01:00:00Z
//! retires-at: 2027-01-06T00:00:00Z
//! -----BEGIN PRIVATE KEY-----
//! ...
//! -----END PRIVATE KEY-----
//! ```
//!
//! Times are RFC 3339 or seconds since the epoch. Every line is optional: `alg` defaults to the
//! key's kind (ES256 for P-256, ES384 for P-384, EdDSA for Ed25519, RS256 for RSA; PS256 must be
//! named), `published-at` to the start of time (published as soon as it is read), `signs-from`
//! to the start of time, `retires-at` to once every token it signed has expired. Lines starting
//! with `#` are comments.

use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, EncodingKey};
use rocket::time::format_description::well_known::Rfc3339;
use rocket::time::OffsetDateTime;

use super::{KeyTimes, RingKey};

/// A key file that cannot be used, naming its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key file {}: {reason}", path.display())]
pub struct KeyFileError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// Reads the key file at `path` (its contents `text`).
pub(crate) fn parse(path: &Path, text: &str) -> Result<RingKey, KeyFileError> {
    let error = |reason: String| KeyFileError {
        path: path.to_owned(),
        reason,
    };
    let pem_at = text
        .find("-----BEGIN ")
        .ok_or_else(|| error("no PEM private key in it".into()))?;
    let (preamble, pem) = text.split_at(pem_at);
    let mut algorithm = None;
    let mut times = KeyTimes {
        published_at: i64::MIN,
        signs_from: i64::MIN,
        retires_at: None,
    };
    for line in preamble.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| error(format!("{line:?} is not `name: value`")))?;
        let value = value.trim();
        match name.trim() {
            "alg" => algorithm = Some(algorithm_of(value).map_err(error)?),
            "published-at" => times.published_at = time(value).map_err(error)?,
            "signs-from" => times.signs_from = time(value).map_err(error)?,
            "retires-at" => times.retires_at = Some(time(value).map_err(error)?),
            other => {
                return Err(error(format!(
                    "unknown line {other:?} (alg, published-at, signs-from, retires-at)"
                )));
            }
        }
    }
    let pem = pem.as_bytes();
    let (algorithm, key) = match algorithm {
        Some(algorithm) => (algorithm, encoding_key(algorithm, pem)),
        None => guess(pem),
    };
    let key = key.map_err(|e| error(format!("not a private key for {algorithm:?}: {e}")))?;
    RingKey::new(algorithm, &key, times).map_err(|e| error(e.to_string()))
}

/// The algorithm a key file names.
fn algorithm_of(name: &str) -> Result<Algorithm, String> {
    match name {
        "ES256" => Ok(Algorithm::ES256),
        "ES384" => Ok(Algorithm::ES384),
        "EdDSA" => Ok(Algorithm::EdDSA),
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "PS256" => Ok(Algorithm::PS256),
        "PS384" => Ok(Algorithm::PS384),
        "PS512" => Ok(Algorithm::PS512),
        other => Err(format!(
            "alg {other:?} is not an asymmetric algorithm (ES256, ES384, EdDSA, RS256, PS256, ...)"
        )),
    }
}

/// `pem` loaded for `algorithm`.
fn encoding_key(algorithm: Algorithm, pem: &[u8]) -> jsonwebtoken::errors::Result<EncodingKey> {
    match algorithm {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => EncodingKey::from_rsa_pem(pem),
    }
}

/// The algorithm of a file that names none: the first kind of key that loads and signs.
fn guess(pem: &[u8]) -> (Algorithm, jsonwebtoken::errors::Result<EncodingKey>) {
    let candidates = [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::RS256,
    ];
    for algorithm in candidates {
        let loaded = encoding_key(algorithm, pem);
        if let Ok(key) = &loaded
            && super::SigningKey::new(algorithm, key).is_ok()
        {
            return (algorithm, loaded);
        }
    }
    // None signs: RSA's answer says why (the last kind tried).
    (Algorithm::RS256, encoding_key(Algorithm::RS256, pem))
}

/// A time: RFC 3339, or whole seconds since the epoch.
fn time(value: &str) -> Result<i64, String> {
    if let Ok(seconds) = value.parse::<i64>() {
        return Ok(seconds);
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|e| format!("{value:?} is neither RFC 3339 nor seconds since the epoch: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(name: &str) -> String {
        let path = format!(
            "{}/../testdata/keys/ring/{name}.pem",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path).expect("a test key")
    }

    #[test]
    fn times_and_algorithms_are_read_before_the_pem() {
        let text = format!(
            "# rotated by hand\nalg: ES256\npublished-at: 2026-12-06T00:00:00Z\nsigns-from: 1796601600\n{}",
            pem("ec_a")
        );
        let key = parse(Path::new("a.pem"), &text).expect("a key");
        assert_eq!(key.algorithm(), Algorithm::ES256);
        assert_eq!(
            key.times(),
            KeyTimes {
                published_at: 1_796_515_200,
                signs_from: 1_796_601_600,
                retires_at: None
            }
        );
        let bare = parse(Path::new("ed.pem"), &pem("ed_a")).expect("an Ed25519 key");
        assert_eq!(
            bare.algorithm(),
            Algorithm::EdDSA,
            "the kind of key decides"
        );
        assert_eq!(bare.times().signs_from, i64::MIN);
    }

    #[test]
    fn a_bad_file_is_refused_naming_its_path_and_why() {
        let refused = |text: &str| {
            parse(Path::new("keys/k.pem"), text)
                .unwrap_err()
                .to_string()
        };
        assert!(refused("signs-from: soon\n").contains("keys/k.pem"));
        assert!(refused("no pem here").contains("no PEM private key"));
        let ec = pem("ec_a");
        assert!(refused(&format!("signs-from: soon\n{ec}")).contains("neither RFC 3339"));
        assert!(refused(&format!("alg: HS256\n{ec}")).contains("not an asymmetric"));
        assert!(refused(&format!("colour: blue\n{ec}")).contains("unknown line"));
        assert!(refused(&format!("alg: EdDSA\n{ec}")).contains("keys/k.pem"));
    }
}
