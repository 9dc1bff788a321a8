//! The settings that need a cargo feature this build may leave out: `redis_url` needs `redis`;
//! `jwks_url`, `authority`, `oidc_discovery` and `authorities` with a JWKS need `remote-keys`;
//! `metrics` needs `metrics`; `metrics_otlp_endpoint` needs `otlp`.
//!
//! They are refused when Rocket ignites (by [`Settings::with_rocket_config`], which every
//! ignition goes through) and by [`TokenCodec::new`](crate::validation::TokenCodec::new), each with a
//! message naming the setting and the feature: never ignored, never a panic. The builder's
//! `build()` does not refuse them, so that an application built without a feature fails the
//! same way whether the setting comes from its code or from `Rocket.toml`.

use super::{Settings, SettingsError};

/// Whether this build has the Redis revocation store.
const REDIS: bool = cfg!(feature = "redis");

/// Whether this build fetches keys over HTTPS (JWKS, OIDC discovery).
const REMOTE_KEYS: bool = cfg!(feature = "remote-keys");

/// The error for `setting`, whose `what` needs `feature`.
fn missing(setting: &'static str, what: &str, feature: &str) -> SettingsError {
    SettingsError::Invalid {
        setting,
        reason: format!(
            "{what} needs the `{feature}` cargo feature of rocket-flask-jwt, which this build \
             leaves out: enable it (`features = [\"{feature}\"]` on the dependency) or unset \
             `{setting}`"
        ),
    }
}

/// Whether this build's crypto backend generates and encrypts keys (the key ring on Redis).
const KEY_GENERATION: bool = cfg!(feature = "aws-lc-rs");

/// Refuses the settings whose feature this build leaves out.
pub(crate) fn check(settings: &Settings) -> Result<(), SettingsError> {
    check_redis(settings)?;
    check_remote_keys(settings)?;
    check_key_rotation(settings)?;
    if settings.metrics && !cfg!(feature = "metrics") {
        return Err(missing("metrics", "serving metrics", "metrics"));
    }
    if settings.metrics_otlp_endpoint.is_some() && !cfg!(feature = "otlp") {
        return Err(missing(
            "metrics_otlp_endpoint",
            "pushing metrics over OTLP",
            "otlp",
        ));
    }
    Ok(())
}

/// Refuses `key_rotation_period` without the `redis` feature or the `aws-lc-rs` backend.
fn check_key_rotation(settings: &Settings) -> Result<(), SettingsError> {
    if settings.key_rotation_period.is_none() {
        return Ok(());
    }
    if !REDIS {
        return Err(missing(
            "key_rotation_period",
            "the key ring on Redis",
            "redis",
        ));
    }
    if !KEY_GENERATION {
        return Err(missing(
            "key_rotation_period",
            "generating and encrypting signing keys",
            "aws-lc-rs",
        ));
    }
    Ok(())
}

/// Refuses `redis_url` without the `redis` feature.
pub(crate) fn check_redis(settings: &Settings) -> Result<(), SettingsError> {
    if !REDIS && settings.redis_url.is_some() {
        return Err(missing("redis_url", "the Redis revocation store", "redis"));
    }
    Ok(())
}

/// Refuses the settings that fetch keys without the `remote-keys` feature.
fn check_remote_keys(settings: &Settings) -> Result<(), SettingsError> {
    if REMOTE_KEYS {
        return Ok(());
    }
    if settings.jwks_url.is_some() {
        return Err(missing(
            "jwks_url",
            "fetching keys from a JWKS",
            "remote-keys",
        ));
    }
    if settings.authority.is_some() {
        return Err(missing(
            "authority",
            "fetching the authority's keys (its JWKS)",
            "remote-keys",
        ));
    }
    if settings.oidc_discovery {
        return Err(missing("oidc_discovery", "OIDC discovery", "remote-keys"));
    }
    let with_jwks = settings
        .authorities
        .iter()
        .find(|authority| authority.jwks_url.is_some() || authority.public_key.is_none());
    if let Some(authority) = with_jwks {
        return Err(missing(
            "authorities",
            &format!("fetching the keys (JWKS) of authority {:?}", authority.name),
            "remote-keys",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;
    use crate::settings::TrustedAuthority;

    fn message(settings: &Settings) -> Option<String> {
        check(settings).err().map(|error| error.to_string())
    }

    #[test]
    fn settings_that_need_no_feature_pass() {
        let authority = TrustedAuthority {
            public_key: Some("-----BEGIN PUBLIC KEY-----".into()),
            ..TrustedAuthority::new("partner", "https://partner.example/")
        };
        let settings = Settings {
            authorities: vec![authority],
            ..Settings::default()
        };
        assert_eq!(message(&Settings::default()), None);
        assert_eq!(message(&settings), None);
    }

    #[test]
    #[cfg(not(feature = "redis"))]
    fn redis_url_without_the_redis_feature_names_both() {
        let settings = Settings {
            redis_url: Some(Secret::new("redis://app:hunter2@db:6379/0")),
            ..Settings::default()
        };
        let message = message(&settings).expect("refused");
        assert_eq!(
            message,
            "invalid jwt setting `redis_url`: the Redis revocation store needs the `redis` cargo \
             feature of rocket-flask-jwt, which this build leaves out: enable it \
             (`features = [\"redis\"]` on the dependency) or unset `redis_url`"
        );
        assert!(!message.contains("hunter2"));
    }

    #[test]
    #[cfg(not(feature = "redis"))]
    fn rockets_configuration_with_redis_url_fails_ignition_without_a_panic() {
        let figment = rocket::Config::figment()
            .merge(("jwt.redis_url", "redis://127.0.0.1:1/"))
            .merge(("jwt.secret_key", "a secret of at least thirty-two bytes!"));
        let error = Settings::default()
            .with_rocket_config(&figment)
            .expect_err("refused");
        assert!(error.to_string().starts_with(
            "invalid jwt setting `redis_url`: the Redis revocation store needs the `redis` cargo \
             feature"
        ));
        // The builder keeps the setting; the fairing refuses it when Rocket ignites.
        let jwt = crate::Jwt::builder()
            .extended()
            .redis_url("redis://127.0.0.1:1/")
            .build()
            .expect("build() leaves the feature check to ignition");
        let rocket = rocket::custom(figment).attach(jwt);
        let failed = rocket::local::blocking::Client::untracked(rocket).expect_err("refused");
        // Inspecting the error marks it handled (an unhandled one panics when dropped).
        assert!(matches!(
            failed.kind(),
            rocket::error::ErrorKind::FailedFairings(fairings)
                if fairings.iter().any(|f| f.name == "Flask-JWT")
        ));
    }

    #[test]
    #[cfg(not(feature = "remote-keys"))]
    fn key_fetching_settings_without_remote_keys_name_the_setting_and_the_feature() {
        let cases = [
            (
                "jwks_url",
                Settings {
                    jwks_url: Some("https://idp.example/keys".into()),
                    ..Settings::default()
                },
            ),
            (
                "authority",
                Settings {
                    authority: Some("https://tenant.auth0.com/".into()),
                    oidc_discovery: true,
                    ..Settings::default()
                },
            ),
            (
                "oidc_discovery",
                Settings {
                    oidc_discovery: true,
                    ..Settings::default()
                },
            ),
            (
                "authorities",
                Settings {
                    authorities: vec![TrustedAuthority::new("auth0", "https://t.auth0.com/")],
                    ..Settings::default()
                },
            ),
        ];
        for (setting, settings) in cases {
            let message = message(&settings).expect("refused");
            assert!(
                message.starts_with(&format!("invalid jwt setting `{setting}`: ")),
                "{message}"
            );
            assert!(
                message.contains(
                    "needs the `remote-keys` cargo feature of rocket-flask-jwt, which this build \
                     leaves out: enable it (`features = [\"remote-keys\"]` on the dependency)"
                ),
                "{message}"
            );
        }
        let partner = TrustedAuthority {
            jwks_url: Some("https://partner.example/keys".into()),
            ..TrustedAuthority::new("partner", "https://partner.example/")
        };
        let settings = Settings {
            authorities: vec![partner],
            ..Settings::default()
        };
        assert!(message(&settings)
            .expect("refused")
            .contains("the keys (JWKS) of authority \"partner\""));
    }

    #[test]
    #[cfg(not(feature = "otlp"))]
    fn metrics_otlp_endpoint_without_the_otlp_feature_names_both() {
        let settings = Settings {
            metrics_otlp_endpoint: Some("http://127.0.0.1:4318/v1/metrics".into()),
            ..Settings::default()
        };
        assert_eq!(
            message(&settings).expect("refused"),
            "invalid jwt setting `metrics_otlp_endpoint`: pushing metrics over OTLP needs the \
             `otlp` cargo feature of rocket-flask-jwt, which this build leaves out: enable it \
             (`features = [\"otlp\"]` on the dependency) or unset `metrics_otlp_endpoint`"
        );
    }

    #[test]
    #[cfg(feature = "otlp")]
    fn metrics_otlp_endpoint_with_the_otlp_feature_is_not_refused() {
        let settings = Settings {
            metrics: true,
            metrics_otlp_endpoint: Some("http://127.0.0.1:4318/v1/metrics".into()),
            ..Settings::default()
        };
        assert_eq!(message(&settings), None);
    }

    #[test]
    #[cfg(all(feature = "redis", feature = "remote-keys"))]
    fn with_every_feature_nothing_is_refused() {
        let settings = Settings {
            redis_url: Some(Secret::new("redis://127.0.0.1:1/")),
            authority: Some("https://tenant.auth0.com/".into()),
            oidc_discovery: true,
            ..Settings::default()
        };
        assert_eq!(message(&settings), None);
    }
}
