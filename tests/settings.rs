//! Every Flask-JWT setting, set through the builder and through Rocket's configuration (the `jwt`
//! table of the figment), plus one `JWT_*` environment variable; ignition and `build()` failures.
//!
//! Tests run in parallel threads of one process and every ignition reads the `JWT_*` environment
//! variables, so only `default_realm_in_the_challenge` sets one that is a setting
//! (`JWT_DEFAULT_REALM`), and no other test asserts on the realm; `unknown_settings_are_warned_about`
//! sets one that is no setting, which other ignitions only warn about. The forms of every setting
//! in the environment are tested beside the settings, in the runtime's unit tests.
//!
//! Every client here is built after the capturing logger is installed, so that tests can assert
//! what ignition logs.

mod common;
use common::*;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rocket::figment::providers::Serialized;
use rocket::figment::Figment;
use rocket::http::{ContentType, Method, Status};
use rocket::local::blocking::Client;
use rocket::routes;
use rocket_flask_jwt::{Algorithm, BuildError, Jwt, JwtBuilder};
use serde_json::{json, Value};
use sha2::Sha512;

// ----- helpers -------------------------------------------------------------------------------

/// Rocket's debug configuration, to merge `jwt.*` values into.
fn figment() -> Figment {
    Figment::from(rocket::Config::debug_default())
}

fn ignite(figment: Figment, jwt: Jwt<User>) -> Result<Client, Box<rocket::Error>> {
    logs::install();
    let rocket = rocket::custom(figment)
        .attach(jwt)
        .mount("/", routes![protected]);
    Client::tracked(rocket).map_err(Box::new)
}

/// The shared fixture's client for `jwt`, built after the capturing logger is installed.
fn client_with(jwt: Jwt<User>) -> Client {
    logs::install();
    common::client_with(jwt)
}

/// The shared fixture's client, built after the capturing logger is installed.
fn client() -> Client {
    logs::install();
    common::client()
}

/// A client from `figment` and the builder `jwt`.
fn configured(figment: Figment, jwt: JwtBuilder<User>) -> Client {
    ignite(figment, jwt.build().expect("builds")).expect("valid rocket")
}

/// The fixture's callbacks without a secret (and the fixture's 12-byte secret allowed).
fn bare() -> JwtBuilder<User> {
    Jwt::builder()
        .allow_short_secret(true)
        .authentication_handler(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
}

fn segment(token: &str, index: usize) -> Vec<u8> {
    let part = token.split('.').nth(index).expect("segment");
    URL_SAFE_NO_PAD.decode(part).expect("base64url")
}

fn issued_claims(client: &Client) -> Value {
    serde_json::from_slice(&segment(&login(client), 1)).expect("json claims")
}

fn claim(claims: &Value, name: &str) -> i64 {
    claims[name].as_i64().expect("integer claim")
}

fn get_protected<'c>(
    client: &'c Client,
    token: &str,
) -> rocket::local::blocking::LocalResponse<'c> {
    get_with(client, "/protected", Some(&format!("JWT {token}")))
}

fn assert_accepted(client: &Client, token: &str) {
    let response = get_protected(client, token);
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().expect("body"), "success");
}

fn assert_rejected(client: &Client, token: &str, description: &str) {
    assert_error(
        get_protected(client, token),
        401,
        "Invalid token",
        description,
    );
}

/// Asserts that ignition failed because of this library's fairing.
fn assert_ignition_fails(result: Result<Client, Box<rocket::Error>>) {
    match result {
        Ok(_) => panic!("ignition should fail"),
        Err(error) => match error.kind() {
            rocket::error::ErrorKind::FailedFairings(failed) => {
                assert!(
                    failed.iter().any(|info| info.name == "Flask-JWT"),
                    "{failed:?}"
                );
            }
            other => panic!("unexpected ignition error {other:?}"),
        },
    }
}

fn expired_by(seconds: i64) -> Value {
    let now = now();
    json!({"identity": 1, "iat": now - 300, "nbf": now - 300, "exp": now - seconds})
}

fn wrong_key_token() -> String {
    sign_hs256(
        &json!({"typ": "JWT", "alg": "HS256"}),
        &claims(json!(1)),
        "not-the-secret",
    )
}

fn sign_hs512(claims: &Value, secret: &str) -> String {
    let header = json!({"typ": "JWT", "alg": "HS512"});
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("json")),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("json"))
    );
    let mut mac = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    format!(
        "{message}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// Removes an environment variable when dropped, even if the test fails.
struct EnvVar(&'static str);

impl EnvVar {
    fn set(name: &'static str, value: &str) -> Self {
        // SAFETY: the tests of this binary run on parallel threads, and read the environment
        // through `std::env` (Rocket's figment), which std orders with this write. Only C code
        // calling `getenv` meanwhile could race (aws-lc does, once, at its first use): the risk
        // these tests took before edition 2024 made `set_var` unsafe, unchanged.
        unsafe { std::env::set_var(name, value) };
        EnvVar(name)
    }
}

impl Drop for EnvVar {
    fn drop(&mut self) {
        // SAFETY: as in `EnvVar::set`.
        unsafe { std::env::remove_var(self.0) };
    }
}

// ----- secret_key ----------------------------------------------------------------------------

#[test]
fn secret_key_from_configuration_instead_of_code() {
    let client = configured(figment().merge(("jwt.secret_key", SECRET)), bare());
    let token = login(&client);
    assert_accepted(&client, &token);
    assert_accepted(&client, &token_for(&claims(json!(1))));
    assert_rejected(&client, &wrong_key_token(), "Signature verification failed");
}

#[test]
fn configuration_wins_over_the_builder() {
    let jwt = bare()
        .secret_key("secret-in-code")
        .expiration_delta(Duration::from_secs(5))
        .leeway(Duration::from_secs(100));
    let figment = figment()
        .merge(("jwt.secret_key", SECRET))
        .merge(("jwt.expiration_delta", 60))
        .merge(("jwt.leeway", 0));
    let client = configured(figment, jwt);
    // The configured secret signs and verifies.
    assert_accepted(&client, &token_for(&claims(json!(1))));
    let code_token = sign_hs256(
        &json!({"typ": "JWT", "alg": "HS256"}),
        &claims(json!(1)),
        "secret-in-code",
    );
    assert_rejected(&client, &code_token, "Signature verification failed");
    // The configured lifetime and leeway apply.
    let claims = issued_claims(&client);
    assert_eq!(claim(&claims, "exp") - claim(&claims, "iat"), 60);
    assert_rejected(&client, &token_for(&expired_by(2)), "Signature has expired");
}

#[test]
fn builder_settings_apply_when_configuration_is_silent() {
    let jwt = builder().expiration_delta(Duration::from_secs(42));
    let client = configured(figment().merge(("jwt.leeway", 3)), jwt);
    let claims = issued_claims(&client);
    assert_eq!(claim(&claims, "exp") - claim(&claims, "iat"), 42);
}

// ----- expiration_delta and not_before_delta ---------------------------------------------------

#[test]
fn expiration_delta_through_builder_and_configuration() {
    let client = client_with(
        builder()
            .expiration_delta(Duration::from_secs(60))
            .build()
            .expect("builds"),
    );
    let claims = issued_claims(&client);
    assert_eq!(claim(&claims, "exp") - claim(&claims, "iat"), 60);
    assert_eq!(claim(&claims, "nbf"), claim(&claims, "iat"));

    let client = configured(figment().merge(("jwt.expiration_delta", 60)), builder());
    let claims = issued_claims(&client);
    assert_eq!(claim(&claims, "exp") - claim(&claims, "iat"), 60);

    let client = configured(figment().merge(("jwt.expiration_delta", 86_400)), builder());
    let claims = issued_claims(&client);
    assert_eq!(claim(&claims, "exp") - claim(&claims, "iat"), 86_400);
}

#[test]
fn not_before_delta_through_builder_and_configuration() {
    let client = client_with(
        builder()
            .not_before_delta(Duration::from_secs(5))
            .build()
            .expect("builds"),
    );
    let claims = issued_claims(&client);
    assert_eq!(claim(&claims, "nbf") - claim(&claims, "iat"), 5);
    assert_eq!(claim(&claims, "exp") - claim(&claims, "iat"), 300);

    let client = configured(figment().merge(("jwt.not_before_delta", 7)), builder());
    let token = login(&client);
    let claims: Value = serde_json::from_slice(&segment(&token, 1)).expect("json");
    assert_eq!(claim(&claims, "nbf") - claim(&claims, "iat"), 7);
    // 7 s in the future is inside the default 10 s leeway.
    assert_accepted(&client, &token);

    let client = configured(figment().merge(("jwt.not_before_delta", 120)), builder());
    let token = login(&client);
    assert_rejected(&client, &token, "The token is not yet valid (nbf)");
}

// ----- leeway -------------------------------------------------------------------------------

#[test]
fn leeway_through_builder() {
    let token = token_for(&expired_by(2));
    let strict = client_with(builder().leeway(Duration::ZERO).build().expect("builds"));
    assert_rejected(&strict, &token, "Signature has expired");
    let lenient = client_with(
        builder()
            .leeway(Duration::from_secs(10))
            .build()
            .expect("builds"),
    );
    assert_accepted(&lenient, &token);
}

#[test]
fn leeway_through_configuration() {
    let token = token_for(&expired_by(2));
    let strict = configured(figment().merge(("jwt.leeway", 0)), builder());
    assert_rejected(&strict, &token, "Signature has expired");
    let lenient = configured(figment().merge(("jwt.leeway", 10)), builder());
    assert_accepted(&lenient, &token);
    // The leeway covers nbf and iat as well.
    let now = now();
    let early = token_for(&json!({"identity": 1, "iat": now, "nbf": now + 30, "exp": now + 300}));
    let wide = configured(figment().merge(("jwt.leeway", 60)), builder());
    assert_accepted(&wide, &early);
    assert_rejected(&strict, &early, "The token is not yet valid (nbf)");
}

// ----- verify, verify_expiration, verify_claims, required_claims --------------------------------

#[test]
fn verify_expiration_false_accepts_expired_tokens() {
    let token = token_for(&expired_by(1000));
    let default = client();
    assert_rejected(&default, &token, "Signature has expired");

    let client = client_with(builder().verify_expiration(false).build().expect("builds"));
    assert_accepted(&client, &token);
    // Other checks still run.
    assert_rejected(&client, &wrong_key_token(), "Signature verification failed");

    let client = configured(figment().merge(("jwt.verify_expiration", false)), builder());
    assert_accepted(&client, &token);
}

#[test]
fn verify_false_accepts_tampered_tokens() {
    let tampered = wrong_key_token();
    let expired = token_for(&expired_by(1000));
    let client = client_with(builder().verify(false).build().expect("builds"));
    assert_accepted(&client, &tampered);
    assert_accepted(&client, &expired);

    let client = configured(figment().merge(("jwt.verify", false)), builder());
    assert_accepted(&client, &tampered);
    assert_accepted(&client, &expired);
    // The identity callback still decides who the token belongs to.
    let stranger = sign_hs256(
        &json!({"typ": "JWT", "alg": "HS256"}),
        &claims(json!(99)),
        "x",
    );
    assert_error(
        get_protected(&client, &stranger),
        401,
        "Invalid JWT",
        "User does not exist",
    );
}

#[test]
fn verify_claims_without_signature_accepts_a_bad_signature() {
    let bad_signature = wrong_key_token();
    let expired_bad_signature = sign_hs256(
        &json!({"typ": "JWT", "alg": "HS256"}),
        &expired_by(1000),
        "not-the-secret",
    );
    let client = client_with(
        builder()
            .verify_claims(["exp", "nbf", "iat"])
            .build()
            .expect("builds"),
    );
    assert_accepted(&client, &bad_signature);
    assert_rejected(&client, &expired_bad_signature, "Signature has expired");

    let client = configured(
        figment().merge(("jwt.verify_claims", ["exp", "nbf", "iat"])),
        builder(),
    );
    assert_accepted(&client, &bad_signature);
    assert_rejected(&client, &expired_bad_signature, "Signature has expired");

    // Dropping `exp` from the list stops the expiry check only.
    let client = configured(
        figment().merge(("jwt.verify_claims", ["signature", "nbf", "iat"])),
        builder(),
    );
    assert_accepted(&client, &token_for(&expired_by(1000)));
    assert_rejected(&client, &bad_signature, "Signature verification failed");
}

#[test]
fn narrowed_required_claims_accept_a_token_without_nbf() {
    let now = now();
    let without_nbf = token_for(&json!({"identity": 1, "iat": now, "exp": now + 300}));
    let without_exp = token_for(&json!({"identity": 1, "iat": now, "nbf": now}));
    assert_rejected(
        &client(),
        &without_nbf,
        "Token is missing the \"nbf\" claim",
    );

    let client = client_with(
        builder()
            .required_claims(["exp", "iat"])
            .build()
            .expect("builds"),
    );
    assert_accepted(&client, &without_nbf);
    assert_rejected(&client, &without_exp, "Token is missing the \"exp\" claim");

    let client = configured(
        figment().merge(("jwt.required_claims", ["exp", "iat"])),
        builder(),
    );
    assert_accepted(&client, &without_nbf);
    assert_rejected(&client, &without_exp, "Token is missing the \"exp\" claim");
}

// ----- algorithm ------------------------------------------------------------------------------

fn assert_hs512_app(client: &Client) {
    let token = login(client);
    assert_eq!(
        String::from_utf8(segment(&token, 0)).expect("utf-8"),
        r#"{"typ":"JWT","alg":"HS512"}"#
    );
    assert_eq!(segment(&token, 2).len(), 64, "an HMAC-SHA512 signature");
    assert_accepted(client, &token);
    assert_accepted(client, &sign_hs512(&claims(json!(1)), SECRET));
    assert_rejected(
        client,
        &token_for(&claims(json!(1))),
        "The specified alg value is not allowed",
    );
    assert_rejected(
        client,
        &sign_hs512(&claims(json!(1)), "not-the-secret"),
        "Signature verification failed",
    );
}

#[test]
fn algorithm_hs512_through_builder() {
    let client = client_with(
        builder()
            .algorithm(Algorithm::HS512)
            .build()
            .expect("builds"),
    );
    assert_hs512_app(&client);
}

#[test]
fn algorithm_hs512_through_configuration() {
    let client = configured(figment().merge(("jwt.algorithm", "HS512")), builder());
    assert_hs512_app(&client);
}

// ----- default_realm (the only test touching the environment) -----------------------------------

fn challenge(client: &Client) -> String {
    let response = get_with(client, "/protected", None);
    let challenge = response
        .headers()
        .get_one("WWW-Authenticate")
        .expect("challenge")
        .to_owned();
    assert_error(
        response,
        401,
        "Authorization Required",
        "Request does not contain an access token",
    );
    challenge
}

#[test]
fn default_realm_in_the_challenge() {
    let from_builder = client_with(builder().default_realm("Staff only").build().expect("b"));
    assert_eq!(challenge(&from_builder), r#"JWT realm="Staff only""#);

    let from_config = configured(
        figment().merge(("jwt.default_realm", "From config")),
        builder().default_realm("Staff only"),
    );
    assert_eq!(challenge(&from_config), r#"JWT realm="From config""#);

    // The environment wins over the builder and over the `jwt` table, wherever Rocket's
    // configuration keeps it: the default profile (`[default.jwt]` in Rocket.toml), the selected
    // profile (`[debug.jwt]`) or the global one (`[global.jwt]`, `ROCKET_JWT`, and the
    // `("jwt.key", value)` pairs used throughout these tests).
    {
        let _var = EnvVar::set("JWT_DEFAULT_REALM", "From env");
        let env_over_builder =
            client_with(builder().default_realm("Staff only").build().expect("b"));
        assert_eq!(challenge(&env_over_builder), r#"JWT realm="From env""#);

        let default_profile =
            figment().merge(Serialized::default("jwt.default_realm", "In default"));
        let env_over_default_profile = configured(default_profile, builder());
        assert_eq!(
            challenge(&env_over_default_profile),
            r#"JWT realm="From env""#
        );

        let debug_profile =
            figment().merge(Serialized::default("jwt.default_realm", "In debug").profile("debug"));
        let env_over_debug_profile = configured(debug_profile, builder());
        assert_eq!(
            challenge(&env_over_debug_profile),
            r#"JWT realm="From env""#,
            "JWT_DEFAULT_REALM must win over the selected profile's jwt table"
        );

        let env_over_global = configured(
            figment().merge(("jwt.default_realm", "From config")),
            builder().default_realm("Staff only"),
        );
        assert_eq!(
            challenge(&env_over_global),
            r#"JWT realm="From env""#,
            "JWT_DEFAULT_REALM must win over the global jwt table"
        );
    }
    let after = configured(
        figment().merge(("jwt.default_realm", "From config")),
        builder(),
    );
    assert_eq!(challenge(&after), r#"JWT realm="From config""#);
}

// ----- auth_header_prefix -----------------------------------------------------------------------

fn assert_bearer_app(client: &Client) {
    let token = login(client);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = get_with(client, "/protected", Some(&format!("{scheme} {token}")));
        assert_eq!(response.status(), Status::Ok, "{scheme}");
    }
    assert_error(
        get_with(client, "/protected", Some(&format!("JWT {token}"))),
        401,
        "Invalid JWT header",
        "Unsupported authorization type",
    );
    assert_error(
        get_with(client, "/protected", Some("Bearer")),
        401,
        "Invalid JWT header",
        "Token missing",
    );
    let response = get_with(client, "/protected", None);
    let challenge = response
        .headers()
        .get_one("WWW-Authenticate")
        .expect("challenge");
    assert!(challenge.starts_with("Bearer realm=\""), "{challenge}");
}

#[test]
fn auth_header_prefix_bearer_through_builder() {
    let client = client_with(
        builder()
            .auth_header_prefix("Bearer")
            .build()
            .expect("builds"),
    );
    assert_bearer_app(&client);
}

#[test]
fn auth_header_prefix_bearer_through_configuration() {
    let client = configured(
        figment().merge(("jwt.auth_header_prefix", "Bearer")),
        builder(),
    );
    assert_bearer_app(&client);
}

// ----- auth resource settings -----------------------------------------------------------------

fn auth_route_names(client: &Client) -> Vec<(String, String)> {
    client
        .rocket()
        .routes()
        .filter(|route| route.method == Method::Post)
        .map(|route| {
            (
                route.name.as_deref().unwrap_or("").to_owned(),
                route.uri.to_string(),
            )
        })
        .collect()
}

#[test]
fn auth_endpoint_names_the_route() {
    assert_eq!(
        auth_route_names(&client()),
        [("jwt".to_string(), "/auth".to_string())]
    );
    let client = client_with(builder().auth_endpoint("login").build().expect("builds"));
    assert_eq!(
        auth_route_names(&client),
        [("login".to_string(), "/auth".to_string())]
    );
    let client = configured(
        figment().merge(("jwt.auth_endpoint", "token_issuer")),
        builder().auth_endpoint("login"),
    );
    assert_eq!(
        auth_route_names(&client),
        [("token_issuer".to_string(), "/auth".to_string())]
    );
    // The renamed route still logs in.
    let token = login(&client);
    assert_accepted(&client, &token);
}

#[test]
fn auth_url_rule_through_builder_and_configuration() {
    let client = client_with(builder().auth_url_rule("/login").build().expect("builds"));
    assert_eq!(
        auth_route_names(&client),
        [("jwt".to_string(), "/login".to_string())]
    );

    let client = configured(
        figment().merge(("jwt.auth_url_rule", "/api/token")),
        builder(),
    );
    assert_eq!(
        auth_route_names(&client),
        [("jwt".to_string(), "/api/token".to_string())]
    );
    let response = client
        .post("/api/token")
        .header(ContentType::JSON)
        .body(r#"{"username":"joe","password":"pass"}"#)
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        post_auth(&client, r#"{"username":"joe","password":"pass"}"#).status(),
        Status::NotFound
    );

    for disabled in [json!(false), json!("")] {
        let client = configured(figment().merge(("jwt.auth_url_rule", disabled)), builder());
        assert!(auth_route_names(&client).is_empty());
        assert_accepted(&client, &token_for(&claims(json!(1))));
    }
}

#[test]
fn auth_username_and_password_keys_through_configuration() {
    let client = configured(
        figment()
            .merge(("jwt.auth_username_key", "email"))
            .merge(("jwt.auth_password_key", "secret")),
        builder(),
    );
    let response = post_auth(&client, r#"{"email":"joe","secret":"pass"}"#);
    assert_eq!(response.status(), Status::Ok);
    let body: Value = response.into_json().expect("json");
    assert_accepted(&client, body["access_token"].as_str().expect("token"));
    assert_error(
        post_auth(&client, r#"{"username":"joe","password":"pass"}"#),
        401,
        "Bad Request",
        "Invalid credentials",
    );
}

// ----- ignition failures ----------------------------------------------------------------------

#[test]
fn ignition_fails_without_a_secret() {
    assert_ignition_fails(ignite(figment(), bare().build().expect("builds")));
}

#[test]
fn ignition_fails_with_an_unknown_algorithm_name() {
    for name in ["HS257", "none", "hs256x", ""] {
        assert_ignition_fails(ignite(
            figment().merge(("jwt.algorithm", name)),
            builder().build().expect("builds"),
        ));
    }
}

#[test]
fn ignition_fails_with_an_unknown_claim_name() {
    assert_ignition_fails(ignite(
        figment().merge(("jwt.verify_claims", ["signature", "aud"])),
        builder().build().expect("builds"),
    ));
    assert_ignition_fails(ignite(
        figment().merge(("jwt.required_claims", ["exp", "sub"])),
        builder().build().expect("builds"),
    ));
}

#[test]
fn ignition_fails_with_badly_typed_or_invalid_values() {
    for (key, value) in [
        ("jwt.leeway", json!("ten")),
        ("jwt.expiration_delta", json!(-5)),
        ("jwt.verify", json!("maybe")),
        ("jwt.auth_header_prefix", json!("Bearer token")),
        ("jwt.auth_url_rule", json!("no-leading-slash")),
    ] {
        assert_ignition_fails(ignite(
            figment().merge((key, value)),
            builder().build().expect("builds"),
        ));
    }
}

// ----- build() ---------------------------------------------------------------------------------

fn build_error<U: Send + Sync + 'static>(jwt: JwtBuilder<U>) -> BuildError {
    match jwt.build() {
        Ok(_) => panic!("build() should fail"),
        Err(error) => error,
    }
}

#[test]
fn build_needs_an_identity_handler() {
    let error = build_error(
        Jwt::builder()
            .secret_key(SECRET)
            .allow_short_secret(true)
            .authentication_handler(|_, _| Some(joe())),
    );
    assert_eq!(error, BuildError::MissingIdentityHandler);
    assert!(error.to_string().contains("identity_handler"), "{error}");

    let error = build_error(Jwt::builder().disable_auth_url_rule());
    assert_eq!(error, BuildError::MissingIdentityHandler);
}

#[test]
fn build_needs_an_authentication_handler_unless_the_auth_resource_is_disabled() {
    let identity_only = || {
        Jwt::builder()
            .secret_key(SECRET)
            .allow_short_secret(true)
            .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
    };
    let error = build_error(identity_only());
    assert_eq!(error, BuildError::MissingAuthenticationHandler);
    let message = error.to_string();
    assert!(message.contains("authentication_handler"), "{message}");
    assert!(message.contains("disable_auth_url_rule"), "{message}");

    let jwt = identity_only()
        .disable_auth_url_rule()
        .build()
        .expect("no auth resource, no authentication handler needed");
    let client = client_with(jwt);
    assert_accepted(&client, &token_for(&claims(json!(1))));
}

#[test]
fn build_rejects_unknown_claim_names_given_in_code() {
    let error = build_error(builder().verify_claims(["signature", "aud"]));
    assert!(
        matches!(&error, BuildError::InvalidSetting(message) if message.contains("verify_claims")),
        "{error}"
    );
    let error = build_error(builder().required_claims(["sub"]));
    assert!(
        matches!(&error, BuildError::InvalidSetting(message) if message.contains("required_claims")),
        "{error}"
    );
}

#[test]
fn a_short_secret_is_refused_at_ignition_unless_allowed() {
    let jwt = Jwt::builder()
        .secret_key(SECRET)
        .authentication_handler(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
        .build()
        .expect("builds");
    assert_ignition_fails(ignite(figment(), jwt));
    let allowed = figment()
        .merge(("jwt.secret_key", SECRET))
        .merge(("jwt.allow_short_secret", true));
    let jwt = Jwt::builder()
        .authentication_handler(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
        .build()
        .expect("builds");
    let client = ignite(allowed, jwt).expect("allowed through the configuration");
    let token = login(&client);
    assert_eq!(
        get_with(&client, "/protected", Some(&format!("JWT {token}")))
            .status()
            .code,
        200
    );
    let long = "0123456789abcdef0123456789abcdef";
    let jwt = Jwt::builder()
        .secret_key(long)
        .authentication_handler(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
        .build()
        .expect("builds");
    assert!(
        ignite(figment(), jwt).is_ok(),
        "a 32-byte secret needs no opt-out"
    );
}

// ----- what ignition logs ---------------------------------------------------------------------

#[test]
fn unknown_settings_are_warned_about() {
    let _var = EnvVar::set("JWT_NO_SUCH_SETTING_IN_ENV", "1");
    let client = configured(
        figment()
            .merge(("jwt.no_such_setting_in_table", 1))
            .merge(("jwt.leeway", 3)),
        builder(),
    );
    // The unknown keys are ignored: the application works with the known ones.
    assert_accepted(&client, &token_for(&claims(json!(1))));
    for key in ["no_such_setting_in_table", "no_such_setting_in_env"] {
        let warnings = logs::containing(&format!("unknown setting `{key}`"));
        assert!(
            !warnings.is_empty() && warnings.iter().all(|w| w.starts_with("WARN")),
            "{key}: {warnings:#?}"
        );
    }
    assert!(logs::containing("unknown setting `leeway`").is_empty());
}

#[test]
fn the_short_secret_warning_is_logged_once_per_ignition() {
    // Secret lengths no other test uses, so that the count is this test's.
    let thirteen = "thirteen-byte";
    let client = configured(figment(), bare().secret_key(thirteen));
    assert_accepted(&client, &login(&client));
    let warnings = logs::containing("secret has 13 bytes");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].starts_with("WARN")
            && warnings[0].contains("INSECURE")
            && warnings[0].contains("allow_short_secret")
            && !warnings[0].contains(thirteen),
        "{warnings:#?}"
    );
    // Several HMAC algorithms: one warning, for the one whose minimum is the highest.
    let fourteen = "fourteen-bytes";
    configured(
        figment(),
        bare()
            .secret_key(fourteen)
            .algorithms([Algorithm::HS256, Algorithm::HS384]),
    );
    let warnings = logs::containing("secret has 14 bytes");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("HS384") && warnings[0].contains("fewer than the 48"),
        "{warnings:#?}"
    );
}
