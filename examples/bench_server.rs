//! The load benchmark's server (`scripts/bench-load.sh`): the resource-server configuration (no
//! `/auth`, `Bearer` tokens, `iss` and `aud` checked, the identity from `sub`) with a static key
//! from `testdata/keys` instead of a JWKS, so that the benchmark needs no key server.
//!
//! ```text
//! BENCH_ALG=ES256 cargo run --release --example bench_server          # serves on ROCKET_PORT
//! BENCH_ALG=ES256 cargo run --release --example bench_server -- mint  # one valid token
//! BENCH_ALG=ES256 cargo run --release --example bench_server -- mint 10000 > tokens.txt
//! curl -s localhost:8000/protected -H "Authorization: Bearer $TOKEN"
//! curl -s localhost:8000/unprotected
//! ```
//!
//! `BENCH_ALG` is `HS256`, `RS256` (the default), `PS256`, `ES256` or `EdDSA`. `/protected` needs a
//! token; `/unprotected` is its twin without the guard, answering the same body. The keys are the
//! test keys of `testdata/keys`: never use them anywhere else.
//!
//! `/dpop` is `/protected` on a route that allows DPoP (RFC 9449), for `scripts/bench-dpop.sh`:
//! a bearer token, or a DPoP-bound token with a proof. `mint-dpop N ALG ORIGIN` prints N lines
//! `<token> <proof>`: one token bound to the client key of `ALG` (`ES256` or `EdDSA`, keys of
//! `testdata/keys` other than the server's) and N distinct proofs for `GET ORIGIN/dpop`.
//!
//! `BENCH_PROFILE=extended` serves the Flask-JWT-Extended profile instead (HS256, tokens in the
//! `Authorization: Bearer` header or the access cookie, CSRF protection on), with `POST` twins of
//! both routes: `mint` then gives an access token whose `csrf` claim is [`CSRF`], the value a
//! cookie request sends in `X-CSRF-TOKEN`.
#[macro_use]
extern crate rocket;

use std::time::Duration;

use rocket_flask_jwt::{
    current_identity, extended::Location, jwt_required, settings::KeyMaterial, settings::Secret,
    validation::TokenCodec, Algorithm, DpopMode, Jwt, JwtAuth, JwtResponse, Payload, Profile,
    Rules, Settings,
};

/// The DPoP client keys and proofs of the tests.
#[path = "../tests/common/dpop.rs"]
mod dpop;

/// The caller, from the token's `sub` claim.
#[derive(Debug)]
struct Caller {
    subject: String,
}

const ISSUER: &str = "https://issuer.example/";
const AUDIENCE: &str = "https://api.example/";
/// The subject of `mint`'s token, and of `/unprotected`'s answer.
const SUBJECT: &str = "bench-user";
/// HS256's secret (32 bytes or more; a benchmark value, never a real one).
const SECRET: &str = "bench-secret-bench-secret-bench-secret";
/// The `csrf` claim of the extended profile's minted token.
const CSRF: &str = "5b0f4f43-6a1d-4d1e-9c11-0b1a2c3d4e5f";
/// Minted tokens stay valid this long, longer than any benchmark run.
const LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The algorithm named by `BENCH_ALG`, and its test keys (private, public) as PEM.
fn algorithm() -> (Algorithm, Option<(&'static str, &'static str)>) {
    let rsa = (
        include_str!("../testdata/keys/rsa_private.pem"),
        include_str!("../testdata/keys/rsa_public.pem"),
    );
    let name = std::env::var("BENCH_ALG").unwrap_or_else(|_| "RS256".into());
    match name.as_str() {
        "HS256" => (Algorithm::HS256, None),
        "RS256" => (Algorithm::RS256, Some(rsa)),
        "PS256" => (Algorithm::PS256, Some(rsa)),
        "ES256" => (
            Algorithm::ES256,
            Some((
                include_str!("../testdata/keys/ec_private.pem"),
                include_str!("../testdata/keys/ec_public.pem"),
            )),
        ),
        "EdDSA" => (
            Algorithm::EdDSA,
            Some((
                include_str!("../testdata/keys/ed_private.pem"),
                include_str!("../testdata/keys/ed_public.pem"),
            )),
        ),
        other => panic!("BENCH_ALG={other:?}: expected HS256, RS256, PS256, ES256 or EdDSA"),
    }
}

/// Whether `BENCH_PROFILE=extended` asks for the Flask-JWT-Extended profile.
fn extended() -> bool {
    std::env::var("BENCH_PROFILE").is_ok_and(|profile| profile == "extended")
}

/// The resource server's settings with a static key: `with_private` adds the signing key.
fn settings(with_private: bool) -> Settings {
    if extended() {
        return Settings {
            secret_key: Some(Secret::new(SECRET)),
            token_location: vec![Location::Headers, Location::Cookies],
            expiration_delta: LIFETIME,
            ..Settings::for_profile(Profile::Extended)
        };
    }
    let (algorithm, keys) = algorithm();
    let mut settings = Settings {
        algorithm,
        auth_url_rule: None,
        auth_header_prefix: "Bearer".into(),
        issuer: Some(ISSUER.into()),
        audience: vec![AUDIENCE.into()],
        identity_claim: "sub".into(),
        expiration_delta: LIFETIME,
        ..Settings::default()
    };
    match keys {
        None => settings.secret_key = Some(Secret::new(SECRET)),
        Some((private, public)) => {
            settings.public_key = Some(KeyMaterial::Pem(public.into()));
            if with_private {
                settings.private_key = Some(KeyMaterial::Pem(private.into()));
            }
        }
    }
    settings
}

#[jwt_required]
#[get("/protected")]
fn protected() -> String {
    format!("Caller(sub='{}')", current_identity!(Caller).subject)
}

/// The twin of `/protected` without the guard: the same body for `mint`'s token.
#[get("/unprotected")]
fn unprotected() -> String {
    format!("Caller(sub='{SUBJECT}')")
}

/// `/protected` for state-changing requests: with a cookie token, the CSRF value is checked.
#[jwt_required]
#[post("/protected")]
fn protected_post() -> String {
    format!("Caller(sub='{}')", current_identity!(Caller).subject)
}

/// The twin of `POST /protected` without the guard.
#[post("/unprotected")]
fn unprotected_post() -> String {
    format!("Caller(sub='{SUBJECT}')")
}

/// A route that allows DPoP whatever the setting says.
struct DpopAllowed;
impl Rules for DpopAllowed {
    const DPOP: Option<DpopMode> = Some(DpopMode::Allowed);
}

/// `/protected` on a route that allows DPoP.
#[get("/dpop")]
fn dpop_route(auth: JwtAuth<DpopAllowed>) -> Result<String, JwtResponse> {
    auth.run_sync(|| format!("Caller(sub='{}')", current_identity!(Caller).subject))
}

fn app() -> rocket::Rocket<rocket::Build> {
    let jwt = Jwt::builder()
        .settings(settings(false))
        .identity_from_claim(|sub| {
            Some(Caller {
                subject: sub.as_str()?.to_owned(),
            })
        })
        .build()
        .expect("the Jwt configuration is complete");
    rocket::build().attach(jwt).mount(
        "/",
        routes![
            protected,
            unprotected,
            protected_post,
            unprotected_post,
            dpop_route
        ],
    )
}

/// `count` valid tokens, one per line: `mint` alone gives the one for `SUBJECT`, `mint N` gives N
/// distinct ones (subjects `bench-user-0`, `bench-user-1`, ...).
fn mint(count: Option<usize>) -> String {
    let codec = TokenCodec::new(settings(true)).expect("the test keys parse");
    let token = |subject: String| {
        let mut claims = codec.default_payload(subject.clone().into());
        if extended() {
            claims.insert("type".into(), "access".into());
            claims.insert("fresh".into(), false.into());
            claims.insert("jti".into(), format!("jti-{subject}").into());
            claims.insert("csrf".into(), CSRF.into());
        } else {
            claims.insert("iss".into(), ISSUER.into());
            claims.insert("aud".into(), AUDIENCE.into());
        }
        codec
            .encode(&claims, &Payload::new())
            .expect("signing with the test key")
    };
    match count {
        None => token(SUBJECT.into()),
        Some(count) => (0..count)
            .map(|i| token(format!("{SUBJECT}-{i}")))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// `count` lines `<token> <proof>`: a token bound to the client key of `algorithm`, and distinct
/// proofs for `GET <origin>/dpop` sent with it.
fn mint_dpop(count: usize, algorithm: &str, origin: &str) -> String {
    let key = match algorithm {
        "ES256" => dpop::ClientKey::other_es256(),
        "EdDSA" => dpop::ClientKey::eddsa(),
        other => panic!("`mint-dpop N ALG ORIGIN`: ALG {other:?} is ES256 or EdDSA"),
    };
    let codec = TokenCodec::new(settings(true)).expect("the test keys parse");
    let mut claims = codec.default_payload(SUBJECT.into());
    claims.insert("iss".into(), ISSUER.into());
    claims.insert("aud".into(), AUDIENCE.into());
    claims.insert(
        "cnf".into(),
        rocket::serde::json::json!({ "jkt": key.thumbprint }),
    );
    let token = codec
        .encode(&claims, &Payload::new())
        .expect("signing with the test key");
    let url = format!("{origin}/dpop");
    (0..count)
        .map(|_| format!("{token} {}", key.proof("GET", &url, Some(&token))))
        .collect::<Vec<_>>()
        .join("\n")
}

#[launch]
fn rocket() -> _ {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    if command.as_deref() == Some("mint-dpop") {
        let (Some(count), Some(algorithm), Some(origin)) = (args.next(), args.next(), args.next())
        else {
            panic!("usage: mint-dpop N ALG ORIGIN");
        };
        let count = count
            .parse()
            .expect("`mint-dpop N`: N is a number of proofs");
        println!("{}", mint_dpop(count, &algorithm, &origin));
        std::process::exit(0);
    }
    if command.as_deref() == Some("mint") {
        let count = args
            .next()
            .map(|n| n.parse().expect("`mint N`: N is a number of tokens"));
        println!("{}", mint(count));
        std::process::exit(0);
    }
    app()
}
