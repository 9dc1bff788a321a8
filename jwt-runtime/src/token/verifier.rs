//! [`Verifier`]: an application's token validation as the fairing resolves it at ignition — OIDC
//! discovery, then one codec, or with several trusted authorities a codec each — and the one
//! verdict on a token that does not depend on the route: the five checks and the claim
//! requirements of every route. The request flow asks it before the route's own demands; the
//! inspector asks it for its report, so both refuse the same tokens with the same check.

use crate::claims::Payload;
use crate::error::JwtError;
use crate::settings::{Settings, SettingsError};
use crate::token::authorities::{self, Authorities};
use crate::token::codec::{Checked, TokenCodec};
use crate::token::inspect::Inspection;

/// The resolved token validation of an application's settings.
///
/// [`Jwt`](crate::Jwt) resolves one at ignition from the configured settings; `jwt-inspect` and
/// tests resolve one the same way with [`Verifier::resolve`].
pub struct Verifier {
    codec: TokenCodec,
    authorities: Option<Authorities>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("codec", &self.codec)
            .field("authorities", &self.authorities.is_some())
            .finish()
    }
}

impl Verifier {
    /// Resolves `settings` as the fairing does at ignition: with `oidc_discovery`, the JWKS URL
    /// from the authority's `openid-configuration` (its `issuer` checked); then the keys, of the
    /// settings or of each trusted authority. No key set is fetched yet: see
    /// [`load_keys`](Self::load_keys).
    pub async fn resolve(settings: Settings) -> Result<Verifier, SettingsError> {
        let (codec, authorities) = authorities::resolve(discover(settings).await?)?;
        Ok(Verifier { codec, authorities })
    }

    /// The settings; with several authorities, those of the first (its issuer and keys), which
    /// stand for the application's profile, header and signing settings.
    pub fn settings(&self) -> &Settings {
        self.codec.settings()
    }

    /// The codec of the settings, which signs the application's tokens; with several
    /// authorities, the first authority's.
    pub fn codec(&self) -> &TokenCodec {
        &self.codec
    }

    /// The first fetch of each key set (the settings' JWKS, or each authority's), logged; a
    /// failure is logged and left to the requests, which fetch again.
    pub async fn load_keys(&self) {
        let codecs: Vec<(Option<&str>, &TokenCodec)> = match &self.authorities {
            None => vec![(None, &self.codec)],
            Some(authorities) => authorities
                .codecs()
                .map(|(name, codec)| (Some(name), codec))
                .collect(),
        };
        for (name, codec) in codecs {
            codec.watch_key_directory();
            let Some(jwks) = codec.jwks() else { continue };
            let whose = name
                .map(|name| format!("authority {name}: "))
                .unwrap_or_default();
            let url = &jwks.config().url;
            match jwks.refresh().await {
                Ok(count) => log::info!("jwt: {whose}JWKS {url}: {count} signing key(s) loaded"),
                Err(error) => log::warn!(
                    "jwt: {whose}JWKS {url}: first fetch FAILED ({error}); requests will retry the \
                     fetch and fail until it succeeds"
                ),
            }
        }
    }

    /// Validates `token` as every route does before its own demands: the five checks (with the
    /// keys of the authority its `iss` names, when there are several) and the claim requirements
    /// of every route. Keys are fetched as needed.
    pub async fn verify(&self, token: &str) -> Result<Payload, JwtError> {
        self.codec_for(token, &[])?.verify(token).await
    }

    /// Inspects `token`: every check run and reported, as [`TokenCodec::inspect`], with the
    /// keys of the authority its `iss` names when there are several. Its verdict (accepted, or
    /// the first check that failed) is the request path's for a route without demands of its
    /// own.
    pub async fn inspect(&self, token: &str) -> Inspection {
        match self.codec_for(token, &[]) {
            Ok(codec) => codec.inspect(token).await,
            Err(error) => {
                let (header, claims) = self.codec.decoded_parts(token);
                Inspection::refused(error, header, claims)
            }
        }
    }

    /// Every codec with the name the metrics give it: `default` for the one codec, else each
    /// trusted authority's name.
    pub(crate) fn codecs(&self) -> Vec<(&str, &TokenCodec)> {
        match &self.authorities {
            None => vec![("default", &self.codec)],
            Some(authorities) => authorities.codecs().collect(),
        }
    }

    /// Reads the claims of every token whole into a payload at once, in every codec: for an
    /// application whose callbacks read the payload of every token.
    pub(crate) fn read_whole_claims(&mut self) {
        self.codec.read_whole_claims();
        for codec in self
            .authorities
            .iter_mut()
            .flat_map(Authorities::codecs_mut)
        {
            codec.read_whole_claims();
        }
    }

    /// The codec that validates `token`: the one codec, or that of the trusted authority its
    /// `iss` names, if the route (`allowed`, empty for any) accepts it. No I/O.
    pub(crate) fn codec_for(&self, token: &str, allowed: &[&str]) -> Result<&TokenCodec, JwtError> {
        match &self.authorities {
            None => Ok(&self.codec),
            Some(authorities) => authorities.select(token, allowed),
        }
    }

    /// `token`'s header and claims once through the five checks, for a route accepting the
    /// authorities `allowed` (empty for any): from a verified-token cache, or the pipeline,
    /// fetching keys when needed. With several authorities, the caches of those the route
    /// accepts are asked first, and only a token none of them holds has its `iss` read to
    /// choose the authority that validates it. The claim requirements are the caller's.
    pub(crate) async fn checked(
        &self,
        token: &str,
        allowed: &[&str],
        now: i64,
    ) -> Result<Checked, JwtError> {
        // One await point, so that the request's future stays small.
        match self.cached(token, allowed, now)? {
            Cached::Hit(hit) => Ok(hit),
            Cached::Miss(codec) => codec.validate(token, now).await,
        }
    }

    /// [`checked`](Self::checked) without a future, where every codec validates without fetching
    /// ([`validates_now`](Self::validates_now)); with a JWKS, only the keys it holds are used.
    pub(crate) fn checked_now(
        &self,
        token: &str,
        allowed: &[&str],
        now: i64,
    ) -> Result<Checked, JwtError> {
        match self.cached(token, allowed, now)? {
            Cached::Hit(hit) => Ok(hit),
            Cached::Miss(codec) => codec.validate_now(token, now),
        }
    }

    /// Whether every codec's keys are never fetched (the settings' keys, a key ring): then
    /// [`checked_now`](Self::checked_now) decides every token as [`checked`](Self::checked) does.
    pub(crate) fn validates_now(&self) -> bool {
        self.codecs()
            .into_iter()
            .all(|(_, codec)| codec.validates_now())
    }

    /// `token` from a verified-token cache, or the codec that validates it.
    fn cached(&self, token: &str, allowed: &[&str], now: i64) -> Result<Cached<'_>, JwtError> {
        let codec = match &self.authorities {
            None => &self.codec,
            Some(authorities) => {
                if let Some(hit) = authorities.cached(token, allowed, now)? {
                    return Ok(Cached::Hit(hit));
                }
                return Ok(Cached::Miss(authorities.select(token, allowed)?));
            }
        };
        Ok(match codec.cached(token, now)? {
            Some(hit) => Cached::Hit(hit),
            None => Cached::Miss(codec),
        })
    }
}

/// Where a token's verification stands after the caches were asked.
enum Cached<'v> {
    Hit(Checked),
    Miss(&'v TokenCodec),
}

/// With `oidc_discovery`, takes the JWKS URL from the authority's `openid-configuration`, after
/// checking that its `issuer` is the configured one.
async fn discover(mut settings: Settings) -> Result<Settings, SettingsError> {
    if !settings.oidc_discovery {
        return Ok(settings);
    }
    let invalid = |reason: String| SettingsError::Invalid {
        setting: "oidc_discovery",
        reason,
    };
    let authority = settings
        .authority
        .clone()
        .ok_or_else(|| invalid("needs `authority`".into()))?;
    let issuer = settings.issuer.clone().unwrap_or_else(|| authority.clone());
    let found = crate::jwks::discover(&authority, &issuer, settings.jwks_timeout, 256 * 1024)
        .await
        .map_err(|e| invalid(e.to_string()))?;
    log::info!(
        "jwt: OIDC discovery at {authority}: issuer {:?}, keys at {}",
        found.issuer,
        found.jwks_uri
    );
    settings.jwks_url.get_or_insert(found.jwks_uri);
    Ok(settings)
}
