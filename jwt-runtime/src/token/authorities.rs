//! Several trusted authorities (the `authorities` setting): each with its own issuer,
//! audience(s), keys (a JWKS, derived from the issuer or given, or a public key) and algorithms,
//! each validated by a [`TokenCodec`] of its own, so one JWKS cache per authority.
//!
//! A token is checked against the authority its `iss` names, and never against another's keys:
//! its `iss` (read before the signature is checked, only to choose) must equal one authority's
//! issuer byte for byte, or the token is refused without any key being fetched. A route may
//! restrict itself to named authorities ([`Rules::AUTHORITIES`](crate::Rules::AUTHORITIES)).

use serde_json::Value;

use crate::error::{Check, JwtError};
use crate::settings::{KeyMaterial, Settings, SettingsError, TrustedAuthority};
use crate::token::codec::{Checked, TokenCodec};
use crate::token::validate::{well_formed, Policy};

/// `base` with `authority`'s issuer, audience, keys and algorithms in place of its own.
fn authority_settings(authority: &TrustedAuthority, base: &Settings) -> Settings {
    let mut settings = base.clone();
    settings.authorities = Vec::new();
    settings.issuer = Some(authority.issuer.clone());
    settings.authority = None;
    settings.audience = authority.audience.clone();
    settings.public_key = authority
        .public_key
        .as_ref()
        .map(|key| KeyMaterial::detect(key.clone().into_bytes()));
    settings.jwks_url = match (&authority.jwks_url, &authority.public_key) {
        (Some(url), _) => Some(url.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(crate::jwks::JwksConfig::for_authority(&authority.issuer).url),
    };
    if !authority.algorithms.is_empty() {
        settings.algorithms = authority.algorithms.clone();
    }
    settings
}

/// The resolved authorities: each with its own codec.
pub(crate) struct Authorities {
    list: Vec<(TrustedAuthority, TokenCodec)>,
}

impl Authorities {
    /// The authorities of `settings`, or `None` when the setting is empty (the single-authority
    /// path).
    pub(crate) fn new(settings: &Settings) -> Result<Option<Authorities>, SettingsError> {
        if settings.authorities.is_empty() {
            return Ok(None);
        }
        let mut list = Vec::with_capacity(settings.authorities.len());
        for authority in &settings.authorities {
            let codec =
                TokenCodec::new(authority_settings(authority, settings)).map_err(|error| {
                    SettingsError::Invalid {
                        setting: "authorities",
                        reason: format!("authority {:?}: {error}", authority.name),
                    }
                })?;
            list.push((authority.clone(), codec));
        }
        Ok(Some(Authorities { list }))
    }

    /// Each authority's codec, to change.
    pub(crate) fn codecs_mut(&mut self) -> impl Iterator<Item = &mut TokenCodec> {
        self.list.iter_mut().map(|(_, codec)| codec)
    }

    /// Each authority's codec, for the first JWKS fetch at ignition.
    pub(crate) fn codecs(&self) -> impl Iterator<Item = (&str, &TokenCodec)> {
        self.list
            .iter()
            .map(|(authority, codec)| (authority.name.as_str(), codec))
    }

    /// `token` from the verified-token cache of an authority the route accepts (`allowed`, empty
    /// for any), without reading its claims: a token is cached only by the authority that
    /// verified it.
    pub(crate) fn cached(
        &self,
        token: &str,
        allowed: &[&str],
        now: i64,
    ) -> Result<Option<Checked>, JwtError> {
        for (authority, codec) in &self.list {
            if (allowed.is_empty() || allowed.contains(&authority.name.as_str()))
                && let Some(hit) = codec.cached(token, now)?
            {
                return Ok(Some(hit));
            }
        }
        Ok(None)
    }

    /// The codec of the authority `token`'s `iss` names, if the route (`allowed`, empty for any)
    /// accepts it. No I/O: an unknown issuer fetches nothing.
    pub(crate) fn select(&self, token: &str, allowed: &[&str]) -> Result<&TokenCodec, JwtError> {
        // Check 1 of the pipeline (the size limit, the segments, the header, the claims JSON),
        // with its own answers: nothing larger than `max_token_bytes` is decoded to find the
        // issuer.
        let issuer = match self.list.first() {
            Some((_, first)) => unverified_issuer(first.parts().0, token)?,
            None => return Err(JwtError::internal("no trusted authority is configured")),
        };
        let Some((authority, codec)) = self
            .list
            .iter()
            .find(|(authority, _)| authority.issuer == issuer)
        else {
            return Err(JwtError::invalid_token(
                Check::Authority,
                "Invalid issuer: the token is not from the intended authority",
            )
            .with_detail(format!("no trusted authority issues as {issuer:?}")));
        };
        if !allowed.is_empty() && !allowed.contains(&authority.name.as_str()) {
            return Err(JwtError::invalid_token(
                Check::Authority,
                "Invalid issuer: the token is not from the intended authority",
            )
            .with_detail(format!(
                "authority {:?} is not accepted on this route",
                authority.name
            )));
        }
        Ok(codec)
    }
}

/// The codec of the resolved `settings` and their authorities: without authorities, the codec
/// of the settings themselves; with them, a codec of the first authority's settings stands for
/// the settings (profile, header, signing, ...) but never validates a request's token (its key
/// set is not fetched): every token is validated by its own authority's codec.
pub(crate) fn resolve(
    settings: Settings,
) -> Result<(TokenCodec, Option<Authorities>), SettingsError> {
    settings.validate()?;
    match (Authorities::new(&settings)?, settings.authorities.first()) {
        (Some(authorities), Some(first)) => Ok((
            TokenCodec::new(authority_settings(first, &settings))?,
            Some(authorities),
        )),
        _ => Ok((TokenCodec::new(settings)?, None)),
    }
}

/// The `iss` of `token`'s claims, read without verifying the signature (by check 1's own
/// functions, so with its answers), only to choose the authority whose keys will verify it.
fn unverified_issuer(rules: &Policy, token: &str) -> Result<String, JwtError> {
    let segments = well_formed::segments(rules, token)?;
    let (claims, _) = well_formed::decode(&segments)?;
    match well_formed::claims(claims, false)?.get("iss") {
        Some(Value::String(issuer)) => Ok(issuer.clone()),
        _ => Err(JwtError::invalid_token(
            Check::Authority,
            "Invalid issuer: the token is not from the intended authority",
        )
        .with_detail("the token has no string iss")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use jsonwebtoken::Algorithm;

    fn token(claims: Value) -> String {
        let encode = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
        format!(
            "{}.{}.c2ln",
            encode(serde_json::json!({"alg": "RS256"})),
            encode(claims)
        )
    }

    #[test]
    fn the_issuer_is_read_without_verification_only_as_a_string() {
        let rules = Policy::new(&Settings::default(), vec![Algorithm::RS256]);
        assert_eq!(
            unverified_issuer(&rules, &token(serde_json::json!({"iss": "https://a/"}))).ok(),
            Some("https://a/".to_string())
        );
        for claims in [
            serde_json::json!({}),
            serde_json::json!({"iss": ["https://a/"]}),
            serde_json::json!({"iss": null}),
        ] {
            let error = unverified_issuer(&rules, &token(claims)).expect_err("no issuer");
            assert_eq!(error.check(), Some(Check::Authority));
        }
        for bad in ["a.b", "a.b.c.d", "a.!!!.c", "a.bm90IGpzb24.c"] {
            let error = unverified_issuer(&rules, bad).expect_err("malformed");
            assert_eq!(error.check(), Some(Check::WellFormed), "{bad}");
        }
    }

    #[test]
    fn each_authority_takes_its_own_keys_issuer_and_audience() {
        let base = Settings::default();
        let mut a = TrustedAuthority::new("a", "https://a.example/");
        a.audience = vec!["api".into()];
        let settings = authority_settings(&a, &base);
        assert_eq!(settings.issuer.as_deref(), Some("https://a.example/"));
        assert_eq!(
            settings.jwks_url.as_deref(),
            Some("https://a.example/.well-known/jwks.json")
        );
        assert_eq!(settings.audience, ["api"]);
        a.jwks_url = Some("http://127.0.0.1:1/keys".into());
        assert_eq!(
            authority_settings(&a, &base).jwks_url.as_deref(),
            Some("http://127.0.0.1:1/keys")
        );
        a.jwks_url = None;
        a.public_key = Some("-----BEGIN PUBLIC KEY-----".into());
        assert_eq!(authority_settings(&a, &base).jwks_url, None);
        assert!(authority_settings(&a, &base).public_key.is_some());
    }
}
