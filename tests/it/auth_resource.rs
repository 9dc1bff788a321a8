//! The auth resource, `POST /auth`: Flask-JWT 0.3.2's login, its refusals, bodies it cannot read,
//! and the settings and callbacks that move or replace it.

use crate::common;
use common::*;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::http::{ContentType, Method, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket_flask_jwt::Jwt;
use serde_json::{json, Value};

fn decode_segment(segment: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(segment).expect("base64url segment")
}

fn assert_invalid_credentials(response: LocalResponse<'_>) {
    assert_error(response, 401, "Bad Request", "Invalid credentials");
}

/// A 4xx JSON error of Flask-JWT's shape; returns its description.
fn json_error(response: LocalResponse<'_>, status: u16) -> String {
    assert_eq!(response.status().code, status);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: Value = response.into_json().expect("json error body");
    assert_eq!(body.as_object().expect("object").len(), 3, "{body}");
    assert_eq!(body["status_code"], status, "{body}");
    assert_eq!(body["error"], "Bad Request", "{body}");
    let description = body["description"].as_str().expect("description");
    assert!(!description.is_empty(), "{body}");
    description.to_owned()
}

fn assert_protected_accepts(client: &Client, token: &str) {
    let response = get_with(client, "/protected", Some(&format!("JWT {token}")));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().expect("body"), "success");
}

#[test]
fn valid_credentials_return_an_access_token_that_works() {
    let client = client();
    let response = post_auth(&client, r#"{"username":"joe","password":"pass"}"#);
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: Value = response.into_json().expect("json body");
    let object = body.as_object().expect("object");
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["access_token"],
        "{body}"
    );
    let token = body["access_token"].as_str().expect("string token");
    assert_protected_accepts(&client, token);
}

#[test]
fn issued_token_has_pyjwt_header_and_integer_claims() {
    let client = client();
    let before = now();
    let token = login(&client);
    let after = now();
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "{token}");
    assert_eq!(
        String::from_utf8(decode_segment(segments[0])).expect("utf-8"),
        r#"{"typ":"JWT","alg":"HS256"}"#
    );
    let claims: Value = serde_json::from_slice(&decode_segment(segments[1])).expect("json");
    for claim in ["identity", "iat", "nbf", "exp"] {
        assert!(
            claims[claim].is_i64() || claims[claim].is_u64(),
            "{claim} must be an integer: {claims}"
        );
    }
    assert_eq!(claims.as_object().expect("object").len(), 4, "{claims}");
    assert_eq!(claims["identity"], 1);
    let iat = claims["iat"].as_i64().expect("iat");
    assert!((before..=after).contains(&iat), "iat {iat} not now");
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    assert_eq!(claims["exp"].as_i64().expect("exp") - iat, 300);
    // The signature is an HMAC-SHA256: 32 bytes.
    assert_eq!(decode_segment(segments[2]).len(), 32);
}

#[test]
fn issued_token_is_signed_with_hmac_sha256_of_the_secret() {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    let client = client();
    let token = login(&client);
    let (message, signature) = token.rsplit_once('.').expect("signature segment");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    assert_eq!(
        signature,
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
        "a Python service sharing the secret must accept the token"
    );
    // And a token a Python service would make is accepted here.
    let claims: Value =
        serde_json::from_slice(&decode_segment(message.split('.').nth(1).expect("claims")))
            .expect("json");
    assert_protected_accepts(&client, &token_for(&claims));
}

#[test]
fn refused_logins_are_invalid_credentials() {
    let client = client();
    for body in [
        // bad password, unknown user
        r#"{"username":"joe","password":"wrong"}"#,
        r#"{"username":"bob","password":"pass"}"#,
        // a missing field
        r#"{"username":"joe"}"#,
        r#"{"password":"pass"}"#,
        r#"{}"#,
        // an empty or null field
        r#"{"username":"joe","password":""}"#,
        r#"{"username":"","password":"pass"}"#,
        r#"{"username":null,"password":"pass"}"#,
        // an extra field
        r#"{"username":"joe","password":"pass","extra":1}"#,
        r#"{"username":"joe","password":"pass","remember":true}"#,
        // case matters
        r#"{"username":"Joe","password":"pass"}"#,
        r#"{"Username":"joe","Password":"pass"}"#,
    ] {
        let response = post_auth(&client, body);
        assert_eq!(response.status().code, 401, "{body}");
        assert_invalid_credentials(response);
    }
}

#[test]
fn unreadable_bodies_are_400_with_an_understandable_description() {
    let client = client();
    let cases: [(&str, &[&str]); 6] = [
        ("not json", &["json"]),
        ("username=joe&password=pass", &["json"]),
        (
            r#"{"username":"joe","password":"pa"#,
            &["json", "truncated"],
        ),
        ("", &["empty"]),
        (r#"["joe","pass"]"#, &["json object"]),
        (r#""joe:pass""#, &["json object"]),
    ];
    for (body, key_words) in cases {
        let description = json_error(post_auth(&client, body), 400).to_lowercase();
        for word in key_words {
            assert!(
                description.contains(word),
                "body {body:?}: {description:?} should mention {word:?}"
            );
        }
    }
}

/// Flask-JWT reads the body with Flask's `request.get_json()`: without a JSON `Content-Type` the
/// answer is 400 whatever the body holds, and the body is not read.
#[test]
fn a_login_without_a_json_content_type_is_400() {
    let client = client();
    let body = r#"{"username":"joe","password":"pass"}"#;
    let description = "Did not attempt to load JSON data because the request Content-Type was \
                       not 'application/json'.";
    assert_error(
        client.post("/auth").body(body).dispatch(),
        400,
        "Bad Request",
        description,
    );
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/json",
        "application/jsonx",
    ] {
        let response = client
            .post("/auth")
            .header(rocket::http::Header::new("Content-Type", content_type))
            .body(body)
            .dispatch();
        assert_error(response, 400, "Bad Request", description);
    }
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.api+json",
    ] {
        let response = client
            .post("/auth")
            .header(rocket::http::Header::new("Content-Type", content_type))
            .body(body)
            .dispatch();
        assert_eq!(response.status(), Status::Ok, "{content_type}");
    }
    // Not read: a body over the `json` limit is the same 400, not a 413.
    let big = "j".repeat(2 * 1024 * 1024);
    let response = client
        .post("/auth")
        .header(ContentType::Plain)
        .body(&big)
        .dispatch();
    assert_error(response, 400, "Bad Request", description);
}

#[test]
fn wrong_field_types_are_400_naming_the_fields() {
    let client = client();
    for body in [
        r#"{"username":1,"password":"x"}"#,
        r#"{"username":"joe","password":["pass"]}"#,
        r#"{"username":{"name":"joe"},"password":"pass"}"#,
        r#"{"username":"joe","password":true}"#,
    ] {
        let description = json_error(post_auth(&client, body), 400).to_lowercase();
        assert!(description.contains("string"), "{body}: {description}");
        assert!(description.contains("username"), "{body}: {description}");
        assert!(description.contains("password"), "{body}: {description}");
    }
}

#[test]
fn body_over_the_limit_is_413_json() {
    let client = client();
    let body = format!(
        r#"{{"username":"{}","password":"pass"}}"#,
        "j".repeat(2 * 1024 * 1024)
    );
    let response = post_auth(&client, &body);
    assert_eq!(response.status().code, 413);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: Value = response.into_json().expect("json");
    assert_eq!(body["status_code"], 413, "{body}");
    assert_eq!(body.as_object().expect("object").len(), 3, "{body}");
    assert!(
        body["description"]
            .as_str()
            .expect("description")
            .contains("limit"),
        "{body}"
    );
}

#[test]
fn configured_json_limit_is_honoured() {
    let figment = rocket::figment::Figment::from(rocket::Config::debug_default())
        .merge(("limits.json", "1 KiB"));
    let rocket = rocket::custom(figment)
        .attach(builder().build().expect("builds"))
        .mount("/", rocket::routes![protected]);
    let client = Client::tracked(rocket).expect("valid rocket");
    let big = format!(r#"{{"username":"joe","password":"{}"}}"#, "p".repeat(2048));
    assert_eq!(post_auth(&client, &big).status().code, 413);
    let token = login(&client);
    assert_protected_accepts(&client, &token);
}

#[test]
fn async_authentication_handler_works() {
    let jwt = Jwt::builder()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .authentication_handler_async(|username, password| async move {
            tokio::task::yield_now().await;
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
        .build()
        .expect("builds");
    let client = client_with(jwt);
    let token = login(&client);
    assert_protected_accepts(&client, &token);
    assert_invalid_credentials(post_auth(
        &client,
        r#"{"username":"joe","password":"nope"}"#,
    ));
}

#[test]
fn get_auth_is_not_routed() {
    let client = client();
    for method in [Method::Get, Method::Put, Method::Delete] {
        let response = client.req(method, "/auth").dispatch();
        assert_eq!(response.status(), Status::NotFound, "{method}");
    }
}

#[test]
fn disabled_auth_url_rule_mounts_no_route() {
    let jwt = builder().disable_auth_url_rule().build().expect("builds");
    let client = client_with(jwt);
    let routes: Vec<_> = client
        .rocket()
        .routes()
        .map(|route| (route.method, route.uri.to_string()))
        .collect();
    assert_eq!(routes, [(Method::Get, "/protected".to_string())]);
    assert_eq!(
        post_auth(&client, r#"{"username":"joe","password":"pass"}"#).status(),
        Status::NotFound
    );
    // Tokens issued elsewhere are still validated.
    assert_protected_accepts(&client, &token_for(&claims(json!(1))));
}

#[test]
fn disabled_auth_url_rule_needs_no_authentication_handler() {
    let jwt = Jwt::builder()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
        .disable_auth_url_rule()
        .build()
        .expect("an identity handler is enough without the auth resource");
    let client = client_with(jwt);
    assert!(client
        .rocket()
        .routes()
        .all(|route| route.method != Method::Post));
    assert_protected_accepts(&client, &token_for(&claims(json!(1))));
}

#[test]
fn custom_auth_url_rule_moves_the_resource() {
    let client = client_with(builder().auth_url_rule("/login").build().expect("builds"));
    assert_eq!(
        post_auth(&client, r#"{"username":"joe","password":"pass"}"#).status(),
        Status::NotFound
    );
    let response = client
        .post("/login")
        .header(ContentType::JSON)
        .body(r#"{"username":"joe","password":"pass"}"#)
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let body: Value = response.into_json().expect("json");
    let token = body["access_token"].as_str().expect("token");
    assert_protected_accepts(&client, token);
    let response = client
        .post("/login")
        .header(ContentType::JSON)
        .body(r#"{"username":"joe","password":"bad"}"#)
        .dispatch();
    assert_invalid_credentials(response);
}

#[test]
fn custom_username_and_password_keys() {
    let jwt = builder()
        .auth_username_key("email")
        .auth_password_key("secret")
        .build()
        .expect("builds");
    let client = client_with(jwt);
    let response = post_auth(&client, r#"{"email":"joe","secret":"pass"}"#);
    assert_eq!(response.status(), Status::Ok);
    let body: Value = response.into_json().expect("json");
    assert_protected_accepts(&client, body["access_token"].as_str().expect("token"));
    // The default keys are now unknown fields.
    assert_invalid_credentials(post_auth(
        &client,
        r#"{"username":"joe","password":"pass"}"#,
    ));
    assert_invalid_credentials(post_auth(&client, r#"{"email":"joe","secret":"bad"}"#));
    assert_invalid_credentials(post_auth(
        &client,
        r#"{"email":"joe","secret":"pass","password":"pass"}"#,
    ));
    let description =
        json_error(post_auth(&client, r#"{"email":7,"secret":"pass"}"#), 400).to_lowercase();
    assert!(
        description.contains("email") && description.contains("secret"),
        "{description}"
    );
}
