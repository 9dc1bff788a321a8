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

    // ----- callbacks -------------------------------------------------------------------------

    /// `authentication_handler(username, password)`: the identity for valid credentials, `None`
    /// otherwise. The default payload handler puts the identity's `id` field (or the identity
    /// itself, when it is a number or string) in the `identity` claim. Its return type sets the
    /// identity type.
    ///
    /// It runs on one of Rocket's async workers and must not block (no synchronous database
    /// driver, no sleep): a lookup that waits is given with
    /// [`authentication_handler_async`](Self::authentication_handler_async) (it awaits) or
    /// [`authentication_handler_blocking`](Self::authentication_handler_blocking) (it blocks,
    /// off the workers).
    pub fn authentication_handler<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&str, &str) -> Option<V> + Send + Sync + 'static,
        V: Serialize + Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.authentication = Some(Authentication::Sync(Box::new(f)));
        builder.callbacks.identity_claim = Some(identity_claim::<V>);
        builder
    }

    /// The async form of [`authentication_handler`](Self::authentication_handler), for a
    /// lookup that awaits a database.
    pub fn authentication_handler_async<V, F, Fut>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(String, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<V>> + Send + 'static,
        V: Serialize + Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.authentication = Some(Authentication::Async(Box::new(move |u, p| {
            Box::pin(f(u, p))
        })));
        builder.callbacks.identity_claim = Some(identity_claim::<V>);
        builder
    }

    /// [`authentication_handler`](Self::authentication_handler) for a callback that blocks (a
    /// synchronous database driver): each call runs on Tokio's blocking threads
    /// (`spawn_blocking`), so a slow lookup holds up its own login and not the other requests.
    /// A panic in it is answered 500, as in any callback.
    pub fn authentication_handler_blocking<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&str, &str) -> Option<V> + Send + Sync + 'static,
        V: Serialize + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.authentication_handler_async(move |username, password| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&username, &password))
        })
    }

    /// `identity_handler(payload)`: the identity a valid token belongs to, `None` when no one
    /// (answered `401 Invalid JWT / User does not exist`). Its return type sets the identity
    /// type.
    ///
    /// It runs on one of Rocket's async workers, on every protected request, and must not block
    /// (no synchronous database driver, no sleep): while it blocks, that worker serves no other
    /// request. A lookup that waits is given with
    /// [`identity_handler_async`](Self::identity_handler_async) (it awaits) or
    /// [`identity_handler_blocking`](Self::identity_handler_blocking) (it blocks, off the
    /// workers).
    pub fn identity_handler<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&Payload) -> Option<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.identity = Some(IdentityLookup::Sync(Box::new(f)));
        builder
    }

    /// The async form of [`identity_handler`](Self::identity_handler).
    pub fn identity_handler_async<V, F, Fut>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(Payload) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<V>> + Send + 'static,
        V: Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.identity = Some(IdentityLookup::Async(Box::new(move |payload| {
            Box::pin(f(payload))
        })));
        builder
    }

    /// [`identity_handler`](Self::identity_handler) for a callback that blocks (a synchronous
    /// database driver): each call runs on Tokio's blocking threads (`spawn_blocking`), so a
    /// slow lookup holds up its own request and not the others. A panic in it is answered 500,
    /// as in any callback.
    pub fn identity_handler_blocking<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&Payload) -> Option<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.identity_handler_async(move |payload| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&payload))
        })
    }

    /// Like [`identity_handler`](Self::identity_handler), given only the value of the identity
    /// claim (`identity_claim`: `identity` by default, `sub` for OIDC tokens). A token without
    /// that claim is refused as `Token is missing the "<claim>" claim`.
    ///
    /// As the identity handler, it runs on an async worker and must not block; see
    /// [`identity_from_claim_async`](Self::identity_from_claim_async) and
    /// [`identity_from_claim_blocking`](Self::identity_from_claim_blocking).
    pub fn identity_from_claim<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&Value) -> Option<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.identity = Some(IdentityLookup::SyncClaim(Box::new(f)));
        builder
    }

    /// The async form of [`identity_from_claim`](Self::identity_from_claim).
    pub fn identity_from_claim_async<V, F, Fut>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<V>> + Send + 'static,
        V: Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.identity = Some(IdentityLookup::AsyncClaim(Box::new(move |value| {
            Box::pin(f(value))
        })));
        builder
    }

    /// [`identity_from_claim`](Self::identity_from_claim) for a callback that blocks: each call
    /// runs on Tokio's blocking threads (`spawn_blocking`), as
    /// [`identity_handler_blocking`](Self::identity_handler_blocking)'s.
    pub fn identity_from_claim_blocking<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&Value) -> Option<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.identity_from_claim_async(move |value| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&value))
        })
    }

    /// `jwt_payload_handler(identity)`: the claims of issued tokens. Default: `identity` (the
    /// identity's id), `iat` (now), `nbf` (`iat + not_before_delta`), `exp`
    /// (`iat + expiration_delta`), as integer seconds.
    ///
    /// It runs on one of Rocket's async workers and must not block; one that does is given with
    /// [`payload_handler_blocking`](Self::payload_handler_blocking).
    pub fn payload_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &Settings) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.payload = Some(Box::new(f));
        self
    }

    /// [`payload_handler`](Self::payload_handler) for a callback that blocks. There is no async
    /// form: the handler borrows the identity and the settings while the token is signed, in a
    /// step that does not await. It runs in Tokio's `block_in_place`, which hands the worker's
    /// other requests to another thread while it blocks; on a current-thread runtime (not
    /// Rocket's) it runs as the plain form does.
    pub fn payload_handler_blocking<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &Settings) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.payload = Some(Box::new(move |identity, settings| {
            in_place(|| f(identity, settings))
        }));
        self
    }

    /// `jwt_headers_handler(identity)`: extra header fields of issued tokens (e.g. `kid`).
    /// Default: none. `typ` and `alg` cannot be replaced.
    pub fn headers_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &Settings) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.headers = Some(Box::new(f));
        self
    }

    /// `jwt_encode_handler(identity)`: the whole token. Default: the payload and headers
    /// handlers' output, signed with the configured key ([`TokenCodec::encode`]).
    pub fn encode_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &TokenCodec) -> Result<String, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.encode = Some(Box::new(f));
        self
    }

    /// `jwt_decode_handler(token)`: the payload of a presented token. Default:
    /// [`TokenCodec::decode`], which validates it.
    pub fn decode_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, &TokenCodec) -> Result<Payload, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.decode = Some(Box::new(f));
        self
    }

    /// `request_handler()`: finds the token in a request; `Ok(None)` when there is none.
    /// Default: `Authorization: <auth_header_prefix> <token>`.
    pub fn request_handler<F>(mut self, f: F) -> Self
    where
        F: for<'r> Fn(&'r Request<'_>) -> Result<Option<String>, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.request = Some(Box::new(f));
        self
    }

    /// `auth_response_handler(access_token, identity)`: the auth resource's success response.
    /// Default: `200 {"access_token": "<token>"}`.
    pub fn auth_response_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, &U) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.auth_response = Some(Box::new(f));
        self
    }

    /// `auth_request_handler()`: replaces the whole auth resource; it receives the JSON body.
    /// Deprecated in Flask-JWT and kept for migrations; prefer the other callbacks.
    ///
    /// It runs on one of Rocket's async workers and must not block; see
    /// [`auth_request_handler_async`](Self::auth_request_handler_async) and
    /// [`auth_request_handler_blocking`](Self::auth_request_handler_blocking).
    pub fn auth_request_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Result<JwtResponse, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.auth_request = Some(AuthRequest::Sync(Box::new(f)));
        self
    }

    /// The async form of [`auth_request_handler`](Self::auth_request_handler): it receives the
    /// JSON body by value.
    pub fn auth_request_handler_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JwtResponse, JwtError>> + Send + 'static,
    {
        self.callbacks.auth_request =
            Some(AuthRequest::Async(Box::new(move |body| Box::pin(f(body)))));
        self
    }

    /// [`auth_request_handler`](Self::auth_request_handler) for a callback that blocks: each
    /// call runs on Tokio's blocking threads (`spawn_blocking`), off the async workers.
    pub fn auth_request_handler_blocking<F>(self, f: F) -> Self
    where
        F: Fn(&Value) -> Result<JwtResponse, JwtError> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.auth_request_handler_async(move |body| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&body))
        })
    }

    /// `jwt_error_handler(error)`: the response for every failure (status, body, headers).
    /// Default: `{"status_code", "error", "description"}` JSON with the error's status and
    /// headers ([`JwtError::to_response`]).
    pub fn error_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&JwtError) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.error = Some(Box::new(f));
        self
    }

    // ----- settings --------------------------------------------------------------------------

    /// `JWT_SECRET_KEY`: the HMAC secret (HS* algorithms).
    pub fn secret_key(mut self, secret: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.secret_key, Some(Secret::new(secret)));
        self
    }

    /// PEM private key for signing with RS*, PS*, ES* or EdDSA.
    pub fn private_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.private_key, Some(KeyMaterial::Pem(pem.into())));
        self
    }

    /// DER private key for signing with RS*, PS*, ES* or EdDSA.
    pub fn private_key_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.settings
            .set(|s| &mut s.private_key, Some(KeyMaterial::Der(der.into())));
        self
    }

    /// PEM public key for verifying RS*, PS*, ES* or EdDSA tokens.
    pub fn public_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.public_key, Some(KeyMaterial::Pem(pem.into())));
        self
    }

    /// DER public key for verifying RS*, PS*, ES* or EdDSA tokens.
    pub fn public_key_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.settings
            .set(|s| &mut s.public_key, Some(KeyMaterial::Der(der.into())));
        self
    }

    /// Public key as a JSON Web Key, for verifying RS*, PS*, ES* or EdDSA tokens.
    pub fn public_key_jwk(mut self, jwk: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.public_key, Some(KeyMaterial::Jwk(jwk.into())));
        self
    }

    /// Algorithms accepted on presented tokens (default: `algorithm` alone).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.settings
            .set(|s| &mut s.algorithms, algorithms.into_iter().collect());
        self
    }

    /// Expected `iss`, exactly (trailing slash included); makes `iss` required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.issuer, Some(issuer.into()));
        self
    }

    /// Accepted `aud` values (one must match); makes `aud` required.
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.set(
            |s| &mut s.audience,
            audience.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// The claim that holds the identity (default `identity`; `sub` for OIDC tokens).
    pub fn identity_claim(mut self, claim: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.identity_claim, claim.into());
        self
    }

    /// The token issuer's base URL, e.g. `https://tenant.auth0.com/`: keys from its JWKS, and the
    /// default `issuer`. Needs the `remote-keys` feature (without it, ignition fails saying so).
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.authority, Some(authority.into()));
        self
    }

    /// A JWKS URL to take verification keys from. Needs the `remote-keys` feature (without it,
    /// ignition fails saying so).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.jwks_url, Some(url.into()));
        self
    }

    /// Tokens longer than this are refused before decoding (default 16384 bytes).
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.settings.set(|s| &mut s.max_token_bytes, bytes);
        self
    }

    /// Requires this `typ` header (e.g. `at+jwt`), compared as RFC 7515 says.
    pub fn expected_typ(mut self, typ: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.expected_typ, Some(typ.into()));
        self
    }

    /// Refuses tokens issued (`iat`) longer ago than `age`; makes `iat` required.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.settings.set(|s| &mut s.max_age, Some(age));
        self
    }

    /// Accepts an HMAC secret shorter than its hash output (32 bytes for HS256). Only for a
    /// migration from an app stuck with a short secret: it logs a warning at every ignition.
    pub fn allow_short_secret(mut self, allow: bool) -> Self {
        self.settings.set(|s| &mut s.allow_short_secret, allow);
        self
    }

    /// Entries of the verified-token cache (default 4096; 0 turns it off).
    pub fn token_cache_entries(mut self, entries: usize) -> Self {
        self.settings.set(|s| &mut s.token_cache_entries, entries);
        self
    }

    /// Adds safe rejection detail to response descriptions (development only).
    pub fn detailed_errors(mut self, detailed: bool) -> Self {
        self.settings.set(|s| &mut s.detailed_errors, detailed);
        self
    }

    /// `JWT_DEFAULT_REALM` (default `Login Required`).
    pub fn default_realm(mut self, realm: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.default_realm, realm.into());
        self
    }

    /// `JWT_AUTH_URL_RULE` (default `/auth`).
    pub fn auth_url_rule(mut self, rule: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.auth_url_rule, Some(rule.into()));
        self
    }

    /// No auth resource: for an API that only validates tokens issued elsewhere.
    pub fn disable_auth_url_rule(mut self) -> Self {
        self.settings.set(|s| &mut s.auth_url_rule, None);
        self
    }

    /// `JWT_AUTH_ENDPOINT`: the auth route's name (default `jwt`).
    pub fn auth_endpoint(mut self, name: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.auth_endpoint, name.into());
        self
    }

    /// `JWT_AUTH_USERNAME_KEY` (default `username`).
    pub fn auth_username_key(mut self, key: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.auth_username_key, key.into());
        self
    }

    /// `JWT_AUTH_PASSWORD_KEY` (default `password`).
    pub fn auth_password_key(mut self, key: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.auth_password_key, key.into());
        self
    }

    /// `JWT_ALGORITHM` (default `HS256`).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.settings.set(|s| &mut s.algorithm, algorithm);
        self
    }

    /// `JWT_LEEWAY` (default 10 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.settings.set(|s| &mut s.leeway, leeway);
        self
    }

    /// `JWT_VERIFY` (default `true`). `false` accepts any token: debugging only.
    pub fn verify(mut self, verify: bool) -> Self {
        self.settings.set(|s| &mut s.verify, verify);
        self
    }

    /// `JWT_VERIFY_EXPIRATION` (default `true`).
    pub fn verify_expiration(mut self, verify: bool) -> Self {
        self.settings.set(|s| &mut s.verify_expiration, verify);
        self
    }

    /// `JWT_AUTH_HEADER_PREFIX` (default `JWT`), matched case-insensitively.
    pub fn auth_header_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.auth_header_prefix, prefix.into());
        self
    }

    /// `JWT_EXPIRATION_DELTA` (default 300 s).
    pub fn expiration_delta(mut self, delta: Duration) -> Self {
        self.settings.set(|s| &mut s.expiration_delta, delta);
        self
    }

    /// `JWT_NOT_BEFORE_DELTA` (default 0 s).
    pub fn not_before_delta(mut self, delta: Duration) -> Self {
        self.settings.set(|s| &mut s.not_before_delta, delta);
        self
    }

    /// `JWT_VERIFY_CLAIMS` (default `signature`, `exp`, `nbf`, `iat`).
    pub fn verify_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.set(
            |s| &mut s.verify_claims,
            claims.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// `JWT_REQUIRED_CLAIMS` (default `exp`, `iat`, `nbf`).
    pub fn required_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.set(
            |s| &mut s.required_claims,
            Some(claims.into_iter().map(Into::into).collect()),
        );
        self
    }

    /// Replaces every setting given so far, the profile included, with `settings`; the setters
    /// called after it still apply over them.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings.replace(settings);
        self
    }

    // ----- OAuth resource server -------------------------------------------------------------

    /// The claims a token's scopes are read from (default `scope`, `scp`, `permissions`):
    /// `scope` as a space-delimited string, any other as an array of strings.
    pub fn scope_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.set(
            |s| &mut s.scope_claims,
            claims.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Every claim of `scope_claims` grants its scopes, not only the first the token carries
    /// (default `false`; see [`Settings::merge_scope_claims`]).
    pub fn merge_scope_claims(mut self, merge: bool) -> Self {
        self.settings.set(|s| &mut s.merge_scope_claims, merge);
        self
    }

    /// Several trusted authorities (the `authorities` setting), in place of the single
    /// authority of `issuer`/`authority`/`jwks_url`/`public_key`.
    pub fn trusted_authorities(
        mut self,
        authorities: impl IntoIterator<Item = crate::TrustedAuthority>,
    ) -> Self {
        self.settings
            .set(|s| &mut s.authorities, authorities.into_iter().collect());
        self
    }

    /// RFC 9068's JWT profile for OAuth 2.0 access tokens (the `strict_access_tokens` setting).
    pub fn strict_access_tokens(mut self, strict: bool) -> Self {
        self.settings.set(|s| &mut s.strict_access_tokens, strict);
        self
    }

    /// Serves RFC 9728 protected-resource metadata and names it in `Bearer` challenges.
    pub fn protected_resource(mut self, metadata: crate::ProtectedResource) -> Self {
        self.settings
            .set(|s| &mut s.protected_resource, Some(metadata));
        self
    }

    // ----- Flask-JWT-Extended ----------------------------------------------------------------

    /// The Flask-JWT-Extended 4.7.1 profile: its defaults (`Authorization: Bearer`, the `sub`
    /// claim, 15-minute access and 30-day refresh tokens, no `/auth`), claims and `{"msg": ..}`
    /// error answers. It may be called anywhere in the chain: the profile's defaults lie under
    /// every setting given in code, before or after it.
    pub fn extended(mut self) -> Self {
        self.settings.choose_profile(Profile::Extended);
        self
    }

    /// `JWT_TOKEN_LOCATION`: where requests carry tokens, tried in this order.
    pub fn token_location(mut self, locations: impl IntoIterator<Item = Location>) -> Self {
        self.settings
            .set(|s| &mut s.token_location, locations.into_iter().collect());
        self
    }

    /// `JWT_ACCESS_TOKEN_EXPIRES`: lifetime of access tokens (Flask-JWT's `expiration_delta`).
    pub fn access_token_expires(mut self, lifetime: Duration) -> Self {
        self.settings.set(|s| &mut s.expiration_delta, lifetime);
        self
    }

    /// `JWT_REFRESH_TOKEN_EXPIRES`: lifetime of refresh tokens.
    pub fn refresh_token_expires(mut self, lifetime: Duration) -> Self {
        self.settings
            .set(|s| &mut s.refresh_token_expires, lifetime);
        self
    }

    /// `JWT_COOKIE_CSRF_PROTECT`: CSRF double submit for cookie tokens.
    pub fn cookie_csrf_protect(mut self, protect: bool) -> Self {
        self.settings.set(|s| &mut s.cookie_csrf_protect, protect);
        self
    }

    /// `JWT_COOKIE_SECURE`: cookies over HTTPS only.
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.settings.set(|s| &mut s.cookie_secure, secure);
        self
    }

    /// `additional_claims_loader(identity)`: claims added to every access and refresh token
    /// [`JwtManager`](crate::JwtManager) issues.
    ///
    /// It runs on one of Rocket's async workers, inside `JwtManager`'s token issuing, and must
    /// not block; one that does is given with
    /// [`additional_claims_loader_blocking`](Self::additional_claims_loader_blocking).
    pub fn additional_claims_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.loaders.additional_claims = Some(Box::new(f));
        self
    }

    /// [`additional_claims_loader`](Self::additional_claims_loader) for a callback that blocks.
    /// There is no async form: [`JwtManager::create_access_token`](crate::JwtManager) and its
    /// siblings, which call it, return the token without awaiting. It runs in Tokio's
    /// `block_in_place`, which hands the worker's other requests to another thread while it
    /// blocks; on a current-thread runtime (not Rocket's) it runs as the plain form does.
    pub fn additional_claims_loader_blocking<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.loaders.additional_claims =
            Some(Box::new(move |identity| in_place(|| f(identity))));
        self
    }

    /// `additional_headers_loader(identity)`: header fields added to every issued token.
    ///
    /// As the additional claims loader, it runs on an async worker and must not block; see
    /// [`additional_headers_loader_blocking`](Self::additional_headers_loader_blocking).
    pub fn additional_headers_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.loaders.additional_headers = Some(Box::new(f));
        self
    }

    /// [`additional_headers_loader`](Self::additional_headers_loader) for a callback that
    /// blocks, run in `block_in_place` as
    /// [`additional_claims_loader_blocking`](Self::additional_claims_loader_blocking) (no async
    /// form, for the same reason).
    pub fn additional_headers_loader_blocking<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.loaders.additional_headers =
            Some(Box::new(move |identity| in_place(|| f(identity))));
        self
    }

    /// `token_verification_loader(header, claims)`: `false` refuses an otherwise valid token
    /// (answered by the token-verification-failed loader, 400 by default).
    ///
    /// It runs on one of Rocket's async workers, on every protected request, and must not
    /// block; a check that waits is given with
    /// [`token_verification_loader_async`](Self::token_verification_loader_async) (it awaits)
    /// or [`token_verification_loader_blocking`](Self::token_verification_loader_blocking) (it
    /// blocks, off the workers).
    pub fn token_verification_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Payload, &Payload) -> bool + Send + Sync + 'static,
    {
        self.callbacks.loaders.token_verification = Some(TokenVerification::Sync(Box::new(f)));
        self
    }

    /// The async form of [`token_verification_loader`](Self::token_verification_loader): it
    /// receives the header and claims shared (`Arc<Payload>`), as the blocklist loader does.
    pub fn token_verification_loader_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Arc<Payload>, Arc<Payload>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.callbacks.loaders.token_verification =
            Some(TokenVerification::Async(Box::new(move |header, claims| {
                Box::pin(f(header, claims))
            })));
        self
    }

    /// [`token_verification_loader`](Self::token_verification_loader) for a callback that
    /// blocks: each call runs on Tokio's blocking threads (`spawn_blocking`), off the async
    /// workers.
    pub fn token_verification_loader_blocking<F>(self, f: F) -> Self
    where
        F: Fn(&Payload, &Payload) -> bool + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.token_verification_loader_async(move |header, claims| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&header, &claims))
        })
    }

    /// `token_verification_failed_loader(header, claims)`: the answer when the token
    /// verification loader refuses. Default: 400 `User claims verification failed`.
    pub fn token_verification_failed_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Payload, &Payload) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.loaders.token_verification_failed = Some(Box::new(f));
        self
    }

    /// `expired_token_loader(header, claims)`: the answer to an expired token (extended
    /// profile). Default: 401 `Token has expired`.
    pub fn expired_token_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Payload, &Payload) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.loaders.expired_token = Some(Box::new(f));
        self
    }

    /// `needs_fresh_token_loader(header, claims)`: the answer to a non-fresh token on a fresh
    /// route (extended profile). Default: 401 `Fresh token required`.
    pub fn needs_fresh_token_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Payload, &Payload) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.loaders.needs_fresh_token = Some(Box::new(f));
        self
    }

    /// `user_lookup_error_loader(header, claims)`: the answer when the identity callback (the
    /// user lookup) finds no one (extended profile). Default: 401 `Error loading the user <sub>`.
    pub fn user_lookup_error_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Payload, &Payload) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.loaders.user_lookup_error = Some(Box::new(f));
        self
    }

    /// `invalid_token_loader(message)`: the answer to a malformed, tampered or otherwise
    /// invalid token, or a token of the wrong type (extended profile). Default: 422
    /// `{"msg": message}`.
    pub fn invalid_token_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&str) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.loaders.invalid_token = Some(Box::new(f));
        self
    }

    /// `unauthorized_loader(message)`: the answer when no token was found, or to a CSRF failure
    /// (extended profile). Default: 401 `{"msg": message}`.
    pub fn unauthorized_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&str) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.loaders.unauthorized = Some(Box::new(f));
        self
    }

    /// Mounts the built-in refresh resource at `rule` (`POST`, a refresh token in, a new,
    /// non-fresh access token out as `{"access_token": ..}`).
    pub fn refresh_url_rule(mut self, rule: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.refresh_url_rule, Some(rule.into()));
        self
    }
}

/// Revocation: the store, Flask-JWT-Extended's blocklist callback and revoked-token answer.
impl<U: Send + Sync + 'static> JwtBuilder<U> {
    /// `token_in_blocklist_loader(jwt_header, jwt_payload)`: `true` refuses a verified token as
    /// revoked, for an application that keeps revoked tokens in its own store. It runs after the
    /// route's requirements on every request (verified-token cache hits included), within
    /// `revocation_timeout`; beside a [`revocation_store`](Self::revocation_store) or
    /// `redis_url`, a token either refuses is refused.
    pub fn token_in_blocklist_loader<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Arc<Payload>, Arc<Payload>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.callbacks.loaders.token_in_blocklist =
            Some(Arc::new(move |header, claims| Box::pin(f(header, claims))));
        self
    }

    /// `revoked_token_loader(jwt_header, jwt_payload)`: the answer to a revoked token (extended
    /// profile). Default: 401 `{"msg": "Token has been revoked"}`.
    pub fn revoked_token_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Payload, &Payload) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.loaders.revoked_token = Some(Box::new(f));
        self
    }

    /// The store revoked tokens are kept in, in place of the Redis store of `redis_url`:
    /// [`MemoryStore`](crate::MemoryStore) for a single instance, or the application's own.
    pub fn revocation_store(mut self, store: impl RevocationStore) -> Self {
        self.callbacks.revocation_store = Some(Arc::new(store));
        self
    }

    /// The Redis (or Valkey) URL of the shared revocation store, `redis://` or `rediss://`. Needs
    /// the `redis` feature (without it, ignition fails saying so).
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.redis_url, Some(Secret::new(url)));
        self
    }

    /// The prefix of the Redis keys and channel (default `jwt:revocation:`).
    pub fn redis_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.redis_key_prefix, prefix.into());
        self
    }

    /// PEM certificates of the CAs a `rediss://` Redis's certificate must chain to, in place
    /// of the system's roots (see [`Settings::redis_ca_certificate`]).
    pub fn redis_ca_certificate(mut self, pem: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.redis_ca_certificate, Some(pem.into()));
        self
    }

    /// The PEM client certificate and private key shown to a `rediss://` Redis that asks
    /// clients for one (mutual TLS).
    pub fn redis_client_certificate(
        mut self,
        certificate: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        self.settings.set(
            |s| &mut s.redis_client_certificate,
            Some(certificate.into()),
        );
        self.settings
            .set(|s| &mut s.redis_client_key, Some(Secret::new(key)));
        self
    }

    /// Whether `redis_url` names a node of a Redis Cluster (default `false`; see
    /// [`Settings::redis_cluster`]).
    pub fn redis_cluster(mut self, cluster: bool) -> Self {
        self.settings.set(|s| &mut s.redis_cluster, cluster);
        self
    }

    /// Accept tokens whose revocation state cannot be read (default `false`: refuse with 503).
    pub fn revocation_fail_open(mut self, fail_open: bool) -> Self {
        self.settings
            .set(|s| &mut s.revocation_fail_open, fail_open);
        self
    }

    /// Whether the Redis store keeps its near-cache (default `true`; see
    /// [`Settings::revocation_near_cache`]).
    pub fn revocation_near_cache(mut self, near_cache: bool) -> Self {
        self.settings
            .set(|s| &mut s.revocation_near_cache, near_cache);
        self
    }

    /// How long a revocation lookup may take (default 0.5 s).
    pub fn revocation_timeout(mut self, timeout: Duration) -> Self {
        self.settings.set(|s| &mut s.revocation_timeout, timeout);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStore, ProtectedResource, TrustedAuthority};
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
