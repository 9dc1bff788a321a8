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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use jsonwebtoken::{AlgorithmFamily, DecodingKey, EncodingKey};
    use serde_json::{json, Value};

    use super::*;
    use crate::keys::SigningKey;
    use crate::test_keys::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const OTHER_SECRET: &[u8] = b"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    const MESSAGE: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0";

    /// A header holding `value`'s members, as check 1 hands it on.
    fn header(value: Value) -> Header {
        Header {
            fields: Arc::new(value.as_object().cloned().unwrap()),
        }
    }

    /// The public half of a test key, bound to `algorithm`.
    fn verify_key(algorithm: Algorithm, public: &str) -> VerifyKey {
        let key = match algorithm.family() {
            AlgorithmFamily::Hmac => DecodingKey::from_secret(public.as_bytes()),
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(public.as_bytes()).unwrap(),
            AlgorithmFamily::Ec => DecodingKey::from_ec_pem(public.as_bytes()).unwrap(),
            AlgorithmFamily::Ed => DecodingKey::from_ed_pem(public.as_bytes()).unwrap(),
        };
        VerifyKey::new(None, algorithm, &key).unwrap()
    }

    /// The signing key and the verification key of `algorithm`, from the test keys.
    fn pair(algorithm: Algorithm) -> (SigningKey, VerifyKey) {
        let secret = std::str::from_utf8(SECRET).unwrap();
        let (private, public) = match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => (secret, secret),
            Algorithm::ES256 => (EC_PRIVATE, EC_PUBLIC),
            Algorithm::ES384 => (EC384_PRIVATE, EC384_PUBLIC),
            Algorithm::EdDSA => (ED_PRIVATE, ED_PUBLIC),
            _ => (RSA_PRIVATE, RSA_PUBLIC),
        };
        let signing = match algorithm.family() {
            AlgorithmFamily::Hmac => EncodingKey::from_secret(private.as_bytes()),
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(private.as_bytes()).unwrap(),
            AlgorithmFamily::Ec => EncodingKey::from_ec_pem(private.as_bytes()).unwrap(),
            AlgorithmFamily::Ed => EncodingKey::from_ed_pem(private.as_bytes()).unwrap(),
        };
        (
            SigningKey::new(algorithm, &signing).unwrap(),
            verify_key(algorithm, public),
        )
    }

    /// `key`'s signature of `message`, decoded from base64url.
    fn sign(key: &SigningKey, message: &str) -> Vec<u8> {
        let mut token = message.to_owned();
        key.sign_into(&mut token).unwrap();
        let (_, signature) = token.rsplit_once('.').unwrap();
        URL_SAFE_NO_PAD.decode(signature).unwrap()
    }

    /// Asserts that `result` is check 2's refusal of a signature.
    fn assert_verification_failed(result: Result<(), JwtError>, case: &str) {
        let error = result.expect_err(case);
        assert_eq!(error.check(), Some(Check::Signature), "{case}");
        assert_eq!(error.error, "Invalid token", "{case}");
        assert_eq!(error.description, "Signature verification failed", "{case}");
        assert_eq!(error.detail, None, "{case}");
    }

    /// Asserts that `alg` in the header is refused under `accepted`, with the detail naming both.
    fn assert_not_allowed(accepted: &[Algorithm], header: &Header, detail: &str) {
        let error = algorithm(accepted, header).unwrap_err();
        assert_eq!(error.check(), Some(Check::Signature), "{detail}");
        assert_eq!(error.error, "Invalid token", "{detail}");
        assert_eq!(
            error.description, "The specified alg value is not allowed",
            "{detail}"
        );
        assert_eq!(error.detail.as_deref(), Some(detail));
    }

    #[test]
    fn the_token_alg_selects_among_the_configured_algorithms() {
        let accepted = [Algorithm::RS256, Algorithm::ES256, Algorithm::HS256];
        for configured in accepted {
            let alg = algorithm_name(configured);
            assert_eq!(
                algorithm(&accepted, &header(json!({ "alg": alg }))).unwrap(),
                configured,
                "{alg}"
            );
        }
        // Other header parameters play no part in the choice.
        assert_eq!(
            algorithm(
                &accepted,
                &header(json!({"alg": "ES256", "kid": "HS256", "typ": "JWT"}))
            )
            .unwrap(),
            Algorithm::ES256
        );
        for configured in ALL_ALGORITHMS {
            let alg = algorithm_name(configured);
            assert_eq!(
                algorithm(&[configured], &header(json!({ "alg": alg }))).unwrap(),
                configured,
                "{alg} alone"
            );
        }
    }

    #[test]
    fn a_known_algorithm_that_is_not_configured_is_refused() {
        for alg in [
            "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
            "ES384", "EdDSA",
        ] {
            assert_not_allowed(
                &[Algorithm::HS256],
                &header(json!({ "alg": alg })),
                &format!(r#"token alg "{alg}", accepted ["HS256"]"#),
            );
        }
        // An RSA configuration accepts no HMAC token, whatever key the token hopes for.
        assert_not_allowed(
            &[Algorithm::RS256, Algorithm::PS256],
            &header(json!({"alg": "HS256"})),
            r#"token alg "HS256", accepted ["RS256", "PS256"]"#,
        );
        // Nothing configured, nothing accepted.
        assert_not_allowed(
            &[],
            &header(json!({"alg": "HS256"})),
            r#"token alg "HS256", accepted []"#,
        );
    }

    #[test]
    fn none_and_unknown_algorithms_are_refused() {
        let accepted = [Algorithm::HS256, Algorithm::RS256];
        for alg in [
            "none",
            "None",
            "NONE",
            "nOnE",
            "hs256",
            "Rs256",
            "HS256 ",
            " HS256",
            "HS256\u{0}",
            "HS1024",
            "ES512",
            "Ed25519",
            "RSA-OAEP",
            "dir",
            "unsupported",
            "",
        ] {
            assert_not_allowed(
                &accepted,
                &header(json!({ "alg": alg })),
                &format!(r#"token alg {alg:?}, accepted ["HS256", "RS256"]"#),
            );
        }
    }

    #[test]
    fn a_header_without_alg_is_refused() {
        assert_not_allowed(
            &[Algorithm::HS256],
            &header(json!({"typ": "JWT"})),
            r#"token alg "(none)", accepted ["HS256"]"#,
        );
    }

    #[test]
    fn the_right_key_verifies_the_signature() {
        for algorithm in ALL_ALGORITHMS {
            let (signing, key) = pair(algorithm);
            let signature = sign(&signing, MESSAGE);
            assert_eq!(verify(&key, MESSAGE, &signature), Ok(()), "{algorithm:?}");
        }
    }

    #[test]
    fn a_wrong_key_is_refused() {
        let other_secret = std::str::from_utf8(OTHER_SECRET).unwrap();
        let cases = [
            (Algorithm::HS256, verify_key(Algorithm::HS256, other_secret)),
            (Algorithm::HS512, verify_key(Algorithm::HS512, other_secret)),
            (Algorithm::RS256, verify_key(Algorithm::RS256, RSA2_PUBLIC)),
            (Algorithm::PS256, verify_key(Algorithm::PS256, RSA2_PUBLIC)),
            (Algorithm::ES256, verify_key(Algorithm::ES256, EC2_PUBLIC)),
        ];
        for (algorithm, wrong) in cases {
            let (signing, _) = pair(algorithm);
            let signature = sign(&signing, MESSAGE);
            assert_verification_failed(
                verify(&wrong, MESSAGE, &signature),
                &format!("{algorithm:?}"),
            );
        }
    }

    #[test]
    fn a_tampered_message_is_refused() {
        let forged_claims = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0";
        let forged_header = "eyJhbGciOiJIUzM4NCJ9.eyJzdWIiOiIxIn0";
        for algorithm in ALL_ALGORITHMS {
            let (signing, key) = pair(algorithm);
            let signature = sign(&signing, MESSAGE);
            for message in [
                forged_claims,
                forged_header,
                &MESSAGE[..MESSAGE.len() - 1],
                &format!("{MESSAGE}A"),
                "",
            ] {
                assert_verification_failed(
                    verify(&key, message, &signature),
                    &format!("{algorithm:?} {message:?}"),
                );
            }
        }
    }

    #[test]
    fn a_truncated_or_altered_signature_is_refused() {
        for algorithm in ALL_ALGORITHMS {
            let (signing, key) = pair(algorithm);
            let signature = sign(&signing, MESSAGE);
            let mut flipped = signature.clone();
            flipped[0] ^= 1;
            let mut extended = signature.clone();
            extended.push(0);
            for (case, bad) in [
                ("last byte dropped", &signature[..signature.len() - 1]),
                ("first half", &signature[..signature.len() / 2]),
                ("empty", &[][..]),
                ("a bit flipped", &flipped[..]),
                ("a byte appended", &extended[..]),
            ] {
                assert_verification_failed(
                    verify(&key, MESSAGE, bad),
                    &format!("{algorithm:?}: {case}"),
                );
            }
        }
    }

    #[test]
    fn a_key_verifies_only_the_algorithm_it_is_bound_to() {
        // The same key material under another algorithm of its family: refused.
        for (bound, signed_with) in [
            (Algorithm::HS256, Algorithm::HS384),
            (Algorithm::HS256, Algorithm::HS512),
            (Algorithm::HS512, Algorithm::HS256),
            (Algorithm::RS256, Algorithm::RS512),
            (Algorithm::RS256, Algorithm::PS256),
            (Algorithm::PS256, Algorithm::RS256),
            (Algorithm::PS256, Algorithm::PS384),
        ] {
            let (_, key) = pair(bound);
            let (signing, _) = pair(signed_with);
            assert_verification_failed(
                verify(&key, MESSAGE, &sign(&signing, MESSAGE)),
                &format!("{bound:?} key, {signed_with:?} signature"),
            );
        }
        // Algorithm confusion: an HS256 signature keyed with the RSA public key's PEM text does
        // not verify under the RSA key, which is bound to RS256 and never used as a secret.
        let (_, rsa) = pair(Algorithm::RS256);
        let confused = SigningKey::new(
            Algorithm::HS256,
            &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
        )
        .unwrap();
        assert_verification_failed(
            verify(&rsa, MESSAGE, &sign(&confused, MESSAGE)),
            "HS256 signature with the RSA public key as the secret",
        );
    }

    #[test]
    fn a_key_of_another_family_cannot_be_bound_to_an_algorithm() {
        let rsa = DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()).unwrap();
        let secret = DecodingKey::from_secret(SECRET);
        let ec = DecodingKey::from_ec_pem(EC_PUBLIC.as_bytes()).unwrap();
        for (algorithm, key) in [
            (Algorithm::HS256, &rsa),
            (Algorithm::ES256, &rsa),
            (Algorithm::EdDSA, &rsa),
            (Algorithm::RS256, &secret),
            (Algorithm::ES256, &secret),
            (Algorithm::RS256, &ec),
            (Algorithm::HS256, &ec),
        ] {
            assert_eq!(
                VerifyKey::new(None, algorithm, key)
                    .unwrap_err()
                    .to_string(),
                format!("the key is not a {} key", algorithm_name(algorithm)),
                "{algorithm:?}"
            );
        }
        // An EC key on another curve than the algorithm's: a P-384 key for ES256.
        let p384 = DecodingKey::from_ec_pem(EC384_PUBLIC.as_bytes()).unwrap();
        assert!(VerifyKey::new(None, Algorithm::ES256, &p384).is_err());
    }
}
