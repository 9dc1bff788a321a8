//! The Flask-JWT-Extended profile through Rocket's local client: token types, every route mode
//! (refresh, fresh, optional, locations, verify_type) and every token location, on the example
//! application (`examples/extended.rs`) and on small applications of hand-written guards.

use crate::extended_example;

use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{get, post, routes};
use rocket_flask_jwt::{
    extended::Location, identity::get_jwt_identity, identity::get_jwt_location, jwt_required,
    optional_identity, settings::Secret, Jwt, JwtAuth, JwtResponse, Optional, Profile, Refresh,
    Rules, Settings,
};
use serde_json::{json, Value};

/// The example application, tracking cookies.
pub fn client() -> Client {
    Client::tracked(crate::common::with_test_secret(extended_example::rocket()))
        .expect("the example ignites")
}

/// A client that does not keep cookies between requests.
pub fn untracked() -> Client {
    Client::untracked(crate::common::with_test_secret(extended_example::rocket()))
        .expect("the example ignites")
}

/// `POST /login` as user1: its access (fresh) and refresh tokens.
pub fn login(client: &Client) -> (String, String) {
    let body = client
        .post("/login")
        .header(ContentType::JSON)
        .body(r#"{"username": "user1", "password": "abcxyz"}"#)
        .dispatch()
        .into_json::<Value>()
        .expect("a JSON answer");
    (
        body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned(),
        body["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned(),
    )
}

/// `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

/// Status and JSON body.
pub fn answer(response: LocalResponse<'_>) -> (u16, Value) {
    let status = response.status().code;
    let body = response.into_json::<Value>().unwrap_or(Value::Null);
    (status, body)
}

fn msg(text: &str) -> Value {
    json!({ "msg": text })
}

#[test]
fn login_issues_a_fresh_access_token_and_a_refresh_token() {
    let client = untracked();
    let (access, refresh) = login(&client);
    let claims = answer(client.get("/claims").header(bearer(&access)).dispatch());
    assert_eq!(
        claims,
        (
            200,
            json!({"sub": "user1", "type": "access", "fresh": true})
        )
    );
    let (status, body) = answer(client.get("/claims").header(bearer(&refresh)).dispatch());
    assert_eq!(status, 422);
    assert_eq!(body, msg("Only non-refresh tokens are allowed"));
    let bad = client
        .post("/login")
        .header(ContentType::JSON)
        .body(r#"{"username": "user1", "password": "nope"}"#)
        .dispatch();
    assert_eq!(answer(bad), (401, msg("Bad username or password")));
}

#[test]
fn refresh_takes_only_refresh_tokens_and_gives_a_non_fresh_access_token() {
    let client = untracked();
    let (access, refresh) = login(&client);
    let refused = answer(client.post("/refresh").header(bearer(&access)).dispatch());
    assert_eq!(refused, (422, msg("Only refresh tokens are allowed")));
    let (status, body) = answer(client.post("/refresh").header(bearer(&refresh)).dispatch());
    assert_eq!(status, 200);
    let renewed = body["access_token"].as_str().expect("a new access token");
    let claims = answer(client.get("/claims").header(bearer(renewed)).dispatch());
    assert_eq!(
        claims,
        (
            200,
            json!({"sub": "user1", "type": "access", "fresh": false})
        )
    );
    assert_eq!(
        answer(client.get("/fresh").header(bearer(renewed)).dispatch()),
        (401, msg("Fresh token required"))
    );
    assert_eq!(
        answer(client.get("/fresh").header(bearer(&access)).dispatch()),
        (200, json!({"fresh": true, "logged_in_as": "user1"}))
    );
    assert_eq!(
        answer(client.get("/fresh").header(bearer(&refresh)).dispatch()),
        (422, msg("Only non-refresh tokens are allowed")),
        "the type check comes before the fresh check"
    );
}

#[test]
fn optional_routes_see_no_identity_as_null_but_refuse_bad_tokens() {
    let client = untracked();
    let (access, _) = login(&client);
    assert_eq!(
        answer(client.get("/optional").dispatch()),
        (200, json!({"logged_in_as": null}))
    );
    assert_eq!(
        answer(client.get("/optional").header(bearer(&access)).dispatch()),
        (200, json!({"logged_in_as": "user1"}))
    );
    let (status, _) = answer(client.get("/optional").header(bearer("abc")).dispatch());
    assert_eq!(status, 422, "a token that is present must be valid");
}

#[test]
fn every_location_carries_a_token() {
    let client = untracked();
    let (access, _) = login(&client);
    let expected = (200, json!({"logged_in_as": "user1"}));
    assert_eq!(
        answer(client.get("/protected").header(bearer(&access)).dispatch()),
        expected
    );
    assert_eq!(
        answer(client.get(format!("/protected?jwt={access}")).dispatch()),
        expected
    );
    assert_eq!(
        answer(
            client
                .get("/protected")
                .header(ContentType::JSON)
                .body(json!({ "access_token": access }).to_string())
                .dispatch()
        ),
        expected
    );
    assert_eq!(
        answer(
            client
                .get("/protected")
                .cookie(Cookie::new("access_token_cookie", access.clone()))
                .dispatch()
        ),
        expected
    );
    let missing = answer(client.get("/protected").dispatch());
    assert_eq!(
        missing,
        (
            401,
            msg(
                "Missing JWT in headers, cookies, query_string or json (Missing Authorization \
                 Header; Missing cookie \"access_token_cookie\"; Missing 'jwt' query paramater; \
                 Invalid content-type. Must be application/json.)"
            )
        )
    );
}

#[test]
fn a_json_body_is_read_up_to_512_bytes() {
    let client = untracked();
    let (access, _) = login(&client);
    let padding = "x".repeat(600);
    let long = json!({ "access_token": access, "padding": padding }).to_string();
    assert!(long.len() > 512);
    let (status, body) = answer(
        client
            .get("/protected")
            .header(ContentType::JSON)
            .body(long)
            .dispatch(),
    );
    assert_eq!(status, 401);
    assert!(
        body["msg"]
            .as_str()
            .is_some_and(|text| text.contains("only JSON bodies of up to 512 bytes")),
        "{body}"
    );
}

#[test]
fn a_route_restricted_to_headers_ignores_the_other_locations() {
    let client = untracked();
    let (access, _) = login(&client);
    let cookie_only = client
        .get("/headers-only")
        .cookie(Cookie::new("access_token_cookie", access.clone()))
        .dispatch();
    assert_eq!(
        answer(cookie_only),
        (401, msg("Missing Authorization Header"))
    );
    assert_eq!(
        answer(
            client
                .get("/headers-only")
                .header(bearer(&access))
                .dispatch()
        ),
        (200, json!({"logged_in_as": "user1"}))
    );
}

#[test]
fn cookies_log_in_protect_state_changes_with_csrf_and_log_out() {
    let client = client();
    let login = client
        .post("/login/cookies")
        .header(ContentType::JSON)
        .body(r#"{"username": "user1", "password": "abcxyz"}"#)
        .dispatch();
    assert_eq!(login.status(), Status::Ok);
    let csrf = client
        .cookies()
        .get("csrf_access_token")
        .expect("the CSRF cookie")
        .value()
        .to_owned();
    assert_eq!(
        answer(client.get("/protected").dispatch()),
        (200, json!({"logged_in_as": "user1"}))
    );
    assert_eq!(
        answer(client.post("/protected").dispatch()),
        (401, msg("Missing CSRF token"))
    );
    assert_eq!(
        answer(
            client
                .post("/protected")
                .header(Header::new("X-CSRF-TOKEN", "wrong"))
                .dispatch()
        ),
        (401, msg("CSRF double submit tokens do not match"))
    );
    assert_eq!(
        answer(
            client
                .post("/protected")
                .header(Header::new("X-CSRF-TOKEN", csrf.clone()))
                .dispatch()
        ),
        (200, json!({"logged_in_as": "user1"}))
    );
    let refresh_csrf = client
        .cookies()
        .get("csrf_refresh_token")
        .expect("the refresh CSRF cookie")
        .value()
        .to_owned();
    let (status, _) = answer(
        client
            .post("/refresh")
            .header(Header::new("X-CSRF-TOKEN", refresh_csrf))
            .dispatch(),
    );
    assert_eq!(status, 200);
    assert_eq!(
        answer(client.post("/logout/cookies").dispatch()),
        (200, json!({"logout": true}))
    );
    let (status, _) = answer(client.get("/protected").dispatch());
    assert_eq!(status, 401, "logged out");
}

#[test]
fn the_user_lookup_gives_the_identity_and_refuses_unknown_users() {
    let client = untracked();
    let (access, _) = login(&client);
    assert_eq!(
        answer(client.get("/user").header(bearer(&access)).dispatch()),
        (200, json!({"id": 1, "username": "user1"}))
    );
    let stranger = crate::common::sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "user3", "type": "access", "fresh": false,
                "iat": crate::common::now(), "exp": crate::common::now() + 60}),
        crate::common::SECRET,
    );
    for path in ["/user", "/protected", "/optional"] {
        assert_eq!(
            answer(client.get(path).header(bearer(&stranger)).dispatch()),
            (401, msg("Error loading the user user3")),
            "{path}"
        );
    }
}

// ----- hand-written guards and attribute combinations ----------------------------------------

/// Both token types, from cookies or the JSON body only.
struct EitherType;
impl Rules for EitherType {
    const REFRESH: bool = true;
    const VERIFY_TYPE: bool = false;
}

#[get("/either")]
fn either(auth: JwtAuth<EitherType>) -> Result<String, JwtResponse> {
    let location = auth.location();
    auth.run_sync(|| format!("{:?} {:?}", get_jwt_identity(), location))
}

#[get("/maybe")]
fn maybe(auth: JwtAuth<Optional>) -> Result<String, JwtResponse> {
    let claims = auth.claims();
    auth.run_sync(|| {
        format!(
            "{} {:?} {}",
            optional_identity!(String).map_or("nobody".into(), |who| who.to_string()),
            get_jwt_location(),
            claims.is_some()
        )
    })
}

#[post("/renew")]
fn renew(auth: JwtAuth<Refresh>) -> Result<String, JwtResponse> {
    auth.run_sync(|| "renewed".to_owned())
}

#[jwt_required(locations = ["query_string"], verify_type = false, realm = "Query")]
#[get("/query")]
fn query_only() -> String {
    format!("{:?}", get_jwt_location())
}

fn hand_written() -> Client {
    let jwt = Jwt::builder()
        .extended()
        .secret_key(crate::common::SECRET)
        .allow_short_secret(true)
        .token_location([Location::Headers, Location::Cookies])
        .identity_from_claim(|sub| sub.as_str().map(str::to_owned))
        .refresh_url_rule("/token/refresh")
        .build()
        .expect("valid configuration");
    let rocket = rocket::build()
        .attach(jwt)
        .mount("/", routes![either, maybe, renew, query_only]);
    Client::untracked(rocket).expect("valid rocket")
}

#[test]
fn hand_written_guards_give_the_same_modes() {
    let client = hand_written();
    let (access, refresh) = login(&untracked());
    let either = |token: &str| {
        client
            .get("/either")
            .header(bearer(token))
            .dispatch()
            .into_string()
    };
    assert_eq!(
        either(&access).as_deref(),
        Some("Some(String(\"user1\")) Some(Headers)")
    );
    assert_eq!(
        either(&refresh).as_deref(),
        Some("Some(String(\"user1\")) Some(Headers)"),
        "verify_type = false takes both types"
    );
    assert_eq!(
        client.get("/maybe").dispatch().into_string().as_deref(),
        Some("nobody None false")
    );
    assert_eq!(
        client
            .get("/maybe")
            .cookie(Cookie::new("access_token_cookie", access.clone()))
            .dispatch()
            .into_string()
            .as_deref(),
        Some("user1 Some(Cookies) true")
    );
    let renew = client.post("/renew").header(bearer(&access)).dispatch();
    assert_eq!(answer(renew), (422, msg("Only refresh tokens are allowed")));
    assert_eq!(
        client
            .post("/renew")
            .header(bearer(&refresh))
            .dispatch()
            .into_string()
            .as_deref(),
        Some("renewed")
    );
    assert_eq!(
        client
            .get(format!("/query?jwt={refresh}"))
            .dispatch()
            .into_string()
            .as_deref(),
        Some("Some(QueryString)"),
        "the attribute's locations replace the configured ones"
    );
    assert_eq!(
        answer(client.get("/query").header(bearer(&access)).dispatch()),
        (401, msg("Missing 'jwt' query paramater"))
    );
}

#[test]
fn the_built_in_refresh_resource_renews_access_tokens() {
    let client = hand_written();
    let (access, refresh) = login(&untracked());
    let (status, body) = answer(
        client
            .post("/token/refresh")
            .header(bearer(&refresh))
            .dispatch(),
    );
    assert_eq!(status, 200);
    assert!(body["access_token"].is_string(), "{body}");
    assert_eq!(
        answer(
            client
                .post("/token/refresh")
                .header(bearer(&access))
                .dispatch()
        ),
        (422, msg("Only refresh tokens are allowed"))
    );
    let (status, _) = answer(client.post("/token/refresh").dispatch());
    assert_eq!(status, 401);
}

#[test]
fn the_profile_can_come_from_rocket_s_configuration() {
    let figment = rocket::Config::figment()
        .merge(("jwt.profile", "extended"))
        .merge(("jwt.secret_key", "a secret of at least thirty-two bytes"));
    let jwt = Jwt::builder()
        .identity_from_claim(|sub| sub.as_str().map(str::to_owned))
        .disable_auth_url_rule()
        .build()
        .expect("valid configuration");
    let client = Client::untracked(
        rocket::custom(figment)
            .attach(jwt)
            .mount("/", routes![either]),
    )
    .expect("valid rocket");
    let (status, body) = answer(client.get("/either").dispatch());
    assert_eq!((status, body), (401, msg("Missing Authorization Header")));
}

#[post("/form", data = "<form>")]
fn form_route(auth: JwtAuth, form: String) -> Result<String, JwtResponse> {
    auth.run_sync(|| format!("{} bytes", form.len()))
}

#[test]
fn the_csrf_value_can_come_from_a_form_field() {
    let jwt = Jwt::builder()
        .settings(Settings {
            secret_key: Some(Secret::new(crate::common::SECRET)),
            allow_short_secret: true,
            token_location: vec![Location::Cookies],
            csrf_check_form: true,
            ..Settings::for_profile(Profile::Extended)
        })
        .build()
        .expect("valid configuration");
    let client = Client::untracked(rocket::build().attach(jwt).mount("/", routes![form_route]))
        .expect("valid rocket");
    let (access, _) = login(&untracked());
    let csrf = crate::extended_security::csrf_of(&access);
    let post = |body: String| {
        client
            .post("/form")
            .header(ContentType::Form)
            .cookie(Cookie::new("access_token_cookie", access.clone()))
            .body(body)
            .dispatch()
    };
    let accepted = post(format!("a=1&csrf_token={csrf}"));
    assert_eq!(accepted.status(), Status::Ok);
    assert_eq!(answer(post("a=1".into())), (401, msg("Missing CSRF token")));
    assert_eq!(
        answer(post("csrf_token=nope".into())),
        (401, msg("CSRF double submit tokens do not match"))
    );
}
