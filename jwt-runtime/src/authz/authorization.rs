//! What a valid token may do: the scopes and claim rules a route demands
//! ([`Rules::SCOPES`](crate::Rules::SCOPES), [`Rules::ANY_SCOPE`](crate::Rules::ANY_SCOPE),
//! [`Rules::CLAIMS`](crate::Rules::CLAIMS), [`Rules::PREDICATE`](crate::Rules::PREDICATE)),
//! checked on verified claims after the route's other requirements.
//!
//! A token that is valid but lacks what the route needs is answered **403** with
//! `WWW-Authenticate: Bearer error="insufficient_scope"` (RFC 6750 §3.1), in every profile.
//!
//! Scopes are read from the first claim of the `scope_claims` setting that the token carries:
//! `scope` as a space-delimited string (RFC 8693 §4.2, RFC 9068 §2.2.3), any other claim (`scp`,
//! Auth0's `permissions`) as an array of strings or a space-delimited string (Entra ID's `scp`). With the default order (`scope`, `scp`,
//! `permissions`), a token's `scope` (what the client asked for and the user consented to) is
//! never widened by its `permissions` (everything the user may do, in Auth0's RBAC): a client
//! cannot use a permission it did not ask for. `merge_scope_claims` makes every listed claim
//! count. Matching is exact and case-sensitive; a claim of another JSON type grants nothing.

use std::fmt;

use rocket::http::Status;
use serde_json::Value;

use crate::claims::Payload;
use crate::error::{ErrorKind, JwtError};
use crate::settings::Settings;
use crate::token::claims::TokenClaims;

/// The claim read as a space-delimited string of scopes; every other scope claim is an array.
pub const SPACE_DELIMITED_SCOPE_CLAIM: &str = "scope";

/// A value a [`ClaimRule`] compares a claim with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimValue {
    /// A JSON string, compared byte for byte.
    Str(&'static str),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON integer.
    Int(i64),
}

impl ClaimValue {
    /// Whether `value` is this value, of the same JSON type.
    pub fn matches(self, value: &Value) -> bool {
        match (self, value) {
            (ClaimValue::Str(expected), Value::String(found)) => expected == found,
            (ClaimValue::Bool(expected), Value::Bool(found)) => expected == *found,
            (ClaimValue::Int(expected), Value::Number(found)) => found.as_i64() == Some(expected),
            _ => false,
        }
    }
}

impl fmt::Display for ClaimValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimValue::Str(text) => write!(f, "{text:?}"),
            ClaimValue::Bool(value) => write!(f, "{value}"),
            ClaimValue::Int(value) => write!(f, "{value}"),
        }
    }
}

/// A rule on one claim of a verified token: `#[jwt_required(claim_eq = [..])]` and
/// `claim_includes = [..]`, or a [`Rules::CLAIMS`](crate::Rules::CLAIMS) slice by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRule {
    /// The claim is present and equals the value (same JSON type).
    Equals(&'static str, ClaimValue),
    /// The claim is an array with an element equal to the value (same JSON type).
    Includes(&'static str, ClaimValue),
}

impl ClaimRule {
    /// Whether `claims` satisfy the rule.
    pub fn matches(self, claims: &Payload) -> bool {
        match self {
            ClaimRule::Equals(name, value) => claims.get(name).is_some_and(|v| value.matches(v)),
            ClaimRule::Includes(name, value) => match claims.get(name) {
                Some(Value::Array(items)) => items.iter().any(|item| value.matches(item)),
                _ => false,
            },
        }
    }
}

impl fmt::Display for ClaimRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimRule::Equals(name, value) => write!(f, "claim {name:?} must equal {value}"),
            ClaimRule::Includes(name, value) => write!(f, "claim {name:?} must include {value}"),
        }
    }
}

/// A named predicate over the verified claims: `#[jwt_required(predicate = path::to::fn)]`.
pub type ClaimPredicate = fn(&Payload) -> bool;

/// The authorization part of a route's rules, as a value.
#[derive(Clone, Copy)]
pub(crate) struct RouteAuthorization {
    pub(crate) scopes: &'static [&'static str],
    pub(crate) any_scope: &'static [&'static str],
    pub(crate) claims: &'static [ClaimRule],
    pub(crate) predicate: Option<ClaimPredicate>,
}

impl RouteAuthorization {
    /// Whether the route demands anything of a valid token.
    pub(crate) fn is_empty(&self) -> bool {
        self.scopes.is_empty()
            && self.any_scope.is_empty()
            && self.claims.is_empty()
            && self.predicate.is_none()
    }
}

impl PartialEq for RouteAuthorization {
    fn eq(&self, other: &Self) -> bool {
        let same_predicate = match (self.predicate, other.predicate) {
            (Some(mine), Some(theirs)) => std::ptr::fn_addr_eq(mine, theirs),
            (mine, theirs) => mine.is_none() && theirs.is_none(),
        };
        self.scopes == other.scopes
            && self.any_scope == other.any_scope
            && self.claims == other.claims
            && same_predicate
    }
}

impl Eq for RouteAuthorization {}

impl fmt::Debug for RouteAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteAuthorization")
            .field("scopes", &self.scopes)
            .field("any_scope", &self.any_scope)
            .field("claims", &self.claims)
            .field("predicate", &self.predicate.map(|_| "fn(&Payload) -> bool"))
            .finish()
    }
}

/// Whether `claims` grant `scope`, read from the first claim of `scope_claims` the token
/// carries (the `scope_claims` setting without `merge_scope_claims`). A claim carried with
/// another JSON type (`null` included) is the one read, and grants nothing.
///
/// Usable from a hand-written handler: `has_scope(&claims, "read:messages", &settings.scope_claims)`.
pub fn has_scope(claims: &Payload, scope: &str, scope_claims: &[String]) -> bool {
    scope_claims
        .iter()
        .find_map(|name| Some((name, claims.get(name.as_str())?)))
        .is_some_and(|(name, value)| grants(name, value, scope))
}

/// Whether any claim of `scope_claims` that the token carries grants `scope` (the
/// `merge_scope_claims` setting).
pub fn has_scope_in_any(claims: &Payload, scope: &str, scope_claims: &[String]) -> bool {
    scope_claims.iter().any(|name| {
        claims
            .get(name.as_str())
            .is_some_and(|v| grants(name, v, scope))
    })
}

/// Whether the scope claim `name`, of value `value`, grants `scope`: `scope` split on spaces
/// when it is a string (RFC 8693 §4.2); any other claim's string elements when it is an array
/// (Auth0's `permissions`, Okta's `scp`), or its words when it is a string (Microsoft Entra ID's
/// `scp`); nothing for another JSON type. (A route's scopes are never empty.)
fn grants(name: &str, value: &Value, scope: &str) -> bool {
    match value {
        Value::String(text) => !scope.is_empty() && text.split(' ').any(|granted| granted == scope),
        Value::Array(items) if name != SPACE_DELIMITED_SCOPE_CLAIM => {
            items.iter().any(|item| item.as_str() == Some(scope))
        }
        _ => false,
    }
}

/// Checks `claims` against the route's `authorization`: every scope of `SCOPES`, one of
/// `ANY_SCOPE`, every claim rule, then the predicate. The first failure is a 403.
pub(crate) fn check(
    claims: &TokenClaims,
    authorization: &RouteAuthorization,
    settings: &Settings,
) -> Result<(), JwtError> {
    if authorization.is_empty() {
        return Ok(());
    }
    // The public predicates and scope functions read a payload: built here, for such routes only.
    let claims = &**claims.payload();
    let granted = |scope: &str| match settings.merge_scope_claims {
        false => has_scope(claims, scope, &settings.scope_claims),
        true => has_scope_in_any(claims, scope, &settings.scope_claims),
    };
    if let Some(missing) = authorization.scopes.iter().find(|scope| !granted(scope)) {
        return Err(insufficient(
            authorization,
            settings,
            format!("The token lacks the scope {missing:?}"),
        ));
    }
    if !authorization.any_scope.is_empty() && !authorization.any_scope.iter().any(|s| granted(s)) {
        return Err(insufficient(
            authorization,
            settings,
            format!(
                "The token has none of the scopes {}",
                authorization.any_scope.join(" ")
            ),
        ));
    }
    if let Some(rule) = authorization
        .claims
        .iter()
        .find(|rule| !rule.matches(claims))
    {
        return Err(insufficient(
            authorization,
            settings,
            format!("The token does not satisfy the rule: {rule}"),
        ));
    }
    if let Some(predicate) = authorization.predicate
        && !predicate(claims)
    {
        return Err(insufficient(
            authorization,
            settings,
            "The token does not satisfy the route's claim predicate".into(),
        ));
    }
    Ok(())
}

/// 403 `Insufficient scope` with the RFC 6750 challenge naming the route's scopes.
fn insufficient(
    authorization: &RouteAuthorization,
    settings: &Settings,
    description: String,
) -> JwtError {
    let mut scopes: Vec<&str> = Vec::new();
    for scope in authorization.scopes.iter().chain(authorization.any_scope) {
        if !scopes.contains(scope) {
            scopes.push(scope);
        }
    }
    let challenge = crate::authz::challenge::insufficient_scope(&scopes, settings);
    JwtError::new(
        Status::Forbidden,
        ErrorKind::InsufficientScope,
        "Insufficient scope",
        description,
    )
    .with_header("WWW-Authenticate", challenge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Payload {
        serde_json::from_value(value).expect("an object")
    }

    fn token_claims(value: Value) -> TokenClaims {
        TokenClaims::of(value)
    }

    fn default_sources() -> Vec<String> {
        Settings::default().scope_claims
    }

    fn route(
        scopes: &'static [&'static str],
        any_scope: &'static [&'static str],
        rules: &'static [ClaimRule],
        predicate: Option<ClaimPredicate>,
    ) -> RouteAuthorization {
        RouteAuthorization {
            scopes,
            any_scope,
            claims: rules,
            predicate,
        }
    }

    fn answer(value: Value, authorization: RouteAuthorization) -> Result<(), (u16, String)> {
        check(&token_claims(value), &authorization, &Settings::default()).map_err(|error| {
            (
                error.status.code,
                error
                    .headers
                    .iter()
                    .find(|(name, _)| name == "WWW-Authenticate")
                    .map(|(_, value)| value.clone())
                    .expect("a challenge"),
            )
        })
    }

    #[test]
    fn scopes_come_from_scope_scp_and_permissions_each_in_its_own_form() {
        let sources = default_sources();
        for token in [
            json!({"scope": "openid read:messages profile"}),
            json!({"scp": ["openid", "read:messages"]}),
            // Microsoft Entra ID writes `scp` as a space-delimited string.
            json!({"scp": "openid read:messages"}),
            json!({"permissions": ["read:messages"]}),
        ] {
            assert!(
                has_scope(&claims(token.clone()), "read:messages", &sources),
                "{token}"
            );
        }
        for token in [
            json!({"scope": ["read:messages"]}),
            json!({"scp": "read:messages-extra"}),
            json!({"permissions": 1}),
            json!({"scope": {"read:messages": true}}),
            json!({"scope": null}),
            json!({"scopes": "read:messages"}),
            json!({"sub": "read:messages"}),
            json!({"permission": ["read:messages"]}),
        ] {
            assert!(
                !has_scope(&claims(token.clone()), "read:messages", &sources),
                "{token}"
            );
        }
    }

    #[test]
    fn scopes_match_exactly() {
        let sources = default_sources();
        for scope in [
            "Read:messages",
            "read:Messages",
            "read:messages\t",
            "read:messages\n",
            "read:messages\u{a0}",
            "read:messages,write:messages",
            "read:message",
            "read:messagesx",
        ] {
            let token = claims(json!({ "scope": scope, "scp": [scope] }));
            assert!(!has_scope(&token, "read:messages", &sources), "{scope:?}");
        }
        let token = claims(json!({"scp": ["read:messages write:messages", " read:messages"]}));
        assert!(!has_scope(&token, "read:messages", &sources));
        let token = claims(json!({"scope": "  write:messages   read:messages "}));
        assert!(has_scope(&token, "read:messages", &sources));
        assert!(!has_scope(&token, "", &sources), "no empty scope");
    }

    #[test]
    fn only_the_configured_claims_are_read() {
        let token = claims(json!({"permissions": ["read:messages"], "scope": "write"}));
        assert!(!has_scope(&token, "read:messages", &["scope".into()]));
        assert!(has_scope(&token, "write", &["scope".into()]));
        assert!(!has_scope(&token, "write", &["permissions".into()]));
    }

    #[test]
    fn all_of_any_of_claim_rules_and_the_predicate_answer_403_with_the_challenge() {
        let token = json!({"scope": "a b", "org": "acme", "roles": ["admin"], "level": 3,
                           "verified": true});
        assert_eq!(
            answer(token.clone(), route(&["a", "b"], &[], &[], None)),
            Ok(())
        );
        assert_eq!(
            answer(token.clone(), route(&["a", "c"], &[], &[], None)),
            Err((
                403,
                r#"Bearer error="insufficient_scope", scope="a c""#.into()
            ))
        );
        assert_eq!(
            answer(token.clone(), route(&[], &["c", "b"], &[], None)),
            Ok(())
        );
        assert_eq!(
            answer(token.clone(), route(&["a"], &["c", "d"], &[], None)),
            Err((
                403,
                r#"Bearer error="insufficient_scope", scope="a c d""#.into()
            ))
        );
        const GOOD: &[ClaimRule] = &[
            ClaimRule::Equals("org", ClaimValue::Str("acme")),
            ClaimRule::Equals("level", ClaimValue::Int(3)),
            ClaimRule::Equals("verified", ClaimValue::Bool(true)),
            ClaimRule::Includes("roles", ClaimValue::Str("admin")),
        ];
        assert_eq!(answer(token.clone(), route(&[], &[], GOOD, None)), Ok(()));
        for bad in [
            &[ClaimRule::Equals("org", ClaimValue::Str("Acme"))][..],
            &[ClaimRule::Equals("level", ClaimValue::Str("3"))],
            &[ClaimRule::Equals("verified", ClaimValue::Str("true"))],
            &[ClaimRule::Equals("missing", ClaimValue::Bool(false))],
            &[ClaimRule::Equals("roles", ClaimValue::Str("admin"))],
            &[ClaimRule::Includes("org", ClaimValue::Str("acme"))],
            &[ClaimRule::Includes("roles", ClaimValue::Str("user"))],
        ] {
            let rules: &'static [ClaimRule] = Box::leak(bad.to_vec().into_boxed_slice());
            assert_eq!(
                answer(token.clone(), route(&[], &[], rules, None)),
                Err((403, r#"Bearer error="insufficient_scope""#.into())),
                "{bad:?}"
            );
        }
        fn level_above_2(claims: &Payload) -> bool {
            claims
                .get("level")
                .and_then(Value::as_i64)
                .is_some_and(|level| level > 2)
        }
        assert_eq!(
            answer(token, route(&[], &[], &[], Some(level_above_2))),
            Ok(())
        );
        assert_eq!(
            answer(
                json!({"level": 2}),
                route(&[], &[], &[], Some(level_above_2))
            ),
            Err((403, r#"Bearer error="insufficient_scope""#.into()))
        );
    }

    #[test]
    fn the_description_names_what_is_missing() {
        let error = check(
            &token_claims(json!({"scope": "a"})),
            &route(&["a", "b"], &[], &[], None),
            &Settings::default(),
        )
        .expect_err("b is missing");
        assert_eq!(error.kind, ErrorKind::InsufficientScope);
        assert_eq!(error.description, "The token lacks the scope \"b\"");
        const RULE: &[ClaimRule] = &[ClaimRule::Includes("roles", ClaimValue::Str("admin"))];
        let error = check(
            &token_claims(json!({})),
            &route(&[], &[], RULE, None),
            &Settings::default(),
        )
        .expect_err("no roles");
        assert_eq!(
            error.description,
            "The token does not satisfy the rule: claim \"roles\" must include \"admin\""
        );
    }
}
