//! Authentication decides first: a request that fails it gets the JWT error answer (the error
//! callback's, with the route's realm) before any other guard of the route runs and without its
//! body being read — whatever the other guards, the body, the catchers; by the attribute and by
//! hand alike. Requests with a valid token behave as before.

use crate::common;
use common::*;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::{Client, LocalRequest, LocalResponse};
use rocket::request::{self, FromRequest, Request};
use rocket::serde::json::Json;
use rocket::serde::Deserialize;
use rocket::{catch, catchers, get, post, routes};
use rocket_flask_jwt::{current_identity, jwt_required, Jwt, JwtAuth, JwtResponse, Rules};

// ----- application -------------------------------------------------------------------------------

/// How many times the other guards ran, per application.
#[derive(Default)]
struct Runs {
    tenant: AtomicUsize,
    upload: AtomicUsize,
}

fn runs<'r>(request: &'r Request<'_>) -> &'r Runs {
    request.rocket().state::<Runs>().expect("Runs is managed")
}

/// A request guard that fails (400) without an `X-Tenant` header.
struct Tenant(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Tenant {
    type Error = &'static str;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        runs(request).tenant.fetch_add(1, Ordering::SeqCst);
        match request.headers().get_one("X-Tenant") {
            Some(tenant) => request::Outcome::Success(Tenant(tenant.to_owned())),
            None => request::Outcome::Error((Status::BadRequest, "no X-Tenant header")),
        }
    }
}

/// A data guard that reads the whole body (up to 64 MiB) and records that it ran.
struct Upload(usize);

#[rocket::async_trait]
impl<'r> FromData<'r> for Upload {
    type Error = std::io::Error;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        runs(request).upload.fetch_add(1, Ordering::SeqCst);
        match data.open(64.mebibytes()).into_bytes().await {
            Ok(bytes) => data::Outcome::Success(Upload(bytes.len())),
            Err(error) => data::Outcome::Error((Status::BadRequest, error)),
        }
    }
}

#[derive(Deserialize)]
#[serde(crate = "rocket::serde")]
struct Order {
    item: String,
}

#[jwt_required(realm = "Orders")]
#[get("/tenant")]
fn tenant(tenant: Tenant) -> String {
    format!("{} for {}", current_identity!(User).username, tenant.0)
}

#[jwt_required(realm = "Orders")]
#[post("/orders", format = "json", data = "<order>")]
fn create_order(order: Json<Order>) -> String {
    format!(
        "{} ordered {}",
        current_identity!(User).username,
        order.item
    )
}

#[jwt_required]
#[post("/upload", data = "<upload>")]
async fn upload(upload: Upload) -> String {
    tokio::task::yield_now().await;
    format!("{} uploaded {}", current_identity!(User).username, upload.0)
}

struct OrdersRealm;

impl Rules for OrdersRealm {
    const REALM: Option<&'static str> = Some("Orders");
}

fn username() -> String {
    current_identity!(User).username.clone()
}

/// `tenant` written by hand: the guard first, the body run by `run_sync`.
#[get("/by-hand/tenant")]
fn tenant_by_hand(auth: JwtAuth<OrdersRealm>, tenant: Tenant) -> Result<String, JwtResponse> {
    auth.run_sync(|| format!("{} for {}", username(), tenant.0))
}

/// `upload` written by hand: the guard first, the body run by `run`.
#[post("/by-hand/upload", data = "<upload>")]
async fn upload_by_hand(auth: JwtAuth, upload: Upload) -> Result<String, JwtResponse> {
    auth.run(async move {
        tokio::task::yield_now().await;
        format!("{} uploaded {}", username(), upload.0)
    })
    .await
}

/// `Option<JwtAuth>` does not make authentication optional (documented on `JwtAuth`).
#[get("/optional")]
fn optional(auth: Option<JwtAuth>) -> String {
    format!("guard succeeded: {}", auth.is_some())
}

#[catch(401)]
fn html_401() -> (ContentType, &'static str) {
    (ContentType::HTML, "<h1>the application's own 401 page</h1>")
}

#[catch(default)]
fn html_default() -> (ContentType, &'static str) {
    (
        ContentType::HTML,
        "<h1>the application's own error page</h1>",
    )
}

fn app(jwt: Jwt<User>) -> Client {
    let rocket = rocket_with(jwt).manage(Runs::default()).mount(
        "/",
        routes![
            tenant,
            create_order,
            upload,
            tenant_by_hand,
            upload_by_hand,
            optional
        ],
    );
    Client::tracked(rocket).expect("valid rocket")
}

fn fixture() -> Client {
    app(builder().build().expect("fixture builds"))
}

fn tenant_runs(client: &Client) -> usize {
    let runs = client.rocket().state::<Runs>().expect("Runs is managed");
    runs.tenant.load(Ordering::SeqCst)
}

fn upload_runs(client: &Client) -> usize {
    let runs = client.rocket().state::<Runs>().expect("Runs is managed");
    runs.upload.load(Ordering::SeqCst)
}

fn with_token<'c>(request: LocalRequest<'c>, token: &str) -> LocalRequest<'c> {
    request.header(Header::new("Authorization", format!("JWT {token}")))
}

/// Flask-JWT's answer to a request without a token, with the challenge for `realm`.
fn assert_authorization_required(response: LocalResponse<'_>, realm: &str) {
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(format!(r#"JWT realm="{realm}""#).as_str())
    );
    assert_error(
        response,
        401,
        "Authorization Required",
        "Request does not contain an access token",
    );
}

// ----- a second request guard ----------------------------------------------------------------------

#[test]
fn a_failing_second_guard_does_not_run_without_a_token() {
    let client = fixture();
    for path in ["/tenant", "/by-hand/tenant"] {
        assert_authorization_required(client.get(path).dispatch(), "Orders");
        let response = client
            .get(path)
            .header(Header::new("Authorization", "JWT abc"))
            .dispatch();
        assert_error(response, 401, "Invalid token", "Not enough segments");
    }
    assert_eq!(tenant_runs(&client), 0, "the tenant guard never ran");
}

#[test]
fn a_second_guard_decides_as_before_with_a_valid_token() {
    let client = fixture();
    let token = login(&client);
    for path in ["/tenant", "/by-hand/tenant"] {
        let response = with_token(client.get(path), &token).dispatch();
        assert_eq!(
            response.status(),
            Status::BadRequest,
            "the tenant guard's 400"
        );
        assert_eq!(response.content_type(), Some(ContentType::HTML));

        let response = with_token(client.get(path), &token)
            .header(Header::new("X-Tenant", "acme"))
            .dispatch();
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(response.into_string().as_deref(), Some("joe for acme"));
    }
    assert_eq!(tenant_runs(&client), 4);
}

// ----- the body ------------------------------------------------------------------------------------

#[test]
fn a_malformed_json_body_without_a_token_is_the_jwt_error() {
    let client = fixture();
    for body in [r#"{"item": "#, "not json", ""] {
        let response = client
            .post("/orders")
            .header(ContentType::JSON)
            .body(body)
            .dispatch();
        assert_authorization_required(response, "Orders");
    }
}

#[test]
fn a_json_body_is_parsed_as_before_with_a_valid_token() {
    let client = fixture();
    let token = login(&client);
    let response = with_token(client.post("/orders"), &token)
        .header(ContentType::JSON)
        .body(r#"{"item": "#)
        .dispatch();
    assert_eq!(response.status(), Status::BadRequest, "Rocket's JSON error");
    let response = with_token(client.post("/orders"), &token)
        .header(ContentType::JSON)
        .body(r#"{"item": "tea"}"#)
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("joe ordered tea"));
}

#[test]
fn a_large_body_without_a_token_is_never_read() {
    let client = fixture();
    let body = vec![b'x'; 8 * 1024 * 1024];
    for path in ["/upload", "/by-hand/upload"] {
        let response = client.post(path).body(&body).dispatch();
        assert_authorization_required(response, "Login Required");
        let expired = token_for(&serde_json::json!({
            "identity": 1, "iat": now() - 400, "nbf": now() - 400, "exp": now() - 60
        }));
        let response = with_token(client.post(path), &expired)
            .body(&body)
            .dispatch();
        assert_error(response, 401, "Invalid token", "Signature has expired");
    }
    assert_eq!(upload_runs(&client), 0, "the body was never read");

    let token = login(&client);
    for (path, expected) in [
        ("/upload", "joe uploaded 8388608"),
        ("/by-hand/upload", "joe uploaded 8388608"),
    ] {
        let response = with_token(client.post(path), &token).body(&body).dispatch();
        assert_eq!(response.into_string().as_deref(), Some(expected));
    }
    assert_eq!(upload_runs(&client), 2);
}

// ----- the answer ----------------------------------------------------------------------------------

#[test]
fn the_error_callbacks_status_body_and_headers_are_sent() {
    let jwt = builder()
        .error_handler(|error| {
            JwtResponse::text(Status::Forbidden, format!("denied: {}", error.description))
                .with_header("X-Error", error.error.to_string())
        })
        .build()
        .expect("builds");
    let client = app(jwt);
    for path in ["/tenant", "/by-hand/tenant"] {
        let response = client.get(path).dispatch();
        assert_eq!(response.status(), Status::Forbidden);
        assert_eq!(response.content_type(), Some(ContentType::Text));
        assert_eq!(
            response.headers().get_one("X-Error"),
            Some("Authorization Required")
        );
        assert!(response.headers().get_one("WWW-Authenticate").is_none());
        assert_eq!(
            response.into_string().as_deref(),
            Some("denied: Request does not contain an access token")
        );
    }
    assert_eq!(tenant_runs(&client), 0);
}

#[test]
fn an_error_callback_may_answer_a_redirect_without_a_body() {
    let jwt = builder()
        .error_handler(|_| JwtResponse::new(Status::SeeOther).with_header("Location", "/login"))
        .build()
        .expect("builds");
    let client = app(jwt);
    let response = client.get("/tenant").dispatch();
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(response.headers().get_one("Location"), Some("/login"));
    assert_eq!(response.content_type(), None, "no catcher's Content-Type");
    assert_eq!(response.into_string().as_deref(), Some(""));
    assert_eq!(tenant_runs(&client), 0);
}

#[test]
fn the_applications_catchers_do_not_replace_the_jwt_error() {
    let rocket = rocket_with(builder().build().expect("fixture builds"))
        .manage(Runs::default())
        .mount("/", routes![tenant])
        .register("/", catchers![html_401, html_default]);
    let client = Client::tracked(rocket).expect("valid rocket");
    assert_authorization_required(client.get("/tenant").dispatch(), "Orders");

    // Everything else still reaches the application's catchers.
    let response = client.get("/nowhere").dispatch();
    assert_eq!(response.status(), Status::NotFound);
    assert_eq!(
        response.into_string().as_deref(),
        Some("<h1>the application's own error page</h1>")
    );
    let token = login(&client);
    let response = with_token(client.get("/tenant"), &token).dispatch();
    assert_eq!(response.status(), Status::BadRequest);
    assert_eq!(
        response.into_string().as_deref(),
        Some("<h1>the application's own error page</h1>")
    );
}

#[test]
fn the_answer_keeps_the_headers_other_fairings_add() {
    let client = fixture();
    let response = client.get("/tenant").dispatch();
    assert_eq!(response.status(), Status::Unauthorized);
    // Rocket's Shield fairing, attached by default, answers every response with these.
    assert_eq!(
        response.headers().get_one("X-Content-Type-Options"),
        Some("nosniff")
    );
    assert_eq!(
        response.headers().get("Content-Type").count(),
        1,
        "one Content-Type"
    );
}

#[test]
fn a_head_request_gets_the_jwt_status_and_headers() {
    let client = fixture();
    let response = client.head("/tenant").dispatch();
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(r#"JWT realm="Orders""#)
    );
    assert_eq!(response.into_string().as_deref(), Some(""));
}

#[test]
fn an_optional_guard_still_answers_the_jwt_error() {
    let client = fixture();
    assert_authorization_required(client.get("/optional").dispatch(), "Login Required");
    let token = login(&client);
    let response = with_token(client.get("/optional"), &token).dispatch();
    assert_eq!(
        response.into_string().as_deref(),
        Some("guard succeeded: true")
    );
}

// ----- by hand ---------------------------------------------------------------------------------

#[test]
fn a_hand_written_handler_gives_the_identity_to_what_it_calls() {
    let client = fixture();
    let token = login(&client);
    let response = with_token(client.get("/by-hand/tenant"), &token)
        .header(Header::new("X-Tenant", "acme"))
        .dispatch();
    assert_eq!(response.into_string().as_deref(), Some("joe for acme"));
    let identity: Option<Arc<User>> =
        rocket_flask_jwt::identity::try_current_identity::<User>().ok();
    assert!(identity.is_none(), "no identity outside the request");
}
