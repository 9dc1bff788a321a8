//! Refresh-token rotation side by side with panva's `oidc-provider` (`rotateRefreshToken: true`;
//! see `oidc_provider.rs`): the same scenario — log in, rotate twice, present the rotated token
//! again, then the family's newest refresh token, its first one and its newest access token,
//! another login of the same user, and two refreshes of one token at once — run against both,
//! every step's outcome compared (rotated with a new refresh token, or refused; an access token
//! accepted or not).
//!
//! The differences, each by design:
//! - a refused refresh is 400 `invalid_grant` there (RFC 6749 §5.2: the token endpoint's error)
//!   and 401 `{"msg": "Token has been revoked"}` here (Flask-JWT-Extended's answer to a revoked
//!   token: the refresh route is a protected route of the application, not a token endpoint);
//! - a refused access token is userinfo's 401 `invalid_token` there, the protected route's 401
//!   here; there it is also inactive at introspection, which this library does not serve;
//! - oidc-provider has no grace period; here `refresh_token_reuse_grace` (off by default, as in
//!   the compared run) lets the token replaced last be presented again for the same successor.
//!   With it on, the concurrent step gives both requests the same successor (printed, and
//!   asserted in `rotation.rs`).

use std::sync::Barrier;
use std::thread;

use serde_json::{json, Value};

use crate::http_client::HttpResponse;
use crate::live_rocket::LiveRocket;
use crate::oidc_provider::oidc_provider_rotation;
use crate::programs::Program;

/// The example with rotation on (the memory store), and `settings` over its configuration.
fn instance(settings: &[(&str, Value)]) -> LiveRocket {
    let mut all = vec![("refresh_token_rotation", json!(true))];
    all.extend(settings.iter().cloned());
    crate::live_rocket::extended(None, &all)
}

/// A token step as `scenario.js` writes it: status, error, whether a new refresh token came.
fn token_step(response: &HttpResponse, presented: Option<&str>) -> (Value, Option<String>) {
    let body = response.json();
    let refresh = body["refresh_token"].as_str().map(str::to_owned);
    let step = json!({
        "status": response.status,
        "error": body["msg"].as_str().filter(|_| response.status >= 400),
        "new_refresh_token": refresh.as_deref().map(|token| Some(token) != presented),
        "access_token": body["access_token"].as_str().map(|_| true),
    });
    (step, refresh)
}

/// Our side of the scenario, in `scenario.js`'s shape.
fn ours(server: &LiveRocket) -> Value {
    let login = || {
        let response = server.request(
            "POST",
            "/login",
            &[("Content-Type", "application/json")],
            br#"{"username": "user1", "password": "abcxyz"}"#,
        );
        let body = response.json();
        let step = json!({
            "status": response.status,
            "error": null,
            "new_refresh_token": body["refresh_token"].as_str().map(|_| true),
            "access_token": body["access_token"].as_str().map(|_| true),
        });
        (
            step,
            body["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let refresh = |token: &str| {
        let response = server.request(
            "POST",
            "/refresh",
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        );
        let access = response.json()["access_token"].as_str().map(str::to_owned);
        let (step, refresh) = token_step(&response, Some(token));
        (step, refresh, access)
    };
    let access = |token: &str| {
        let response = server.request(
            "GET",
            "/protected",
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        );
        // `userinfo_status`: the protected route's status, in `scenario.js`'s shape.
        json!({"active": response.status == 200, "userinfo_status": response.status})
    };
    let (login_step, r0) = login();
    let (other_login, other) = login();
    let (rotate, r1, _) = refresh(&r0);
    let r1 = r1.expect("rotated");
    let (rotate_again, r2, a2) = refresh(&r1);
    let (r2, a2) = (r2.expect("rotated"), a2.expect("an access token"));
    let access_before_reuse = access(&a2);
    let (reuse, _, _) = refresh(&r1);
    let (newest_after_reuse, _, _) = refresh(&r2);
    let access_after_reuse = access(&a2);
    let (original_after_reuse, _, _) = refresh(&r0);
    let (other_session, _, _) = refresh(&other);

    let (concurrent_login, c0) = login();
    let barrier = Barrier::new(2);
    let (first, second) = thread::scope(|scope| {
        let first = scope.spawn(|| {
            barrier.wait();
            refresh(&c0)
        });
        let second = scope.spawn(|| {
            barrier.wait();
            refresh(&c0)
        });
        (first.join().unwrap(), second.join().unwrap())
    });
    let after = |new: &Option<String>| new.as_deref().map(|token| refresh(token).0);
    json!({
        "login": login_step,
        "other_login": other_login,
        "rotate": rotate,
        "rotate_again": rotate_again,
        "access_before_reuse": access_before_reuse,
        "reuse": reuse,
        "newest_after_reuse": newest_after_reuse,
        "access_after_reuse": access_after_reuse,
        "original_after_reuse": original_after_reuse,
        "other_session": other_session,
        "concurrent": {
            "login": concurrent_login,
            "first": first.0,
            "second": second.0,
            "first_new_after": after(&first.1),
            "second_new_after": after(&second.1),
        },
    })
}

/// What a step came to, the same for both sides: `rotated`, `issued`, `refused`, `accepted`,
/// `rejected` (an access token), or `-` (not taken).
fn outcome(step: &Value) -> &'static str {
    if step.is_null() {
        return "-";
    }
    if let Some(active) = step["active"].as_bool() {
        return if active { "accepted" } else { "rejected" };
    }
    match (step["status"].as_u64(), step["new_refresh_token"].as_bool()) {
        (Some(200), Some(true)) => "rotated",
        (Some(200), _) => "issued",
        _ => "refused",
    }
}

const STEPS: [&str; 10] = [
    "login",
    "other_login",
    "rotate",
    "rotate_again",
    "access_before_reuse",
    "reuse",
    "newest_after_reuse",
    "access_after_reuse",
    "original_after_reuse",
    "other_session",
];

fn rotation_answers_as_oidc_provider_does() {
    let theirs = oidc_provider_rotation().unwrap_or_else(|error| panic!("{error}"));
    let server = instance(&[]);
    let ours = ours(&server);
    let mut disagreements = Vec::new();
    println!("{:<24} {:<26} {:<26}", "step", "oidc-provider", "ours");
    let mut compare = |name: String, their: &Value, our: &Value| {
        let (a, b) = (outcome(their), outcome(our));
        // An access token's answer: userinfo's there, the protected route's here.
        let status = |step: &Value| match step.get("active") {
            Some(_) => format!("{}", step["userinfo_status"]),
            None => format!(
                "{} {}",
                step["status"],
                step["error"].as_str().unwrap_or_default()
            ),
        };
        println!(
            "{name:<24} {:<26} {:<26}",
            format!("{a} ({})", status(their).trim()),
            format!("{b} ({})", status(our).trim())
        );
        if a != b {
            disagreements.push(name);
        }
    };
    for name in STEPS {
        compare(name.to_owned(), &theirs[name], &ours[name]);
    }
    // Which of the two concurrent requests wins is a race on both sides: compared as the
    // winner's and the loser's outcome.
    let ranked = |side: &Value| {
        let concurrent = &side["concurrent"];
        let (winner, loser) = if outcome(&concurrent["first"]) == "rotated" {
            ("first", "second")
        } else {
            ("second", "first")
        };
        [
            concurrent["login"].clone(),
            concurrent[winner].clone(),
            concurrent[loser].clone(),
            concurrent[format!("{winner}_new_after")].clone(),
        ]
    };
    let (their_race, our_race) = (ranked(&theirs), ranked(&ours));
    for (index, name) in ["login", "winner", "loser", "winner's new token"]
        .into_iter()
        .enumerate()
    {
        compare(
            format!("concurrent {name}"),
            &their_race[index],
            &our_race[index],
        );
    }
    assert!(
        disagreements.is_empty(),
        "the outcomes differ at {disagreements:?}\noidc-provider: {theirs:#}\nours: {ours:#}"
    );
    // The outcomes asserted, not only compared: the scenario means what it says.
    assert_eq!(outcome(&ours["reuse"]), "refused");
    assert_eq!(outcome(&ours["access_after_reuse"]), "rejected");
    assert_eq!(outcome(&ours["other_session"]), "rotated");
    assert_eq!(
        ours["reuse"],
        json!({"status": 401, "error": "Token has been revoked", "new_refresh_token": null, "access_token": null})
    );

    // With a grace period (which oidc-provider has not), the concurrent pair shares one
    // successor and the family lives.
    let graceful = instance(&[("refresh_token_reuse_grace", json!(10))]);
    let with_grace = self::ours(&graceful);
    let race = &with_grace["concurrent"];
    println!(
        "with refresh_token_reuse_grace = 10: concurrent {} and {}, the winner's new token {}",
        outcome(&race["first"]),
        outcome(&race["second"]),
        outcome(&race["first_new_after"])
    );
    assert_eq!(
        (outcome(&race["first"]), outcome(&race["second"])),
        ("rotated", "rotated")
    );
    assert_eq!(outcome(&race["first_new_after"]), "rotated");
}

pub fn tests() -> Vec<crate::Test> {
    vec![test!(
        rotation_answers_as_oidc_provider_does,
        needs[Program::Node]
    )]
}
