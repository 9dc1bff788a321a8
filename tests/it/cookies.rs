//! The cookie helpers end to end through Rocket's local client: the exact `Set-Cookie` lines of
//! every helper, and of the attribute settings given through Rocket's configuration, compared with
//! Flask-JWT-Extended 4.7.1's (werkzeug 3.1 formats them; the expected lines below are what
//! `response.headers.getlist("Set-Cookie")` printed there, the token values aside), and how the
//! lines live alongside the application's own cookies, refusals and catchers. Each attribute
//! setting on its own (`cookie_secure`, `cookie_samesite`, `cookie_domain`, `session_cookie`, the
//! CSRF cookie switches) is pinned line by line by the unit tests of the runtime's `cookies`
//! module; here the first four arrive together from the configuration.

use crate::common;
use common::*;

use std::time::Duration;

use rocket::figment::Figment;
use rocket::http::{Cookie, CookieJar, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{routes, Build, Rocket};
use rocket_flask_jwt::{extended::JwtCookies, jwt_required, JwtResponse};
use serde_json::json;

// ----- application -------------------------------------------------------------------------------

const CSRF: &str = "1e1397f4-f303-4fc9-ac85-658321932405";
const REFRESH_CSRF: &str = "c32454ff-0c3d-4836-94e0-574e1520f935";

/// An access token with a `csrf` claim, as Flask-JWT-Extended issues them.
fn access_token() -> String {
    let now = now();
    token_for(&json!({
        "fresh": false, "iat": now, "jti": "a", "type": "access", "sub": "user1",
        "nbf": now, "csrf": CSRF, "exp": now + 900
    }))
}

fn refresh_token() -> String {
    let now = now();
    token_for(&json!({
        "fresh": false, "iat": now, "jti": "r", "type": "refresh", "sub": "user1",
        "nbf": now, "csrf": REFRESH_CSRF, "exp": now + 3600
    }))
}

/// `/login/cookies`: the access and refresh cookies for the two tokens of the body.
#[rocket::post("/login/cookies", data = "<tokens>")]
fn login(cookies: JwtCookies<'_>, tokens: &str) -> Result<&'static str, JwtResponse> {
    let (access, refresh) = tokens.split_once(' ').unwrap_or((tokens, tokens));
    cookies.set_access_cookies(access)?;
    cookies.set_refresh_cookies(refresh)?;
    Ok(r#"{"login": true}"#)
}

#[rocket::post("/access?<max_age>&<domain>", data = "<token>")]
fn access(
    cookies: JwtCookies<'_>,
    token: &str,
    max_age: Option<u64>,
    domain: Option<&str>,
) -> Result<&'static str, JwtResponse> {
    cookies.set_access_cookies_with(token, max_age.map(Duration::from_secs), domain)?;
    Ok("set")
}

#[rocket::post("/refresh?<max_age>&<domain>", data = "<token>")]
fn refresh(
    cookies: JwtCookies<'_>,
    token: &str,
    max_age: Option<u64>,
    domain: Option<&str>,
) -> Result<&'static str, JwtResponse> {
    cookies.set_refresh_cookies_with(token, max_age.map(Duration::from_secs), domain)?;
    Ok("set")
}

#[rocket::post("/logout/cookies?<domain>")]
fn logout(cookies: JwtCookies<'_>, domain: Option<&str>) -> Result<&'static str, JwtResponse> {
    cookies.unset_jwt_cookies_with(domain)?;
    Ok(r#"{"logout": true}"#)
}

#[rocket::post("/logout/access")]
fn logout_access(cookies: JwtCookies<'_>) -> Result<&'static str, JwtResponse> {
    cookies.unset_access_cookies()?;
    Ok("unset")
}

#[rocket::post("/logout/refresh?<domain>")]
fn logout_refresh(
    cookies: JwtCookies<'_>,
    domain: Option<&str>,
) -> Result<&'static str, JwtResponse> {
    cookies.unset_refresh_cookies_with(domain)?;
    Ok("unset")
}

/// Sets the access cookies, then reads them back from the jar as pending cookies.
#[rocket::post("/pending", data = "<token>")]
fn pending(
    cookies: JwtCookies<'_>,
    jar: &CookieJar<'_>,
    token: &str,
) -> Result<String, JwtResponse> {
    cookies.set_access_cookies(token)?;
    let value = |name: &str| jar.get_pending(name).map(|c| c.value().to_owned());
    let set = (value("access_token_cookie"), value("csrf_access_token"));
    cookies.unset_refresh_cookies()?;
    let unset = value("refresh_token_cookie");
    Ok(format!("{set:?} {unset:?}"))
}

/// The application's own cookie beside the JWT cookies.
#[rocket::post("/mixed", data = "<token>")]
fn mixed(
    cookies: JwtCookies<'_>,
    jar: &CookieJar<'_>,
    token: &str,
) -> Result<&'static str, JwtResponse> {
    jar.add(Cookie::new("theme", "dark"));
    cookies.set_access_cookies(token)?;
    Ok("mixed")
}

/// Sets the access cookies, then the application writes its own access cookie.
#[rocket::post("/overridden", data = "<token>")]
fn overridden(
    cookies: JwtCookies<'_>,
    jar: &CookieJar<'_>,
    token: &str,
) -> Result<&'static str, JwtResponse> {
    cookies.set_access_cookies(token)?;
    jar.add(Cookie::new("access_token_cookie", "mine"));
    Ok("overridden")
}

/// Sets, then unsets, in one request.
#[rocket::post("/set-then-unset", data = "<token>")]
fn set_then_unset(cookies: JwtCookies<'_>, token: &str) -> Result<&'static str, JwtResponse> {
    cookies.set_access_cookies(token)?;
    cookies.unset_access_cookies()?;
    Ok("unset")
}

/// Sets the cookies, then fails: a catcher answers.
#[rocket::post("/fails", data = "<token>")]
fn fails(cookies: JwtCookies<'_>, token: &str) -> Result<&'static str, Status> {
    cookies
        .set_access_cookies(token)
        .map_err(|_| Status::InternalServerError)?;
    Err(Status::BadRequest)
}

/// A protected route that would set the cookies: refused without a token.
#[jwt_required]
#[rocket::post("/protected/cookies", data = "<token>")]
fn protected_cookies(cookies: JwtCookies<'_>, token: &str) -> Result<&'static str, JwtResponse> {
    cookies.set_access_cookies(token)?;
    Ok("set")
}

fn app(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(builder().build().expect("fixture builds"))
        .mount(
            "/",
            routes![
                login,
                access,
                refresh,
                logout,
                logout_access,
                logout_refresh,
                pending,
                mixed,
                overridden,
                set_then_unset,
                fails,
                protected_cookies
            ],
        )
}

/// The application with `jwt` settings from Rocket's configuration.
fn client_with_settings(settings: &[(&str, serde_json::Value)]) -> Client {
    let mut figment = Figment::from(rocket::Config::debug_default()).merge(("log_level", "off"));
    for (key, value) in settings {
        figment = figment.merge((format!("jwt.{key}"), value.clone()));
    }
    Client::tracked(app(figment)).expect("valid rocket")
}

fn client_with_defaults() -> Client {
    client_with_settings(&[])
}

/// The response's `Set-Cookie` lines, with the tokens written `<access>` / `<refresh>` (an
/// empty token is not looked for).
fn set_cookie_lines(response: &LocalResponse<'_>, access: &str, refresh: &str) -> Vec<String> {
    let substitute = |line: &str, token: &str, name: &str| match token {
        "" => line.to_owned(),
        token => line.replace(token, name),
    };
    response
        .headers()
        .get("Set-Cookie")
        .map(|line| substitute(&substitute(line, access, "<access>"), refresh, "<refresh>"))
        .collect()
}

fn post<'c>(client: &'c Client, uri: &str, body: &str) -> LocalResponse<'c> {
    client.post(uri.to_owned()).body(body).dispatch()
}

/// `Expires` of a line with a max-age of `seconds`, set between the Unix times `before` and
/// `after`, is werkzeug's `now + max_age`.
fn assert_expires_in(line: &str, seconds: i64, before: i64, after: i64) {
    let expires = line
        .split("; ")
        .find_map(|attribute| attribute.strip_prefix("Expires="))
        .unwrap_or_else(|| panic!("no Expires in {line}"));
    let expires = rocket::time::PrimitiveDateTime::parse(
        expires,
        &rocket::time::format_description::parse_borrowed::<1>(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
        )
        .expect("valid format"),
    )
    .expect("an HTTP date")
    .assume_utc()
    .unix_timestamp();
    assert!(
        (before + seconds..=after + seconds).contains(&expires),
        "{line}: expires at {expires}, not {seconds} s after [{before}, {after}]"
    );
}

/// Every line of `lines` with its `Expires` value replaced by `<expires>`.
fn without_expires(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            line.split("; ")
                .map(|attribute| match attribute.strip_prefix("Expires=") {
                    Some(_) => "Expires=<expires>",
                    None => attribute,
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect()
}

// ----- defaults ----------------------------------------------------------------------------------

#[test]
fn login_sets_the_four_cookies_as_flask_jwt_extended_does() {
    let client = client_with_defaults();
    let (access, refresh) = (access_token(), refresh_token());
    let response = post(&client, "/login/cookies", &format!("{access} {refresh}"));
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        set_cookie_lines(&response, &access, &refresh),
        [
            "access_token_cookie=<access>; HttpOnly; Path=/".to_string(),
            format!("csrf_access_token={CSRF}; Path=/"),
            "refresh_token_cookie=<refresh>; HttpOnly; Path=/".to_string(),
            format!("csrf_refresh_token={REFRESH_CSRF}; Path=/"),
        ]
    );
}

#[test]
fn logout_unsets_the_four_cookies_as_flask_jwt_extended_does() {
    let client = client_with_defaults();
    let response = client.post("/logout/cookies").dispatch();
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        set_cookie_lines(&response, "", ""),
        [
            "access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/",
            "csrf_access_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
            "refresh_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/",
            "csrf_refresh_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
        ]
    );
    // The same when the request carries the cookies.
    let response = client
        .post("/logout/cookies")
        .cookie(Cookie::new("access_token_cookie", access_token()))
        .cookie(Cookie::new("csrf_access_token", CSRF))
        .dispatch();
    assert_eq!(response.headers().get("Set-Cookie").count(), 4);
    assert_eq!(
        response.headers().get_one("Set-Cookie"),
        Some("access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/")
    );
}

#[test]
fn unset_access_and_refresh_alone() {
    let client = client_with_defaults();
    let response = client.post("/logout/access").dispatch();
    assert_eq!(
        set_cookie_lines(&response, "", ""),
        [
            "access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/",
            "csrf_access_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
        ]
    );
    let response = client.post("/logout/refresh?domain=other.org").dispatch();
    assert_eq!(
        set_cookie_lines(&response, "", ""),
        [
            "refresh_token_cookie=; Domain=other.org; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/",
            "csrf_refresh_token=; Domain=other.org; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
        ]
    );
}

#[test]
fn max_age_and_domain_arguments() {
    let client = client_with_defaults();
    let access = access_token();
    let before = now();
    let response = post(&client, "/access?max_age=60", &access);
    let after = now();
    let lines = set_cookie_lines(&response, &access, "");
    assert_eq!(
        without_expires(&lines),
        [
            "access_token_cookie=<access>; Expires=<expires>; Max-Age=60; HttpOnly; Path=/"
                .to_string(),
            format!("csrf_access_token={CSRF}; Expires=<expires>; Max-Age=60; Path=/"),
        ]
    );
    for line in &lines {
        assert_expires_in(line, 60, before, after);
    }

    // Flask-JWT-Extended's `max_age or ...`: zero is the setting (a session cookie).
    let response = post(&client, "/access?max_age=0&domain=other.org", &access);
    assert_eq!(
        set_cookie_lines(&response, &access, ""),
        [
            "access_token_cookie=<access>; Domain=other.org; HttpOnly; Path=/".to_string(),
            format!("csrf_access_token={CSRF}; Domain=other.org; Path=/"),
        ]
    );

    let refresh = refresh_token();
    let response = post(&client, "/refresh?domain=.other.org", &refresh);
    assert_eq!(
        set_cookie_lines(&response, "", &refresh),
        [
            "refresh_token_cookie=<refresh>; Domain=other.org; HttpOnly; Path=/".to_string(),
            format!("csrf_refresh_token={REFRESH_CSRF}; Domain=other.org; Path=/"),
        ]
    );
}

// ----- settings ----------------------------------------------------------------------------------

#[test]
fn every_attribute_at_once() {
    let client = client_with_settings(&[
        ("cookie_secure", json!(true)),
        ("cookie_samesite", json!("None")),
        ("cookie_domain", json!("example.com")),
        ("session_cookie", json!(false)),
    ]);
    let access = access_token();
    let before = now();
    let response = post(&client, "/access", &access);
    let after = now();
    let lines = set_cookie_lines(&response, &access, "");
    assert_eq!(
        without_expires(&lines),
        [
            "access_token_cookie=<access>; Domain=example.com; Expires=<expires>; Max-Age=31540000; Secure; HttpOnly; Path=/; SameSite=None".to_string(),
            format!("csrf_access_token={CSRF}; Domain=example.com; Expires=<expires>; Max-Age=31540000; Secure; Path=/; SameSite=None"),
        ]
    );
    // session_cookie = false: a year from the current time.
    for line in &lines {
        assert_expires_in(line, 31_540_000, before, after);
    }
    let response = client.post("/logout/cookies").dispatch();
    assert_eq!(
        set_cookie_lines(&response, "", ""),
        [
            "access_token_cookie=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; Path=/; SameSite=None",
            "csrf_access_token=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; Path=/; SameSite=None",
            "refresh_token_cookie=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; Path=/; SameSite=None",
            "csrf_refresh_token=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; Path=/; SameSite=None",
        ]
    );
}

#[test]
fn custom_names_and_paths() {
    let client = client_with_settings(&[
        ("access_cookie_name", json!("a")),
        ("access_cookie_path", json!("/api/")),
        ("access_csrf_cookie_name", json!("ca")),
        ("access_csrf_cookie_path", json!("/c/")),
        ("refresh_cookie_name", json!("r")),
        ("refresh_cookie_path", json!("/token/refresh")),
        ("refresh_csrf_cookie_name", json!("cr")),
        ("refresh_csrf_cookie_path", json!("/cr/")),
    ]);
    let (access, refresh) = (access_token(), refresh_token());
    let response = post(&client, "/login/cookies", &format!("{access} {refresh}"));
    assert_eq!(
        set_cookie_lines(&response, &access, &refresh),
        [
            "a=<access>; HttpOnly; Path=/api/".to_string(),
            format!("ca={CSRF}; Path=/c/"),
            "r=<refresh>; HttpOnly; Path=/token/refresh".to_string(),
            format!("cr={REFRESH_CSRF}; Path=/cr/"),
        ]
    );
    let response = client.post("/logout/cookies").dispatch();
    assert_eq!(
        set_cookie_lines(&response, "", ""),
        [
            "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/api/",
            "ca=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/c/",
            "r=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/token/refresh",
            "cr=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/cr/",
        ]
    );
}

// ----- the jar, the application's cookies, refusals and catchers -----------------------------

#[test]
fn the_cookies_are_pending_in_rockets_jar() {
    let client = client_with_defaults();
    let access = access_token();
    let response = post(&client, "/pending", &access);
    assert_eq!(
        response.into_string().as_deref(),
        Some(format!(r#"(Some("{access}"), Some("{CSRF}")) Some("")"#).as_str())
    );
}

#[test]
fn the_applications_own_cookies_keep_rockets_format_and_come_first() {
    let client = client_with_defaults();
    let access = access_token();
    let response = post(&client, "/mixed", &access);
    assert_eq!(
        set_cookie_lines(&response, &access, ""),
        [
            "theme=dark; SameSite=Strict; Path=/".to_string(),
            "access_token_cookie=<access>; HttpOnly; Path=/".to_string(),
            format!("csrf_access_token={CSRF}; Path=/"),
        ]
    );
}

#[test]
fn a_cookie_the_application_writes_over_is_left_as_it_wrote_it() {
    let client = client_with_defaults();
    let access = access_token();
    let mut lines = set_cookie_lines(&post(&client, "/overridden", &access), &access, "");
    lines.sort();
    assert_eq!(
        lines,
        [
            "access_token_cookie=mine; SameSite=Strict; Path=/".to_string(),
            format!("csrf_access_token={CSRF}; Path=/"),
        ]
    );
}

#[test]
fn the_last_helper_call_for_a_cookie_wins() {
    let client = client_with_defaults();
    let response = post(&client, "/set-then-unset", &access_token());
    assert_eq!(
        set_cookie_lines(&response, "", ""),
        [
            "access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/",
            "csrf_access_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
        ]
    );
}

#[test]
fn an_error_answered_by_a_catcher_sends_no_cookies() {
    let client = client_with_defaults();
    let response = post(&client, "/fails", &access_token());
    assert_eq!(response.status(), Status::BadRequest);
    assert_eq!(response.headers().get("Set-Cookie").count(), 0);
}

#[test]
fn a_refused_request_gets_the_refusal_and_no_cookies() {
    let client = client_with_defaults();
    let response = post(&client, "/protected/cookies", &access_token());
    assert_eq!(response.headers().get("Set-Cookie").count(), 0);
    assert_error(
        response,
        401,
        "Authorization Required",
        "Request does not contain an access token",
    );
    // With a valid Flask-JWT token the handler runs and sets them.
    let token = token_for(&claims(json!(1)));
    let access = access_token();
    let response = client
        .post("/protected/cookies")
        .header(Header::new("Authorization", format!("JWT {token}")))
        .body(access.clone())
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        set_cookie_lines(&response, &access, ""),
        [
            "access_token_cookie=<access>; HttpOnly; Path=/".to_string(),
            format!("csrf_access_token={CSRF}; Path=/"),
        ]
    );
}

#[test]
fn a_token_without_a_csrf_claim_is_an_error_and_sets_nothing() {
    let client = client_with_defaults();
    let plain = token_for(&json!({"sub": "user1"}));
    let response = post(&client, "/access", &plain);
    assert_eq!(response.status(), Status::InternalServerError);
    assert_eq!(response.headers().get("Set-Cookie").count(), 0);
    let body = response.into_string().unwrap_or_default();
    assert!(body.contains("csrf"), "{body}");
    assert!(!body.contains(&plain), "the token is not echoed: {body}");
}

#[test]
fn without_the_fairing_the_guard_fails_with_500() {
    let rocket = rocket::custom(rocket::Config::debug_default()).mount("/", routes![logout]);
    let client = Client::tracked(rocket).expect("valid rocket");
    let response = client.post("/logout/cookies").dispatch();
    assert_eq!(response.status(), Status::InternalServerError);
    assert_eq!(response.headers().get("Set-Cookie").count(), 0);
}
