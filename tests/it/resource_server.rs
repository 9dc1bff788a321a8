//! Resource-server mode end to end ("Auth0-grade validation"): an API that only validates tokens
//! issued elsewhere, with keys from a real JWKS server on 127.0.0.1 (`common::jwks_server`),
//! through Rocket's local client.
//!
//! Covered: RS256, ES256, PS256 and EdDSA keys from the JWKS; unknown `kid`; key rotation; the
//! issuer and audience checks; the identity claim; `detailed_errors`; algorithm confusion; the
//! JWKS endpoint down (503); OIDC discovery; static keys (PEM, DER, JWK, `public_key_file`); and
//! the log line of a rejection (check and safe detail, never the token or a key).

use crate::common;
use common::jwks_server::{jwk, sign, JwksServer, Reply, TestKey};
use common::logs;
use common::{assert_error, now, sign_hs256_raw};

use std::time::Duration;

use rocket::figment::Figment;
use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{routes, Build, Rocket};
use rocket_flask_jwt::{current_identity, jwt_required, Algorithm, Jwt, JwtBuilder, Settings};
use serde_json::{json, Value};

const ISSUER: &str = "https://issuer.example/";
const AUDIENCE: &str = "api";

// ----- application -------------------------------------------------------------------------------

/// The caller, built from the token's `sub`.
#[derive(Debug)]
struct Caller {
    sub: String,
}

#[jwt_required]
#[rocket::get("/api/private")]
fn private() -> String {
    format!("sub={}", current_identity!(Caller).sub)
}

#[rocket::get("/api/public")]
fn public() -> &'static str {
    "public"
}

/// The resource server's configuration, without the key source.
fn api() -> JwtBuilder<Caller> {
    Jwt::builder()
        .disable_auth_url_rule()
        .algorithm(Algorithm::RS256)
        .auth_header_prefix("Bearer")
        .issuer(ISSUER)
        .audience([AUDIENCE])
        .identity_claim("sub")
        .identity_from_claim(|sub| {
            Some(Caller {
                sub: sub.as_str()?.to_owned(),
            })
        })
}

/// The resource server with keys from `server`'s JWKS.
fn jwks_api(server: &JwksServer) -> JwtBuilder<Caller> {
    api().jwks_url(server.jwks_url())
}

/// A Rocket with the routes mounted at `base`, `config` merged over the debug defaults.
fn rocket_at(base: &str, jwt: JwtBuilder<Caller>, config: &[(&str, Value)]) -> Rocket<Build> {
    logs::install();
    let mut figment = Figment::from(rocket::Config::debug_default());
    for (key, value) in config {
        figment = figment.merge((*key, value.clone()));
    }
    rocket::custom(figment)
        .attach(jwt.build().expect("the Jwt configuration is complete"))
        .mount(base, routes![private, public])
}

/// The client, or why ignition failed (Rocket's error, inspected so that dropping it is fine).
fn try_client(jwt: JwtBuilder<Caller>, config: &[(&str, Value)]) -> Result<Client, String> {
    Client::tracked(rocket_at("/", jwt, config)).map_err(|error| format!("{:?}", error.kind()))
}

fn ignite(jwt: JwtBuilder<Caller>, config: &[(&str, Value)]) -> Client {
    try_client(jwt, config).expect("the rocket ignites")
}

/// `GET path` with `Authorization: Bearer <token>` when a token is given.
fn get<'c>(client: &'c Client, path: &'c str, token: Option<&str>) -> LocalResponse<'c> {
    let mut request = client.get(path);
    if let Some(token) = token {
        request = request.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    request.dispatch()
}

fn private_as<'c>(client: &'c Client, token: &str) -> LocalResponse<'c> {
    get(client, "/api/private", Some(token))
}

fn assert_ok(response: LocalResponse<'_>, sub: &str) {
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.into_string().as_deref(),
        Some(format!("sub={sub}").as_str())
    );
}

fn assert_invalid(response: LocalResponse<'_>, description: &str) {
    assert_error(response, 401, "Invalid token", description);
}

// ----- tokens --------------------------------------------------------------------------------------

/// Claims of a good token for this API: `sub`, `iss`, `aud`, issued now for 5 minutes; `extra`
/// members are set over them, a `null` member removes the claim.
fn claims(sub: &str, extra: Value) -> Value {
    let now = now();
    let mut claims = json!({
        "sub": sub, "iss": ISSUER, "aud": AUDIENCE,
        "iat": now, "nbf": now, "exp": now + 300,
    });
    let object = claims.as_object_mut().unwrap();
    for (name, value) in extra.as_object().expect("extra claims are an object") {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    claims
}

/// An RS256 token signed by `key` with its own `kid`.
fn rs256(key: TestKey, claims: &Value) -> String {
    sign(key, Algorithm::RS256, Some(key.kid()), claims)
}

/// A good RS256 token from `rsa-1` for `sub`.
fn good(sub: &str) -> String {
    rs256(TestKey::Rsa, &claims(sub, json!({})))
}

const UNKNOWN_KEY: &str = "Unknown signing key: the token is not from the intended authority";
const INVALID_ISSUER: &str = "Invalid issuer: the token is not from the intended authority";
const INVALID_AUDIENCE: &str = "Invalid audience: the token is not for this application";

// ----- keys from the JWKS ----------------------------------------------------------------------------

#[test]
fn an_rs256_token_with_a_known_kid_is_accepted_and_the_identity_is_its_sub() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let client = ignite(jwks_api(&server), &[]);
    // Ignition fetched the key set once.
    assert_eq!(server.jwks_hits(), 1);

    assert_ok(private_as(&client, &good("auth0|alice")), "auth0|alice");
    assert_ok(private_as(&client, &good("auth0|bob")), "auth0|bob");
    // Cached keys: no fetch per request.
    assert_eq!(server.jwks_hits(), 1);

    let response = get(&client, "/api/public", None);
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("public"));

    // No token: the challenge uses the configured scheme.
    let response = get(&client, "/api/private", None);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(r#"Bearer realm="Login Required""#)
    );
    assert_error(
        response,
        401,
        "Authorization Required",
        "Request does not contain an access token",
    );
    // Flask-JWT's scheme is not this API's.
    let response = client
        .get("/api/private")
        .header(Header::new(
            "Authorization",
            format!("JWT {}", good("auth0|alice")),
        ))
        .dispatch();
    assert_error(
        response,
        401,
        "Invalid JWT header",
        "Unsupported authorization type",
    );
}

#[test]
fn es256_ps256_and_eddsa_keys_come_from_the_jwks() {
    // The RSA key without `alg` is bound to every allowed RSA algorithm: PS256 here.
    let server = JwksServer::start(&[
        TestKey::Ec.jwk(),
        jwk(TestKey::Rsa, json!({"alg": null, "kid": "rsa-ps"})),
        TestKey::Ed.jwk(),
    ]);
    let client = ignite(
        jwks_api(&server).algorithms([Algorithm::ES256, Algorithm::PS256, Algorithm::EdDSA]),
        &[],
    );
    let es256 = sign(
        TestKey::Ec,
        Algorithm::ES256,
        Some("ec-1"),
        &claims("ec-user", json!({})),
    );
    assert_ok(private_as(&client, &es256), "ec-user");
    let ps256 = sign(
        TestKey::Rsa,
        Algorithm::PS256,
        Some("rsa-ps"),
        &claims("ps-user", json!({})),
    );
    assert_ok(private_as(&client, &ps256), "ps-user");
    let eddsa = sign(
        TestKey::Ed,
        Algorithm::EdDSA,
        Some("ed-1"),
        &claims("ed-user", json!({})),
    );
    assert_ok(private_as(&client, &eddsa), "ed-user");

    // RS256 is not among the accepted algorithms, although the RSA key would fit it.
    let rs256 = sign(
        TestKey::Rsa,
        Algorithm::RS256,
        Some("rsa-ps"),
        &claims("rs-user", json!({})),
    );
    assert_invalid(
        private_as(&client, &rs256),
        "The specified alg value is not allowed",
    );
    // A kid is bound to its key's algorithm: the Ed25519 kid does not select a key for ES256,
    // and the answer says so (the key is known, the algorithm is not its own).
    let crossed = sign(
        TestKey::Ec,
        Algorithm::ES256,
        Some("ed-1"),
        &claims("ec-user", json!({})),
    );
    assert_invalid(
        private_as(&client, &crossed),
        "The specified alg value is not allowed for this signing key",
    );
    // A kid the set does not hold is unknown.
    let unknown = sign(
        TestKey::Ec,
        Algorithm::ES256,
        Some("not-in-the-set"),
        &claims("ec-user", json!({})),
    );
    assert_invalid(private_as(&client, &unknown), UNKNOWN_KEY);
    // The right kid, another key's signature.
    let forged = sign(
        TestKey::Rsa2,
        Algorithm::PS256,
        Some("rsa-ps"),
        &claims("ps-user", json!({})),
    );
    assert_invalid(
        private_as(&client, &forged),
        "Signature verification failed",
    );
}

#[test]
fn an_unknown_kid_is_not_from_the_intended_authority_and_refetches_once_per_cooldown() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    // The default cooldown (30 s): ignition's fetch was the last attempt.
    let client = ignite(jwks_api(&server), &[]);
    assert_eq!(server.jwks_hits(), 1);
    let unknown = rs256(TestKey::Rsa2, &claims("mallory", json!({})));
    assert_invalid(private_as(&client, &unknown), UNKNOWN_KEY);
    // A flood of made-up kids costs the provider nothing within the cooldown.
    for i in 0..5 {
        let token = sign(
            TestKey::Rsa2,
            Algorithm::RS256,
            Some(&format!("made-up-{i}")),
            &claims("mallory", json!({})),
        );
        assert_invalid(private_as(&client, &token), UNKNOWN_KEY);
    }
    assert_eq!(server.jwks_hits(), 1);
    // Another key under a known kid: the signature check catches it.
    let forged = sign(
        TestKey::Rsa2,
        Algorithm::RS256,
        Some("rsa-1"),
        &claims("mallory", json!({})),
    );
    assert_invalid(
        private_as(&client, &forged),
        "Signature verification failed",
    );
    // No kid: the one RS256 key of the set is used.
    let no_kid = sign(
        TestKey::Rsa,
        Algorithm::RS256,
        None,
        &claims("kidless", json!({})),
    );
    assert_ok(private_as(&client, &no_kid), "kidless");
}

#[test]
fn after_key_rotation_the_new_kid_is_accepted_after_one_refetch() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let client = ignite(jwks_api(&server), &[("jwt.jwks_cooldown", json!(0))]);
    assert_eq!(server.jwks_hits(), 1);
    assert_ok(private_as(&client, &good("before")), "before");
    assert_eq!(server.jwks_hits(), 1);

    // The authority rotates: rsa-2 replaces rsa-1.
    server.set_keys(&[TestKey::Rsa2.jwk()]);
    let rotated = rs256(TestKey::Rsa2, &claims("after", json!({})));
    assert_ok(private_as(&client, &rotated), "after");
    assert_eq!(server.jwks_hits(), 2, "one refetch for the new kid");
    assert_ok(private_as(&client, &rotated), "after");
    assert_eq!(server.jwks_hits(), 2, "the new key is cached");

    // The retired kid is unknown now (and, with no cooldown, refetched once more to be sure).
    assert_invalid(private_as(&client, &good("before")), UNKNOWN_KEY);
    assert_eq!(server.jwks_hits(), 3);
}

#[test]
fn a_custom_decode_callback_sees_rotation_and_never_goes_stale() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    // The callback validates with the codec, which does no I/O itself: the keys it sees must be
    // kept current for it.
    let jwt = jwks_api(&server).decode_handler(|token, codec| codec.decode(token));
    let config = [
        ("jwt.jwks_cooldown", json!(0)),
        ("jwt.jwks_cache_ttl", json!(1)),
        ("jwt.jwks_stale_for", json!(1)),
    ];
    let client = ignite(jwt, &config);
    assert_eq!(server.jwks_hits(), 1);
    assert_ok(private_as(&client, &good("before")), "before");

    // The authority rotates: the new kid is fetched before the callback runs.
    server.set_keys(&[TestKey::Rsa2.jwk()]);
    let rotated = rs256(TestKey::Rsa2, &claims("after", json!({})));
    assert_ok(private_as(&client, &rotated), "after");
    assert_eq!(server.jwks_hits(), 2, "one refetch for the new kid");
    assert_invalid(private_as(&client, &good("before")), UNKNOWN_KEY);

    // Past the cache lifetime and the stale window, the set is refetched, not left to expire.
    std::thread::sleep(Duration::from_millis(2200));
    let hits = server.jwks_hits();
    assert_ok(private_as(&client, &rotated), "after");
    assert_eq!(
        server.jwks_hits(),
        hits + 1,
        "the expired set was refetched"
    );
}

// ----- issuer, audience, identity claim ------------------------------------------------------------

#[test]
fn an_issuer_differing_by_a_trailing_slash_is_refused_both_ways() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    for (configured, presented) in [
        ("https://issuer.example/", "https://issuer.example"),
        ("https://issuer.example", "https://issuer.example/"),
    ] {
        let client = ignite(jwks_api(&server).issuer(configured), &[]);
        let token = rs256(TestKey::Rsa, &claims("alice", json!({"iss": presented})));
        assert_invalid(private_as(&client, &token), INVALID_ISSUER);
        // Byte for byte the same: accepted.
        let token = rs256(TestKey::Rsa, &claims("alice", json!({"iss": configured})));
        assert_ok(private_as(&client, &token), "alice");
    }
}

#[test]
fn a_token_without_iss_is_refused() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let client = ignite(jwks_api(&server), &[]);
    let token = rs256(TestKey::Rsa, &claims("alice", json!({"iss": null})));
    assert_invalid(
        private_as(&client, &token),
        r#"Token is missing the "iss" claim"#,
    );
}

#[test]
fn one_audience_must_match_and_aud_is_required() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let client = ignite(jwks_api(&server), &[]);
    for aud in [json!("api"), json!(["other", "api"])] {
        let token = rs256(TestKey::Rsa, &claims("alice", json!({ "aud": aud })));
        assert_ok(private_as(&client, &token), "alice");
    }
    for aud in [json!("other"), json!(["other"]), json!("API"), json!([])] {
        let token = rs256(TestKey::Rsa, &claims("alice", json!({ "aud": aud })));
        assert_invalid(private_as(&client, &token), INVALID_AUDIENCE);
    }
    let token = rs256(TestKey::Rsa, &claims("alice", json!({"aud": null})));
    assert_invalid(
        private_as(&client, &token),
        r#"Token is missing the "aud" claim"#,
    );
}

#[test]
fn identity_from_claim_needs_the_sub_claim() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let client = ignite(jwks_api(&server), &[]);
    let token = rs256(TestKey::Rsa, &claims("x", json!({"sub": null})));
    assert_invalid(
        private_as(&client, &token),
        r#"Token is missing the "sub" claim"#,
    );
}

#[test]
fn detailed_errors_show_expected_and_received_values_only_when_enabled() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let wrong_iss = rs256(
        TestKey::Rsa,
        &claims("alice", json!({"iss": "https://issuer.example"})),
    );
    let unknown_kid = sign(
        TestKey::Rsa,
        Algorithm::RS256,
        Some("rotated-away"),
        &claims("alice", json!({})),
    );

    let plain = ignite(jwks_api(&server), &[]);
    assert_invalid(private_as(&plain, &wrong_iss), INVALID_ISSUER);
    assert_invalid(private_as(&plain, &unknown_kid), UNKNOWN_KEY);

    let detailed_iss = format!(
        r#"{INVALID_ISSUER} (expected iss "https://issuer.example/", received "https://issuer.example")"#
    );
    let detailed_kid =
        format!(r#"{UNKNOWN_KEY} (kid "rotated-away" is not in the authority's key set)"#);
    let builder = ignite(jwks_api(&server).detailed_errors(true), &[]);
    assert_invalid(private_as(&builder, &wrong_iss), &detailed_iss);
    assert_invalid(private_as(&builder, &unknown_kid), &detailed_kid);
    // The same from Rocket's configuration.
    let configured = ignite(jwks_api(&server), &[("jwt.detailed_errors", json!(true))]);
    assert_invalid(private_as(&configured, &wrong_iss), &detailed_iss);
}

// ----- algorithm confusion ---------------------------------------------------------------------------

/// An HS256 token whose HMAC key is the RSA public key PEM: the classic algorithm confusion.
fn hs256_with_the_public_pem(kid: Option<&str>) -> String {
    let header = match kid {
        Some(kid) => json!({"typ": "JWT", "alg": "HS256", "kid": kid}),
        None => json!({"typ": "JWT", "alg": "HS256"}),
    };
    sign_hs256_raw(
        &header.to_string(),
        &claims("mallory", json!({})).to_string(),
        &TestKey::Rsa.public_pem(),
    )
}

// ----- the JWKS endpoint down ------------------------------------------------------------------------

#[test]
fn a_jwks_endpoint_down_with_nothing_cached_answers_503_until_it_recovers() {
    for reply in [Reply::Error500, Reply::Garbage, Reply::Hang] {
        let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
        server.set_reply(reply);
        // Sub-second timeout (for the hang) and no cooldown: every request retries the fetch.
        let settings = Settings {
            algorithm: Algorithm::RS256,
            auth_url_rule: None,
            auth_header_prefix: "Bearer".into(),
            jwks_url: Some(server.jwks_url()),
            issuer: Some(ISSUER.into()),
            audience: vec![AUDIENCE.into()],
            identity_claim: "sub".into(),
            jwks_timeout: Duration::from_millis(300),
            jwks_cooldown: Duration::ZERO,
            ..Settings::default()
        };
        let jwt = Jwt::builder()
            .settings(settings)
            .identity_from_claim(|sub| {
                Some(Caller {
                    sub: sub.as_str()?.to_owned(),
                })
            });
        // The first fetch failing does not stop the application.
        let client = ignite(jwt, &[]);
        assert_eq!(server.jwks_hits(), 1, "{reply:?}");
        let response = private_as(&client, &good("alice"));
        assert_error(
            response,
            503,
            "Service Unavailable",
            "The authority's signing keys cannot be fetched",
        );
        assert_eq!(server.jwks_hits(), 2, "{reply:?}: the request retried");
        // Nothing failed was cached: once the endpoint recovers, the key is there.
        server.set_reply(Reply::Keys);
        assert_ok(private_as(&client, &good("alice")), "alice");
        assert_eq!(server.jwks_hits(), 3, "{reply:?}");
    }
}

// ----- OIDC discovery ----------------------------------------------------------------------------------

#[test]
fn oidc_discovery_reads_the_jwks_uri_and_issuer_from_the_openid_configuration() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let authority = server.authority();
    // The document names `/jwks.json`, not the `/.well-known/jwks.json` the authority implies.
    server.set_discovery(json!({"issuer": authority, "jwks_uri": server.jwks_url()}));
    let jwt = Jwt::builder()
        .disable_auth_url_rule()
        .algorithm(Algorithm::RS256)
        .auth_header_prefix("Bearer")
        .authority(&authority)
        .audience([AUDIENCE])
        .identity_claim("sub")
        .identity_from_claim(|sub| {
            Some(Caller {
                sub: sub.as_str()?.to_owned(),
            })
        });
    let client = ignite(jwt, &[("jwt.oidc_discovery", json!(true))]);
    assert_eq!(server.discovery_hits(), 1);
    assert_eq!(server.jwks_hits(), 1);
    assert_eq!(server.total_hits(), 2, "nothing else was requested");

    // The issuer is the authority.
    let token = rs256(TestKey::Rsa, &claims("alice", json!({"iss": authority})));
    assert_ok(private_as(&client, &token), "alice");
    assert_invalid(private_as(&client, &good("alice")), INVALID_ISSUER);
}

#[test]
fn a_discovery_document_naming_another_issuer_fails_ignition() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let authority = server.authority();
    let other = authority.trim_end_matches('/').to_owned();
    server.set_discovery(json!({"issuer": other, "jwks_uri": server.jwks_url()}));
    let jwt = api().authority(&authority).issuer(&authority);
    let Err(error) = try_client(jwt, &[("jwt.oidc_discovery", json!(true))]) else {
        panic!("ignition must fail");
    };
    assert!(error.contains("FailedFairings"), "{error}");
    assert_eq!(server.discovery_hits(), 1);
    assert_eq!(
        server.jwks_hits(),
        0,
        "no key is fetched from that authority"
    );
    // The log says why, naming the setting and both issuers.
    let lines = logs::containing(&format!("{authority}.well-known/openid-configuration"));
    assert!(
        lines.iter().any(|line| line.contains("oidc_discovery")
            && line.contains(&format!("names issuer {other:?}"))
            && line.contains(&format!("the configured issuer is {authority:?}"))),
        "{lines:#?}"
    );
}

// ----- static keys ---------------------------------------------------------------------------------------

#[test]
fn static_keys_from_pem_der_and_jwk_through_the_builder() {
    let der = std::fs::read(common::jwks_server::testdata("keys/rsa_public_pkcs1.der")).unwrap();
    let jwk_text = TestKey::Rsa.jwk().to_string();
    for (form, builder) in [
        ("pem", api().public_key_pem(TestKey::Rsa.public_pem())),
        ("der", api().public_key_der(der)),
        ("jwk", api().public_key_jwk(jwk_text)),
    ] {
        let client = ignite(builder, &[]);
        let response = private_as(&client, &good("alice"));
        assert_eq!(response.status(), Status::Ok, "{form}");
        assert_eq!(response.into_string().as_deref(), Some("sub=alice"));
        let other = rs256(TestKey::Rsa2, &claims("mallory", json!({})));
        assert_invalid(private_as(&client, &other), "Signature verification failed");
    }
}

#[test]
fn static_keys_from_public_key_file_in_rocket_config() {
    for file in [
        "keys/rsa_public.pem",
        "keys/rsa_public_pkcs1.der",
        "keys/rsa_public.jwk.json",
    ] {
        let path = common::jwks_server::testdata(file);
        let client = ignite(api(), &[("jwt.public_key_file", json!(path))]);
        assert_ok(private_as(&client, &good("alice")), "alice");
        let other = rs256(TestKey::Rsa2, &claims("mallory", json!({})));
        assert_invalid(private_as(&client, &other), "Signature verification failed");
    }
    // A file that does not exist fails ignition.
    let missing = common::jwks_server::testdata("keys/no-such-key.pem");
    assert!(try_client(api(), &[("jwt.public_key_file", json!(missing))]).is_err());
    // No key at all, too.
    assert!(try_client(api(), &[]).is_err());
}

// ----- the log line of a rejection ---------------------------------------------------------------------

/// Requests `token` at `base`/api/private (a path no other test uses) and returns the one log
/// line the rejection wrote, after checking that no captured line holds the token, its
/// signature or key material.
fn rejection_log_line(base: &str, jwt: JwtBuilder<Caller>, token: &str) -> (Value, String) {
    let client = Client::tracked(rocket_at(base, jwt, &[])).expect("the rocket ignites");
    let path = format!("{base}/api/private");
    let response = client
        .get(path.clone())
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch();
    assert_eq!(response.status(), Status::Unauthorized);
    let body: Value = response.into_json().expect("a JSON error");
    // Rocket logs the request too; the library writes one line.
    let lines: Vec<String> = logs::containing(&format!("GET {path}"))
        .into_iter()
        .filter(|line| line.contains(" rocket_flask_jwt_runtime"))
        .collect();
    assert_eq!(lines.len(), 1, "one line per rejection: {lines:#?}");
    assert!(
        lines[0].starts_with("INFO rocket_flask_jwt_runtime::http::engine: jwt: GET "),
        "{lines:#?}"
    );
    let signature = token.rsplit('.').next().unwrap();
    for line in logs::all() {
        assert!(!line.contains(token), "the token is logged: {line}");
        assert!(!line.contains(signature), "the signature is logged: {line}");
        for secret in ["-----BEGIN", "PRIVATE KEY", "a-real-hmac-secret"] {
            assert!(!line.contains(secret), "key material is logged: {line}");
        }
    }
    (body, lines.into_iter().next().unwrap())
}

#[test]
fn a_wrong_issuer_logs_the_check_and_both_issuers() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let token = rs256(
        TestKey::Rsa,
        &claims("alice", json!({"iss": "https://issuer.example"})),
    );
    let (body, line) = rejection_log_line("/log-issuer", jwks_api(&server), &token);
    assert_eq!(body["description"], INVALID_ISSUER);
    assert!(
        line.contains("(failed check: intended authority)"),
        "{line}"
    );
    assert!(
        line.contains(
            r#"expected iss "https://issuer.example/", received "https://issuer.example""#
        ),
        "{line}"
    );
}

#[test]
fn an_expired_token_logs_the_check_and_how_long_ago() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let now = now();
    let token = rs256(
        TestKey::Rsa,
        &claims(
            "alice",
            json!({"iat": now - 3900, "nbf": now - 3900, "exp": now - 3600}),
        ),
    );
    let (body, line) = rejection_log_line("/log-expired", jwks_api(&server), &token);
    assert_eq!(body["description"], "Signature has expired");
    assert!(line.contains("Signature has expired"), "{line}");
    assert!(line.contains("(failed check: validity period)"), "{line}");
    let marker = "[expired ";
    let start = line.find(marker).expect("seconds since expiry") + marker.len();
    let seconds: i64 = line[start..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((3600..=3605).contains(&seconds), "{line}");
    assert!(line[start..].contains(" s ago (leeway 10 s)]"), "{line}");
}

#[test]
fn an_unknown_kid_logs_the_check_and_the_kid() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let token = sign(
        TestKey::Rsa2,
        Algorithm::RS256,
        Some("rotated-away"),
        &claims("alice", json!({})),
    );
    let (body, line) = rejection_log_line("/log-kid", jwks_api(&server), &token);
    assert_eq!(body["description"], UNKNOWN_KEY);
    assert!(
        line.contains("(failed check: intended authority)"),
        "{line}"
    );
    assert!(
        line.contains(r#"kid "rotated-away" is not in the authority's key set"#),
        "{line}"
    );
}

#[test]
fn a_forged_hs256_token_logs_the_signature_check_without_the_secret() {
    let jwt = api()
        .algorithms([Algorithm::RS256, Algorithm::HS256])
        .secret_key("a-real-hmac-secret-of-at-least-32-bytes")
        .public_key_pem(TestKey::Rsa.public_pem());
    let token = hs256_with_the_public_pem(None);
    let (body, line) = rejection_log_line("/log-confusion", jwt, &token);
    assert_eq!(body["description"], "Signature verification failed");
    assert!(line.contains("(failed check: signature)"), "{line}");
}
