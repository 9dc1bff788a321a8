//! Issuing Flask-JWT-Extended's access and refresh tokens: `create_access_token` and
//! `create_refresh_token`, with its claims, in its order: `fresh`, `iat`, `jti`, `type`, the
//! identity claim, `nbf`, `csrf`, `aud`, `iss`, `exp`, then the additional claims.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::claims::Payload;
use crate::error::JwtError;
use crate::http::callbacks::Loaders;
use crate::token::codec::TokenCodec;

/// The kind of token: the `type` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// An access token, for protected routes (`"type": "access"`).
    Access,
    /// A refresh token, traded for new access tokens (`"type": "refresh"`).
    Refresh,
}

impl TokenType {
    /// The `type` claim's value.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
        }
    }
}

/// Whether an access token is fresh: `fresh` routes take only fresh tokens (issued by a login,
/// not by a refresh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Freshness {
    /// `"fresh": true`.
    Fresh,
    /// `"fresh": false` (refreshed tokens, and refresh tokens).
    #[default]
    NotFresh,
    /// Fresh for this long after issue: `"fresh": <time in seconds>`.
    For(Duration),
}

impl From<bool> for Freshness {
    fn from(fresh: bool) -> Self {
        if fresh {
            Freshness::Fresh
        } else {
            Freshness::NotFresh
        }
    }
}

/// One token to issue.
#[derive(Debug, Clone)]
pub(crate) struct TokenRequest {
    /// The identity claim's value (`sub`).
    pub(crate) identity: Value,
    pub(crate) kind: TokenType,
    pub(crate) fresh: Freshness,
    /// Overrides the configured lifetime; zero means no `exp`.
    pub(crate) expires: Option<Duration>,
    /// Claims added after the additional-claims callback's.
    pub(crate) claims: Payload,
    /// Header fields added after the additional-headers callback's.
    pub(crate) headers: Payload,
}

impl TokenRequest {
    pub(crate) fn new(identity: Value, kind: TokenType, fresh: Freshness) -> Self {
        TokenRequest {
            identity,
            kind,
            fresh,
            expires: None,
            claims: Payload::new(),
            headers: Payload::new(),
        }
    }
}

/// Builds and signs the token `request` describes.
pub(crate) fn create(
    codec: &TokenCodec,
    loaders: &Loaders,
    request: TokenRequest,
) -> Result<String, JwtError> {
    let settings = codec.settings();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    let mut claims = Payload::new();
    claims.insert(
        "fresh".into(),
        match request.fresh {
            Freshness::Fresh => json!(true),
            Freshness::NotFresh => json!(false),
            Freshness::For(period) => json!((now + period).as_secs_f64()),
        },
    );
    claims.insert("iat".into(), json!(seconds));
    claims.insert("jti".into(), json!(uuid4()?));
    claims.insert("type".into(), json!(request.kind.as_str()));
    claims.insert(settings.identity_claim.clone(), request.identity.clone());
    if settings.encode_nbf {
        claims.insert("nbf".into(), json!(seconds));
    }
    if settings.cookie_csrf_protect {
        claims.insert("csrf".into(), json!(uuid4()?));
    }
    match settings.encode_audience.as_slice() {
        [] => {}
        [one] => {
            claims.insert("aud".into(), json!(one));
        }
        many => {
            claims.insert("aud".into(), json!(many));
        }
    }
    if let Some(issuer) = &settings.encode_issuer {
        claims.insert("iss".into(), json!(issuer));
    }
    let expires = request.expires.unwrap_or(match request.kind {
        TokenType::Access => settings.expiration_delta,
        TokenType::Refresh => settings.refresh_token_expires,
    });
    if !expires.is_zero() {
        claims.insert("exp".into(), json!(seconds + expires.as_secs()));
    }
    let mut headers = Payload::new();
    if let Some(loader) = &loaders.additional_claims {
        claims.extend(loader(&request.identity));
    }
    if let Some(loader) = &loaders.additional_headers {
        headers.extend(loader(&request.identity));
    }
    claims.extend(request.claims);
    headers.extend(request.headers);
    codec.encode(&claims, &headers)
}

/// A random (version 4) UUID in its usual text form, as Python's `str(uuid.uuid4())`.
pub(crate) fn uuid4() -> Result<String, JwtError> {
    let mut bytes = [0u8; 16];
    crate::crypto::fill_random(&mut bytes)
        .map_err(|()| JwtError::internal("the random number generator failed"))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// The header and claims of `token`, decoded without any check: only for a token that passed the
/// signature check (to hand them to an error callback) or one this application just issued (to
/// read its `csrf` claim for the CSRF cookie). Three segments, base64url (padding tolerated), two
/// JSON objects; `None` otherwise.
pub(crate) fn unverified_parts(token: &str) -> Option<(Payload, Payload)> {
    let mut segments = token.split('.');
    let decode = |segment: Option<&str>| -> Option<Payload> {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment?.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let header = decode(segments.next())?;
    let claims = decode(segments.next())?;
    (segments.next().is_some() && segments.next().is_none()).then_some((header, claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Profile, Secret, Settings};

    fn codec() -> TokenCodec {
        TokenCodec::new(Settings {
            secret_key: Some(Secret::new("a secret of at least thirty-two bytes!")),
            ..Settings::for_profile(Profile::Extended)
        })
        .expect("valid settings")
    }

    #[test]
    fn uuids_are_version_4_in_text_form() {
        let a = uuid4().unwrap();
        let b = uuid4().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'));
        assert!("89ab".contains(&groups[3][..1]));
    }

    #[test]
    fn access_and_refresh_tokens_carry_flask_jwt_extended_s_claims_in_its_order() {
        let codec = codec();
        let loaders = Loaders {
            additional_claims: Some(Box::new(|identity| {
                let mut extra = Payload::new();
                extra.insert(
                    "role".into(),
                    json!(format!("{}-role", identity.as_str().unwrap())),
                );
                extra
            })),
            ..Loaders::default()
        };
        let token = create(
            &codec,
            &loaders,
            TokenRequest::new(json!("user1"), TokenType::Access, Freshness::Fresh),
        )
        .unwrap();
        let claims = codec.decode(&token).expect("our own token validates");
        let mut keys: Vec<&str> = claims.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = [
            "fresh", "iat", "jti", "type", "sub", "nbf", "csrf", "exp", "role",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(claims["type"], "access");
        assert_eq!(claims["fresh"], true);
        assert_eq!(claims["sub"], "user1");
        assert_eq!(claims["role"], "user1-role");
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(claims["exp"].as_i64().unwrap() - iat, 900);
        assert_eq!(claims["nbf"].as_i64().unwrap(), iat);
        assert!(claims["csrf"].as_str().is_some_and(|csrf| csrf.len() == 36));

        let refresh = create(
            &codec,
            &Loaders::default(),
            TokenRequest::new(json!("user1"), TokenType::Refresh, Freshness::NotFresh),
        )
        .unwrap();
        let claims = codec.decode(&refresh).unwrap();
        assert_eq!(claims["type"], "refresh");
        assert_eq!(claims["fresh"], false);
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            30 * 24 * 3600
        );
    }

    #[test]
    fn freshness_for_a_period_is_a_time_and_zero_lifetime_means_no_exp() {
        let codec = codec();
        let mut request = TokenRequest::new(
            json!("u"),
            TokenType::Access,
            Freshness::For(Duration::from_secs(60)),
        );
        request.expires = Some(Duration::ZERO);
        let token = create(&codec, &Loaders::default(), request).unwrap();
        let (_, claims) = unverified_parts(&token).unwrap();
        assert!(!claims.contains_key("exp"));
        let fresh = claims["fresh"].as_f64().unwrap();
        let iat = claims["iat"].as_f64().unwrap();
        assert!((59.0..=61.0).contains(&(fresh - iat)), "{fresh} {iat}");
    }
}
