//! DPoP (RFC 9449): tokens bound to a key only the client holds, and the proof of possession a
//! client signs for each request. A layer of its own between revocation (whose store remembers
//! proofs for a fleet) and the request flow (which finds the proof, the token and the URL).
//!
//! - [`proof`]: one proof read and its signature verified under the key it carries;
//! - [`thumbprint`]: RFC 7638 thumbprints (`cnf.jkt`) and the token hash (`ath`);
//! - [`target`]: `htu` and the request's URL, normalised as RFC 3986 says;
//! - [`nonce`]: server nonces that need no storage;
//! - [`verifier`]: the checks of a request, in order, the replay check last;
//! - [`inspect`]: the inspector's view of a proof.

pub(crate) mod inspect;
pub(crate) mod nonce;
pub(crate) mod proof;
pub(crate) mod target;
pub(crate) mod thumbprint;
pub(crate) mod verifier;

pub(crate) use verifier::{Accepted, DpopVerifier, ProofRequest};
