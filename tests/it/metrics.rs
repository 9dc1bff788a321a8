//! The metrics (`metrics = true`) through Rocket's local client: every protected request counted
//! by route, outcome and reason; the guard's latency; the verified-token cache; session events;
//! the route's access rule; and no series per token: 10,000 distinct forged tokens leave the
//! number of series where it was.

use rocket::http::{Header, Status};
use rocket::local::blocking::Client;
use rocket::serde::json::{json, Value};
use rocket::{get, routes};
use rocket_flask_jwt::jwt_required;

use crate::common::{self, now, sign_hs256, SECRET};

#[jwt_required]
#[get("/items/<id>")]
fn item(id: u32) -> String {
    id.to_string()
}

#[jwt_required(scopes = ["admin"])]
#[get("/admin")]
fn admin() -> &'static str {
    "admin"
}

/// The Flask-JWT fixture with metrics on (readable from the local client, which has no address).
fn client(
    configure: impl FnOnce(
        rocket_flask_jwt::JwtBuilder<common::User>,
    ) -> rocket_flask_jwt::JwtBuilder<common::User>,
) -> Client {
    let jwt = configure(common::builder()).build().expect("valid");
    let figment = rocket::Config::figment()
        .merge(("jwt.metrics", true))
        .merge(("jwt.metrics_allow", Vec::<String>::new()))
        .merge(("log_level", "off"));
    let rocket = rocket::custom(figment)
        .attach(jwt)
        .mount("/", routes![common::protected, item, admin]);
    Client::tracked(rocket).expect("ignites")
}

/// The scrape's text.
fn scrape(client: &Client) -> String {
    let response = client.get("/metrics").dispatch();
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    response.into_string().expect("text")
}

/// The value of the series whose line starts with `series` (name and labels as written).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

/// How many series (sample lines) the scrape holds.
fn series(text: &str) -> usize {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .count()
}

fn get(client: &Client, path: &str, token: &str) -> Status {
    client
        .get(path.to_owned())
        .header(Header::new("Authorization", format!("JWT {token}")))
        .dispatch()
        .status()
}

fn expired() -> String {
    let now = now();
    sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"identity": 1, "iat": now - 600, "nbf": now - 600, "exp": now - 300}),
        SECRET,
    )
}

#[test]
fn requests_are_counted_by_route_outcome_and_reason() {
    let client = client(|builder| builder);
    let token = common::login(&client);
    for _ in 0..3 {
        assert_eq!(get(&client, "/protected", &token), Status::Ok);
    }
    assert_eq!(get(&client, "/items/7", &token), Status::Ok);
    assert_eq!(get(&client, "/items/8", &expired()), Status::Unauthorized);
    assert_eq!(
        get(&client, "/items/9", "not.a.token"),
        Status::Unauthorized
    );
    assert_eq!(
        client.get("/protected").dispatch().status(),
        Status::Unauthorized
    );
    assert_eq!(get(&client, "/admin", &token), Status::Forbidden);
    let text = scrape(&client);
    let requests = |method: &str, route: &str, outcome: &str, reason: &str| {
        value(
            &text,
            &format!(
                "jwt_requests_total{{profile=\"flask_jwt\",method=\"{method}\",route=\"{route}\",outcome=\"{outcome}\",reason=\"{reason}\"}}"
            ),
        )
    };
    assert_eq!(
        requests("GET", "/protected", "authenticated", "none"),
        Some(3.0),
        "{text}"
    );
    // The route template, never the concrete path.
    assert_eq!(
        requests("GET", "/items/<id>", "authenticated", "none"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("GET", "/items/<id>", "refused", "validity_period"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("GET", "/items/<id>", "refused", "well_formed"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("GET", "/protected", "refused", "missing_token"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("GET", "/admin", "refused", "scope"),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("/items/7"), "{text}");
    // The guard's latency: 4 accepted, 4 refused.
    assert_eq!(
        value(
            &text,
            "jwt_guard_duration_seconds_count{profile=\"flask_jwt\",outcome=\"accepted\"}"
        ),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "jwt_guard_duration_seconds_count{profile=\"flask_jwt\",outcome=\"refused\"}"
        ),
        Some(4.0),
        "{text}"
    );
    assert_eq!(value(&text, "jwt_guard_duration_seconds_bucket{profile=\"flask_jwt\",outcome=\"accepted\",le=\"+Inf\"}"), Some(4.0), "{text}");
    // One miss (the first verification), then hits; the login counted.
    assert_eq!(
        value(&text, "jwt_token_cache_misses_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "jwt_token_cache_hits_total"),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "jwt_token_cache_entries{authority=\"default\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(value(&text, "jwt_logins_total"), Some(1.0), "{text}");
}

#[test]
fn forged_tokens_add_no_series() {
    let client = client(|builder| builder);
    let token = common::login(&client);
    assert_eq!(get(&client, "/protected", &token), Status::Ok);
    // One forged token of each kind first, so that every reason they reach has its series.
    let forged = |n: usize| {
        let now = now();
        let claims: Value = json!({"identity": n, "sub": format!("user-{n}"), "jti": format!("jti-{n}"),
                                   "kid": format!("kid-{n}"), "iat": now, "nbf": now, "exp": now + 300});
        sign_hs256(
            &json!({"alg": "HS256", "typ": "JWT", "kid": format!("kid-{n}")}),
            &claims,
            "a forger's secret",
        )
    };
    assert_eq!(get(&client, "/protected", &forged(0)), Status::Unauthorized);
    let before = scrape(&client);
    for n in 1..=10_000 {
        assert_eq!(get(&client, "/protected", &forged(n)), Status::Unauthorized);
    }
    let after = scrape(&client);
    assert_eq!(
        series(&after),
        series(&before),
        "before:\n{before}\nafter:\n{after}"
    );
    assert_eq!(
        value(&after, "jwt_requests_total{profile=\"flask_jwt\",method=\"GET\",route=\"/protected\",outcome=\"refused\",reason=\"signature\"}"),
        Some(10_001.0)
    );
    for secret in ["user-", "jti-", "kid-", "a forger"] {
        assert!(!after.contains(secret), "{secret} leaked into the metrics");
    }
}

#[test]
fn the_metrics_route_answers_only_the_allowed_addresses() {
    // The default rule: loopback only. The local client has no address: refused.
    let jwt = common::builder().build().expect("valid");
    let figment = rocket::Config::figment()
        .merge(("jwt.metrics", true))
        .merge(("jwt.metrics_path", "/internal/metrics"))
        .merge(("log_level", "off"));
    let client = Client::tracked(rocket::custom(figment).attach(jwt)).expect("ignites");
    assert_eq!(
        client.get("/internal/metrics").dispatch().status(),
        Status::Forbidden
    );
    assert_eq!(client.get("/metrics").dispatch().status(), Status::NotFound);
    // Metrics off (the default): no route, nothing counted.
    let off = common::client();
    assert_eq!(off.get("/metrics").dispatch().status(), Status::NotFound);
}

#[test]
fn the_scrape_is_prometheus_text() {
    let client = client(|builder| builder);
    let token = common::login(&client);
    assert_eq!(get(&client, "/protected", &token), Status::Ok);
    let text = scrape(&client);
    for name in [
        "jwt_requests",
        "jwt_guard_duration_seconds",
        "jwt_token_cache_hits",
        "jwt_logins",
        "jwt_refreshes",
        "jwt_logouts",
        "jwt_refresh_token_reuse",
        "jwt_key_rotations",
    ] {
        assert!(text.contains(&format!("# HELP {name}")), "{name}: {text}");
        assert!(text.contains(&format!("# TYPE {name}")), "{name}: {text}");
    }
}

#[test]
fn dpop_refusals_are_counted_by_check() {
    let client = client(|builder| builder.dpop(rocket_flask_jwt::DpopMode::Allowed));
    let token = common::login(&client);
    // An unbound token sent with the DPoP scheme: the binding check refuses it.
    let status = client
        .get("/protected")
        .header(Header::new("Authorization", format!("DPoP {token}")))
        .dispatch()
        .status();
    assert_eq!(status, Status::Unauthorized);
    let text = scrape(&client);
    assert_eq!(
        value(&text, "jwt_dpop_refusals_total{check=\"key_binding\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "jwt_requests_total{profile=\"flask_jwt\",method=\"GET\",route=\"/protected\",outcome=\"refused\",reason=\"dpop\"}"),
        Some(1.0),
        "{text}"
    );
}
