//! The builder's DPoP settings (RFC 9449): which routes take DPoP-bound tokens, the proofs'
//! algorithms, age and nonces, and the origin their `htu` names.

use super::*;
use crate::settings::DpopMode;

/// DPoP: tokens bound to a key the client holds, proven on each request.
impl<U: Send + Sync + 'static> JwtBuilder<U> {
    /// Whether protected routes take DPoP-bound tokens with their proofs (default
    /// [`DpopMode::Off`]; see [`Settings::dpop`]). A route's `#[jwt_required(dpop = "..")]`
    /// overrides it.
    pub fn dpop(mut self, mode: DpopMode) -> Self {
        self.settings.set(|s| &mut s.dpop, mode);
        self
    }

    /// The algorithms a proof may be signed with (asymmetric only; see
    /// [`Settings::dpop_algorithms`]).
    pub fn dpop_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        let algorithms: Vec<Algorithm> = algorithms.into_iter().collect();
        self.settings.set(|s| &mut s.dpop_algorithms, algorithms);
        self
    }

    /// How old a proof may be (default 300 s; see [`Settings::dpop_iat_window`]). Whole
    /// seconds.
    pub fn dpop_iat_window(mut self, window: Duration) -> Self {
        self.settings.set(|s| &mut s.dpop_iat_window, window);
        self
    }

    /// Server nonces: every proof must carry one this fleet issued (default `false`; see
    /// [`Settings::dpop_nonce`]).
    pub fn dpop_nonce(mut self, nonces: bool) -> Self {
        self.settings.set(|s| &mut s.dpop_nonce, nonces);
        self
    }

    /// The key of the server nonces, shared by the fleet (at least 32 bytes; see
    /// [`Settings::dpop_nonce_secret`]).
    pub fn dpop_nonce_secret(mut self, secret: impl Into<String>) -> Self {
        let secret = Some(Secret::new(secret));
        self.settings.set(|s| &mut s.dpop_nonce_secret, secret);
        self
    }

    /// How long one server nonce is issued (default 300 s; see
    /// [`Settings::dpop_nonce_lifetime`]). Whole seconds.
    pub fn dpop_nonce_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.set(|s| &mut s.dpop_nonce_lifetime, lifetime);
        self
    }

    /// The most proofs the in-memory replay store holds (default 1,000,000; see
    /// [`Settings::dpop_replay_capacity`]).
    pub fn dpop_replay_capacity(mut self, capacity: usize) -> Self {
        self.settings.set(|s| &mut s.dpop_replay_capacity, capacity);
        self
    }

    /// The scheme and authority clients reach this application at, which a proof's `htu` names
    /// (see [`Settings::public_origin`]).
    pub fn public_origin(mut self, origin: impl Into<String>) -> Self {
        let origin = Some(origin.into());
        self.settings.set(|s| &mut s.public_origin, origin);
        self
    }

    /// The reverse proxies whose `X-Forwarded-Proto` and `X-Forwarded-Host` are believed when
    /// no `public_origin` is set (see [`Settings::trusted_proxies`]).
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = std::net::IpAddr>) -> Self {
        let proxies: Vec<std::net::IpAddr> = proxies.into_iter().collect();
        self.settings.set(|s| &mut s.trusted_proxies, proxies);
        self
    }
}
