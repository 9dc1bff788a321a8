//! Side by side with Auth0's own validator: the resource-server example
//! (`examples/resource_server.rs`, Auth0's API quickstart in Rust, included below as a module) and
//! Auth0's Express API quickstart (`tests/interop/auth0/server.js`: `express-oauth2-jwt-bearer`
//! 1.10.0, Auth0's middleware) run on 127.0.0.1 on one key set (`rsa-1` and `rsa-2` of
//! `testdata/keys`, served by `common::jwks_server`), one issuer and one audience, and every token
//! of a corpus goes to both on `GET /api/private` and `GET /api/private-scoped` (`read:messages`).
//!
//! What it proves: for the tokens Auth0 really issues (user tokens with and without RBAC,
//! machine-to-machine tokens, its RFC 9068 profile), for a failure of each of the five checks at
//! its boundaries (well-formed, signature, validity period, intended authority, intended
//! audience), for claims of the wrong JSON type, for the ways a token carries scopes and for
//! malformed `Authorization` headers, our answer is Auth0's: accepted, or refused with the same
//! class of refusal (401 `invalid_token`, 403 `insufficient_scope`, 400/401 `invalid_request`, 401
//! without a token) — except for the short table [`KNOWN`] of differences, each argued from a
//! specification or a deliberate choice. Accepted on both sides, both name the same `sub`. A
//! known difference that is no longer seen fails too, so that the table stays true.
//!
//! Tokens are signed here with `jsonwebtoken` (not our encoder), each minted just before it is
//! sent to both sides, so that the time-boundary cases are a second or more from every edge. The
//! per-token table is printed to stderr (`cargo test --test system auth0`).
//!
//! The Node packages are installed by the test under the target directory (`npm ci` from the
//! committed `package-lock.json`, again only when the lock file or Node changes). Where `node` or
//! `npm` is not installed the harness reports the test as ignored, saying why, except under CI
//! (`CI` set), where it fails.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm as Alg, EncodingKey};
use serde_json::{json, Value};

use crate::common::jwks_server::{JwksServer, TestKey};
use crate::common::now;
use crate::http_client::{self, HttpResponse};
use crate::live_rocket::LiveRocket;
use crate::node_packages::NodePackages;
use crate::programs::Program;

/// Our side: the resource-server example itself.
use crate::resource_server_example as example;

/// The Auth0 tenant's domain (`.invalid`: nothing is ever fetched from it; the keys come from the
/// local JWKS server).
const DOMAIN: &str = "side-by-side.us.auth0.invalid";
/// The API identifier of Auth0's quickstart: the audience.
const AUDIENCE: &str = "https://quickstarts/api";
/// The client (application) the tokens are issued to.
const CLIENT_ID: &str = "kq3ZVj0Wcb8rYT1xq9mHf2LpD7sNa4Ue";
/// The routes every token is sent to.
const ROUTES: [&str; 2] = ["/api/private", "/api/private-scoped"];
/// How long Auth0's application may take to start listening.
const STARTUP: Duration = Duration::from_secs(30);

/// The issuer, as Auth0 writes it: `https://<domain>/`.
fn issuer() -> String {
    format!("https://{DOMAIN}/")
}

// ----- the answers ------------------------------------------------------------------------------

/// The class of an answer: what the two sides must agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// 200.
    Accepted,
    /// 401 without an error code: no token at all (RFC 6750 §3.1).
    NoToken,
    /// 400, or 401 `invalid_request`: a malformed request.
    InvalidRequest,
    /// 401 `invalid_token`.
    InvalidToken,
    /// 403 `insufficient_scope`.
    InsufficientScope,
    /// Anything else (its status).
    Other(u16),
}

impl Class {
    fn of(status: u16, error: Option<&str>) -> Class {
        match (status, error) {
            (200, _) => Class::Accepted,
            (400, _) | (401, Some("invalid_request")) => Class::InvalidRequest,
            (401, Some("invalid_token")) => Class::InvalidToken,
            (401, None) => Class::NoToken,
            (403, Some("insufficient_scope")) => Class::InsufficientScope,
            (status, _) => Class::Other(status),
        }
    }

    fn label(self) -> String {
        match self {
            Class::Accepted => "200".into(),
            Class::NoToken => "401 (no token)".into(),
            Class::InvalidRequest => "400/401 invalid_request".into(),
            Class::InvalidToken => "401 invalid_token".into(),
            Class::InsufficientScope => "403 insufficient_scope".into(),
            Class::Other(status) => format!("{status} (other)"),
        }
    }
}

/// One side's answer to one request.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// The RFC 6750 error code, when there is one.
    error: Option<String>,
    class: Class,
    /// The refusal's description, or the caller's `sub` when accepted.
    detail: String,
    /// `sub` of an accepted request.
    sub: Option<String>,
}

impl Answer {
    fn new(response: &HttpResponse, error: Option<String>, detail_key: &str) -> Answer {
        let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        let class = Class::of(response.status, error.as_deref());
        let sub = (class == Class::Accepted)
            .then(|| body["sub"].as_str().map(str::to_owned))
            .flatten();
        let detail = match (&sub, body[detail_key].as_str()) {
            (Some(sub), _) => format!("sub={sub}"),
            (None, Some(text)) => text.to_owned(),
            (None, None) => String::from_utf8_lossy(&response.body).into_owned(),
        };
        Answer {
            status: response.status,
            error,
            class,
            detail,
            sub,
        }
    }

    /// Ours: the error code from the `Bearer` challenge, the description from the JSON body.
    fn ours(response: &HttpResponse) -> Answer {
        let error = response
            .header("WWW-Authenticate")
            .and_then(|challenge| challenge_param(challenge, "error"));
        Answer::new(response, error, "description")
    }

    /// Auth0's: the error's `code` and `message` from the JSON body its error handler writes.
    fn auth0(response: &HttpResponse) -> Answer {
        let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        let error = body["error"]
            .as_str()
            .filter(|code| !code.is_empty())
            .map(str::to_owned);
        Answer::new(response, error, "message")
    }

    /// `403 insufficient_scope (The token lacks ...)`, cut short for the table.
    fn cell(&self) -> String {
        let code = self
            .error
            .as_deref()
            .map_or(String::new(), |e| format!(" {e}"));
        let mut detail = self.detail.replace('\n', " ");
        if detail.chars().count() > 58 {
            detail = detail.chars().take(55).collect::<String>() + "...";
        }
        format!("{}{code} ({detail})", self.status)
    }
}

/// The value of `name="..."` in a `WWW-Authenticate` challenge.
fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start = challenge
        .match_indices(&needle)
        .map(|(at, _)| at)
        .find(|&at| at == 0 || matches!(challenge.as_bytes()[at - 1], b' ' | b','))?
        + needle.len();
    let end = challenge[start..].find('"')? + start;
    Some(challenge[start..end].to_owned())
}

// ----- the known differences ---------------------------------------------------------------------

/// A known, argued difference: on `route` (`None`: both routes) the token `case` gets `ours` from
/// us and `auth0` from Auth0's middleware.
struct Known {
    case: &'static str,
    route: Option<&'static str>,
    ours: Class,
    auth0: Class,
    reason: &'static str,
}

const CLOCK_LEEWAY: &str = "clock leeway: ours is 10 s (`leeway`, Flask-JWT's JWT_LEEWAY \
     default), Auth0's 5 s (`clockTolerance`, jwtVerifier's default in 1.10.0); RFC 7519 §4.1.4 \
     and §4.1.5 let a validator allow 'some small leeway, usually no more than a few minutes', \
     and both do";

const KNOWN: &[Known] = &[
    Known {
        case: "exp_past_by_6s",
        route: None,
        ours: Class::Accepted,
        auth0: Class::InvalidToken,
        reason: CLOCK_LEEWAY,
    },
    Known {
        case: "nbf_future_by_7s",
        route: None,
        ours: Class::Accepted,
        auth0: Class::InvalidToken,
        reason: CLOCK_LEEWAY,
    },
    Known {
        case: "permissions_without_scope",
        route: Some("/api/private-scoped"),
        ours: Class::Accepted,
        auth0: Class::InsufficientScope,
        reason: "deliberate choice (README, 'Scopes and claim rules'): scopes come from the first \
                 claim of `scope_claims` (scope, scp, permissions) the token carries, so a token \
                 without `scope` is held to Auth0 RBAC's `permissions` array; `requiredScopes` \
                 reads `scope` alone ('Missing 'scope' claim')",
    },
    Known {
        case: "scp_array_without_scope",
        route: Some("/api/private-scoped"),
        ours: Class::Accepted,
        auth0: Class::InsufficientScope,
        reason: "deliberate choice (README, 'Scopes and claim rules'): scopes come from the first \
                 claim of `scope_claims` (scope, scp, permissions) the token carries, so a token \
                 without `scope` is held to its `scp` array; `requiredScopes` reads `scope` alone",
    },
    Known {
        case: "base64_padded",
        route: None,
        ours: Class::InvalidToken,
        auth0: Class::Accepted,
        reason: "RFC 7515 §2 and §7.1: base64url is written without `=` padding; README, \
                 'Deliberate differences': base64url must be canonical (one encoding of a token, \
                 so that the verified-token cache and logs cannot be confused by variants)",
    },
    Known {
        case: "base64_standard_alphabet",
        route: None,
        ours: Class::InvalidToken,
        auth0: Class::Accepted,
        reason: "RFC 7515 §2: the URL-safe alphabet (`-`, `_`); `+` and `/` are not base64url, \
                 and the compact serialization has one encoding",
    },
    Known {
        case: "bearer_double_space",
        route: None,
        ours: Class::Accepted,
        auth0: Class::InvalidRequest,
        reason: "RFC 6750 §2.1: `credentials = \"Bearer\" 1*SP b64token`, one or more spaces; \
                 README, 'Security': the header is split on whitespace as Flask-JWT does (A8)",
    },
    Known {
        case: "iat_future_by_20s",
        route: None,
        ours: Class::InvalidToken,
        auth0: Class::Accepted,
        reason: "deliberate choice (README, 'Security', E12): a token issued in the future beyond \
                 the leeway is refused, as PyJWT does; it means a clock that is wrong by more \
                 than the leeway, which `exp` and `nbf` could not be trusted under either; \
                 Auth0's middleware checks `iat` only with `maxTokenAge`",
    },
    Known {
        case: "sub_missing",
        route: None,
        ours: Class::InvalidToken,
        auth0: Class::Accepted,
        reason: "the resource-server example's identity is the token's `sub` (`identity_claim`), \
                 as RFC 9068 §2.2 requires of access tokens; an API with no caller identity sets \
                 no identity callback",
    },
    Known {
        case: "permissions_a_string",
        route: Some("/api/private-scoped"),
        ours: Class::Accepted,
        auth0: Class::InsufficientScope,
        reason: "deliberate choice (README, 'Scopes and claim rules'): in a token without \
                 `scope`, a claim of `scope_claims` other than `scope` is read as an array or a \
                 space-delimited string (Microsoft Entra ID writes `scp` so); `requiredScopes` \
                 reads `scope` alone",
    },
    Known {
        case: "scp_string_without_scope",
        route: Some("/api/private-scoped"),
        ours: Class::Accepted,
        auth0: Class::InsufficientScope,
        reason: "deliberate choice (README, 'Scopes and claim rules'): Microsoft Entra ID's `scp` \
                 is a space-delimited string, read in a token without `scope`; `requiredScopes` \
                 reads `scope` alone",
    },
    Known {
        case: "scope_array",
        route: Some("/api/private-scoped"),
        ours: Class::InsufficientScope,
        auth0: Class::Accepted,
        reason: "RFC 9068 §2.2.3 and RFC 8693 §4.2: `scope` is a JSON string of space-delimited \
                 scopes; README, 'Scopes and claim rules': a `scope` of another JSON type grants \
                 nothing (`requiredScopes` also reads an array)",
    },
];

fn known(case: &str, route: &str) -> Option<&'static Known> {
    KNOWN
        .iter()
        .find(|k| k.case == case && k.route.is_none_or(|r| r == route))
}

// ----- tokens ------------------------------------------------------------------------------------

/// The private keys tokens are signed with.
struct Signers {
    /// `rsa-1`, the tenant's current signing key.
    rsa1: EncodingKey,
    /// `rsa-2`, the tenant's next key (also in the JWKS).
    rsa2: EncodingKey,
    /// An HMAC key whose secret is `rsa-1`'s public PEM (algorithm confusion).
    public_pem_as_secret: EncodingKey,
}

impl Signers {
    fn load() -> Signers {
        let rsa = |key: TestKey| {
            EncodingKey::from_rsa_pem(key.private_pem().as_bytes()).expect("a test RSA key")
        };
        Signers {
            rsa1: rsa(TestKey::Rsa),
            rsa2: rsa(TestKey::Rsa2),
            public_pem_as_secret: EncodingKey::from_secret(TestKey::Rsa.public_pem().as_bytes()),
        }
    }

    /// `message.signature` over `header` and `claims` JSON texts (or any bytes).
    fn raw(&self, key: &EncodingKey, alg: Alg, header: &[u8], claims: &[u8]) -> String {
        sign_message(key, alg, &format!("{}.{}", b64(header), b64(claims)))
    }

    /// Signed by `rsa-1` (RS256) with `header`.
    fn rs256_with(&self, header: &Value, claims: &Value) -> String {
        self.raw(
            &self.rsa1,
            Alg::RS256,
            header.to_string().as_bytes(),
            claims.to_string().as_bytes(),
        )
    }

    /// What Auth0 issues: RS256 by the current key, header `alg`, `typ` `JWT`, `kid`.
    fn auth0(&self, claims: &Value) -> String {
        self.rs256_with(&auth0_header(), claims)
    }
}

/// `message.signature`.
fn sign_message(key: &EncodingKey, alg: Alg, message: &str) -> String {
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("signs");
    format!("{message}.{signature}")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Auth0's header: `{"alg":"RS256","typ":"JWT","kid":"rsa-1"}`.
fn auth0_header() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-1"})
}

/// `claims` with `extra` set over them; a `null` member removes the claim.
fn with(mut claims: Value, extra: Value) -> Value {
    let object = claims.as_object_mut().expect("claims are an object");
    for (name, value) in extra.as_object().expect("extra claims are an object") {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    claims
}

/// An Auth0 user access token without RBAC, as Auth0 issues it for an API with the `openid`
/// scopes asked too: `aud` is the API and the tenant's `/userinfo`; no `nbf`, no `jti`.
fn user(now: i64) -> Value {
    json!({
        "iss": issuer(),
        "sub": "auth0|65a1f0c2e4b0d1a2b3c4d5e6",
        "aud": [AUDIENCE, format!("https://{DOMAIN}/userinfo")],
        "iat": now,
        "exp": now + 86400,
        "scope": "openid profile email read:messages",
        "azp": CLIENT_ID,
    })
}

/// An Auth0 machine-to-machine token (client credentials): `sub` is `<client>@clients`.
fn m2m(now: i64) -> Value {
    json!({
        "iss": issuer(),
        "sub": format!("{CLIENT_ID}@clients"),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 86400,
        "scope": "read:messages",
        "gty": "client-credentials",
        "azp": CLIENT_ID,
    })
}

/// Auth0's RFC 9068 access-token profile: header `typ` `at+jwt`, `client_id` instead of `azp`,
/// a `jti`.
fn rfc9068(now: i64) -> Value {
    json!({
        "iss": issuer(),
        "sub": "auth0|65a1f0c2e4b0d1a2b3c4d5e6",
        "aud": [AUDIENCE, format!("https://{DOMAIN}/userinfo")],
        "iat": now,
        "exp": now + 86400,
        "scope": "openid profile email read:messages",
        "client_id": CLIENT_ID,
        "jti": "9b2c4d6e-8f01-4a23-b456-7890abcdef12",
    })
}

fn rfc9068_header() -> Value {
    json!({"alg": "RS256", "typ": "at+jwt", "kid": "rsa-1"})
}

/// A user with RBAC and 300 permissions (`read:messages` among them).
fn user_with_300_permissions(now: i64) -> Value {
    let mut permissions: Vec<String> = (1..300).map(|i| format!("read:resource-{i:03}")).collect();
    permissions.push("read:messages".into());
    with(user(now), json!({ "permissions": permissions }))
}

/// One request of the corpus: its name and how its `Authorization` header is made (`None`: no
/// header), given the signers and the current time.
struct Case {
    name: &'static str,
    authorization: fn(&Signers, i64) -> Option<String>,
}

fn bearer(token: String) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// The corpus.
fn corpus() -> Vec<Case> {
    macro_rules! token {
        ($name:literal, |$s:ident, $now:ident| $token:expr) => {
            Case {
                name: $name,
                authorization: |$s, $now| bearer($token),
            }
        };
    }
    macro_rules! header {
        ($name:literal, |$s:ident, $now:ident| $header:expr) => {
            Case {
                name: $name,
                authorization: |$s, $now| $header,
            }
        };
    }
    vec![
        // ----- what Auth0 issues
        token!("auth0_user", |s, now| s.auth0(&user(now))),
        token!("auth0_user_without_read_messages", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "openid profile email"})
        ))),
        token!("auth0_user_rbac", |s, now| s.auth0(&with(
            user(now),
            json!({"permissions": ["read:messages"]})
        ))),
        token!("auth0_user_rbac_other_permission", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "openid profile email", "permissions": ["write:messages"]})
        ))),
        token!("auth0_user_custom_claims", |s, now| s.auth0(&with(
            user(now),
            json!({"https://example.com/roles": ["admin"], "org_id": "org_5Y2t0kGf3bQ1xW9z"})
        ))),
        token!("auth0_user_next_key", |s, now| s.raw(
            &s.rsa2,
            Alg::RS256,
            json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-2"})
                .to_string()
                .as_bytes(),
            user(now).to_string().as_bytes()
        )),
        token!("auth0_m2m", |s, now| s.auth0(&m2m(now))),
        token!("auth0_m2m_rbac", |s, now| s.auth0(&with(
            m2m(now),
            json!({"permissions": ["read:messages"]})
        ))),
        token!("auth0_m2m_other_scope", |s, now| s
            .auth0(&with(m2m(now), json!({"scope": "write:messages"})))),
        token!("auth0_rfc9068", |s, now| s
            .rs256_with(&rfc9068_header(), &rfc9068(now))),
        token!("auth0_rfc9068_m2m", |s, now| s.rs256_with(
            &rfc9068_header(),
            &with(
                m2m(now),
                json!({"azp": null, "gty": null, "client_id": CLIENT_ID,
                       "jti": "0f1e2d3c-4b5a-4697-8877-665544332211"})
            )
        )),
        token!("auth0_user_300_permissions", |s, now| s
            .auth0(&user_with_300_permissions(now))),
        // ----- well-formed
        token!("one_segment", |s, now| s
            .auth0(&user(now))
            .split('.')
            .next()
            .unwrap()
            .to_owned()),
        token!("two_segments", |s, now| {
            let token = s.auth0(&user(now));
            token[..token.rfind('.').unwrap()].to_owned()
        }),
        token!("empty_signature", |s, now| {
            let token = s.auth0(&user(now));
            token[..=token.rfind('.').unwrap()].to_owned()
        }),
        token!("four_segments", |s, now| format!(
            "{}.AAAA",
            s.auth0(&user(now))
        )),
        token!("five_segments", |s, now| format!(
            "{}.AAAA.BBBB",
            s.auth0(&user(now))
        )),
        token!("empty_segments", |_s, _now| "..".to_owned()),
        token!("bad_base64_header", |s, now| {
            let token = s.auth0(&user(now));
            format!("e@J!{}", &token[4..])
        }),
        token!("bad_base64_payload", |s, now| {
            let token = s.auth0(&user(now));
            let (header, rest) = token.split_once('.').unwrap();
            format!("{header}.$$$${}", &rest[4..])
        }),
        token!("bad_base64_signature", |s, now| {
            let token = s.auth0(&user(now));
            let cut = token.rfind('.').unwrap() + 1;
            format!("{}***{}", &token[..cut], &token[cut + 3..])
        }),
        token!("base64_padded", |s, now| {
            // A padding claim makes both segments need `=`.
            let (header, claims) = padded_json(now);
            sign_message(
                &s.rsa1,
                Alg::RS256,
                &format!("{}.{}", URL_SAFE.encode(header), URL_SAFE.encode(claims)),
            )
        }),
        token!("base64_standard_alphabet", |s, now| {
            let claims = standard_alphabet_claims(now);
            let message = format!(
                "{}.{}",
                b64(auth0_header().to_string().as_bytes()),
                STANDARD_NO_PAD.encode(claims)
            );
            sign_message(&s.rsa1, Alg::RS256, &message)
        }),
        token!("header_not_json", |s, now| s.raw(
            &s.rsa1,
            Alg::RS256,
            b"RS256 rsa-1",
            user(now).to_string().as_bytes()
        )),
        token!("payload_not_json", |s, _now| s.raw(
            &s.rsa1,
            Alg::RS256,
            auth0_header().to_string().as_bytes(),
            b"sub=auth0|65a1f0c2e4b0d1a2b3c4d5e6"
        )),
        token!("payload_json_array", |s, now| s.raw(
            &s.rsa1,
            Alg::RS256,
            auth0_header().to_string().as_bytes(),
            json!([user(now)]).to_string().as_bytes()
        )),
        // ----- signature
        token!("wrong_key", |s, now| s.raw(
            &s.rsa2,
            Alg::RS256,
            auth0_header().to_string().as_bytes(),
            user(now).to_string().as_bytes()
        )),
        token!("tampered_payload", |s, now| {
            let token = s.auth0(&with(user(now), json!({"scope": "openid"})));
            let parts: Vec<&str> = token.split('.').collect();
            let forged = b64(user(now).to_string().as_bytes());
            format!("{}.{forged}.{}", parts[0], parts[2])
        }),
        token!("tampered_signature", |s, now| {
            let token = s.auth0(&user(now));
            let at = token.rfind('.').unwrap() + 20;
            let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
            format!("{}{flipped}{}", &token[..at], &token[at + 1..])
        }),
        token!("alg_none", |_s, now| format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(user(now).to_string().as_bytes())
        )),
        token!("alg_none_with_kid", |_s, now| format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#),
            b64(user(now).to_string().as_bytes())
        )),
        token!("hs256_public_key_as_secret", |s, now| s.raw(
            &s.public_pem_as_secret,
            Alg::HS256,
            br#"{"alg":"HS256","typ":"JWT","kid":"rsa-1"}"#,
            user(now).to_string().as_bytes()
        )),
        token!("unknown_kid", |s, now| s.rs256_with(
            &json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-9"}),
            &user(now)
        )),
        token!("no_kid", |s, now| s
            .rs256_with(&json!({"alg": "RS256", "typ": "JWT"}), &user(now))),
        token!("kid_a_number", |s, now| s.rs256_with(
            &json!({"alg": "RS256", "typ": "JWT", "kid": 1}),
            &user(now)
        )),
        token!("rs384_same_key", |s, now| s.raw(
            &s.rsa1,
            Alg::RS384,
            br#"{"alg":"RS384","typ":"JWT","kid":"rsa-1"}"#,
            user(now).to_string().as_bytes()
        )),
        token!("ps256_same_key", |s, now| s.raw(
            &s.rsa1,
            Alg::PS256,
            br#"{"alg":"PS256","typ":"JWT","kid":"rsa-1"}"#,
            user(now).to_string().as_bytes()
        )),
        token!("crit_unknown", |s, now| s.rs256_with(
            &json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-1",
                    "crit": ["urn:example:x"], "urn:example:x": true}),
            &user(now)
        )),
        // ----- validity period
        token!("exp_past_by_1s", |s, now| s
            .auth0(&with(user(now - 600), json!({"exp": now - 1})))),
        token!("exp_past_by_6s", |s, now| s
            .auth0(&with(user(now - 600), json!({"exp": now - 6})))),
        token!("exp_past_by_11s", |s, now| s
            .auth0(&with(user(now - 600), json!({"exp": now - 11})))),
        token!("exp_past_by_1h", |s, now| s
            .auth0(&with(user(now - 90000), json!({"exp": now - 3600})))),
        token!("exp_missing", |s, now| s
            .auth0(&with(user(now), json!({"exp": null})))),
        token!("exp_fractional", |s, now| s
            .auth0(&with(user(now), json!({"exp": now as f64 + 300.5})))),
        token!("exp_year_9999", |s, now| s
            .auth0(&with(user(now), json!({"exp": 253_402_300_799_i64})))),
        token!("nbf_now", |s, now| s
            .auth0(&with(user(now), json!({"nbf": now})))),
        token!("nbf_future_by_3s", |s, now| s
            .auth0(&with(user(now), json!({"nbf": now + 3})))),
        token!("nbf_future_by_7s", |s, now| s
            .auth0(&with(user(now), json!({"nbf": now + 7})))),
        token!("nbf_future_by_20s", |s, now| s
            .auth0(&with(user(now), json!({"nbf": now + 20})))),
        token!("iat_future_by_3s", |s, now| s
            .auth0(&with(user(now), json!({"iat": now + 3})))),
        token!("iat_future_by_7s", |s, now| s
            .auth0(&with(user(now), json!({"iat": now + 7})))),
        token!("iat_future_by_20s", |s, now| s
            .auth0(&with(user(now), json!({"iat": now + 20})))),
        token!("iat_missing", |s, now| s
            .auth0(&with(user(now), json!({"iat": null})))),
        // ----- intended authority
        token!("iss_other_tenant", |s, now| s.auth0(&with(
            user(now),
            json!({"iss": "https://other-tenant.us.auth0.invalid/"})
        ))),
        token!("iss_without_trailing_slash", |s, now| s.auth0(&with(
            user(now),
            json!({"iss": format!("https://{DOMAIN}")})
        ))),
        token!("iss_http", |s, now| s.auth0(&with(
            user(now),
            json!({"iss": format!("http://{DOMAIN}/")})
        ))),
        token!("iss_uppercase_host", |s, now| s.auth0(&with(
            user(now),
            json!({"iss": format!("https://{}/", DOMAIN.to_uppercase())})
        ))),
        token!("iss_missing", |s, now| s
            .auth0(&with(user(now), json!({"iss": null})))),
        token!("iss_an_array", |s, now| s
            .auth0(&with(user(now), json!({"iss": [issuer()]})))),
        // ----- intended audience
        token!("aud_other_api", |s, now| s.auth0(&with(
            user(now),
            json!({"aud": "https://other-api.example"})
        ))),
        token!("aud_missing", |s, now| s
            .auth0(&with(user(now), json!({"aud": null})))),
        token!("aud_string", |s, now| s
            .auth0(&with(user(now), json!({"aud": AUDIENCE})))),
        token!("aud_array_right_one_last", |s, now| s.auth0(&with(
            user(now),
            json!({"aud": ["https://other-api.example", AUDIENCE]})
        ))),
        token!("aud_array_without_it", |s, now| s.auth0(&with(
            user(now),
            json!({"aud": ["https://other-api.example", format!("https://{DOMAIN}/userinfo")]})
        ))),
        token!("aud_empty_array", |s, now| s
            .auth0(&with(user(now), json!({"aud": []})))),
        token!("aud_trailing_slash", |s, now| s.auth0(&with(
            user(now),
            json!({"aud": format!("{AUDIENCE}/")})
        ))),
        token!("aud_a_number", |s, now| s
            .auth0(&with(user(now), json!({"aud": 1})))),
        token!("id_token_as_access_token", |s, now| s.auth0(&with(
            user(now),
            json!({"aud": CLIENT_ID, "scope": null, "azp": null, "nonce": "n-0S6_WzA2Mj",
                   "email": "user@example.com", "sid": "8ZnXcGh4"})
        ))),
        // ----- claims of the wrong JSON type
        token!("jti_a_number", |s, now| s.rs256_with(
            &rfc9068_header(),
            &with(rfc9068(now), json!({"jti": 12345}))
        )),
        token!("exp_a_string", |s, now| s.auth0(&with(
            user(now),
            json!({"exp": (now + 86400).to_string()})
        ))),
        token!("nbf_a_string", |s, now| s
            .auth0(&with(user(now), json!({"nbf": now.to_string()})))),
        token!("iat_a_string", |s, now| s
            .auth0(&with(user(now), json!({"iat": now.to_string()})))),
        token!("sub_a_number", |s, now| s
            .auth0(&with(user(now), json!({"sub": 42})))),
        token!("sub_missing", |s, now| s
            .auth0(&with(user(now), json!({"sub": null})))),
        token!("client_id_a_number", |s, now| s.rs256_with(
            &rfc9068_header(),
            &with(rfc9068(now), json!({"client_id": 42}))
        )),
        token!("dpop_bound_token_as_bearer", |s, now| s.auth0(&with(
            user(now),
            json!({"cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}})
        ))),
        // ----- scopes and permissions
        token!("scope_openid_permissions_read", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "openid", "permissions": ["read:messages"]})
        ))),
        token!("permissions_without_scope", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": null, "permissions": ["read:messages"]})
        ))),
        token!("permissions_a_string", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": null, "permissions": "read:messages"})
        ))),
        token!("scope_array", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": ["openid", "read:messages"]})
        ))),
        token!("scp_array_without_scope", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": null, "scp": ["read:messages"]})
        ))),
        token!("scp_string_without_scope", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": null, "scp": "read:messages"})
        ))),
        token!("scope_double_space", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "openid  read:messages"})
        ))),
        token!("scope_leading_trailing_spaces", |s, now| s
            .auth0(&with(user(now), json!({"scope": " read:messages "})))),
        token!("scope_tab_separated", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "openid\tread:messages"})
        ))),
        token!("scope_uppercase", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "openid READ:MESSAGES"})
        ))),
        token!("scope_capitalised", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "openid Read:Messages"})
        ))),
        token!("scope_longer_name", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "openid read:messages:all"})
        ))),
        token!("scope_empty_with_permissions", |s, now| s.auth0(&with(
            user(now),
            json!({"scope": "", "permissions": ["read:messages"]})
        ))),
        token!("scope_null_with_permissions", |s, now| {
            let mut claims = with(user(now), json!({"permissions": ["read:messages"]}));
            claims["scope"] = Value::Null;
            s.auth0(&claims)
        }),
        token!("scope_a_number", |s, now| s
            .auth0(&with(user(now), json!({"scope": 7})))),
        // ----- the Authorization header
        header!("no_authorization", |_s, _now| None),
        header!("bearer_without_token", |_s, _now| Some("Bearer".into())),
        header!("bearer_two_words", |s, now| Some(format!(
            "Bearer {} extra",
            s.auth0(&user(now))
        ))),
        header!("bearer_double_space", |s, now| Some(format!(
            "Bearer  {}",
            s.auth0(&user(now))
        ))),
        header!("bearer_lowercase", |s, now| Some(format!(
            "bearer {}",
            s.auth0(&user(now))
        ))),
        header!("basic_scheme", |_s, _now| Some("Basic dXNlcjpwYXNz".into())),
        header!("jwt_scheme", |s, now| Some(format!(
            "JWT {}",
            s.auth0(&user(now))
        ))),
        header!("dpop_scheme_without_proof", |s, now| Some(format!(
            "DPoP {}",
            s.auth0(&user(now))
        ))),
    ]
}

/// Header and claims JSON texts whose base64url encodings both end in `=` padding (a `pad`
/// member, ignored by both sides, makes their lengths no multiple of 3).
fn padded_json(now: i64) -> (Vec<u8>, Vec<u8>) {
    let pad = |mut value: Value| {
        let mut filler = String::new();
        while value.to_string().len().is_multiple_of(3) {
            filler.push('x');
            value["pad"] = json!(filler);
        }
        value.to_string().into_bytes()
    };
    (pad(auth0_header()), pad(user(now)))
}

/// Claims whose standard base64 has `+` or `/` (where base64url has `-` or `_`).
fn standard_alphabet_claims(now: i64) -> Vec<u8> {
    let mut note = String::from("???>>>");
    loop {
        let claims = with(user(now), json!({ "note": note.clone() }))
            .to_string()
            .into_bytes();
        if STANDARD_NO_PAD.encode(&claims).contains(['+', '/']) {
            return claims;
        }
        note.push('?');
    }
}

// ----- Auth0's side: the Node application -----------------------------------------------------

/// Auth0's quickstart application: its folder, relative to the workspace root, and its packages.
const APP: NodePackages = NodePackages {
    app_dir: "tests/interop/auth0",
    name: "auth0",
    package: "express-oauth2-jwt-bearer",
};

/// Auth0's quickstart running under `node` on 127.0.0.1; stopped when dropped.
struct Auth0App {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Auth0App {
    fn start(node_modules: &Path, jwks_uri: &str) -> Auth0App {
        let server = APP.source().join("server.js");
        let mut child = Command::new("node")
            .arg(&server)
            .env("NODE_PATH", node_modules)
            .env("ISSUER", issuer())
            .env("AUDIENCE", AUDIENCE)
            .env("JWKS_URI", jwks_uri)
            .env("PORT", "0")
            .env_remove("NODE_OPTIONS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node {}: {e}", server.display()));
        let (stderr, _) = crate::pipes::collect(child.stderr.take().expect("piped stderr"));
        let stdout = child.stdout.take().expect("piped stdout");
        let line = crate::pipes::first_line(stdout, STARTUP);
        let mut app = Auth0App {
            child,
            port: 0,
            stderr,
        };
        match line.trim().parse() {
            Ok(port) => app.port = port,
            Err(_) => {
                let _ = app.child.kill();
                let _ = app.child.wait();
                panic!(
                    "Auth0's application did not print its port within {STARTUP:?} \
                     (stdout {line:?}); stderr:\n{}",
                    app.stderr.lock().unwrap()
                );
            }
        }
        app
    }

    fn request(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        http_client::request(self.port, "GET", path, headers, b"").unwrap_or_else(|e| {
            panic!(
                "GET {path} to Auth0's application on port {}: {e}; its stderr:\n{}",
                self.port,
                self.stderr.lock().unwrap()
            )
        })
    }
}

impl Drop for Auth0App {
    fn drop(&mut self) {
        // Closing its stdin stops it; killing it (by its own pid) makes sure.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- the test ----------------------------------------------------------------------------------

/// One row of the table.
struct Row {
    case: &'static str,
    bytes: usize,
    route: &'static str,
    ours: Answer,
    auth0: Answer,
    verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Agree,
    Known,
    Disagree,
}

fn every_token_gets_the_answer_auth0s_validator_gives() {
    let started = Instant::now();
    let node_modules = APP.node_modules();
    let jwks = JwksServer::start(&[TestKey::Rsa.jwk(), TestKey::Rsa2.jwk()]);
    let auth0 = Auth0App::start(&node_modules, &jwks.jwks_url());
    let ours = LiveRocket::launch(example::mount(
        example::auth0_api(DOMAIN, AUDIENCE).jwks_url(jwks.jwks_url()),
    ));
    for (side, status) in [
        ("ours", ours.request("GET", "/api/public", &[], b"").status),
        ("Auth0's", auth0.request("/api/public", &[]).status),
    ] {
        assert_eq!(status, 200, "{side} /api/public");
    }

    let signers = Signers::load();
    let corpus = corpus();
    let mut names: Vec<&str> = corpus.iter().map(|case| case.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), corpus.len(), "case names are unique");
    for entry in KNOWN {
        assert!(
            names.contains(&entry.case),
            "KNOWN names an unknown case {}",
            entry.case
        );
    }

    let mut rows = Vec::new();
    for case in &corpus {
        let authorization = (case.authorization)(&signers, now());
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("Authorization", value.as_str()))
            .collect();
        let bytes = authorization
            .as_deref()
            .map_or(0, |value| value.split_once(' ').map_or(0, |(_, t)| t.len()));
        for route in ROUTES {
            let ours = Answer::ours(&ours.request("GET", route, &headers, b""));
            let auth0 = Answer::auth0(&auth0.request(route, &headers));
            let verdict = if ours.class == auth0.class && ours.sub == auth0.sub {
                Verdict::Agree
            } else if known(case.name, route)
                .is_some_and(|k| k.ours == ours.class && k.auth0 == auth0.class)
            {
                Verdict::Known
            } else {
                Verdict::Disagree
            };
            rows.push(Row {
                case: case.name,
                bytes,
                route,
                ours,
                auth0,
                verdict,
            });
        }
    }

    // The table.
    let mut table = format!(
        "\n{:<34} {:>5} {:<19} {:<72} {:<72} verdict\n",
        "token", "bytes", "route", "ours", "Auth0's (express-oauth2-jwt-bearer 1.10.0)"
    );
    for row in &rows {
        table.push_str(&format!(
            "{:<34} {:>5} {:<19} {:<72} {:<72} {}\n",
            row.case,
            row.bytes,
            row.route,
            row.ours.cell(),
            row.auth0.cell(),
            match row.verdict {
                Verdict::Agree => "agree",
                Verdict::Known => "KNOWN DIFFERENCE",
                Verdict::Disagree => "DISAGREE",
            }
        ));
    }
    let agree = rows.iter().filter(|r| r.verdict == Verdict::Agree).count();
    let known_seen = rows.iter().filter(|r| r.verdict == Verdict::Known).count();
    table.push_str(&format!(
        "{} tokens, {} requests to each side: {agree} agree, {known_seen} known differences, {} \
         disagreements ({:.1} s)\n",
        corpus.len(),
        rows.len(),
        rows.len() - agree - known_seen,
        started.elapsed().as_secs_f64()
    ));
    table.push_str("Known differences:\n");
    for entry in KNOWN {
        table.push_str(&format!(
            "  {} on {}: ours {}, Auth0's {}: {}\n",
            entry.case,
            entry.route.unwrap_or("both routes"),
            entry.ours.label(),
            entry.auth0.label(),
            entry.reason
        ));
    }
    eprintln!("{table}");

    let mut failures: Vec<String> = rows
        .iter()
        .filter(|row| row.verdict == Verdict::Disagree)
        .map(|row| {
            format!(
                "{} on {}: ours {} [{}], Auth0's {} [{}]",
                row.case,
                row.route,
                row.ours.class.label(),
                row.ours.detail,
                row.auth0.class.label(),
                row.auth0.detail
            )
        })
        .collect();
    for entry in KNOWN {
        let seen = rows.iter().any(|row| {
            row.case == entry.case
                && entry.route.is_none_or(|r| r == row.route)
                && row.verdict == Verdict::Known
        });
        if !seen {
            failures.push(format!(
                "the known difference {} on {} (ours {}, Auth0's {}) is not seen any more: \
                 remove it from KNOWN",
                entry.case,
                entry.route.unwrap_or("both routes"),
                entry.ours.label(),
                entry.auth0.label()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with Auth0's validator outside the known differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![test!(
        every_token_gets_the_answer_auth0s_validator_gives,
        needs[Program::Node]
    )]
}
