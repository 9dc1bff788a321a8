//! [`Jwt`]: the fairing that resolves the settings at ignition, mounts the auth resource and
//! makes the extension available to the request guard.

use std::sync::Arc;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::auth::AuthResource;
use crate::builder::JwtBuilder;
use crate::callbacks::Callbacks;
use crate::engine::Engine;
use crate::guard::Registered;
use crate::settings::Settings;
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

#[rocket::async_trait]
impl<U: Send + Sync + 'static> Fairing for Jwt<U> {
    fn info(&self) -> Info {
        Info {
            name: "Flask-JWT",
            kind: Kind::Ignite,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let resolved = self
            .settings
            .clone()
            .with_rocket_config(rocket.figment())
            .and_then(TokenCodec::new);
        let codec = match resolved {
            Ok(codec) => codec,
            Err(error) => {
                log::error!("jwt: {error}");
                return Err(rocket);
            }
        };
        let settings = codec.settings();
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
