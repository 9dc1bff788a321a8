//! The test keys of `testdata/` (tokens signed with their private PEMs, their public halves as
//! JWKs) and the JWKS and OIDC discovery server on 127.0.0.1 (`jwks_server/server.rs`, shared with
//! the runtime's JWKS cache tests), for the root package's integration tests.

#[path = "jwks_server/server.rs"]
mod server;

use std::path::PathBuf;

use rocket_flask_jwt::{
    settings::KeyMaterial, validation::TokenCodec, Algorithm, Payload, Settings,
};
use serde_json::Value;

// Not every test binary that includes this file uses the server.
#[allow(unused_imports)]
pub use server::{JwksServer, Reply};

// ---------------------------------------------------------------------------------------------
// Test keys.

/// A file under the workspace's `testdata/` (found from any member of the workspace).
pub fn testdata(path: &str) -> PathBuf {
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .map(|dir| dir.join("testdata"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| panic!("no testdata/ above {}", manifest_dir.display()))
        .join(path)
}

fn read(path: &str) -> String {
    let path = testdata(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The key pairs of `testdata/keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    /// RSA 2048, `rsa_*.pem`; JWK kid `rsa-1`.
    Rsa,
    /// Another RSA 2048, `rsa2_*.pem`; JWK kid `rsa-2`.
    Rsa2,
    /// EC P-256, `ec_*.pem`; JWK kid `ec-1`.
    Ec,
    /// EC P-384, `ec384_*.pem`; JWK kid `ec384-1`.
    Ec384,
    /// Ed25519, `ed_*.pem`; JWK kid `ed-1`.
    Ed,
}

impl TestKey {
    fn stem(self) -> &'static str {
        match self {
            TestKey::Rsa => "rsa",
            TestKey::Rsa2 => "rsa2",
            TestKey::Ec => "ec",
            TestKey::Ec384 => "ec384",
            TestKey::Ed => "ed",
        }
    }

    /// The private key PEM.
    pub fn private_pem(self) -> String {
        read(&format!("keys/{}_private.pem", self.stem()))
    }

    /// The public key PEM.
    pub fn public_pem(self) -> String {
        read(&format!("keys/{}_public.pem", self.stem()))
    }

    /// The public key as a JWK, with `kid`, `use` and `alg` as its file has them.
    pub fn jwk(self) -> Value {
        let text = match self {
            TestKey::Rsa => read("keys/rsa_public.jwk.json"),
            other => read(&format!("jwks/{}_public.jwk.json", other.stem())),
        };
        serde_json::from_str(&text).expect("a JWK file is JSON")
    }

    /// The `kid` of [`jwk`](Self::jwk).
    pub fn kid(self) -> &'static str {
        match self {
            TestKey::Rsa => "rsa-1",
            TestKey::Rsa2 => "rsa-2",
            TestKey::Ec => "ec-1",
            TestKey::Ec384 => "ec384-1",
            TestKey::Ed => "ed-1",
        }
    }
}

/// `key`'s JWK with `members` set over it; a `null` member removes it (`{"alg": null}`).
pub fn jwk(key: TestKey, members: Value) -> Value {
    let mut jwk = key.jwk();
    let object = jwk.as_object_mut().expect("a JWK is an object");
    for (name, value) in members.as_object().expect("members are an object") {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    jwk
}

/// A token for `claims` signed by `key`'s private PEM with `algorithm` (through the runtime's
/// [`TokenCodec`]), with `kid` in its header when given.
pub fn sign(key: TestKey, algorithm: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let codec = TokenCodec::new(Settings {
        algorithm,
        private_key: Some(KeyMaterial::Pem(key.private_pem())),
        public_key: Some(KeyMaterial::Pem(key.public_pem())),
        ..Settings::default()
    })
    .unwrap_or_else(|e| panic!("{key:?} {algorithm:?}: {e}"));
    let mut header = Payload::new();
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    let claims = claims.as_object().expect("claims are an object");
    codec
        .encode(claims, &header)
        .unwrap_or_else(|e| panic!("signing with {key:?}: {e}"))
}
