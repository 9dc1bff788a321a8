//! [`TrustedAuthority`]: one entry of the `authorities` setting (several trusted issuers, each
//! with its own audience, keys and algorithms). The data only: resolving it into a codec per
//! authority is `authorities`'. Uses the settings' forms.

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

/// One trusted authority of the `authorities` setting.
///
/// ```toml
/// [[default.jwt.authorities]]
/// name = "auth0"
/// issuer = "https://tenant.auth0.com/"        # keys from <issuer>/.well-known/jwks.json
/// audience = ["https://api.example.com"]
///
/// [[default.jwt.authorities]]
/// name = "partner"
/// issuer = "https://idp.partner.example/"
/// jwks_url = "https://idp.partner.example/keys"
/// audience = "api"
/// algorithms = ["ES256"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedAuthority {
    /// The name routes restrict themselves with.
    pub name: String,
    /// The exact `iss` of its tokens; with neither `jwks_url` nor `public_key`, its keys come
    /// from `<issuer>/.well-known/jwks.json`.
    pub issuer: String,
    /// Accepted `aud` values for its tokens (a list, or one string); empty refuses a token
    /// carrying `aud`.
    #[serde(default, deserialize_with = "super::forms::names")]
    pub audience: Vec<String>,
    /// Where its keys are published.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Its public key (PEM text or a JWK), in place of a JWKS.
    #[serde(default)]
    pub public_key: Option<String>,
    /// The algorithms its tokens may use (a list of names, or one); empty: the
    /// `algorithm`/`algorithms` settings.
    #[serde(default, deserialize_with = "super::forms::algorithms")]
    pub algorithms: Vec<Algorithm>,
}

impl TrustedAuthority {
    /// An authority named `name` issuing as `issuer`, keys from the issuer's well-known JWKS.
    pub fn new(name: impl Into<String>, issuer: impl Into<String>) -> Self {
        TrustedAuthority {
            name: name.into(),
            issuer: issuer.into(),
            audience: Vec::new(),
            jwks_url: None,
            public_key: None,
            algorithms: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::figment::providers::{Format as _, Toml};
    use rocket::figment::Figment;

    #[test]
    fn an_audience_and_algorithms_may_be_one_string_in_configuration() {
        let toml = r#"
            [[default.jwt.authorities]]
            name = "auth0"
            issuer = "https://tenant.auth0.com/"
            audience = ["https://api.example.com"]

            [[default.jwt.authorities]]
            name = "partner"
            issuer = "https://idp.partner.example/"
            audience = "api"
            algorithms = "ES256"
        "#;
        let figment = Figment::from(Toml::string(toml).nested());
        let authorities: Vec<TrustedAuthority> = figment
            .extract_inner("jwt.authorities")
            .expect("both forms are read");
        assert_eq!(authorities[0].audience, ["https://api.example.com"]);
        assert_eq!(authorities[1].audience, ["api"]);
        assert_eq!(authorities[1].algorithms, [Algorithm::ES256]);
    }
}
