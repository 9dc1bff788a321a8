//! The inspector refuses everything the guard refuses, with the same error: a property test over
//! generated tokens (keys, header `typ`, every registered claim present, absent or wrong, the
//! extended profile's `jti` and identity claim, RFC 9068's claims, bytes cut off) and settings
//! (both profiles, `strict_access_tokens` on and off, one key or two trusted authorities, issuer
//! and audience expected or not).
//!
//! For each case the token goes to a `#[jwt_required]`-equivalent route through Rocket's local
//! client, whose handler records the guard's verdict, and to [`Verifier::inspect`] on the
//! settings resolved as `jwt-inspect` resolves them (the same `Verifier` the fairing builds at
//! ignition). The verdicts (accepted, or the error's kind and description) must be equal.

use std::sync::Mutex;

use jsonwebtoken::{EncodingKey, Header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rocket::figment::Figment;
use rocket::http::Header as HttpHeader;
use rocket::local::blocking::Client;
use rocket::State;
use rocket_flask_jwt::{
    settings::KeyMaterial, settings::TrustedAuthority, validation::Verifier, Algorithm, Jwt,
    JwtAuth, Profile, Refused, Settings,
};
use serde_json::{json, Map, Value};

use crate::common::jwks_server::testdata;

/// Generated cases; each runs the guard and the inspector once.
const CASES: u32 = 400;

const ISSUER_A: &str = "https://a.example/";
const ISSUER_B: &str = "https://b.example/";

fn key(name: &str) -> String {
    std::fs::read_to_string(testdata(&format!("keys/{name}"))).expect("a test key")
}

/// The verdict, as comparable text: `accepted`, or the refusal's kind and description.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict(String);

impl Verdict {
    fn of(outcome: Result<(), &rocket_flask_jwt::JwtError>) -> Verdict {
        Verdict(match outcome {
            Ok(()) => "accepted".into(),
            Err(error) => format!("{:?}: {}", error.kind, error.description),
        })
    }
}

/// The last verdict of the probe route.
struct Seen(Mutex<Option<Verdict>>);

#[rocket::get("/probe")]
fn probe(auth: Result<JwtAuth, Refused>, seen: &State<Seen>) -> &'static str {
    let verdict = Verdict::of(auth.as_ref().map(|_| ()).map_err(|refused| &refused.error));
    *seen.0.lock().expect("not poisoned") = Some(verdict);
    "probed"
}

/// One configuration: the application and the inspector's verifier over the same settings.
struct Setup {
    name: String,
    prefix: &'static str,
    client: Client,
    verifier: Verifier,
}

/// The settings of a configuration: `profile`, `strict`, two `authorities` or one key, and
/// (without authorities) whether an issuer and audience are expected.
fn settings(profile: Profile, strict: bool, authorities: bool, expect: bool) -> Settings {
    let mut settings = Settings::for_profile(profile);
    settings.algorithm = Algorithm::RS256;
    if authorities {
        let authority = |name: &str, issuer: &str, public: &str| {
            let mut authority = TrustedAuthority::new(name, issuer);
            authority.audience = vec!["api".into()];
            authority.public_key = Some(key(public));
            authority.algorithms = vec![Algorithm::RS256];
            authority
        };
        settings.authorities = vec![
            authority("a", ISSUER_A, "rsa_public.pem"),
            authority("b", ISSUER_B, "rsa2_public.pem"),
        ];
    } else {
        settings.public_key = Some(KeyMaterial::Pem(key("rsa_public.pem")));
        if expect || strict {
            settings.issuer = Some(ISSUER_A.into());
            settings.audience = vec!["api".into()];
        }
    }
    settings.strict_access_tokens = strict;
    settings.auth_url_rule = None;
    settings
}

fn setup(profile: Profile, strict: bool, authorities: bool, expect: bool) -> Setup {
    let settings = settings(profile, strict, authorities, expect);
    let jwt: Jwt<()> = Jwt::builder()
        .settings(settings)
        .identity_handler(|_| Some(()))
        .build()
        .expect("the configuration builds");
    let figment = Figment::from(rocket::Config::debug_default()).merge(("log_level", "off"));
    // As `jwt-inspect` resolves them: Rocket's configuration over the settings, then the
    // runtime's `Verifier`, which the fairing builds from the same settings at ignition.
    let resolved = jwt
        .settings()
        .clone()
        .with_rocket_config(&figment)
        .expect("the settings resolve");
    let verifier = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(Verifier::resolve(resolved))
        .expect("the verifier resolves");
    let rocket = rocket::custom(figment)
        .attach(jwt)
        .manage(Seen(Mutex::new(None)))
        .mount("/", rocket::routes![probe]);
    Setup {
        name: format!("{profile:?}, strict {strict}, authorities {authorities}, expect {expect}"),
        prefix: match profile {
            Profile::FlaskJwt => "JWT",
            Profile::Extended => "Bearer",
        },
        client: Client::tracked(rocket).expect("valid rocket"),
        verifier,
    }
}

/// Which value a claim takes in a generated token.
#[derive(Debug, Clone, Copy)]
enum Pick {
    Absent,
    Good,
    Bad,
}

fn pick() -> impl Strategy<Value = Pick> {
    // Mostly good, so that whole tokens are often valid and each refusal has one cause or two.
    prop_oneof![1 => Just(Pick::Absent), 12 => Just(Pick::Good), 1 => Just(Pick::Bad)]
}

/// A generated token: which key signs it (or a changed signature), its `typ`, each claim's pick, and how many bytes are
/// cut from its end.
#[derive(Debug, Clone)]
struct TokenCase {
    signer: usize,
    typ: usize,
    iss: usize,
    aud: Pick,
    exp: Pick,
    iat: Pick,
    nbf: Pick,
    sub: Pick,
    identity: Pick,
    jti: Pick,
    client_id: Pick,
    cut: usize,
}

fn token_case() -> impl Strategy<Value = TokenCase> {
    (
        (
            prop_oneof![6 => Just(0usize), 2 => Just(1), 1 => Just(2)],
            0..3usize,
            prop_oneof![1 => Just(0usize), 4 => Just(1), 2 => Just(2), 1 => Just(3)],
            pick(),
            pick(),
            pick(),
        ),
        (pick(), pick(), pick(), pick(), pick()),
        prop_oneof![8 => Just(0usize), 1 => 1..40usize],
    )
        .prop_map(
            |((signer, typ, iss, aud, exp, iat), (nbf, sub, identity, jti, client_id), cut)| {
                TokenCase {
                    signer,
                    typ,
                    iss,
                    aud,
                    exp,
                    iat,
                    nbf,
                    sub,
                    identity,
                    jti,
                    client_id,
                    cut,
                }
            },
        )
}

impl TokenCase {
    fn token(&self) -> String {
        let now = rocket_flask_jwt::testing::now();
        let mut claims = Map::new();
        let mut put = |name: &str, pick: Pick, good: Value, bad: Value| match pick {
            Pick::Absent => {}
            Pick::Good => {
                claims.insert(name.into(), good);
            }
            Pick::Bad => {
                claims.insert(name.into(), bad);
            }
        };
        // Times an hour from now or ago, far from any leeway.
        put("aud", self.aud, json!("api"), json!("other-api"));
        put("exp", self.exp, json!(now + 3600), json!(now - 3600));
        put("iat", self.iat, json!(now - 60), json!(now + 3600));
        put("nbf", self.nbf, json!(now - 60), json!(now + 3600));
        put("sub", self.sub, json!("user-1"), json!(7));
        put("identity", self.identity, json!(1), json!(null));
        put("jti", self.jti, json!("id-1"), json!(7));
        put("client_id", self.client_id, json!("client-1"), json!(["c"]));
        match self.iss {
            0 => {}
            1 => {
                claims.insert("iss".into(), json!(ISSUER_A));
            }
            2 => {
                claims.insert("iss".into(), json!(ISSUER_B));
            }
            _ => {
                claims.insert("iss".into(), json!("https://elsewhere.example/"));
            }
        }
        let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
        header.typ = match self.typ {
            0 => Some("JWT".into()),
            1 => Some("at+jwt".into()),
            _ => None,
        };
        // Authority a's key, authority b's, or a's with the signature's first bytes changed.
        let signer = ["rsa_private.pem", "rsa2_private.pem", "rsa_private.pem"][self.signer];
        let key = EncodingKey::from_rsa_pem(key(signer).as_bytes()).expect("an RSA key");
        let mut token = jsonwebtoken::encode(&header, &claims, &key).expect("signed");
        if self.signer == 2 {
            let signature = token.rfind('.').expect("three segments") + 1;
            let changed = if token[signature..].starts_with("AAAA") {
                "BBBB"
            } else {
                "AAAA"
            };
            token.replace_range(signature..signature + 4, changed);
        }
        token[..token.len() - self.cut.min(token.len())].to_string()
    }
}

#[test]
fn the_inspector_refuses_what_the_guard_refuses_with_the_same_error() {
    let mut setups = Vec::new();
    for profile in [Profile::FlaskJwt, Profile::Extended] {
        for strict in [false, true] {
            for (authorities, expect) in [(false, false), (false, true), (true, true)] {
                setups.push(setup(profile, strict, authorities, expect));
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let accepted = std::cell::Cell::new(0usize);
    let refusals = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let strategy = (0..setups.len(), token_case());
    runner
        .run(&strategy, |(index, case)| {
            let setup = &setups[index];
            let token = case.token();
            let response = setup
                .client
                .get("/probe")
                .header(HttpHeader::new(
                    "Authorization",
                    format!("{} {token}", setup.prefix),
                ))
                .dispatch();
            let guard = setup
                .client
                .rocket()
                .state::<Seen>()
                .and_then(|seen| seen.0.lock().expect("not poisoned").take())
                .ok_or_else(|| TestCaseError::fail("the probe route did not run"))?;
            drop(response);
            let inspection = runtime.block_on(setup.verifier.inspect(&token));
            let inspector = Verdict::of(match &inspection.first_failure {
                None => Ok(()),
                Some(error) => Err(error),
            });
            if guard.0 == "accepted" {
                accepted.set(accepted.get() + 1);
            } else {
                refusals.borrow_mut().insert(guard.0.clone());
            }
            prop_assert_eq!(
                &guard,
                &inspector,
                "{} with {:?}: {}",
                setup.name,
                case,
                token
            );
            Ok(())
        })
        .expect("the inspector's verdict is the guard's");
    // The generator reaches both answers often enough for the comparison to mean something.
    let refusals = refusals.into_inner();
    assert!(
        accepted.get() >= 5 && refusals.len() >= 10,
        "{} accepted, {} kinds of refusal: {refusals:#?}",
        accepted.get(),
        refusals.len()
    );
}
