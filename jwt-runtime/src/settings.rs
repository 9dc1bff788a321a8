//! Flask-JWT's settings, their defaults, and how Rocket's configuration overrides them.
//!
//! Names follow Flask-JWT without the `JWT_` prefix: `JWT_EXPIRATION_DELTA` is `expiration_delta`
//! under the `jwt` table of `Rocket.toml`, or the environment variable `JWT_EXPIRATION_DELTA`.
//! Precedence, lowest first: Flask-JWT's default, the builder, the `jwt` table of Rocket's
//! configuration (`Rocket.toml` profile or `ROCKET_JWT`), the `JWT_*` environment variables.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use rocket::figment::providers::Env;
use rocket::figment::{self, Figment};
use serde::Deserialize;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `JWT_SECRET_KEY`: the HMAC secret for HS* algorithms. No default: it must be set.
    pub secret_key: Option<Secret>,
    /// Private key (PEM or DER) used to sign tokens with RS*, PS*, ES* or EdDSA.
    pub private_key: Option<KeyMaterial>,
    /// Public key (PEM, DER or JWK) used to verify RS*, PS*, ES* or EdDSA tokens.
    pub public_key: Option<KeyMaterial>,
    /// `JWT_DEFAULT_REALM`: the realm in `WWW-Authenticate`; default `Login Required`.
    pub default_realm: String,
    /// `JWT_AUTH_URL_RULE`: where the auth resource is mounted; default `/auth`; `None` disables it.
    pub auth_url_rule: Option<String>,
    /// `JWT_AUTH_ENDPOINT`: the auth route's name; default `jwt`.
    pub auth_endpoint: String,
    /// `JWT_AUTH_USERNAME_KEY`: the username field of the auth body; default `username`.
    pub auth_username_key: String,
    /// `JWT_AUTH_PASSWORD_KEY`: the password field of the auth body; default `password`.
    pub auth_password_key: String,
    /// `JWT_ALGORITHM`: the one algorithm tokens are signed and verified with; default `HS256`.
    pub algorithm: Algorithm,
    /// `JWT_LEEWAY`: clock skew allowed on `exp`, `nbf` and `iat`; default 10 s.
    pub leeway: Duration,
    /// `JWT_VERIFY`: verify tokens at all; default `true`. `false` skips signature and claim
    /// checks and is only for debugging.
    pub verify: bool,
    /// `JWT_VERIFY_EXPIRATION`: check `exp`; default `true`.
    pub verify_expiration: bool,
    /// `JWT_AUTH_HEADER_PREFIX`: the `Authorization` scheme, matched case-insensitively;
    /// default `JWT`.
    pub auth_header_prefix: String,
    /// `JWT_EXPIRATION_DELTA`: lifetime of issued tokens (`exp - iat`); default 300 s.
    pub expiration_delta: Duration,
    /// `JWT_NOT_BEFORE_DELTA`: `nbf - iat` of issued tokens; default 0 s.
    pub not_before_delta: Duration,
    /// `JWT_VERIFY_CLAIMS`: which of `signature`, `exp`, `nbf`, `iat` are checked; default all four.
    pub verify_claims: Vec<String>,
    /// `JWT_REQUIRED_CLAIMS`: claims a token must carry; default `exp`, `iat`, `nbf`.
    pub required_claims: Vec<String>,
    /// Algorithms accepted on presented tokens; empty (the default) means `algorithm` alone.
    /// The token's `alg` header only selects among these, never adds to them.
    pub algorithms: Vec<Algorithm>,
    /// Expected `iss`, compared byte for byte (a trailing slash matters). When set, `iss` is
    /// required. Default: none, or `authority` when that is set.
    pub issuer: Option<String>,
    /// Accepted `aud` values: the token's `aud` (a string or an array) must contain one. When set,
    /// `aud` is required; when empty (the default), a token carrying `aud` is rejected.
    pub audience: Vec<String>,
    /// The claim that holds the identity: `identity` (Flask-JWT's, the default) or e.g. `sub`.
    pub identity_claim: String,
    /// The token issuer's base URL (e.g. `https://tenant.auth0.com/`): keys come from its
    /// `.well-known/jwks.json` and it is the default `issuer`.
    pub authority: Option<String>,
    /// A JWKS URL to take verification keys from (overrides the one derived from `authority`).
    pub jwks_url: Option<String>,
    /// How long fetched keys are used before a refetch; default 600 s.
    pub jwks_cache_ttl: Duration,
    /// At most one refetch per this period for unknown `kid`s; default 30 s.
    pub jwks_cooldown: Duration,
    /// Timeout of one JWKS fetch; default 5 s.
    pub jwks_timeout: Duration,
    /// How long the last good keys keep serving known `kid`s while the JWKS endpoint fails,
    /// counted from their expiry; default 3600 s. Afterwards requests fail closed.
    pub jwks_stale_for: Duration,
    /// Read `issuer` and `jwks_uri` from `<authority>/.well-known/openid-configuration`, checking
    /// that its `issuer` equals the configured one; default `false`.
    pub oidc_discovery: bool,
    /// Adds the safe detail of a rejection (expected and received `iss`/`aud`, unknown `kid`,
    /// seconds since expiry) to response descriptions. For development; default `false`. The
    /// detail is always logged.
    pub detailed_errors: bool,
    /// Tokens longer than this many bytes are refused before any decoding; default 8192.
    pub max_token_bytes: usize,
    /// When set, the header's `typ` must be this media type (compared as RFC 7515 says:
    /// case-insensitively, with or without the `application/` prefix), e.g. `at+jwt`. Default:
    /// none (`typ` is not checked).
    pub expected_typ: Option<String>,
    /// When set, tokens issued (`iat`) longer ago than this are refused, and `iat` is required.
    /// Default: none.
    pub max_age: Option<Duration>,
    /// Accept an HMAC secret shorter than its hash output (32 bytes for HS256, 48 for HS384, 64
    /// for HS512). Refused by default (RFC 7518 §3.2); this opt-out exists for a migration from a
    /// Flask-JWT app stuck with a short secret, and logs a warning at every ignition.
    pub allow_short_secret: bool,
    /// Entries of the verified-token cache: a token whose signature was verified is not verified
    /// again while cached (its time claims are, on every request). 0 turns it off. Default 4096.
    pub token_cache_entries: usize,
}

/// The largest leeway accepted: more would make expiry meaningless.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secret_key: None,
            private_key: None,
            public_key: None,
            default_realm: "Login Required".into(),
            auth_url_rule: Some("/auth".into()),
            auth_endpoint: "jwt".into(),
            auth_username_key: "username".into(),
            auth_password_key: "password".into(),
            algorithm: Algorithm::HS256,
            leeway: Duration::from_secs(10),
            verify: true,
            verify_expiration: true,
            auth_header_prefix: "JWT".into(),
            expiration_delta: Duration::from_secs(300),
            not_before_delta: Duration::from_secs(0),
            verify_claims: ["signature", "exp", "nbf", "iat"]
                .map(String::from)
                .to_vec(),
            required_claims: ["exp", "iat", "nbf"].map(String::from).to_vec(),
            algorithms: Vec::new(),
            issuer: None,
            audience: Vec::new(),
            identity_claim: "identity".into(),
            authority: None,
            jwks_url: None,
            jwks_cache_ttl: Duration::from_secs(600),
            jwks_cooldown: Duration::from_secs(30),
            jwks_timeout: Duration::from_secs(5),
            jwks_stale_for: Duration::from_secs(3600),
            oidc_discovery: false,
            detailed_errors: false,
            max_token_bytes: 8192,
            expected_typ: None,
            max_age: None,
            allow_short_secret: false,
            token_cache_entries: 4096,
        }
    }
}

/// Why the settings could not be resolved at ignition.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value in Rocket's configuration or the environment has the wrong type.
    #[error("invalid jwt configuration: {0}")]
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

/// A secret written as a TOML number (`secret_key = 123456`) is taken as its text, so that a type
/// error never prints the secret.
fn scalar_as_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Integer(i64),
        Unsigned(u64),
    }
    Ok(Option::<Scalar>::deserialize(deserializer)
        .map_err(|_| {
            serde::de::Error::custom("`secret_key` must be a string (its value is not shown)")
        })?
        .map(|scalar| match scalar {
            Scalar::Text(text) => text,
            Scalar::Integer(n) => n.to_string(),
            Scalar::Unsigned(n) => n.to_string(),
        }))
}

/// `auth_url_rule` in configuration: a path, or `false` / `""` to disable the auth resource.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum UrlRule {
    Enabled(bool),
    Path(String),
}

/// A string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// The settings as they appear in configuration: every one optional.
#[derive(Debug, Default, Deserialize)]
struct ConfigSettings {
    #[serde(default, deserialize_with = "scalar_as_string")]
    secret_key: Option<String>,
    private_key: Option<String>,
    private_key_file: Option<PathBuf>,
    public_key: Option<String>,
    public_key_file: Option<PathBuf>,
    default_realm: Option<String>,
    auth_url_rule: Option<UrlRule>,
    auth_endpoint: Option<String>,
    auth_username_key: Option<String>,
    auth_password_key: Option<String>,
    algorithm: Option<String>,
    leeway: Option<u64>,
    verify: Option<bool>,
    verify_expiration: Option<bool>,
    auth_header_prefix: Option<String>,
    expiration_delta: Option<u64>,
    not_before_delta: Option<u64>,
    verify_claims: Option<Vec<String>>,
    required_claims: Option<Vec<String>>,
    algorithms: Option<OneOrMany>,
    issuer: Option<String>,
    audience: Option<OneOrMany>,
    identity_claim: Option<String>,
    authority: Option<String>,
    jwks_url: Option<String>,
    jwks_cache_ttl: Option<u64>,
    jwks_cooldown: Option<u64>,
    jwks_timeout: Option<u64>,
    jwks_stale_for: Option<u64>,
    oidc_discovery: Option<bool>,
    detailed_errors: Option<bool>,
    max_token_bytes: Option<usize>,
    expected_typ: Option<String>,
    max_age: Option<u64>,
    allow_short_secret: Option<bool>,
    token_cache_entries: Option<usize>,
}

const KNOWN_KEYS: &[&str] = &[
    "secret_key",
    "private_key",
    "public_key",
    "default_realm",
    "auth_url_rule",
    "auth_endpoint",
    "auth_username_key",
    "auth_password_key",
    "algorithm",
    "leeway",
    "verify",
    "verify_expiration",
    "auth_header_prefix",
    "expiration_delta",
    "not_before_delta",
    "verify_claims",
    "required_claims",
    "private_key_file",
    "public_key_file",
    "algorithms",
    "issuer",
    "audience",
    "identity_claim",
    "authority",
    "jwks_url",
    "jwks_cache_ttl",
    "jwks_cooldown",
    "jwks_timeout",
    "jwks_stale_for",
    "oidc_discovery",
    "detailed_errors",
    "max_token_bytes",
    "expected_typ",
    "max_age",
    "allow_short_secret",
    "token_cache_entries",
];

/// The claims `verify_claims` may name.
pub(crate) const VERIFIABLE_CLAIMS: &[&str] = &["signature", "exp", "nbf", "iat"];
/// The claims `required_claims` may name.
pub(crate) const REQUIRABLE_CLAIMS: &[&str] = &["exp", "iat", "nbf"];

impl Settings {
    /// Applies the `jwt` table of Rocket's configuration, then the `JWT_*` environment variables.
    pub fn with_rocket_config(self, figment: &Figment) -> Result<Settings, SettingsError> {
        let layered = Figment::new()
            .merge(figment.focus("jwt"))
            .merge(Env::prefixed("JWT_").ignore(&["secret_key"]).global());
        if let Ok(dict) = layered.extract::<figment::value::Dict>() {
            for key in dict
                .keys()
                .filter(|key| !KNOWN_KEYS.contains(&key.as_str()))
            {
                log::warn!("jwt: unknown setting `{key}` in the configuration is ignored");
            }
        }
        let mut config: ConfigSettings = layered.extract().map_err(Box::new)?;
        // Read verbatim: figment would parse an all-digit secret as a number (losing leading zeros).
        if let Ok(secret) = std::env::var("JWT_SECRET_KEY") {
            config.secret_key = Some(secret);
        }
        self.apply(config)
    }

    fn apply(mut self, config: ConfigSettings) -> Result<Settings, SettingsError> {
        fn set<T>(target: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *target = value;
            }
        }
        if let Some(secret) = config.secret_key {
            self.secret_key = Some(Secret::new(secret));
        }
        if let Some(key) = config.private_key {
            self.private_key = Some(KeyMaterial::detect(key.into_bytes()));
        }
        if let Some(path) = config.private_key_file {
            self.private_key = Some(KeyMaterial::detect(read_key_file(
                "private_key_file",
                &path,
            )?));
        }
        if let Some(key) = config.public_key {
            self.public_key = Some(KeyMaterial::detect(key.into_bytes()));
        }
        if let Some(path) = config.public_key_file {
            self.public_key = Some(KeyMaterial::detect(read_key_file(
                "public_key_file",
                &path,
            )?));
        }
        set(&mut self.default_realm, config.default_realm);
        match config.auth_url_rule {
            None | Some(UrlRule::Enabled(true)) => {}
            Some(UrlRule::Enabled(false)) => self.auth_url_rule = None,
            Some(UrlRule::Path(path)) if path.is_empty() => self.auth_url_rule = None,
            Some(UrlRule::Path(path)) => self.auth_url_rule = Some(path),
        }
        set(&mut self.auth_endpoint, config.auth_endpoint);
        set(&mut self.auth_username_key, config.auth_username_key);
        set(&mut self.auth_password_key, config.auth_password_key);
        if let Some(name) = config.algorithm {
            self.algorithm = parse_algorithm(&name)?;
        }
        set(&mut self.leeway, config.leeway.map(Duration::from_secs));
        set(&mut self.verify, config.verify);
        set(&mut self.verify_expiration, config.verify_expiration);
        set(&mut self.auth_header_prefix, config.auth_header_prefix);
        set(
            &mut self.expiration_delta,
            config.expiration_delta.map(Duration::from_secs),
        );
        set(
            &mut self.not_before_delta,
            config.not_before_delta.map(Duration::from_secs),
        );
        set(&mut self.verify_claims, config.verify_claims);
        set(&mut self.required_claims, config.required_claims);
        if let Some(names) = config.algorithms {
            self.algorithms = names
                .into_vec()
                .iter()
                .map(|name| parse_algorithm(name))
                .collect::<Result<_, _>>()?;
        }
        if let Some(issuer) = config.issuer {
            self.issuer = Some(issuer);
        }
        set(&mut self.audience, config.audience.map(OneOrMany::into_vec));
        set(&mut self.identity_claim, config.identity_claim);
        if let Some(authority) = config.authority {
            self.authority = Some(authority);
        }
        if let Some(url) = config.jwks_url {
            self.jwks_url = Some(url);
        }
        let seconds = |value: Option<u64>| value.map(Duration::from_secs);
        set(&mut self.jwks_cache_ttl, seconds(config.jwks_cache_ttl));
        set(&mut self.jwks_cooldown, seconds(config.jwks_cooldown));
        set(&mut self.jwks_timeout, seconds(config.jwks_timeout));
        set(&mut self.jwks_stale_for, seconds(config.jwks_stale_for));
        set(&mut self.oidc_discovery, config.oidc_discovery);
        set(&mut self.detailed_errors, config.detailed_errors);
        set(&mut self.max_token_bytes, config.max_token_bytes);
        if let Some(typ) = config.expected_typ {
            self.expected_typ = Some(typ);
        }
        if let Some(age) = config.max_age {
            self.max_age = Some(Duration::from_secs(age));
        }
        set(&mut self.allow_short_secret, config.allow_short_secret);
        set(&mut self.token_cache_entries, config.token_cache_entries);
        self.validate()?;
        Ok(self)
    }

    /// Checks the values that have a closed set of meanings.
    pub fn validate(&self) -> Result<(), SettingsError> {
        check_names("verify_claims", &self.verify_claims, VERIFIABLE_CLAIMS)?;
        check_names("required_claims", &self.required_claims, REQUIRABLE_CLAIMS)?;
        let prefix = &self.auth_header_prefix;
        if prefix.is_empty() || prefix.chars().any(char::is_whitespace) {
            return Err(SettingsError::Invalid {
                setting: "auth_header_prefix",
                reason: format!("{prefix:?} must be one word, e.g. \"JWT\" or \"Bearer\""),
            });
        }
        if self.leeway > MAX_LEEWAY {
            return Err(SettingsError::Invalid {
                setting: "leeway",
                reason: format!(
                    "{} s is more than the {} s allowed: clocks that far apart need fixing, not a \
                     leeway that makes expiry meaningless",
                    self.leeway.as_secs(),
                    MAX_LEEWAY.as_secs()
                ),
            });
        }
        if self.max_token_bytes == 0 {
            return Err(SettingsError::Invalid {
                setting: "max_token_bytes",
                reason: "must be more than 0".into(),
            });
        }
        if self.identity_claim.is_empty() {
            return Err(SettingsError::Invalid {
                setting: "identity_claim",
                reason: "must name a claim, e.g. \"identity\" or \"sub\"".into(),
            });
        }
        if let Some(rule) = &self.auth_url_rule {
            if rocket::http::uri::Origin::parse_route(rule).is_err() || !rule.starts_with('/') {
                return Err(SettingsError::Invalid {
                    setting: "auth_url_rule",
                    reason: format!("{rule:?} is not a route path such as \"/auth\""),
                });
            }
        }
        Ok(())
    }
}

fn read_key_file(setting: &'static str, path: &std::path::Path) -> Result<Vec<u8>, SettingsError> {
    std::fs::read(path).map_err(|e| SettingsError::Invalid {
        setting,
        reason: format!("cannot read {}: {e}", path.display()),
    })
}

fn check_names(
    setting: &'static str,
    names: &[String],
    known: &[&str],
) -> Result<(), SettingsError> {
    match names.iter().find(|name| !known.contains(&name.as_str())) {
        None => Ok(()),
        Some(name) => Err(SettingsError::Invalid {
            setting,
            reason: format!("unknown claim {name:?}; expected some of {known:?}"),
        }),
    }
}

/// Parses an algorithm name as PyJWT spells it (`HS256`, `RS256`, ...).
pub fn parse_algorithm(name: &str) -> Result<Algorithm, SettingsError> {
    Algorithm::from_str(name).map_err(|_| SettingsError::Invalid {
        setting: "algorithm",
        reason: format!(
            "unknown algorithm {name:?}; expected one of HS256, HS384, HS512, RS256, RS384, \
             RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::figment::providers::Serialized;

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
        assert_eq!(s.required_claims, ["exp", "iat", "nbf"]);
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
        let s = builder.with_rocket_config(&figment).unwrap();
        assert_eq!(s.expiration_delta, Duration::from_secs(60));
        assert_eq!(s.algorithm, Algorithm::HS512);
        assert_eq!(s.auth_url_rule, None);
        assert_eq!(s.secret_key, Some(Secret::new("from-config")));
        assert_eq!(s.default_realm, "From builder");
        assert_eq!(s.verify_claims, ["signature", "exp"]);
    }

    #[test]
    fn bad_values_are_named() {
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
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s = Settings {
            secret_key: Some(Secret::new("super-secret")),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("super-secret"));
    }
}
