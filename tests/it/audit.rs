//! The audit records (`audit_log`) through Rocket's local client, read from the log capture
//! (`tests/common/logs.rs`, which keeps each record's level, target and message): one record per
//! refusal, login, refresh, refresh-token reuse, logout and subject revoked, under the target
//! `jwt::audit`, as one JSON object (`json`) or `key=value` pairs (`text`), none by default;
//! never a token, nor anything of a refused token.
//!
//! The tests of this binary run at once and share the capture: each test mounts its routes under
//! a prefix of its own (or uses a profile no other test audits), and reads only the records that
//! name it.

use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;
use rocket::{delete, get, routes};
use rocket_flask_jwt::identity::{get_jwt, get_jwt_identity};
use rocket_flask_jwt::jwt_required;
use rocket_flask_jwt::revocation::Revoker;
use rocket_flask_jwt::JwtResponse;
use serde_json::{json, Value};

use crate::common::{self, logs, now, sign_hs256};
use crate::extended::{bearer, login};
use crate::extended_example;

/// How every audit line starts in the capture (level, target).
const AUDIT: &str = "INFO jwt::audit: ";

#[jwt_required]
#[get("/items/<id>")]
fn item(id: u32) -> String {
    id.to_string()
}

/// The Flask-JWT fixture with its auth resource at `<prefix>/auth` and `item` mounted under
/// `prefix`, with `audit_log` set to `audit` (the default when `None`).
fn flask_client(prefix: &str, audit: Option<&str>) -> Client {
    let jwt = common::builder()
        .auth_url_rule(format!("{prefix}/auth"))
        .build()
        .expect("valid");
    let mut figment = rocket::Config::figment();
    if let Some(audit) = audit {
        figment = figment.merge(("jwt.audit_log", audit));
    }
    let rocket = rocket::custom(figment)
        .attach(jwt)
        .mount(prefix, routes![item]);
    Client::tracked(rocket).expect("ignites")
}

/// A token of the fixture's shape signed with another secret (it fails the signature check),
/// with a subject and a `jti` to look for in the logs.
fn forged(marker: &str) -> String {
    let now = now();
    sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"identity": format!("{marker}-subject"), "jti": format!("{marker}-jti"),
                "iat": now, "nbf": now, "exp": now + 300}),
        "another secret entirely",
    )
}

fn get(client: &Client, path: &str, token: &str) -> Status {
    client
        .get(path.to_owned())
        .header(Header::new("Authorization", format!("JWT {token}")))
        .dispatch()
        .status()
}

/// `POST <prefix>/auth` as joe: the access token.
fn auth(client: &Client, prefix: &str) -> String {
    let response = client
        .post(format!("{prefix}/auth"))
        .header(ContentType::JSON)
        .body(r#"{"username": "joe", "password": "pass"}"#)
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let body: Value = response.into_json().expect("JSON");
    body["access_token"].as_str().expect("a token").to_owned()
}

/// The messages of the captured audit records containing `needle`.
fn audit_messages(needle: &str) -> Vec<String> {
    logs::containing(needle)
        .into_iter()
        .filter_map(|line| Some(line.strip_prefix(AUDIT)?.to_owned()))
        .collect()
}

/// The captured audit records containing `needle`, each parsed as the JSON object it must be.
fn json_records(needle: &str) -> Vec<Value> {
    audit_messages(needle)
        .iter()
        .map(|message| serde_json::from_str(message).expect("one JSON object per record"))
        .collect()
}

/// No captured line, of any target, shows any of `texts`.
fn assert_never_logged(texts: &[&str]) {
    for text in texts {
        let shown = logs::containing(text);
        assert!(shown.is_empty(), "a log line shows {text:?}: {shown:?}");
    }
}

/// The signature segment of `token`: enough to find it in a line.
fn signature(token: &str) -> &str {
    token.rsplit('.').next().expect("a JWT")
}

#[test]
fn json_records_a_refusal_by_reason_and_route_template_and_a_login_with_its_subject() {
    let client = flask_client("/audit-json", Some("json"));
    let token = forged("audit-json");
    // The local client's requests have no address unless given one.
    let refused = client
        .get("/audit-json/items/7")
        .remote("192.0.2.7:5000".parse().expect("an address"))
        .header(Header::new("Authorization", format!("JWT {token}")))
        .dispatch();
    assert_eq!(refused.status(), Status::Unauthorized);
    let access = auth(&client, "/audit-json");
    assert_eq!(get(&client, "/audit-json/items/8", &access), Status::Ok);

    let records = json_records("/audit-json/");
    assert_eq!(
        records,
        [
            json!({"event": "refusal", "reason": "signature", "method": "GET",
                   "route": "/audit-json/items/<id>", "profile": "flask_jwt",
                   "client_ip": "192.0.2.7"}),
            json!({"event": "login", "method": "POST", "route": "/audit-json/auth",
                   "profile": "flask_jwt", "subject": "1"}),
        ],
        "one record per refusal and login; an accepted request makes none"
    );
    // Neither token, nor the refused token's subject or jti, in any line of any target.
    assert_never_logged(&[
        &token,
        signature(&token),
        signature(&access),
        "audit-json-subject",
        "audit-json-jti",
    ]);
}

#[test]
fn text_records_are_key_value_pairs() {
    let client = flask_client("/audit-text", Some("text"));
    let token = forged("audit-text");
    assert_eq!(
        get(&client, "/audit-text/items/7", &token),
        Status::Unauthorized
    );
    assert_eq!(
        client.get("/audit-text/items/9").dispatch().status(),
        Status::Unauthorized
    );
    auth(&client, "/audit-text");
    assert_eq!(
        audit_messages("route=/audit-text/"),
        [
            "event=refusal reason=signature method=GET route=/audit-text/items/<id> \
             profile=flask_jwt",
            "event=refusal reason=missing_token method=GET route=/audit-text/items/<id> \
             profile=flask_jwt",
            "event=login method=POST route=/audit-text/auth profile=flask_jwt subject=1",
        ]
    );
    assert_never_logged(&[signature(&token), "audit-text-subject", "audit-text-jti"]);
}

#[test]
fn no_audit_record_by_default() {
    let client = flask_client("/audit-off", None);
    assert_eq!(
        get(&client, "/audit-off/items/7", &forged("audit-off")),
        Status::Unauthorized
    );
    let access = auth(&client, "/audit-off");
    assert_eq!(get(&client, "/audit-off/items/8", &access), Status::Ok);
    // The refusal's own line is still there; no audit record.
    assert!(!logs::containing("/audit-off/items/7").is_empty());
    assert_eq!(audit_messages("/audit-off"), Vec::<String>::new());
}

/// Revokes the presented token (the example's `DELETE /logout`, mounted only with Redis).
#[jwt_required(verify_type = false)]
#[delete("/logout")]
async fn logout(revoker: &Revoker) -> Result<&'static str, JwtResponse> {
    revoker.revoke_token(&get_jwt()).await?;
    Ok("revoked")
}

/// Revokes every token of the presented token's subject.
#[jwt_required(verify_type = false)]
#[delete("/logout/everywhere")]
async fn logout_everywhere(revoker: &Revoker) -> Result<&'static str, JwtResponse> {
    revoker
        .revoke_subject(get_jwt_identity().unwrap_or_default())
        .await?;
    Ok("revoked")
}

/// The extended example with refresh-token rotation (on its own memory store), the logout
/// routes under `/audit-ext`, and `settings` merged.
fn extended_client(settings: &[(&str, Value)]) -> Client {
    let rocket = common::with_test_secret(extended_example::rocket())
        .mount("/audit-ext", routes![logout, logout_everywhere]);
    let mut figment: Figment = rocket
        .figment()
        .clone()
        .merge(("jwt.refresh_token_rotation", true));
    for (setting, value) in settings {
        figment = figment.merge((format!("jwt.{setting}"), value.clone()));
    }
    Client::untracked(rocket.configure(figment)).expect("the example ignites")
}

/// The extended profile's events (no other test audits that profile): a `JwtManager` login, a
/// refresh, a reused refresh token, a logout, a subject revoked, and a login's refused DPoP proof.
#[test]
fn session_events_of_the_extended_profile() {
    let client = extended_client(&[("audit_log", json!("json"))]);
    let (_, r0) = login(&client);
    let refresh = |token: &str| {
        client
            .post("/refresh")
            .header(bearer(token))
            .dispatch()
            .status()
    };
    assert_eq!(refresh(&r0), Status::Ok);
    assert_eq!(refresh(&r0), Status::Unauthorized, "a reuse");
    let (access, _) = login(&client);
    let revoke = |path: &str| {
        client
            .delete(path)
            .header(bearer(&access))
            .dispatch()
            .status()
    };
    assert_eq!(revoke("/audit-ext/logout"), Status::Ok);
    let (access, _) = login(&client);
    let revoke = |path: &str| {
        client
            .delete(path)
            .header(bearer(&access))
            .dispatch()
            .status()
    };
    assert_eq!(revoke("/audit-ext/logout/everywhere"), Status::Ok);

    let dpop = extended_client(&[("audit_log", json!("json")), ("dpop", json!("allowed"))]);
    let refused = dpop
        .post("/login")
        .header(ContentType::JSON)
        .header(Header::new("DPoP", "not.a.proof"))
        .body(r#"{"username": "user1", "password": "abcxyz"}"#)
        .dispatch();
    assert_eq!(refused.status(), Status::Unauthorized);

    let request = |event: &str, method: &str, route: &str| {
        json!({"event": event, "method": method, "route": route, "profile": "extended",
               "subject": "user1"})
    };
    let revoked = |event: &str| json!({"event": event, "profile": "extended", "subject": "user1"});
    assert_eq!(
        json_records(r#""profile":"extended""#),
        [
            request("login", "POST", "/login"),
            request("refresh", "POST", "/refresh"),
            request("refresh_token_reuse", "POST", "/refresh"),
            json!({"event": "refusal", "reason": "revoked", "method": "POST", "route": "/refresh",
                   "profile": "extended"}),
            request("login", "POST", "/login"),
            revoked("logout"),
            request("login", "POST", "/login"),
            revoked("subject_revoked"),
            json!({"event": "refusal", "reason": "dpop", "check": "well_formed",
                   "method": "POST", "route": "/login", "profile": "extended"}),
        ]
    );
    assert_never_logged(&[signature(&r0), signature(&access), "not.a.proof"]);
}
