//! [`Jwt`]: the fairing that resolves the settings at ignition, mounts the auth resource and
//! makes the extension available to the request guard; on response, it answers a request the
//! guard refused with the error callback's response.

use std::sync::Arc;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Data, Orbit, Request, Response, Rocket, Route};

use crate::app::auth::AuthResource;
use crate::app::builder::JwtBuilder;
use crate::app::refresh::RefreshResource;
use crate::http::callbacks::Callbacks;
use crate::http::engine::Engine;
use crate::http::engine::Registered;
use crate::http::rotation::Rotator;
use crate::revocation::{MemoryStore, Revocation, RevocationStore, Revoker};
use crate::settings::{CodeSettings, Profile, Settings};
use crate::telemetry::{Audit, RouteTable, Telemetry};
use crate::token::verifier::Verifier;

/// Flask-JWT for Rocket: attach it with `rocket::build().attach(jwt)`.
///
/// At ignition it reads the `jwt` table of Rocket's configuration and the `JWT_*` environment
/// variables over the builder's settings, builds the keys (failing ignition with a message naming
/// the setting when one is missing or wrong), and mounts the auth resource at `auth_url_rule`.
pub struct Jwt<U> {
    /// The settings given in code, resolved again at ignition under the configured profile.
    code: CodeSettings,
    /// `code` under the profile chosen in code.
    settings: Settings,
    callbacks: Arc<Callbacks<U>>,
}

impl Jwt<()> {
    /// A builder with Flask-JWT 0.3.2's defaults. Its identity type is `()` until an identity or
    /// authentication handler sets it, so an application with no user lookup names no type.
    pub fn builder() -> JwtBuilder<()> {
        JwtBuilder::default()
    }
}

impl<U: Send + Sync + 'static> Jwt<U> {
    pub(crate) fn new(
        code: CodeSettings,
        settings: Settings,
        callbacks: Arc<Callbacks<U>>,
    ) -> Self {
        Jwt {
            code,
            settings,
            callbacks,
        }
    }

    /// The settings given in code (before Rocket's configuration is applied at ignition).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

impl<U> Jwt<U> {
    /// The application's revocation store; with `refresh_token_rotation` on and neither a
    /// store nor `redis_url`, a [`MemoryStore`] of this instance's own for the families.
    fn rotation_store(&self, settings: &Settings) -> Option<Arc<dyn RevocationStore>> {
        let store = self.callbacks.revocation_store.clone();
        if store.is_none() && settings.refresh_token_rotation && settings.redis_url.is_none() {
            return Some(Arc::new(MemoryStore::new()));
        }
        store
    }
}

#[rocket::async_trait]
impl<U: Send + Sync + 'static> Fairing for Jwt<U> {
    fn info(&self) -> Info {
        Info {
            name: "Flask-JWT",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Request | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let in_code = |profile| Ok(self.code.under(profile));
        let resolved = match Settings::layered(&self.settings, in_code, rocket.figment()) {
            Ok(settings) => Verifier::resolve(settings).await,
            Err(error) => Err(error),
        };
        let mut verifier = match resolved {
            Ok(verifier) => verifier,
            Err(error) => {
                log::error!("jwt: {error}");
                return Err(rocket);
            }
        };
        if self.callbacks.read_every_payload() {
            verifier.read_whole_claims();
        }
        verifier.load_keys().await;
        let settings = verifier.settings();
        if !settings.verify {
            log::warn!("jwt: `verify` is false: tokens are NOT verified; never run like this in production");
        }
        let auth_route = settings
            .auth_url_rule
            .clone()
            .map(|rule| (rule, settings.auth_endpoint.clone()));
        let refresh_route = settings.refresh_url_rule.clone();
        if settings.profile == Profile::FlaskJwt && self.callbacks.identity.is_none() {
            log::error!("jwt: the Flask-JWT profile needs an identity_handler");
            return Err(rocket);
        }
        let telemetry = settings.metrics.then(|| Arc::new(Telemetry::default()));
        let audit = Audit::new(settings);
        let revocation = match Revocation::new(
            settings,
            self.rotation_store(settings),
            self.callbacks.loaders.token_in_blocklist.clone(),
            telemetry.clone(),
        ) {
            Ok(revocation) => revocation.map(Arc::new),
            Err(error) => {
                log::error!("jwt: {error}");
                return Err(rocket);
            }
        };
        if let Some(revocation) = &revocation {
            revocation.log_reachability().await;
        }
        let store = revocation
            .as_ref()
            .and_then(|revocation| revocation.store())
            .cloned();
        let revoker = store
            .as_ref()
            .map(|store| Revoker::new(Arc::clone(store), settings, telemetry.clone(), audit));
        let rotation = match store.clone().filter(|_| settings.refresh_token_rotation) {
            None => None,
            Some(store) => {
                let on_reuse = self.callbacks.refresh_token_reuse.clone();
                match Rotator::new(store, settings, on_reuse, telemetry.clone(), audit) {
                    Ok(rotator) => Some(rotator),
                    Err(error) => {
                        log::error!("jwt: {error}");
                        return Err(rocket);
                    }
                }
            }
        };
        let dpop = match crate::dpop::DpopVerifier::new(settings, store.as_ref()) {
            Ok(dpop) => dpop,
            Err(error) => {
                log::error!("jwt: {error}");
                return Err(rocket);
            }
        };
        let engine = Arc::new(Engine::new(
            verifier,
            Arc::clone(&self.callbacks),
            revocation,
            rotation,
            dpop,
            telemetry,
            audit,
        ));
        let metadata_route = crate::app::resource_metadata::route(engine.codec().settings());
        #[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
        if let Some(ring) = engine.codec().ring()
            && let Err(error) = crate::app::key_rotation::start(
                engine.codec().settings(),
                ring,
                engine.telemetry.clone(),
                engine.audit,
            )
            .await
        {
            log::error!("jwt: {error}");
            return Err(rocket);
        }
        let key_set_routes = engine
            .codec()
            .published_keys()
            .map(|keys| crate::app::key_set::routes(keys, engine.codec().settings()));
        let mut rocket = crate::http::catcher::register(rocket.manage(Registered(engine.clone())));
        if let Some(revoker) = revoker {
            rocket = rocket.manage(revoker);
        }
        #[cfg(feature = "metrics")]
        if let Some(route) = crate::app::metrics::route(engine.clone(), engine.codec().settings()) {
            rocket = rocket.mount("/", vec![route]);
        }
        #[cfg(feature = "otlp")]
        {
            rocket = crate::app::otlp::attach(rocket, engine.clone())?;
        }
        if let Some(route) = metadata_route {
            rocket = rocket.mount("/", vec![route]);
        }
        if let Some(routes) = key_set_routes {
            rocket = rocket.mount("/", routes);
        }
        if let Some(rule) = refresh_route {
            rocket = rocket.mount("/", vec![RefreshResource::route(engine.clone(), &rule)]);
        }
        if let Some((rule, endpoint)) = auth_route {
            rocket = rocket.mount("/", vec![AuthResource::route(engine, &rule, endpoint)]);
        }
        Ok(rocket)
    }

    /// With `metrics` on, the routes' table of the request counters, now that every route is
    /// mounted: each route's address, method and URI template.
    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(Registered(engine)) = rocket.state::<Registered>() else {
            return;
        };
        if let Some(telemetry) = engine.telemetry() {
            telemetry.set_routes(RouteTable::new(rocket.routes().map(|route| {
                (
                    route as *const Route as usize,
                    route.method.as_str().to_owned(),
                    route.uri.to_string(),
                )
            })));
        }
    }

    /// Keeps the start of a JSON or form body for the token's JSON location and the CSRF form
    /// field, which request guards cannot read.
    async fn on_request(&self, request: &mut Request<'_>, data: &mut Data<'_>) {
        crate::http::locations::peek_body(request, data).await;
    }

    /// A request the guard refused is answered with the error callback's response, in place of
    /// the catcher's.
    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let finishing = crate::http::finish::of(request);
        crate::http::guard::answer_refusal(finishing, request, response);
        // The JWT cookies' `Set-Cookie` lines, as Flask-JWT-Extended writes them.
        crate::http::finish::write_exact_lines(&finishing.cookies, response);
        crate::http::finish::write_nonce(finishing, response);
    }
}
