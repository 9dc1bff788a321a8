//! The builder's revocation: the store, the Redis settings, Flask-JWT-Extended's blocklist
//! callback and revoked-token answer.

use super::*;
use crate::revocation::RefreshTokenReuse;
use crate::settings::RevocationKeyLayout;

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
    /// [`MemoryStore`](crate::revocation::MemoryStore) for a single instance, or the application's own.
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

    /// How the Redis store lays out a revoked token's key (default [`RevocationKeyLayout::Default`];
    /// see [`Settings::revocation_key_layout`]).
    pub fn revocation_key_layout(mut self, layout: RevocationKeyLayout) -> Self {
        self.settings.set(|s| &mut s.revocation_key_layout, layout);
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

    /// Refresh-token rotation with reuse detection (default `false`; see
    /// [`Settings::refresh_token_rotation`]).
    pub fn refresh_token_rotation(mut self, rotation: bool) -> Self {
        self.settings
            .set(|s| &mut s.refresh_token_rotation, rotation);
        self
    }

    /// How long a replaced refresh token may be presented again for the same successor
    /// (default none; see [`Settings::refresh_token_reuse_grace`]). Whole seconds.
    pub fn refresh_token_reuse_grace(mut self, grace: Duration) -> Self {
        self.settings
            .set(|s| &mut s.refresh_token_reuse_grace, grace);
        self
    }

    /// Whether a reuse also revokes the family's newest access token (default `true`).
    pub fn refresh_token_reuse_revokes_access(mut self, revokes: bool) -> Self {
        self.settings
            .set(|s| &mut s.refresh_token_reuse_revokes_access, revokes);
        self
    }

    /// Whether families record the client's `User-Agent` (default `false`).
    pub fn refresh_token_record_user_agent(mut self, record: bool) -> Self {
        self.settings
            .set(|s| &mut s.refresh_token_record_user_agent, record);
        self
    }

    /// Called on every detected refresh-token reuse, after the family is revoked: for alerting
    /// (a stolen refresh token, or a client that lost a rotated one). Runs on the request's
    /// task: keep it short.
    pub fn on_refresh_token_reuse<F>(mut self, f: F) -> Self
    where
        F: Fn(&RefreshTokenReuse) + Send + Sync + 'static,
    {
        self.callbacks.refresh_token_reuse = Some(Arc::new(f));
        self
    }
}
