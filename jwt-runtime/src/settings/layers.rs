//! How the settings given in code are layered under Rocket's configuration at ignition: the
//! `jwt` table of `Rocket.toml` (or `ROCKET_JWT`), the `JWT_*` environment variables,
//! Flask-JWT-Extended's names for settings named otherwise here, key and certificate files, and
//! a profile chosen in configuration over the code's. Uses the settings' own types only.

use std::path::PathBuf;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use rocket::figment::providers::{Env, Serialized};
use rocket::figment::{self, Figment};
use serde::Deserialize;

use super::{check_features, forms, KeyMaterial, Profile, Secret, Settings, SettingsError};

/// Configuration errors, each naming the setting and where its value came from.
pub(super) fn describe_config_error(error: &figment::Error) -> String {
    let describe = |error: figment::Error| {
        let mut text = if error.path.is_empty() {
            format!("invalid jwt configuration: {}", error.kind)
        } else {
            format!(
                "invalid jwt setting `{}`: {}",
                error.path.join("."),
                error.kind
            )
        };
        if let Some(metadata) = &error.metadata {
            text.push_str(&format!(" (from {}", metadata.name));
            if let Some(source) = &metadata.source {
                text.push_str(&format!(" {source}"));
            }
            text.push(')');
        }
        text
    };
    error
        .clone()
        .into_iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Keys and certificates named by file in configuration: read at ignition, each replaces its
/// setting.
#[derive(Debug, Default, Deserialize)]
pub(super) struct KeyFiles {
    pub(super) private_key_file: Option<PathBuf>,
    pub(super) public_key_file: Option<PathBuf>,
    pub(super) redis_ca_certificate_file: Option<PathBuf>,
    pub(super) redis_client_certificate_file: Option<PathBuf>,
    pub(super) redis_client_key_file: Option<PathBuf>,
    pub(super) key_encryption_key_file: Option<PathBuf>,
}

impl KeyFiles {
    /// The configuration keys of this struct, which [`Settings`] itself does not have.
    pub(super) const KEYS: [&'static str; 6] = [
        "private_key_file",
        "public_key_file",
        "redis_ca_certificate_file",
        "redis_client_certificate_file",
        "redis_client_key_file",
        "key_encryption_key_file",
    ];
}

/// Flask-JWT-Extended's names for settings this crate has under Flask-JWT's name
/// (`JWT_DECODE_LEEWAY` is `leeway`), read beside the settings from the same layers. Where both
/// names are given, the Flask-JWT-Extended one wins.
#[derive(Debug, Default, Deserialize)]
struct ExtendedNames {
    #[serde(default, with = "forms::optional_seconds")]
    decode_leeway: Option<Duration>,
    #[serde(default, deserialize_with = "forms::optional_lifetime")]
    access_token_expires: Option<Duration>,
    header_type: Option<String>,
    #[serde(default, deserialize_with = "forms::optional_names")]
    decode_audience: Option<Vec<String>>,
    decode_issuer: Option<String>,
    #[serde(default, deserialize_with = "forms::optional_algorithms")]
    decode_algorithms: Option<Vec<Algorithm>>,
}

impl ExtendedNames {
    /// The configuration keys of this struct.
    const KEYS: [&'static str; 6] = [
        "decode_leeway",
        "access_token_expires",
        "header_type",
        "decode_audience",
        "decode_issuer",
        "decode_algorithms",
    ];

    /// Writes the values given under these names into `settings`.
    fn apply(self, settings: &mut Settings) {
        if let Some(leeway) = self.decode_leeway {
            settings.leeway = leeway;
        }
        if let Some(expires) = self.access_token_expires {
            settings.expiration_delta = expires;
        }
        if let Some(prefix) = self.header_type {
            settings.auth_header_prefix = prefix;
        }
        if let Some(audience) = self.decode_audience {
            settings.audience = audience;
        }
        if let Some(issuer) = self.decode_issuer {
            settings.issuer = Some(issuer);
        }
        if let Some(algorithms) = self.decode_algorithms {
            settings.algorithms = algorithms;
        }
    }
}

/// [`Settings`] deserialized with a warning for every key that is not a setting.
struct WarnUnknownKeys(Settings);

impl<'de> Deserialize<'de> for WarnUnknownKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_ignored::deserialize(deserializer, |path| {
            let key = path.to_string();
            if !KeyFiles::KEYS.contains(&key.as_str())
                && !ExtendedNames::KEYS.contains(&key.as_str())
            {
                log::warn!("jwt: unknown setting `{key}` in the configuration is ignored");
            }
        })
        .map(WarnUnknownKeys)
    }
}

impl Settings {
    /// These settings (the builder's) overridden by Rocket's configuration, then checked.
    ///
    /// Layers, lowest first: `self`; the `jwt` table of `figment` (its default profile, then its
    /// selected profile, then its global one: `Rocket.toml`, `ROCKET_JWT`); the `JWT_*`
    /// environment variables. `JWT_SECRET_KEY` is read verbatim (an all-digit secret keeps its
    /// leading zeros). `private_key_file` and `public_key_file`, when set, replace `private_key`
    /// and `public_key` with the file's content. Keys that are not settings are logged as warnings.
    ///
    /// A `profile` configured over the builder's replaces the builder's profile defaults with its
    /// own (a value the builder set explicitly stays); Flask-JWT-Extended's names for settings
    /// this crate names otherwise (`decode_leeway`, `header_type`, ...) are read too.
    ///
    /// A setting that needs a cargo feature this build leaves out (`redis_url` without `redis`;
    /// `jwks_url`, `authority`, `oidc_discovery` or `authorities` with a JWKS without
    /// `remote-keys`) is an error naming the setting and the feature.
    pub fn with_rocket_config(self, figment: &Figment) -> Result<Settings, SettingsError> {
        let rebased = |profile| self.clone().rebased(profile);
        Settings::layered(&self, rebased, figment)
    }

    /// [`with_rocket_config`](Self::with_rocket_config) over `base`, the settings given in code;
    /// `under(profile)` gives them under another profile, when the configuration chooses one.
    pub(crate) fn layered(
        base: &Settings,
        under: impl Fn(Profile) -> Result<Settings, SettingsError>,
        figment: &Figment,
    ) -> Result<Settings, SettingsError> {
        let layers = |base: &Settings| {
            let layered = Figment::from(Serialized::defaults(base))
                .merge(figment.focus("jwt"))
                .merge(Env::prefixed("JWT_").ignore(&["secret_key"]).global());
            match std::env::var("JWT_SECRET_KEY") {
                Ok(secret) => layered.merge(Serialized::global("secret_key", secret)),
                Err(_) => layered,
            }
        };
        let mut layered = layers(base);
        let profile: Profile = layered.extract_inner("profile").map_err(Box::new)?;
        if profile != base.profile {
            layered = layers(&under(profile)?);
        }
        let WarnUnknownKeys(mut settings) = layered.extract().map_err(Box::new)?;
        let names: ExtendedNames = layered.extract().map_err(Box::new)?;
        names.apply(&mut settings);
        let files: KeyFiles = layered.extract().map_err(Box::new)?;
        if let Some(path) = files.private_key_file {
            let bytes = read_key_file("private_key_file", &path)?;
            settings.private_key = Some(KeyMaterial::detect(bytes));
        }
        if let Some(path) = files.public_key_file {
            let bytes = read_key_file("public_key_file", &path)?;
            settings.public_key = Some(KeyMaterial::detect(bytes));
        }
        if let Some(path) = files.redis_ca_certificate_file {
            settings.redis_ca_certificate =
                Some(read_pem_file("redis_ca_certificate_file", &path)?);
        }
        if let Some(path) = files.redis_client_certificate_file {
            let pem = read_pem_file("redis_client_certificate_file", &path)?;
            settings.redis_client_certificate = Some(pem);
        }
        if let Some(path) = files.redis_client_key_file {
            let pem = read_pem_file("redis_client_key_file", &path)?;
            settings.redis_client_key = Some(Secret::new(pem));
        }
        if let Some(path) = files.key_encryption_key_file {
            let text = read_pem_file("key_encryption_key_file", &path)?;
            settings.key_encryption_key = Some(Secret::new(text.trim()));
        }
        settings.validate()?;
        check_features(&settings)?;
        Ok(settings)
    }

    /// These settings under `profile`: every value still at the current profile's default takes
    /// `profile`'s default; values set otherwise stay.
    fn rebased(self, profile: Profile) -> Result<Settings, SettingsError> {
        let as_json = |settings: &Settings| {
            serde_json::to_value(settings).map_err(|e| SettingsError::Invalid {
                setting: "profile",
                reason: format!("the settings cannot be rebased: {e}"),
            })
        };
        let old = as_json(&Settings::for_profile(self.profile))?;
        let new = as_json(&Settings::for_profile(profile))?;
        let mut mine = as_json(&self)?;
        if let (Some(mine), Some(old), Some(new)) =
            (mine.as_object_mut(), old.as_object(), new.as_object())
        {
            for (key, value) in mine.iter_mut() {
                if old.get(key) == Some(value)
                    && let Some(default) = new.get(key)
                {
                    *value = default.clone();
                }
            }
        }
        serde_json::from_value(mine).map_err(|e| SettingsError::Invalid {
            setting: "profile",
            reason: format!("the settings cannot be rebased: {e}"),
        })
    }
}

fn read_key_file(setting: &'static str, path: &std::path::Path) -> Result<Vec<u8>, SettingsError> {
    std::fs::read(path).map_err(|e| SettingsError::Invalid {
        setting,
        reason: format!("cannot read {}: {e}", path.display()),
    })
}

/// A PEM file's text (certificates, a private key: never shown in the error).
fn read_pem_file(setting: &'static str, path: &std::path::Path) -> Result<String, SettingsError> {
    String::from_utf8(read_key_file(setting, path)?).map_err(|_| SettingsError::Invalid {
        setting,
        reason: format!("{} is not PEM text", path.display()),
    })
}
