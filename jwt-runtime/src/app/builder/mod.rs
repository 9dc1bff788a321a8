//! [`JwtBuilder`]: Flask-JWT's settings and callbacks, set in code.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use rocket::Request;
use serde::Serialize;
use serde_json::Value;

use crate::app::fairing::Jwt;
use crate::authz::rules::Location;
use crate::claims::Payload;
use crate::error::{JwtError, JwtResponse};
use crate::http::callbacks::{
    identity_claim, in_place, off_the_workers, AuthRequest, Authentication, Callbacks,
    IdentityLookup, TokenVerification,
};
use crate::revocation::RevocationStore;
use crate::settings::{CodeSettings, KeyMaterial, Profile, Secret, Settings};
use crate::token::codec::TokenCodec;

mod callbacks;
mod dpop;
mod extended;
mod flask_settings;
mod resource_server;
mod revocation;

/// Why [`JwtBuilder::build`] refused to build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// No identity handler: protected routes could not say who the token belongs to.
    #[error("Jwt::builder() needs an identity_handler (or its _async or _blocking form): it maps a token's payload to the current identity")]
    MissingIdentityHandler,
    /// The auth resource is enabled but nothing can check a username and password.
    #[error("Jwt::builder() needs an authentication_handler (or its _async or _blocking form) for the auth resource, or disable_auth_url_rule() for an API that only validates tokens")]
    MissingAuthenticationHandler,
    /// A callback was given for one identity type, and a later identity or authentication
    /// handler returns another.
    #[error("Jwt::builder(): {callback} was given for the identity type {given}, but a later identity or authentication handler returns {later}: every callback must use one identity type")]
    IdentityTypeMismatch {
        /// The callback given for the first type.
        callback: &'static str,
        /// The identity type it was given for.
        given: &'static str,
        /// The identity type of the later handler.
        later: &'static str,
    },
    /// A setting holds a value this library does not know.
    #[error("{0}")]
    InvalidSetting(String),
}

/// Builds a [`Jwt`]: every Flask-JWT setting (with Flask-JWT's default) and every callback.
///
/// `U` is the identity type: what the authentication and identity callbacks return and what
/// `current_identity!()` gives back. [`Jwt::builder`] starts with `()` (no identity), and the
/// first identity or authentication handler sets it, so an application with no user lookup
/// names no type. Setters may come in any order: the profile ([`extended`](Self::extended))
/// lies under every setting, whenever it is chosen.
pub struct JwtBuilder<U> {
    settings: CodeSettings,
    callbacks: Callbacks<U>,
    /// A callback given for another identity type than the handlers', reported by `build()`.
    mismatch: Option<BuildError>,
}

impl<U: Send + Sync + 'static> Default for JwtBuilder<U> {
    fn default() -> Self {
        JwtBuilder {
            settings: CodeSettings::default(),
            callbacks: Callbacks::default(),
            mismatch: None,
        }
    }
}

impl<U: Send + Sync + 'static> JwtBuilder<U> {
    /// Checks that the required callbacks are present and returns the fairing to attach.
    ///
    /// The secret and keys may still come from Rocket's configuration, so they are checked at
    /// ignition, which fails with a message naming the setting.
    pub fn build(self) -> Result<Jwt<U>, BuildError> {
        if let Some(mismatch) = self.mismatch {
            return Err(mismatch);
        }
        let settings = self.settings.resolve();
        // Flask-JWT-Extended's user lookup is optional; Flask-JWT's identity handler is not.
        if self.callbacks.identity.is_none() && settings.profile == Profile::FlaskJwt {
            return Err(BuildError::MissingIdentityHandler);
        }
        let needs_authentication = settings.auth_url_rule.is_some()
            && self.callbacks.auth_request.is_none()
            && self.callbacks.encode.is_none();
        if needs_authentication && self.callbacks.authentication.is_none() {
            return Err(BuildError::MissingAuthenticationHandler);
        }
        settings
            .validate()
            .map_err(|e| BuildError::InvalidSetting(e.to_string()))?;
        Ok(Jwt::new(self.settings, settings, Arc::new(self.callbacks)))
    }

    /// The settings given so far, over the chosen profile's defaults (before Rocket's
    /// configuration is applied at ignition).
    pub fn current_settings(&self) -> Settings {
        self.settings.resolve()
    }

    /// This builder with the identity type `V`: the callbacks given for `U` are kept when `V`
    /// is `U`; otherwise `build()` reports the first of them.
    fn with_identity<V: Send + Sync + 'static>(self) -> JwtBuilder<V> {
        let (callbacks, dropped) = self.callbacks.for_identity::<V>();
        let mismatch = self.mismatch.or_else(|| {
            dropped.map(|callback| BuildError::IdentityTypeMismatch {
                callback,
                given: std::any::type_name::<U>(),
                later: std::any::type_name::<V>(),
            })
        });
        JwtBuilder {
            settings: self.settings,
            callbacks,
            mismatch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::RevocationKeyLayout;
    use crate::{revocation::MemoryStore, settings::ProtectedResource, settings::TrustedAuthority};
    use jsonwebtoken::Algorithm;

    /// Every settings setter, each with a value that is neither profile's default.
    fn every_setter<U: Send + Sync + 'static>(builder: JwtBuilder<U>) -> JwtBuilder<U> {
        let seconds = Duration::from_secs;
        builder
            .secret_key("a secret of thirty-two bytes or more")
            .private_key_pem("-----BEGIN PRIVATE KEY-----")
            .public_key_jwk(r#"{"kty":"OKP"}"#)
            .algorithms([Algorithm::ES256, Algorithm::EdDSA])
            .issuer("https://issuer.example/")
            .audience(["api"])
            .identity_claim("uid")
            .authority("https://issuer.example/")
            .jwks_url("https://issuer.example/keys")
            .max_token_bytes(4096)
            .expected_typ("at+jwt")
            .max_age(seconds(60))
            .allow_short_secret(true)
            .token_cache_entries(7)
            .detailed_errors(true)
            .default_realm("Admin")
            .auth_url_rule("/login")
            .auth_endpoint("login")
            .auth_username_key("user")
            .auth_password_key("pass")
            .algorithm(Algorithm::ES256)
            .leeway(seconds(10))
            .verify(false)
            .verify_expiration(false)
            .auth_header_prefix("JWT")
            .expiration_delta(seconds(300))
            .not_before_delta(seconds(5))
            .verify_claims(["signature"])
            .required_claims(["exp", "iat", "nbf"])
            .scope_claims(["scp"])
            .merge_scope_claims(true)
            .trusted_authorities([TrustedAuthority::new("a", "https://a.example/")])
            .strict_access_tokens(true)
            .protected_resource(ProtectedResource::new("https://api.example/"))
            .token_location([Location::Headers, Location::Cookies])
            .refresh_token_expires(seconds(60))
            .cookie_csrf_protect(false)
            .cookie_secure(true)
            .refresh_url_rule("/token/refresh")
            .redis_url("redis://127.0.0.1:1/")
            .redis_key_prefix("app:")
            .revocation_key_layout(RevocationKeyLayout::FlaskJwtExtended)
            .redis_ca_certificate("-----BEGIN CERTIFICATE-----")
            .redis_client_certificate("-----BEGIN CERTIFICATE-----", "key")
            .redis_cluster(true)
            .revocation_fail_open(true)
            .revocation_near_cache(false)
            .revocation_timeout(seconds(2))
            .revocation_store(MemoryStore::new())
    }

    #[test]
    fn the_profile_chosen_before_or_after_every_setter_gives_the_same_settings() {
        let before = every_setter(Jwt::builder().extended()).current_settings();
        let after = every_setter(Jwt::builder()).extended().current_settings();
        assert_eq!(before, after);
        assert_eq!(after.profile, Profile::Extended);
        // Values equal to Flask-JWT's defaults, set in code, survive the extended profile.
        assert_eq!(after.leeway, Duration::from_secs(10));
        assert_eq!(after.auth_header_prefix, "JWT");
        assert_eq!(after.expiration_delta, Duration::from_secs(300));
        assert_eq!(after.token_location, [Location::Headers, Location::Cookies]);
        assert_eq!(after.auth_url_rule.as_deref(), Some("/login"));
    }

    #[test]
    fn a_secret_given_before_the_profile_is_kept() {
        let jwt = Jwt::builder()
            .secret_key("a secret of thirty-two bytes or more")
            .extended()
            .build()
            .expect("the extended profile needs no callback");
        let secret = jwt.settings().secret_key.as_ref().map(Secret::expose);
        assert_eq!(secret, Some("a secret of thirty-two bytes or more"));
    }

    #[test]
    fn access_token_expires_is_expiration_delta() {
        let set = Jwt::builder().access_token_expires(Duration::from_secs(60));
        assert_eq!(
            set.current_settings().expiration_delta,
            Duration::from_secs(60)
        );
    }

    #[derive(Serialize)]
    struct User {
        id: u64,
    }

    #[test]
    fn the_first_handler_sets_the_identity_type_and_later_ones_keep_it() {
        let builder = Jwt::builder()
            .authentication_handler(|_, _| Some(User { id: 1 }))
            .payload_handler(|user: &User, _| Payload::from_iter([("id".into(), user.id.into())]))
            .identity_handler(|_| Some(User { id: 1 }));
        let callbacks = &builder.callbacks;
        assert!(callbacks.authentication.is_some() && callbacks.payload.is_some());
        assert!(builder.build().is_ok());
    }

    #[test]
    fn callbacks_of_two_identity_types_are_refused_at_build() {
        let error = Jwt::builder()
            .authentication_handler(|_, _| Some(User { id: 1 }))
            .identity_handler(|_| Some(String::from("joe")))
            .build()
            .err();
        assert!(
            matches!(
                error,
                Some(BuildError::IdentityTypeMismatch {
                    callback: "authentication_handler",
                    ..
                })
            ),
            "{error:?}"
        );
    }
}
