//! Handler shapes that `#[jwt_required]` must accept, each compiled as part of this binary and
//! exercised through Rocket's local client: async with `&State` and a path parameter, a `mut`
//! argument, a realm on a sync GET and an async POST, a `Result` return, a plain sync handler.
//! Each answers its body with a token and refuses a request without one.
//!
//! The route-mode arguments (`refresh`, `fresh`, `optional`, `locations`, `verify_type`, `dpop`,
//! alone and combined with `realm`) on sync and async handlers: each route compiles and mounts, its
//! generated rules are the runtime's constants, and a route that requires a token refuses a
//! request without one. What each mode then accepts is tested with the guard in `jwt_required`.
//!
//! The misuses the attribute refuses at compile time are the `trybuild` cases of
//! `jwt-macros/ui/tests/ui/fail/`.

use crate::common;
use common::*;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocket::http::Method;
use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalRequest, LocalResponse};
use rocket::{routes, State};
use rocket_flask_jwt::{current_identity, extended::Location, jwt_required, DpopMode, Rules};

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

// ----- the route modes ---------------------------------------------------------------------------

#[jwt_required(refresh)]
#[rocket::post("/mode/refresh")]
fn refresh_mode() -> &'static str {
    "refresh"
}

#[jwt_required(fresh)]
#[rocket::get("/mode/fresh")]
async fn fresh_mode() -> &'static str {
    "fresh"
}

#[jwt_required(optional)]
#[rocket::get("/mode/optional")]
fn optional_mode() -> &'static str {
    "optional"
}

#[jwt_required(locations = ["headers"])]
#[rocket::get("/mode/headers-only")]
fn headers_only() -> String {
    format!("User(id='{}')", current_identity!(User).id)
}

#[jwt_required(locations = "cookies")]
#[rocket::post("/mode/cookies-only")]
async fn cookies_only() -> &'static str {
    "cookies"
}

#[jwt_required(verify_type = false)]
#[rocket::get("/mode/any-type")]
fn any_type() -> &'static str {
    "any type"
}

#[jwt_required(
    locations = ["json", "query_string", "cookies", "headers"],
    verify_type = false,
    optional,
    refresh,
    realm = "Refresh area"
)]
#[rocket::post("/mode/combined")]
async fn combined(hits: &State<Hits>) -> String {
    hits.0.fetch_add(1, Ordering::Relaxed).to_string()
}

#[jwt_required(fresh, realm = "Admin area", locations = ["query_string", "headers"])]
#[rocket::get("/mode/fresh-admin/<n>")]
fn fresh_admin(mut n: u32) -> String {
    n *= 2;
    n.to_string()
}

#[jwt_required(dpop = "required")]
#[rocket::get("/mode/dpop-required")]
fn dpop_required() -> &'static str {
    "bound"
}

#[jwt_required(optional, dpop = "allowed", realm = "DPoP area")]
#[rocket::post("/mode/dpop-allowed")]
async fn dpop_allowed() -> &'static str {
    "bound or bearer"
}

/// A route's rules as written in its guard's type, for comparing with what the attribute said.
#[derive(Debug, PartialEq, Eq)]
struct Written {
    realm: Option<&'static str>,
    refresh: bool,
    fresh: bool,
    optional: bool,
    verify_type: bool,
    locations: Option<&'static [Location]>,
    dpop: Option<DpopMode>,
}

impl Written {
    fn of<R: Rules>() -> Written {
        Written {
            realm: R::REALM,
            refresh: R::REFRESH,
            fresh: R::FRESH,
            optional: R::OPTIONAL,
            verify_type: R::VERIFY_TYPE,
            locations: R::LOCATIONS,
            dpop: R::DPOP,
        }
    }

    /// A plain `#[jwt_required]` route's.
    const DEFAULT: Written = Written {
        realm: None,
        refresh: false,
        fresh: false,
        optional: false,
        verify_type: true,
        locations: None,
        dpop: None,
    };
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
                sync_handler,
                refresh_mode,
                fresh_mode,
                optional_mode,
                headers_only,
                cookies_only,
                any_type,
                combined,
                fresh_admin,
                dpop_required,
                dpop_allowed
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

#[test]
fn route_modes_are_written_as_the_runtimes_rules() {
    use Location::*;
    assert_eq!(
        Written::of::<__jwt_rules_refresh_mode>(),
        Written {
            refresh: true,
            ..Written::DEFAULT
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_fresh_mode>(),
        Written {
            fresh: true,
            ..Written::DEFAULT
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_optional_mode>(),
        Written {
            optional: true,
            ..Written::DEFAULT
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_headers_only>(),
        Written {
            locations: Some(&[Headers]),
            ..Written::DEFAULT
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_cookies_only>(),
        Written {
            locations: Some(&[Cookies]),
            ..Written::DEFAULT
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_any_type>(),
        Written {
            verify_type: false,
            ..Written::DEFAULT
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_combined>(),
        Written {
            realm: Some("Refresh area"),
            refresh: true,
            fresh: false,
            optional: true,
            verify_type: false,
            locations: Some(&[Json, QueryString, Cookies, Headers]),
            dpop: None,
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_fresh_admin>(),
        Written {
            realm: Some("Admin area"),
            fresh: true,
            locations: Some(&[QueryString, Headers]),
            ..Written::DEFAULT
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_dpop_required>(),
        Written {
            dpop: Some(DpopMode::Required),
            ..Written::DEFAULT
        }
    );
    assert_eq!(
        Written::of::<__jwt_rules_dpop_allowed>(),
        Written {
            realm: Some("DPoP area"),
            optional: true,
            dpop: Some(DpopMode::Allowed),
            ..Written::DEFAULT
        }
    );
}

#[test]
fn route_modes_mount() {
    let client = app();
    let mounted: Vec<(Method, String)> = client
        .rocket()
        .routes()
        .map(|route| (route.method, route.uri.to_string()))
        .collect();
    for (method, uri) in [
        (Method::Post, "/mode/refresh"),
        (Method::Get, "/mode/fresh"),
        (Method::Get, "/mode/optional"),
        (Method::Get, "/mode/headers-only"),
        (Method::Post, "/mode/cookies-only"),
        (Method::Get, "/mode/any-type"),
        (Method::Post, "/mode/combined"),
        (Method::Get, "/mode/fresh-admin/<n>"),
        (Method::Get, "/mode/dpop-required"),
        (Method::Post, "/mode/dpop-allowed"),
    ] {
        assert!(
            mounted.contains(&(method, uri.to_string())),
            "{method} {uri} is not among {mounted:?}"
        );
    }
}

#[test]
fn required_modes_refuse_a_request_without_a_token() {
    let client = app();
    for request in [
        client.post("/mode/refresh"),
        client.get("/mode/fresh"),
        client.get("/mode/headers-only"),
        client.post("/mode/cookies-only"),
        client.get("/mode/any-type"),
        client.get("/mode/fresh-admin/21"),
        client.get("/mode/dpop-required"),
    ] {
        let uri = request.inner().uri().to_string();
        assert_eq!(request.dispatch().status(), Status::Unauthorized, "{uri}");
    }
}

#[test]
fn a_headers_only_route_takes_the_authorization_header() {
    let client = app();
    let token = login(&client);
    assert_body(
        authorized(client.get("/mode/headers-only"), &token),
        "User(id='1')",
    );
}
