//! Check 2, **signature**: the header's `alg` must be one of the configured algorithms (the token
//! never chooses), and the key bound to that algorithm must verify the signature over
//! `header.claims`.

use jsonwebtoken::Algorithm;

use super::well_formed::Header;
use crate::error::{Check, JwtError};
use crate::keys::{algorithm_name, VerifyKey};

/// The header's `alg`, when it is one of `accepted`.
pub(crate) fn algorithm(accepted: &[Algorithm], header: &Header) -> Result<Algorithm, JwtError> {
    let alg = header.alg();
    match alg.and_then(|alg| accepted.iter().find(|a| algorithm_name(**a) == alg)) {
        Some(&algorithm) => Ok(algorithm),
        None => Err(not_allowed().with_detail(format!(
            "token alg {:?}, accepted {:?}",
            alg.unwrap_or("(none)"),
            accepted
                .iter()
                .map(|a| algorithm_name(*a))
                .collect::<Vec<_>>()
        ))),
    }
}

/// PyJWT's rejection of an algorithm the configuration does not accept.
pub(crate) fn not_allowed() -> JwtError {
    JwtError::invalid_token(Check::Signature, "The specified alg value is not allowed")
}

/// The signature, checked with `key`.
pub(crate) fn verify(key: &VerifyKey, message: &str, signature: &[u8]) -> Result<(), JwtError> {
    #[cfg(test)]
    VERIFICATIONS.with(|count| count.set(count.get() + 1));
    if key.verify(message.as_bytes(), signature) {
        Ok(())
    } else {
        Err(JwtError::invalid_token(
            Check::Signature,
            "Signature verification failed",
        ))
    }
}

#[cfg(test)]
thread_local! {
    /// Signatures checked on this thread: lets tests see what the verified-token cache saves.
    pub(crate) static VERIFICATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
