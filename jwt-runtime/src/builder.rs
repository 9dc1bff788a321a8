//! [`JwtBuilder`]: Flask-JWT's settings and callbacks, set in code.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use rocket::Request;
use serde::Serialize;
use serde_json::Value;

use crate::callbacks::{identity_claim, Authentication, Callbacks, IdentityLookup};
use crate::claims::Payload;
use crate::codec::TokenCodec;
use crate::error::{JwtError, JwtResponse};
use crate::fairing::Jwt;
use crate::revocation::RevocationStore;
use crate::rules::Location;
use crate::settings::{KeyMaterial, Profile, Secret, Settings};

/// Why [`JwtBuilder::build`] refused to build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// No identity handler: protected routes could not say who the token belongs to.
    #[error("Jwt::builder() needs an identity_handler (or identity_handler_async): it maps a token's payload to the current identity")]
    MissingIdentityHandler,
    /// The auth resource is enabled but nothing can check a username and password.
    #[error("Jwt::builder() needs an authentication_handler (or authentication_handler_async) for the auth resource, or disable_auth_url_rule() for an API that only validates tokens")]
    MissingAuthenticationHandler,
    /// A setting holds a value this library does not know.
    #[error("{0}")]
    InvalidSetting(String),
}

/// Builds a [`Jwt`]: every Flask-JWT setting (with Flask-JWT's default) and every callback.
///
/// `U` is the identity type: what the authentication and identity callbacks return and what
/// `current_identity!()` gives back.
pub struct JwtBuilder<U> {
    settings: Settings,
    callbacks: Callbacks<U>,
}

impl<U: Send + Sync + 'static> Default for JwtBuilder<U> {
    fn default() -> Self {
        JwtBuilder {
            settings: Settings::default(),
            callbacks: Callbacks::default(),
        }
    }
}

impl<U: Send + Sync + 'static> JwtBuilder<U> {
    /// Checks that the required callbacks are present and returns the fairing to attach.
    ///
    /// The secret and keys may still come from Rocket's configuration, so they are checked at
    /// ignition, which fails with a message naming the setting.
    pub fn build(self) -> Result<Jwt<U>, BuildError> {
        // Flask-JWT-Extended's user lookup is optional; Flask-JWT's identity handler is not.
        if self.callbacks.identity.is_none() && self.settings.profile == Profile::FlaskJwt {
            return Err(BuildError::MissingIdentityHandler);
        }
        let needs_authentication = self.settings.auth_url_rule.is_some()
            && self.callbacks.auth_request.is_none()
            && self.callbacks.encode.is_none();
        if needs_authentication && self.callbacks.authentication.is_none() {
            return Err(BuildError::MissingAuthenticationHandler);
        }
        self.settings
            .validate()
            .map_err(|e| BuildError::InvalidSetting(e.to_string()))?;
        Ok(Jwt::new(self.settings, Arc::new(self.callbacks)))
    }

    // ----- callbacks -------------------------------------------------------------------------

    /// `authentication_handler(username, password)`: the identity for valid credentials, `None`
    /// otherwise. The default payload handler puts the identity's `id` field (or the identity
    /// itself, when it is a number or string) in the `identity` claim.
    pub fn authentication_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, &str) -> Option<U> + Send + Sync + 'static,
        U: Serialize,
    {
        self.callbacks.authentication = Some(Authentication::Sync(Box::new(f)));
        self.callbacks.identity_claim = Some(identity_claim::<U>);
        self
    }

    /// The async form of [`authentication_handler`](Self::authentication_handler), for a
    /// lookup that awaits a database.
    pub fn authentication_handler_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(String, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<U>> + Send + 'static,
        U: Serialize,
    {
        self.callbacks.authentication = Some(Authentication::Async(Box::new(move |u, p| {
            Box::pin(f(u, p))
        })));
        self.callbacks.identity_claim = Some(identity_claim::<U>);
        self
    }

    /// `identity_handler(payload)`: the identity a valid token belongs to, `None` when no one
    /// (answered `401 Invalid JWT / User does not exist`).
    pub fn identity_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&Payload) -> Option<U> + Send + Sync + 'static,
    {
        self.callbacks.identity = Some(IdentityLookup::Sync(Box::new(f)));
        self
    }

    /// The async form of [`identity_handler`](Self::identity_handler).
    pub fn identity_handler_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Payload) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<U>> + Send + 'static,
    {
        self.callbacks.identity = Some(IdentityLookup::Async(Box::new(move |payload| {
            Box::pin(f(payload))
        })));
        self
    }

    /// Like [`identity_handler`](Self::identity_handler), given only the value of the identity
    /// claim (`identity_claim`: `identity` by default, `sub` for OIDC tokens). A token without
    /// that claim is refused as `Token is missing the "<claim>" claim`.
    pub fn identity_from_claim<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Option<U> + Send + Sync + 'static,
    {
        self.callbacks.identity = Some(IdentityLookup::SyncClaim(Box::new(f)));
        self
    }

    /// The async form of [`identity_from_claim`](Self::identity_from_claim).
    pub fn identity_from_claim_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<U>> + Send + 'static,
    {
        self.callbacks.identity = Some(IdentityLookup::AsyncClaim(Box::new(move |value| {
            Box::pin(f(value))
        })));
        self
    }

    /// `jwt_payload_handler(identity)`: the claims of issued tokens. Default: `identity` (the
    /// identity's id), `iat` (now), `nbf` (`iat + not_before_delta`), `exp`
    /// (`iat + expiration_delta`), as integer seconds.
    pub fn payload_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &Settings) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.payload = Some(Box::new(f));
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
    pub fn auth_request_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Result<JwtResponse, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.auth_request = Some(Box::new(f));
        self
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
        self.settings.secret_key = Some(Secret::new(secret));
        self
    }

    /// PEM private key for signing with RS*, PS*, ES* or EdDSA.
    pub fn private_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.settings.private_key = Some(KeyMaterial::Pem(pem.into()));
        self
    }

    /// DER private key for signing with RS*, PS*, ES* or EdDSA.
    pub fn private_key_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.settings.private_key = Some(KeyMaterial::Der(der.into()));
        self
    }

    /// PEM public key for verifying RS*, PS*, ES* or EdDSA tokens.
    pub fn public_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.settings.public_key = Some(KeyMaterial::Pem(pem.into()));
        self
    }

    /// DER public key for verifying RS*, PS*, ES* or EdDSA tokens.
    pub fn public_key_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.settings.public_key = Some(KeyMaterial::Der(der.into()));
        self
    }

    /// Public key as a JSON Web Key, for verifying RS*, PS*, ES* or EdDSA tokens.
    pub fn public_key_jwk(mut self, jwk: impl Into<String>) -> Self {
        self.settings.public_key = Some(KeyMaterial::Jwk(jwk.into()));
        self
    }

    /// Algorithms accepted on presented tokens (default: `algorithm` alone).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.settings.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Expected `iss`, exactly (trailing slash included); makes `iss` required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.settings.issuer = Some(issuer.into());
        self
    }

    /// Accepted `aud` values (one must match); makes `aud` required.
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// The claim that holds the identity (default `identity`; `sub` for OIDC tokens).
    pub fn identity_claim(mut self, claim: impl Into<String>) -> Self {
        self.settings.identity_claim = claim.into();
        self
    }

    /// The token issuer's base URL, e.g. `https://tenant.auth0.com/`: keys from its JWKS, and the
    /// default `issuer`.
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.settings.authority = Some(authority.into());
        self
    }

    /// A JWKS URL to take verification keys from.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.settings.jwks_url = Some(url.into());
        self
    }

    /// Tokens longer than this are refused before decoding (default 8192 bytes).
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.settings.max_token_bytes = bytes;
        self
    }

    /// Requires this `typ` header (e.g. `at+jwt`), compared as RFC 7515 says.
    pub fn expected_typ(mut self, typ: impl Into<String>) -> Self {
        self.settings.expected_typ = Some(typ.into());
        self
    }

    /// Refuses tokens issued (`iat`) longer ago than `age`; makes `iat` required.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.settings.max_age = Some(age);
        self
    }

    /// Accepts an HMAC secret shorter than its hash output (32 bytes for HS256). Only for a
    /// migration from an app stuck with a short secret: it logs a warning at every ignition.
    pub fn allow_short_secret(mut self, allow: bool) -> Self {
        self.settings.allow_short_secret = allow;
        self
    }

    /// Entries of the verified-token cache (default 4096; 0 turns it off).
    pub fn token_cache_entries(mut self, entries: usize) -> Self {
        self.settings.token_cache_entries = entries;
        self
    }

    /// Adds safe rejection detail to response descriptions (development only).
    pub fn detailed_errors(mut self, detailed: bool) -> Self {
        self.settings.detailed_errors = detailed;
        self
    }

    /// `JWT_DEFAULT_REALM` (default `Login Required`).
    pub fn default_realm(mut self, realm: impl Into<String>) -> Self {
        self.settings.default_realm = realm.into();
        self
    }

    /// `JWT_AUTH_URL_RULE` (default `/auth`).
    pub fn auth_url_rule(mut self, rule: impl Into<String>) -> Self {
        self.settings.auth_url_rule = Some(rule.into());
        self
    }

    /// No auth resource: for an API that only validates tokens issued elsewhere.
    pub fn disable_auth_url_rule(mut self) -> Self {
        self.settings.auth_url_rule = None;
        self
    }

    /// `JWT_AUTH_ENDPOINT`: the auth route's name (default `jwt`).
    pub fn auth_endpoint(mut self, name: impl Into<String>) -> Self {
        self.settings.auth_endpoint = name.into();
        self
    }

    /// `JWT_AUTH_USERNAME_KEY` (default `username`).
    pub fn auth_username_key(mut self, key: impl Into<String>) -> Self {
        self.settings.auth_username_key = key.into();
        self
    }

    /// `JWT_AUTH_PASSWORD_KEY` (default `password`).
    pub fn auth_password_key(mut self, key: impl Into<String>) -> Self {
        self.settings.auth_password_key = key.into();
        self
    }

    /// `JWT_ALGORITHM` (default `HS256`).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.settings.algorithm = algorithm;
        self
    }

    /// `JWT_LEEWAY` (default 10 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.settings.leeway = leeway;
        self
    }

    /// `JWT_VERIFY` (default `true`). `false` accepts any token: debugging only.
    pub fn verify(mut self, verify: bool) -> Self {
        self.settings.verify = verify;
        self
    }

    /// `JWT_VERIFY_EXPIRATION` (default `true`).
    pub fn verify_expiration(mut self, verify: bool) -> Self {
        self.settings.verify_expiration = verify;
        self
    }

    /// `JWT_AUTH_HEADER_PREFIX` (default `JWT`), matched case-insensitively.
    pub fn auth_header_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.auth_header_prefix = prefix.into();
        self
    }

    /// `JWT_EXPIRATION_DELTA` (default 300 s).
    pub fn expiration_delta(mut self, delta: Duration) -> Self {
        self.settings.expiration_delta = delta;
        self
    }

    /// `JWT_NOT_BEFORE_DELTA` (default 0 s).
    pub fn not_before_delta(mut self, delta: Duration) -> Self {
        self.settings.not_before_delta = delta;
        self
    }

    /// `JWT_VERIFY_CLAIMS` (default `signature`, `exp`, `nbf`, `iat`).
    pub fn verify_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.verify_claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// `JWT_REQUIRED_CLAIMS` (default `exp`, `iat`, `nbf`).
    pub fn required_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.required_claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// Replaces every setting at once.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
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
        self.settings.scope_claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// Several trusted authorities (the `authorities` setting), in place of the single
    /// authority of `issuer`/`authority`/`jwks_url`/`public_key`.
    pub fn trusted_authorities(
        mut self,
        authorities: impl IntoIterator<Item = crate::TrustedAuthority>,
    ) -> Self {
        self.settings.authorities = authorities.into_iter().collect();
        self
    }

    /// RFC 9068's JWT profile for OAuth 2.0 access tokens (the `strict_access_tokens` setting).
    pub fn strict_access_tokens(mut self, strict: bool) -> Self {
        self.settings.strict_access_tokens = strict;
        self
    }

    /// Serves RFC 9728 protected-resource metadata and names it in `Bearer` challenges.
    pub fn protected_resource(mut self, metadata: crate::ProtectedResource) -> Self {
        self.settings.protected_resource = Some(metadata);
        self
    }

    // ----- Flask-JWT-Extended ----------------------------------------------------------------

    /// The Flask-JWT-Extended 4.7.1 profile: its defaults (`Authorization: Bearer`, the `sub`
    /// claim, 15-minute access and 30-day refresh tokens, no `/auth`), claims and `{"msg": ..}`
    /// error answers. Call it first: it resets the settings to that profile's defaults.
    pub fn extended(mut self) -> Self {
        self.settings = Settings::for_profile(Profile::Extended);
        self
    }

    /// `JWT_TOKEN_LOCATION`: where requests carry tokens, tried in this order.
    pub fn token_location(mut self, locations: impl IntoIterator<Item = Location>) -> Self {
        self.settings.token_location = locations.into_iter().collect();
        self
    }

    /// `JWT_ACCESS_TOKEN_EXPIRES`: lifetime of access tokens (Flask-JWT's `expiration_delta`).
    pub fn access_token_expires(mut self, lifetime: Duration) -> Self {
        self.settings.expiration_delta = lifetime;
        self
    }

    /// `JWT_REFRESH_TOKEN_EXPIRES`: lifetime of refresh tokens.
    pub fn refresh_token_expires(mut self, lifetime: Duration) -> Self {
        self.settings.refresh_token_expires = lifetime;
        self
    }

    /// `JWT_COOKIE_CSRF_PROTECT`: CSRF double submit for cookie tokens.
    pub fn cookie_csrf_protect(mut self, protect: bool) -> Self {
        self.settings.cookie_csrf_protect = protect;
        self
    }

    /// `JWT_COOKIE_SECURE`: cookies over HTTPS only.
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.settings.cookie_secure = secure;
        self
    }

    /// `additional_claims_loader(identity)`: claims added to every access and refresh token
    /// [`JwtManager`](crate::JwtManager) issues.
    pub fn additional_claims_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.loaders.additional_claims = Some(Box::new(f));
        self
    }

    /// `additional_headers_loader(identity)`: header fields added to every issued token.
    pub fn additional_headers_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.loaders.additional_headers = Some(Box::new(f));
        self
    }

    /// `token_verification_loader(header, claims)`: `false` refuses an otherwise valid token
    /// (answered by the token-verification-failed loader, 400 by default).
    pub fn token_verification_loader<F>(mut self, f: F) -> Self
    where
        F: Fn(&Payload, &Payload) -> bool + Send + Sync + 'static,
    {
        self.callbacks.loaders.token_verification = Some(Box::new(f));
        self
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
        self.settings.refresh_url_rule = Some(rule.into());
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

    /// The Redis (or Valkey) URL of the shared revocation store, `redis://` or `rediss://`.
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.settings.redis_url = Some(Secret::new(url));
        self
    }

    /// The prefix of the Redis keys and channel (default `jwt:revocation:`).
    pub fn redis_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.redis_key_prefix = prefix.into();
        self
    }

    /// PEM certificates of the CAs a `rediss://` Redis's certificate must chain to, in place
    /// of the system's roots (see [`Settings::redis_ca_certificate`]).
    pub fn redis_ca_certificate(mut self, pem: impl Into<String>) -> Self {
        self.settings.redis_ca_certificate = Some(pem.into());
        self
    }

    /// The PEM client certificate and private key shown to a `rediss://` Redis that asks
    /// clients for one (mutual TLS).
    pub fn redis_client_certificate(
        mut self,
        certificate: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        self.settings.redis_client_certificate = Some(certificate.into());
        self.settings.redis_client_key = Some(Secret::new(key));
        self
    }

    /// Whether `redis_url` names a node of a Redis Cluster (default `false`; see
    /// [`Settings::redis_cluster`]).
    pub fn redis_cluster(mut self, cluster: bool) -> Self {
        self.settings.redis_cluster = cluster;
        self
    }

    /// Accept tokens whose revocation state cannot be read (default `false`: refuse with 503).
    pub fn revocation_fail_open(mut self, fail_open: bool) -> Self {
        self.settings.revocation_fail_open = fail_open;
        self
    }

    /// Whether the Redis store keeps its near-cache (default `true`; see
    /// [`Settings::revocation_near_cache`]).
    pub fn revocation_near_cache(mut self, near_cache: bool) -> Self {
        self.settings.revocation_near_cache = near_cache;
        self
    }

    /// How long a revocation lookup may take (default 0.5 s).
    pub fn revocation_timeout(mut self, timeout: Duration) -> Self {
        self.settings.revocation_timeout = timeout;
        self
    }
}
