//! Server nonces (RFC 9449 §9) that need no storage: a nonce is a time step and a MAC over it,
//! under a key every instance of a fleet shares, so each instance accepts every other's. A
//! nonce is issued for one step and accepted during that step and the next.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};

use crate::crypto::{self, Signer};

/// The bytes of a nonce's MAC that are kept (128 bits).
const MAC_BYTES: usize = 16;
/// What the MAC covers beside the step, so the key's MACs mean nothing elsewhere.
const LABEL: &[u8] = b"rocket-flask-jwt dpop-nonce ";

/// What a proof's nonce is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceVerdict {
    /// Issued for this step.
    Current,
    /// Issued for the previous step: accepted, and the response carries the current one.
    Previous,
    /// Older: the client must take a new one.
    Stale,
    /// From a step still to come (never issued: its MAC was taken from another clock or key).
    Future,
    /// Not a nonce this key made.
    Forged,
}

/// The nonces of one key and step length.
pub(crate) struct Nonces {
    mac: Signer,
    step: i64,
}

impl Nonces {
    /// Nonces under `key`, each issued for `lifetime`.
    pub(crate) fn new(key: &[u8], lifetime: Duration) -> Result<Nonces, String> {
        let mac = Signer::new(Algorithm::HS256, &EncodingKey::from_secret(key))
            .map_err(|problem| format!("the DPoP nonce key cannot be used: {problem:?}"))?;
        let step = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX).max(1);
        Ok(Nonces { mac, step })
    }

    /// The nonce issued at `now` (seconds since the epoch).
    pub(crate) fn issue(&self, now: i64) -> Option<String> {
        self.for_step(now.div_euclid(self.step))
    }

    fn for_step(&self, step: i64) -> Option<String> {
        let mut nonce = step.to_be_bytes().to_vec();
        nonce.extend_from_slice(self.mac_of(step)?.get(..MAC_BYTES)?);
        Some(URL_SAFE_NO_PAD.encode(nonce))
    }

    fn mac_of(&self, step: i64) -> Option<crypto::Signature> {
        let mut message = LABEL.to_vec();
        message.extend_from_slice(&step.to_be_bytes());
        self.mac.sign(&message).ok()
    }

    /// What `nonce` is worth at `now`.
    pub(crate) fn check(&self, nonce: &str, now: i64) -> NonceVerdict {
        let Some(bytes) = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .filter(|bytes| bytes.len() == 8 + MAC_BYTES)
        else {
            return NonceVerdict::Forged;
        };
        let (step, mac) = bytes.split_at(8);
        let step = i64::from_be_bytes(step.try_into().unwrap_or_default());
        let genuine = self
            .mac_of(step)
            .and_then(|expected| {
                expected
                    .get(..MAC_BYTES)
                    .map(|e| crypto::constant_time_eq(e, mac))
            })
            .unwrap_or(false);
        if !genuine {
            return NonceVerdict::Forged;
        }
        let current = now.div_euclid(self.step);
        match step {
            step if step == current => NonceVerdict::Current,
            step if step == current - 1 => NonceVerdict::Previous,
            step if step > current => NonceVerdict::Future,
            _ => NonceVerdict::Stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a nonce key of at least thirty-two bytes";

    #[test]
    fn a_nonce_holds_for_its_step_and_the_next() {
        let nonces = Nonces::new(KEY, Duration::from_secs(60)).unwrap();
        let nonce = nonces.issue(6_000).unwrap();
        assert_eq!(nonce.len(), 32);
        assert_eq!(nonces.check(&nonce, 6_000), NonceVerdict::Current);
        assert_eq!(nonces.check(&nonce, 6_059), NonceVerdict::Current);
        assert_eq!(nonces.check(&nonce, 6_060), NonceVerdict::Previous);
        assert_eq!(nonces.check(&nonce, 6_120), NonceVerdict::Stale);
        assert_eq!(nonces.check(&nonce, 5_999), NonceVerdict::Future);
        assert_ne!(nonces.issue(6_060).unwrap(), nonce, "renewed each step");
    }

    #[test]
    fn every_instance_with_the_key_accepts_the_others_nonces() {
        let a = Nonces::new(KEY, Duration::from_secs(60)).unwrap();
        let b = Nonces::new(KEY, Duration::from_secs(60)).unwrap();
        assert_eq!(
            b.check(&a.issue(6_000).unwrap(), 6_000),
            NonceVerdict::Current
        );
        let other = Nonces::new(
            b"another key of at least thirty-two bytes",
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(
            other.check(&a.issue(6_000).unwrap(), 6_000),
            NonceVerdict::Forged
        );
    }

    #[test]
    fn forged_and_malformed_nonces_are_refused() {
        let nonces = Nonces::new(KEY, Duration::from_secs(60)).unwrap();
        let nonce = nonces.issue(6_000).unwrap();
        // The step moved on, the MAC kept: forged.
        let mut bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        bytes[7] ^= 1;
        let moved = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(nonces.check(&moved, 6_000), NonceVerdict::Forged);
        for bad in ["", "x", "!!!!", &nonce[..31]] {
            assert_eq!(nonces.check(bad, 6_000), NonceVerdict::Forged, "{bad}");
        }
    }
}
