//! The start-up checks of the settings: values with a closed set of meanings, and combinations
//! that cannot work (each refusal names the setting). Uses the settings' own types, and the
//! checks of the parts a setting configures (RFC 9068, several authorities, RFC 9728).

use super::{Settings, SettingsError, MAX_LEEWAY};

/// The claims `verify_claims` may name.
const VERIFIABLE_CLAIMS: &[&str] = &["signature", "exp", "nbf", "iat"];
/// The claims `required_claims` may name.
const REQUIRABLE_CLAIMS: &[&str] = &["exp", "iat", "nbf"];

impl Settings {
    /// Checks the values that have a closed set of meanings.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let Some(same_site) = &self.cookie_samesite
            && !["Strict", "Lax", "None"].contains(&same_site.as_str())
        {
            return Err(SettingsError::Invalid {
                setting: "cookie_samesite",
                reason: format!("{same_site:?} is not one of \"Strict\", \"Lax\", \"None\""),
            });
        }
        if self.token_location.is_empty() {
            return Err(SettingsError::Invalid {
                setting: "token_location",
                reason: "names no location; expected some of headers, cookies, query_string, json"
                    .into(),
            });
        }
        check_names("verify_claims", &self.verify_claims, VERIFIABLE_CLAIMS)?;
        if let Some(required) = &self.required_claims {
            check_names("required_claims", required, REQUIRABLE_CLAIMS)?;
        }
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
        if let Some(period) = self.key_rotation_period {
            let invalid = |reason: &str| SettingsError::Invalid {
                setting: "key_rotation_period",
                reason: reason.into(),
            };
            if self.redis_url.is_none() {
                return Err(invalid("the key ring on Redis needs `redis_url`"));
            }
            if self.key_encryption_key.is_none() {
                return Err(invalid(
                    "needs `key_encryption_key` (or `key_encryption_key_file`): the private keys \
                     are kept in Redis encrypted under it",
                ));
            }
            if self.signing_keys_dir.is_some() {
                return Err(invalid("set either it or `signing_keys_dir`, not both"));
            }
            if period <= self.jwks_max_age {
                return Err(invalid(
                    "must be longer than `jwks_max_age`: each key is published that long before \
                     it signs",
                ));
            }
        }
        if self.refresh_token_rotation && self.refresh_token_expires.is_zero() {
            return Err(SettingsError::Invalid {
                setting: "refresh_token_rotation",
                reason: "needs refresh tokens that expire (refresh_token_expires), so that a \
                         token family ends and the store stays bounded"
                    .into(),
            });
        }
        if let Some((setting, reason)) = dpop_problem(self) {
            return Err(SettingsError::Invalid { setting, reason });
        }
        if rocket::http::uri::Origin::parse(&self.metrics_path).is_err()
            || !self.metrics_path.starts_with('/')
        {
            return Err(SettingsError::Invalid {
                setting: "metrics_path",
                reason: format!(
                    "{:?} is not a route path such as \"/metrics\"",
                    self.metrics_path
                ),
            });
        }
        if let Some(problem) = otlp_problem(self) {
            return Err(problem);
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
        if let Some(problem) = strict_access_tokens_problem(self) {
            return Err(SettingsError::Invalid {
                setting: "strict_access_tokens",
                reason: problem,
            });
        }
        if let Some(problem) = authorities_problem(self) {
            return Err(SettingsError::Invalid {
                setting: "authorities",
                reason: problem,
            });
        }
        if let Some(problem) = self.protected_resource.as_ref().and_then(|m| m.problem()) {
            return Err(SettingsError::Invalid {
                setting: "protected_resource",
                reason: problem,
            });
        }
        for (setting, rule) in [
            ("auth_url_rule", &self.auth_url_rule),
            ("refresh_url_rule", &self.refresh_url_rule),
        ] {
            if let Some(rule) = rule
                && (rocket::http::uri::Origin::parse_route(rule).is_err() || !rule.starts_with('/'))
            {
                return Err(SettingsError::Invalid {
                    setting,
                    reason: format!("{rule:?} is not a route path such as \"/auth\""),
                });
            }
        }
        Ok(())
    }
}

/// What is wrong with the OTLP export's settings: an endpoint that is not an `http` or `https`
/// URL, an export without `metrics` (nothing would be counted), an interval of zero.
fn otlp_problem(settings: &Settings) -> Option<SettingsError> {
    let endpoint = settings.metrics_otlp_endpoint.as_deref()?;
    let invalid = |setting, reason: String| Some(SettingsError::Invalid { setting, reason });
    match url::Url::parse(endpoint) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
        _ => {
            return invalid(
                "metrics_otlp_endpoint",
                // Not repeated: a collector's URL may carry credentials.
                "is not an http or https URL such as \"http://127.0.0.1:4318/v1/metrics\"".into(),
            );
        }
    }
    if !settings.metrics {
        return invalid(
            "metrics_otlp_endpoint",
            "needs `metrics = true`: without it nothing is counted".into(),
        );
    }
    if settings.metrics_otlp_interval.is_zero() {
        return invalid("metrics_otlp_interval", "must be more than 0".into());
    }
    None
}

/// What is wrong with the DPoP settings: a symmetric proof algorithm, a nonce key too short to
/// be a key, an origin that is not one.
fn dpop_problem(settings: &Settings) -> Option<(&'static str, String)> {
    use jsonwebtoken::Algorithm::{HS256, HS384, HS512};
    if settings.dpop_algorithms.is_empty() {
        return Some(("dpop_algorithms", "names no algorithm".into()));
    }
    if let Some(symmetric) = settings
        .dpop_algorithms
        .iter()
        .find(|algorithm| [HS256, HS384, HS512].contains(algorithm))
    {
        return Some((
            "dpop_algorithms",
            format!("{symmetric:?} is symmetric: a proof must be signed by the client's own private key"),
        ));
    }
    if settings.dpop_iat_window.is_zero() {
        return Some(("dpop_iat_window", "must be more than 0".into()));
    }
    if settings.dpop_nonce_lifetime.is_zero() {
        return Some(("dpop_nonce_lifetime", "must be more than 0".into()));
    }
    if settings.dpop_replay_capacity == 0 {
        return Some(("dpop_replay_capacity", "must be more than 0".into()));
    }
    if let Some(secret) = &settings.dpop_nonce_secret
        && secret.expose().len() < 32
    {
        return Some(("dpop_nonce_secret", "must be at least 32 bytes".into()));
    }
    if let Some(origin) = &settings.public_origin
        && let Some(reason) = origin_problem(origin)
    {
        return Some(("public_origin", reason));
    }
    None
}

/// Why `origin` is not a scheme and authority such as `https://api.example.com`.
fn origin_problem(origin: &str) -> Option<String> {
    let expected = "expected a scheme and authority such as \"https://api.example.com\"";
    let Ok(url) = url::Url::parse(origin) else {
        return Some(format!("{origin:?} is not a URL; {expected}"));
    };
    if !["http", "https"].contains(&url.scheme())
        || url.host().is_none()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Some(format!("{origin:?} is not an origin; {expected}"));
    }
    None
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

/// Why the settings cannot apply RFC 9068's profile (`strict_access_tokens`), if they cannot.
fn strict_access_tokens_problem(settings: &Settings) -> Option<String> {
    if !settings.strict_access_tokens {
        return None;
    }
    if !settings.verify || !settings.verify_expiration {
        return Some("needs `verify` and `verify_expiration` on".into());
    }
    if let Some(missing) = ["signature", "exp", "nbf"]
        .into_iter()
        .find(|check| !settings.verify_claims.iter().any(|c| c == check))
    {
        return Some(format!("needs {missing:?} in `verify_claims`"));
    }
    if !settings.authorities.is_empty() {
        return settings
            .authorities
            .iter()
            .find(|authority| authority.audience.is_empty())
            .map(|authority| {
                format!(
                    "needs an `audience` for authority {:?}: RFC 9068 requires `aud` to be checked",
                    authority.name
                )
            });
    }
    if settings.issuer.is_none() && settings.authority.is_none() {
        return Some(
            "needs `issuer` (or `authority`): RFC 9068 requires `iss` to be checked".into(),
        );
    }
    if settings.audience.is_empty() {
        return Some("needs `audience`: RFC 9068 requires `aud` to be checked".into());
    }
    None
}

/// Why the `authorities` setting cannot be used, if it cannot.
fn authorities_problem(settings: &Settings) -> Option<String> {
    let authorities = &settings.authorities;
    if authorities.is_empty() {
        return None;
    }
    if settings.issuer.is_some()
        || settings.authority.is_some()
        || settings.jwks_url.is_some()
        || settings.public_key.is_some()
    {
        return Some(
            "set either `authorities` or the single authority's `issuer`, `authority`, \
             `jwks_url` and `public_key`, not both"
                .into(),
        );
    }
    for (index, authority) in authorities.iter().enumerate() {
        if authority.name.is_empty() || authority.issuer.is_empty() {
            return Some("every authority needs a `name` and an `issuer`".into());
        }
        if authority.jwks_url.is_some() && authority.public_key.is_some() {
            return Some(format!(
                "authority {:?}: set either `jwks_url` or `public_key`, not both",
                authority.name
            ));
        }
        for earlier in &authorities[..index] {
            if earlier.name == authority.name {
                return Some(format!("authority name {:?} is used twice", authority.name));
            }
            if earlier.issuer == authority.issuer {
                return Some(format!("issuer {:?} is used twice", authority.issuer));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::TrustedAuthority;

    fn strict() -> Settings {
        Settings {
            strict_access_tokens: true,
            issuer: Some("https://issuer.example/".into()),
            audience: vec!["api".into()],
            ..Settings::default()
        }
    }

    #[test]
    fn the_profile_needs_issuer_audience_and_time_checks() {
        assert_eq!(strict_access_tokens_problem(&strict()), None);
        assert_eq!(strict_access_tokens_problem(&Settings::default()), None);
        for (settings, expected) in [
            (
                Settings {
                    issuer: None,
                    ..strict()
                },
                "issuer",
            ),
            (
                Settings {
                    audience: vec![],
                    ..strict()
                },
                "audience",
            ),
            (
                Settings {
                    verify_expiration: false,
                    ..strict()
                },
                "verify_expiration",
            ),
            (
                Settings {
                    verify_claims: vec!["signature".into(), "exp".into()],
                    ..strict()
                },
                "\"nbf\"",
            ),
        ] {
            let problem = strict_access_tokens_problem(&settings).expect("refused");
            assert!(problem.contains(expected), "{problem}");
        }
    }

    #[test]
    fn the_setting_refuses_ambiguity() {
        let a = TrustedAuthority::new("a", "https://a.example/");
        let settings = |authorities: Vec<TrustedAuthority>| Settings {
            authorities,
            ..Settings::default()
        };
        assert_eq!(authorities_problem(&settings(vec![a.clone()])), None);
        let same_name = TrustedAuthority::new("a", "https://b.example/");
        assert!(authorities_problem(&settings(vec![a.clone(), same_name])).is_some());
        let same_issuer = TrustedAuthority::new("b", "https://a.example/");
        assert!(authorities_problem(&settings(vec![a.clone(), same_issuer])).is_some());
        let mixed = Settings {
            issuer: Some("https://c.example/".into()),
            ..settings(vec![a])
        };
        assert!(authorities_problem(&mixed).is_some());
    }

    #[test]
    fn the_otlp_export_needs_an_http_url_metrics_and_an_interval() {
        let export = |endpoint: &str| Settings {
            metrics: true,
            metrics_otlp_endpoint: Some(endpoint.into()),
            ..Settings::default()
        };
        let problem = |settings: &Settings| otlp_problem(settings).map(|error| error.to_string());
        assert_eq!(problem(&Settings::default()), None);
        assert_eq!(problem(&export("http://127.0.0.1:4318/v1/metrics")), None);
        assert_eq!(
            problem(&export("https://otlp.example.com/v1/metrics")),
            None
        );
        for endpoint in [
            "127.0.0.1:4318",
            "grpc://collector:4317",
            "file:///tmp/metrics",
            "",
        ] {
            let message = problem(&export(endpoint)).expect(endpoint);
            assert!(
                message.starts_with("invalid jwt setting `metrics_otlp_endpoint`: ")
                    && message.contains("is not an http or https URL"),
                "{message}"
            );
        }
        let without_metrics = Settings {
            metrics: false,
            ..export("http://127.0.0.1:4318/v1/metrics")
        };
        assert!(problem(&without_metrics)
            .expect("refused")
            .contains("needs `metrics = true`"));
        let every_instant = Settings {
            metrics_otlp_interval: std::time::Duration::ZERO,
            ..export("http://127.0.0.1:4318/v1/metrics")
        };
        assert_eq!(
            problem(&every_instant).as_deref(),
            Some("invalid jwt setting `metrics_otlp_interval`: must be more than 0")
        );
    }
}
