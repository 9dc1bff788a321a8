//! Keys from the settings: the signing key for issued tokens, and the verification key of each
//! accepted algorithm (the HMAC secret, or the configured public key).

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};

use super::ring::{KeyTimes, RingKey};
use super::{algorithm_name, SigningKey, VerifyKey};
use crate::settings::{KeyMaterial, Settings, SettingsError};

fn invalid(setting: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        setting,
        reason: reason.into(),
    }
}

/// The HMAC secret's bytes, refusing key material (a PEM given as a secret is the misuse that
/// algorithm-confusion attacks rely on).
fn hmac_secret(settings: &Settings, algorithm: Algorithm) -> Result<&[u8], SettingsError> {
    let secret = settings.secret_key.as_ref().ok_or_else(|| {
        invalid(
            "secret_key",
            format!(
                "{} needs a secret: set JWT_SECRET_KEY (a new one: JWT_SECRET_KEY=$(openssl rand \
                 -base64 32)), `secret_key` in the `jwt` table of Rocket.toml, or call \
                 Jwt::builder().secret_key(..)",
                algorithm_name(algorithm)
            ),
        )
    })?;
    let text = secret.expose().trim_start();
    if text.starts_with("-----BEGIN") || text.starts_with("ssh-") || text.starts_with("ecdsa-sha2-")
    {
        return Err(invalid(
            "secret_key",
            "the secret is key material (PEM or OpenSSH); an HMAC algorithm must not use it: \
             configure RS256/ES256 with `public_key`, or use a random secret",
        ));
    }
    let bytes = secret.expose().as_bytes();
    if bytes.is_empty() {
        return Err(invalid(
            "secret_key",
            "the secret has 0 bytes: an empty secret lets anyone sign tokens (refused even with \
             `allow_short_secret`)",
        ));
    }
    let minimum = minimum_secret_bytes(algorithm);
    // A short secret that `allow_short_secret` lets through is warned about once, when the
    // codec is built (`short_secret_warning`).
    if bytes.len() < minimum && !settings.allow_short_secret {
        return Err(invalid(
            "secret_key",
            format!(
                "the secret has {} bytes; {} needs at least {minimum} (RFC 7518 §3.2). Use a \
                 random secret of {minimum}+ bytes, or, while migrating from an app stuck with \
                 this secret, set `allow_short_secret = true`",
                bytes.len(),
                algorithm_name(algorithm)
            ),
        ));
    }
    Ok(bytes)
}

/// The warning to log once when a secret shorter than its hash output is accepted because
/// `allow_short_secret` is set; `None` when the secret is long enough or not used.
pub(crate) fn short_secret_warning(
    settings: &Settings,
    algorithms: &[Algorithm],
) -> Option<String> {
    let secret = settings.secret_key.as_ref()?;
    let algorithm = *algorithms
        .iter()
        .chain([&settings.algorithm])
        .filter(|a| a.family() == AlgorithmFamily::Hmac)
        .max_by_key(|a| minimum_secret_bytes(**a))?;
    let minimum = minimum_secret_bytes(algorithm);
    let bytes = secret.expose().len();
    (settings.allow_short_secret && bytes > 0 && bytes < minimum).then(|| {
        format!(
            "jwt: INSECURE: the {} secret has {bytes} bytes, fewer than the {minimum} its hash \
             needs; accepted only because `allow_short_secret` is set. Rotate to a random secret \
             of {minimum}+ bytes",
            algorithm_name(algorithm)
        )
    })
}

/// The shortest HMAC secret for `algorithm`: its hash output size (RFC 7518 §3.2).
pub fn minimum_secret_bytes(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

/// The smallest RSA modulus accepted, in bits.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// The bit length of an RSA key's modulus.
fn rsa_bits(key: &DecodingKey) -> Option<usize> {
    let modulus = match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, .. } => n.clone(),
        DecodingKeyKind::SecretOrDer(der) => crate::crypto::rsa_public_modulus(der)?,
    };
    let first = modulus.iter().position(|byte| *byte != 0)?;
    Some((modulus.len() - first) * 8 - modulus[first].leading_zeros() as usize)
}

/// The key that signs issued tokens with `settings.algorithm`, if one is configured, prepared
/// for signing.
pub(crate) fn signing_key(settings: &Settings) -> Result<Option<SigningKey>, SettingsError> {
    let Some(key) = encoding_key(settings)? else {
        return Ok(None);
    };
    let setting = match settings.algorithm.family() {
        AlgorithmFamily::Hmac => "secret_key",
        _ => "private_key",
    };
    SigningKey::new(settings.algorithm, &key)
        .map(Some)
        .map_err(|e| invalid(setting, e.to_string()))
}

/// The configured asymmetric signing key as a key to publish (named by its thumbprint, no
/// times): its public part is served as a JWKS of one key. `None` for an HMAC secret, or when no
/// private key is configured.
pub(crate) fn published_static_key(settings: &Settings) -> Result<Option<RingKey>, SettingsError> {
    if settings.algorithm.family() == AlgorithmFamily::Hmac {
        return Ok(None);
    }
    let Some(key) = encoding_key(settings)? else {
        return Ok(None);
    };
    let times = KeyTimes {
        published_at: i64::MIN,
        signs_from: i64::MIN,
        retires_at: None,
    };
    RingKey::new(settings.algorithm, &key, times)
        .map(Some)
        .map_err(|e| invalid("private_key", e.to_string()))
}

/// The configured signing key's material for `settings.algorithm`, as `jsonwebtoken` reads it.
fn encoding_key(settings: &Settings) -> Result<Option<EncodingKey>, SettingsError> {
    let algorithm = settings.algorithm;
    let name = algorithm_name(algorithm);
    match algorithm.family() {
        AlgorithmFamily::Hmac => match settings.secret_key {
            Some(_) => Ok(Some(EncodingKey::from_secret(hmac_secret(
                settings, algorithm,
            )?))),
            None => Ok(None),
        },
        family => {
            let Some(material) = &settings.private_key else {
                return Ok(None);
            };
            let key = match (material, family) {
                (KeyMaterial::Pem(pem), AlgorithmFamily::Rsa) => {
                    EncodingKey::from_rsa_pem(pem.as_bytes())
                }
                (KeyMaterial::Pem(pem), AlgorithmFamily::Ec) => {
                    EncodingKey::from_ec_pem(pem.as_bytes())
                }
                (KeyMaterial::Pem(pem), _) => EncodingKey::from_ed_pem(pem.as_bytes()),
                (KeyMaterial::Der(der), AlgorithmFamily::Rsa) => Ok(EncodingKey::from_rsa_der(der)),
                (KeyMaterial::Der(der), AlgorithmFamily::Ec) => Ok(EncodingKey::from_ec_der(der)),
                (KeyMaterial::Der(der), _) => Ok(EncodingKey::from_ed_der(der)),
                (KeyMaterial::Jwk(_), _) => {
                    return Err(invalid("private_key", "give the private key as PEM or DER"))
                }
            }
            .map_err(|e| invalid("private_key", format!("not a {name} private key: {e}")))?;
            Ok(Some(key))
        }
    }
}

/// The verification key for `algorithm` from the configured secret or public key.
pub(crate) fn static_verify_key(
    settings: &Settings,
    algorithm: Algorithm,
) -> Result<VerifyKey, SettingsError> {
    let name = algorithm_name(algorithm);
    let family = algorithm.family();
    let key = if family == AlgorithmFamily::Hmac {
        DecodingKey::from_secret(hmac_secret(settings, algorithm)?)
    } else {
        let material = settings.public_key.as_ref().ok_or_else(|| {
            invalid(
                "public_key",
                format!("{name} needs the public key that verifies tokens (PEM, DER or JWK), or a JWKS (`jwks_url` / `authority`)"),
            )
        })?;
        match material {
            KeyMaterial::Pem(pem) => match family {
                AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem.as_bytes()),
                AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem.as_bytes()),
                _ => DecodingKey::from_ed_pem(pem.as_bytes()),
            }
            .map_err(|e| invalid("public_key", format!("not a {name} public key PEM: {e}")))?,
            KeyMaterial::Der(der) => match family {
                AlgorithmFamily::Rsa => DecodingKey::from_rsa_der(der),
                AlgorithmFamily::Ec => DecodingKey::from_ec_der(der),
                _ => DecodingKey::from_ed_der(der),
            },
            KeyMaterial::Jwk(json) => {
                let jwk: Jwk = serde_json::from_str(json)
                    .map_err(|e| invalid("public_key", format!("not a JWK: {e}")))?;
                if let Some(jwk_alg) = jwk.common.key_algorithm
                    && format!("{jwk_alg:?}") != name
                {
                    return Err(invalid(
                        "public_key",
                        format!("the JWK is for {jwk_alg:?}, not {name}"),
                    ));
                }
                let key = DecodingKey::from_jwk(&jwk)
                    .map_err(|e| invalid("public_key", format!("unusable JWK: {e}")))?;
                if key.family() != family {
                    return Err(invalid(
                        "public_key",
                        format!("the JWK is not a {name} key"),
                    ));
                }
                key
            }
        }
    };
    if family == AlgorithmFamily::Rsa && key.family() == family {
        match rsa_bits(&key) {
            Some(bits) if bits >= MIN_RSA_BITS => {}
            Some(bits) => {
                return Err(invalid(
                    "public_key",
                    format!("the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required"),
                ))
            }
            None => return Err(invalid("public_key", "not a readable RSA public key")),
        }
    }
    let field = if family == AlgorithmFamily::Hmac {
        "secret_key"
    } else {
        "public_key"
    };
    VerifyKey::new(None, algorithm, &key).map_err(|e| invalid(field, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;
    use crate::test_keys::*;

    fn rsa(pem: &str) -> Result<VerifyKey, SettingsError> {
        let settings = Settings {
            algorithm: Algorithm::RS256,
            public_key: Some(KeyMaterial::Pem(pem.into())),
            ..Settings::default()
        };
        static_verify_key(&settings, Algorithm::RS256)
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// The signing and the verification key of `algorithm`, from the test keys.
    fn pair(algorithm: Algorithm) -> (EncodingKey, DecodingKey) {
        let pem = |private: &str, public: &str| match algorithm.family() {
            AlgorithmFamily::Rsa => (
                EncodingKey::from_rsa_pem(private.as_bytes()).unwrap(),
                DecodingKey::from_rsa_pem(public.as_bytes()).unwrap(),
            ),
            AlgorithmFamily::Ec => (
                EncodingKey::from_ec_pem(private.as_bytes()).unwrap(),
                DecodingKey::from_ec_pem(public.as_bytes()).unwrap(),
            ),
            _ => (
                EncodingKey::from_ed_pem(private.as_bytes()).unwrap(),
                DecodingKey::from_ed_pem(public.as_bytes()).unwrap(),
            ),
        };
        match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => (
                EncodingKey::from_secret(SECRET),
                DecodingKey::from_secret(SECRET),
            ),
            Algorithm::ES256 => pem(EC_PRIVATE, EC_PUBLIC),
            Algorithm::ES384 => pem(EC384_PRIVATE, EC384_PUBLIC),
            Algorithm::EdDSA => pem(ED_PRIVATE, ED_PUBLIC),
            _ => pem(RSA_PRIVATE, RSA_PUBLIC),
        }
    }

    fn signature(message: &[u8], key: &EncodingKey, algorithm: Algorithm) -> Vec<u8> {
        let b64 = jsonwebtoken::crypto::sign(message, key, algorithm).unwrap();
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b64).unwrap()
    }

    #[test]
    fn prepared_keys_verify_what_jsonwebtoken_signs_and_nothing_else() {
        let message = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0";
        for algorithm in ALL_ALGORITHMS {
            let (signing, verifying) = pair(algorithm);
            let key = VerifyKey::new(Some("k".into()), algorithm, &verifying).unwrap();
            assert_eq!((key.kid(), key.algorithm()), (Some("k"), algorithm));
            let good = signature(message, &signing, algorithm);
            assert!(key.verify(message, &good), "{algorithm:?}");
            assert!(
                !key.verify(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0", &good),
                "{algorithm:?}: other message"
            );
            let mut tampered = good.clone();
            tampered[0] ^= 1;
            assert!(!key.verify(message, &tampered), "{algorithm:?}: tampered");
            assert!(
                !key.verify(message, &good[..good.len() - 1]),
                "{algorithm:?}: truncated"
            );
            assert!(!key.verify(message, &[]), "{algorithm:?}: empty");
        }
    }

    #[test]
    fn prepared_signing_keys_sign_as_jsonwebtoken_does() {
        let message = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0";
        for algorithm in ALL_ALGORITHMS {
            let (signing, verifying) = pair(algorithm);
            let key = SigningKey::new(algorithm, &signing).unwrap();
            assert_eq!(key.algorithm(), algorithm);
            let mut token = message.to_owned();
            key.sign_into(&mut token).unwrap();
            let (signed, b64) = token.rsplit_once('.').unwrap();
            assert_eq!(signed, message, "{algorithm:?}");
            assert!(
                jsonwebtoken::crypto::verify(b64, message.as_bytes(), &verifying, algorithm)
                    .unwrap(),
                "{algorithm:?}"
            );
            // The deterministic schemes give jsonwebtoken's very signature (ECDSA and PSS draw
            // randomness for each one).
            let randomised = matches!(algorithm.family(), AlgorithmFamily::Ec)
                || matches!(
                    algorithm,
                    Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512
                );
            if !randomised {
                let expected =
                    jsonwebtoken::crypto::sign(message.as_bytes(), &signing, algorithm).unwrap();
                assert_eq!(b64, expected, "{algorithm:?}");
            }
        }
    }

    #[test]
    fn signing_keys_that_do_not_fit_are_refused_when_loaded() {
        let (es256, _) = pair(Algorithm::ES256);
        assert!(SigningKey::new(Algorithm::RS256, &es256).is_err());
        // A P-256 key for ES384, and bytes that are no RSA key.
        assert!(SigningKey::new(Algorithm::ES384, &es256).is_err());
        let garbage = EncodingKey::from_rsa_der(b"not a key");
        assert!(SigningKey::new(Algorithm::RS256, &garbage).is_err());
        // Through the settings, at start: the error names the setting.
        let settings = Settings {
            algorithm: Algorithm::RS256,
            private_key: Some(KeyMaterial::Der(b"not a key".to_vec())),
            ..Settings::default()
        };
        match signing_key(&settings) {
            Err(SettingsError::Invalid { setting, reason }) => {
                assert_eq!(setting, "private_key");
                assert!(reason.starts_with("not a usable RS256 key"), "{reason}");
            }
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn a_key_verifies_its_own_algorithm_only() {
        let message = b"a.b";
        // Same family, other hash: an RS256 signature under the RS384-bound key.
        let (signing, verifying) = pair(Algorithm::RS256);
        let rs384 = VerifyKey::new(None, Algorithm::RS384, &verifying).unwrap();
        assert!(!rs384.verify(message, &signature(message, &signing, Algorithm::RS256)));
        let ps256 = VerifyKey::new(None, Algorithm::PS256, &verifying).unwrap();
        assert!(!ps256.verify(message, &signature(message, &signing, Algorithm::RS256)));
        let (signing, verifying) = pair(Algorithm::HS256);
        let hs512 = VerifyKey::new(None, Algorithm::HS512, &verifying).unwrap();
        assert!(!hs512.verify(message, &signature(message, &signing, Algorithm::HS256)));
    }

    #[test]
    fn keys_that_do_not_fit_the_algorithm_are_refused_when_loaded() {
        let (_, p384) = pair(Algorithm::ES384);
        let err = VerifyKey::new(None, Algorithm::ES256, &p384).unwrap_err();
        assert!(err.to_string().contains("not a usable ES256 key"), "{err}");
        let (_, rsa) = pair(Algorithm::RS256);
        let err = VerifyKey::new(None, Algorithm::ES256, &rsa).unwrap_err();
        assert_eq!(err.to_string(), "the key is not a ES256 key");
        let err = VerifyKey::new(None, Algorithm::HS256, &rsa).unwrap_err();
        assert_eq!(err.to_string(), "the key is not a HS256 key");
        let garbage = DecodingKey::from_ec_der(b"not a key");
        assert!(VerifyKey::new(None, Algorithm::ES256, &garbage).is_err());
    }

    #[test]
    fn rsa_jwk_components_verify() {
        let jwk: Jwk =
            serde_json::from_str(include_str!("../../../testdata/keys/rsa_public.jwk.json"))
                .unwrap();
        let key = VerifyKey::new(
            None,
            Algorithm::RS256,
            &DecodingKey::from_jwk(&jwk).unwrap(),
        )
        .unwrap();
        let (signing, _) = pair(Algorithm::RS256);
        assert!(key.verify(b"a.b", &signature(b"a.b", &signing, Algorithm::RS256)));
        assert!(!key.verify(b"a.c", &signature(b"a.b", &signing, Algorithm::RS256)));
    }

    #[test]
    fn rsa_keys_under_2048_bits_are_refused() {
        assert!(rsa(include_str!("../../../testdata/keys/rsa_public.pem")).is_ok());
        let err = rsa(include_str!("../../../testdata/keys/rsa1024_public.pem")).unwrap_err();
        assert!(err.to_string().contains("1024 bits"), "{err}");
        let jwk = Settings {
            algorithm: Algorithm::RS256,
            public_key: Some(KeyMaterial::Jwk(
                include_str!("../../../testdata/keys/rsa_public.jwk.json").into(),
            )),
            ..Settings::default()
        };
        assert!(static_verify_key(&jwk, Algorithm::RS256).is_ok());
    }

    #[test]
    fn short_hmac_secrets_need_the_opt_out() {
        let settings = |secret: &str, allow: bool, algorithm| Settings {
            algorithm,
            secret_key: Some(Secret::new(secret)),
            allow_short_secret: allow,
            ..Settings::default()
        };
        let err = static_verify_key(
            &settings("super-secret", false, Algorithm::HS256),
            Algorithm::HS256,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("12 bytes") && err.to_string().contains("allow_short_secret"),
            "{err}"
        );
        assert!(static_verify_key(
            &settings("super-secret", true, Algorithm::HS256),
            Algorithm::HS256
        )
        .is_ok());
        let thirty_two = "0123456789abcdef0123456789abcdef";
        assert!(static_verify_key(
            &settings(thirty_two, false, Algorithm::HS256),
            Algorithm::HS256
        )
        .is_ok());
        assert!(static_verify_key(
            &settings(thirty_two, false, Algorithm::HS512),
            Algorithm::HS512
        )
        .is_err());
        assert!(
            static_verify_key(&settings("", false, Algorithm::HS256), Algorithm::HS256).is_err()
        );
    }

    #[test]
    fn key_material_is_never_an_hmac_secret() {
        for secret in [
            include_str!("../../../testdata/keys/rsa_public.pem"),
            "  -----BEGIN PUBLIC KEY-----",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvZ9lUhC6NK9aD0Uq3HbM4v+8pRk6f9n5Qe0y2Xcq8y",
            "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEm",
        ] {
            let settings = Settings {
                secret_key: Some(Secret::new(secret)),
                allow_short_secret: true,
                ..Settings::default()
            };
            assert!(
                static_verify_key(&settings, Algorithm::HS256).is_err(),
                "{secret}"
            );
        }
    }
}
