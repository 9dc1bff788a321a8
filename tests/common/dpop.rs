//! DPoP proofs (RFC 9449) made by hand for the tests, independently of the library: a client key
//! from `testdata/keys`, its public JWK and RFC 7638 thumbprint, and proofs signed with
//! jsonwebtoken's primitives over header and claims JSON the test controls (so that a test can
//! also make every malformed proof an attacker would send). The load benchmark's server
//! (`examples/bench_server.rs`) makes its proofs with it too.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A client's DPoP key.
pub struct ClientKey {
    pub algorithm: Algorithm,
    key: EncodingKey,
    /// The public JWK that proofs carry.
    pub jwk: Value,
    /// Its RFC 7638 SHA-256 thumbprint: what a bound token's `cnf.jkt` names.
    pub thumbprint: String,
}

/// A test key file's text.
fn key_file(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

impl ClientKey {
    /// The P-256 key of `testdata/keys/ec_private.pem`.
    pub fn es256() -> ClientKey {
        Self::from_pem(Algorithm::ES256, &key_file("ec_private.pem"))
    }

    /// The other P-256 key (`ec2_private.pem`).
    pub fn other_es256() -> ClientKey {
        Self::from_pem(Algorithm::ES256, &key_file("ec2_private.pem"))
    }

    /// The Ed25519 key of `ed_private.pem`.
    pub fn eddsa() -> ClientKey {
        Self::from_pem(Algorithm::EdDSA, &key_file("ed_private.pem"))
    }

    /// The RSA key of `rsa_private.pem`, for PS256.
    pub fn ps256() -> ClientKey {
        Self::from_pem(Algorithm::PS256, &key_file("rsa_private.pem"))
    }

    fn from_pem(algorithm: Algorithm, pem: &[u8]) -> ClientKey {
        let key = match algorithm {
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
            Algorithm::PS256 | Algorithm::RS256 => EncodingKey::from_rsa_pem(pem),
            _ => EncodingKey::from_ec_pem(pem),
        }
        .expect("a test key");
        let jwk = Jwk::from_encoding_key(&key, algorithm).expect("its public JWK");
        let mut jwk = serde_json::to_value(jwk).expect("JSON");
        // Only the key's own members, as clients send them.
        let object = jwk.as_object_mut().expect("an object");
        object.retain(|name, _| ["kty", "crv", "x", "y", "n", "e"].contains(&name.as_str()));
        let thumbprint = thumbprint(&jwk);
        ClientKey {
            algorithm,
            key,
            jwk,
            thumbprint,
        }
    }

    /// A proof for `method` `url`, sent with `token` (its `ath`), with a fresh `jti` and `iat`
    /// now.
    pub fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        self.proof_with(method, url, token, |_, _| {})
    }

    /// A proof whose header and claims `tweak` changes before signing.
    pub fn proof_with(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        tweak: impl FnOnce(&mut Value, &mut Value),
    ) -> String {
        let mut header = json!({
            "typ": "dpop+jwt",
            "alg": algorithm_name(self.algorithm),
            "jwk": self.jwk,
        });
        let mut claims = json!({
            "jti": fresh_jti(),
            "htm": method,
            "htu": url,
            "iat": now(),
        });
        if let Some(token) = token {
            claims["ath"] = json!(ath(token));
        }
        tweak(&mut header, &mut claims);
        self.sign(&header, &claims)
    }

    /// `header` and `claims` signed with this key, whatever they say.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).expect("JSON")),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("JSON"))
        );
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &self.key, self.algorithm)
            .expect("signed");
        format!("{message}.{signature}")
    }
}

/// The name a JWS header gives `algorithm`.
fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::PS256 => "PS256",
        Algorithm::RS256 => "RS256",
        other => panic!("no test key for {other:?}"),
    }
}

/// A `jti` no other proof of the run has.
pub fn fresh_jti() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        now(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Seconds since the epoch.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// RFC 9449's `ath`: the base64url SHA-256 of the token.
pub fn ath(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, computed here from its required members.
pub fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("RSA") => &["e", "kty", "n"],
        Some("OKP") => &["crv", "kty", "x"],
        other => panic!("no thumbprint for key type {other:?}"),
    };
    let canonical: serde_json::Map<String, Value> = members
        .iter()
        .map(|name| (name.to_string(), jwk[*name].clone()))
        .collect();
    // serde_json's map keeps names sorted, and writes no whitespace.
    let text = serde_json::to_string(&canonical).expect("JSON");
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}
