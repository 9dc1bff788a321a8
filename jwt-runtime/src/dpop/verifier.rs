//! The DPoP checks of one request, in the order of [`ProofCheck::ALL`]: the proof itself
//! ([`proof::verify`]), then against the request (`htm`, `htu`), the clock (`iat`), the token
//! (`ath`, `cnf.jkt`), the server nonce, and last the replay store, so that a proof refused by
//! another check is never burnt.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use rocket::http::Status;

use crate::crypto;
use crate::dpop::nonce::{NonceVerdict, Nonces};
use crate::dpop::proof::{self, refused, Proof};
use crate::dpop::target;
use crate::dpop::thumbprint::token_hash;
use crate::error::{ErrorKind, JwtError, ProofCheck};
use crate::revocation::{MemoryReplay, RevocationStore, StoreError};
use crate::settings::Settings;

/// How far ahead of this server's clock a proof's `iat` may be, in seconds.
pub(crate) const FUTURE_SKEW: i64 = 30;

/// What a request presents for DPoP.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProofRequest<'a> {
    /// The values of the request's `DPoP` headers.
    pub(crate) proofs: &'a [&'a str],
    /// The request's method, upper-case.
    pub(crate) method: &'a str,
    /// The request's URL, normalised ([`target::request_url`]); `None` when it cannot be known.
    pub(crate) url: Option<&'a str>,
    /// The access token sent with the proof; `None` at a login.
    pub(crate) token: Option<&'a str>,
    /// The token's `cnf.jkt`; `None` at a login (any key may be bound then).
    pub(crate) bound_to: Option<&'a str>,
    /// Seconds since the epoch.
    pub(crate) now: i64,
}

/// A proof every check but the replay check accepted.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) proof: Proof,
    /// The proof's key in the replay store: SHA-256 of the thumbprint, `:` and the `jti`.
    replay_key: [u8; 32],
    /// The current nonce, when the proof's is about to expire: sent on the response.
    pub(crate) renewed_nonce: Option<String>,
}

/// Where proofs are remembered.
enum Replay {
    /// This instance's memory.
    Memory(MemoryReplay),
    /// The revocation store's (Redis, shared by the fleet).
    Store(Arc<dyn RevocationStore>),
}

/// The DPoP settings of an application, resolved at ignition.
pub(crate) struct DpopVerifier {
    algorithms: Vec<Algorithm>,
    iat_window: i64,
    nonces: Option<Nonces>,
    replay: Replay,
    /// How long a proof is remembered: the `iat` window and the skew ahead.
    lifetime: Duration,
    fail_open: bool,
    timeout: Duration,
}

impl DpopVerifier {
    /// The verifier of `settings`, remembering proofs in `store` when it keeps them (Redis),
    /// else in memory.
    pub(crate) fn new(
        settings: &Settings,
        store: Option<&Arc<dyn RevocationStore>>,
    ) -> Result<DpopVerifier, String> {
        let iat_window = i64::try_from(settings.dpop_iat_window.as_secs()).unwrap_or(i64::MAX);
        let nonces = match settings.dpop_nonce {
            false => None,
            true => Some(Nonces::new(
                &nonce_key(settings)?,
                settings.dpop_nonce_lifetime,
            )?),
        };
        let replay = match store.filter(|store| store.proof_replay().is_some()) {
            Some(store) => Replay::Store(Arc::clone(store)),
            None => Replay::Memory(MemoryReplay::new(settings.dpop_replay_capacity)),
        };
        Ok(DpopVerifier {
            algorithms: settings.dpop_algorithms.clone(),
            iat_window,
            nonces,
            replay,
            lifetime: settings.dpop_iat_window + Duration::from_secs(FUTURE_SKEW as u64),
            fail_open: settings.revocation_fail_open,
            timeout: settings.revocation_timeout,
        })
    }

    /// The current server nonce, when nonces are on.
    #[cfg(test)]
    pub(crate) fn current_nonce(&self, now: i64) -> Option<String> {
        self.nonces.as_ref().and_then(|nonces| nonces.issue(now))
    }

    /// Every check but the replay check.
    pub(crate) fn check(&self, request: &ProofRequest<'_>) -> Result<Accepted, JwtError> {
        let text = match request.proofs {
            [one] => *one,
            [] => {
                return Err(refused(
                    ProofCheck::OneProof,
                    "the request has no DPoP header",
                ))
            }
            _ => {
                return Err(refused(
                    ProofCheck::OneProof,
                    "the request has more than one DPoP header",
                ))
            }
        };
        let proof = proof::verify(text, &self.algorithms)?;
        if !proof.htm.eq_ignore_ascii_case(request.method) {
            return Err(refused(
                ProofCheck::Method,
                format!("`htm` is not the request's method {}", request.method),
            ));
        }
        let htu = target::normalise(&proof.htu);
        if htu.is_none() || htu.as_deref() != request.url {
            return Err(refused(
                ProofCheck::Url,
                "`htu` is not this request's URL (scheme, host, port and path)",
            ));
        }
        if proof.iat < request.now.saturating_sub(self.iat_window) {
            return Err(refused(ProofCheck::IssuedAt, "`iat` is too old"));
        }
        if proof.iat > request.now.saturating_add(FUTURE_SKEW) {
            return Err(refused(ProofCheck::IssuedAt, "`iat` is in the future"));
        }
        if let Some(token) = request.token
            && proof.ath != token_hash(token)
        {
            return Err(refused(
                ProofCheck::TokenHash,
                "`ath` is not the hash of the access token sent with it",
            ));
        }
        if let Some(bound) = request.bound_to
            && !crypto::constant_time_eq(bound.as_bytes(), proof.thumbprint.as_bytes())
        {
            return Err(refused(
                ProofCheck::Binding,
                "the token is bound to another key than the proof's (cnf.jkt)",
            ));
        }
        let renewed_nonce = self.check_nonce(&proof, request.now)?;
        let mut key_input = proof.thumbprint.clone().into_bytes();
        key_input.push(b':');
        key_input.extend_from_slice(proof.jti.as_bytes());
        let replay_key = crypto::sha256(&key_input)
            .ok_or_else(|| JwtError::internal("the DPoP replay key cannot be hashed"))?;
        Ok(Accepted {
            proof,
            replay_key,
            renewed_nonce,
        })
    }

    /// The nonce check: `Ok(Some(current))` when the proof's nonce is accepted but the client
    /// should move to the current one.
    fn check_nonce(&self, proof: &Proof, now: i64) -> Result<Option<String>, JwtError> {
        let Some(nonces) = &self.nonces else {
            return Ok(None);
        };
        let current = nonces.issue(now);
        let problem = match proof.nonce.as_deref().map(|nonce| nonces.check(nonce, now)) {
            Some(NonceVerdict::Current) => return Ok(None),
            Some(NonceVerdict::Previous) => return Ok(current),
            None => "the proof has no `nonce`: use the DPoP-Nonce this answer carries",
            Some(NonceVerdict::Stale) => "the proof's `nonce` has expired",
            Some(NonceVerdict::Future) => "the proof's `nonce` is from the future",
            Some(NonceVerdict::Forged) => "the proof's `nonce` was not issued by this server",
        };
        let error = refused(ProofCheck::Nonce, problem);
        Err(match current {
            Some(current) => error.with_header("DPoP-Nonce", current),
            None => error,
        })
    }

    /// The replay check: records `accepted`'s proof, refusing it when it was recorded before
    /// (on any instance sharing the store). A store that cannot answer within
    /// `revocation_timeout` refuses with 503, or lets the proof through with
    /// `revocation_fail_open`.
    pub(crate) async fn record(&self, accepted: &Accepted) -> Result<(), JwtError> {
        let first = match &self.replay {
            Replay::Memory(memory) => {
                memory.first_use_at(&accepted.replay_key, self.lifetime, crate::claims::now())
            }
            Replay::Store(store) => {
                let Some(replay) = store.proof_replay() else {
                    return Err(JwtError::internal("the store keeps no DPoP proofs"));
                };
                let lookup = replay.first_use(&accepted.replay_key, self.lifetime);
                match tokio::time::timeout(self.timeout, lookup).await {
                    Ok(answer) => answer,
                    Err(_) => Err(StoreError::new(format!(
                        "no answer within {:?}",
                        self.timeout
                    ))),
                }
            }
        };
        match first {
            Ok(true) => Ok(()),
            Ok(false) => Err(refused(
                ProofCheck::Replay,
                "this proof was already used (its `jti` was seen)",
            )),
            Err(error) if self.fail_open => {
                log::warn!(
                    "jwt: the DPoP replay store cannot be reached ({error}); the proof is \
                     ACCEPTED without a replay check (revocation_fail_open)"
                );
                Ok(())
            }
            Err(error) => {
                log::warn!("jwt: the DPoP replay store cannot be reached ({error}); answering 503");
                Err(JwtError::new(
                    Status::ServiceUnavailable,
                    ErrorKind::RevocationUnavailable,
                    "Service Unavailable",
                    "The DPoP replay store cannot be reached",
                ))
            }
        }
    }
}

/// The key of the server nonces: `dpop_nonce_secret`, else one derived from `secret_key`, else
/// a random key of this process (logged: the nonces then hold on this instance only).
fn nonce_key(settings: &Settings) -> Result<Vec<u8>, String> {
    if let Some(secret) = &settings.dpop_nonce_secret {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    if let Some(secret) = &settings.secret_key {
        let mut input = b"rocket-flask-jwt dpop-nonce-key ".to_vec();
        input.extend_from_slice(secret.expose().as_bytes());
        return crypto::sha256(&input)
            .map(|key| key.to_vec())
            .ok_or_else(|| "the DPoP nonce key cannot be derived".into());
    }
    log::warn!(
        "jwt: dpop_nonce is on without dpop_nonce_secret or secret_key: the nonces are made \
         with a random key of this process, and other instances will refuse them"
    );
    let mut key = vec![0; 32];
    crypto::fill_random(&mut key).map_err(|()| "no random bytes for the DPoP nonce key")?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9449 §4.2, Figure 2 (repeated in §5): the proof of a token request.
    const RFC_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
    /// Its `iat`.
    const RFC_IAT: i64 = 1_562_262_616;
    /// The thumbprint of its key (§6.1).
    const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    fn verifier() -> DpopVerifier {
        DpopVerifier::new(&Settings::default(), None).expect("the default settings")
    }

    fn request<'a>(
        proofs: &'a [&'a str],
        method: &'a str,
        url: &'a str,
        now: i64,
    ) -> ProofRequest<'a> {
        ProofRequest {
            proofs,
            method,
            url: Some(url),
            token: None,
            bound_to: Some(RFC_JKT),
            now,
        }
    }

    fn refusal(result: Result<Accepted, JwtError>) -> ProofCheck {
        match result.map(|_| ()).expect_err("refused").kind {
            ErrorKind::InvalidProof(check) => check,
            other => panic!("refused for {other:?}"),
        }
    }

    const URL: &str = "https://server.example.com/token";

    #[test]
    fn the_rfc_example_proof_is_accepted_at_its_time() {
        let accepted = verifier()
            .check(&request(&[RFC_PROOF], "POST", URL, RFC_IAT))
            .expect("accepted");
        assert_eq!(accepted.proof.thumbprint, RFC_JKT);
        assert_eq!(accepted.proof.jti, "-BwC3ESc6acc2lTc");
        assert_eq!(accepted.renewed_nonce, None);
    }

    #[test]
    fn each_check_refuses_the_rfc_example_proof_out_of_its_context() {
        let verifier = verifier();
        let check = |proofs: &[&str], method, url, now| {
            refusal(verifier.check(&request(proofs, method, url, now)))
        };
        assert_eq!(check(&[RFC_PROOF], "GET", URL, RFC_IAT), ProofCheck::Method);
        assert_eq!(
            check(
                &[RFC_PROOF],
                "POST",
                "https://server.example.com/other",
                RFC_IAT
            ),
            ProofCheck::Url
        );
        assert_eq!(
            check(&[RFC_PROOF], "POST", URL, RFC_IAT + 301),
            ProofCheck::IssuedAt
        );
        assert_eq!(
            check(&[RFC_PROOF], "POST", URL, RFC_IAT - 31),
            ProofCheck::IssuedAt
        );
        assert_eq!(check(&[], "POST", URL, RFC_IAT), ProofCheck::OneProof);
        assert_eq!(
            check(&[RFC_PROOF, RFC_PROOF], "POST", URL, RFC_IAT),
            ProofCheck::OneProof
        );
        let tampered = format!("{}A", &RFC_PROOF[..RFC_PROOF.len() - 1]);
        assert_eq!(
            check(&[&tampered], "POST", URL, RFC_IAT),
            ProofCheck::Signature
        );
        let other_key = ProofRequest {
            bound_to: Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
            ..request(&[RFC_PROOF], "POST", URL, RFC_IAT)
        };
        assert_eq!(refusal(verifier.check(&other_key)), ProofCheck::Binding);
        let with_token = ProofRequest {
            token: Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            ..request(&[RFC_PROOF], "POST", URL, RFC_IAT)
        };
        assert_eq!(
            refusal(verifier.check(&with_token)),
            ProofCheck::TokenHash,
            "no ath"
        );
    }

    #[test]
    fn a_proof_is_recorded_once() {
        let verifier = verifier();
        let accepted = verifier
            .check(&request(&[RFC_PROOF], "POST", URL, RFC_IAT))
            .expect("accepted");
        let record = |accepted| {
            futures_util::FutureExt::now_or_never(verifier.record(accepted))
                .expect("decided at once")
        };
        assert!(record(&accepted).is_ok());
        assert_eq!(
            record(&accepted).map_err(|error| error.kind),
            Err(ErrorKind::InvalidProof(ProofCheck::Replay))
        );
    }

    #[test]
    fn with_nonces_a_proof_without_one_gets_one() {
        let settings = Settings {
            dpop_nonce: true,
            dpop_nonce_secret: Some(crate::settings::Secret::new("n".repeat(32))),
            ..Settings::default()
        };
        let verifier = DpopVerifier::new(&settings, None).expect("valid");
        let error = verifier
            .check(&request(&[RFC_PROOF], "POST", URL, RFC_IAT))
            .map(|_| ())
            .expect_err("no nonce");
        assert_eq!(error.kind, ErrorKind::InvalidProof(ProofCheck::Nonce));
        assert_eq!(ProofCheck::Nonce.error_code(), "use_dpop_nonce");
        let nonce = error
            .headers
            .iter()
            .find(|(name, _)| name == "DPoP-Nonce")
            .map(|(_, value)| value.clone())
            .expect("a DPoP-Nonce header");
        assert_eq!(verifier.current_nonce(RFC_IAT), Some(nonce));
    }
}
