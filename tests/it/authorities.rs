//! Several trusted authorities (the `authorities` setting) against real local JWKS servers, one
//! per issuer: each token is verified with the keys of the authority its `iss` names, never
//! another's; an unknown issuer fetches nothing; rotation at one authority leaves the other
//! alone; a route may restrict itself to named authorities.

use crate::common;
use common::jwks_server::{sign, JwksServer, TestKey};
use common::now;

use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::routes;
use rocket_flask_jwt::{
    jwt_required, settings::TrustedAuthority, Algorithm, Jwt, JwtAuth, JwtBuilder, JwtResponse,
    Rules,
};
use serde_json::{json, Value};

#[jwt_required]
#[rocket::get("/any")]
fn any() -> &'static str {
    "any"
}

#[jwt_required(scopes = ["read:messages"])]
#[rocket::get("/scoped")]
fn scoped() -> &'static str {
    "scoped"
}

#[jwt_required(authorities = ["b"], scopes = ["read:messages"])]
#[rocket::get("/only-b")]
fn only_b() -> &'static str {
    "only b"
}

/// Tokens of authority `a` only.
struct OnlyA;
impl Rules for OnlyA {
    const AUTHORITIES: &'static [&'static str] = &["a"];
}

#[rocket::get("/only-a")]
fn only_a(auth: JwtAuth<OnlyA>) -> Result<&'static str, JwtResponse> {
    auth.run_sync(|| "only a")
}

/// Two authorities, `a` (RSA keys from its server, audience `api-a`) and `b` (EC keys from its
/// server, audience `api-b`), both inheriting the base settings (here no JWKS cooldown).
/// A route that takes only DPoP-bound tokens with their proofs.
struct Bound;
impl Rules for Bound {
    const DPOP: Option<rocket_flask_jwt::DpopMode> = Some(rocket_flask_jwt::DpopMode::Required);
}

#[rocket::get("/bound")]
fn bound(auth: JwtAuth<Bound>) -> Result<&'static str, JwtResponse> {
    auth.run_sync(|| "bound")
}

struct Setup {
    a: JwksServer,
    b: JwksServer,
    client: Client,
}

fn issuer(server: &JwksServer) -> String {
    format!("{}/", server.base_url())
}

fn setup() -> Setup {
    let a = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let b = JwksServer::start(&[TestKey::Ec.jwk()]);
    let authority = |name: &str, server: &JwksServer, audience: &str, algorithm| TrustedAuthority {
        audience: vec![audience.into()],
        jwks_url: Some(server.jwks_url()),
        algorithms: vec![algorithm],
        ..TrustedAuthority::new(name, issuer(server))
    };
    let jwt: JwtBuilder<()> = Jwt::builder()
        .disable_auth_url_rule()
        .auth_header_prefix("Bearer")
        .identity_claim("sub")
        .identity_from_claim(|_| Some(()))
        .trusted_authorities([
            authority("a", &a, "api-a", Algorithm::RS256),
            authority("b", &b, "api-b", Algorithm::ES256),
        ]);
    // No cooldown: a new kid is fetched at once, here right after ignition's fetch.
    let figment = rocket::figment::Figment::from(rocket::Config::debug_default())
        .merge(("jwt.jwks_cooldown", 0));
    let rocket = rocket::custom(figment)
        .attach(jwt.build().expect("a complete configuration"))
        .mount("/", routes![any, scoped, only_a, only_b, bound]);
    let client = Client::tracked(rocket).expect("the rocket ignites");
    Setup { a, b, client }
}

fn claims(iss: &str, aud: &str, extra: Value) -> Value {
    let now = now();
    let mut claims = json!({"sub": "alice", "iss": iss, "aud": aud,
                            "iat": now, "nbf": now, "exp": now + 300});
    for (name, value) in extra.as_object().expect("an object") {
        claims[name] = value.clone();
    }
    claims
}

fn token_a(setup: &Setup, extra: Value) -> String {
    let claims = claims(&issuer(&setup.a), "api-a", extra);
    sign(TestKey::Rsa, Algorithm::RS256, Some("rsa-1"), &claims)
}

fn token_b(setup: &Setup, extra: Value) -> String {
    let claims = claims(&issuer(&setup.b), "api-b", extra);
    sign(TestKey::Ec, Algorithm::ES256, Some("ec-1"), &claims)
}

fn get<'c>(client: &'c Client, path: &'c str, token: &str) -> LocalResponse<'c> {
    client
        .get(path)
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
}

fn description(response: LocalResponse<'_>) -> (u16, String) {
    let status = response.status().code;
    let body: Value = response.into_json().expect("JSON");
    (
        status,
        body["description"].as_str().unwrap_or_default().to_owned(),
    )
}

const INVALID_ISSUER: &str = "Invalid issuer: the token is not from the intended authority";

#[test]
fn each_authority_s_tokens_are_verified_with_its_own_keys() {
    let setup = setup();
    assert_eq!(
        (setup.a.jwks_hits(), setup.b.jwks_hits()),
        (1, 1),
        "one fetch each at ignition"
    );
    assert_eq!(
        get(&setup.client, "/any", &token_a(&setup, json!({}))).status(),
        Status::Ok
    );
    assert_eq!(
        get(&setup.client, "/any", &token_b(&setup, json!({}))).status(),
        Status::Ok
    );
    assert_eq!(
        (setup.a.jwks_hits(), setup.b.jwks_hits()),
        (1, 1),
        "cached keys"
    );
    // The route's scopes still apply.
    let scoped = token_b(&setup, json!({"scope": "read:messages"}));
    assert_eq!(get(&setup.client, "/scoped", &scoped).status(), Status::Ok);
    let unscoped = token_a(&setup, json!({}));
    assert_eq!(
        get(&setup.client, "/scoped", &unscoped).status(),
        Status::Forbidden
    );
}

#[test]
fn a_token_of_one_issuer_signed_with_the_other_s_key_is_refused() {
    let setup = setup();
    // `iss` of a, signed with b's key under b's kid: a's keys do not have it.
    let forged = sign(
        TestKey::Ec,
        Algorithm::ES256,
        Some("ec-1"),
        &claims(&issuer(&setup.a), "api-a", json!({})),
    );
    let (status, _) = description(get(&setup.client, "/any", &forged));
    assert_eq!(status, 401);
    // And the other way round, with the RS256 key of a for b.
    let forged = sign(
        TestKey::Rsa,
        Algorithm::RS256,
        Some("rsa-1"),
        &claims(&issuer(&setup.b), "api-b", json!({})),
    );
    let (status, _) = description(get(&setup.client, "/any", &forged));
    assert_eq!(status, 401);
    assert_eq!(
        setup.b.jwks_hits(),
        1,
        "b's keys are never fetched for a's kid"
    );
}

#[test]
fn each_authority_has_its_own_audience() {
    let setup = setup();
    let crossed = sign(
        TestKey::Rsa,
        Algorithm::RS256,
        Some("rsa-1"),
        &claims(&issuer(&setup.a), "api-b", json!({})),
    );
    let (status, description) = description(get(&setup.client, "/any", &crossed));
    assert_eq!(status, 401);
    assert!(description.starts_with("Invalid audience"), "{description}");
}

#[test]
fn an_unknown_or_missing_issuer_is_refused_without_a_fetch() {
    let setup = setup();
    let hits = (setup.a.total_hits(), setup.b.total_hits());
    for iss in [
        json!("https://evil.example/"),
        json!(issuer(&setup.a).trim_end_matches('/')),
        json!(null),
        json!(["x"]),
    ] {
        let mut claims = claims("unused", "api-a", json!({}));
        claims["iss"] = iss.clone();
        let token = sign(TestKey::Rsa, Algorithm::RS256, Some("unknown-kid"), &claims);
        let (status, description) = description(get(&setup.client, "/any", &token));
        assert_eq!(
            (status, description.as_str()),
            (401, INVALID_ISSUER),
            "{iss}"
        );
    }
    assert_eq!(
        (setup.a.total_hits(), setup.b.total_hits()),
        hits,
        "nothing fetched"
    );
}

#[test]
fn a_malformed_or_oversized_token_gets_the_pipeline_s_answer_before_any_issuer_is_read() {
    let setup = setup();
    let hits = (setup.a.total_hits(), setup.b.total_hits());
    let huge = format!("{}.{}.x", "e30", "A".repeat(20_000));
    for (token, expected) in [
        (huge.as_str(), "Token is too large"),
        ("abc", "Not enough segments"),
    ] {
        let (status, description) = description(get(&setup.client, "/any", token));
        assert_eq!((status, description.as_str()), (401, expected));
    }
    assert_eq!((setup.a.total_hits(), setup.b.total_hits()), hits);
}

#[test]
fn rotation_at_one_authority_leaves_the_other_alone() {
    let setup = setup();
    setup.a.set_keys(&[TestKey::Rsa2.jwk()]);
    let rotated = sign(
        TestKey::Rsa2,
        Algorithm::RS256,
        Some("rsa-2"),
        &claims(&issuer(&setup.a), "api-a", json!({})),
    );
    assert_eq!(get(&setup.client, "/any", &rotated).status(), Status::Ok);
    assert_eq!(setup.a.jwks_hits(), 2, "one refetch at a");
    assert_eq!(setup.b.jwks_hits(), 1, "none at b");
    assert_eq!(
        get(&setup.client, "/any", &token_b(&setup, json!({}))).status(),
        Status::Ok
    );
}

#[test]
fn a_route_restricted_to_an_authority_refuses_the_other_s_tokens() {
    let setup = setup();
    assert_eq!(
        get(&setup.client, "/only-a", &token_a(&setup, json!({}))).status(),
        Status::Ok
    );
    let (status, text) = description(get(&setup.client, "/only-a", &token_b(&setup, json!({}))));
    assert_eq!((status, text.as_str()), (401, INVALID_ISSUER));
    // A token b verified (and cached) on an open route is still refused where only a is
    // accepted: the route's authorities choose which caches are asked.
    let cached_b = token_b(&setup, json!({"jti": "cached"}));
    assert_eq!(get(&setup.client, "/any", &cached_b).status(), Status::Ok);
    assert_eq!(get(&setup.client, "/any", &cached_b).status(), Status::Ok);
    let (status, text) = description(get(&setup.client, "/only-a", &cached_b));
    assert_eq!((status, text.as_str()), (401, INVALID_ISSUER));
    // The attribute's form, combined with scopes.
    let scoped_b = token_b(&setup, json!({"scope": "read:messages"}));
    let scoped_a = token_a(&setup, json!({"scope": "read:messages"}));
    assert_eq!(
        get(&setup.client, "/only-b", &scoped_b).status(),
        Status::Ok
    );
    let (status, text) = description(get(&setup.client, "/only-b", &scoped_a));
    assert_eq!((status, text.as_str()), (401, INVALID_ISSUER));
    let unscoped_b = token_b(&setup, json!({}));
    assert_eq!(
        get(&setup.client, "/only-b", &unscoped_b).status(),
        Status::Forbidden
    );
}

#[test]
fn authorities_and_a_single_issuer_cannot_be_mixed() {
    let jwt: JwtBuilder<()> = Jwt::builder()
        .disable_auth_url_rule()
        .issuer("https://one.example/")
        .identity_from_claim(|_| Some(()))
        .trusted_authorities([TrustedAuthority::new("a", "https://a.example/")]);
    let error = jwt.build().err().expect("refused");
    assert!(error.to_string().contains("authorities"), "{error}");
}

/// Each authority's DPoP-bound tokens pass a DPoP route with their proofs (the origin from the
/// request's `Host`), and never as bearer tokens.
#[test]
fn each_authority_s_bound_tokens_need_their_proofs() {
    use common::dpop::ClientKey;
    let setup = setup();
    let key = ClientKey::es256();
    let cnf = json!({"cnf": {"jkt": key.thumbprint}});
    for token in [token_a(&setup, cnf.clone()), token_b(&setup, cnf.clone())] {
        let send = |scheme: &str, proof: Option<String>| {
            let mut request = setup
                .client
                .get("/bound")
                .header(Header::new("Authorization", format!("{scheme} {token}")));
            // What Rocket reads from a real request's `Host` header.
            request
                .inner_mut()
                .set_host(rocket::http::uri::Host::parse("api.test").expect("a host"));
            if let Some(proof) = proof {
                request = request.header(Header::new("DPoP", proof));
            }
            request.dispatch().status()
        };
        let proof = key.proof("GET", "http://api.test/bound", Some(&token));
        assert_eq!(send("DPoP", Some(proof)), Status::Ok);
        let other = ClientKey::other_es256().proof("GET", "http://api.test/bound", Some(&token));
        assert_eq!(send("DPoP", Some(other)), Status::Unauthorized);
        assert_eq!(send("Bearer", None), Status::Unauthorized);
        // On a route without DPoP, the bound token is no bearer token either.
        assert_eq!(
            description(get(&setup.client, "/any", &token)),
            (
                401,
                "The token is bound to a key (cnf): it cannot be used as a bearer token".into()
            )
        );
    }
}
