//! Tokens as real issuers mint them, through the resource-server example
//! (`examples/resource_server.rs`) configured with nothing but each issuer's `iss`, the API's
//! audience and a JWKS: the claim sets that Auth0 (user tokens with and without RBAC,
//! machine-to-machine tokens, its RFC 9068 profile), Okta, Keycloak, Microsoft Entra ID (v1 and
//! v2) and Google document for their access or ID tokens, signed here by a test key. Every one
//! is accepted; each, spoiled for one of the five checks at a time, is refused by that check.
//!
//! The shapes follow each issuer's documentation of its token claims; the values (tenants,
//! subjects, client ids) are made up.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rocket::http::{Header as HttpHeader, Status};
use rocket::local::blocking::Client;
use serde_json::{json, Value};

use crate::common::jwks_server::{JwksServer, TestKey};
use crate::common::{logs, now};
use crate::resource_server_example as example;

/// One issuer's token: its `iss`, the API's audience as that issuer writes it, the header `typ`
/// and the claims.
struct Fixture {
    name: &'static str,
    issuer: &'static str,
    audience: &'static str,
    typ: &'static str,
    claims: Value,
    /// Whether its scopes include `read:messages` (the example's scoped route).
    scoped: bool,
}

/// The documented claim sets, issued `now`.
fn fixtures(now: i64) -> Vec<Fixture> {
    let auth0 = "https://tenant.eu.auth0.com/";
    let api = "https://api.example.com";
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    vec![
        Fixture {
            name: "Auth0 user access token",
            issuer: auth0,
            audience: api,
            typ: "JWT",
            claims: json!({
                "iss": auth0, "sub": "auth0|65a1f0c2e4b0d1a2b3c4d5e6",
                "aud": [api, "https://tenant.eu.auth0.com/userinfo"],
                "iat": now, "exp": now + 86400, "azp": "kbyuFDidLLm280LIwVFiazOqjO3ty8KH",
                "scope": "openid profile email"
            }),
            scoped: false,
        },
        Fixture {
            name: "Auth0 user access token with RBAC",
            issuer: auth0,
            audience: api,
            typ: "JWT",
            claims: json!({
                "iss": auth0, "sub": "auth0|65a1f0c2e4b0d1a2b3c4d5e6",
                "aud": [api, "https://tenant.eu.auth0.com/userinfo"],
                "iat": now, "exp": now + 86400, "azp": "kbyuFDidLLm280LIwVFiazOqjO3ty8KH",
                "scope": "openid profile read:messages",
                "permissions": ["read:messages", "write:messages"]
            }),
            scoped: true,
        },
        Fixture {
            name: "Auth0 machine-to-machine token",
            issuer: auth0,
            audience: api,
            typ: "JWT",
            claims: json!({
                "iss": auth0, "sub": "kbyuFDidLLm280LIwVFiazOqjO3ty8KH@clients", "aud": api,
                "iat": now, "exp": now + 86400, "gty": "client-credentials",
                "azp": "kbyuFDidLLm280LIwVFiazOqjO3ty8KH", "scope": "read:messages"
            }),
            scoped: true,
        },
        Fixture {
            name: "Auth0 access token, RFC 9068 profile",
            issuer: auth0,
            audience: api,
            typ: "at+jwt",
            claims: json!({
                "iss": auth0, "sub": "auth0|65a1f0c2e4b0d1a2b3c4d5e6", "aud": [api],
                "iat": now, "exp": now + 86400, "client_id": "kbyuFDidLLm280LIwVFiazOqjO3ty8KH",
                "jti": "c3Rvcm0tdHJvb3Blcg", "scope": "read:messages"
            }),
            scoped: true,
        },
        Fixture {
            name: "Okta access token (custom authorization server)",
            issuer: "https://dev-133337.okta.com/oauth2/default",
            audience: "api://default",
            typ: "JWT",
            claims: json!({
                "ver": 1, "jti": "AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE",
                "iss": "https://dev-133337.okta.com/oauth2/default", "aud": "api://default",
                "iat": now, "exp": now + 3600, "cid": "0oa1gb4ebvBQ8xDyD5d7",
                "uid": "00u1gb6a6d2nbnXXb5d7", "scp": ["openid", "read:messages"],
                "auth_time": now - 60, "sub": "isaac.brock@example.com"
            }),
            scoped: true,
        },
        Fixture {
            name: "Keycloak access token",
            issuer: "https://sso.example.com/realms/demo",
            audience: "api",
            typ: "JWT",
            claims: json!({
                "exp": now + 300, "iat": now, "auth_time": now - 10,
                "jti": "onrtac:3b1c2f6e-8d43-4b5e-9a3f-2c7d9e1f0a4b",
                "iss": "https://sso.example.com/realms/demo", "aud": ["api", "account"],
                "sub": "f4a5d2a3-6a0e-4d6f-9f5e-0c1b2a3d4e5f", "typ": "Bearer", "azp": "web-app",
                "sid": "7c1e4f2a-9b3d-4e5f-8a6b-1c2d3e4f5a6b", "acr": "1",
                "allowed-origins": ["https://app.example.com"],
                "realm_access": {"roles": ["offline_access", "uma_authorization"]},
                "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
                "scope": "openid email profile read:messages", "email_verified": true,
                "preferred_username": "alice"
            }),
            scoped: true,
        },
        Fixture {
            name: "Microsoft Entra ID access token v1.0",
            issuer: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
            audience: "api://6e74172b-be56-4843-9ff4-e66a39bb12e3",
            typ: "JWT",
            claims: json!({
                "aud": "api://6e74172b-be56-4843-9ff4-e66a39bb12e3",
                "iss": format!("https://sts.windows.net/{tenant}/"),
                "iat": now, "nbf": now, "exp": now + 4500, "acr": "1",
                "aio": "AXQAi/8TAAAAbmV2ZXIgYSByZWFsIHRva2Vu", "amr": ["pwd", "mfa"],
                "appid": "75dbe77f-10a3-4e59-85fd-8c127544f17c", "appidacr": "0",
                "family_name": "Doe", "given_name": "Jane", "ipaddr": "203.0.113.7",
                "name": "Jane Doe", "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
                "rh": "0.ARoAv4j5cvGGr0GRqy180BHbR1AAAAAAAAA.", "scp": "User.Read read:messages",
                "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA", "tid": tenant,
                "unique_name": "jane@contoso.com", "upn": "jane@contoso.com",
                "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "1.0"
            }),
            scoped: true,
        },
        Fixture {
            name: "Microsoft Entra ID access token v2.0",
            issuer: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            audience: "6e74172b-be56-4843-9ff4-e66a39bb12e3",
            typ: "JWT",
            claims: json!({
                "aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
                "iss": format!("https://login.microsoftonline.com/{tenant}/v2.0"),
                "iat": now, "nbf": now, "exp": now + 4500,
                "aio": "AXQAi/8TAAAAbmV2ZXIgYSByZWFsIHRva2Vu",
                "azp": "75dbe77f-10a3-4e59-85fd-8c127544f17c", "azpacr": "0", "name": "Jane Doe",
                "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
                "preferred_username": "jane@contoso.com",
                "rh": "0.ARoAv4j5cvGGr0GRqy180BHbR1AAAAAAAAA.", "scp": "read:messages",
                "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA", "tid": tenant,
                "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0"
            }),
            scoped: true,
        },
        Fixture {
            name: "Google ID token",
            issuer: "https://accounts.google.com",
            audience: "1234987819200.apps.googleusercontent.com",
            typ: "JWT",
            claims: json!({
                "iss": "https://accounts.google.com",
                "azp": "1234987819200.apps.googleusercontent.com",
                "aud": "1234987819200.apps.googleusercontent.com",
                "sub": "10769150350006150715113082367", "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
                "hd": "example.com", "email": "jsmith@example.com", "email_verified": true,
                "iat": now, "exp": now + 3600, "nonce": "0394852-3190485-2490358"
            }),
            scoped: false,
        },
    ]
}

/// The example configured as its users would for `fixture`'s issuer: issuer, audience, JWKS.
fn api_for(fixture: &Fixture, jwks: &JwksServer) -> Client {
    let rocket = example::mount(
        example::api()
            .issuer(fixture.issuer)
            .audience([fixture.audience])
            .jwks_url(jwks.jwks_url()),
    );
    Client::tracked(rocket).expect("the resource server starts")
}

/// `claims` signed with `key` under the kid of the test key set, with `typ`.
fn sign(key: TestKey, typ: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some(typ.into());
    header.kid = Some(TestKey::Rsa.kid().into());
    let key = EncodingKey::from_rsa_pem(key.private_pem().as_bytes()).expect("a test key");
    jsonwebtoken::encode(&header, claims, &key).expect("signing")
}

/// `claims` with `changes` set over them.
fn with(claims: &Value, changes: Value) -> Value {
    let mut claims = claims.clone();
    let object = claims.as_object_mut().expect("claims are an object");
    for (name, value) in changes.as_object().expect("changes are an object") {
        object.insert(name.clone(), value.clone());
    }
    claims
}

/// The status and JSON body of `GET path` with `token` as a bearer token.
fn get(client: &Client, path: &str, token: &str) -> (Status, Value) {
    let response = client
        .get(path)
        .header(HttpHeader::new("Authorization", format!("Bearer {token}")))
        .dispatch();
    let status = response.status();
    let body = response.into_json().unwrap_or(Value::Null);
    (status, body)
}

#[test]
fn every_major_issuers_tokens_are_accepted_with_only_issuer_audience_and_keys() {
    let jwks = JwksServer::start(&[TestKey::Rsa.jwk()]);
    for fixture in fixtures(now()) {
        let client = api_for(&fixture, &jwks);
        let token = sign(TestKey::Rsa, fixture.typ, &fixture.claims);
        let (status, body) = get(&client, "/api/private", &token);
        assert_eq!(status, Status::Ok, "{}: {body}", fixture.name);
        assert_eq!(body["sub"], fixture.claims["sub"], "{}", fixture.name);
        let (status, body) = get(&client, "/api/private-scoped", &token);
        let expected = match fixture.scoped {
            true => Status::Ok,
            false => Status::Forbidden,
        };
        assert_eq!(
            status, expected,
            "{} on the scoped route: {body}",
            fixture.name
        );
    }
}

/// Each of the five checks spoiled in turn: the token, and the check and description it fails.
fn spoiled(fixture: &Fixture, now: i64) -> Vec<(&'static str, String, &'static str)> {
    let good = sign(TestKey::Rsa, fixture.typ, &fixture.claims);
    let (header, rest) = good.split_once('.').expect("three segments");
    vec![
        (
            "well-formed",
            format!(
                "{header}.{}",
                rest.split_once('.').expect("three segments").0
            ),
            "Not enough segments",
        ),
        (
            "signature",
            sign(TestKey::Rsa2, fixture.typ, &fixture.claims),
            "Signature verification failed",
        ),
        (
            "validity period",
            sign(
                TestKey::Rsa,
                fixture.typ,
                &with(
                    &fixture.claims,
                    json!({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}),
                ),
            ),
            "Signature has expired",
        ),
        (
            "intended authority",
            sign(
                TestKey::Rsa,
                fixture.typ,
                &with(&fixture.claims, json!({"iss": "https://attacker.example/"})),
            ),
            "Invalid issuer: the token is not from the intended authority",
        ),
        (
            "intended audience",
            sign(
                TestKey::Rsa,
                fixture.typ,
                &with(
                    &fixture.claims,
                    json!({"aud": "https://another-api.example"}),
                ),
            ),
            "Invalid audience: the token is not for this application",
        ),
    ]
}

#[test]
fn each_issuers_token_spoiled_for_one_check_is_refused_by_that_check() {
    logs::install();
    let jwks = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let now = now();
    for fixture in fixtures(now) {
        let client = api_for(&fixture, &jwks);
        for (check, token, description) in spoiled(&fixture, now) {
            let (status, body) = get(&client, "/api/private", &token);
            assert_eq!(
                status,
                Status::Unauthorized,
                "{} / {check}: {body}",
                fixture.name
            );
            assert_eq!(
                body["description"], description,
                "{} / {check}",
                fixture.name
            );
            // The log line of the refusal names the check.
            let named = format!("(failed check: {check})");
            assert!(
                logs::containing(description)
                    .iter()
                    .any(|line| line.contains(&named)),
                "{} / {check}: no log line with {description:?} and {named:?}",
                fixture.name
            );
        }
    }
}

#[test]
fn a_token_without_nbf_or_iat_is_refused_where_the_application_requires_them() {
    let jwks = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let fixture = fixtures(now()).remove(0);
    let rocket = example::mount(
        example::api()
            .issuer(fixture.issuer)
            .audience([fixture.audience])
            .jwks_url(jwks.jwks_url())
            .required_claims(["exp", "iat", "nbf"]),
    );
    let client = Client::tracked(rocket).expect("the resource server starts");
    let token = sign(TestKey::Rsa, fixture.typ, &fixture.claims);
    let (status, body) = get(&client, "/api/private", &token);
    assert_eq!(status, Status::Unauthorized, "{body}");
    assert_eq!(body["description"], "Token is missing the \"nbf\" claim");
}

#[test]
fn several_authorities_from_the_configuration_replace_the_single_one() {
    let jwks = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let all = fixtures(now());
    let (okta, entra) = (&all[4], &all[7]);
    let authorities = json!([
        {"name": "okta", "issuer": okta.issuer, "audience": okta.audience,
         "jwks_url": jwks.jwks_url()},
        {"name": "entra", "issuer": entra.issuer, "audience": entra.audience,
         "jwks_url": jwks.jwks_url()},
    ]);
    let figment = rocket::Config::figment().merge(("jwt.authorities", authorities));
    assert!(example::authorities_configured(&figment));
    assert!(!example::authorities_configured(&rocket::Config::figment()));
    let rocket = example::mount(example::api()).configure(figment);
    let client = Client::tracked(rocket).expect("the resource server starts");
    for fixture in [okta, entra] {
        let token = sign(TestKey::Rsa, fixture.typ, &fixture.claims);
        let (status, body) = get(&client, "/api/private-scoped", &token);
        assert_eq!(status, Status::Ok, "{}: {body}", fixture.name);
    }
    // Okta's token with Entra's issuer is held to Entra's audience.
    let crossed = with(&okta.claims, json!({"iss": entra.issuer}));
    let (status, body) = get(
        &client,
        "/api/private",
        &sign(TestKey::Rsa, "JWT", &crossed),
    );
    assert_eq!(status, Status::Unauthorized, "{body}");
    assert_eq!(
        body["description"],
        "Invalid audience: the token is not for this application"
    );
}
