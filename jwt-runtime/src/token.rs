//! Encoding and decoding tokens the way Flask-JWT 0.3.2 (on PyJWT) does.
//!
//! Decoding reads top to bottom in [`TokenCodec::decode`]: split the three segments, decode the
//! header, check `alg` against the configured algorithm (never trusting the token to choose), verify
//! the signature, decode the claims, then check required claims, `iat`, `nbf` and `exp` with the
//! leeway. Each rejection carries PyJWT's message and the [`Check`] that failed.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Check, JwtError};
use crate::settings::{Settings, SettingsError};

/// The claims of a token: a JSON object, as Flask-JWT's `payload` dict.
pub type Payload = Map<String, Value>;

/// Which claim checks run, resolved once from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClaimChecks {
    signature: bool,
    exp: bool,
    nbf: bool,
    iat: bool,
    require_exp: bool,
    require_iat: bool,
    require_nbf: bool,
}

/// Signs and verifies tokens with the resolved settings and keys.
///
/// Custom encode and decode callbacks receive it, so they can reuse the configured keys.
pub struct TokenCodec {
    settings: Settings,
    encoding_key: Option<EncodingKey>,
    decoding_key: DecodingKey,
    algorithm_name: &'static str,
    leeway: i64,
    checks: ClaimChecks,
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The header of issued tokens: `typ` then `alg`, as PyJWT writes it, then any extra fields.
#[derive(Serialize)]
struct IssuedHeader<'a> {
    typ: &'static str,
    alg: &'static str,
    #[serde(flatten)]
    extra: &'a Payload,
}

impl TokenCodec {
    /// Builds the keys for the configured algorithm.
    pub fn new(settings: Settings) -> Result<Self, SettingsError> {
        settings.validate()?;
        let algorithm = settings.algorithm;
        let (encoding_key, decoding_key) = keys(&settings)?;
        let has = |list: &[String], name: &str| list.iter().any(|c| c == name);
        let verify = settings.verify;
        let checks = ClaimChecks {
            signature: verify && has(&settings.verify_claims, "signature"),
            exp: verify && settings.verify_expiration && has(&settings.verify_claims, "exp"),
            nbf: verify && has(&settings.verify_claims, "nbf"),
            iat: verify && has(&settings.verify_claims, "iat"),
            require_exp: verify && has(&settings.required_claims, "exp"),
            require_iat: verify && has(&settings.required_claims, "iat"),
            require_nbf: verify && has(&settings.required_claims, "nbf"),
        };
        let leeway = i64::try_from(settings.leeway.as_secs()).unwrap_or(i64::MAX);
        Ok(TokenCodec {
            algorithm_name: algorithm_name(algorithm),
            settings,
            encoding_key,
            decoding_key,
            leeway,
            checks,
        })
    }

    /// The settings this codec was built from.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Signs `claims` with the configured key and algorithm. `extra_headers` are added to the
    /// header after `typ` and `alg` (which they cannot replace).
    pub fn encode(&self, claims: &Payload, extra_headers: &Payload) -> Result<String, JwtError> {
        let key = self.encoding_key.as_ref().ok_or_else(|| {
            JwtError::internal("no signing key is configured: set `private_key` to issue tokens")
        })?;
        let mut extra = extra_headers.clone();
        extra.remove("typ");
        extra.remove("alg");
        let header = IssuedHeader {
            typ: "JWT",
            alg: self.algorithm_name,
            extra: &extra,
        };
        let header = serde_json::to_vec(&header)
            .map_err(|e| JwtError::internal(format!("token header: {e}")))?;
        let claims = serde_json::to_vec(claims)
            .map_err(|e| JwtError::internal(format!("token claims: {e}")))?;
        let mut message = URL_SAFE_NO_PAD.encode(header);
        message.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut message);
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), key, self.settings.algorithm)
                .map_err(|e| JwtError::internal(format!("token signing failed: {e}")))?;
        message.push('.');
        message.push_str(&signature);
        Ok(message)
    }

    /// Flask-JWT's default payload for an identity value: `identity`, `iat`, `nbf`, `exp`.
    pub fn default_payload(&self, identity: Value) -> Payload {
        let iat = now();
        let delta = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let mut payload = Payload::new();
        payload.insert(
            "exp".into(),
            iat.saturating_add(delta(self.settings.expiration_delta))
                .into(),
        );
        payload.insert("iat".into(), iat.into());
        payload.insert(
            "nbf".into(),
            iat.saturating_add(delta(self.settings.not_before_delta))
                .into(),
        );
        payload.insert("identity".into(), identity);
        payload
    }

    /// The claims `required_claims` names that `payload` lacks (Flask-JWT refuses to sign those).
    pub fn missing_required_claims(&self, payload: &Payload) -> Vec<&str> {
        self.settings
            .required_claims
            .iter()
            .map(String::as_str)
            .filter(|claim| !payload.contains_key(*claim))
            .collect()
    }

    /// Validates `token` and returns its claims, or the first check it fails.
    pub fn decode(&self, token: &str) -> Result<Payload, JwtError> {
        let malformed =
            |description: String| JwtError::invalid_token(Check::WellFormed, description);

        // 1. Well-formed: three base64url segments, a JSON object header.
        let (message, signature) = token
            .rsplit_once('.')
            .ok_or_else(|| malformed("Not enough segments".into()))?;
        let (header, claims) = message
            .split_once('.')
            .ok_or_else(|| malformed("Not enough segments".into()))?;
        if claims.contains('.') {
            return Err(malformed("Too many segments".into()));
        }
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| malformed("Invalid header padding".into()))?;
        let header: Payload = serde_json::from_slice(&header)
            .map_err(|e| malformed(json_error("Invalid header string", &e)))?;
        let claims = URL_SAFE_NO_PAD
            .decode(claims)
            .map_err(|_| malformed("Invalid payload padding".into()))?;
        let signature_bytes_ok = URL_SAFE_NO_PAD.decode(signature).is_ok();
        if !signature_bytes_ok {
            return Err(malformed("Invalid crypto padding".into()));
        }

        // 2. Not tampered with: the configured algorithm only, then the signature.
        if self.checks.signature {
            match header.get("alg") {
                Some(Value::String(alg)) if alg == self.algorithm_name => {}
                _ => {
                    return Err(JwtError::invalid_token(
                        Check::Signature,
                        "The specified alg value is not allowed",
                    ))
                }
            }
            let valid = jsonwebtoken::crypto::verify(
                signature,
                message.as_bytes(),
                &self.decoding_key,
                self.settings.algorithm,
            )
            .unwrap_or(false);
            if !valid {
                return Err(JwtError::invalid_token(
                    Check::Signature,
                    "Signature verification failed",
                ));
            }
        }

        // 1 (continued). The claims are a JSON object.
        let payload: Payload = serde_json::from_slice(&claims)
            .map_err(|e| malformed(json_error("Invalid payload string", &e)))?;

        // 3. Inside the validity period.
        self.check_time_claims(&payload, now())?;
        Ok(payload)
    }

    fn check_time_claims(&self, payload: &Payload, now: i64) -> Result<(), JwtError> {
        let checks = self.checks;
        for (required, claim) in [
            (checks.require_exp, "exp"),
            (checks.require_iat, "iat"),
            (checks.require_nbf, "nbf"),
        ] {
            if required && payload.get(claim).is_none_or(Value::is_null) {
                return Err(JwtError::invalid_token(
                    Check::ValidityPeriod,
                    format!("Token is missing the \"{claim}\" claim"),
                ));
            }
        }
        let leeway = self.leeway;
        if checks.iat {
            if let Some(iat) = time_claim(payload, "iat", "Issued At claim (iat)")? {
                if iat > now.saturating_add(leeway) {
                    return Err(JwtError::invalid_token(
                        Check::ValidityPeriod,
                        "Issued At claim (iat) cannot be in the future.",
                    ));
                }
            }
        }
        if checks.nbf {
            if let Some(nbf) = time_claim(payload, "nbf", "Not Before claim (nbf)")? {
                if nbf > now.saturating_add(leeway) {
                    return Err(JwtError::invalid_token(
                        Check::ValidityPeriod,
                        "The token is not yet valid (nbf)",
                    ));
                }
            }
        }
        if checks.exp {
            if let Some(exp) = time_claim(payload, "exp", "Expiration Time claim (exp)")? {
                if exp < now.saturating_sub(leeway) {
                    return Err(JwtError::invalid_token(
                        Check::ValidityPeriod,
                        "Signature has expired",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Reads a NumericDate claim as whole seconds; `None` when absent. Integers and finite floats are
/// accepted (PyJWT truncates floats); strings, booleans and anything else are rejected.
fn time_claim(payload: &Payload, claim: &str, label: &str) -> Result<Option<i64>, JwtError> {
    let Some(value) = payload.get(claim) else {
        return Ok(None);
    };
    let seconds = match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| f.trunc() as i64)
        }),
        _ => None,
    };
    match seconds {
        Some(seconds) => Ok(Some(seconds)),
        None => Err(JwtError::invalid_token(
            Check::ValidityPeriod,
            format!("{label} must be an integer."),
        )),
    }
}

/// PyJWT's wording for a segment that is not a JSON object.
fn json_error(what: &str, error: &serde_json::Error) -> String {
    if error.is_data() {
        format!("{what}: must be a json object")
    } else {
        format!("{what}: {error}")
    }
}

/// Seconds since the Unix epoch, as PyJWT's `timegm(datetime.utcnow().utctimetuple())`.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The header name of an algorithm, as it appears in `alg`.
pub(crate) fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "unsupported",
    }
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        setting,
        reason: reason.into(),
    }
}

/// Builds the signing and verifying keys for the configured algorithm.
fn keys(settings: &Settings) -> Result<(Option<EncodingKey>, DecodingKey), SettingsError> {
    let algorithm = settings.algorithm;
    let family = match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => AlgorithmFamily::Hmac,
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => AlgorithmFamily::Rsa,
        Algorithm::ES256 | Algorithm::ES384 => AlgorithmFamily::Ec,
        _ => AlgorithmFamily::Ed,
    };
    if family == AlgorithmFamily::Hmac {
        let secret = settings.secret_key.as_ref().ok_or_else(|| {
            invalid(
                "secret_key",
                format!(
                    "{} needs a secret: call Jwt::builder().secret_key(..), set `secret_key` \
                     in the `jwt` table of Rocket.toml, or set JWT_SECRET_KEY",
                    algorithm_name(algorithm)
                ),
            )
        })?;
        let bytes = secret.expose().as_bytes();
        if secret.expose().trim_start().starts_with("-----BEGIN") {
            return Err(invalid(
                "secret_key",
                "the secret is a PEM key; an HMAC algorithm must not use key material \
                 (choose RS256/ES256 with `public_key`, or a random secret)",
            ));
        }
        return Ok((
            Some(EncodingKey::from_secret(bytes)),
            DecodingKey::from_secret(bytes),
        ));
    }
    let name = algorithm_name(algorithm);
    let public = settings.public_key.as_deref().ok_or_else(|| {
        invalid(
            "public_key",
            format!("{name} needs the PEM public key that verifies tokens"),
        )
    })?;
    let decoding = match family {
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(public.as_bytes()),
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(public.as_bytes()),
        _ => DecodingKey::from_ed_pem(public.as_bytes()),
    }
    .map_err(|e| invalid("public_key", format!("not a {name} public key PEM: {e}")))?;
    let encoding = match settings.private_key.as_ref() {
        None => None,
        Some(private) => {
            let pem = private.expose().as_bytes();
            let key = match family {
                AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem),
                AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem),
                _ => EncodingKey::from_ed_pem(pem),
            }
            .map_err(|e| invalid("private_key", format!("not a {name} private key PEM: {e}")))?;
            Some(key)
        }
    };
    Ok((encoding, decoding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::settings::Secret;
    use serde_json::json;

    fn codec() -> TokenCodec {
        TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            ..Settings::default()
        })
        .unwrap()
    }

    fn claims(value: Value) -> Payload {
        value.as_object().unwrap().clone()
    }

    fn rejection(codec: &TokenCodec, token: &str) -> (Check, String) {
        let err = codec.decode(token).unwrap_err();
        assert_eq!(err.error, "Invalid token");
        match err.kind {
            ErrorKind::InvalidToken(check) => (check, err.description.into_owned()),
            other => panic!("unexpected kind {other:?}"),
        }
    }

    #[test]
    fn round_trip_and_header_shape() {
        let codec = codec();
        let payload = codec.default_payload(json!(1));
        let token = codec.encode(&payload, &Payload::new()).unwrap();
        let header = token.split('.').next().unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(header).unwrap(),
            br#"{"typ":"JWT","alg":"HS256"}"#
        );
        assert_eq!(codec.decode(&token).unwrap(), payload);
        assert_eq!(
            payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
            300
        );
        assert_eq!(payload["nbf"], payload["iat"]);
    }

    #[test]
    fn extra_headers_cannot_replace_alg() {
        let codec = codec();
        let extra = claims(json!({"alg": "none", "kid": "k1"}));
        let token = codec
            .encode(&codec.default_payload(json!(1)), &extra)
            .unwrap();
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        assert_eq!(header, br#"{"typ":"JWT","alg":"HS256","kid":"k1"}"#);
        assert!(codec.decode(&token).is_ok());
    }

    #[test]
    fn structure_errors_use_pyjwt_wording() {
        let codec = codec();
        assert_eq!(
            rejection(&codec, "abc"),
            (Check::WellFormed, "Not enough segments".into())
        );
        assert_eq!(
            rejection(&codec, "a.b"),
            (Check::WellFormed, "Not enough segments".into())
        );
        assert_eq!(rejection(&codec, "a.b.c.d").1, "Too many segments");
        assert_eq!(rejection(&codec, "!!.e30.").1, "Invalid header padding");
        let not_json = URL_SAFE_NO_PAD.encode("{");
        assert!(rejection(&codec, &format!("{not_json}.e30."))
            .1
            .starts_with("Invalid header string: "));
        let array = URL_SAFE_NO_PAD.encode("[]");
        assert_eq!(
            rejection(&codec, &format!("{array}.e30.")).1,
            "Invalid header string: must be a json object"
        );
    }

    #[test]
    fn alg_comes_from_configuration_only() {
        let codec = codec();
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#);
        let body =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&codec.default_payload(json!(1))).unwrap());
        assert_eq!(
            rejection(&codec, &format!("{none_header}.{body}.")),
            (
                Check::Signature,
                "The specified alg value is not allowed".into()
            )
        );
    }

    #[test]
    fn tampering_is_caught() {
        let codec = codec();
        let token = codec
            .encode(&codec.default_payload(json!(1)), &Payload::new())
            .unwrap();
        assert_eq!(
            rejection(&codec, &format!("{token}X")),
            (Check::Signature, "Signature verification failed".into())
        );
        let other = TokenCodec::new(Settings {
            secret_key: Some(Secret::new("another-secret")),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(rejection(&other, &token).1, "Signature verification failed");
    }

    #[test]
    fn time_claims_follow_pyjwt_with_leeway() {
        let codec = codec();
        let now = now();
        let sign = |value: Value| codec.encode(&claims(value), &Payload::new()).unwrap();
        let ok = json!({"identity": 1, "iat": now, "nbf": now, "exp": now + 60});
        assert!(codec.decode(&sign(ok)).is_ok());
        // inside the 10 s leeway
        let skewed = json!({"identity": 1, "iat": now + 5, "nbf": now + 5, "exp": now - 5});
        assert!(codec.decode(&sign(skewed)).is_ok());
        let expired = json!({"identity": 1, "iat": now - 100, "nbf": now - 100, "exp": now - 11});
        assert_eq!(
            rejection(&codec, &sign(expired)),
            (Check::ValidityPeriod, "Signature has expired".into())
        );
        let early = json!({"identity": 1, "iat": now, "nbf": now + 60, "exp": now + 600});
        assert_eq!(
            rejection(&codec, &sign(early)).1,
            "The token is not yet valid (nbf)"
        );
        let future = json!({"identity": 1, "iat": now + 60, "nbf": now, "exp": now + 600});
        assert_eq!(
            rejection(&codec, &sign(future)).1,
            "Issued At claim (iat) cannot be in the future."
        );
        let missing = json!({"identity": 1, "iat": now, "nbf": now});
        assert_eq!(
            rejection(&codec, &sign(missing)).1,
            "Token is missing the \"exp\" claim"
        );
        let string_exp = json!({"identity": 1, "iat": now, "nbf": now, "exp": "9999999999"});
        assert_eq!(
            rejection(&codec, &sign(string_exp)).1,
            "Expiration Time claim (exp) must be an integer."
        );
        let float_exp =
            json!({"identity": 1, "iat": now, "nbf": now, "exp": (now + 100) as f64 + 0.5});
        assert!(codec.decode(&sign(float_exp)).is_ok());
    }

    #[test]
    fn verify_false_skips_every_check() {
        let codec = TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            verify: false,
            ..Settings::default()
        })
        .unwrap();
        let now = now();
        let token = codec
            .encode(
                &claims(json!({"identity": 1, "exp": now - 1000})),
                &Payload::new(),
            )
            .unwrap();
        assert!(codec.decode(&format!("{token}X")).is_ok());
    }

    #[test]
    fn hmac_needs_a_secret_that_is_not_a_pem() {
        let err = TokenCodec::new(Settings::default()).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET_KEY"), "{err}");
        let err = TokenCodec::new(Settings {
            secret_key: Some(Secret::new(
                "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
            )),
            ..Settings::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("PEM"), "{err}");
    }
}
