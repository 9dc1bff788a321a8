//! RFC 7638 JWK thumbprints (what a DPoP-bound token's `cnf.jkt` names) and RFC 9449's `ath`,
//! the hash of the access token a proof is sent with.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::crypto;

/// The members of a public key's thumbprint input (RFC 7638 §3.2), in their sorted order, by
/// key type.
fn required_members(kty: &str) -> Option<&'static [&'static str]> {
    match kty {
        "EC" => Some(&["crv", "kty", "x", "y"]),
        "RSA" => Some(&["e", "kty", "n"]),
        "OKP" => Some(&["crv", "kty", "x"]),
        _ => None,
    }
}

/// The base64url SHA-256 thumbprint of the public key `jwk`; `None` when a member the
/// thumbprint needs is missing or not a string, or the key type is not EC, RSA or OKP.
pub(crate) fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members = required_members(jwk.get("kty")?.as_str()?)?;
    let mut input = String::with_capacity(600);
    input.push('{');
    for (index, name) in members.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        // Every member is a key type, a curve name or base64url: written as a JSON string
        // without escapes. Anything else has no thumbprint (and is no usable key).
        if !value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_".contains(&byte))
        {
            return None;
        }
        if index > 0 {
            input.push(',');
        }
        // Names and values as JSON strings, without whitespace (RFC 7638 §3.3).
        input.push('"');
        input.push_str(name);
        input.push_str("\":\"");
        input.push_str(value);
        input.push('"');
    }
    input.push('}');
    crypto::sha256(input.as_bytes()).map(|digest| URL_SAFE_NO_PAD.encode(digest))
}

/// The `ath` of `token`: its base64url SHA-256 (RFC 9449 §4.2).
pub(crate) fn token_hash(token: &str) -> Option<String> {
    crypto::sha256(token.as_bytes()).map(|digest| URL_SAFE_NO_PAD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        }
    }

    /// RFC 7638 §3.1's example RSA key and its thumbprint.
    #[test]
    fn the_rfc_7638_example_thumbprint() {
        let jwk = object(json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }));
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    /// RFC 9449 §4.2's proof key (ES256) and the `jkt` §6.1 binds a token to.
    #[test]
    fn the_rfc_9449_example_thumbprint() {
        let jwk = object(json!({
            "kty": "EC",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
            "crv": "P-256"
        }));
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        );
    }

    /// RFC 9449 §7.1's access token and its `ath`.
    #[test]
    fn the_rfc_9449_example_token_hash() {
        assert_eq!(
            token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU").as_deref(),
            Some("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")
        );
    }

    #[test]
    fn a_key_without_its_members_has_no_thumbprint() {
        assert_eq!(
            thumbprint(&object(json!({"kty": "EC", "crv": "P-256", "x": "a"}))),
            None
        );
        assert_eq!(thumbprint(&object(json!({"kty": "oct", "k": "a"}))), None);
        assert_eq!(
            thumbprint(&object(json!({"kty": "RSA", "n": 1, "e": "AQAB"}))),
            None
        );
    }
}
