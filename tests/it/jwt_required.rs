//! `#[jwt_required]` end to end: every rejection of Flask-JWT 0.3.2 with its exact status, JSON
//! body and challenge, the accepted variants, hostile headers, every handler shape reading
//! `current_identity!()`, the error callback, the async identity callback and a missing fairing.

use crate::common;
use common::*;

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rocket::http::{ContentType, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{routes, State};
use rocket_flask_jwt::{current_identity, jwt_required, Jwt, JwtResponse};
use serde_json::{json, Value};
use sha2::Sha256;

// ----- application -------------------------------------------------------------------------------

struct Greeting(&'static str);

#[jwt_required(realm = "Admin area")]
#[rocket::get("/admin")]
fn admin() -> String {
    format!("admin {}", current_identity!(User).username)
}

#[jwt_required]
#[rocket::get("/sync")]
fn sync_handler() -> String {
    let user = current_identity!(User);
    format!("sync {} {}", user.id, user.username)
}

#[jwt_required]
#[rocket::get("/async")]
async fn async_handler() -> String {
    tokio::task::yield_now().await;
    let user: Arc<User> = current_identity!();
    format!("async {} {}", user.id, user.username)
}

#[jwt_required]
#[rocket::get("/items/<id>?<q>")]
fn item(id: u64, greeting: &State<Greeting>, q: Option<String>) -> String {
    let user = current_identity!(User);
    format!(
        "{} {} item {id} q={} from {}",
        greeting.0,
        user.username,
        q.as_deref().unwrap_or("-"),
        user.id
    )
}

#[jwt_required]
#[rocket::get("/async-items/<id>?<q>")]
async fn async_item(id: u64, greeting: &State<Greeting>, q: Option<String>) -> String {
    tokio::task::yield_now().await;
    let user = current_identity!(User);
    format!(
        "{} {} item {id} q={} from {}",
        greeting.0,
        user.username,
        q.as_deref().unwrap_or("-"),
        user.id
    )
}

#[jwt_required]
#[rocket::get("/result/<id>")]
fn result_handler(id: u64) -> Result<String, Status> {
    let user = current_identity!(User);
    if user.id == id {
        Ok(format!("result {}", user.username))
    } else {
        Err(Status::NotFound)
    }
}

#[jwt_required]
#[rocket::get("/option/<id>")]
async fn option_handler(id: u64) -> Option<String> {
    let user = current_identity!(User);
    (user.id == id).then(|| format!("option {}", user.username))
}

fn helper_name() -> String {
    current_identity!(User).username.clone()
}

async fn async_helper_name() -> String {
    tokio::task::yield_now().await;
    let before = current_identity!(User).id;
    tokio::task::yield_now().await;
    let after = current_identity!(User);
    format!("{} {}", after.username, before + after.id)
}

#[jwt_required]
#[rocket::get("/helper")]
fn sync_helper_handler() -> String {
    format!("helper {}", helper_name())
}

#[jwt_required]
#[rocket::get("/async-helper")]
async fn async_helper_handler() -> String {
    let first = async_helper_name().await;
    tokio::task::yield_now().await;
    format!("async-helper {first} {}", helper_name())
}

fn app(jwt: Jwt<User>) -> Client {
    let rocket = rocket_with(jwt).manage(Greeting("hello")).mount(
        "/",
        routes![
            admin,
            sync_handler,
            async_handler,
            item,
            async_item,
            result_handler,
            option_handler,
            sync_helper_handler,
            async_helper_handler
        ],
    );
    Client::tracked(rocket).expect("valid rocket")
}

fn fixture() -> Client {
    app(builder().build().expect("fixture builds"))
}

// ----- tokens ------------------------------------------------------------------------------------

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token over raw header and payload text, HMAC-SHA256 signed with `secret`.
fn sign_raw_hs256(header: &str, payload: &str, secret: &str) -> String {
    let message = format!("{}.{}", b64(header), b64(payload));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    format!("{message}.{}", b64(mac.finalize().into_bytes()))
}

fn jwt_header(token: &str) -> String {
    format!("JWT {token}")
}

fn assert_ok_body(response: LocalResponse<'_>, body: &str) {
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().expect("body"), body);
}

/// A 401 (or other) JSON error of Flask-JWT's shape, whatever its description.
fn assert_json_error(response: LocalResponse<'_>, status: u16) -> Value {
    assert_eq!(response.status().code, status);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: Value = response.into_json().expect("json error body");
    let object = body.as_object().expect("a JSON object");
    assert_eq!(object.len(), 3, "{body}");
    assert_eq!(body["status_code"], status, "{body}");
    assert!(
        !body["error"].as_str().expect("error string").is_empty(),
        "{body}"
    );
    assert!(
        !body["description"]
            .as_str()
            .expect("description string")
            .is_empty(),
        "{body}"
    );
    body
}

// ----- missing token and challenge ----------------------------------------------------------------

#[test]
fn no_header_is_authorization_required_with_default_realm_challenge() {
    let client = fixture();
    let response = get_with(&client, "/protected", None);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(r#"JWT realm="Login Required""#)
    );
    assert_error(
        response,
        401,
        "Authorization Required",
        "Request does not contain an access token",
    );
}

#[test]
fn realm_argument_sets_the_challenge() {
    let client = fixture();
    let response = get_with(&client, "/admin", None);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(r#"JWT realm="Admin area""#)
    );
    assert_error(
        response,
        401,
        "Authorization Required",
        "Request does not contain an access token",
    );
    let token = login(&client);
    assert_ok_body(
        get_with(&client, "/admin", Some(&jwt_header(&token))),
        "admin joe",
    );
}

#[test]
fn empty_and_blank_headers_are_authorization_required() {
    let client = fixture();
    for value in ["", "   ", "\t", " \t  "] {
        for (path, realm) in [
            ("/protected", r#"JWT realm="Login Required""#),
            ("/admin", r#"JWT realm="Admin area""#),
        ] {
            let response = get_with(&client, path, Some(value));
            assert_eq!(
                response.headers().get_one("WWW-Authenticate"),
                Some(realm),
                "header {value:?} on {path}"
            );
            assert_error(
                response,
                401,
                "Authorization Required",
                "Request does not contain an access token",
            );
        }
    }
}

// ----- malformed Authorization header ----------------------------------------------------------

/// The answer to each kind of malformed header (which header values are of which kind is pinned
/// by the unit tests of the runtime's header parser): 401 JSON, and no challenge.
#[test]
fn a_malformed_header_is_answered_without_a_challenge() {
    let client = fixture();
    let token = login(&client);
    for (value, description) in [
        (format!("Bearer {token}"), "Unsupported authorization type"),
        (format!("JWT{token}"), "Unsupported authorization type"),
        ("jwt   ".to_string(), "Token missing"),
        (format!("JWT {token} extra"), "Token contains spaces"),
    ] {
        let response = get_with(&client, "/protected", Some(&value));
        assert!(
            response.headers().get_one("WWW-Authenticate").is_none(),
            "{value}"
        );
        assert_error(response, 401, "Invalid JWT header", description);
    }
}

// ----- token checks ------------------------------------------------------------------------------

#[test]
fn wrong_key_fails_signature_verification() {
    let client = fixture();
    let token = sign_hs256(
        &json!({"typ": "JWT", "alg": "HS256"}),
        &claims(json!(1)),
        "another-secret",
    );
    assert_error(
        get_with(&client, "/protected", Some(&jwt_header(&token))),
        401,
        "Invalid token",
        "Signature verification failed",
    );
}

#[test]
fn tampered_payload_fails_signature_verification() {
    let client = fixture();
    let token = login(&client);
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    assert_eq!(parts.len(), 3);
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("base64")).expect("json");
    payload["identity"] = json!(2);
    parts[1] = b64(serde_json::to_vec(&payload).expect("json"));
    let tampered = parts.join(".");
    assert_error(
        get_with(&client, "/protected", Some(&jwt_header(&tampered))),
        401,
        "Invalid token",
        "Signature verification failed",
    );
    // A changed signature is caught the same way (a character inside the signature, whose
    // six bits all carry data).
    let mut flipped: Vec<char> = token.chars().collect();
    let at = flipped.len() - 10;
    flipped[at] = if flipped[at] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    assert_error(
        get_with(&client, "/protected", Some(&jwt_header(&flipped))),
        401,
        "Invalid token",
        "Signature verification failed",
    );
}

#[test]
fn nbf_in_the_future_beyond_leeway_is_not_yet_valid() {
    let client = fixture();
    let now = now();
    let token = token_for(&json!({"identity": 1, "iat": now, "nbf": now + 60, "exp": now + 600}));
    assert_error(
        get_with(&client, "/protected", Some(&jwt_header(&token))),
        401,
        "Invalid token",
        "The token is not yet valid (nbf)",
    );
}

#[test]
fn iat_in_the_future_beyond_leeway_is_refused() {
    let client = fixture();
    let now = now();
    let token = token_for(&json!({"identity": 1, "iat": now + 60, "nbf": now, "exp": now + 600}));
    assert_error(
        get_with(&client, "/protected", Some(&jwt_header(&token))),
        401,
        "Invalid token",
        "Issued At claim (iat) cannot be in the future.",
    );
}

#[test]
fn each_required_claim_missing_is_named() {
    let client = fixture();
    for claim in ["exp", "iat", "nbf"] {
        let mut payload = claims(json!(1));
        payload
            .as_object_mut()
            .expect("object")
            .remove(claim)
            .expect("claim present");
        let token = token_for(&payload);
        assert_error(
            get_with(&client, "/protected", Some(&jwt_header(&token))),
            401,
            "Invalid token",
            &format!("Token is missing the \"{claim}\" claim"),
        );
    }
}

#[test]
fn alg_none_with_empty_signature_is_not_allowed() {
    let client = fixture();
    let header = b64(r#"{"typ":"JWT","alg":"none"}"#);
    let payload = b64(serde_json::to_vec(&claims(json!(1))).expect("json"));
    for token in [format!("{header}.{payload}."), {
        let header = b64(r#"{"alg":"none"}"#);
        format!("{header}.{payload}.")
    }] {
        assert_error(
            get_with(&client, "/protected", Some(&jwt_header(&token))),
            401,
            "Invalid token",
            "The specified alg value is not allowed",
        );
    }
}

#[test]
fn unknown_identity_is_user_does_not_exist() {
    let client = fixture();
    let token = token_for(&claims(json!(99)));
    assert_error(
        get_with(&client, "/protected", Some(&jwt_header(&token))),
        401,
        "Invalid JWT",
        "User does not exist",
    );
}

// ----- accepted variants ---------------------------------------------------------------------------

#[test]
fn lowercase_and_mixed_case_scheme_is_accepted() {
    let client = fixture();
    let token = login(&client);
    for scheme in ["jwt", "Jwt", "jWT"] {
        assert_ok_body(
            get_with(&client, "/protected", Some(&format!("{scheme} {token}"))),
            "success",
        );
    }
}

#[test]
fn exp_and_nbf_inside_the_leeway_are_accepted() {
    let client = fixture();
    let now = now();
    let expired_a_little =
        token_for(&json!({"identity": 1, "iat": now - 300, "nbf": now - 300, "exp": now - 2}));
    assert_ok_body(
        get_with(&client, "/protected", Some(&jwt_header(&expired_a_little))),
        "success",
    );
    let early_a_little =
        token_for(&json!({"identity": 1, "iat": now + 5, "nbf": now + 5, "exp": now + 300}));
    assert_ok_body(
        get_with(&client, "/protected", Some(&jwt_header(&early_a_little))),
        "success",
    );
}

// ----- malformed tokens and hostile headers --------------------------------------------------

#[test]
fn malformed_base64_segments_are_invalid_tokens() {
    let client = fixture();
    let good_payload = b64(serde_json::to_vec(&claims(json!(1))).expect("json"));
    let good_header = b64(r#"{"typ":"JWT","alg":"HS256"}"#);
    for token in [
        format!("!!!.{good_payload}.sig"),
        format!("{good_header}.***.sig"),
        format!("{good_header}.{good_payload}.%%%"),
        "a.b.c".to_string(),
        "a.b.c.d".to_string(),
        "..".to_string(),
        format!("{good_header}=.{good_payload}.x"),
    ] {
        let body = assert_json_error(
            get_with(&client, "/protected", Some(&jwt_header(&token))),
            401,
        );
        assert_eq!(body["error"], "Invalid token", "{token}: {body}");
    }
}

#[test]
fn malformed_json_segments_are_invalid_tokens() {
    let client = fixture();
    let payload = serde_json::to_string(&claims(json!(1))).expect("json");
    let header = r#"{"typ":"JWT","alg":"HS256"}"#;
    for token in [
        // header not JSON, not an object, truncated
        sign_raw_hs256("{", &payload, SECRET),
        sign_raw_hs256("[]", &payload, SECRET),
        sign_raw_hs256("not json at all", &payload, SECRET),
        // payload not JSON, not an object, truncated — validly signed
        sign_raw_hs256(header, "{\"identity\": 1,", SECRET),
        sign_raw_hs256(header, "[1, 2, 3]", SECRET),
        sign_raw_hs256(header, "\"just a string\"", SECRET),
        sign_raw_hs256(header, "\u{0}\u{1}binary", SECRET),
        // claims of the wrong type
        token_for(&json!({"identity": 1, "iat": now(), "nbf": now(), "exp": "tomorrow"})),
        token_for(&json!({"identity": 1, "iat": "now", "nbf": now(), "exp": now() + 300})),
        token_for(&json!({"identity": 1, "iat": now(), "nbf": [1], "exp": now() + 300})),
    ] {
        let body = assert_json_error(
            get_with(&client, "/protected", Some(&jwt_header(&token))),
            401,
        );
        assert_eq!(body["error"], "Invalid token", "{token}: {body}");
    }
}

#[test]
fn huge_header_is_a_401_json() {
    let client = fixture();
    let huge = format!("JWT {}", "a".repeat(1024 * 1024));
    let body = assert_json_error(get_with(&client, "/protected", Some(&huge)), 401);
    assert_eq!(body["error"], "Invalid token");
    let huge_segments = format!(
        "JWT {}.{}.{}",
        "e".repeat(400 * 1024),
        "f".repeat(400 * 1024),
        "g".repeat(300 * 1024)
    );
    assert_json_error(get_with(&client, "/protected", Some(&huge_segments)), 401);
    let huge_scheme = "x".repeat(1024 * 1024);
    let body = assert_json_error(get_with(&client, "/protected", Some(&huge_scheme)), 401);
    assert_eq!(body["error"], "Invalid JWT header");
}

#[test]
fn non_ascii_header_values_are_a_401_json() {
    let client = fixture();
    for value in [
        "JWT jéton",
        "JWT 令牌.令牌.令牌",
        "Jwt\u{a0}abc",
        "ÉTÉ xyz",
        "JWT \u{1F600}",
        "\u{202e}JWT abc",
    ] {
        assert_json_error(get_with(&client, "/protected", Some(value)), 401);
    }
}

#[test]
fn random_garbage_headers_are_a_401_json() {
    let client = fixture();
    // A small deterministic generator: the same garbage on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: Vec<char> = (0x20u8..0x7f)
        .map(char::from)
        .chain(['\t', 'é', '.', '.', ' ', '\u{7f}', '\u{1}'])
        .collect();
    for round in 0..300 {
        let len = (next() % 120) as usize;
        let mut value: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        if round % 3 == 0 {
            value = format!("JWT {value}");
        }
        let response = get_with(&client, "/protected", Some(&value));
        let status = response.status().code;
        assert_eq!(status, 401, "header {value:?}");
        assert_json_error(response, 401);
    }
}

// ----- handler shapes and current_identity!() -----------------------------------------------

#[test]
fn sync_and_async_handlers_get_the_typed_identity() {
    let client = fixture();
    let auth = jwt_header(&login(&client));
    assert_ok_body(get_with(&client, "/sync", Some(&auth)), "sync 1 joe");
    assert_ok_body(get_with(&client, "/async", Some(&auth)), "async 1 joe");
    for path in ["/sync", "/async"] {
        assert_error(
            get_with(&client, path, None),
            401,
            "Authorization Required",
            "Request does not contain an access token",
        );
    }
}

#[test]
fn path_state_and_query_arguments_reach_the_handler() {
    let client = fixture();
    let auth = jwt_header(&login(&client));
    assert_ok_body(
        get_with(&client, "/items/42?q=abc", Some(&auth)),
        "hello joe item 42 q=abc from 1",
    );
    assert_ok_body(
        get_with(&client, "/items/7", Some(&auth)),
        "hello joe item 7 q=- from 1",
    );
    assert_ok_body(
        get_with(&client, "/async-items/42?q=abc", Some(&auth)),
        "hello joe item 42 q=abc from 1",
    );
    assert_error(
        get_with(&client, "/items/42?q=abc", Some("JWT abc")),
        401,
        "Invalid token",
        "Not enough segments",
    );
    // A path segment that does not parse is still Rocket's business: not a 5xx.
    let response = get_with(&client, "/items/not-a-number", Some(&auth));
    assert!(response.status().code < 500, "{}", response.status());
}

#[test]
fn result_and_option_handlers_get_the_typed_identity() {
    let client = fixture();
    let auth = jwt_header(&login(&client));
    assert_ok_body(get_with(&client, "/result/1", Some(&auth)), "result joe");
    assert_eq!(
        get_with(&client, "/result/2", Some(&auth)).status(),
        Status::NotFound
    );
    assert_ok_body(get_with(&client, "/option/1", Some(&auth)), "option joe");
    assert_eq!(
        get_with(&client, "/option/2", Some(&auth)).status(),
        Status::NotFound
    );
    assert_error(
        get_with(&client, "/result/1", None),
        401,
        "Authorization Required",
        "Request does not contain an access token",
    );
    assert_error(
        get_with(&client, "/option/1", Some("Bearer x")),
        401,
        "Invalid JWT header",
        "Unsupported authorization type",
    );
}

#[test]
fn helpers_called_from_handlers_read_the_identity() {
    let client = fixture();
    let auth = jwt_header(&login(&client));
    assert_ok_body(get_with(&client, "/helper", Some(&auth)), "helper joe");
    assert_ok_body(
        get_with(&client, "/async-helper", Some(&auth)),
        "async-helper joe 2 joe",
    );
}

#[rocket::async_test]
async fn async_client_serves_concurrent_requests_with_their_own_identity() {
    use rocket::http::Header;
    use rocket::local::asynchronous::Client as AsyncClient;

    let rocket = rocket_with(builder().build().expect("fixture builds"))
        .manage(Greeting("hi"))
        .mount("/", routes![async_helper_handler, async_item]);
    let client = AsyncClient::tracked(rocket).await.expect("valid rocket");
    let token = token_for(&claims(json!(1)));
    let unknown_token = token_for(&claims(json!(99)));
    let good = client
        .get("/async-helper")
        .header(Header::new("Authorization", jwt_header(&token)))
        .dispatch();
    let unknown = client
        .get("/async-items/3?q=z")
        .header(Header::new("Authorization", jwt_header(&unknown_token)))
        .dispatch();
    let item = client
        .get("/async-items/3?q=z")
        .header(Header::new("Authorization", jwt_header(&token)))
        .dispatch();
    let (good, unknown, item) = tokio::join!(good, unknown, item);
    assert_eq!(good.status(), Status::Ok);
    assert_eq!(
        good.into_string().await.expect("body"),
        "async-helper joe 2 joe"
    );
    assert_eq!(item.status(), Status::Ok);
    assert_eq!(
        item.into_string().await.expect("body"),
        "hi joe item 3 q=z from 1"
    );
    assert_eq!(unknown.status(), Status::Unauthorized);
    assert_eq!(unknown.content_type(), Some(ContentType::JSON));
    let body: Value = unknown.into_json().await.expect("json");
    assert_eq!(
        body,
        json!({"status_code": 401, "error": "Invalid JWT", "description": "User does not exist"})
    );
}

// ----- callbacks -----------------------------------------------------------------------------

fn error_callback_client() -> Client {
    let jwt = builder()
        .error_handler(|error| {
            let mut response = JwtResponse::text(
                Status::Forbidden,
                format!("denied: {} / {}", error.error, error.description),
            )
            .with_header("X-Error", error.error.to_string());
            for (name, value) in &error.headers {
                response = response.with_header(format!("X-Original-{name}"), value.clone());
            }
            response
        })
        .build()
        .expect("builds");
    app(jwt)
}

fn assert_replaced(response: LocalResponse<'_>, error: &str, description: &str) {
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(response.content_type(), Some(ContentType::Text));
    assert_eq!(response.headers().get_one("X-Error"), Some(error));
    assert!(
        response.headers().get_one("WWW-Authenticate").is_none(),
        "the error callback's headers replace the default ones"
    );
    assert_eq!(
        response.into_string().expect("body"),
        format!("denied: {error} / {description}")
    );
}

#[test]
fn error_callback_replaces_every_failure_response() {
    let client = error_callback_client();

    // Missing token: the callback sees the challenge but decides the response.
    let response = get_with(&client, "/protected", None);
    assert_eq!(
        response.headers().get_one("X-Original-WWW-Authenticate"),
        Some(r#"JWT realm="Login Required""#)
    );
    assert_replaced(
        response,
        "Authorization Required",
        "Request does not contain an access token",
    );
    let response = get_with(&client, "/admin", Some(""));
    assert_eq!(
        response.headers().get_one("X-Original-WWW-Authenticate"),
        Some(r#"JWT realm="Admin area""#)
    );
    assert_replaced(
        response,
        "Authorization Required",
        "Request does not contain an access token",
    );

    let now = now();
    let cases = [
        (
            "Bearer x".to_string(),
            "Invalid JWT header",
            "Unsupported authorization type",
        ),
        ("JWT".into(), "Invalid JWT header", "Token missing"),
        (
            "JWT a b".into(),
            "Invalid JWT header",
            "Token contains spaces",
        ),
        ("JWT abc".into(), "Invalid token", "Not enough segments"),
        (
            jwt_header(&token_for(
                &json!({"identity": 1, "iat": now - 400, "nbf": now - 400, "exp": now - 60}),
            )),
            "Invalid token",
            "Signature has expired",
        ),
        (
            jwt_header(&sign_hs256(
                &json!({"typ": "JWT", "alg": "HS256"}),
                &claims(json!(1)),
                "wrong",
            )),
            "Invalid token",
            "Signature verification failed",
        ),
        (
            jwt_header(&token_for(&claims(json!(99)))),
            "Invalid JWT",
            "User does not exist",
        ),
    ];
    for (header, error, description) in cases {
        let response = get_with(&client, "/sync", Some(&header));
        assert_replaced(response, error, description);
    }

    // Successful requests are untouched.
    let token = login(&client);
    assert_ok_body(
        get_with(&client, "/protected", Some(&jwt_header(&token))),
        "success",
    );
}

#[test]
fn async_identity_callback_is_awaited() {
    let jwt = Jwt::builder()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .authentication_handler(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler_async(|payload| async move {
            tokio::task::yield_now().await;
            (payload.get("identity")? == 1).then(joe)
        })
        .build()
        .expect("builds");
    let client = app(jwt);
    let token = login(&client);
    assert_ok_body(
        get_with(&client, "/protected", Some(&jwt_header(&token))),
        "success",
    );
    assert_ok_body(
        get_with(&client, "/async", Some(&jwt_header(&token))),
        "async 1 joe",
    );
    assert_error(
        get_with(
            &client,
            "/protected",
            Some(&jwt_header(&token_for(&claims(json!(99))))),
        ),
        401,
        "Invalid JWT",
        "User does not exist",
    );
}

#[test]
fn protected_route_without_the_fairing_answers_500_json() {
    let rocket = rocket::custom(rocket::Config::debug_default())
        .mount("/", routes![common::protected, async_handler]);
    let client = Client::tracked(rocket).expect("valid rocket");
    let token = token_for(&claims(json!(1)));
    for (path, header) in [
        ("/protected", None),
        ("/protected", Some(jwt_header(&token))),
        ("/async", Some(jwt_header(&token))),
    ] {
        let body = assert_json_error(get_with(&client, path, header.as_deref()), 500);
        assert_eq!(body["error"], "Internal Server Error");
        assert!(
            body["description"]
                .as_str()
                .expect("description")
                .contains("fairing"),
            "{body}"
        );
    }
}

// ----- logs ----------------------------------------------------------------------------------------

#[test]
fn a_refusal_logs_the_librarys_line_and_nothing_from_rockets_default_catcher() {
    logs::install();
    let client = fixture();
    let response = client
        .get("/sync")
        .header(rocket::http::Header::new(
            "Authorization",
            "JWT not-a-token",
        ))
        .dispatch();
    assert_json_error(response, 401);
    // The library's one line, naming the failed check.
    let ours = logs::containing("GET /sync: Invalid token: Not enough segments");
    assert_eq!(ours.len(), 1, "{ours:#?}");
    assert!(ours[0].contains("(failed check: well-formed)"), "{ours:#?}");
    // Rocket's default catcher is never asked for a refusal (the library's catcher answers), and
    // Rocket's line for the failed guard names the public type and a short reason.
    let all = logs::all();
    assert!(
        all.iter()
            .all(|line| !line.contains("No 401 catcher registered")),
        "{all:#?}"
    );
    let guard_lines: Vec<&String> = all
        .iter()
        .filter(|line| line.contains("Request guard") && line.contains("JwtAuth"))
        .collect();
    assert!(!guard_lines.is_empty(), "{all:#?}");
    for line in guard_lines {
        assert!(!line.contains("__private_v1"), "{line}");
        assert!(!line.contains("JwtError {"), "{line}");
    }
}
