//! Keys: the signing key for issued tokens, and verification keys each bound to one algorithm.
//!
//! Binding key and algorithm one to one is what defeats algorithm confusion: a token's `alg` only
//! selects among keys the configuration already tied to that algorithm, so an RSA public key can
//! never be used as an HMAC secret.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};

use crate::settings::{KeyMaterial, Settings, SettingsError};
use crate::token::algorithm_name;

/// A key that verifies signatures of exactly one algorithm.
#[derive(Clone)]
pub struct VerifyKey {
    /// The key id (`kid`) that selects this key, if any.
    pub kid: Option<String>,
    /// The one algorithm this key verifies.
    pub algorithm: Algorithm,
    /// The key material.
    pub key: DecodingKey,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The family an algorithm belongs to.
pub fn family(algorithm: Algorithm) -> AlgorithmFamily {
    match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => AlgorithmFamily::Hmac,
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => AlgorithmFamily::Rsa,
        Algorithm::ES256 | Algorithm::ES384 => AlgorithmFamily::Ec,
        _ => AlgorithmFamily::Ed,
    }
}

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
                "{} needs a secret: call Jwt::builder().secret_key(..), set `secret_key` in the \
                 `jwt` table of Rocket.toml, or set JWT_SECRET_KEY",
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
    Ok(secret.expose().as_bytes())
}

/// The key that signs issued tokens with `settings.algorithm`, if one is configured.
pub(crate) fn signing_key(settings: &Settings) -> Result<Option<EncodingKey>, SettingsError> {
    let algorithm = settings.algorithm;
    let name = algorithm_name(algorithm);
    match family(algorithm) {
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
    let family = family(algorithm);
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
                if let Some(jwk_alg) = jwk.common.key_algorithm {
                    if format!("{jwk_alg:?}") != name {
                        return Err(invalid(
                            "public_key",
                            format!("the JWK is for {jwk_alg:?}, not {name}"),
                        ));
                    }
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
    if key.family() != family {
        return Err(invalid(
            "public_key",
            format!("the key is not a {name} key"),
        ));
    }
    Ok(VerifyKey {
        kid: None,
        algorithm,
        key,
    })
}
