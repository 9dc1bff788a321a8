//! The Flask-JWT profile's request path against its bare twin, through Rocket's in-process client
//! (no sockets), for an instruction count under callgrind (`scripts/bench-instructions.sh`): the
//! count of one commit compares with another's on any machine, busy or not.
//!
//! Scenarios, each `ITERS` requests (default 2,000) after 50 of warm-up: `bare_get` (`GET /bare`)
//! and `jwt_get` (`GET /protected`, `Authorization: JWT <token>`, HS256, verified-token cache on,
//! a sync identity callback), both sending the same header. `SCENARIO=<name>` runs one.
//! Written against the API every stage of the runtime has, so that it builds on older commits.

use std::hint::black_box;
use std::time::Instant;

use rocket::http::Header;
use rocket::local::asynchronous::Client;
use rocket::{get, routes};
use rocket_flask_jwt_runtime::{
    settings::Secret, validation::TokenCodec, Jwt, JwtAuth, JwtResponse, Payload, Settings,
};

/// An HS256 secret of 32 bytes or more (test value only).
const SECRET: &str = "bench-secret-bench-secret-bench-secret";

struct User(u64);

#[get("/protected")]
fn protected(auth: JwtAuth) -> Result<String, JwtResponse> {
    let user = auth.identity::<User>();
    auth.run_sync(|| format!("User(id='{}')", user.map_or(0, |user| user_id(&user))))
}

/// The id of whatever `JwtAuth::identity` gives on this commit (`Arc<User>`, or an `Option` of it).
fn user_id(user: &dyn HasId) -> u64 {
    user.id()
}

trait HasId {
    fn id(&self) -> u64;
}

impl HasId for std::sync::Arc<User> {
    fn id(&self) -> u64 {
        self.0
    }
}

impl HasId for Option<std::sync::Arc<User>> {
    fn id(&self) -> u64 {
        self.as_ref().map_or(0, |user| user.0)
    }
}

#[get("/bare")]
fn bare() -> String {
    format!("User(id='{}')", black_box(1))
}

fn settings() -> Settings {
    Settings {
        secret_key: Some(Secret::new(SECRET)),
        auth_url_rule: None,
        ..Settings::default()
    }
}

#[inline(never)]
async fn scenario(client: &Client, name: &str, header: &str) -> usize {
    let path = match name {
        "bare_get" => "/bare",
        "jwt_get" => "/protected",
        other => panic!("unknown scenario {other:?}"),
    };
    let response = client
        .get(path)
        .header(Header::new("Authorization", header.to_owned()))
        .dispatch()
        .await;
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
            .identity_handler(|payload: &Payload| Some(User(payload.get("identity")?.as_u64()?)))
            .build()
            .expect("valid configuration");
        let rocket = rocket::custom(rocket::Config {
            log_level: rocket::config::LogLevel::Off,
            ..rocket::Config::debug_default()
        })
        .attach(jwt)
        .mount("/", routes![protected, bare]);
        let client = Client::untracked(rocket).await.expect("valid rocket");
        let codec = TokenCodec::new(settings()).expect("valid settings");
        let token = codec
            .encode(&codec.default_payload(1.into()), &Payload::new())
            .expect("signing with the bench secret");
        let header = format!("JWT {token}");
        for name in ["bare_get", "jwt_get"] {
            if only.as_deref().is_some_and(|only| only != name) {
                continue;
            }
            for _ in 0..50 {
                black_box(scenario(&client, name, &header).await);
            }
            let start = Instant::now();
            for _ in 0..iterations {
                black_box(scenario(&client, name, &header).await);
            }
            let per_request = start.elapsed() / iterations as u32;
            println!("{name}: {per_request:?} per request ({iterations} requests)");
        }
    });
}
