//! Handler shapes that `#[jwt_required]` must accept, each compiled as part of this binary and
//! exercised through Rocket's local client: async with `&State` and a path parameter, a `mut`
//! argument, a realm on a sync GET and an async POST, a `Result` return, a plain sync handler.
//! Each answers its body with a token and refuses a request without one.
//!
//! The misuses the attribute refuses at compile time are the `trybuild` cases of
//! `jwt-macros/tests/ui/fail/`.

use crate::common;
use common::*;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalRequest, LocalResponse};
use rocket::{routes, State};
use rocket_flask_jwt::{current_identity, jwt_required};

// ----- the handlers ------------------------------------------------------------------------------

struct Hits(AtomicU64);

#[jwt_required]
#[rocket::get("/items/<id>")]
async fn async_state_path(hits: &State<Hits>, id: u32) -> String {
    rocket::tokio::task::yield_now().await;
    let user: Arc<User> = current_identity!();
    let count = hits.0.fetch_add(1, Ordering::Relaxed);
    format!("item {id} for user {} (hit {count})", user.id)
}

#[jwt_required]
#[rocket::get("/next/<n>")]
fn mut_argument(mut n: u32) -> String {
    n += 1;
    n.to_string()
}

#[jwt_required(realm = "Admin area")]
#[rocket::get("/admin")]
fn realm_sync() -> &'static str {
    "admin"
}

#[jwt_required(realm = "Staff area")]
#[rocket::post("/staff")]
async fn realm_async() -> &'static str {
    "staff"
}

#[jwt_required]
#[rocket::get("/maybe/<n>")]
fn result_return(n: u32) -> Result<String, Status> {
    if n == 0 {
        Err(Status::NotFound)
    } else {
        Ok(n.to_string())
    }
}

#[jwt_required]
#[rocket::get("/protected-sync")]
fn sync_handler() -> String {
    format!("User(id='{}')", current_identity!(User).id)
}

// ----- the application ---------------------------------------------------------------------------

fn app() -> Client {
    let rocket = rocket_with(builder().build().expect("fixture builds"))
        .manage(Hits(AtomicU64::new(0)))
        .mount(
            "/",
            routes![
                async_state_path,
                mut_argument,
                realm_sync,
                realm_async,
                result_return,
                sync_handler
            ],
        );
    Client::tracked(rocket).expect("valid rocket")
}

/// Sends `request` with `Authorization: JWT <token>`.
fn authorized<'c>(request: LocalRequest<'c>, token: &str) -> LocalResponse<'c> {
    request
        .header(Header::new("Authorization", format!("JWT {token}")))
        .dispatch()
}

fn assert_body(response: LocalResponse<'_>, body: &str) {
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().expect("body"), body);
}

/// A request without a token: 401 with the route's realm in the challenge.
fn assert_refused(response: LocalResponse<'_>, realm: &str) {
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

// ----- the tests ---------------------------------------------------------------------------------

#[test]
fn async_handler_with_state_and_path_parameter() {
    let client = app();
    let token = login(&client);
    assert_body(
        authorized(client.get("/items/7"), &token),
        "item 7 for user 1 (hit 0)",
    );
    assert_body(
        authorized(client.get("/items/8"), &token),
        "item 8 for user 1 (hit 1)",
    );
    assert_refused(client.get("/items/7").dispatch(), "Login Required");
}

#[test]
fn mut_argument_is_kept_mutable() {
    let client = app();
    let token = login(&client);
    assert_body(authorized(client.get("/next/41"), &token), "42");
    assert_refused(client.get("/next/41").dispatch(), "Login Required");
}

#[test]
fn realm_on_sync_get_and_async_post() {
    let client = app();
    let token = login(&client);
    assert_body(authorized(client.get("/admin"), &token), "admin");
    assert_body(authorized(client.post("/staff"), &token), "staff");
    assert_refused(client.get("/admin").dispatch(), "Admin area");
    assert_refused(client.post("/staff").dispatch(), "Staff area");
}

#[test]
fn result_return_passes_both_arms_through() {
    let client = app();
    let token = login(&client);
    assert_body(authorized(client.get("/maybe/3"), &token), "3");
    let not_found = authorized(client.get("/maybe/0"), &token);
    assert_eq!(not_found.status(), Status::NotFound);
    assert_refused(client.get("/maybe/3").dispatch(), "Login Required");
}

#[test]
fn sync_handler_reads_the_identity() {
    let client = app();
    let token = login(&client);
    assert_body(
        authorized(client.get("/protected-sync"), &token),
        "User(id='1')",
    );
    assert_refused(client.get("/protected-sync").dispatch(), "Login Required");
}
