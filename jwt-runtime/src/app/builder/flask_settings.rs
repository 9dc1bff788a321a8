//! The builder's setters of Flask-JWT 0.3.2's settings and of the validation beyond it (keys,
//! algorithms, issuer, audience, authority, JWKS, hardening), and `settings(..)`.

use super::*;

impl<U: Send + Sync + 'static> JwtBuilder<U> {
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

    /// A directory of signing keys, a key ring in place of a static key (see
    /// [`Settings::signing_keys_dir`]): its public keys are served at `jwks_path`.
    pub fn signing_keys_dir(mut self, directory: impl Into<String>) -> Self {
        self.settings
            .set(|s| &mut s.signing_keys_dir, Some(directory.into()));
        self
    }

    /// Until when (seconds since the epoch) tokens of the static secret or key still verify
    /// beside a key ring (see [`Settings::static_keys_until`]).
    pub fn static_keys_until(mut self, until: i64) -> Self {
        self.settings.set(|s| &mut s.static_keys_until, Some(until));
        self
    }

    /// Where the key ring's JWKS is served (default `/.well-known/jwks.json`).
    pub fn jwks_path(mut self, path: impl Into<String>) -> Self {
        self.settings.set(|s| &mut s.jwks_path, path.into());
        self
    }

    /// The longest a verifier may cache the key ring's JWKS (default 300 s).
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.settings.set(|s| &mut s.jwks_max_age, max_age);
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
}
