//! [`Jwt`]: the fairing that resolves the settings at ignition, mounts the auth resource and
//! makes the extension available to the request guard.

use std::sync::Arc;

use jsonwebtoken::AlgorithmFamily;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::auth::AuthResource;
use crate::builder::JwtBuilder;
use crate::callbacks::Callbacks;
use crate::engine::Engine;
use crate::guard::Registered;
use crate::keys;
use crate::settings::{Settings, SettingsError};
use crate::token::TokenCodec;

/// Flask-JWT for Rocket: attach it with `rocket::build().attach(jwt)`.
///
/// At ignition it reads the `jwt` table of Rocket's configuration and the `JWT_*` environment
/// variables over the builder's settings, builds the keys (failing ignition with a message naming
/// the setting when one is missing or wrong), and mounts the auth resource at `auth_url_rule`.
pub struct Jwt<U> {
    settings: Settings,
    callbacks: Arc<Callbacks<U>>,
}

impl<U: Send + Sync + 'static> Jwt<U> {
    /// A builder with Flask-JWT 0.3.2's defaults.
    pub fn builder() -> JwtBuilder<U> {
        JwtBuilder::default()
    }

    pub(crate) fn new(settings: Settings, callbacks: Arc<Callbacks<U>>) -> Self {
        Jwt {
            settings,
            callbacks,
        }
    }

    /// The settings given in code (before Rocket's configuration is applied at ignition).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
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

/// Logs, once, that an HMAC secret shorter than its hash output was accepted because
/// `allow_short_secret` is set (the keys refuse it otherwise).
fn warn_short_secret(settings: &Settings) {
    let Some(secret) = &settings.secret_key else {
        return;
    };
    let length = secret.expose().len();
    let short = std::iter::once(settings.algorithm)
        .chain(settings.algorithms.iter().copied())
        .filter(|algorithm| algorithm.family() == AlgorithmFamily::Hmac)
        .map(|algorithm| (algorithm, keys::minimum_secret_bytes(algorithm)))
        .filter(|&(_, minimum)| length < minimum)
        .max_by_key(|&(_, minimum)| minimum);
    if let (true, Some((algorithm, minimum))) = (settings.allow_short_secret, short) {
        log::warn!(
            "jwt: INSECURE: the {algorithm:?} secret has {length} bytes, fewer than the {minimum} \
             its hash needs; accepted only because `allow_short_secret` is set. Rotate to a \
             random secret of {minimum}+ bytes"
        );
    }
}

#[rocket::async_trait]
impl<U: Send + Sync + 'static> Fairing for Jwt<U> {
    fn info(&self) -> Info {
        Info {
            name: "Flask-JWT",
            kind: Kind::Ignite,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let resolved = match self.settings.clone().with_rocket_config(rocket.figment()) {
            Ok(settings) => discover(settings).await.and_then(TokenCodec::new),
            Err(error) => Err(error),
        };
        let codec = match resolved {
            Ok(codec) => codec,
            Err(error) => {
                log::error!("jwt: {error}");
                return Err(rocket);
            }
        };
        if let Some(jwks) = codec.jwks() {
            let url = &jwks.config().url;
            match jwks.refresh().await {
                Ok(count) => log::info!("jwt: JWKS {url}: {count} signing key(s) loaded"),
                Err(error) => log::warn!(
                    "jwt: JWKS {url}: first fetch FAILED ({error}); requests will retry the fetch \
                     and fail until it succeeds"
                ),
            }
        }
        let settings = codec.settings();
        warn_short_secret(settings);
        if !settings.verify {
            log::warn!("jwt: `verify` is false: tokens are NOT verified; never run like this in production");
        }
        let auth_route = settings
            .auth_url_rule
            .clone()
            .map(|rule| (rule, settings.auth_endpoint.clone()));
        let engine = Arc::new(Engine {
            codec,
            callbacks: Arc::clone(&self.callbacks),
        });
        let mut rocket = rocket.manage(Registered(engine.clone()));
        if let Some((rule, endpoint)) = auth_route {
            rocket = rocket.mount("/", vec![AuthResource::route(engine, &rule, endpoint)]);
        }
        Ok(rocket)
    }
}
