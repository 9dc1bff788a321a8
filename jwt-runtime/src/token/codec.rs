//! [`TokenCodec`]: the configured keys and rules, and the ways through them — issuing a token
//! ([`encode`](TokenCodec::encode)), validating one ([`decode`](TokenCodec::decode) without I/O,
//! [`verify`](TokenCodec::verify) fetching JWKS keys as needed) and inspecting one
//! ([`inspect`](TokenCodec::inspect)).
//!
//! Validation is the pipeline of [`crate::token::validate`]; the verified-token cache sits around it: a
//! hit skips the pipeline but not the validity period, which is checked again at every hit.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde_json::Value;

use crate::claims::{now, Payload};
use crate::error::JwtError;
use crate::jwks::{Jwks, JwksConfig};
use crate::keys::ring::{KeyRing, SharedRing, RING_ALGORITHMS};
use crate::keys::{self, algorithm_name, SigningKey};
use crate::settings::{Settings, SettingsError};
use crate::token::cache::{Verified, VerifiedTokens};
use crate::token::claim_checks;
use crate::token::claims::TokenClaims;
use crate::token::validate::{self, validity, KeySource, Policy, Stop, Validated};

/// A token's claims and header once it passed the pipeline, shared with the verified-token cache.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub(crate) claims: Arc<TokenClaims>,
    pub(crate) header: Arc<Payload>,
    /// The token is bound to a DPoP key (`cnf.jkt`): only a route that takes DPoP accepts it,
    /// with its proof.
    pub(crate) dpop_bound: bool,
    /// The answer came from the verified-token cache.
    pub(crate) from_cache: bool,
    /// A refresh token's (`"type": "refresh"`), read once when the token was verified.
    pub(crate) refresh: bool,
}

/// Signs and verifies tokens with the resolved settings and keys.
///
/// Custom encode and decode callbacks receive it, so they can reuse the configured keys.
pub struct TokenCodec {
    settings: Settings,
    signing_key: Option<SigningKey>,
    keys: KeySource,
    /// The keys served as a JWKS: the key ring, or the static asymmetric signing key alone.
    published: Option<Arc<SharedRing>>,
    rules: Policy,
    verified: Option<VerifiedTokens>,
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec")
            .field("settings", &self.settings)
            .field("accepted", &self.rules.accepted)
            .finish_non_exhaustive()
    }
}

impl TokenCodec {
    /// Builds the keys for the configured algorithms. Settings that need a cargo feature this
    /// build leaves out (a JWKS without `remote-keys`, `redis_url` without `redis`) are refused.
    pub fn new(settings: Settings) -> Result<Self, SettingsError> {
        settings.validate()?;
        crate::settings::check_features(&settings)?;
        let mut accepted = if settings.algorithms.is_empty() {
            vec![settings.algorithm]
        } else {
            settings.algorithms.clone()
        };
        let keys = match key_ring(&settings, &mut accepted)? {
            Some(ring) => ring,
            None => match jwks_config(&settings, &accepted)? {
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
            },
        };
        let signing_key = keys::signing_key(&settings)?;
        let published = match &keys {
            KeySource::Ring { ring, .. } => Some(Arc::clone(ring)),
            // Publishing a static key is a convenience: a key that cannot be published still
            // signs, with a warning.
            _ => match keys::published_static_key(&settings) {
                Ok(key) => key
                    .and_then(|key| KeyRing::new(vec![key], 0).ok())
                    .map(|ring| Arc::new(SharedRing::new(ring))),
                Err(error) => {
                    log::warn!("jwt: the signing key's public part is not published: {error}");
                    None
                }
            },
        };
        if let Some(warning) = keys::short_secret_warning(&settings, &accepted) {
            log::warn!("{warning}");
        }
        let rules = Policy::new(&settings, accepted);
        Ok(TokenCodec {
            signing_key,
            keys,
            published,
            verified: VerifiedTokens::new(if rules.signature {
                settings.token_cache_entries
            } else {
                0
            }),
            rules,
            settings,
        })
    }

    /// The settings this codec was built from.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The JWKS cache, when keys come from one.
    pub(crate) fn jwks(&self) -> Option<&Jwks> {
        match &self.keys {
            KeySource::Jwks(jwks) => Some(jwks),
            KeySource::Static(_) | KeySource::Ring { .. } => None,
        }
    }

    /// With a key directory, starts looking at it every second for as long as the ring lives
    /// (called once, at ignition, within the runtime).
    pub(crate) fn watch_key_directory(&self) {
        if let (KeySource::Ring { ring, listing, .. }, Some(directory)) =
            (&self.keys, &self.settings.signing_keys_dir)
        {
            tokio::spawn(keys::ring::directory::watch(
                directory.into(),
                verifies_for(&self.settings),
                Arc::downgrade(ring),
                listing.clone(),
            ));
        }
    }

    /// The key ring as it is now, when keys come from one (`signing_keys_dir`): the
    /// inspector shows a token's key's state from it.
    pub fn key_ring(&self) -> Option<Arc<KeyRing>> {
        self.ring().map(|ring| ring.load())
    }

    /// The keys served as a JWKS: the key ring, or the static asymmetric signing key alone;
    /// `None` for an HMAC secret.
    pub(crate) fn published_keys(&self) -> Option<&Arc<SharedRing>> {
        self.published.as_ref()
    }

    /// The key ring, when keys come from one (`signing_keys_dir`).
    pub(crate) fn ring(&self) -> Option<&Arc<SharedRing>> {
        match &self.keys {
            KeySource::Ring { ring, .. } => Some(ring),
            _ => None,
        }
    }

    /// Signs `claims` with the configured key and algorithm (with a key ring, its current key,
    /// named by `kid`). `extra_headers` are added to the header after `typ` and `alg` (which they
    /// cannot replace).
    pub fn encode(&self, claims: &Payload, extra_headers: &Payload) -> Result<String, JwtError> {
        if let Some(ring) = self.ring() {
            let ring = ring.load();
            let key = ring.current(crate::claims::now()).ok_or_else(|| {
                JwtError::internal("no key of the signing key ring signs now (signing_keys_dir)")
            })?;
            let mut headers = extra_headers.clone();
            headers.insert("kid".into(), Value::String(key.kid().to_owned()));
            return crate::token::encode::sign(key.signer(), claims, &headers);
        }
        let key = self.signing_key.as_ref().ok_or_else(|| {
            JwtError::internal(
                "no signing key is configured: set `secret_key` or `private_key` to issue tokens",
            )
        })?;
        crate::token::encode::sign(key, claims, extra_headers)
    }

    /// Flask-JWT's default payload for an identity value: the identity claim (`identity` unless
    /// configured otherwise), `iat`, `nbf`, `exp`.
    pub fn default_payload(&self, identity: Value) -> Payload {
        crate::token::encode::default_payload(&self.settings, identity)
    }

    /// The claims `required_claims` names that `payload` lacks (Flask-JWT refuses to sign those).
    pub fn missing_required_claims(&self, payload: &Payload) -> Vec<&str> {
        crate::token::encode::missing_required_claims(&self.settings, payload)
    }

    /// Reads the claims of every token whole into a payload at once (see
    /// [`Policy::whole_claims`]).
    pub(crate) fn read_whole_claims(&mut self) {
        self.rules.whole_claims = true;
    }

    /// Validates `token` and returns its claims, or the first check it fails: the five checks,
    /// then the claim requirements of every route (RFC 9068's under `strict_access_tokens`, the
    /// extended profile's `jti` and identity claim).
    ///
    /// No I/O: with a JWKS, only keys already fetched are used; [`verify`](Self::verify) fetches.
    pub fn decode(&self, token: &str) -> Result<Payload, JwtError> {
        Ok(self.decode_shared(token)?.claims.to_payload())
    }

    /// [`decode`](Self::decode), fetching the JWKS when the token's key is not held or the key
    /// set expired.
    pub async fn verify(&self, token: &str) -> Result<Payload, JwtError> {
        Ok(self.verify_shared(token).await?.claims.to_payload())
    }

    /// [`decode`](Self::decode), sharing the claims and header with the verified-token cache.
    fn decode_shared(&self, token: &str) -> Result<Checked, JwtError> {
        let now = now();
        match self.cached(token, now)? {
            Some(claims) => Ok(claims),
            None => self.validate_now(token, now),
        }
    }

    /// The verified-token cache, then the pipeline; the request path uses this.
    async fn verify_shared(&self, token: &str) -> Result<Checked, JwtError> {
        let now = now();
        match self.cached(token, now)? {
            Some(claims) => Ok(claims),
            None => self.validate(token, now).await,
        }
    }

    /// The pipeline without a future, for a token not in the verified-token cache: with static
    /// keys or a key ring, the whole validation; with a JWKS, only keys already held are used.
    pub(crate) fn validate_now(&self, token: &str, now: i64) -> Result<Checked, JwtError> {
        let generation = self.keys.generation();
        let validated = validate::run_now(&self.rules, &self.keys, token, now, &mut Stop);
        self.conclude(token, generation, validated)
    }

    /// Whether [`validate_now`](Self::validate_now) decides for every token: its keys are never
    /// fetched.
    pub(crate) fn validates_now(&self) -> bool {
        self.keys.is_local()
    }

    /// The pipeline for a token not in the verified-token cache, then the cache for a token that
    /// passed. With keys that are never fetched it runs without awaiting; with a JWKS the
    /// pipeline, which may wait for a fetch, runs in a future of its own, so that a request's
    /// future stays small on the paths that never fetch.
    pub(crate) async fn validate(&self, token: &str, now: i64) -> Result<Checked, JwtError> {
        match self.validates_now() {
            true => self.validate_now(token, now),
            false => Box::pin(self.run(token, now)).await,
        }
    }

    /// The pipeline, fetching keys as needed, and [`conclude`](Self::conclude).
    async fn run(&self, token: &str, now: i64) -> Result<Checked, JwtError> {
        let generation = self.keys.generation();
        let validated = validate::run(&self.rules, &self.keys, token, now, &mut Stop).await;
        self.conclude(token, generation, validated)
    }

    /// After the pipeline: the claim requirements of every route, then the verified-token cache
    /// for a token that passed both (`generation`: the key set's when the pipeline began).
    fn conclude(
        &self,
        token: &str,
        generation: u64,
        validated: Result<Option<Validated>, JwtError>,
    ) -> Result<Checked, JwtError> {
        let validated = validated?
            .ok_or_else(|| JwtError::internal("token validation ended without a result"))?;
        // The claim requirements of every route, before the cache: a hit needs them no more.
        claim_checks::check(&validated.claims, &self.settings)?;
        let claims = Arc::new(validated.claims);
        let header = validated.header;
        let dpop_bound = validated.dpop_bound;
        let refresh = claims.is_refresh();
        if let (Some(cache), Some((kid, algorithm)), Some(window)) =
            (&self.verified, validated.key, validated.window)
            && token.len() <= self.rules.max_token_bytes
        {
            cache.insert(
                token,
                Verified {
                    payload: Arc::clone(&claims),
                    header: Arc::clone(&header),
                    window,
                    kid,
                    algorithm,
                    generation,
                    dpop_bound,
                    refresh,
                },
            );
        }
        Ok(Checked {
            claims,
            header,
            dpop_bound,
            from_cache: false,
            refresh,
        })
    }

    /// The claims of `token` if it is in the verified-token cache under a key that is still
    /// current, with its validity period checked again at `now` (a hit never extends validity).
    pub(crate) fn cached(&self, token: &str, now: i64) -> Result<Option<Checked>, JwtError> {
        let Some(cache) = &self.verified else {
            return Ok(None);
        };
        if token.len() > self.rules.max_token_bytes {
            return Ok(None);
        }
        let current = |hit: &Verified| {
            self.keys
                .is_current(hit.kid.as_deref(), hit.algorithm, hit.generation)
        };
        match cache.get(token, current) {
            Some(hit) => {
                validity::recheck(&self.rules.time, &hit.window, now)?;
                Ok(Some(Checked {
                    claims: Arc::clone(&hit.payload),
                    header: Arc::clone(&hit.header),
                    dpop_bound: hit.dpop_bound,
                    from_cache: true,
                    refresh: hit.refresh,
                }))
            }
            None => Ok(None),
        }
    }

    /// Makes sure the JWKS holds a current key for `token`'s `kid` and `alg`, fetching it the way
    /// the request path does (on expiry, or an unknown `kid` past the cooldown). Used before a
    /// custom decode callback, which validates with [`decode`](Self::decode) and so never fetches.
    pub(crate) async fn prefetch_key(&self, token: &str) {
        let KeySource::Jwks(jwks) = &self.keys else {
            return;
        };
        let Ok(segments) = validate::well_formed::segments(&self.rules, token) else {
            return;
        };
        let header = &segments.header;
        if let Ok(algorithm) = validate::signature::algorithm(&self.rules.accepted, header) {
            // A failure here is the decode callback's to report, with the same cached state.
            let _ = Box::pin(jwks.key(header.kid(), algorithm)).await;
        }
    }

    /// How many verified tokens are cached (0 when the cache is off).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn cached_tokens(&self) -> usize {
        self.verified.as_ref().map_or(0, VerifiedTokens::len)
    }

    #[cfg(any(test, feature = "testing"))]
    /// Check 1's parsing alone (segments, header, base64url of claims and signature): what the
    /// pipeline does before any key is involved. Returns the header.
    pub(crate) fn parse(&self, token: &str) -> Result<Arc<Payload>, JwtError> {
        let segments = validate::well_formed::segments(&self.rules, token)?;
        validate::well_formed::decode(&segments)?;
        Ok(segments.header.fields)
    }

    /// The header and claims of `token` as check 1 decodes them, verifying nothing; `None` for a
    /// part that does not decode (the claims, when they are not a JSON object).
    pub(crate) fn decoded_parts(&self, token: &str) -> (Option<Payload>, Option<Payload>) {
        let Ok(segments) = validate::well_formed::segments(&self.rules, token) else {
            return (None, None);
        };
        let claims = validate::well_formed::decode(&segments)
            .ok()
            .and_then(|(claims, _)| validate::well_formed::claims(claims, true).ok())
            .map(TokenClaims::into_payload);
        (Some(Payload::clone(&segments.header.fields)), claims)
    }

    /// The token's header, as check 1 reads and checks it; the claims and signature segments
    /// are not decoded.
    pub(crate) fn header(&self, token: &str) -> Result<Arc<Payload>, JwtError> {
        Ok(validate::well_formed::segments(&self.rules, token)?
            .header
            .fields)
    }

    /// The rules and keys, for the inspector.
    pub(crate) fn parts(&self) -> (&Policy, &KeySource) {
        (&self.rules, &self.keys)
    }
}

/// The JWKS to use, if `jwks_url` or `authority` is set. Keys from a JWKS are asymmetric only, and
/// exclusive of a configured public key.
/// The key ring of `signing_keys_dir`, with the static keys of a migration window beside it;
/// `accepted` becomes every asymmetric algorithm a ring key may have (a key is bound to its own),
/// and the static keys' algorithms during the window.
fn key_ring(
    settings: &Settings,
    accepted: &mut Vec<Algorithm>,
) -> Result<Option<KeySource>, SettingsError> {
    if settings.signing_keys_dir.is_none() && settings.key_rotation_period.is_none() {
        return Ok(None);
    }
    let invalid = |setting, reason: String| SettingsError::Invalid { setting, reason };
    if settings.jwks_url.is_some() || settings.authority.is_some() {
        return Err(invalid(
            "signing_keys_dir",
            "a key ring verifies this application's own tokens: set it or a JWKS (`jwks_url` / \
             `authority`), not both"
                .into(),
        ));
    }
    let has_static = settings.secret_key.is_some() || settings.public_key.is_some();
    let static_until = match (has_static, settings.static_keys_until) {
        (true, Some(until)) => until,
        (true, None) => {
            return Err(invalid(
                "static_keys_until",
                "with signing_keys_dir, a static `secret_key` or `public_key` needs the time it \
                 stops verifying (seconds since the epoch): the end of the migration window"
                    .into(),
            ));
        }
        (false, _) => i64::MIN,
    };
    let static_keys = if has_static {
        accepted
            .iter()
            .map(|&algorithm| keys::static_verify_key(settings, algorithm))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        accepted.clear();
        Vec::new()
    };
    for algorithm in RING_ALGORITHMS {
        if !accepted.contains(&algorithm) {
            accepted.push(algorithm);
        }
    }
    let (ring, listing) = match &settings.signing_keys_dir {
        Some(directory) => {
            let (ring, refused, listing) = keys::ring::directory::read(
                std::path::Path::new(directory),
                verifies_for(settings),
            )
            .map_err(|reason| invalid("signing_keys_dir", reason))?;
            keys::ring::directory::log_refused(&refused);
            (ring, listing)
        }
        // The ring on Redis (`key_rotation_period`): read from Redis at ignition, before any
        // request.
        None => (
            KeyRing::new(Vec::new(), verifies_for(settings))
                .map_err(|e| invalid("key_rotation_period", e.to_string()))?,
            Default::default(),
        ),
    };
    Ok(Some(KeySource::Ring {
        ring: Arc::new(SharedRing::new(ring)),
        static_keys,
        static_until,
        listing,
    }))
}

/// How long a ring key verifies after its successor took over: the longest token lifetime
/// plus the leeway.
pub(crate) fn verifies_for(settings: &Settings) -> i64 {
    let longest = settings
        .expiration_delta
        .max(settings.refresh_token_expires)
        .max(settings.max_age.unwrap_or_default());
    (longest + settings.leeway).as_secs() as i64
}

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
        .find(|a| a.family() == AlgorithmFamily::Hmac)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Check, ErrorKind};
    use crate::settings::Secret;
    use crate::test_keys::*;
    use crate::token::validate::signature::VERIFICATIONS;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
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

    #[test]
    #[cfg(feature = "remote-keys")]
    fn authority_gives_the_issuer_and_the_jwks() {
        let codec = TokenCodec::new(Settings {
            algorithm: Algorithm::RS256,
            authority: Some("https://tenant.auth0.com/".into()),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(
            codec.rules.issuer.as_deref(),
            Some("https://tenant.auth0.com/")
        );
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

    /// Signatures checked on this thread since the last call.
    fn signature_checks(_codec: &TokenCodec) -> usize {
        VERIFICATIONS.with(|count| count.replace(0))
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
        assert!(codec.cached(&token, now).unwrap().is_some());
        // six seconds later the cached token has expired, and the hit says so
        let err = match codec.cached(&token, now + 6) {
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
            codec.cached(&token, now - 30).is_err(),
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
    fn claims_read_whole_or_member_by_member_give_the_same_answers() {
        let by_member = codec();
        let mut whole = codec();
        whole.read_whole_claims();
        let now = now();
        let good = by_member
            .encode(
                &claims(
                    json!({"identity": 1, "iat": now, "nbf": now, "exp": now + 60,
                               "user": {"roles": ["a"]}, "name": "caf\u{e9}"}),
                ),
                &Payload::new(),
            )
            .unwrap();
        let header = good.split('.').next().unwrap();
        let signed = |claims: &str| {
            let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
            let key = jsonwebtoken::EncodingKey::from_secret(b"super-secret");
            let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256);
            format!("{message}.{}", signature.unwrap())
        };
        let times = format!(r#""iat": {now}, "nbf": {now}, "exp": {}"#, now + 60);
        for token in [
            good.clone(),
            signed(&format!(r#"{{"identity": 1, {times}, "identity": 2}}"#)),
            signed(&format!(r#"{{"identity": 1, {times}, "n": 1e400}}"#)),
            signed(&format!(r#"{{"identity": 1, {times}, "sub": 7}}"#)),
            signed(&format!(r#"{{"identity": 1, {times}}} x"#)),
            signed("[1]"),
        ] {
            assert_eq!(by_member.decode(&token), whole.decode(&token), "{token}");
        }
        assert_eq!(
            by_member.decode(&good).unwrap()["user"],
            json!({"roles": ["a"]})
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
