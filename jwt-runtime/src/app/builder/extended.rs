//! The builder's Flask-JWT-Extended profile: `.extended()`, its settings and its loaders.

use super::*;

impl<U: Send + Sync + 'static> JwtBuilder<U> {
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
    /// [`JwtManager`](crate::extended::JwtManager) issues.
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
    /// There is no async form: [`JwtManager::create_access_token`](crate::extended::JwtManager) and its
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
