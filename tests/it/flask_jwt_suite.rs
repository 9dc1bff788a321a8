//! Flask-JWT 0.3.2's own test suite (`tests/test_jwt.py`, 19 tests), ported case by case to
//! Rocket's local blocking client against the same fixture (see `tests/common`).

use crate::common;
use common::*;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rocket::http::{Header, Method, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::serde::json::Json;
use rocket_flask_jwt::{current_identity, jwt_required, Jwt, JwtResponse, Payload};
use serde_json::{json, Value};
use sha2::Sha256;

// ----- helpers -----------------------------------------------------------------------------------

/// Answers the current identity, so a test can see who it is during the request.
#[jwt_required]
#[rocket::get("/identity")]
fn identity() -> Json<User> {
    Json(User::clone(&current_identity!(User)))
}

/// How many times [`identity_probe`] ran (only `test_..._invalid_request_current_identity` uses it).
static PROBE_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Like [`identity`], counting its runs.
#[jwt_required]
#[rocket::get("/identity-probe")]
fn identity_probe() -> Json<User> {
    PROBE_CALLS.fetch_add(1, Ordering::SeqCst);
    Json(User::clone(&current_identity!(User)))
}

/// The fixture application plus the identity routes.
fn client_with_identity_routes(jwt: Jwt<User>) -> Client {
    Client::tracked(rocket_with(jwt).mount("/", rocket::routes![identity, identity_probe]))
        .expect("valid rocket")
}

/// A Rocket with nothing but the extension attached, as Flask-JWT's bare `Flask(__name__)` app.
fn bare_client(jwt: Jwt<User>) -> Client {
    Client::tracked(rocket::custom(rocket::Config::debug_default()).attach(jwt))
        .expect("valid rocket")
}

/// GETs `path` with a lower-case `authorization` header, as Flask-JWT's tests send it.
fn get_lower<'c>(client: &'c Client, path: &'c str, value: &str) -> LocalResponse<'c> {
    client
        .get(path)
        .header(Header::new("authorization", value.to_owned()))
        .dispatch()
}

/// A JSON object as a [`Payload`].
fn payload(value: Value) -> Payload {
    value.as_object().expect("a JSON object").clone()
}

/// Decodes an HS256 token independently of the library: checks the HMAC-SHA256 signature under
/// `secret` and returns `(header, claims)`.
fn decode_hs256(token: &str, secret: &str) -> (Value, Value) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "three segments in {token:?}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{}.{}", segments[0], segments[1]).as_bytes());
    let signature = URL_SAFE_NO_PAD
        .decode(segments[2])
        .expect("base64url signature");
    mac.verify_slice(&signature)
        .expect("HMAC-SHA256 signature under the secret");
    let segment = |s: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url segment"))
            .expect("JSON segment")
    };
    let header = segment(segments[0]);
    assert_eq!(header["alg"], "HS256");
    (header, segment(segments[1]))
}

fn json_body(response: LocalResponse<'_>) -> Value {
    response.into_json().expect("json body")
}

// ----- the 19 tests ------------------------------------------------------------------------------

/// Flask-JWT `test_initialize`.
#[test]
fn test_initialize() {
    let jwt = Jwt::builder()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .authentication_handler(|_, _| None::<User>)
        .identity_handler(|_| None)
        .build()
        .expect("the extension initialises");
    let client = bare_client(jwt);
    let routes: Vec<_> = client.rocket().routes().collect();
    assert_eq!(routes.len(), 1, "exactly one route added: {routes:?}");
    assert_eq!(routes[0].method, Method::Post);
    assert_eq!(routes[0].uri.path(), "/auth");
}

/// Flask-JWT `test_adds_auth_endpoint`.
#[test]
fn test_adds_auth_endpoint() {
    let jwt = builder()
        .auth_url_rule("/auth")
        .auth_endpoint("jwt_auth")
        .build()
        .expect("fixture builds");
    let client = bare_client(jwt);
    let routes: Vec<_> = client.rocket().routes().collect();
    assert_eq!(routes.len(), 1, "exactly one route added: {routes:?}");
    assert_eq!(routes[0].method, Method::Post);
    assert_eq!(routes[0].uri.path(), "/auth");
    assert_eq!(routes[0].name.as_deref(), Some("jwt_auth"));
}

/// Flask-JWT `test_auth_endpoint_with_valid_request`.
#[test]
fn test_auth_endpoint_with_valid_request() {
    let client = client();
    let response = post_auth(&client, r#"{"username":"joe","password":"pass"}"#);
    assert_eq!(response.status(), Status::Ok);
    let body = json_body(response);
    let token = body["access_token"].as_str().expect("access_token");
    let (_, claims) = decode_hs256(token, SECRET);
    assert_eq!(claims["identity"], 1);
}

/// Flask-JWT `test_custom_auth_endpoint_with_valid_request`.
#[test]
fn test_custom_auth_endpoint_with_valid_request() {
    let jwt = builder()
        .auth_username_key("email")
        .auth_password_key("pass")
        .build()
        .expect("fixture builds");
    let client = client_with(jwt);
    let response = post_auth(&client, r#"{"email":"joe","pass":"pass"}"#);
    assert_eq!(response.status(), Status::Ok);
    let body = json_body(response);
    assert!(body["access_token"].is_string(), "{body}");
}

/// Flask-JWT `test_auth_endpoint_with_invalid_request`.
#[test]
fn test_auth_endpoint_with_invalid_request() {
    let client = client();
    let response = post_auth(&client, r#"{"username":"joe"}"#);
    assert_error(response, 401, "Bad Request", "Invalid credentials");
}

/// Flask-JWT `test_auth_endpoint_with_invalid_credentials`.
#[test]
fn test_auth_endpoint_with_invalid_credentials() {
    let client = client();
    let response = post_auth(&client, r#"{"username":"bogus","password":"bogus"}"#);
    assert_error(response, 401, "Bad Request", "Invalid credentials");
}

/// Flask-JWT `test_jwt_required_decorator_with_valid_token`.
#[test]
fn test_jwt_required_decorator_with_valid_token() {
    let client = client();
    let token = login(&client);
    let response = get_with(&client, "/protected", Some(&format!("JWT {token}")));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("success"));
}

/// Flask-JWT `test_jwt_required_decorator_with_valid_request_current_identity`.
#[test]
fn test_jwt_required_decorator_with_valid_request_current_identity() {
    let client = client_with_identity_routes(builder().build().expect("fixture builds"));
    let token = login(&client);
    let response = get_lower(&client, "/identity", &format!("JWT {token}"));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(json_body(response), json!({"id": 1, "username": "joe"}));
    let response = get_lower(&client, "/protected", &format!("JWT {token}"));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("success"));
}

/// Flask-JWT `test_jwt_required_decorator_with_invalid_request_current_identity`.
#[test]
fn test_jwt_required_decorator_with_invalid_request_current_identity() {
    let client = client_with_identity_routes(builder().build().expect("fixture builds"));
    let response = get_lower(&client, "/identity-probe", "JWT bogus");
    assert_error(response, 401, "Invalid token", "Not enough segments");
    assert_eq!(
        PROBE_CALLS.load(Ordering::SeqCst),
        0,
        "the handler must not run without a valid token"
    );
    let response = get_lower(&client, "/protected", "JWT bogus");
    assert_error(response, 401, "Invalid token", "Not enough segments");
    assert!(
        rocket_flask_jwt::identity::try_current_identity::<User>().is_err(),
        "no current identity outside a request"
    );
    // The probe does count: a valid token runs it once.
    let token = login(&client);
    let response = get_lower(&client, "/identity-probe", &format!("JWT {token}"));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(json_body(response), json!({"id": 1, "username": "joe"}));
    assert_eq!(PROBE_CALLS.load(Ordering::SeqCst), 1);
    assert!(rocket_flask_jwt::identity::try_current_identity::<User>().is_err());
}

/// Flask-JWT `test_jwt_required_decorator_with_invalid_authorization_headers`.
#[test]
fn test_jwt_required_decorator_with_invalid_authorization_headers() {
    let client = client();

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

    let response = get_lower(&client, "/protected", "Bogus xxx");
    assert_error(
        response,
        401,
        "Invalid JWT header",
        "Unsupported authorization type",
    );

    let response = get_lower(&client, "/protected", "JWT");
    assert_error(response, 401, "Invalid JWT header", "Token missing");

    let response = get_lower(&client, "/protected", "JWT xxx xxx");
    assert_error(response, 401, "Invalid JWT header", "Token contains spaces");
}

/// Flask-JWT `test_jwt_required_decorator_with_invalid_jwt_tokens`.
#[test]
fn test_jwt_required_decorator_with_invalid_jwt_tokens() {
    let jwt = builder()
        .leeway(Duration::ZERO)
        .expiration_delta(Duration::from_millis(200))
        .build()
        .expect("fixture builds");
    let client = client_with(jwt);
    let token = login(&client);

    // Undecipherable.
    let response = get_lower(&client, "/protected", &format!("JWT {token}X"));
    assert_error(
        response,
        401,
        "Invalid token",
        "Signature verification failed",
    );

    // Expired: the token Flask-JWT's test holds after sleeping, built with its claims in the past
    // (issued 2 s ago, expired 1 s ago; no leeway) instead of sleeping.
    let now = now();
    let expired = token_for(&json!({
        "identity": 1,
        "iat": now - 2,
        "nbf": now - 2,
        "exp": now - 1,
    }));
    let response = get_lower(&client, "/protected", &format!("JWT {expired}"));
    assert_error(response, 401, "Invalid token", "Signature has expired");
}

/// Flask-JWT `test_jwt_required_decorator_with_missing_user`.
#[test]
fn test_jwt_required_decorator_with_missing_user() {
    let jwt = builder()
        .identity_handler(|_| None)
        .build()
        .expect("fixture builds");
    let client = client_with(jwt);
    let token = login(&client);
    let response = get_lower(&client, "/protected", &format!("JWT {token}"));
    assert_error(response, 401, "Invalid JWT", "User does not exist");
}

/// Flask-JWT `test_custom_error_handler`.
#[test]
fn test_custom_error_handler() {
    let jwt = builder()
        .error_handler(|_e| JwtResponse::text(Status::Ok, "custom"))
        .build()
        .expect("fixture builds");
    let client = client_with(jwt);
    let response = get_with(&client, "/protected", None);
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("custom"));
}

/// Flask-JWT `test_custom_response_handler`.
#[test]
fn test_custom_response_handler() {
    let jwt = builder()
        .auth_response_handler(|token, _user| {
            JwtResponse::json(Status::Ok, &json!({"mytoken": token}))
        })
        .build()
        .expect("fixture builds");
    let client = client_with(jwt);
    let response = post_auth(&client, r#"{"username":"joe","password":"pass"}"#);
    assert_eq!(response.status(), Status::Ok);
    let body = json_body(response);
    let token = body["mytoken"].as_str().expect("mytoken");
    assert!(body.get("access_token").is_none(), "{body}");
    let response = get_with(&client, "/protected", Some(&format!("JWT {token}")));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("success"));
}

/// Flask-JWT `test_custom_encode_handler`.
#[test]
fn test_custom_encode_handler() {
    let jwt = builder()
        .encode_handler(|_u, codec| {
            codec.encode(&payload(json!({"hello": "world"})), &Payload::new())
        })
        .build()
        .expect("fixture builds");
    let client = client_with(jwt);
    let response = post_auth(&client, r#"{"username":"joe","password":"pass"}"#);
    assert_eq!(response.status(), Status::Ok);
    let body = json_body(response);
    let token = body["access_token"].as_str().expect("access_token");
    let (_, claims) = decode_hs256(token, SECRET);
    assert_eq!(claims, json!({"hello": "world"}));
}

/// Flask-JWT `test_custom_decode_handler`.
#[test]
fn test_custom_decode_handler() {
    let received: Arc<Mutex<Option<Payload>>> = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&received);
    let jwt = builder()
        .identity_handler(move |payload| {
            *seen.lock().expect("not poisoned") = Some(payload.clone());
            (payload.get("user_id")? == 1).then(joe)
        })
        .decode_handler(|_token, _codec| Ok(payload(json!({"user_id": 1}))))
        .build()
        .expect("fixture builds");
    let client = client_with(jwt);
    let token = login(&client);
    let response = get_lower(&client, "/protected", &format!("JWT {token}"));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("success"));
    assert_eq!(
        received.lock().expect("not poisoned").clone(),
        Some(payload(json!({"user_id": 1})))
    );
}

/// Flask-JWT `test_custom_payload_handler`.
#[test]
fn test_custom_payload_handler() {
    let jwt = builder()
        .identity_handler(|payload| (payload.get("id")? == 1).then(joe))
        .payload_handler(|user, _settings| {
            let iat = now();
            payload(json!({"iat": iat, "exp": iat + 60, "nbf": iat, "id": user.id}))
        })
        .build()
        .expect("fixture builds");
    let client = client_with_identity_routes(jwt);
    let token = login(&client);
    let (_, claims) = decode_hs256(&token, SECRET);
    assert_eq!(claims["id"], 1);
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        60
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    let response = get_lower(&client, "/identity", &format!("JWT {token}"));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(json_body(response), json!({"id": 1, "username": "joe"}));
    let response = get_lower(&client, "/protected", &format!("JWT {token}"));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("success"));
}

/// Flask-JWT `test_custom_auth_header`.
#[test]
fn test_custom_auth_header() {
    let jwt = builder()
        .auth_header_prefix("Bearer")
        .build()
        .expect("fixture builds");
    let client = client_with(jwt);
    let token = login(&client);

    let response = get_lower(&client, "/protected", &format!("Bearer {token}"));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("success"));

    let response = get_lower(&client, "/protected", &format!("JWT {token}"));
    assert_error(
        response,
        401,
        "Invalid JWT header",
        "Unsupported authorization type",
    );
}

/// Flask-JWT `test_custom_auth_handler`.
#[test]
fn test_custom_auth_handler() {
    let jwt = Jwt::builder()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .identity_handler(|_| None)
        .auth_request_handler(|_json| Ok(JwtResponse::json(Status::Ok, &json!({"hello": "world"}))))
        .build()
        .expect("an auth request handler replaces the authentication handler");
    let client = client_with(jwt);
    let response = post_auth(&client, "{}");
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(json_body(response), json!({"hello": "world"}));
}
