//! Attacks on the Flask-JWT-Extended profile's token types, freshness, cookies, CSRF and
//! locations (the security catalogue's "extended" cases), on the example application.

use crate::extended::{answer, bearer, client, login, untracked};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::http::{ContentType, Cookie, Header};
use serde_json::{json, Value};

/// The `csrf` claim of a token (read without verification, as a browser's page would read the
/// CSRF cookie).
pub fn csrf_of(token: &str) -> String {
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64url")).expect("JSON");
    claims["csrf"].as_str().expect("a csrf claim").to_owned()
}

#[test]
fn a_refresh_token_is_never_an_access_token_in_any_location() {
    let client = untracked();
    let (_, refresh) = login(&client);
    let wrong = (422, json!({"msg": "Only non-refresh tokens are allowed"}));
    assert_eq!(
        answer(client.get("/protected").header(bearer(&refresh)).dispatch()),
        wrong
    );
    assert_eq!(
        answer(client.get(format!("/protected?jwt={refresh}")).dispatch()),
        wrong
    );
    assert_eq!(
        answer(
            client
                .get("/protected")
                .header(ContentType::JSON)
                .body(json!({ "access_token": refresh }).to_string())
                .dispatch()
        ),
        wrong
    );
    assert_eq!(
        answer(
            client
                .get("/protected")
                .cookie(Cookie::new("access_token_cookie", refresh.clone()))
                .dispatch()
        ),
        wrong,
        "a refresh token put in the access cookie"
    );
}

#[test]
fn an_access_token_is_never_a_refresh_token_in_any_location() {
    let client = untracked();
    let (access, _) = login(&client);
    let wrong = (422, json!({"msg": "Only refresh tokens are allowed"}));
    assert_eq!(
        answer(client.post("/refresh").header(bearer(&access)).dispatch()),
        wrong
    );
    assert_eq!(
        answer(
            client
                .post("/refresh")
                .header(ContentType::JSON)
                .body(json!({ "refresh_token": access }).to_string())
                .dispatch()
        ),
        wrong
    );
    assert_eq!(
        answer(
            client
                .post("/refresh")
                .cookie(Cookie::new("refresh_token_cookie", access.clone()))
                .header(Header::new("X-CSRF-TOKEN", csrf_of(&access)))
                .dispatch()
        ),
        wrong,
        "an access token put in the refresh cookie, with its own CSRF value"
    );
}

#[test]
fn a_non_fresh_token_never_reaches_a_fresh_route() {
    let client = untracked();
    let (_, refresh) = login(&client);
    let renewed = client
        .post("/refresh")
        .header(bearer(&refresh))
        .dispatch()
        .into_json::<Value>()
        .expect("JSON")["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let now = crate::common::now();
    let forged_fresh_claims = |fresh: Value| {
        crate::common::sign_hs256(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &json!({"sub": "user1", "type": "access", "fresh": fresh, "iat": now, "exp": now + 60}),
            crate::common::SECRET,
        )
    };
    let required = (401, json!({"msg": "Fresh token required"}));
    for token in [
        renewed,
        forged_fresh_claims(json!(false)),
        forged_fresh_claims(json!(now - 1)),
        forged_fresh_claims(json!("true")),
        forged_fresh_claims(json!(1)),
        forged_fresh_claims(Value::Null),
    ] {
        assert_eq!(
            answer(client.get("/fresh").header(bearer(&token)).dispatch()),
            required
        );
    }
    let forged = crate::common::sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "user1", "type": "access", "fresh": true, "iat": now, "exp": now + 60}),
        "another secret of thirty-two bytes!!",
    );
    let (status, _) = answer(client.get("/fresh").header(bearer(&forged)).dispatch());
    assert_eq!(
        status, 422,
        "a fresh claim under another key is a bad signature"
    );
}

#[test]
fn csrf_cannot_be_skipped() {
    let client = client();
    client
        .post("/login/cookies")
        .header(ContentType::JSON)
        .body(r#"{"username": "user1", "password": "abcxyz"}"#)
        .dispatch();
    let access = client
        .cookies()
        .get("access_token_cookie")
        .expect("the access cookie")
        .value()
        .to_owned();
    let missing = (401, json!({"msg": "Missing CSRF token"}));
    assert_eq!(answer(client.post("/protected").dispatch()), missing);
    assert_eq!(
        answer(
            client
                .post("/protected")
                .header(Header::new("X-CSRF-TOKEN", ""))
                .dispatch()
        ),
        missing,
        "an empty header is no header"
    );
    assert_eq!(
        answer(client.post(format!("/protected?jwt={access}")).dispatch()),
        missing,
        "a second location does not skip the cookie's CSRF check"
    );
    assert_eq!(
        answer(
            client
                .post("/protected")
                .header(ContentType::JSON)
                .body(json!({ "access_token": access }).to_string())
                .dispatch()
        ),
        missing
    );
    let other = {
        let other_client = untracked();
        login(&other_client).0
    };
    assert_eq!(
        answer(
            client
                .post("/protected")
                .header(Header::new("X-CSRF-TOKEN", csrf_of(&other)))
                .dispatch()
        ),
        (
            401,
            json!({"msg": "CSRF double submit tokens do not match"})
        ),
        "another session's CSRF value"
    );
}

#[test]
fn tokens_and_csrf_values_never_appear_in_logs() {
    crate::common::logs::install();
    let client = client();
    client
        .post("/login/cookies")
        .header(ContentType::JSON)
        .body(r#"{"username": "user1", "password": "abcxyz"}"#)
        .dispatch();
    let (access, refresh) = login(&untracked());
    let secrets = [
        access.clone(),
        refresh.clone(),
        csrf_of(&access),
        csrf_of(&refresh),
    ];
    client.post("/protected").dispatch();
    client
        .post("/protected")
        .header(Header::new("X-CSRF-TOKEN", csrf_of(&refresh)))
        .dispatch();
    client.get("/protected").header(bearer(&refresh)).dispatch();
    client.get(format!("/fresh?jwt={access}x")).dispatch();
    client.post("/refresh").header(bearer(&access)).dispatch();
    for secret in &secrets {
        let signature = secret.rsplit('.').next().unwrap_or(secret);
        // Rocket's own request log (`rocket::server`) shows request URIs, query strings
        // included, as every web server's access log does: the README says so. This crate's
        // lines never show a token or a CSRF value.
        let shown: Vec<String> = crate::common::logs::containing(signature)
            .into_iter()
            .filter(|line| !line.contains(" rocket::server: "))
            .collect();
        assert!(
            shown.is_empty(),
            "a log line shows a token or CSRF value: {shown:?}"
        );
    }
}
