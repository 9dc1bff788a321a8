//! Flask-JWT's settings, their defaults, and how Rocket's configuration overrides them.
//!
//! Names follow Flask-JWT without the `JWT_` prefix: `JWT_EXPIRATION_DELTA` is `expiration_delta`
//! under the `jwt` table of `Rocket.toml`, or the environment variable `JWT_EXPIRATION_DELTA`.
//! [`Settings`] is the one source: each field carries its doc, its default and, where the written
//! form is not serde's own, the form it is read in (`forms`). Rocket's figment deserializes it
//! directly over the builder's settings ([`Settings::with_rocket_config`]). Precedence, lowest
//! first: Flask-JWT's default, the builder, the `jwt` table of Rocket's configuration
//! (`Rocket.toml` profile or `ROCKET_JWT`), the `JWT_*` environment variables.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use rocket::figment;
use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

mod audit_log;
mod checks;
mod dpop_mode;
mod features;
pub(crate) mod forms;
mod in_code;
mod layers;
mod location;
mod protected_resource;
mod trusted_authority;

pub use audit_log::AuditLog;
pub use dpop_mode::DpopMode;
pub use location::Location;
pub use protected_resource::{ProtectedResource, WELL_KNOWN_PATH};
pub use trusted_authority::TrustedAuthority;

pub(crate) use features::check as check_features;
#[cfg(not(feature = "redis"))]
pub(crate) use features::check_redis as check_redis_feature;
pub(crate) use in_code::CodeSettings;

/// A secret (HMAC key or private key PEM) whose `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret's bytes, for building keys.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Key material for an asymmetric algorithm, in any of the usual forms.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// PEM text (`-----BEGIN PUBLIC KEY-----`, `-----BEGIN PRIVATE KEY-----`, ...).
    Pem(String),
    /// DER bytes.
    Der(Vec<u8>),
    /// A JSON Web Key (public keys only).
    Jwk(String),
}

impl KeyMaterial {
    /// Recognises the form from the content: PEM armour, a JSON object, or else DER.
    pub fn detect(bytes: Vec<u8>) -> KeyMaterial {
        let text = std::str::from_utf8(&bytes).map(str::trim_start);
        match text {
            Ok(text) if text.starts_with("-----BEGIN") => KeyMaterial::Pem(text.to_owned()),
            Ok(text) if text.starts_with('{') => KeyMaterial::Jwk(text.to_owned()),
            _ => KeyMaterial::Der(bytes),
        }
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Public keys are not secret, but private ones share this type: never print the bytes.
        f.write_str(match self {
            KeyMaterial::Pem(_) => "KeyMaterial::Pem(..)",
            KeyMaterial::Der(_) => "KeyMaterial::Der(..)",
            KeyMaterial::Jwk(_) => "KeyMaterial::Jwk(..)",
        })
    }
}

/// Every Flask-JWT 0.3.2 setting, with its default, and the settings of token validation
/// beyond Flask-JWT (issuer, audience, JWKS).
///
/// Each field is written in configuration under its own name; where its form is not serde's
/// own, the `forms` module named in its attribute says what is accepted (seconds for durations,
/// algorithm names, a string for a one-item list, ...). Serializing writes every value, the
/// secret and the private key included, so that the builder's settings can be the lowest layer
/// of Rocket's configuration: never serialize `Settings` into a log (its `Debug` output is
/// redacted).
#[derive(Debug, Clone, PartialEq, Eq, SmartDefault, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `JWT_SECRET_KEY`: the HMAC secret for HS* algorithms. No default: it must be set.
    #[serde(with = "forms::secret")]
    pub secret_key: Option<Secret>,
    /// Private key (PEM or DER) used to sign tokens with RS*, PS*, ES* or EdDSA.
    #[serde(with = "forms::key_material")]
    pub private_key: Option<KeyMaterial>,
    /// Public key (PEM, DER or JWK) used to verify RS*, PS*, ES* or EdDSA tokens.
    #[serde(with = "forms::key_material")]
    pub public_key: Option<KeyMaterial>,
    /// A directory of signing keys (one PEM private key per `*.pem` file, its times before the
    /// PEM): a key ring in place of `private_key`. Each key's `kid` is its RFC 7638 thumbprint;
    /// the key that signs, the keys that verify and the keys published at `jwks_path` follow
    /// from each key's times and the clock. Looked at again every second: rotate by adding a
    /// file. Default none.
    pub signing_keys_dir: Option<String>,
    /// With `signing_keys_dir`, until when (seconds since the epoch) tokens signed by the static
    /// `secret_key` or `public_key` still verify: the window of a migration to the ring, after
    /// which they are refused. Needed when a static key is set beside the ring. Default none.
    pub static_keys_until: Option<i64>,
    /// Where the public keys of the ring are served as a JWKS (`GET`); default
    /// `/.well-known/jwks.json`. Served only with `signing_keys_dir`.
    #[default = "/.well-known/jwks.json"]
    pub jwks_path: String,
    /// Automatic rotation of the key ring on Redis (`redis_url`), for a fleet: every this many
    /// seconds a new key signs; it is created by one instance (under a lock with a lease),
    /// published `jwks_max_age` before it signs, and picked up by every instance. The private
    /// keys are kept in Redis encrypted (AES-256-GCM) under `key_encryption_key`. In place of
    /// `signing_keys_dir`. Default none. Needs the `redis` feature and the `aws-lc-rs` backend.
    #[serde(with = "forms::optional_seconds")]
    pub key_rotation_period: Option<Duration>,
    /// The key-encryption key of `key_rotation_period`: 32 bytes, base64 (standard or URL-safe
    /// alphabet); `key_encryption_key_file` reads it from a file. Never logged (its `Debug`
    /// output is redacted).
    #[serde(with = "forms::secret")]
    pub key_encryption_key: Option<Secret>,
    /// The longest a verifier may cache the JWKS (`Cache-Control: max-age`), seconds; default 300.
    /// A key must be published at least this long before it signs (its `signs-from` after its
    /// `published-at`); the JWKS answers the smaller of the two.
    #[default(Duration::from_secs(300))]
    #[serde(with = "forms::seconds")]
    pub jwks_max_age: Duration,
    /// `JWT_DEFAULT_REALM`: the realm in `WWW-Authenticate`; default `Login Required`.
    #[default = "Login Required"]
    pub default_realm: String,
    /// `JWT_AUTH_URL_RULE`: where the auth resource is mounted; default `/auth`; `None` disables it.
    #[default(Some(DEFAULT_AUTH_URL_RULE.to_owned()))]
    #[serde(with = "forms::url_rule")]
    pub auth_url_rule: Option<String>,
    /// `JWT_AUTH_ENDPOINT`: the auth route's name; default `jwt`.
    #[default = "jwt"]
    pub auth_endpoint: String,
    /// `JWT_AUTH_USERNAME_KEY`: the username field of the auth body; default `username`.
    #[default = "username"]
    pub auth_username_key: String,
    /// `JWT_AUTH_PASSWORD_KEY`: the password field of the auth body; default `password`.
    #[default = "password"]
    pub auth_password_key: String,
    /// `JWT_ALGORITHM`: the one algorithm tokens are signed and verified with; default `HS256`.
    #[default(Algorithm::HS256)]
    #[serde(deserialize_with = "forms::algorithm")]
    pub algorithm: Algorithm,
    /// `JWT_LEEWAY`: clock skew allowed on `exp`, `nbf` and `iat`; default 10 s.
    #[default(Duration::from_secs(10))]
    #[serde(with = "forms::seconds")]
    pub leeway: Duration,
    /// `JWT_VERIFY`: verify tokens at all; default `true`. `false` skips signature and claim
    /// checks and is only for debugging.
    #[default = true]
    pub verify: bool,
    /// `JWT_VERIFY_EXPIRATION`: check `exp`; default `true`.
    #[default = true]
    pub verify_expiration: bool,
    /// `JWT_AUTH_HEADER_PREFIX`: the `Authorization` scheme, matched case-insensitively;
    /// default `JWT`.
    #[default = "JWT"]
    pub auth_header_prefix: String,
    /// `JWT_EXPIRATION_DELTA`: lifetime of issued tokens (`exp - iat`); default 300 s.
    #[default(Duration::from_secs(300))]
    #[serde(with = "forms::seconds")]
    pub expiration_delta: Duration,
    /// `JWT_NOT_BEFORE_DELTA`: `nbf - iat` of issued tokens; default 0 s.
    #[default(Duration::ZERO)]
    #[serde(with = "forms::seconds")]
    pub not_before_delta: Duration,
    /// `JWT_VERIFY_CLAIMS`: which of `signature`, `exp`, `nbf`, `iat` are checked; default all four.
    #[default(strings(&["signature", "exp", "nbf", "iat"]))]
    #[serde(deserialize_with = "forms::names")]
    pub verify_claims: Vec<String>,
    /// `JWT_REQUIRED_CLAIMS`: claims a token must carry (`nbf` and `iat` are checked whenever
    /// present). Unset (the default), it is the profile's default for where keys come from
    /// ([`Settings::effective_required_claims`]): `exp`, `iat`, `nbf` as Flask-JWT; just `exp` when
    /// tokens come from an issuer (`authority`, `jwks_url`, `issuer` or `authorities` set), since
    /// the tokens real issuers mint (Auth0's, Okta's, Google's, ...) often carry no `nbf`; none in
    /// the extended profile.
    #[serde(deserialize_with = "forms::optional_names")]
    pub required_claims: Option<Vec<String>>,
    /// Algorithms accepted on presented tokens; empty (the default) means `algorithm` alone.
    /// The token's `alg` header only selects among these, never adds to them.
    #[serde(deserialize_with = "forms::algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Expected `iss`, compared byte for byte (a trailing slash matters). When set, `iss` is
    /// required. Default: none, or `authority` when that is set.
    pub issuer: Option<String>,
    /// Accepted `aud` values: the token's `aud` (a string or an array) must contain one. When set,
    /// `aud` is required; when empty (the default), a token carrying `aud` is rejected.
    #[serde(deserialize_with = "forms::names")]
    pub audience: Vec<String>,
    /// The claim that holds the identity: `identity` (Flask-JWT's, the default) or e.g. `sub`.
    #[default = "identity"]
    pub identity_claim: String,
    /// The token issuer's base URL (e.g. `https://tenant.auth0.com/`): keys come from its
    /// `.well-known/jwks.json` and it is the default `issuer`. Needs the `remote-keys` feature.
    pub authority: Option<String>,
    /// A JWKS URL to take verification keys from (overrides the one derived from `authority`).
    /// Needs the `remote-keys` feature.
    pub jwks_url: Option<String>,
    /// How long fetched keys are used before a refetch; default 600 s.
    #[default(Duration::from_secs(600))]
    #[serde(with = "forms::seconds")]
    pub jwks_cache_ttl: Duration,
    /// At most one refetch per this period for unknown `kid`s; default 30 s.
    #[default(Duration::from_secs(30))]
    #[serde(with = "forms::seconds")]
    pub jwks_cooldown: Duration,
    /// Timeout of one JWKS fetch; default 5 s.
    #[default(Duration::from_secs(5))]
    #[serde(with = "forms::seconds")]
    pub jwks_timeout: Duration,
    /// How long the last good keys keep serving known `kid`s while the JWKS endpoint fails,
    /// counted from their expiry; default 3600 s. Afterwards requests fail closed.
    #[default(Duration::from_secs(3600))]
    #[serde(with = "forms::seconds")]
    pub jwks_stale_for: Duration,
    /// Read `issuer` and `jwks_uri` from `<authority>/.well-known/openid-configuration`, checking
    /// that its `issuer` equals the configured one; default `false`. Needs the `remote-keys`
    /// feature.
    pub oidc_discovery: bool,
    /// Adds the safe detail of a rejection (expected and received `iss`/`aud`, unknown `kid`,
    /// seconds since expiry) to response descriptions. For development; default `false`. The
    /// detail is always logged.
    pub detailed_errors: bool,
    /// Tokens longer than this many bytes are refused before any decoding; default 16384, the
    /// largest request header Node's HTTP server accepts by default, which fits an Auth0 access
    /// token carrying hundreds of RBAC permissions.
    #[default = 16384]
    pub max_token_bytes: usize,
    /// When set, the header's `typ` must be this media type (compared as RFC 7515 says:
    /// case-insensitively, with or without the `application/` prefix), e.g. `at+jwt`. Default:
    /// none (`typ` is not checked).
    pub expected_typ: Option<String>,
    /// When set, tokens issued (`iat`) longer ago than this are refused, and `iat` is required.
    /// Default: none.
    #[serde(with = "forms::optional_seconds")]
    pub max_age: Option<Duration>,
    /// Accept an HMAC secret shorter than its hash output (32 bytes for HS256, 48 for HS384, 64
    /// for HS512). Refused by default (RFC 7518 §3.2); this opt-out exists for a migration from a
    /// Flask-JWT app stuck with a short secret, and logs a warning at every ignition.
    pub allow_short_secret: bool,
    /// Entries of the verified-token cache: a token whose signature was verified is not verified
    /// again while cached (its time claims are, on every request). 0 turns it off. Default 4096.
    #[default = 4096]
    pub token_cache_entries: usize,
    // ----- Flask-JWT-Extended ------------------------------------------------------------------
    /// `JWT_PROFILE`: whose defaults, claims and error answers apply: `flask_jwt` (Flask-JWT
    /// 0.3.2, the default) or `extended` (Flask-JWT-Extended 4.7.1). The profile sets defaults
    /// only: a setting given explicitly keeps its value.
    pub profile: Profile,
    /// `JWT_REFRESH_TOKEN_EXPIRES`: lifetime of refresh tokens; default 30 days. `false` (or 0)
    /// issues refresh tokens without `exp`, as Flask-JWT-Extended does.
    #[default(Duration::from_secs(30 * 24 * 3600))]
    #[serde(with = "forms::lifetime")]
    pub refresh_token_expires: Duration,
    /// `JWT_TOKEN_LOCATION`: where requests carry tokens, tried in order; default `headers`.
    #[default(vec![Location::Headers])]
    #[serde(deserialize_with = "forms::locations")]
    pub token_location: Vec<Location>,
    /// `JWT_HEADER_NAME`: the header that carries the token; default `Authorization`.
    #[default = "Authorization"]
    pub header_name: String,
    /// `JWT_QUERY_STRING_NAME`: the query parameter that carries the token; default `jwt`.
    #[default = "jwt"]
    pub query_string_name: String,
    /// `JWT_QUERY_STRING_VALUE_PREFIX`: what the query value starts with before the token;
    /// default none.
    pub query_string_value_prefix: String,
    /// `JWT_JSON_KEY`: the member of a JSON body that carries an access token; default
    /// `access_token`.
    #[default = "access_token"]
    pub json_key: String,
    /// `JWT_REFRESH_JSON_KEY`: the member that carries a refresh token; default `refresh_token`.
    #[default = "refresh_token"]
    pub refresh_json_key: String,
    /// `JWT_ACCESS_COOKIE_NAME`; default `access_token_cookie`.
    #[default = "access_token_cookie"]
    pub access_cookie_name: String,
    /// `JWT_ACCESS_COOKIE_PATH`; default `/`.
    #[default = "/"]
    pub access_cookie_path: String,
    /// `JWT_REFRESH_COOKIE_NAME`; default `refresh_token_cookie`.
    #[default = "refresh_token_cookie"]
    pub refresh_cookie_name: String,
    /// `JWT_REFRESH_COOKIE_PATH`; default `/`.
    #[default = "/"]
    pub refresh_cookie_path: String,
    /// `JWT_ACCESS_CSRF_COOKIE_NAME`; default `csrf_access_token`.
    #[default = "csrf_access_token"]
    pub access_csrf_cookie_name: String,
    /// `JWT_ACCESS_CSRF_COOKIE_PATH`; default `/`.
    #[default = "/"]
    pub access_csrf_cookie_path: String,
    /// `JWT_REFRESH_CSRF_COOKIE_NAME`; default `csrf_refresh_token`.
    #[default = "csrf_refresh_token"]
    pub refresh_csrf_cookie_name: String,
    /// `JWT_REFRESH_CSRF_COOKIE_PATH`; default `/`.
    #[default = "/"]
    pub refresh_csrf_cookie_path: String,
    /// `JWT_ACCESS_CSRF_HEADER_NAME`; default `X-CSRF-TOKEN`.
    #[default = "X-CSRF-TOKEN"]
    pub access_csrf_header_name: String,
    /// `JWT_REFRESH_CSRF_HEADER_NAME`; default `X-CSRF-TOKEN`.
    #[default = "X-CSRF-TOKEN"]
    pub refresh_csrf_header_name: String,
    /// `JWT_ACCESS_CSRF_FIELD_NAME`: the form field read when `csrf_check_form` is on; default
    /// `csrf_token`.
    #[default = "csrf_token"]
    pub access_csrf_field_name: String,
    /// `JWT_REFRESH_CSRF_FIELD_NAME`; default `csrf_token`.
    #[default = "csrf_token"]
    pub refresh_csrf_field_name: String,
    /// `JWT_COOKIE_CSRF_PROTECT`: issued tokens carry a `csrf` claim, and a cookie token on a
    /// `csrf_methods` request needs the same value in the CSRF header; default `true`.
    #[default = true]
    pub cookie_csrf_protect: bool,
    /// `JWT_CSRF_METHODS`: the methods that need the CSRF value; default `POST`, `PUT`, `PATCH`,
    /// `DELETE`. Compared case-insensitively.
    #[default(strings(&["POST", "PUT", "PATCH", "DELETE"]))]
    #[serde(deserialize_with = "forms::names")]
    pub csrf_methods: Vec<String>,
    /// `JWT_CSRF_CHECK_FORM`: also read the CSRF value from the form field when the header is
    /// absent; default `false`.
    pub csrf_check_form: bool,
    /// `JWT_CSRF_IN_COOKIES`: the cookie helpers also set the CSRF cookies (readable by the
    /// page's JavaScript); default `true`.
    #[default = true]
    pub csrf_in_cookies: bool,
    /// `JWT_COOKIE_SECURE`: cookies are sent over HTTPS only; default `false`.
    pub cookie_secure: bool,
    /// `JWT_COOKIE_DOMAIN`: the cookies' `Domain`; default none (the host only).
    pub cookie_domain: Option<String>,
    /// `JWT_COOKIE_SAMESITE`: `Strict`, `Lax` or `None`; default unset (no attribute).
    pub cookie_samesite: Option<String>,
    /// `JWT_SESSION_COOKIE`: cookies end with the browser session; `false` gives them a max-age
    /// of 31,540,000 s (a year). Default `true`.
    #[default = true]
    pub session_cookie: bool,
    /// `JWT_ENCODE_AUDIENCE`: the `aud` of issued tokens (one value is written as a string);
    /// default none.
    #[serde(deserialize_with = "forms::names")]
    pub encode_audience: Vec<String>,
    /// `JWT_ENCODE_ISSUER`: the `iss` of issued tokens; default none.
    pub encode_issuer: Option<String>,
    /// `JWT_ENCODE_NBF`: issued tokens carry `nbf`; default `true`.
    #[default = true]
    pub encode_nbf: bool,
    /// `JWT_ERROR_MESSAGE_KEY`: the member of the extended profile's error bodies; default `msg`.
    #[default = "msg"]
    pub error_message_key: String,
    /// Where the built-in refresh resource is mounted (`POST`, refresh token in, new access token
    /// out); default none (off). `true` mounts it at `/refresh`.
    #[serde(with = "forms::refresh_rule")]
    pub refresh_url_rule: Option<String>,
    // ----- Revocation ---------------------------------------------------------------------------
    /// The Redis (or Valkey) server that holds revoked tokens, shared by every instance:
    /// `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. Default none (no
    /// built-in revocation store). Its `Debug` output is redacted (it may hold a password).
    /// Needs the `redis` feature.
    #[serde(with = "forms::secret")]
    pub redis_url: Option<Secret>,
    /// The prefix of every Redis key and of the invalidation channel, so that applications can
    /// share a server; default `jwt:revocation:`.
    #[default = "jwt:revocation:"]
    pub redis_key_prefix: String,
    /// How the Redis store lays out a revoked token's key: `default` (this library's, under
    /// `redis_key_prefix`), or `flask-jwt-extended` (Flask-JWT-Extended's Redis blocklist
    /// recipe: the token's `jti` alone), so that a Flask application written as that recipe and
    /// this one refuse each other's revoked tokens. A subject's revocation ("log out everywhere")
    /// keeps this library's key, which the Flask side honours only with the check the README
    /// shows; and the near-cache is off, since the Flask side publishes no invalidations.
    pub revocation_key_layout: RevocationKeyLayout,
    /// PEM certificates of the CAs that a `rediss://` server's certificate must chain to, in
    /// place of the system's roots: a self-hosted Redis with its own CA. Default none (the
    /// system's roots). `redis_ca_certificate_file` reads it from a file.
    pub redis_ca_certificate: Option<String>,
    /// A PEM client certificate (chain) for a `rediss://` server that asks clients for one
    /// (mutual TLS, `tls-auth-clients yes`), with `redis_client_key`. Default none.
    /// `redis_client_certificate_file` reads it from a file.
    pub redis_client_certificate: Option<String>,
    /// The PEM private key of `redis_client_certificate`; its `Debug` output is redacted.
    /// `redis_client_key_file` reads it from a file.
    #[serde(with = "forms::secret")]
    pub redis_client_key: Option<Secret>,
    /// Whether `redis_url` names a node of a Redis Cluster (any one: the others, and which of
    /// them holds which keys, are learnt from it); default `false`. Every key of a subject is in
    /// one hash slot, and the invalidation channel reaches every node.
    pub redis_cluster: bool,
    /// When the revocation state of a token cannot be read in time (the store is down or slow):
    /// `false` (the default) refuses the request with 503; `true` accepts the token, with one
    /// warning per outage in the log.
    pub revocation_fail_open: bool,
    /// Whether the Redis store keeps its near-cache (revocation state held in this process,
    /// invalidated through Redis pub/sub), so that a warm request pays no Redis round trip;
    /// default `true`. `false` reads Redis on every request that the verified-token cache does
    /// not answer alone: no staleness at all, one round trip per request.
    #[default = true]
    pub revocation_near_cache: bool,
    /// How long a revocation lookup may take before the state counts as unknown; default 0.5 s.
    #[default(Duration::from_millis(500))]
    #[serde(with = "forms::seconds")]
    pub revocation_timeout: Duration,
    // ----- Refresh-token rotation ---------------------------------------------------------------
    /// Refresh-token rotation with reuse detection (RFC 9700 §4.14.2); default `false`, as in
    /// Flask-JWT-Extended. When `true`, every refresh (a route with `#[jwt_required(refresh)]`,
    /// or the refresh resource) replaces the presented refresh token with a successor of the
    /// same family (the `fam` claim), and the presented one stops working. Presenting a token
    /// that was already replaced revokes its whole family, on every instance sharing the store,
    /// and answers 401. The families are kept in the revocation store (`redis_url`, or a
    /// [`MemoryStore`](crate::revocation::MemoryStore) when none is configured). Needs
    /// `refresh_token_expires`, so that a family ends.
    pub refresh_token_rotation: bool,
    /// How long (seconds) a replaced refresh token may be presented again and get the same
    /// successor, for clients that refresh twice at once; only the token replaced last, never
    /// an older one. Default 0 (none).
    #[default(Duration::ZERO)]
    #[serde(with = "forms::seconds")]
    pub refresh_token_reuse_grace: Duration,
    /// Whether a reuse also revokes the newest access token the family issued (through a
    /// refresh); default `true`.
    #[default = true]
    pub refresh_token_reuse_revokes_access: bool,
    /// Whether a family records the `User-Agent` of its login and refreshes, for the sessions a
    /// user can see; default `false`.
    pub refresh_token_record_user_agent: bool,
    // ----- OAuth resource server -----------------------------------------------------------------
    /// The claims a token's scopes are read from, for routes with `scopes` or `any_scope`, in
    /// order: the first the token carries is read (`scope` as a space-delimited string, any
    /// other as an array of strings). Default `scope`, `scp`, `permissions` (Auth0's RBAC
    /// claim), so `permissions` counts only in a token without `scope`.
    #[default(strings(&["scope", "scp", "permissions"]))]
    #[serde(deserialize_with = "forms::names")]
    pub scope_claims: Vec<String>,
    /// Every claim of `scope_claims` grants its scopes, not only the first the token carries:
    /// Auth0's RBAC `permissions` then count beside `scope`, so a client may use a permission of
    /// the user's that it never asked for and the user never consented to. Default `false`.
    pub merge_scope_claims: bool,
    /// RFC 9068's JWT profile for OAuth 2.0 access tokens: `typ` must be `at+jwt` (unless
    /// `expected_typ` says otherwise); `iss`, `exp`, `aud`, `sub`, `client_id`, `iat` and `jti`
    /// are required; tokens older than `max_age` (default one day here) are refused; `nbf` is
    /// checked when present. Needs `issuer` (or `authority`) and `audience`. Default `false`.
    pub strict_access_tokens: bool,
    /// RFC 9728 protected-resource metadata: served at `/.well-known/oauth-protected-resource`
    /// and named by the `resource_metadata` parameter of `Bearer` challenges. Default: none.
    pub protected_resource: Option<ProtectedResource>,
    /// Several trusted authorities, each with its own issuer, audience, keys and algorithms, in
    /// place of the single authority of `issuer`/`authority`/`jwks_url`/`public_key`. A token is
    /// checked against the one its `iss` names. Default: none. An authority whose keys come from
    /// a JWKS needs the `remote-keys` feature.
    pub authorities: Vec<TrustedAuthority>,
    // ----- DPoP (RFC 9449) -----------------------------------------------------------------------
    /// Whether protected routes take DPoP-bound tokens with their proofs: `off` (the default),
    /// `allowed` (bearer tokens too) or `required`. A route's `dpop = ".."` overrides it.
    pub dpop: DpopMode,
    /// The algorithms a DPoP proof may be signed with; asymmetric only. Default ES256, ES384,
    /// EdDSA, PS256, PS384, PS512, RS256, RS384, RS512.
    #[default(vec![
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
    ])]
    #[serde(deserialize_with = "forms::algorithms")]
    pub dpop_algorithms: Vec<Algorithm>,
    /// How old a DPoP proof may be, in seconds (its `iat`); a proof may also be up to 30 seconds
    /// ahead of this server's clock. Each proof's `jti` is remembered this long (plus those 30
    /// seconds) to refuse replays. Default 300.
    #[default(Duration::from_secs(300))]
    #[serde(with = "forms::seconds")]
    pub dpop_iat_window: Duration,
    /// Server nonces (RFC 9449 §9): every proof must carry a nonce this server issued (the
    /// `DPoP-Nonce` header of a `use_dpop_nonce` answer, or of a response once the nonce is
    /// renewed). Stateless: a MAC over a time step, accepted by every instance sharing
    /// `dpop_nonce_secret`. Default `false`.
    pub dpop_nonce: bool,
    /// The key of the server nonces, shared by every instance of a fleet (at least 32 bytes).
    /// Default: derived from `secret_key` when it is set, else a random key of this process
    /// (nonces then hold on this instance only).
    #[serde(with = "forms::secret")]
    pub dpop_nonce_secret: Option<Secret>,
    /// How long one server nonce is issued, in seconds; a nonce is accepted during its step and
    /// the next. Default 300.
    #[default(Duration::from_secs(300))]
    #[serde(with = "forms::seconds")]
    pub dpop_nonce_lifetime: Duration,
    /// The most DPoP proofs the in-memory replay store remembers at once (without `redis_url`);
    /// a proof beyond it is refused with 503 until older ones expire. Default 1,000,000.
    #[default = 1_000_000]
    pub dpop_replay_capacity: usize,
    /// The scheme and authority this application is reached at (`https://api.example.com`),
    /// which a DPoP proof's `htu` is compared against. Default: none, and the origin is the
    /// request's `Host` with `https` when Rocket serves TLS, else `http` (or, from a proxy of
    /// `trusted_proxies`, its `X-Forwarded-Proto` and `X-Forwarded-Host`).
    pub public_origin: Option<String>,
    /// The addresses of the reverse proxies whose `X-Forwarded-Proto` and `X-Forwarded-Host`
    /// headers are believed when `public_origin` is not set. Default: none (those headers are
    /// ignored).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    // ----- Observability ---------------------------------------------------------------------------
    /// Metrics in Prometheus's text format: every protected request's outcome and reason by
    /// route, the guard's latency, the verified-token cache, the JWKS, the revocation store, and
    /// the session events, served at `metrics_path`. Default `false` (nothing is counted).
    pub metrics: bool,
    /// Where the metrics are served. Default `/metrics`.
    #[default = "/metrics"]
    pub metrics_path: String,
    /// The client addresses allowed to read the metrics; empty allows any. Default the
    /// loopback addresses (`127.0.0.1`, `::1`): a scraper elsewhere must be named.
    #[default(vec![
        std::net::IpAddr::from([127, 0, 0, 1]),
        std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
    ])]
    pub metrics_allow: Vec<std::net::IpAddr>,
    /// An OpenTelemetry collector's OTLP/HTTP metrics URL
    /// (`http://127.0.0.1:4318/v1/metrics`): the same counters are also pushed there, in
    /// protobuf, every `metrics_otlp_interval`. Needs `metrics` and the `otlp` cargo feature.
    /// Default none (nothing is pushed).
    pub metrics_otlp_endpoint: Option<String>,
    /// How often the metrics are pushed to `metrics_otlp_endpoint`, in seconds; default 10.
    #[default(Duration::from_secs(10))]
    #[serde(with = "forms::seconds")]
    pub metrics_otlp_interval: Duration,
    /// Audit records of the security events, one `log` record each at level info under the
    /// target `jwt::audit`: refusals (with the metrics' reason), logins, refreshes, logouts,
    /// subjects revoked, refresh-token reuse and signing keys created or retired, with their
    /// route template, client address and, for a verified identity, its subject; never a token,
    /// a secret or a CSRF value. `off` (the default), `text` (the message is `key=value` pairs)
    /// or `json` (one JSON object); the record's key-values hold the same fields either way.
    pub audit_log: AuditLog,
}

/// How the Redis store lays out a revoked token's key (the `revocation_key_layout` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationKeyLayout {
    /// `<redis_key_prefix>{<subject>}:t:<jti>` (subject and `jti` base64url-encoded), the subject
    /// as the hash tag of a Redis Cluster, each revocation published on the invalidation channel.
    #[default]
    Default,
    /// The `jti` alone, as Flask-JWT-Extended's Redis blocklist recipe writes and reads it (any
    /// value, expiring with the token).
    FlaskJwtExtended,
}

/// Whose defaults, claims and error answers apply (the `profile` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Flask-JWT 0.3.2: `Authorization: JWT <token>`, the `identity` claim, 5-minute tokens from
    /// `POST /auth`, `{"status_code", "error", "description"}` errors.
    #[default]
    FlaskJwt,
    /// Flask-JWT-Extended 4.7.1: `Authorization: Bearer <token>`, the `sub` claim, access
    /// (15 minutes) and refresh (30 days) tokens, `{"msg": ...}` errors, no `/auth`.
    Extended,
}

impl Profile {
    /// The profile as the settings, the metrics' labels and the audit records write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::FlaskJwt => "flask_jwt",
            Profile::Extended => "extended",
        }
    }
}

impl Settings {
    /// The defaults of `profile`: [`Settings::default`] for Flask-JWT, and for the extended
    /// profile Flask-JWT-Extended 4.7.1's.
    pub fn for_profile(profile: Profile) -> Settings {
        let flask_jwt = Settings::default();
        match profile {
            Profile::FlaskJwt => flask_jwt,
            Profile::Extended => Settings {
                profile,
                auth_header_prefix: "Bearer".into(),
                identity_claim: "sub".into(),
                leeway: Duration::ZERO,
                expiration_delta: Duration::from_secs(15 * 60),
                auth_url_rule: None,
                ..flask_jwt
            },
        }
    }
}

impl Settings {
    /// The claims a token must carry: `required_claims` when it is set, else the default of the
    /// profile and of where keys come from ([`Settings::default_required_claims`]).
    pub fn effective_required_claims(&self) -> Vec<&str> {
        match &self.required_claims {
            Some(claims) => claims.iter().map(String::as_str).collect(),
            None => self.default_required_claims().to_vec(),
        }
    }

    /// `required_claims`' default: none in the extended profile (Flask-JWT-Extended requires
    /// nothing), `exp` when tokens come from an issuer (what every major issuer emits), and
    /// Flask-JWT's `exp`, `iat`, `nbf` otherwise.
    pub fn default_required_claims(&self) -> &'static [&'static str] {
        match self.profile {
            Profile::Extended => &[],
            Profile::FlaskJwt if self.external_issuer() => &["exp"],
            Profile::FlaskJwt => &["exp", "iat", "nbf"],
        }
    }

    /// Whether tokens come from an issuer (Auth0, any OIDC provider, several authorities)
    /// rather than from this application alone: `authority`, `jwks_url`, `issuer` or
    /// `authorities` is set. Such tokens are held to what real issuers emit: `exp` required,
    /// `iss`, `sub` and `jti` strings (RFC 7519 §4.1).
    pub fn external_issuer(&self) -> bool {
        self.authority.is_some()
            || self.jwks_url.is_some()
            || self.issuer.is_some()
            || !self.authorities.is_empty()
    }
}

/// Flask-JWT's `JWT_AUTH_URL_RULE` default.
const DEFAULT_AUTH_URL_RULE: &str = "/auth";
/// The refresh resource's path when `refresh_url_rule` is `true`.
const DEFAULT_REFRESH_URL_RULE: &str = "/refresh";

/// Owned copies of `items`, for the list defaults.
fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|&item| item.to_owned()).collect()
}

/// The largest leeway accepted: more would make expiry meaningless.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Why the settings could not be resolved at ignition.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value in Rocket's configuration or the environment has the wrong type or form.
    #[error("{}", layers::describe_config_error(.0))]
    Config(#[from] Box<figment::Error>),
    /// A setting holds a value this library does not know.
    #[error("invalid jwt setting `{setting}`: {reason}")]
    Invalid {
        /// The setting's name.
        setting: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

/// Parses an algorithm name as PyJWT spells it (`HS256`, `RS256`, ...).
pub fn parse_algorithm(name: &str) -> Result<Algorithm, SettingsError> {
    algorithm_from_name(name).map_err(|reason| SettingsError::Invalid {
        setting: "algorithm",
        reason,
    })
}

/// The algorithm named `name`, or why there is none.
fn algorithm_from_name(name: &str) -> Result<Algorithm, String> {
    Algorithm::from_str(name).map_err(|_| {
        format!(
            "unknown algorithm {name:?}; expected one of HS256, HS384, HS512, RS256, RS384, \
             RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::layers::KeyFiles;
    use super::*;
    use rocket::figment::providers::Serialized;
    use rocket::figment::Figment;
    use std::path::PathBuf;
    use std::sync::{Mutex, MutexGuard};

    /// Held by every test here that resolves settings: they all read the `JWT_*` environment,
    /// which some of them set.
    static ENVIRONMENT: Mutex<()> = Mutex::new(());

    fn environment() -> MutexGuard<'static, ()> {
        ENVIRONMENT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `std::env::set_var`, unsafe since edition 2024; called with `ENVIRONMENT` held.
    fn set_env(name: &str, value: &str) {
        // SAFETY: the other tests of this binary run on other threads. Those that read the
        // environment hold `ENVIRONMENT` and read it through `std::env`, which std orders with this
        // write anyway. Only C code calling `getenv` meanwhile could race (aws-lc does, once, at
        // its first use): the risk these tests took before edition 2024, unchanged.
        unsafe { std::env::set_var(name, value) };
    }

    /// `std::env::remove_var`, unsafe since edition 2024; called with `ENVIRONMENT` held.
    fn remove_env(name: &str) {
        // SAFETY: as in `set_env`.
        unsafe { std::env::remove_var(name) };
    }

    /// `builder` under the `jwt` table `table`, the environment held still.
    fn resolve(builder: Settings, table: serde_json::Value) -> Result<Settings, SettingsError> {
        let _environment = environment();
        builder.with_rocket_config(&Figment::new().merge(Serialized::default("jwt", table)))
    }

    /// The settings with only `table` configured.
    fn configured(table: serde_json::Value) -> Settings {
        resolve(Settings::default(), table).expect("valid settings")
    }

    /// The error `table` makes, as displayed.
    fn refused(table: serde_json::Value) -> String {
        resolve(Settings::default(), table)
            .expect_err("invalid settings")
            .to_string()
    }

    /// The settings with these `JWT_*` variables set (and removed afterwards).
    fn from_environment(variables: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let _environment = environment();
        for (name, value) in variables {
            set_env(name, value);
        }
        let resolved = Settings::default().with_rocket_config(&Figment::new());
        for (name, _) in variables {
            remove_env(name);
        }
        resolved
    }

    /// The DPoP settings keep the names operators rely on, as `JWT_*` variables and in the
    /// `jwt` table, and refuse what cannot work.
    #[test]
    fn dpop_settings_are_read_under_their_names() {
        let resolved = from_environment(&[
            ("JWT_DPOP", "required"),
            ("JWT_DPOP_ALGORITHMS", "[ES256, EdDSA]"),
            ("JWT_DPOP_IAT_WINDOW", "60"),
            ("JWT_DPOP_NONCE", "true"),
            (
                "JWT_DPOP_NONCE_SECRET",
                "a nonce secret of at least 32 bytes",
            ),
            ("JWT_PUBLIC_ORIGIN", "https://api.example.com"),
            ("JWT_TRUSTED_PROXIES", "[\"10.0.0.1\"]"),
        ])
        .expect("valid settings");
        assert_eq!(resolved.dpop, DpopMode::Required);
        assert_eq!(
            resolved.dpop_algorithms,
            [Algorithm::ES256, Algorithm::EdDSA]
        );
        assert_eq!(resolved.dpop_iat_window, Duration::from_secs(60));
        assert!(resolved.dpop_nonce);
        assert!(resolved.dpop_nonce_secret.is_some());
        assert_eq!(
            resolved.public_origin.as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(
            resolved.trusted_proxies,
            ["10.0.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
        let table = configured(serde_json::json!({"dpop": "allowed", "dpop_algorithms": "ES256"}));
        assert_eq!(table.dpop, DpopMode::Allowed);
        assert_eq!(Settings::default().dpop, DpopMode::Off);
        for (table, setting) in [
            (serde_json::json!({"dpop": "on"}), "dpop"),
            (
                serde_json::json!({"dpop_algorithms": ["HS256"]}),
                "dpop_algorithms",
            ),
            (
                serde_json::json!({"dpop_nonce_secret": "short"}),
                "dpop_nonce_secret",
            ),
            (
                serde_json::json!({"public_origin": "https://api.example.com/v1"}),
                "public_origin",
            ),
            (
                serde_json::json!({"public_origin": "api.example.com"}),
                "public_origin",
            ),
            (serde_json::json!({"dpop_iat_window": 0}), "dpop_iat_window"),
        ] {
            let error = refused(table.clone());
            assert!(error.contains(setting), "{table}: {error}");
        }
        assert!(resolve(
            Settings::default(),
            serde_json::json!({"public_origin": "https://API.example.com:8443/"})
        )
        .is_ok());
    }

    /// `audit_log` is read as `JWT_AUDIT_LOG` and in the `jwt` table, `off` by default; another
    /// value is refused, naming the setting.
    #[test]
    fn audit_log_is_read_under_its_name() {
        let resolved = from_environment(&[("JWT_AUDIT_LOG", "json")]).expect("valid settings");
        assert_eq!(resolved.audit_log, AuditLog::Json);
        let table = configured(serde_json::json!({"audit_log": "text"}));
        assert_eq!(table.audit_log, AuditLog::Text);
        assert_eq!(Settings::default().audit_log, AuditLog::Off);
        let error = refused(serde_json::json!({"audit_log": "yes"}));
        assert!(error.contains("audit_log"), "{error}");
    }

    #[test]
    fn defaults_are_flask_jwt_0_3_2() {
        let s = Settings::default();
        assert_eq!(s.default_realm, "Login Required");
        assert_eq!(s.auth_url_rule.as_deref(), Some("/auth"));
        assert_eq!(s.auth_endpoint, "jwt");
        assert_eq!(s.auth_username_key, "username");
        assert_eq!(s.auth_password_key, "password");
        assert_eq!(s.algorithm, Algorithm::HS256);
        assert_eq!(s.leeway, Duration::from_secs(10));
        assert!(s.verify && s.verify_expiration);
        assert_eq!(s.auth_header_prefix, "JWT");
        assert_eq!(s.expiration_delta, Duration::from_secs(300));
        assert_eq!(s.not_before_delta, Duration::ZERO);
        assert_eq!(s.verify_claims, ["signature", "exp", "nbf", "iat"]);
        assert_eq!(s.required_claims, None);
        assert_eq!(s.effective_required_claims(), ["exp", "iat", "nbf"]);
        assert!(s.secret_key.is_none());
    }

    #[test]
    fn configuration_overrides_the_builder() {
        let figment = Figment::new().merge(Serialized::default(
            "jwt",
            serde_json::json!({
                "expiration_delta": 60,
                "algorithm": "HS512",
                "auth_url_rule": false,
                "secret_key": "from-config",
                "verify_claims": ["signature", "exp"],
            }),
        ));
        let builder = Settings {
            expiration_delta: Duration::from_secs(5),
            default_realm: "From builder".into(),
            ..Settings::default()
        };
        let s = {
            let _environment = environment();
            builder.with_rocket_config(&figment).unwrap()
        };
        assert_eq!(s.expiration_delta, Duration::from_secs(60));
        assert_eq!(s.algorithm, Algorithm::HS512);
        assert_eq!(s.auth_url_rule, None);
        assert_eq!(s.secret_key, Some(Secret::new("from-config")));
        assert_eq!(s.default_realm, "From builder");
        assert_eq!(s.verify_claims, ["signature", "exp"]);
    }

    #[test]
    fn bad_values_are_named() {
        let _environment = environment();
        let figment = Figment::new().merge(Serialized::default("jwt.algorithm", "HS257"));
        let err = Settings::default()
            .with_rocket_config(&figment)
            .unwrap_err();
        assert!(err.to_string().contains("`algorithm`"), "{err}");

        let figment = Figment::new().merge(Serialized::default("jwt.leeway", "ten"));
        let err = Settings::default()
            .with_rocket_config(&figment)
            .unwrap_err();
        assert!(err.to_string().contains("leeway"), "{err}");

        let figment = Figment::new().merge(Serialized::default("jwt.required_claims", ["sub"]));
        let err = Settings::default()
            .with_rocket_config(&figment)
            .unwrap_err();
        assert!(err.to_string().contains("required_claims"), "{err}");

        let figment = Figment::new().merge(Serialized::default("jwt.auth_header_prefix", "A B"));
        assert!(Settings::default().with_rocket_config(&figment).is_err());

        let figment = Figment::new().merge(Serialized::default(
            "jwt.revocation_key_layout",
            "flask_jwt",
        ));
        let err = Settings::default()
            .with_rocket_config(&figment)
            .unwrap_err();
        assert!(err.to_string().contains("revocation_key_layout"), "{err}");
    }

    #[test]
    fn the_revocation_key_layout_is_read_by_its_name() {
        let _environment = environment();
        assert_eq!(
            Settings::default().revocation_key_layout,
            RevocationKeyLayout::Default
        );
        for (text, layout) in [
            ("default", RevocationKeyLayout::Default),
            ("flask-jwt-extended", RevocationKeyLayout::FlaskJwtExtended),
        ] {
            let figment =
                Figment::new().merge(Serialized::default("jwt.revocation_key_layout", text));
            let settings = Settings::default().with_rocket_config(&figment).unwrap();
            assert_eq!(settings.revocation_key_layout, layout, "{text}");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s = Settings {
            secret_key: Some(Secret::new("super-secret")),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("super-secret"));
    }

    #[test]
    #[cfg(feature = "remote-keys")] // `oidc_discovery` is set
    fn builder_settings_come_back_unchanged_when_nothing_is_configured() {
        let builder = Settings {
            secret_key: Some(Secret::new("0042")),
            private_key: Some(KeyMaterial::Der(vec![0x30, 0x82, 0x01, 0x0a])),
            public_key: Some(KeyMaterial::Jwk(r#"{"kty":"OKP"}"#.into())),
            auth_url_rule: None,
            algorithm: Algorithm::ES256,
            algorithms: vec![Algorithm::ES256, Algorithm::EdDSA],
            leeway: Duration::from_millis(1500),
            expiration_delta: Duration::new(60, 1),
            jwks_timeout: Duration::from_millis(300),
            max_age: Some(Duration::from_millis(250)),
            audience: vec!["a,b".into(), "c".into()],
            issuer: Some("https://issuer.example/".into()),
            verify_claims: vec!["signature".into()],
            oidc_discovery: true,
            token_cache_entries: 0,
            ..Settings::default()
        };
        assert_eq!(
            resolve(builder.clone(), serde_json::json!({})).unwrap(),
            builder
        );
        let pem = Settings {
            public_key: Some(KeyMaterial::Pem("-----BEGIN PUBLIC KEY-----\n...".into())),
            auth_url_rule: Some("/login".into()),
            ..Settings::default()
        };
        assert_eq!(resolve(pem.clone(), serde_json::json!({})).unwrap(), pem);
        assert_eq!(configured(serde_json::json!({})), Settings::default());
    }

    #[test]
    fn durations_are_seconds_whole_or_decimal() {
        for (written, seconds) in [
            (serde_json::json!(5), Duration::from_secs(5)),
            (serde_json::json!(2.5), Duration::from_millis(2500)),
            (serde_json::json!("7"), Duration::from_secs(7)),
            (serde_json::json!("0.25"), Duration::from_millis(250)),
            (serde_json::json!("1.000000001"), Duration::new(1, 1)),
        ] {
            let s = configured(serde_json::json!({"jwks_timeout": written, "max_age": written}));
            assert_eq!(s.jwks_timeout, seconds, "{written}");
            assert_eq!(s.max_age, Some(seconds), "{written}");
        }
        for written in [
            serde_json::json!(-1),
            serde_json::json!(-0.5),
            serde_json::json!("ten"),
            serde_json::json!("1e3"),
            serde_json::json!("1.0000000001"),
            serde_json::json!([1]),
            serde_json::json!(true),
        ] {
            let error = refused(serde_json::json!({"jwks_cooldown": written}));
            assert!(error.contains("`jwks_cooldown`"), "{written}: {error}");
            assert!(error.contains("a number of seconds"), "{written}: {error}");
        }
    }

    #[test]
    fn lists_are_written_as_lists_or_as_one_string() {
        let one = configured(serde_json::json!({
            "audience": "https://api.example/, billing",
            "algorithms": "RS256",
            "verify_claims": "exp",
            "required_claims": "iat",
        }));
        assert_eq!(one.audience, ["https://api.example/, billing"]);
        assert_eq!(one.algorithms, [Algorithm::RS256]);
        assert_eq!(one.verify_claims, ["exp"]);
        assert_eq!(one.required_claims, Some(vec!["iat".to_owned()]));
        let many = configured(serde_json::json!({
            "audience": ["a", "b"],
            "algorithms": ["RS256", "EdDSA"],
            "verify_claims": [],
        }));
        assert_eq!(many.audience, ["a", "b"]);
        assert_eq!(many.algorithms, [Algorithm::RS256, Algorithm::EdDSA]);
        assert!(many.verify_claims.is_empty());
        let error = refused(serde_json::json!({"algorithms": ["RS256", "RS257"]}));
        assert!(
            error.contains("`algorithms") && error.contains("unknown algorithm \"RS257\""),
            "{error}"
        );
        let error = refused(serde_json::json!({"audience": 5}));
        assert!(
            error.contains("`audience`") && error.contains("a list of strings, or one string"),
            "{error}"
        );
    }

    #[test]
    fn auth_url_rule_is_a_path_or_false() {
        let rule = |written| configured(serde_json::json!({"auth_url_rule": written}));
        assert_eq!(
            rule(serde_json::json!("/login")).auth_url_rule.as_deref(),
            Some("/login")
        );
        assert_eq!(rule(serde_json::json!(false)).auth_url_rule, None);
        assert_eq!(rule(serde_json::json!("")).auth_url_rule, None);
        assert_eq!(
            rule(serde_json::json!(true)).auth_url_rule.as_deref(),
            Some("/auth")
        );
        let disabled = Settings {
            auth_url_rule: None,
            ..Settings::default()
        };
        let enabled = resolve(disabled, serde_json::json!({"auth_url_rule": "/token"})).unwrap();
        assert_eq!(enabled.auth_url_rule.as_deref(), Some("/token"));
    }

    #[test]
    fn secrets_and_keys_are_refused_without_showing_them() {
        let numeric = configured(serde_json::json!({"secret_key": 123456}));
        assert_eq!(numeric.secret_key, Some(Secret::new("123456")));
        let error = refused(serde_json::json!({"secret_key": ["hunter2-hunter2"]}));
        assert!(error.contains("`secret_key` must be a string"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        let error = refused(serde_json::json!({"private_key": {"pem": "MIIEvQIBADANBg"}}));
        assert!(error.contains("`private_key`"), "{error}");
        assert!(!error.contains("MIIEvQIBADANBg"), "{error}");
        let der = configured(serde_json::json!({"public_key": [48, 130, 1, 10]}));
        assert_eq!(der.public_key, Some(KeyMaterial::Der(vec![48, 130, 1, 10])));
        let jwk = configured(serde_json::json!({"public_key": " {\"kty\":\"RSA\"}"}));
        assert!(matches!(jwk.public_key, Some(KeyMaterial::Jwk(_))));
    }

    #[test]
    fn redis_tls_files_are_read_and_a_missing_one_is_named() {
        let directory = std::env::temp_dir().join(format!("jwt-redis-pem-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let (ca, key) = (directory.join("ca.pem"), directory.join("client.key"));
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nca\n").unwrap();
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nS3cretKeyBytes\n").unwrap();
        let settings = configured(serde_json::json!({
            "redis_ca_certificate_file": ca,
            "redis_client_certificate_file": ca,
            "redis_client_key_file": key,
        }));
        assert_eq!(
            settings.redis_ca_certificate.as_deref(),
            Some("-----BEGIN CERTIFICATE-----\nca\n")
        );
        assert_eq!(
            settings.redis_client_certificate,
            settings.redis_ca_certificate
        );
        assert_eq!(
            settings.redis_client_key,
            Some(Secret::new("-----BEGIN PRIVATE KEY-----\nS3cretKeyBytes\n"))
        );
        assert!(
            !format!("{settings:?}").contains("key\n"),
            "the key is redacted"
        );
        let missing = directory.join("missing.pem");
        let error = refused(serde_json::json!({"redis_ca_certificate_file": missing}));
        assert!(error.contains("redis_ca_certificate_file"), "{error}");
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn key_files_are_the_only_keys_beside_the_settings() {
        let figment = Figment::new().merge(Serialized::default(
            "jwt",
            serde_json::json!({
                "private_key_file": "a.pem",
                "public_key_file": "b.pem",
                "redis_ca_certificate_file": "ca.pem",
                "redis_client_certificate_file": "client.pem",
                "redis_client_key_file": "client.key",
                "key_encryption_key_file": "kek.b64",
            }),
        ));
        let table = rocket::figment::value::Value::from(
            figment
                .focus("jwt")
                .extract::<figment::value::Dict>()
                .expect("a table"),
        );
        let mut ignored = Vec::new();
        let files: KeyFiles =
            serde_ignored::deserialize(&table, |path| ignored.push(path.to_string()))
                .expect("key files");
        assert!(ignored.is_empty(), "{ignored:?}");
        assert_eq!(files.private_key_file, Some(PathBuf::from("a.pem")));
        assert_eq!(files.public_key_file, Some(PathBuf::from("b.pem")));
        assert_eq!(
            files.redis_ca_certificate_file,
            Some(PathBuf::from("ca.pem"))
        );
        assert_eq!(
            (
                files.redis_client_certificate_file,
                files.redis_client_key_file
            ),
            (
                Some(PathBuf::from("client.pem")),
                Some(PathBuf::from("client.key"))
            )
        );
        let dict = figment
            .focus("jwt")
            .extract::<figment::value::Dict>()
            .unwrap();
        assert_eq!(
            files.key_encryption_key_file,
            Some(PathBuf::from("kek.b64"))
        );
        let mut keys: Vec<&str> = dict.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = KeyFiles::KEYS;
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn environment_variables_in_every_form() {
        let s = from_environment(&[
            ("JWT_SECRET_KEY", "000123"),
            ("JWT_LEEWAY", "2.5"),
            ("JWT_EXPIRATION_DELTA", "60"),
            ("JWT_AUTH_URL_RULE", "false"),
            ("JWT_VERIFY", "false"),
            ("JWT_AUDIENCE", "[https://api.example/, billing]"),
            ("JWT_ALGORITHMS", "[RS256,ES256]"),
            ("JWT_VERIFY_CLAIMS", "exp"),
            ("JWT_REQUIRED_CLAIMS", "[]"),
            ("JWT_ISSUER", "https://issuer.example/"),
            ("JWT_MAX_AGE", "0.5"),
        ])
        .expect("valid settings");
        assert_eq!(s.secret_key, Some(Secret::new("000123")));
        assert_eq!(s.leeway, Duration::from_millis(2500));
        assert_eq!(s.expiration_delta, Duration::from_secs(60));
        assert_eq!(s.auth_url_rule, None);
        assert!(!s.verify);
        assert_eq!(s.audience, ["https://api.example/", "billing"]);
        assert_eq!(s.algorithms, [Algorithm::RS256, Algorithm::ES256]);
        assert_eq!(s.verify_claims, ["exp"]);
        assert!(s.effective_required_claims().is_empty());
        assert_eq!(s.issuer.as_deref(), Some("https://issuer.example/"));
        assert_eq!(s.max_age, Some(Duration::from_millis(500)));

        let s = from_environment(&[("JWT_AUDIENCE", "a,b"), ("JWT_ALGORITHMS", "EdDSA")]).unwrap();
        assert_eq!(s.audience, ["a,b"], "a string is one item, never split");
        assert_eq!(s.algorithms, [Algorithm::EdDSA]);

        // A string that reads as a number is a number, unless quoted.
        let s = from_environment(&[("JWT_AUTH_ENDPOINT", "\"123\"")]).unwrap();
        assert_eq!(s.auth_endpoint, "123");
        let error = from_environment(&[("JWT_AUTH_ENDPOINT", "123")]).unwrap_err();
        assert!(error.to_string().contains("`auth_endpoint`"), "{error}");

        let error = from_environment(&[("JWT_LEEWAY", "ten")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`leeway`") && error.contains("JWT_"),
            "the setting and the environment are named: {error}"
        );
    }

    #[test]
    fn the_extended_profile_has_flask_jwt_extended_defaults() {
        let s = Settings::for_profile(Profile::Extended);
        assert_eq!(s.profile, Profile::Extended);
        assert_eq!(s.auth_header_prefix, "Bearer");
        assert_eq!(s.identity_claim, "sub");
        assert_eq!(s.leeway, Duration::ZERO);
        assert_eq!(s.expiration_delta, Duration::from_secs(900));
        assert_eq!(s.refresh_token_expires, Duration::from_secs(2_592_000));
        assert!(s.effective_required_claims().is_empty());
        assert_eq!(s.auth_url_rule, None);
        assert_eq!(s.token_location, [Location::Headers]);
        assert_eq!(s.csrf_methods, ["POST", "PUT", "PATCH", "DELETE"]);
        assert!(s.cookie_csrf_protect && s.csrf_in_cookies && s.session_cookie);
        assert!(!s.cookie_secure && !s.csrf_check_form);
        assert_eq!(s.cookie_samesite, None);
    }

    #[test]
    fn a_configured_profile_replaces_defaults_but_keeps_what_the_builder_set() {
        let builder = Settings {
            default_realm: "Mine".into(),
            leeway: Duration::from_secs(3),
            ..Settings::default()
        };
        let s = resolve(builder, serde_json::json!({"profile": "extended"})).unwrap();
        assert_eq!(s.profile, Profile::Extended);
        assert_eq!(
            s.auth_header_prefix, "Bearer",
            "a default follows the profile"
        );
        assert_eq!(s.identity_claim, "sub");
        assert_eq!(
            s.leeway,
            Duration::from_secs(3),
            "a value set explicitly stays"
        );
        assert_eq!(s.default_realm, "Mine");
        let back = resolve(
            Settings::for_profile(Profile::Extended),
            serde_json::json!({"profile": "flask_jwt"}),
        )
        .unwrap();
        assert_eq!(back, Settings::default());
        assert!(refused(serde_json::json!({"profile": "flask"})).contains("`profile`"));
    }

    #[test]
    fn flask_jwt_extended_names_are_read_and_win() {
        let s = configured(serde_json::json!({
            "profile": "extended",
            "decode_leeway": 5,
            "leeway": 1,
            "header_type": "JWT",
            "access_token_expires": 60,
            "decode_audience": "api",
            "decode_issuer": "https://issuer.example/",
            "decode_algorithms": ["HS256", "HS512"],
            "token_location": ["cookies", "headers"],
            "cookie_samesite": "Lax",
        }));
        assert_eq!(s.leeway, Duration::from_secs(5));
        assert_eq!(s.auth_header_prefix, "JWT");
        assert_eq!(s.expiration_delta, Duration::from_secs(60));
        assert_eq!(s.audience, ["api"]);
        assert_eq!(s.issuer.as_deref(), Some("https://issuer.example/"));
        assert_eq!(s.algorithms, [Algorithm::HS256, Algorithm::HS512]);
        assert_eq!(s.token_location, [Location::Cookies, Location::Headers]);
        assert_eq!(s.cookie_samesite.as_deref(), Some("Lax"));
        let s = from_environment(&[
            ("JWT_PROFILE", "extended"),
            (
                "JWT_TOKEN_LOCATION",
                "[headers, cookies, query_string, json]",
            ),
            ("JWT_DECODE_LEEWAY", "2"),
            ("JWT_COOKIE_CSRF_PROTECT", "false"),
        ])
        .unwrap();
        assert_eq!(s.profile, Profile::Extended);
        assert_eq!(s.token_location, Location::ALL);
        assert_eq!(s.leeway, Duration::from_secs(2));
        assert!(!s.cookie_csrf_protect);
        let error = refused(serde_json::json!({"token_location": ["body"]}));
        assert!(error.contains("unknown token location \"body\""), "{error}");
        assert!(refused(serde_json::json!({"token_location": []})).contains("token_location"));
        assert!(refused(serde_json::json!({"cookie_samesite": "lax"})).contains("cookie_samesite"));
        let unlimited = configured(serde_json::json!({
            "access_token_expires": false,
            "refresh_token_expires": false,
        }));
        assert_eq!(unlimited.expiration_delta, Duration::ZERO);
        assert_eq!(unlimited.refresh_token_expires, Duration::ZERO);
        assert!(refused(serde_json::json!({"refresh_token_expires": true}))
            .contains("or false for no expiry"));
    }

    #[test]
    fn rocket_jwt_sets_the_table_and_rocket_jwt_leeway_is_not_a_setting() {
        let _environment = environment();
        set_env("ROCKET_JWT", "{expiration_delta=5, audience=[a, b]}");
        set_env("ROCKET_JWT_LEEWAY", "7");
        let resolved = Settings::default().with_rocket_config(&rocket::Config::figment());
        remove_env("ROCKET_JWT");
        remove_env("ROCKET_JWT_LEEWAY");
        let s = resolved.expect("valid settings");
        assert_eq!(s.expiration_delta, Duration::from_secs(5));
        assert_eq!(s.audience, ["a", "b"]);
        assert_eq!(s.leeway, Settings::default().leeway);
    }
}
