//! The builder's setters of an OAuth resource server: scope claims, several trusted
//! authorities, RFC 9068's strict access tokens, RFC 9728's protected-resource metadata.

use super::*;

impl<U: Send + Sync + 'static> JwtBuilder<U> {
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
        authorities: impl IntoIterator<Item = crate::settings::TrustedAuthority>,
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
    pub fn protected_resource(mut self, metadata: crate::settings::ProtectedResource) -> Self {
        self.settings
            .set(|s| &mut s.protected_resource, Some(metadata));
        self
    }
}
