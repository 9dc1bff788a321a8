//! Encoding and decoding tokens the way Flask-JWT 0.3.2 (on PyJWT) does, plus the issuer and
//! audience checks of an OIDC resource server.
//!
//! Decoding reads top to bottom, one step per check:
//! 1. **well-formed** — three base64url segments, a JSON object header ([`TokenCodec::parse`]);
//! 2. **signature** — `alg` must be one of the configured algorithms (the token never chooses),
//!    the key bound to it must verify the signature; then the claims must be a JSON object;
//! 3. **validity period** — required claims, `iat`, `nbf`, `exp`, with the leeway;
//! 4. **intended authority** — the key (above) and `iss`, byte for byte;
//! 5. **intended audience** — `aud`.
//!
//! Each rejection carries PyJWT's message where Flask-JWT has one, and the [`Check`] that failed.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::cache::VerifiedTokens;
use crate::error::{Check, ErrorKind, JwtError};
use crate::jwks::{Jwks, JwksConfig, JwksError};
use crate::keys::{self, VerifyKey};
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

/// A token split and its header decoded, before any key is involved.
#[derive(Debug)]
pub struct ParsedToken<'t> {
    /// The decoded header.
    pub header: Payload,
    /// `header.payload`, the signed message.
    message: &'t str,
    /// The decoded signature segment.
    signature: Vec<u8>,
    /// The decoded (not yet parsed) claims segment.
    pub(crate) claims: Vec<u8>,
}

impl ParsedToken<'_> {
    /// The header's `kid`, when it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// A verification key, borrowed from the configuration or shared from a JWKS cache.
pub(crate) enum KeyRef<'a> {
    Borrowed(&'a VerifyKey),
    Shared(Arc<VerifyKey>),
}

impl std::ops::Deref for KeyRef<'_> {
    type Target = VerifyKey;

    fn deref(&self) -> &VerifyKey {
        match self {
            KeyRef::Borrowed(key) => key,
            KeyRef::Shared(key) => key,
        }
    }
}

/// Where [`TokenCodec::start`] left a token.
enum Start<'t> {
    /// Decided without a key: a cache hit, or signature checks off.
    Done(Arc<Payload>),
    /// The signature must be verified with the key for `algorithm`.
    Verify(Pending<'t>),
}

/// A parsed token waiting for its key.
struct Pending<'t> {
    parsed: ParsedToken<'t>,
    algorithm: Algorithm,
    generation: u64,
    /// The token, to cache it under once verified (`None`: the cache is off or it is too long).
    cache_as: Option<&'t str>,
}

/// The outcome of a verified-token cache lookup.
enum Lookup {
    /// The token was verified before; its claims, time claims re-checked.
    Hit(Arc<Payload>),
    /// Not cached; whether it may be cached once verified (not when the cache is off).
    Miss { cacheable: bool },
}

/// Where verification keys come from.
pub(crate) enum KeySource {
    /// Keys from the settings: the secret and/or the public key, one per accepted algorithm.
    Static(Vec<VerifyKey>),
    /// Keys from the authority's JWKS, selected by `kid` and `alg`.
    Jwks(Arc<Jwks>),
}

/// Signs and verifies tokens with the resolved settings and keys.
///
/// Custom encode and decode callbacks receive it, so they can reuse the configured keys.
pub struct TokenCodec {
    settings: Settings,
    signing_key: Option<EncodingKey>,
    keys: KeySource,
    accepted: Vec<Algorithm>,
    issuer: Option<String>,
    algorithm_name: &'static str,
    leeway: i64,
    checks: ClaimChecks,
    verified: Option<VerifiedTokens>,
    #[cfg(test)]
    signature_checks: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec")
            .field("settings", &self.settings)
            .field("accepted", &self.accepted)
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
    /// Builds the keys for the configured algorithms.
    pub fn new(settings: Settings) -> Result<Self, SettingsError> {
        settings.validate()?;
        let accepted = if settings.algorithms.is_empty() {
            vec![settings.algorithm]
        } else {
            settings.algorithms.clone()
        };
        let keys = match jwks_config(&settings, &accepted)? {
            Some(config) => KeySource::Jwks(Arc::new(Jwks::new(config).map_err(|e| {
                SettingsError::Invalid {
                    setting: "jwks_url",
                    reason: e.to_string(),
                }
            })?)),
            None => KeySource::Static(
                accepted
                    .iter()
                    .map(|&algorithm| keys::static_verify_key(&settings, algorithm))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let signing_key = keys::signing_key(&settings)?;
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
        let issuer = settings
            .issuer
            .clone()
            .or_else(|| settings.authority.clone());
        Ok(TokenCodec {
            algorithm_name: algorithm_name(settings.algorithm),
            signing_key,
            keys,
            accepted,
            issuer,
            verified: VerifiedTokens::new(if checks.signature {
                settings.token_cache_entries
            } else {
                0
            }),
            settings,
            leeway,
            checks,
            #[cfg(test)]
            signature_checks: Default::default(),
        })
    }

    /// The settings this codec was built from.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The JWKS cache, when keys come from one.
    pub fn jwks(&self) -> Option<&Jwks> {
        match &self.keys {
            KeySource::Jwks(jwks) => Some(jwks),
            KeySource::Static(_) => None,
        }
    }

    /// Whether an `iss` is expected (`issuer`, or `authority`).
    pub fn expects_issuer(&self) -> bool {
        self.issuer.is_some()
    }

    /// Signs `claims` with the configured key and algorithm. `extra_headers` are added to the
    /// header after `typ` and `alg` (which they cannot replace).
    pub fn encode(&self, claims: &Payload, extra_headers: &Payload) -> Result<String, JwtError> {
        let key = self.signing_key.as_ref().ok_or_else(|| {
            JwtError::internal(
                "no signing key is configured: set `secret_key` or `private_key` to issue tokens",
            )
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

    /// Flask-JWT's default payload for an identity value: the identity claim (`identity` unless
    /// configured otherwise), `iat`, `nbf`, `exp`.
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
        payload.insert(self.settings.identity_claim.clone(), identity);
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
    ///
    /// With a JWKS, only keys already cached are used; [`verify`](Self::verify) fetches.
    pub fn decode(&self, token: &str) -> Result<Payload, JwtError> {
        self.decode_shared(token).map(Arc::unwrap_or_clone)
    }

    /// Validates `token` and returns its claims, fetching the JWKS when the token's key is not
    /// cached.
    pub async fn verify(&self, token: &str) -> Result<Payload, JwtError> {
        self.verify_shared(token).await.map(Arc::unwrap_or_clone)
    }

    /// [`decode`](Self::decode), sharing the claims with the verified-token cache.
    pub(crate) fn decode_shared(&self, token: &str) -> Result<Arc<Payload>, JwtError> {
        match self.start(token)? {
            Start::Done(payload) => Ok(payload),
            Start::Verify(pending) => {
                let key = self.cached_key(&pending.parsed, pending.algorithm)?;
                self.finish(&pending, &key)
            }
        }
    }

    /// [`verify`](Self::verify), sharing the claims with the verified-token cache. The request
    /// path uses this.
    pub(crate) async fn verify_shared(&self, token: &str) -> Result<Arc<Payload>, JwtError> {
        match self.start(token)? {
            Start::Done(payload) => Ok(payload),
            Start::Verify(pending) => {
                let key = self.resolve_key(&pending.parsed, pending.algorithm).await?;
                self.finish(&pending, &key)
            }
        }
    }

    /// Everything before the key: the cache, well-formedness, the accepted algorithm.
    fn start<'t>(&self, token: &'t str) -> Result<Start<'t>, JwtError> {
        let cache_as = match self.cache_lookup(token, now())? {
            Lookup::Hit(payload) => return Ok(Start::Done(payload)),
            Lookup::Miss { cacheable } => cacheable.then_some(token),
        };
        let parsed = self.parse(token)?;
        if !self.checks.signature {
            return Ok(Start::Done(Arc::new(self.check_claims(&parsed.claims)?)));
        }
        let algorithm = self.accepted_algorithm(&parsed)?;
        Ok(Start::Verify(Pending {
            generation: self.generation(),
            parsed,
            algorithm,
            cache_as,
        }))
    }

    /// Everything from the key on: signature, claims, then the cache.
    fn finish(&self, pending: &Pending<'_>, key: &VerifyKey) -> Result<Arc<Payload>, JwtError> {
        let payload = Arc::new(self.verify_with(&pending.parsed, key)?);
        if let (Some(cache), Some(token)) = (&self.verified, pending.cache_as) {
            let verified = crate::cache::Verified {
                payload: Arc::clone(&payload),
                kid: pending.parsed.kid().map(str::to_owned),
                algorithm: pending.algorithm,
                generation: pending.generation,
            };
            cache.insert(token, verified);
        }
        Ok(payload)
    }

    /// The key set's generation: it moves when the JWKS changes, invalidating cached tokens.
    fn generation(&self) -> u64 {
        match &self.keys {
            KeySource::Static(_) => 0,
            KeySource::Jwks(jwks) => jwks.generation(),
        }
    }

    /// A verified-token cache hit, its time claims checked again (a hit never extends validity).
    fn cache_lookup(&self, token: &str, now: i64) -> Result<Lookup, JwtError> {
        let Some(cache) = &self.verified else {
            return Ok(Lookup::Miss { cacheable: false });
        };
        if token.len() > self.settings.max_token_bytes {
            return Ok(Lookup::Miss { cacheable: false });
        }
        let current = |hit: &crate::cache::Verified| match &self.keys {
            KeySource::Static(_) => true,
            KeySource::Jwks(jwks) => {
                jwks.is_current(hit.kid.as_deref(), hit.algorithm, hit.generation)
            }
        };
        match cache.get(token, current) {
            Some(hit) => {
                self.check_time_claims(&hit.payload, now)?;
                Ok(Lookup::Hit(Arc::clone(&hit.payload)))
            }
            None => Ok(Lookup::Miss { cacheable: true }),
        }
    }

    /// How many verified tokens are cached (0 when the cache is off).
    pub fn cached_tokens(&self) -> usize {
        self.verified.as_ref().map_or(0, VerifiedTokens::len)
    }

    /// Step 1, well-formed: the three segments, the header as a JSON object, the claims and
    /// signature segments as base64url.
    pub fn parse<'t>(&self, token: &'t str) -> Result<ParsedToken<'t>, JwtError> {
        let malformed =
            |description: String| JwtError::invalid_token(Check::WellFormed, description);
        let limit = self.settings.max_token_bytes;
        if token.len() > limit {
            return Err(malformed("Token is too large".into())
                .with_detail(format!("{} bytes; the limit is {limit}", token.len())));
        }
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
        let header = serde_json::from_slice::<UniqueMap>(&header)
            .map_err(|e| malformed(json_error("Invalid header string", &e)))?
            .0;
        self.check_header(&header)?;
        let claims = URL_SAFE_NO_PAD
            .decode(claims)
            .map_err(|_| malformed("Invalid payload padding".into()))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| malformed("Invalid crypto padding".into()))?;
        Ok(ParsedToken {
            header,
            message,
            signature,
            claims,
        })
    }

    /// Header parameters this library does not implement are refused rather than ignored
    /// (RFC 8725): `crit`, `b64`, `zip`, nested tokens (`cty: JWT`); and `typ` when one is
    /// expected.
    fn check_header(&self, header: &Payload) -> Result<(), JwtError> {
        let unsupported = |description: &'static str| {
            Err(JwtError::invalid_token(Check::WellFormed, description))
        };
        if header.contains_key("crit") {
            return unsupported("Unsupported critical header parameters (crit)");
        }
        if header.contains_key("b64") {
            return unsupported("Unencoded payloads (b64) are not supported");
        }
        if header.contains_key("zip") {
            return unsupported("Compressed tokens (zip) are not accepted");
        }
        if let Some(cty) = header.get("cty") {
            if cty.as_str().is_none_or(|cty| media_type_eq(cty, "JWT")) {
                return unsupported("Nested tokens (cty: JWT) are not accepted");
            }
        }
        if let Some(expected) = &self.settings.expected_typ {
            let typ = header.get("typ").and_then(Value::as_str);
            if !typ.is_some_and(|typ| media_type_eq(typ, expected)) {
                return Err(
                    JwtError::invalid_token(Check::WellFormed, "Invalid token type (typ)")
                        .with_detail(format!(
                            "expected typ {expected:?}, received {}",
                            header.get("typ").map_or("none".into(), Value::to_string)
                        )),
                );
            }
        }
        Ok(())
    }

    /// Step 2a: the header's `alg`, when it is one of the configured algorithms.
    pub(crate) fn accepted_algorithm(
        &self,
        parsed: &ParsedToken<'_>,
    ) -> Result<Algorithm, JwtError> {
        let alg = parsed.header.get("alg").and_then(Value::as_str);
        match alg.and_then(|alg| self.accepted.iter().find(|a| algorithm_name(**a) == alg)) {
            Some(&algorithm) => Ok(algorithm),
            None => Err(JwtError::invalid_token(
                Check::Signature,
                "The specified alg value is not allowed",
            )
            .with_detail(format!(
                "token alg {:?}, accepted {:?}",
                alg.unwrap_or("(none)"),
                self.accepted
                    .iter()
                    .map(|a| algorithm_name(*a))
                    .collect::<Vec<_>>()
            ))),
        }
    }

    /// The key bound to `algorithm` (and the token's `kid`), without I/O.
    pub(crate) fn cached_key(
        &self,
        parsed: &ParsedToken<'_>,
        algorithm: Algorithm,
    ) -> Result<KeyRef<'_>, JwtError> {
        match &self.keys {
            KeySource::Static(keys) => keys
                .iter()
                .find(|key| key.algorithm() == algorithm)
                .map(KeyRef::Borrowed)
                .ok_or_else(|| {
                    JwtError::internal("no key is configured for an accepted algorithm")
                }),
            KeySource::Jwks(jwks) => jwks
                .cached_lookup(parsed.kid(), algorithm)
                .map(KeyRef::Shared)
                .map_err(key_error),
        }
    }

    /// The key bound to `algorithm` (and the token's `kid`), fetching the JWKS if needed.
    pub(crate) async fn resolve_key(
        &self,
        parsed: &ParsedToken<'_>,
        algorithm: Algorithm,
    ) -> Result<KeyRef<'_>, JwtError> {
        match &self.keys {
            KeySource::Static(_) => self.cached_key(parsed, algorithm),
            // The lookup may fetch: its (large) future is boxed, so that the request future
            // stays small for static keys and cache hits.
            KeySource::Jwks(jwks) => Box::pin(jwks.key(parsed.kid(), algorithm))
                .await
                .map(KeyRef::Shared)
                .map_err(key_error),
        }
    }

    /// Steps 2b to 5 with the key bound to the token's algorithm.
    pub(crate) fn verify_with(
        &self,
        parsed: &ParsedToken<'_>,
        key: &VerifyKey,
    ) -> Result<Payload, JwtError> {
        #[cfg(test)]
        self.signature_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !key.verify(parsed.message.as_bytes(), &parsed.signature) {
            return Err(JwtError::invalid_token(
                Check::Signature,
                "Signature verification failed",
            ));
        }
        self.check_claims(&parsed.claims)
    }

    /// Steps 2c to 5: the claims as a JSON object, then time, issuer and audience.
    pub(crate) fn check_claims(&self, claims: &[u8]) -> Result<Payload, JwtError> {
        let payload = serde_json::from_slice::<UniqueMap>(claims)
            .map_err(|e| {
                JwtError::invalid_token(Check::WellFormed, json_error("Invalid payload string", &e))
            })?
            .0;
        if let Some(sub) = payload.get("sub") {
            if !sub.is_string() {
                return Err(JwtError::invalid_token(
                    Check::WellFormed,
                    "Invalid subject: sub must be a string",
                ));
            }
        }
        if self.settings.verify {
            self.check_time_claims(&payload, now())?;
            self.check_issuer(&payload)?;
            self.check_audience(&payload)?;
        }
        Ok(payload)
    }

    pub(crate) fn check_time_claims(&self, payload: &Payload, now: i64) -> Result<(), JwtError> {
        let checks = self.checks;
        for (required, claim) in [
            (checks.require_exp, "exp"),
            (checks.require_iat, "iat"),
            (checks.require_nbf, "nbf"),
        ] {
            if required && payload.get(claim).is_none_or(Value::is_null) {
                return Err(missing_claim(Check::ValidityPeriod, claim));
            }
        }
        let leeway = self.leeway;
        if checks.iat {
            if let Some(iat) = time_claim(payload, "iat", "Issued At claim (iat)")? {
                if iat > now.saturating_add(leeway) {
                    return Err(JwtError::invalid_token(
                        Check::ValidityPeriod,
                        "Issued At claim (iat) cannot be in the future.",
                    )
                    .with_detail(format!("iat is {} s ahead (leeway {leeway} s)", iat - now)));
                }
            }
        }
        if checks.nbf {
            if let Some(nbf) = time_claim(payload, "nbf", "Not Before claim (nbf)")? {
                if nbf > now.saturating_add(leeway) {
                    return Err(JwtError::invalid_token(
                        Check::ValidityPeriod,
                        "The token is not yet valid (nbf)",
                    )
                    .with_detail(format!("valid in {} s (leeway {leeway} s)", nbf - now)));
                }
            }
        }
        if let Some(max_age) = self.settings.max_age {
            let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
            let Some(iat) = time_claim(payload, "iat", "Issued At claim (iat)")? else {
                return Err(missing_claim(Check::ValidityPeriod, "iat"));
            };
            let age = now.saturating_sub(iat);
            if age > max_age.saturating_add(leeway) {
                return Err(JwtError::invalid_token(
                    Check::ValidityPeriod,
                    "The token is too old (iat)",
                )
                .with_detail(format!(
                    "issued {age} s ago; the maximum age is {max_age} s"
                )));
            }
        }
        if checks.exp {
            if let Some(exp) = time_claim(payload, "exp", "Expiration Time claim (exp)")? {
                if exp < now.saturating_sub(leeway) {
                    return Err(JwtError::invalid_token(
                        Check::ValidityPeriod,
                        "Signature has expired",
                    )
                    .with_detail(format!(
                        "expired {} s ago (leeway {leeway} s)",
                        now.saturating_sub(exp)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Step 4: `iss` equal to the configured issuer, byte for byte.
    pub(crate) fn check_issuer(&self, payload: &Payload) -> Result<(), JwtError> {
        let Some(expected) = &self.issuer else {
            return Ok(());
        };
        match payload.get("iss") {
            None | Some(Value::Null) => Err(missing_claim(Check::Authority, "iss")),
            Some(Value::String(iss)) if iss == expected => Ok(()),
            Some(other) => Err(JwtError::invalid_token(
                Check::Authority,
                "Invalid issuer: the token is not from the intended authority",
            )
            .with_detail(format!("expected iss {expected:?}, received {other}"))),
        }
    }

    /// Step 5: one of the token's `aud` values is an accepted audience.
    pub(crate) fn check_audience(&self, payload: &Payload) -> Result<(), JwtError> {
        let accepted = &self.settings.audience;
        let not_for_us = |detail: String| {
            JwtError::invalid_token(
                Check::Audience,
                "Invalid audience: the token is not for this application",
            )
            .with_detail(detail)
        };
        let claim = match payload.get("aud") {
            None | Some(Value::Null) if accepted.is_empty() => return Ok(()),
            None | Some(Value::Null) => return Err(missing_claim(Check::Audience, "aud")),
            Some(claim) => claim,
        };
        let audiences: Vec<&str> = match claim {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => {
                match many.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                    Some(many) => many,
                    None => {
                        return Err(not_for_us(
                            "aud is an array with a non-string member".into(),
                        ))
                    }
                }
            }
            _ => {
                return Err(not_for_us(format!(
                    "aud is {claim}, not a string or an array"
                )))
            }
        };
        if accepted.is_empty() {
            return Err(not_for_us(format!(
                "the token has aud {claim} but no audience is configured"
            )));
        }
        if audiences
            .iter()
            .any(|aud| accepted.iter().any(|a| a == aud))
        {
            Ok(())
        } else {
            Err(not_for_us(format!(
                "expected aud {accepted:?}, received {claim}"
            )))
        }
    }
}

/// The JWKS to use, if `jwks_url` or `authority` is set. Keys from a JWKS are asymmetric only, and
/// exclusive of a configured public key.
fn jwks_config(
    settings: &Settings,
    accepted: &[Algorithm],
) -> Result<Option<JwksConfig>, SettingsError> {
    let url = match (&settings.jwks_url, &settings.authority) {
        (Some(url), _) => url.clone(),
        (None, Some(authority)) => JwksConfig::for_authority(authority).url,
        (None, None) => return Ok(None),
    };
    if let Some(hmac) = accepted
        .iter()
        .find(|a| keys::family(**a) == jsonwebtoken::AlgorithmFamily::Hmac)
    {
        return Err(SettingsError::Invalid {
            setting: "algorithms",
            reason: format!(
                "{} is an HMAC algorithm: keys from a JWKS are public keys (RS256, ES256, ...)",
                algorithm_name(*hmac)
            ),
        });
    }
    if settings.public_key.is_some() {
        return Err(SettingsError::Invalid {
            setting: "public_key",
            reason: "set either `public_key` or a JWKS (`jwks_url` / `authority`), not both".into(),
        });
    }
    Ok(Some(JwksConfig {
        url,
        cache_ttl: settings.jwks_cache_ttl,
        cooldown: settings.jwks_cooldown,
        timeout: settings.jwks_timeout,
        stale_for: settings.jwks_stale_for,
        algorithms: accepted.to_vec(),
        ..JwksConfig::default()
    }))
}

/// A key that could not be had from the JWKS: the token is not from the intended authority, or
/// (the endpoint failing past the stale window) the keys are unavailable: 503, failing closed.
fn key_error(error: JwksError) -> JwtError {
    match error {
        JwksError::UnknownKid { kid } => JwtError::invalid_token(
            Check::Authority,
            "Unknown signing key: the token is not from the intended authority",
        )
        .with_detail(match kid {
            Some(kid) => format!("kid {:?} is not in the authority's key set", truncate(&kid)),
            None => "the token has no kid".to_string(),
        }),
        JwksError::AmbiguousKey => JwtError::invalid_token(
            Check::Authority,
            "Ambiguous signing key: the token must name one of the authority's keys (kid)",
        ),
        JwksError::DisallowedAlgorithm(_) => {
            JwtError::invalid_token(Check::Signature, "The specified alg value is not allowed")
        }
        other => JwtError::new(
            rocket::http::Status::ServiceUnavailable,
            ErrorKind::KeysUnavailable,
            "Service Unavailable",
            "The authority's signing keys cannot be fetched",
        )
        .with_detail(other.to_string()),
    }
}

/// At most 64 characters of an attacker-controlled string, for logs.
fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

/// PyJWT's `MissingRequiredClaimError`.
fn missing_claim(check: Check, claim: &str) -> JwtError {
    JwtError::invalid_token(check, format!("Token is missing the \"{claim}\" claim"))
}

/// Reads a NumericDate claim as whole seconds; `None` when absent. Integers and finite floats are
/// accepted (PyJWT truncates floats); strings, booleans and anything else are rejected.
fn time_claim(payload: &Payload, claim: &str, label: &str) -> Result<Option<i64>, JwtError> {
    let Some(value) = payload.get(claim) else {
        return Ok(None);
    };
    match numeric_date(value) {
        Some(seconds) => Ok(Some(seconds)),
        None => Err(JwtError::invalid_token(
            Check::ValidityPeriod,
            format!("{label} must be an integer."),
        )),
    }
}

/// Whether two `typ`/`cty` media types are the same: case-insensitive, `application/` implied
/// when absent (RFC 7515 §4.1.9).
fn media_type_eq(a: &str, b: &str) -> bool {
    fn normal(media_type: &str) -> String {
        let lower = media_type.to_ascii_lowercase();
        match lower.strip_prefix("application/") {
            Some(rest) if !rest.contains('/') => rest.to_owned(),
            _ => lower,
        }
    }
    normal(a) == normal(b)
}

/// A JSON object that refuses a repeated member name, which parsers resolve differently (first
/// or last wins) and attackers use to smuggle a second `alg` or `exp` past one of them.
struct UniqueMap(Payload);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = UniqueMap;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueMap, A::Error> {
                let mut map = Payload::new();
                while let Some(key) = access.next_key::<String>()? {
                    if map.contains_key(&key) {
                        return Err(de::Error::custom(format_args!(
                            "{DUPLICATE} {:?}",
                            truncate(&key)
                        )));
                    }
                    let value = access.next_value::<Value>()?;
                    map.insert(key, value);
                }
                Ok(UniqueMap(map))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

const DUPLICATE: &str = "duplicate member";

/// A NumericDate as whole seconds: an integer, or a finite float truncated (as PyJWT does).
/// Strings, booleans, and numbers beyond ±9·10¹⁸ are not NumericDates.
pub fn numeric_date(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| f.trunc() as i64)
        }),
        _ => None,
    }
}

/// PyJWT's wording for a segment that is not a JSON object.
fn json_error(what: &str, error: &serde_json::Error) -> String {
    let text = error.to_string();
    if text.starts_with(DUPLICATE) {
        format!(
            "{what}: {}",
            text.split(" at line ").next().unwrap_or(&text)
        )
    } else if error.is_data() {
        format!("{what}: must be a json object")
    } else {
        format!("{what}: {error}")
    }
}

/// Seconds since the Unix epoch, as PyJWT's `timegm(datetime.utcnow().utctimetuple())`.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The header name of an algorithm, as it appears in `alg`.
pub fn algorithm_name(algorithm: Algorithm) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::settings::Secret;
    use crate::test_keys::*;
    use serde_json::json;

    fn codec() -> TokenCodec {
        TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
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
            allow_short_secret: true,
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
            allow_short_secret: true,
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

    use crate::settings::KeyMaterial;

    fn asymmetric(algorithm: Algorithm, private: &str, public: KeyMaterial) -> TokenCodec {
        TokenCodec::new(Settings {
            algorithm,
            private_key: Some(KeyMaterial::Pem(private.into())),
            public_key: Some(public),
            ..Settings::default()
        })
        .unwrap_or_else(|e| panic!("{algorithm:?}: {e}"))
    }

    #[test]
    fn every_asymmetric_algorithm_round_trips() {
        let pem = |p: &str| KeyMaterial::Pem(p.into());
        let cases = [
            (Algorithm::RS256, RSA_PRIVATE, pem(RSA_PUBLIC)),
            (Algorithm::RS384, RSA_PRIVATE, pem(RSA_PUBLIC)),
            (Algorithm::RS512, RSA_PRIVATE, pem(RSA_PUBLIC)),
            (Algorithm::PS256, RSA_PRIVATE, pem(RSA_PUBLIC)),
            (Algorithm::PS384, RSA_PRIVATE, pem(RSA_PUBLIC)),
            (Algorithm::PS512, RSA_PRIVATE, pem(RSA_PUBLIC)),
            (Algorithm::ES256, EC_PRIVATE, pem(EC_PUBLIC)),
            (Algorithm::ES384, EC384_PRIVATE, pem(EC384_PUBLIC)),
            (Algorithm::EdDSA, ED_PRIVATE, pem(ED_PUBLIC)),
            (
                Algorithm::RS256,
                RSA_PRIVATE,
                KeyMaterial::Jwk(RSA_JWK.into()),
            ),
            (
                Algorithm::RS256,
                RSA_PRIVATE,
                KeyMaterial::Der(RSA_PKCS1_DER.to_vec()),
            ),
        ];
        for (algorithm, private, public) in cases {
            let codec = asymmetric(algorithm, private, public);
            let token = codec
                .encode(&codec.default_payload(json!(1)), &Payload::new())
                .unwrap();
            assert_eq!(
                codec.decode(&token).unwrap()["identity"],
                1,
                "{algorithm:?}"
            );
            let mut segments: Vec<&str> = token.split('.').collect();
            let forged = URL_SAFE_NO_PAD.encode(br#"{"identity":2}"#);
            segments[1] = &forged;
            assert_eq!(
                rejection(&codec, &segments.join(".")),
                (Check::Signature, "Signature verification failed".into()),
                "{algorithm:?} tampered"
            );
        }
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused() {
        let codec = asymmetric(
            Algorithm::RS256,
            RSA_PRIVATE,
            KeyMaterial::Pem(RSA2_PUBLIC.into()),
        );
        let token = codec
            .encode(&codec.default_payload(json!(1)), &Payload::new())
            .unwrap();
        assert_eq!(
            rejection(&codec, &token),
            (Check::Signature, "Signature verification failed".into())
        );
    }

    #[test]
    fn hmac_with_the_public_key_as_secret_is_refused() {
        // Algorithm confusion: HS256 signed with the RSA public PEM, even when HS256 is also
        // accepted (with a different, real secret).
        let codec = TokenCodec::new(Settings {
            algorithm: Algorithm::RS256,
            algorithms: vec![Algorithm::RS256, Algorithm::HS256],
            secret_key: Some(Secret::new("a real secret of thirty-two bytes!")),
            public_key: Some(KeyMaterial::Pem(RSA_PUBLIC.into())),
            ..Settings::default()
        })
        .unwrap();
        let now = now();
        let forged = {
            let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
            let body = URL_SAFE_NO_PAD.encode(
                serde_json::to_vec(&json!({"identity":1,"iat":now,"nbf":now,"exp":now+60}))
                    .unwrap(),
            );
            let message = format!("{header}.{body}");
            let key = EncodingKey::from_secret(RSA_PUBLIC.as_bytes());
            let signature =
                jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
            format!("{message}.{signature}")
        };
        assert_eq!(rejection(&codec, &forged).0, Check::Signature);
        // and RS256-only refuses the alg outright
        let codec = asymmetric(
            Algorithm::RS256,
            RSA_PRIVATE,
            KeyMaterial::Pem(RSA_PUBLIC.into()),
        );
        assert_eq!(
            rejection(&codec, &forged),
            (
                Check::Signature,
                "The specified alg value is not allowed".into()
            )
        );
    }

    #[test]
    fn an_ec_token_is_refused_by_an_rsa_configuration() {
        let ec = asymmetric(
            Algorithm::ES256,
            EC_PRIVATE,
            KeyMaterial::Pem(EC_PUBLIC.into()),
        );
        let token = ec
            .encode(&ec.default_payload(json!(1)), &Payload::new())
            .unwrap();
        let rsa = asymmetric(
            Algorithm::RS256,
            RSA_PRIVATE,
            KeyMaterial::Pem(RSA_PUBLIC.into()),
        );
        assert_eq!(
            rejection(&rsa, &token).1,
            "The specified alg value is not allowed"
        );
    }

    #[test]
    fn mismatched_key_material_is_a_configuration_error() {
        let err = TokenCodec::new(Settings {
            algorithm: Algorithm::RS256,
            public_key: Some(KeyMaterial::Pem(EC_PUBLIC.into())),
            ..Settings::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("public_key"), "{err}");
        let err = TokenCodec::new(Settings {
            algorithm: Algorithm::RS256,
            ..Settings::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("public_key"), "{err}");
    }

    fn oidc(issuer: &str, audience: &[&str]) -> TokenCodec {
        TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            issuer: Some(issuer.into()),
            audience: audience.iter().map(|a| a.to_string()).collect(),
            ..Settings::default()
        })
        .unwrap()
    }

    fn with(codec: &TokenCodec, extra: Value) -> String {
        let mut payload = codec.default_payload(json!(1));
        payload.extend(claims(extra));
        codec.encode(&payload, &Payload::new()).unwrap()
    }

    #[test]
    fn issuer_is_compared_byte_for_byte() {
        let codec = oidc("https://tenant.auth0.com/", &["api"]);
        assert!(codec
            .decode(&with(
                &codec,
                json!({"iss": "https://tenant.auth0.com/", "aud": "api"})
            ))
            .is_ok());
        for iss in [
            json!("https://tenant.auth0.com"),
            json!("https://TENANT.auth0.com/"),
            json!("https://tenant.auth0.com/x"),
            json!("tenant.auth0.com/"),
            json!(123),
        ] {
            let (check, description) =
                rejection(&codec, &with(&codec, json!({"iss": iss, "aud": "api"})));
            assert_eq!(check, Check::Authority, "{iss}");
            assert_eq!(
                description,
                "Invalid issuer: the token is not from the intended authority"
            );
        }
        assert_eq!(
            rejection(&codec, &with(&codec, json!({"aud": "api"}))),
            (
                Check::Authority,
                "Token is missing the \"iss\" claim".into()
            )
        );
        let err = codec
            .decode(&with(
                &codec,
                json!({"iss": "https://tenant.auth0.com", "aud": "api"}),
            ))
            .unwrap_err();
        assert_eq!(
            err.detail.as_deref(),
            Some(
                r#"expected iss "https://tenant.auth0.com/", received "https://tenant.auth0.com""#
            )
        );
    }

    #[test]
    fn audience_string_or_array_one_must_match() {
        let codec = oidc("iss", &["api"]);
        for aud in [json!("api"), json!(["other", "api"])] {
            assert!(
                codec
                    .decode(&with(&codec, json!({"iss": "iss", "aud": aud})))
                    .is_ok(),
                "{aud}"
            );
        }
        for aud in [
            json!(["other"]),
            json!([]),
            json!(""),
            json!("API"),
            json!(1),
            json!([1]),
        ] {
            assert_eq!(
                rejection(&codec, &with(&codec, json!({"iss": "iss", "aud": aud}))).0,
                Check::Audience,
                "{aud}"
            );
        }
        assert_eq!(
            rejection(&codec, &with(&codec, json!({"iss": "iss"}))),
            (Check::Audience, "Token is missing the \"aud\" claim".into())
        );
    }

    #[test]
    fn audience_in_the_token_but_none_configured_is_refused() {
        let codec = codec();
        assert_eq!(
            rejection(&codec, &with(&codec, json!({"aud": "api"}))).0,
            Check::Audience
        );
    }

    #[test]
    fn authority_gives_the_issuer_and_the_jwks() {
        let codec = TokenCodec::new(Settings {
            algorithm: Algorithm::RS256,
            authority: Some("https://tenant.auth0.com/".into()),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(codec.issuer.as_deref(), Some("https://tenant.auth0.com/"));
        assert_eq!(
            codec.jwks().unwrap().config().url,
            "https://tenant.auth0.com/.well-known/jwks.json"
        );
        // HMAC keys never come from a JWKS, and a JWKS excludes a static public key.
        for settings in [
            Settings {
                authority: Some("https://tenant.auth0.com/".into()),
                secret_key: Some(Secret::new("super-secret")),
                ..Settings::default()
            },
            Settings {
                algorithm: Algorithm::RS256,
                jwks_url: Some("https://tenant.auth0.com/jwks.json".into()),
                public_key: Some(KeyMaterial::Pem(RSA_PUBLIC.into())),
                ..Settings::default()
            },
        ] {
            assert!(TokenCodec::new(settings).is_err());
        }
    }

    #[test]
    fn the_identity_claim_is_configurable() {
        let codec = TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            identity_claim: "sub".into(),
            ..Settings::default()
        })
        .unwrap();
        let payload = codec.default_payload(json!("auth0|42"));
        assert_eq!(payload["sub"], "auth0|42");
        assert!(!payload.contains_key("identity"));
    }

    fn raw_token(codec: &TokenCodec, header: &str, claims: &str) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let key = EncodingKey::from_secret(
            codec
                .settings()
                .secret_key
                .as_ref()
                .unwrap()
                .expose()
                .as_bytes(),
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{message}.{signature}")
    }

    fn fresh_claims() -> String {
        let now = now();
        format!(
            r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":{}}}"#,
            now + 60
        )
    }

    #[test]
    fn unsupported_header_parameters_are_refused() {
        let codec = codec();
        for header in [
            r#"{"typ":"JWT","alg":"HS256","crit":["x-custom"]}"#,
            r#"{"typ":"JWT","alg":"HS256","crit":[]}"#,
            r#"{"typ":"JWT","alg":"HS256","b64":false,"crit":["b64"]}"#,
            r#"{"typ":"JWT","alg":"HS256","zip":"DEF"}"#,
            r#"{"typ":"JWT","alg":"HS256","cty":"JWT"}"#,
            r#"{"typ":"JWT","alg":"HS256","cty":"application/jwt"}"#,
        ] {
            let token = raw_token(&codec, header, &fresh_claims());
            assert_eq!(rejection(&codec, &token).0, Check::WellFormed, "{header}");
        }
        let token = raw_token(
            &codec,
            r#"{"typ":"JWT","alg":"HS256","foo":"bar"}"#,
            &fresh_claims(),
        );
        assert!(
            codec.decode(&token).is_ok(),
            "unknown non-critical fields are ignored"
        );
    }

    #[test]
    fn duplicate_members_are_refused() {
        let codec = codec();
        let header = r#"{"alg":"none","alg":"HS256","typ":"JWT"}"#;
        let (check, description) = rejection(&codec, &raw_token(&codec, header, &fresh_claims()));
        assert_eq!(check, Check::WellFormed);
        assert_eq!(
            description,
            "Invalid header string: duplicate member \"alg\""
        );
        let now = now();
        let claims = format!(
            r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":1,"exp":{}}}"#,
            now + 60
        );
        let (_, description) = rejection(&codec, &raw_token(&codec, r#"{"alg":"HS256"}"#, &claims));
        assert_eq!(
            description,
            "Invalid payload string: duplicate member \"exp\""
        );
    }

    #[test]
    fn oversized_tokens_are_refused_before_decoding() {
        let codec = codec();
        let huge = ".".repeat(10_000_000);
        assert_eq!(
            rejection(&codec, &huge),
            (Check::WellFormed, "Token is too large".into())
        );
    }

    #[test]
    fn expected_typ_matches_equivalent_media_types() {
        let codec = TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            expected_typ: Some("at+jwt".into()),
            ..Settings::default()
        })
        .unwrap();
        for typ in ["at+jwt", "application/at+jwt", "AT+JWT"] {
            let header = format!(r#"{{"typ":"{typ}","alg":"HS256"}}"#);
            assert!(
                codec
                    .decode(&raw_token(&codec, &header, &fresh_claims()))
                    .is_ok(),
                "{typ}"
            );
        }
        for header in [
            r#"{"alg":"HS256"}"#,
            r#"{"typ":"JWT","alg":"HS256"}"#,
            r#"{"typ":"at+jwt\u0000","alg":"HS256"}"#,
            r#"{"typ":"JOSE","alg":"HS256"}"#,
        ] {
            assert_eq!(
                rejection(&codec, &raw_token(&codec, header, &fresh_claims())).0,
                Check::WellFormed,
                "{header}"
            );
        }
        // without expected_typ, typ is not checked
        assert!(codec_default_accepts(r#"{"typ":"JOSE","alg":"HS256"}"#));
    }

    fn codec_default_accepts(header: &str) -> bool {
        let codec = codec();
        codec
            .decode(&raw_token(&codec, header, &fresh_claims()))
            .is_ok()
    }

    #[test]
    fn max_age_needs_a_recent_iat() {
        let codec = TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            max_age: Some(std::time::Duration::from_secs(60)),
            required_claims: vec!["exp".into()],
            ..Settings::default()
        })
        .unwrap();
        let now = now();
        let sign = |claims: Value| {
            codec
                .encode(&claims.as_object().unwrap().clone(), &Payload::new())
                .unwrap()
        };
        assert!(codec
            .decode(&sign(json!({"iat": now - 30, "exp": now + 60})))
            .is_ok());
        assert_eq!(
            rejection(&codec, &sign(json!({"iat": now - 600, "exp": now + 60}))).1,
            "The token is too old (iat)"
        );
        assert_eq!(
            rejection(&codec, &sign(json!({"exp": now + 60}))).1,
            "Token is missing the \"iat\" claim"
        );
    }

    #[test]
    fn a_non_string_subject_is_refused() {
        let codec = codec();
        let now = now();
        for sub in ["1", "null", "[\"a\"]"] {
            let claims = format!(
                r#"{{"sub":{sub},"iat":{now},"nbf":{now},"exp":{}}}"#,
                now + 60
            );
            assert_eq!(
                rejection(&codec, &raw_token(&codec, r#"{"alg":"HS256"}"#, &claims)).0,
                Check::WellFormed
            );
        }
    }

    #[test]
    fn a_leeway_beyond_five_minutes_is_a_configuration_error() {
        let err = TokenCodec::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            leeway: std::time::Duration::from_secs(u64::MAX),
            ..Settings::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("leeway"), "{err}");
    }

    fn signature_checks(codec: &TokenCodec) -> usize {
        codec
            .signature_checks
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn rs256_cached(entries: usize) -> TokenCodec {
        TokenCodec::new(Settings {
            algorithm: Algorithm::RS256,
            private_key: Some(KeyMaterial::Pem(RSA_PRIVATE.into())),
            public_key: Some(KeyMaterial::Pem(RSA_PUBLIC.into())),
            leeway: std::time::Duration::ZERO,
            token_cache_entries: entries,
            ..Settings::default()
        })
        .unwrap()
    }

    #[test]
    fn a_verified_token_is_not_verified_again_while_cached() {
        let codec = rs256_cached(16);
        let token = codec
            .encode(&codec.default_payload(json!(1)), &Payload::new())
            .unwrap();
        for _ in 0..5 {
            assert_eq!(codec.decode(&token).unwrap()["identity"], 1);
        }
        assert_eq!(signature_checks(&codec), 1);
        assert_eq!(codec.cached_tokens(), 1);
        let off = rs256_cached(0);
        for _ in 0..3 {
            off.decode(&token).unwrap();
        }
        assert_eq!(signature_checks(&off), 3, "0 entries turns the cache off");
    }

    #[test]
    fn the_cache_never_extends_validity() {
        let codec = rs256_cached(16);
        let now = now();
        let claims = json!({"identity": 1, "iat": now, "nbf": now, "exp": now + 5});
        let token = codec
            .encode(&claims.as_object().unwrap().clone(), &Payload::new())
            .unwrap();
        codec.decode(&token).unwrap();
        assert!(matches!(
            codec.cache_lookup(&token, now).unwrap(),
            Lookup::Hit(_)
        ));
        // six seconds later the cached token has expired, and the hit says so
        let err = match codec.cache_lookup(&token, now + 6) {
            Err(err) => err,
            Ok(_) => panic!("an expired token must not hit"),
        };
        assert_eq!(err.description, "Signature has expired");
        // and a token not yet valid is re-checked on every hit too
        let claims = json!({"identity": 1, "iat": now, "nbf": now, "exp": now + 60});
        let token = codec
            .encode(&claims.as_object().unwrap().clone(), &Payload::new())
            .unwrap();
        codec.decode(&token).unwrap();
        assert!(
            codec.cache_lookup(&token, now - 30).is_err(),
            "nbf/iat checked on a hit"
        );
    }

    #[test]
    fn the_cache_never_admits_a_failing_token() {
        let codec = rs256_cached(16);
        let token = codec
            .encode(&codec.default_payload(json!(1)), &Payload::new())
            .unwrap();
        let mut segments: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"identity":2}"#);
        segments[1] = &forged;
        let tampered = segments.join(".");
        for _ in 0..3 {
            assert!(codec.decode(&tampered).is_err());
        }
        let now = now();
        let expired = json!({"identity": 1, "iat": now - 100, "nbf": now - 100, "exp": now - 50});
        let expired = codec
            .encode(&expired.as_object().unwrap().clone(), &Payload::new())
            .unwrap();
        assert!(codec.decode(&expired).is_err());
        assert_eq!(codec.cached_tokens(), 0);
        assert_eq!(
            signature_checks(&codec),
            4,
            "every failing attempt is verified again"
        );
    }

    #[test]
    fn a_cached_token_does_not_vouch_for_a_modified_copy() {
        let codec = rs256_cached(16);
        let token = codec
            .encode(&codec.default_payload(json!(1)), &Payload::new())
            .unwrap();
        codec.decode(&token).unwrap();
        assert_eq!(codec.cached_tokens(), 1);
        let (message, signature) = token.rsplit_once('.').unwrap();
        let (header, _) = message.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"identity":2}"#);
        // Same signature, other claims: checked, and refused by the signature check.
        let same_signature = format!("{header}.{forged}.{signature}");
        let err = codec.decode(&same_signature).unwrap_err();
        assert_eq!(err.check(), Some(Check::Signature), "{err}");
        assert_eq!(signature_checks(&codec), 2);
        // The cached token with a character appended, or one removed: refused too.
        for modified in [format!("{token}A"), token[..token.len() - 1].to_string()] {
            assert!(codec.decode(&modified).is_err(), "{modified}");
        }
        assert_eq!(codec.cached_tokens(), 1);
        assert_eq!(codec.decode(&token).unwrap()["identity"], 1);
    }

    #[test]
    fn the_cache_is_bounded_under_many_distinct_tokens() {
        let codec = rs256_cached(32);
        for n in 0..500 {
            let token = codec
                .encode(&codec.default_payload(json!(n)), &Payload::new())
                .unwrap();
            codec.decode(&token).unwrap();
        }
        assert!(codec.cached_tokens() <= 32, "{}", codec.cached_tokens());
    }
}
