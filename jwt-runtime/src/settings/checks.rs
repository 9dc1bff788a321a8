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
        if let Some(same_site) = &self.cookie_samesite {
            if !["Strict", "Lax", "None"].contains(&same_site.as_str()) {
                return Err(SettingsError::Invalid {
                    setting: "cookie_samesite",
                    reason: format!("{same_site:?} is not one of \"Strict\", \"Lax\", \"None\""),
                });
            }
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
        if let Some(problem) = crate::access_token::problem(self) {
            return Err(SettingsError::Invalid {
                setting: "strict_access_tokens",
                reason: problem,
            });
        }
        if let Some(problem) = crate::authorities::problem(self) {
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
            if let Some(rule) = rule {
                if rocket::http::uri::Origin::parse_route(rule).is_err() || !rule.starts_with('/') {
                    return Err(SettingsError::Invalid {
                        setting,
                        reason: format!("{rule:?} is not a route path such as \"/auth\""),
                    });
                }
            }
        }
        Ok(())
    }
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
