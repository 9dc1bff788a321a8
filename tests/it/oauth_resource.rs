//! An OAuth resource server through Rocket's local client: RFC 6750 challenges when the header
//! scheme is `Bearer` (the Flask-JWT scheme and the extended profile keep their own answers),
//! the RFC 9068 access-token profile (`strict_access_tokens`), and RFC 9728 protected-resource
//! metadata with the `resource_metadata` challenge parameter.

use crate::common;
use common::{now, sign_hs256};

use rocket::figment::Figment;
use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{routes, Build, Rocket};
use rocket_flask_jwt::{jwt_required, settings::ProtectedResource, Jwt, JwtBuilder};
use serde_json::{json, Value};

const SECRET: &str = "a secret of at least thirty-two bytes for HS256";
const ISSUER: &str = "https://issuer.example/";
const AUDIENCE: &str = "https://api.example/";

#[derive(Debug)]
struct Caller;

#[jwt_required]
#[rocket::get("/private")]
fn private() -> &'static str {
    "private"
}

#[jwt_required(realm = "Messages", scopes = ["read:messages"])]
#[rocket::get("/messages")]
fn messages() -> &'static str {
    "messages"
}

fn bearer_api() -> JwtBuilder<Caller> {
    Jwt::builder()
        .secret_key(SECRET)
        .disable_auth_url_rule()
        .auth_header_prefix("Bearer")
        .identity_claim("sub")
        .identity_from_claim(|sub| (sub.as_str()? != "nobody").then_some(Caller))
}

fn rocket(jwt: JwtBuilder<Caller>) -> Rocket<Build> {
    rocket::custom(rocket::Config::debug_default())
        .attach(jwt.build().expect("a complete configuration"))
        .mount("/", routes![private, messages])
}

fn client(jwt: JwtBuilder<Caller>) -> Client {
    Client::tracked(rocket(jwt)).expect("the rocket ignites")
}

/// Claims issued now for five minutes, `extra` set over them (`null` removes one).
fn claims(extra: Value) -> Value {
    let now = now();
    let mut claims = json!({"sub": "alice", "iat": now, "nbf": now, "exp": now + 300});
    for (name, value) in extra.as_object().expect("an object") {
        if value.is_null() {
            claims.as_object_mut().expect("an object").remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

fn token(extra: Value) -> String {
    sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims(extra),
        SECRET,
    )
}

fn get<'c>(client: &'c Client, path: &'c str, authorization: Option<String>) -> LocalResponse<'c> {
    let mut request = client.get(path);
    if let Some(value) = authorization {
        request = request.header(Header::new("Authorization", value));
    }
    request.dispatch()
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// Status, challenge and Flask-JWT description of a response.
fn answer(response: LocalResponse<'_>) -> (u16, Option<String>, Value) {
    let status = response.status().code;
    let challenge = response
        .headers()
        .get_one("WWW-Authenticate")
        .map(str::to_owned);
    let body: Value = response.into_json().expect("a JSON body");
    (status, challenge, body["description"].clone())
}

// ----- RFC 6750 -------------------------------------------------------------------------------------

#[test]
fn without_a_token_the_challenge_has_no_error_code() {
    let client = client(bearer_api());
    let (status, challenge, _) = answer(get(&client, "/private", None));
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer realm="Login Required""#)
    );
    let (_, challenge, _) = answer(get(&client, "/messages", None));
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="Messages""#));
}

#[test]
fn a_refused_token_is_invalid_token_with_the_failed_check() {
    let client = client(bearer_api());
    let now = now();
    for (token, description) in [
        (
            token(json!({"iat": now - 600, "nbf": now - 600, "exp": now - 300})),
            "Signature has expired",
        ),
        (
            format!("{}x", token(json!({}))),
            "Signature verification failed",
        ),
        ("not-a-token".to_string(), "Not enough segments"),
        (token(json!({"sub": "nobody"})), "User does not exist"),
    ] {
        let (status, challenge, body_description) =
            answer(get(&client, "/private", bearer(&token)));
        assert_eq!(status, 401, "{description}");
        assert_eq!(body_description, description, "the body is unchanged");
        assert_eq!(
            challenge,
            Some(format!(
                r#"Bearer realm="Login Required", error="invalid_token", error_description="{description}""#
            ))
        );
    }
    // The route's realm.
    let expired = token(json!({"exp": now - 300}));
    let (_, challenge, _) = answer(get(&client, "/messages", bearer(&expired)));
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"Bearer realm="Messages", error="invalid_token", error_description="Signature has expired""#
        )
    );
}

#[test]
fn a_malformed_authorization_header_is_invalid_request() {
    let client = client(bearer_api());
    for (value, description) in [
        ("Bearer a b", "Token contains spaces"),
        ("Bearer", "Token missing"),
        ("Basic dXNlcjpwYXNz", "Unsupported authorization type"),
    ] {
        let (status, challenge, body_description) =
            answer(get(&client, "/private", Some(value.into())));
        assert_eq!(status, 401, "{value}");
        assert_eq!(body_description, description);
        assert_eq!(
            challenge,
            Some(format!(
                r#"Bearer realm="Login Required", error="invalid_request", error_description="{description}""#
            ))
        );
    }
}

#[test]
fn detailed_errors_reach_the_description_without_breaking_the_quoting() {
    let client = client(bearer_api().issuer(ISSUER).detailed_errors(true));
    let token = token(json!({"iss": "https://evil.example/\"quoted\""}));
    let (_, challenge, description) = answer(get(&client, "/private", bearer(&token)));
    let challenge = challenge.expect("a challenge");
    let description = description.as_str().expect("a description");
    assert!(description.contains("evil.example"), "{description}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    // Every `"` of the description became `'`: the quoted string ends at the challenge's end.
    let value = challenge
        .split_once("error_description=\"")
        .expect("a description")
        .1;
    assert_eq!(value.find('"'), Some(value.len() - 1), "{challenge}");
}

#[test]
fn the_jwt_scheme_and_the_extended_profile_keep_their_answers() {
    let jwt_scheme = client(
        Jwt::builder()
            .secret_key(SECRET)
            .disable_auth_url_rule()
            .identity_claim("sub")
            .identity_from_claim(|_| Some(Caller)),
    );
    let expired = token(json!({"exp": now() - 300}));
    let (status, challenge, _) =
        answer(get(&jwt_scheme, "/private", Some(format!("JWT {expired}"))));
    assert_eq!((status, challenge), (401, None));
    let (_, challenge, _) = answer(get(&jwt_scheme, "/private", None));
    assert_eq!(challenge.as_deref(), Some(r#"JWT realm="Login Required""#));

    let extended = client(
        Jwt::builder()
            .extended()
            .secret_key(SECRET)
            .identity_from_claim(|_| Some(Caller)),
    );
    for authorization in [None, bearer(&expired), Some("Bearer a b".into())] {
        let response = get(&extended, "/private", authorization.clone());
        assert_ne!(response.status(), Status::Ok, "{authorization:?}");
        assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
    }
}

// ----- RFC 9068 -------------------------------------------------------------------------------------

fn strict_api() -> JwtBuilder<Caller> {
    bearer_api()
        .issuer(ISSUER)
        .audience([AUDIENCE])
        .strict_access_tokens(true)
}

/// An RFC 9068 access token's claims, `extra` set over them.
fn access_claims(extra: Value) -> Value {
    let mut all = json!({"iss": ISSUER, "aud": AUDIENCE, "client_id": "s6BhdRkqt3", "jti": "id-1"});
    for (name, value) in extra.as_object().expect("an object") {
        all[name] = value.clone();
    }
    claims(all)
}

fn access_token(typ: &str, extra: Value) -> String {
    sign_hs256(
        &json!({"alg": "HS256", "typ": typ}),
        &access_claims(extra),
        SECRET,
    )
}

#[test]
fn the_strict_profile_accepts_an_rfc_9068_access_token() {
    let client = client(strict_api());
    for typ in ["at+jwt", "application/at+jwt", "AT+JWT"] {
        let response = get(&client, "/private", bearer(&access_token(typ, json!({}))));
        assert_eq!(response.status(), Status::Ok, "{typ}");
    }
}

#[test]
fn the_strict_profile_refuses_what_rfc_9068_refuses() {
    let client = client(strict_api());
    let now = now();
    let refused = |token: String| answer(get(&client, "/private", bearer(&token)));
    for typ in ["JWT", "jwt", "at+jwt+x"] {
        let (status, _, description) = refused(access_token(typ, json!({})));
        assert_eq!(
            (status, description),
            (401, json!("Invalid token type (typ)")),
            "{typ}"
        );
    }
    let (status, _, description) = refused(sign_hs256(
        &json!({"alg": "HS256"}),
        &access_claims(json!({})),
        SECRET,
    ));
    assert_eq!(
        (status, description),
        (401, json!("Invalid token type (typ)"))
    );
    for name in ["sub", "client_id", "jti", "iat", "exp", "aud", "iss"] {
        let (status, challenge, _) = refused(access_token("at+jwt", json!({ name: null })));
        assert_eq!(status, 401, "{name}");
        assert!(
            challenge.is_some_and(|c| c.contains("error=\"invalid_token\"")),
            "{name}"
        );
    }
    let (_, _, description) = refused(access_token("at+jwt", json!({"client_id": null})));
    assert_eq!(
        description,
        "Missing claim: client_id (RFC 9068 access token)"
    );
    let (_, _, description) = refused(access_token("at+jwt", json!({"jti": 7})));
    assert_eq!(
        description,
        "Invalid claim: jti must be a string (RFC 9068 access token)"
    );
    // Older than the default maximum age of one day, though not expired.
    let (status, _, _) = refused(access_token(
        "at+jwt",
        json!({"iat": now - 2 * 24 * 3600, "nbf": now - 2 * 24 * 3600}),
    ));
    assert_eq!(status, 401);
    // `nbf` to come is honoured.
    let (status, _, _) = refused(access_token("at+jwt", json!({"nbf": now + 600})));
    assert_eq!(status, 401);
    // Another audience or issuer.
    let (status, _, _) = refused(access_token(
        "at+jwt",
        json!({"aud": "https://other.example/"}),
    ));
    assert_eq!(status, 401);
}

#[test]
fn the_strict_profile_needs_an_issuer_and_an_audience() {
    for jwt in [
        bearer_api().audience([AUDIENCE]).strict_access_tokens(true),
        bearer_api().issuer(ISSUER).strict_access_tokens(true),
    ] {
        let error = jwt.build().err().expect("refused");
        assert!(
            error.to_string().contains("strict_access_tokens"),
            "{error}"
        );
    }
}

#[test]
fn the_strict_profile_is_a_configuration_setting() {
    let figment = Figment::from(rocket::Config::debug_default())
        .merge(("jwt.strict_access_tokens", true))
        .merge(("jwt.issuer", ISSUER))
        .merge(("jwt.audience", AUDIENCE));
    let rocket = rocket::custom(figment)
        .attach(bearer_api().build().expect("complete"))
        .mount("/", routes![private]);
    let client = Client::tracked(rocket).expect("the rocket ignites");
    assert_eq!(
        get(
            &client,
            "/private",
            bearer(&access_token("at+jwt", json!({})))
        )
        .status(),
        Status::Ok
    );
    assert_eq!(
        get(&client, "/private", bearer(&access_token("JWT", json!({})))).status(),
        Status::Unauthorized
    );
}

// ----- RFC 9728 -------------------------------------------------------------------------------------

fn metadata() -> ProtectedResource {
    ProtectedResource {
        authorization_servers: vec![ISSUER.into()],
        scopes_supported: vec!["read:messages".into()],
        ..ProtectedResource::new("https://api.example/")
    }
}

const METADATA_URL: &str = "https://api.example/.well-known/oauth-protected-resource";

#[test]
fn the_metadata_document_is_served_from_the_configuration() {
    let client = client(bearer_api().protected_resource(metadata()));
    let response = client
        .get("/.well-known/oauth-protected-resource")
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.content_type(),
        Some(rocket::http::ContentType::JSON)
    );
    let document: Value = response.into_json().expect("JSON");
    assert_eq!(
        document,
        json!({
            "resource": "https://api.example/",
            "authorization_servers": [ISSUER],
            "scopes_supported": ["read:messages"],
            "bearer_methods_supported": ["header"],
        })
    );
    // Not served without the setting.
    let client = self::client(bearer_api());
    let response = client
        .get("/.well-known/oauth-protected-resource")
        .dispatch();
    assert_eq!(response.status(), Status::NotFound);
}

#[test]
fn with_dpop_the_metadata_names_the_proof_algorithms() {
    let client = client(
        bearer_api()
            .protected_resource(metadata())
            .dpop(rocket_flask_jwt::DpopMode::Required)
            .dpop_algorithms([
                rocket_flask_jwt::Algorithm::ES256,
                rocket_flask_jwt::Algorithm::EdDSA,
            ]),
    );
    let document: Value = client
        .get("/.well-known/oauth-protected-resource")
        .dispatch()
        .into_json()
        .expect("JSON");
    assert_eq!(
        document["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
    assert_eq!(document["dpop_bound_access_tokens_required"], json!(true));
}

#[test]
fn a_resource_with_a_path_is_served_under_the_well_known_path() {
    let client =
        client(bearer_api().protected_resource(ProtectedResource::new("https://api.example/v1")));
    let response = client
        .get("/.well-known/oauth-protected-resource/v1")
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let (_, challenge, _) = answer(get(&client, "/private", None));
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"Bearer realm="Login Required", resource_metadata="https://api.example/.well-known/oauth-protected-resource/v1""#
        )
    );
}

#[test]
fn every_bearer_challenge_names_the_metadata() {
    let client = client(bearer_api().protected_resource(metadata()));
    let (_, challenge, _) = answer(get(&client, "/private", None));
    assert_eq!(
        challenge,
        Some(format!(
            r#"Bearer realm="Login Required", resource_metadata="{METADATA_URL}""#
        ))
    );
    let expired = token(json!({"exp": now() - 300}));
    let (_, challenge, _) = answer(get(&client, "/private", bearer(&expired)));
    assert_eq!(
        challenge,
        Some(format!(
            r#"Bearer realm="Login Required", error="invalid_token", error_description="Signature has expired", resource_metadata="{METADATA_URL}""#
        ))
    );
    let response = get(
        &client,
        "/messages",
        bearer(&token(json!({"scope": "openid"}))),
    );
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(
            format!(
                r#"Bearer error="insufficient_scope", scope="read:messages", resource_metadata="{METADATA_URL}""#
            )
            .as_str()
        )
    );
}

#[test]
fn a_resource_that_is_not_an_https_url_fails_ignition() {
    for resource in [
        "api.example",
        "https://api.example/?x=1",
        "https://api.example/#f",
    ] {
        let jwt = bearer_api().protected_resource(ProtectedResource::new(resource));
        let error = jwt.build().err().expect("refused");
        assert!(
            error.to_string().contains("protected_resource"),
            "{resource}: {error}"
        );
    }
}
