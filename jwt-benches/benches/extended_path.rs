//! The extended profile's request path against its bare twin, through Rocket's in-process client
//! (no sockets), for an instruction count under callgrind (`scripts/bench-instructions.sh`) and a
//! timing (`cargo bench -p jwt-benches --bench extended_path`).
//!
//! Scenarios, each `ITERS` requests (default 2,000) after a warm-up:
//! - `bare_get`: `GET /bare`, no guard;
//! - `header_get`: `GET /protected` with `Authorization: Bearer <token>` (verified-token cache on);
//! - `bare_post`: `POST /bare`, no guard;
//! - `cookie_post`: `POST /protected` with the access cookie and its `X-CSRF-TOKEN` (cache on);
//! - `scoped_get`: `GET /scoped`, as `header_get` on a route that needs the `read:messages` scope
//!   (the token has it), to compare with `header_get`;
//! - `revocation_get`: `header_get` on an instance with revocation on Redis (`REDIS_URL`, a running
//!   server; the scenario is skipped without it), its near-cache warm, to compare with
//!   `header_get`.
//!
//! `SCENARIO=<name>` runs one scenario only (for callgrind, with
//! `--toggle-collect='*extended_path*scenario*'`); without it every scenario runs and its time per
//! request is printed.

use std::hint::black_box;
use std::time::Instant;

use rocket::http::{Cookie, Header};
use rocket::local::asynchronous::Client;
use rocket::{get, post, routes};
use rocket_flask_jwt_runtime::{
    extended::Location, identity::get_jwt_identity, settings::Secret, validation::TokenCodec, Jwt,
    JwtAuth, JwtResponse, Payload, Profile, Rules, Settings,
};

/// An HS256 secret of 32 bytes or more (test value only).
const SECRET: &str = "bench-secret-bench-secret-bench-secret";
const CSRF: &str = "5b0f4f43-6a1d-4d1e-9c11-0b1a2c3d4e5f";

#[get("/protected")]
fn protected(auth: JwtAuth) -> Result<String, JwtResponse> {
    auth.run_sync(|| format!("{:?}", get_jwt_identity()))
}

#[post("/protected")]
fn protected_post(auth: JwtAuth) -> Result<String, JwtResponse> {
    auth.run_sync(|| format!("{:?}", get_jwt_identity()))
}

/// A route that needs the `read:messages` scope.
struct ReadMessages;
impl Rules for ReadMessages {
    const SCOPES: &'static [&'static str] = &["read:messages"];
}

#[get("/scoped")]
fn scoped(auth: JwtAuth<ReadMessages>) -> Result<String, JwtResponse> {
    auth.run_sync(|| format!("{:?}", get_jwt_identity()))
}

#[get("/bare")]
fn bare() -> String {
    format!("{:?}", Some(serde_json::Value::from("bench-user")))
}

#[post("/bare")]
fn bare_post() -> String {
    format!("{:?}", Some(serde_json::Value::from("bench-user")))
}

fn settings() -> Settings {
    Settings {
        secret_key: Some(Secret::new(SECRET)),
        token_location: vec![Location::Headers, Location::Cookies],
        ..Settings::for_profile(Profile::Extended)
    }
}

fn token() -> String {
    let codec = TokenCodec::new(settings()).expect("valid settings");
    let mut claims = codec.default_payload("bench-user".into());
    claims.insert("type".into(), "access".into());
    claims.insert("fresh".into(), false.into());
    claims.insert("jti".into(), "bench-jti".into());
    claims.insert("csrf".into(), CSRF.into());
    claims.insert("scope".into(), "openid read:messages".into());
    codec
        .encode(&claims, &Payload::new())
        .expect("signing with the bench secret")
}

/// One request of `scenario`, its body's length (so that nothing is optimised away).
#[inline(never)]
async fn scenario(client: &Client, revocation: Option<&Client>, name: &str, token: &str) -> usize {
    // (the application, POST with the access cookie or GET with the header, the route)
    let (app, cookie, path) = match name {
        "bare_get" => (client, false, "/bare"),
        "header_get" => (client, false, "/protected"),
        "revocation_get" => (
            revocation.expect("REDIS_URL names a Redis server"),
            false,
            "/protected",
        ),
        "scoped_get" => (client, false, "/scoped"),
        "bare_post" => (client, true, "/bare"),
        "cookie_post" => (client, true, "/protected"),
        other => panic!("unknown scenario {other:?}"),
    };
    let response = if cookie {
        app.post(path)
            .cookie(Cookie::new("access_token_cookie", token.to_owned()))
            .header(Header::new("X-CSRF-TOKEN", CSRF))
            .dispatch()
            .await
    } else {
        app.get(path)
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await
    };
    assert_eq!(response.status().code, 200, "{name}");
    response.into_string().await.map_or(0, |body| body.len())
}

fn main() {
    let iterations: usize = std::env::var("ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let only = std::env::var("SCENARIO").ok();
    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let jwt = Jwt::builder()
            .settings(settings())
            .build()
            .expect("valid configuration");
        let rocket = rocket::custom(rocket::Config {
            log_level: rocket::config::LogLevel::Off,
            ..rocket::Config::debug_default()
        })
        .attach(jwt)
        .mount(
            "/",
            routes![protected, protected_post, scoped, bare, bare_post],
        );
        let client = Client::untracked(rocket).await.expect("valid rocket");
        let revocation = match std::env::var("REDIS_URL") {
            Ok(url) => {
                let jwt = Jwt::builder()
                    .settings(settings())
                    .redis_url(url)
                    .build()
                    .expect("valid configuration");
                let rocket = rocket::custom(rocket::Config {
                    log_level: rocket::config::LogLevel::Off,
                    ..rocket::Config::debug_default()
                })
                .attach(jwt)
                .mount("/", routes![protected]);
                Some(Client::untracked(rocket).await.expect("valid rocket"))
            }
            Err(_) => None,
        };
        let token = token();
        let names = [
            "bare_get",
            "header_get",
            "scoped_get",
            "revocation_get",
            "bare_post",
            "cookie_post",
        ];
        for name in names {
            if only.as_deref().is_some_and(|only| only != name)
                || (name == "revocation_get" && revocation.is_none())
            {
                continue;
            }
            for _ in 0..50 {
                black_box(scenario(&client, revocation.as_ref(), name, &token).await);
            }
            let start = Instant::now();
            for _ in 0..iterations {
                black_box(scenario(&client, revocation.as_ref(), name, &token).await);
            }
            let per_request = start.elapsed() / iterations as u32;
            println!("{name}: {per_request:?} per request ({iterations} requests)");
        }
    });
}
