//! Scopes and claim rules on the route (`#[jwt_required(scopes = .., any_scope = ..,
//! claim_eq = .., claim_includes = .., predicate = ..)]` and the same `Rules` constants by hand),
//! through Rocket's local client: a valid token without what the route needs is answered 403
//! with `WWW-Authenticate: Bearer error="insufficient_scope"` in every profile, and the handler
//! does not run. Security cases: scopes smuggled in other claims or in the header, claims of the
//! wrong JSON type, case and whitespace variants.

use crate::common;
use common::{now, sign_hs256};

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{routes, Build, Rocket};
use rocket_flask_jwt::{
    authorization::has_scope, authorization::ClaimRule, authorization::ClaimValue,
    current_identity, jwt_required, Jwt, JwtAuth, JwtBuilder, JwtResponse, Payload, Rules,
};
use serde_json::{json, Value};

const SECRET: &str = "a secret of at least thirty-two bytes for HS256";

/// The `jti` of every token a protected handler body ran for: a refused request's is never in it.
static RAN_FOR: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Each token's own `jti`, so that tests running in parallel do not see each other's requests.
static NEXT_JTI: AtomicUsize = AtomicUsize::new(0);

/// A handler body: records the token's `jti`.
fn ran() -> String {
    let claims = rocket_flask_jwt::identity::get_jwt();
    if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
        RAN_FOR
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(jti.to_owned());
    }
    "ran".into()
}

/// Whether a handler body ran for the token `token`.
fn ran_for(token: &str) -> bool {
    let payload = token.split('.').nth(1).expect("three segments");
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .expect("base64url"),
    )
    .expect("JSON claims");
    let jti = claims["jti"].as_str().expect("a jti");
    RAN_FOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .contains(jti)
}

#[derive(Debug)]
struct Caller(String);

#[jwt_required(scopes = ["read:messages"])]
#[rocket::get("/scoped")]
fn scoped() -> String {
    let caller = current_identity!(Caller);
    format!("{} {}", ran(), caller.0)
}

#[jwt_required(scopes = ["read:messages", "write:messages"])]
#[rocket::get("/both")]
fn both() -> String {
    ran()
}

#[jwt_required(any_scope = ["admin", "read:messages"])]
#[rocket::get("/any")]
async fn any() -> String {
    ran()
}

#[jwt_required(claim_eq = [("org_id", "acme"), ("email_verified", true), ("level", -1)])]
#[rocket::get("/org")]
fn org() -> String {
    ran()
}

#[jwt_required(claim_includes = [("https://example.com/roles", "admin")])]
#[rocket::get("/roles")]
fn roles() -> String {
    ran()
}

/// A named predicate: the caller's `level` claim is an integer above 2.
fn is_senior(claims: &Payload) -> bool {
    claims
        .get("level")
        .and_then(Value::as_i64)
        .is_some_and(|level| level > 2)
}

#[jwt_required(predicate = is_senior)]
#[rocket::get("/senior")]
fn senior() -> String {
    ran()
}

#[jwt_required(
    optional,
    realm = "Messages",
    scopes = ["read:messages"],
    claim_eq = [("org_id", "acme")],
    predicate = is_senior
)]
#[rocket::get("/combined")]
fn combined() -> String {
    ran()
}

/// The same rule as `/scoped`, by hand.
struct ReadMessages;
impl Rules for ReadMessages {
    const SCOPES: &'static [&'static str] = &["read:messages"];
    const CLAIMS: &'static [ClaimRule] = &[ClaimRule::Equals("org_id", ClaimValue::Str("acme"))];
}

#[rocket::get("/by-hand")]
fn by_hand(auth: JwtAuth<ReadMessages>) -> Result<String, JwtResponse> {
    auth.run_sync(ran)
}

/// A hand-written check with the public helper, in a route guarded by plain `JwtAuth`.
#[rocket::get("/helper")]
fn helper(auth: JwtAuth) -> Result<String, JwtResponse> {
    let claims = auth.claims().unwrap_or_default();
    let sources = ["scope".to_string()];
    auth.run_sync(|| has_scope(&claims, "read:messages", &sources).to_string())
}

fn resource_server() -> JwtBuilder<Caller> {
    Jwt::builder()
        .secret_key(SECRET)
        .disable_auth_url_rule()
        .auth_header_prefix("Bearer")
        .identity_claim("sub")
        .identity_from_claim(|sub| Some(Caller(sub.as_str()?.to_owned())))
}

fn rocket(jwt: JwtBuilder<Caller>) -> Rocket<Build> {
    rocket::custom(rocket::Config::debug_default())
        .attach(jwt.build().expect("a complete configuration"))
        .mount(
            "/",
            routes![scoped, both, any, org, roles, senior, combined, by_hand, helper],
        )
}

fn client() -> Client {
    Client::tracked(rocket(resource_server())).expect("valid rocket")
}

/// A token for `sub` with `extra` claims, issued now for five minutes.
fn token_with(header: Value, extra: Value) -> String {
    let now = now();
    let jti = format!("jti-{}", NEXT_JTI.fetch_add(1, Ordering::SeqCst));
    let mut claims =
        json!({"sub": "auth0|alice", "iat": now, "nbf": now, "exp": now + 300, "jti": jti});
    for (name, value) in extra.as_object().expect("an object") {
        claims[name] = value.clone();
    }
    sign_hs256(&header, &claims, SECRET)
}

fn token(extra: Value) -> String {
    token_with(json!({"alg": "HS256", "typ": "JWT"}), extra)
}

fn get<'c>(client: &'c Client, path: &'c str, token: &str) -> LocalResponse<'c> {
    client
        .get(path)
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
}

/// `GET path` with `token`, and whether the handler's body ran for it.
fn handler_ran<'c>(client: &'c Client, path: &'c str, token: &str) -> (bool, LocalResponse<'c>) {
    let response = get(client, path, token);
    (ran_for(token), response)
}

/// Asserts a 403 `insufficient_scope` with `challenge` and the Flask-JWT body.
fn assert_forbidden(response: LocalResponse<'_>, challenge: &str, description: &str) {
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(challenge)
    );
    let body: Value = response.into_json().expect("a JSON body");
    assert_eq!(
        body,
        json!({"status_code": 403, "error": "Insufficient scope", "description": description})
    );
}

const READ_CHALLENGE: &str = r#"Bearer error="insufficient_scope", scope="read:messages""#;

#[test]
fn a_scope_from_scope_scp_or_permissions_opens_the_route() {
    let client = client();
    for extra in [
        json!({"scope": "openid read:messages"}),
        json!({"scp": ["read:messages"]}),
        json!({"permissions": ["write:messages", "read:messages"]}),
    ] {
        let token = token(extra.clone());
        let (ran, response) = handler_ran(&client, "/scoped", &token);
        assert!(ran, "the handler ran for {extra}");
        assert_eq!(response.status(), Status::Ok, "{extra}");
        assert_eq!(
            response.into_string().as_deref(),
            Some("ran auth0|alice"),
            "{extra}"
        );
    }
}

#[test]
fn a_valid_token_without_the_scope_is_403_and_the_handler_does_not_run() {
    let client = client();
    let (ran, response) = handler_ran(&client, "/scoped", &token(json!({"scope": "openid"})));
    assert!(!ran, "the handler must not run");
    assert_forbidden(
        response,
        READ_CHALLENGE,
        "The token lacks the scope \"read:messages\"",
    );
    // Without a token it is still 401, not 403.
    let response = client.get("/scoped").dispatch();
    assert_eq!(response.status(), Status::Unauthorized);
    // An invalid token is 401 too, before any scope is looked at.
    let forged = format!("{}x", token(json!({"scope": "read:messages"})));
    assert_eq!(
        get(&client, "/scoped", &forged).status(),
        Status::Unauthorized
    );
}

#[test]
fn scopes_are_all_of_and_any_scope_one_of() {
    let client = client();
    let both = token(json!({"scope": "read:messages write:messages"}));
    let read = token(json!({"scope": "read:messages"}));
    let admin = token(json!({"permissions": ["admin"]}));
    let neither = token(json!({"scope": "profile"}));
    assert_eq!(get(&client, "/both", &both).status(), Status::Ok);
    assert_forbidden(
        get(&client, "/both", &read),
        r#"Bearer error="insufficient_scope", scope="read:messages write:messages""#,
        "The token lacks the scope \"write:messages\"",
    );
    assert_eq!(get(&client, "/any", &read).status(), Status::Ok);
    assert_eq!(get(&client, "/any", &admin).status(), Status::Ok);
    assert_forbidden(
        get(&client, "/any", &neither),
        r#"Bearer error="insufficient_scope", scope="admin read:messages""#,
        "The token has none of the scopes admin read:messages",
    );
}

#[test]
fn claim_eq_compares_value_and_json_type() {
    let client = client();
    let good = json!({"org_id": "acme", "email_verified": true, "level": -1});
    assert_eq!(
        get(&client, "/org", &token(good.clone())).status(),
        Status::Ok
    );
    for (name, value) in [
        ("org_id", json!("Acme")),
        ("org_id", json!("acme ")),
        ("org_id", json!(["acme"])),
        ("org_id", json!(null)),
        ("email_verified", json!("true")),
        ("email_verified", json!(1)),
        ("level", json!("-1")),
        ("level", json!(-1.5)),
    ] {
        let mut claims = good.clone();
        claims[name] = value.clone();
        let (ran, response) = handler_ran(&client, "/org", &token(claims));
        assert!(!ran, "{name}: {value}");
        assert_eq!(response.status(), Status::Forbidden, "{name}: {value}");
        assert_eq!(
            response.headers().get_one("WWW-Authenticate"),
            Some(r#"Bearer error="insufficient_scope""#),
            "no scope parameter on a route without scopes"
        );
    }
    let mut missing = good;
    missing.as_object_mut().expect("an object").remove("org_id");
    assert_forbidden(
        get(&client, "/org", &token(missing)),
        r#"Bearer error="insufficient_scope""#,
        "The token does not satisfy the rule: claim \"org_id\" must equal \"acme\"",
    );
}

#[test]
fn claim_includes_needs_an_array_with_the_value() {
    let client = client();
    let roles = "https://example.com/roles";
    assert_eq!(
        get(
            &client,
            "/roles",
            &token(json!({ roles: ["user", "admin"] }))
        )
        .status(),
        Status::Ok
    );
    for value in [
        json!("admin"),
        json!(["Admin"]),
        json!(["user"]),
        json!([["admin"]]),
        json!({"admin": true}),
    ] {
        let response = get(&client, "/roles", &token(json!({ roles: value.clone() })));
        assert_eq!(response.status(), Status::Forbidden, "{value}");
    }
    let response = get(&client, "/roles", &token(json!({"roles": ["admin"]})));
    assert_eq!(response.status(), Status::Forbidden, "another claim's name");
}

#[test]
fn a_named_predicate_decides_on_the_claims() {
    let client = client();
    assert_eq!(
        get(&client, "/senior", &token(json!({"level": 3}))).status(),
        Status::Ok
    );
    for level in [json!(2), json!("3"), json!(null)] {
        let (ran, response) = handler_ran(
            &client,
            "/senior",
            &token(json!({ "level": level.clone() })),
        );
        assert!(!ran);
        assert_forbidden(
            response,
            r#"Bearer error="insufficient_scope""#,
            "The token does not satisfy the route's claim predicate",
        );
    }
}

#[test]
fn rules_combine_with_the_other_arguments() {
    let client = client();
    // `optional`: no token is still let through, without an identity.
    let response = client.get("/combined").dispatch();
    assert_eq!(response.status(), Status::Ok);
    let all = json!({"scope": "read:messages", "org_id": "acme", "level": 5});
    assert_eq!(
        get(&client, "/combined", &token(all.clone())).status(),
        Status::Ok
    );
    for (name, value) in [
        ("scope", json!("write:messages")),
        ("org_id", json!("other")),
        ("level", json!(1)),
    ] {
        let mut claims = all.clone();
        claims[name] = value;
        let response = get(&client, "/combined", &token(claims));
        assert_eq!(response.status(), Status::Forbidden, "{name}");
        assert_eq!(
            response.headers().get_one("WWW-Authenticate"),
            Some(READ_CHALLENGE)
        );
    }
}

#[test]
fn the_rules_work_in_a_hand_written_guard() {
    let client = client();
    let good = token(json!({"scope": "read:messages", "org_id": "acme"}));
    assert_eq!(get(&client, "/by-hand", &good).status(), Status::Ok);
    let (ran, response) = handler_ran(
        &client,
        "/by-hand",
        &token(json!({"scope": "read:messages", "org_id": "evil"})),
    );
    assert!(!ran);
    assert_eq!(response.status(), Status::Forbidden);
    let response = get(&client, "/helper", &good);
    assert_eq!(response.into_string().as_deref(), Some("true"));
    let response = get(
        &client,
        "/helper",
        &token(json!({"scp": ["read:messages"]})),
    );
    assert_eq!(response.into_string().as_deref(), Some("false"));
}

#[test]
fn the_scope_claims_setting_chooses_where_scopes_are_read() {
    let client =
        Client::tracked(rocket(resource_server().scope_claims(["permissions"]))).expect("rocket");
    assert_eq!(
        get(
            &client,
            "/scoped",
            &token(json!({"permissions": ["read:messages"]}))
        )
        .status(),
        Status::Ok
    );
    assert_eq!(
        get(
            &client,
            "/scoped",
            &token(json!({"scope": "read:messages"}))
        )
        .status(),
        Status::Forbidden
    );
}

#[test]
fn every_profile_answers_403_with_the_challenge() {
    // The Flask-JWT scheme `JWT`.
    let client = Client::tracked(rocket(
        Jwt::builder()
            .secret_key(SECRET)
            .disable_auth_url_rule()
            .identity_claim("sub")
            .identity_from_claim(|sub| Some(Caller(sub.as_str()?.to_owned()))),
    ))
    .expect("rocket");
    let response = client
        .get("/scoped")
        .header(Header::new(
            "Authorization",
            format!("JWT {}", token(json!({"scope": "openid"}))),
        ))
        .dispatch();
    assert_forbidden(
        response,
        READ_CHALLENGE,
        "The token lacks the scope \"read:messages\"",
    );
    // The extended profile: its `{"msg": ..}` body, with the challenge.
    let client = Client::tracked(rocket(
        Jwt::builder()
            .extended()
            .secret_key(SECRET)
            .identity_from_claim(|sub| Some(Caller(sub.as_str()?.to_owned()))),
    ))
    .expect("rocket");
    let (ran, response) = handler_ran(&client, "/scoped", &token(json!({"scope": "openid"})));
    assert!(!ran);
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(READ_CHALLENGE)
    );
    let body: Value = response.into_json().expect("JSON");
    assert_eq!(
        body,
        json!({"msg": "The token lacks the scope \"read:messages\""})
    );
    assert_eq!(
        get(
            &client,
            "/scoped",
            &token(json!({"scope": "read:messages"}))
        )
        .status(),
        Status::Ok
    );
}

// ----- security ------------------------------------------------------------------------------------

#[test]
fn a_scope_smuggled_in_another_claim_or_the_header_grants_nothing() {
    let client = client();
    for extra in [
        json!({"scopes": "read:messages"}),
        json!({"Scope": "read:messages"}),
        json!({"sub": "read:messages"}),
        json!({"permission": ["read:messages"]}),
        json!({"roles": ["read:messages"]}),
        json!({"scope": "openid", "nested": {"scope": "read:messages"}}),
        json!({"realm_access": {"scope": "read:messages"}}),
    ] {
        let response = get(&client, "/scoped", &token(extra.clone()));
        assert_eq!(response.status(), Status::Forbidden, "{extra}");
    }
    // An unexpected `aud` is refused before any scope is looked at.
    let (ran, response) = handler_ran(&client, "/scoped", &token(json!({"aud": "read:messages"})));
    assert!(!ran);
    assert_eq!(response.status(), Status::Unauthorized);
    let in_header = token_with(
        json!({"alg": "HS256", "typ": "JWT", "scope": "read:messages"}),
        json!({"scope": "openid"}),
    );
    assert_eq!(
        get(&client, "/scoped", &in_header).status(),
        Status::Forbidden
    );
}

#[test]
fn a_space_delimited_scp_grants_its_words_as_entra_id_writes_it() {
    let client = client();
    for extra in [
        json!({"scp": "User.Read read:messages"}),
        json!({"permissions": "read:messages"}),
    ] {
        let (ran, response) = handler_ran(&client, "/scoped", &token(extra.clone()));
        assert!(ran, "{extra}");
        assert_eq!(response.status(), Status::Ok, "{extra}");
    }
}

#[test]
fn scope_claims_of_the_wrong_json_type_grant_nothing() {
    let client = client();
    for extra in [
        json!({"scope": ["read:messages"]}),
        json!({"scope": {"read:messages": true}}),
        json!({"scope": true}),
        json!({"scope": 1}),
        json!({"scope": null}),
        json!({"scp": 1}),
        json!({"permissions": {"read:messages": true}}),
        json!({"permissions": [["read:messages"]]}),
        json!({"permissions": [{"scope": "read:messages"}]}),
    ] {
        let (ran, response) = handler_ran(&client, "/scoped", &token(extra.clone()));
        assert!(!ran, "{extra}");
        assert_eq!(response.status(), Status::Forbidden, "{extra}");
    }
}

#[test]
fn case_and_whitespace_variants_of_a_scope_grant_nothing() {
    let client = client();
    for scope in [
        "Read:messages",
        "READ:MESSAGES",
        "read:messages\t",
        "\tread:messages",
        "read:messages\n",
        "read:messages\u{a0}",
        "read:messages,openid",
        "read:messages+openid",
        "read: messages",
        "read:messages\u{0}",
    ] {
        for claims in [json!({ "scope": scope }), json!({ "scp": [scope] })] {
            let response = get(&client, "/scoped", &token(claims.clone()));
            assert_eq!(response.status(), Status::Forbidden, "{claims}");
        }
    }
    // Spaces separate scopes in `scope`, but never inside an array's element.
    let response = get(
        &client,
        "/scoped",
        &token(json!({"scope": " openid  read:messages "})),
    );
    assert_eq!(response.status(), Status::Ok);
    let response = get(
        &client,
        "/scoped",
        &token(json!({"scp": ["openid read:messages"]})),
    );
    assert_eq!(response.status(), Status::Forbidden);
}
