//! What the peers' servers share (`scripts/bench-peers.sh`): the algorithm, the test keys, the
//! subject of the minted token and the one handler body, so that every contender answers
//! `/protected` and `/unprotected` alike.
//!
//! The keys are the repository's test keys (`testdata/keys`) and the secret a benchmark value:
//! never use either anywhere else.

#[macro_use]
extern crate rocket;

/// The HS256 secret every contender verifies with (a benchmark value, never a real one).
pub const SECRET: &str = "bench-secret-bench-secret-bench-secret";
/// The `sub` (and `identity`) claim of `mint`'s token, and the subject `/unprotected` answers.
pub const SUBJECT: &str = "bench-user";
/// The algorithm of a run, from `BENCH_ALG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    HS256,
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    /// The key pair (PKCS#8 and SPKI PEM) of the repository's test suites for an asymmetric
    /// algorithm: RSA 2048, EC P-256, Ed25519. `None` for HS256, which uses [`SECRET`].
    pub fn key_pair(self) -> Option<(&'static str, &'static str)> {
        match self {
            Alg::HS256 => None,
            Alg::RS256 => Some((
                include_str!("../../../testdata/keys/rsa_private.pem"),
                include_str!("../../../testdata/keys/rsa_public.pem"),
            )),
            Alg::ES256 => Some((
                include_str!("../../../testdata/keys/ec_private.pem"),
                include_str!("../../../testdata/keys/ec_public.pem"),
            )),
            Alg::EdDSA => Some((
                include_str!("../../../testdata/keys/ed_private.pem"),
                include_str!("../../../testdata/keys/ed_public.pem"),
            )),
        }
    }
}

/// `BENCH_ALG`: `HS256` (the default), `RS256`, `ES256` or `EdDSA`.
pub fn alg() -> Alg {
    match std::env::var("BENCH_ALG").as_deref() {
        Err(_) | Ok("HS256") => Alg::HS256,
        Ok("RS256") => Alg::RS256,
        Ok("ES256") => Alg::ES256,
        Ok("EdDSA") => Alg::EdDSA,
        Ok(other) => panic!("BENCH_ALG={other:?}: expected HS256, RS256, ES256 or EdDSA"),
    }
}

/// Every contender's handler body for a caller.
pub fn body(subject: &str) -> String {
    format!("Caller(sub='{subject}')")
}

/// The unguarded twin of `/protected`: the same body for `mint`'s token.
#[get("/unprotected")]
pub fn unprotected() -> String {
    body(SUBJECT)
}
