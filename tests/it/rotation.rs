//! Refresh-token rotation with reuse detection (`refresh_token_rotation`) through Rocket's local
//! client, on the example application (`examples/extended.rs`) with the memory store made for
//! it: rotation in the body and in cookies, reuse revoking the family and its newest access
//! token, the grace period, sessions, the built-in refresh resource, and the settings' checks.
//! The same scenarios on Redis, across two instances, are `tests/system/rotation.rs`.

use std::sync::{Arc, Mutex};

use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::blocking::Client;
use rocket::{Build, Rocket};
use rocket_flask_jwt::revocation::RefreshTokenReuse;
use rocket_flask_jwt::Jwt;
use serde_json::{json, Value};

use crate::extended::{answer, bearer, login};
use crate::extended_example;

/// The example with rotation on, and `settings` (`("jwt.<setting>", value)`) merged.
fn rotating(settings: &[(&str, Value)]) -> Rocket<Build> {
    let rocket = crate::common::with_test_secret(extended_example::rocket());
    let mut figment: Figment = rocket
        .figment()
        .clone()
        .merge(("jwt.refresh_token_rotation", true));
    for (setting, value) in settings {
        figment = figment.merge((format!("jwt.{setting}"), value.clone()));
    }
    rocket.configure(figment)
}

fn client(settings: &[(&str, Value)]) -> Client {
    Client::untracked(rotating(settings)).expect("the example ignites")
}

/// `POST /refresh` with `refresh_token`: the status and the body.
fn refresh(client: &Client, refresh_token: &str) -> (u16, Value) {
    answer(
        client
            .post("/refresh")
            .header(bearer(refresh_token))
            .dispatch(),
    )
}

/// The status of `GET /protected` with `access_token`.
fn protected(client: &Client, access_token: &str) -> u16 {
    client
        .get("/protected")
        .header(bearer(access_token))
        .dispatch()
        .status()
        .code
}

fn text(body: &Value, member: &str) -> String {
    body[member]
        .as_str()
        .unwrap_or_else(|| panic!("{member} in {body}"))
        .to_owned()
}

/// The claims of `token`, read without checks (it is the application's own).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three segments");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[test]
fn each_refresh_rotates_and_a_reused_token_revokes_the_family_and_its_access_token() {
    let client = client(&[]);
    let (_, r0) = login(&client);
    let (status, first) = refresh(&client, &r0);
    assert_eq!(status, 200, "{first}");
    let r1 = text(&first, "refresh_token");
    assert_ne!(r1, r0);
    assert_eq!(
        claims(&r1)["fam"],
        claims(&r0)["jti"],
        "the family is the login's"
    );
    assert_eq!(claims(&r1)["type"], "refresh");
    let (status, second) = refresh(&client, &r1);
    assert_eq!(status, 200, "{second}");
    let r2 = text(&second, "refresh_token");
    let a2 = text(&second, "access_token");
    assert_eq!(claims(&r2)["fam"], claims(&r0)["jti"]);
    assert_eq!(protected(&client, &a2), 200);

    // r1 again: reuse.
    let (status, body) = refresh(&client, &r1);
    assert_eq!(
        (status, body),
        (401, json!({"msg": "Token has been revoked"}))
    );
    assert_eq!(
        refresh(&client, &r2).0,
        401,
        "the newest token dies with its family"
    );
    assert_eq!(refresh(&client, &r0).0, 401, "so does the login's");
    assert_eq!(
        protected(&client, &a2),
        401,
        "and the newest access token it issued"
    );

    // Another login is another family, untouched.
    let (access, other) = login(&client);
    assert_eq!(protected(&client, &access), 200);
    assert_eq!(refresh(&client, &other).0, 200);
}

#[test]
fn the_grace_period_answers_the_same_successor_to_the_previous_token_only() {
    let client = client(&[("refresh_token_reuse_grace", json!(30))]);
    let (_, r0) = login(&client);
    let (_, first) = refresh(&client, &r0);
    let r1 = text(&first, "refresh_token");
    let (status, again) = refresh(&client, &r0);
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        text(&again, "refresh_token"),
        r1,
        "the same successor, no new branch"
    );
    let (_, second) = refresh(&client, &r1);
    let r2 = text(&second, "refresh_token");
    assert_eq!(refresh(&client, &r1).0, 200, "r1 is now the previous token");
    assert_eq!(
        refresh(&client, &r0).0,
        401,
        "an older token is reuse, grace or not"
    );
    assert_eq!(refresh(&client, &r2).0, 401, "the family is revoked");
}

#[test]
fn without_the_access_setting_a_reuse_leaves_the_access_token() {
    let client = client(&[("refresh_token_reuse_revokes_access", json!(false))]);
    let (_, r0) = login(&client);
    let (_, first) = refresh(&client, &r0);
    let a1 = text(&first, "access_token");
    assert_eq!(refresh(&client, &r0).0, 401);
    assert_eq!(protected(&client, &a1), 200);
    assert_eq!(refresh(&client, &text(&first, "refresh_token")).0, 401);
}

#[test]
fn a_cookie_session_gets_its_successor_in_the_refresh_cookies() {
    let client = Client::tracked(rotating(&[])).expect("the example ignites");
    let response = client
        .post("/login/cookies")
        .header(ContentType::JSON)
        .body(r#"{"username": "user1", "password": "abcxyz"}"#)
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let r0 = client
        .cookies()
        .get("refresh_token_cookie")
        .expect("a refresh cookie")
        .value()
        .to_owned();
    let csrf = |client: &Client| {
        client
            .cookies()
            .get("csrf_refresh_token")
            .expect("a refresh CSRF cookie")
            .value()
            .to_owned()
    };
    let response = client
        .post("/refresh")
        .header(Header::new("X-CSRF-TOKEN", csrf(&client)))
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let lines: Vec<String> = response
        .headers()
        .get("Set-Cookie")
        .map(str::to_owned)
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("refresh_token_cookie=") && !line.contains(&r0)),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("csrf_refresh_token=")),
        "{lines:?}"
    );
    let r1 = client
        .cookies()
        .get("refresh_token_cookie")
        .expect("the successor")
        .value()
        .to_owned();
    assert_ne!(r1, r0);
    // The jar now holds the successor: a second refresh works, then the old cookie is reuse.
    let response = client
        .post("/refresh")
        .header(Header::new("X-CSRF-TOKEN", csrf(&client)))
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let old_csrf = claims(&r0)["csrf"]
        .as_str()
        .expect("a csrf claim")
        .to_owned();
    let replay = client
        .post("/refresh")
        .cookie(Cookie::new("refresh_token_cookie", r0))
        .header(Header::new("X-CSRF-TOKEN", old_csrf))
        .dispatch();
    assert_eq!(replay.status(), Status::Unauthorized);
}

#[test]
fn sessions_are_listed_from_login_and_one_can_end_without_the_others() {
    let client = client(&[("refresh_token_record_user_agent", json!(true))]);
    let login_from = |agent: &str| {
        let body = client
            .post("/login")
            .header(ContentType::JSON)
            .header(Header::new("User-Agent", agent.to_owned()))
            .body(r#"{"username": "user1", "password": "abcxyz"}"#)
            .dispatch()
            .into_json::<Value>()
            .expect("a JSON answer");
        (text(&body, "access_token"), text(&body, "refresh_token"))
    };
    let (phone_access, phone) = login_from("phone");
    let (laptop_access, laptop) = login_from("laptop");
    let sessions = |access: &str| {
        answer(client.get("/sessions").header(bearer(access)).dispatch()).1["sessions"]
            .as_array()
            .cloned()
            .expect("a list")
    };
    let listed = sessions(&laptop_access);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let agents: Vec<&str> = listed
        .iter()
        .filter_map(|session| session["user_agent"].as_str())
        .collect();
    assert_eq!(agents.len(), 2);
    assert!(agents.contains(&"phone") && agents.contains(&"laptop"));
    let phone_id = claims(&phone)["jti"].as_str().expect("a jti").to_owned();
    assert!(listed
        .iter()
        .any(|session| session["id"] == phone_id.as_str()));
    assert!(listed.iter().all(|session| session["refreshed"].is_null()));

    let (status, body) = answer(
        client
            .delete(format!("/sessions/{phone_id}"))
            .header(bearer(&laptop_access))
            .dispatch(),
    );
    assert_eq!((status, body), (200, json!({"msg": "Session revoked"})));
    assert_eq!(refresh(&client, &phone).0, 401, "the ended session's token");
    assert_eq!(refresh(&client, &laptop).0, 200, "the other session's");
    assert_eq!(sessions(&laptop_access).len(), 1);
    assert_eq!(
        answer(
            client
                .delete(format!("/sessions/{phone_id}"))
                .header(bearer(&laptop_access))
                .dispatch()
        )
        .0,
        404
    );
    // The login's access token was not issued through a refresh: it lives out its 15 minutes.
    assert_eq!(protected(&client, &phone_access), 200);
}

#[test]
fn a_login_token_issued_without_a_session_starts_its_family_on_first_refresh() {
    // Tokens issued before rotation was on (or by `create_refresh_token`) are their family's
    // first: they rotate, and are reuse afterwards.
    let plain = Client::untracked(crate::common::with_test_secret(extended_example::rocket()))
        .expect("the example ignites");
    let (_, r0) = login(&plain);
    let client = client(&[]);
    let (status, first) = refresh(&client, &r0);
    assert_eq!(status, 200, "{first}");
    assert_eq!(refresh(&client, &r0).0, 401);
    assert_eq!(refresh(&client, &text(&first, "refresh_token")).0, 401);
}

#[test]
fn rotation_off_keeps_flask_jwt_extended_answers() {
    let client = crate::extended::untracked();
    let (_, r0) = login(&client);
    let (status, body) = refresh(&client, &r0);
    assert_eq!(status, 200);
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(claims(&r0).get("fam").is_none());
    assert_eq!(refresh(&client, &r0).0, 200, "the same token again");
}

#[test]
fn the_refresh_resource_answers_the_successor_and_the_reuse_callback_is_told() {
    let reused: Arc<Mutex<Vec<RefreshTokenReuse>>> = Arc::default();
    let told = Arc::clone(&reused);
    let jwt = Jwt::builder()
        .extended()
        .refresh_token_rotation(true)
        .refresh_url_rule("/token/refresh")
        .on_refresh_token_reuse(move |reuse| told.lock().unwrap().push(reuse.clone()))
        .build()
        .expect("valid configuration");
    let rocket = crate::common::with_test_secret(
        rocket::build()
            .attach(jwt)
            .mount("/", rocket::routes![super::rotation::issue]),
    );
    let client = Client::untracked(rocket).expect("ignites");
    let r0 = client
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    let (status, body) = answer(client.post("/token/refresh").header(bearer(&r0)).dispatch());
    assert_eq!(status, 200, "{body}");
    let r1 = text(&body, "refresh_token");
    let a1 = text(&body, "access_token");
    assert_eq!(claims(&r1)["fam"], claims(&r0)["jti"]);
    assert_eq!(claims(&a1)["type"], "access");
    assert!(reused.lock().unwrap().is_empty());
    let replay = client.post("/token/refresh").header(bearer(&r0)).dispatch();
    assert_eq!(replay.status(), Status::Unauthorized);
    let told = reused.lock().unwrap().clone();
    assert_eq!(
        told,
        vec![RefreshTokenReuse {
            subject: "ann".into(),
            family: claims(&r0)["jti"].as_str().unwrap().into(),
            jti: claims(&r0)["jti"].as_str().unwrap().into(),
        }]
    );
}

#[test]
fn two_refresh_guards_on_one_route_rotate_once() {
    let jwt = Jwt::builder()
        .extended()
        .refresh_token_rotation(true)
        .build()
        .expect("valid configuration");
    let rocket = crate::common::with_test_secret(rocket::build().attach(jwt).mount(
        "/",
        rocket::routes![super::rotation::issue, super::rotation::twice],
    ));
    let client = Client::untracked(rocket).expect("ignites");
    let r0 = client
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    let response = client.post("/twice").header(bearer(&r0)).dispatch();
    assert_eq!(response.status(), Status::Ok);
    let r1 = response.into_string().expect("the successor");
    assert_eq!(claims(&r1)["fam"], claims(&r0)["jti"]);
    let again = client.post("/twice").header(bearer(&r1)).dispatch();
    assert_eq!(again.status(), Status::Ok, "the family is alive");
}

/// Two guards that both want a refresh token; answers the successor.
#[rocket::post("/twice")]
fn twice(
    _first: rocket_flask_jwt::JwtAuth<rocket_flask_jwt::Refresh>,
    _second: rocket_flask_jwt::JwtAuth<rocket_flask_jwt::Refresh>,
    jwt: rocket_flask_jwt::extended::JwtManager<'_>,
) -> Option<String> {
    jwt.rotated_refresh_token().map(str::to_owned)
}

/// A refresh token for `ann`.
#[rocket::get("/issue")]
fn issue(
    jwt: rocket_flask_jwt::extended::JwtManager<'_>,
) -> Result<String, rocket_flask_jwt::JwtResponse> {
    Ok(jwt.create_refresh_token("ann")?)
}

#[test]
fn rotation_needs_refresh_tokens_that_expire() {
    let rocket = rotating(&[("refresh_token_expires", json!(false))]);
    let Err(error) = Client::untracked(rocket) else {
        panic!("ignition must fail");
    };
    // Reading the kind marks the error handled (an unhandled one panics when dropped).
    assert!(format!("{:?}", error.kind()).contains("FailedFairings"));
    assert!(
        crate::common::logs::containing("refresh_token_rotation")
            .iter()
            .any(|line| line.contains("refresh_token_expires")),
        "{:?}",
        crate::common::logs::containing("refresh_token_rotation")
    );
}
