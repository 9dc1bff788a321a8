//! Property tests (proptest, 256 cases each): whatever bytes a client sends — as the
//! `Authorization` header, as a token, as a `/auth` body — the answer is Flask-JWT's documented
//! 4xx JSON error (`status_code`, `error`, `description`), never a panic, never a 5xx; and a
//! token derived from a valid one (bytes flipped, inserted or deleted, segments swapped or
//! spliced, header or claims mutated and re-signed) is never accepted unless the token the server
//! reads is byte-identical to a valid one.
//!
//! Each property runs against the runtime's entry points ([`parse_authorization`],
//! [`TokenCodec::decode`]) and through Rocket's local client (`GET /protected`, `POST /auth`).

use crate::common;
use common::{joe, now, User, SECRET};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header};
use rocket::local::blocking::{Client, LocalResponse};
use rocket_flask_jwt::testing::parse_authorization;
use rocket_flask_jwt::{
    settings::KeyMaterial, settings::Secret, validation::TokenCodec, Algorithm, ErrorKind, Jwt,
    Settings,
};
use serde_json::{json, Map, Value};

const CASES: u32 = 256;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // No regression files in the source tree; a failure prints its minimal input.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ----- the application and codecs -----------------------------------------------------------------

fn hs256_settings() -> Settings {
    Settings {
        secret_key: Some(Secret::new(SECRET)),
        allow_short_secret: true,
        ..Settings::default()
    }
}

fn rs256_settings() -> Settings {
    let read = |name: &str| {
        std::fs::read_to_string(common::jwks_server::testdata(&format!("keys/{name}")))
            .expect("a test key")
    };
    Settings {
        algorithm: Algorithm::RS256,
        private_key: Some(KeyMaterial::Pem(read("rsa_private.pem"))),
        public_key: Some(KeyMaterial::Pem(read("rsa_public.pem"))),
        ..Settings::default()
    }
}

/// The fixture application with Rocket's logging off and `json_limit` bytes for `/auth` bodies.
fn client(settings: Settings, json_limit: Option<u64>) -> Client {
    let jwt: Jwt<User> = Jwt::builder()
        .settings(settings)
        .authentication_handler(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
        .build()
        .expect("the fixture builds");
    let mut figment = Figment::from(rocket::Config::debug_default()).merge(("log_level", "off"));
    if let Some(limit) = json_limit {
        figment = figment.merge(("limits.json", limit));
    }
    let rocket = rocket::custom(figment)
        .attach(jwt)
        .mount("/", rocket::routes![common::protected]);
    Client::tracked(rocket).expect("valid rocket")
}

thread_local! {
    static HS256: Client = client(hs256_settings(), None);
    static RS256: Client = client(rs256_settings(), None);
    /// `/auth` with a 96-byte `json` limit, so that generated bodies reach the 413 answer.
    static SMALL_LIMIT: Client = client(hs256_settings(), Some(96));
    static HS256_CODEC: TokenCodec = TokenCodec::new(hs256_settings()).expect("valid settings");
    static RS256_CODEC: TokenCodec = TokenCodec::new(rs256_settings()).expect("valid settings");
    /// Two valid HS256 tokens (identity 1 and 2) and one RS256 token, issued when first used.
    static TOKENS: Tokens = Tokens::new();
}

struct Tokens {
    hs256: String,
    hs256_other: String,
    rs256: String,
}

impl Tokens {
    fn new() -> Tokens {
        let hs256 = HS256_CODEC.with(|codec| {
            (
                codec.encode(&payload(1), &Map::new()).unwrap(),
                codec.encode(&payload(2), &Map::new()).unwrap(),
            )
        });
        Tokens {
            hs256: hs256.0,
            hs256_other: hs256.1,
            rs256: RS256_CODEC.with(|codec| codec.encode(&payload(1), &Map::new()).unwrap()),
        }
    }
}

fn payload(identity: u64) -> Map<String, Value> {
    common::claims(json!(identity))
        .as_object()
        .expect("an object")
        .clone()
}

fn hs256_token() -> String {
    TOKENS.with(|t| t.hs256.clone())
}

fn hs256_other_token() -> String {
    TOKENS.with(|t| t.hs256_other.clone())
}

fn rs256_token() -> String {
    TOKENS.with(|t| t.rs256.clone())
}

// ----- what every answer must look like ------------------------------------------------------------

/// The status of `response`, after checking its shape: 200 `success`, or a 4xx Flask-JWT JSON
/// error whose `status_code` is the status. Anything else (a 5xx, another body) fails the case.
fn answer(response: LocalResponse<'_>) -> Result<u16, TestCaseError> {
    let status = response.status().code;
    if status == 200 {
        let body = response.into_string().unwrap_or_default();
        prop_assert!(
            body == "success" || body.contains("access_token"),
            "200 with {}",
            body
        );
        return Ok(status);
    }
    prop_assert!((400..500).contains(&status), "status {}", status);
    prop_assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: Value = response
        .into_json()
        .ok_or_else(|| TestCaseError::fail("the error body is not JSON"))?;
    let object = body
        .as_object()
        .ok_or_else(|| TestCaseError::fail(format!("not an object: {body}")))?;
    prop_assert_eq!(object.len(), 3, "{}", body);
    prop_assert_eq!(&body["status_code"], &json!(status));
    for field in ["error", "description"] {
        let text = body[field].as_str().unwrap_or_default();
        prop_assert!(!text.is_empty(), "{} missing: {}", field, body);
    }
    Ok(status)
}

fn get(client: &Client, authorization: &str) -> Result<u16, TestCaseError> {
    answer(
        client
            .get("/protected")
            .header(Header::new("Authorization", authorization.to_owned()))
            .dispatch(),
    )
}

/// `token` presented through Rocket is accepted exactly when the token Flask-JWT's header rules
/// extract from `JWT <token>` is `valid`; the codec accepts `token` exactly when it is `valid`.
fn accepted_only_if_identical(
    client: &Client,
    codec: &TokenCodec,
    token: &str,
    valid: &str,
) -> Result<(), TestCaseError> {
    let value = format!("JWT {token}");
    let seen = parse_authorization(&value, "JWT").ok().flatten();
    let status = get(client, &value)?;
    prop_assert_eq!(
        status == 200,
        seen == Some(valid),
        "{:?} → {}",
        token,
        status
    );
    if status != 200 {
        prop_assert_eq!(status, 401);
    }
    match codec.decode(token) {
        Ok(_) => prop_assert_eq!(token, valid),
        Err(error) => {
            prop_assert_ne!(token, valid);
            prop_assert_eq!(error.status.code, 401);
            prop_assert!(
                matches!(error.kind, ErrorKind::InvalidToken(_)),
                "{:?}",
                error.kind
            );
            prop_assert!(error.check().is_some());
        }
    }
    Ok(())
}

// ----- strategies ----------------------------------------------------------------------------------

/// Header values: anything, and things shaped like `<scheme> <token>`.
fn authorization_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        "(?i)(jwt|bearer|basic)?[ \t\n\r\u{a0}\u{2003}]{0,3}[A-Za-z0-9_.=+/-]{0,80}( [A-Za-z0-9_.-]{0,20}){0,2}[ \t]{0,2}",
        "[ \t]{0,2}JWT[ \t]{1,3}[A-Za-z0-9_-]{0,20}(\\.[A-Za-z0-9_-]{0,30}){0,4}",
    ]
}

/// Token-shaped strings: base64url-ish segments, dots, padding, and anything at all.
fn token_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_-]{0,40}(\\.[A-Za-z0-9_=+/-]{0,60}){0,5}",
        "eyJ[A-Za-z0-9_-]{0,60}\\.eyJ[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,43}",
        "\\.{0,20}",
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
    Truncate(usize),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, bit)| Mutation::Flip(i, bit)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (
            any::<usize>(),
            prop::sample::select(b"-_=+/. \t\nAaZz09".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..8).prop_map(|(i, n)| Mutation::Repeat(i, n)),
    ]
}

fn mutate(token: &str, mutations: &[Mutation]) -> String {
    let mut bytes = token.as_bytes().to_vec();
    for m in mutations {
        let at = |i: usize, extra: usize| i % (bytes.len() + extra).max(1);
        match *m {
            Mutation::Flip(i, bit) if !bytes.is_empty() => {
                let i = at(i, 0);
                bytes[i] ^= 1 << bit;
            }
            Mutation::Insert(i, b) => {
                let i = at(i, 1);
                bytes.insert(i, b);
            }
            Mutation::Delete(i) if !bytes.is_empty() => {
                let i = at(i, 0);
                bytes.remove(i);
            }
            Mutation::Replace(i, b) if !bytes.is_empty() => {
                let i = at(i, 0);
                bytes[i] = b;
            }
            Mutation::Truncate(n) => {
                let n = at(n, 1);
                bytes.truncate(n);
            }
            Mutation::Repeat(i, n) if !bytes.is_empty() => {
                let i = at(i, 0);
                let chunk: Vec<u8> = bytes[i..(i + n).min(bytes.len())].to_vec();
                bytes.splice(i..i, chunk);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// HS256 over raw header and claims bytes.
fn sign_hs256(header: &[u8], claims: &[u8], secret: &str) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).expect("signs");
    format!("{message}.{signature}")
}

fn valid_header() -> Map<String, Value> {
    json!({"typ": "JWT", "alg": "HS256"})
        .as_object()
        .unwrap()
        .clone()
}

/// A header change after which no configuration of this suite may accept the token.
fn invalid_header() -> impl Strategy<Value = Map<String, Value>> {
    let with = |name: &'static str, value: Value| {
        let mut header = valid_header();
        header.insert(name.into(), value);
        header
    };
    prop_oneof![
        json_value()
            .prop_filter("not the configured alg", |v| v != "HS256")
            .prop_map(move |alg| with("alg", alg)),
        "(?i)(hs256|none|rs256|es256|hs384|hs512)[ \\t\\x00]{0,2}"
            .prop_filter("not the configured alg", |alg| alg != "HS256")
            .prop_map(move |alg| with("alg", Value::from(alg))),
        json_value().prop_map(move |v| with("crit", v)),
        json_value().prop_map(move |v| with("b64", v)),
        json_value().prop_map(move |v| with("zip", v)),
        "(?i)(application/)?jwt".prop_map(move |cty| with("cty", Value::from(cty))),
        Just({
            let mut header = valid_header();
            header.remove("alg");
            header
        }),
    ]
}

/// A claims change after which the codec must refuse the token (exp in the past or not a number,
/// nbf or iat in the future, a required claim missing, `sub` not a string, an `aud` while no
/// audience is configured).
fn invalid_claims() -> impl Strategy<Value = Map<String, Value>> {
    let now = now();
    let with = move |name: &'static str, value: Value| {
        let mut claims = payload(1);
        claims.insert(name.into(), value);
        claims
    };
    let not_a_number = json_value()
        .prop_filter("not a number", |v| !v.is_number())
        .boxed();
    prop_oneof![
        (i64::MIN..now - 11).prop_map(move |exp| with("exp", exp.into())),
        not_a_number.clone().prop_map(move |exp| with("exp", exp)),
        (now + 11..i64::MAX / 2).prop_map(move |nbf| with("nbf", nbf.into())),
        (now + 11..i64::MAX / 2).prop_map(move |iat| with("iat", iat.into())),
        not_a_number.prop_map(move |nbf| with("nbf", nbf)),
        json_value()
            .prop_filter("not a string", |v| !v.is_string())
            .prop_map(move |sub| with("sub", sub)),
        json_value()
            .prop_filter("present", |v| !v.is_null())
            .prop_map(move |aud| with("aud", aud)),
        prop::sample::select(vec!["exp", "iat", "nbf"]).prop_map(|claim| {
            let mut claims = payload(1);
            claims.remove(claim);
            claims
        }),
    ]
}

// ----- properties ----------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// `parse_authorization` is Flask-JWT's `header.split()` rules, whatever the input.
    #[test]
    fn authorization_values_parse_as_flask_jwt_does(value in authorization_value()) {
        let words: Vec<&str> = value.split_whitespace().collect();
        match parse_authorization(&value, "JWT") {
            Ok(None) => prop_assert!(words.is_empty()),
            Ok(Some(token)) => {
                prop_assert_eq!(words.len(), 2);
                prop_assert!(words[0].eq_ignore_ascii_case("JWT"));
                prop_assert_eq!(token, words[1]);
            }
            Err(error) => {
                prop_assert_eq!(error.status.code, 401);
                prop_assert_eq!(error.error.as_ref(), "Invalid JWT header");
                let expected = if !words[0].eq_ignore_ascii_case("JWT") {
                    "Unsupported authorization type"
                } else if words.len() == 1 {
                    "Token missing"
                } else {
                    "Token contains spaces"
                };
                prop_assert_eq!(error.description.as_ref(), expected);
            }
        }
    }

    /// Any `Authorization` value through Rocket: 401 JSON (or 200 only for a valid token).
    #[test]
    fn authorization_header_values_answer_401_json(value in authorization_value()) {
        HS256.with(|client| {
            let status = get(client, &value)?;
            prop_assert_eq!(status, 401);
            Ok(())
        })?;
    }

    /// Arbitrary token strings never decode, and answer 401 through Rocket.
    #[test]
    fn arbitrary_tokens_never_decode(token in token_like()) {
        HS256_CODEC.with(|codec| {
            let error = codec.decode(&token).expect_err("an arbitrary token decodes");
            prop_assert_eq!(error.status.code, 401);
            prop_assert!(error.check().is_some());
            Ok(())
        })?;
        RS256_CODEC.with(|codec| {
            prop_assert!(codec.decode(&token).is_err());
            Ok(())
        })?;
        HS256.with(|client| {
            prop_assert_eq!(get(client, &format!("JWT {token}"))?, 401);
            Ok(())
        })?;
    }

    /// Bytes of a valid HS256 token flipped, inserted, deleted, replaced, cut or repeated.
    #[test]
    fn byte_mutations_of_a_valid_hs256_token_are_refused(
        mutations in proptest::collection::vec(mutation(), 1..4)
    ) {
        let valid = hs256_token();
        let mutated = mutate(&valid, &mutations);
        HS256.with(|client| HS256_CODEC.with(|codec| {
            accepted_only_if_identical(client, codec, &mutated, &valid)
        }))?;
    }

    /// The same for an RS256 token.
    #[test]
    fn byte_mutations_of_a_valid_rs256_token_are_refused(
        mutations in proptest::collection::vec(mutation(), 1..3)
    ) {
        let valid = rs256_token();
        let mutated = mutate(&valid, &mutations);
        RS256.with(|client| RS256_CODEC.with(|codec| {
            accepted_only_if_identical(client, codec, &mutated, &valid)
        }))?;
    }

    /// Segments of two valid tokens swapped, repeated, dropped or spliced together.
    #[test]
    fn segment_splices_of_valid_tokens_are_refused(
        picks in proptest::collection::vec((0usize..2, 0usize..3), 0..6),
        separator in prop::sample::select(vec![".", "..", ",", " ", ""]),
    ) {
        let tokens = [hs256_token(), hs256_other_token()];
        let segments: Vec<Vec<&str>> = tokens.iter().map(|t| t.split('.').collect()).collect();
        let spliced = picks
            .iter()
            .map(|(token, segment)| segments[*token][*segment])
            .collect::<Vec<_>>()
            .join(separator);
        HS256.with(|client| HS256_CODEC.with(|codec| {
            let value = format!("JWT {spliced}");
            let seen = parse_authorization(&value, "JWT").ok().flatten();
            let status = get(client, &value)?;
            // identity 2 is no one for the fixture: only the first token can give a 200.
            prop_assert_eq!(status == 200, seen == Some(tokens[0].as_str()), "{}", spliced);
            let decoded = codec.decode(&spliced).is_ok();
            prop_assert_eq!(decoded, tokens.contains(&spliced), "{}", spliced);
            Ok(())
        }))?;
    }

    /// A header the configuration refuses, re-signed with the right secret: still refused.
    #[test]
    fn resigned_invalid_headers_are_refused(header in invalid_header()) {
        let header = serde_json::to_vec(&header).unwrap();
        let token = sign_hs256(&header, &serde_json::to_vec(&payload(1)).unwrap(), SECRET);
        HS256.with(|client| HS256_CODEC.with(|codec| {
            accepted_only_if_identical(client, codec, &token, &hs256_token())
        }))?;
    }

    /// Claims the validity rules refuse, re-signed with the right secret: still refused.
    #[test]
    fn resigned_invalid_claims_are_refused(claims in invalid_claims()) {
        let claims = serde_json::to_vec(&claims).unwrap();
        let token = sign_hs256(&serde_json::to_vec(&valid_header()).unwrap(), &claims, SECRET);
        HS256.with(|client| HS256_CODEC.with(|codec| {
            accepted_only_if_identical(client, codec, &token, &hs256_token())
        }))?;
    }

    /// Any header and claims JSON (or raw bytes) signed with another key: refused.
    #[test]
    fn tokens_signed_with_another_key_are_refused(
        header in prop_oneof![
            json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
            Just(serde_json::to_vec(&valid_header()).unwrap()),
            proptest::collection::vec(any::<u8>(), 0..40),
        ],
        claims in prop_oneof![
            json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
            Just(serde_json::to_vec(&payload(1)).unwrap()),
            proptest::collection::vec(any::<u8>(), 0..40),
        ],
        secret in "[ -~]{0,40}".prop_filter("not the secret", |s| s != SECRET),
    ) {
        let token = sign_hs256(&header, &claims, &secret);
        HS256.with(|client| HS256_CODEC.with(|codec| {
            accepted_only_if_identical(client, codec, &token, &hs256_token())
        }))?;
    }

    /// Unknown, non-critical header members are ignored: the re-signed token is accepted.
    #[test]
    fn unknown_header_members_are_ignored(
        extra in proptest::collection::btree_map("x-[a-z0-9]{1,8}", json_value(), 1..4)
    ) {
        let mut header = valid_header();
        header.extend(extra);
        let token = sign_hs256(
            &serde_json::to_vec(&header).unwrap(),
            &serde_json::to_vec(&payload(1)).unwrap(),
            SECRET,
        );
        HS256.with(|client| HS256_CODEC.with(|codec| {
            prop_assert!(codec.decode(&token).is_ok());
            prop_assert_eq!(get(client, &format!("JWT {token}"))?, 200);
            Ok(())
        }))?;
    }

    /// Arbitrary bytes as the `/auth` body: 400, 401 or 413 JSON, never a 5xx.
    #[test]
    fn auth_bodies_answer_4xx_json(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        for limited in [false, true] {
            let status = auth(limited, &body)?;
            prop_assert!([400, 401, 413].contains(&status), "{}", status);
            // Over the `json` limit: 413; under it: never.
            if !limited || body.len() < 96 {
                prop_assert_ne!(status, 413);
            } else if body.len() > 96 {
                prop_assert_eq!(status, 413);
            }
        }
    }

    /// JSON objects of any shape as the `/auth` body: 400 or 401, never a token.
    #[test]
    fn auth_json_objects_answer_4xx_json(
        fields in proptest::collection::btree_map(
            prop_oneof![Just("username".to_owned()), Just("password".to_owned()), ".{0,8}"],
            json_value(),
            0..4,
        )
    ) {
        let body = serde_json::to_vec(&fields).unwrap();
        let status = auth(false, &body)?;
        let valid = fields.len() == 2
            && fields.get("username") == Some(&json!("joe"))
            && fields.get("password") == Some(&json!("pass"));
        if valid {
            prop_assert_eq!(status, 200);
        } else {
            prop_assert!([400, 401].contains(&status), "{}", status);
        }
    }
}

/// `POST /auth` with `body`, through the default client or the one with a 96-byte limit.
fn auth(limited: bool, body: &[u8]) -> Result<u16, TestCaseError> {
    let send = |client: &Client| {
        answer(
            client
                .post("/auth")
                .header(ContentType::JSON)
                .body(body)
                .dispatch(),
        )
    };
    if limited {
        SMALL_LIMIT.with(send)
    } else {
        HS256.with(send)
    }
}

#[test]
fn the_fixture_tokens_are_valid() {
    HS256_CODEC.with(|codec| {
        assert!(codec.decode(&hs256_token()).is_ok());
        assert!(codec.decode(&hs256_other_token()).is_ok());
    });
    RS256_CODEC.with(|codec| assert!(codec.decode(&rs256_token()).is_ok()));
    HS256.with(|client| {
        let response = client
            .get("/protected")
            .header(Header::new(
                "Authorization",
                format!("JWT {}", hs256_token()),
            ))
            .dispatch();
        assert_eq!(response.into_string().as_deref(), Some("success"));
    });
}

// ----- the inspector agrees with the request path ----------------------------------------------------

/// Three configurations: HS256, RS256 with a static public key, RS256 from a local JWKS (two keys,
/// `rsa-1` and an ES256 key `ec-1`, so a kid bound to another algorithm is exercised too).
struct Inspected {
    name: &'static str,
    codec: TokenCodec,
    valid: String,
}

fn inspected_configurations(runtime: &tokio::runtime::Runtime, jwks_url: &str) -> Vec<Inspected> {
    let hs256 = TokenCodec::new(hs256_settings()).expect("HS256 settings");
    let rs256 = TokenCodec::new(rs256_settings()).expect("RS256 settings");
    let jwks = TokenCodec::new(Settings {
        algorithms: vec![Algorithm::RS256, Algorithm::ES256],
        jwks_url: Some(jwks_url.to_owned()),
        ..Settings::default()
    })
    .expect("JWKS settings");
    runtime
        .block_on(
            rocket_flask_jwt::testing::jwks(&jwks)
                .expect("a JWKS")
                .refresh(),
        )
        .expect("the local key set loads");
    let signed = |codec: &TokenCodec| codec.encode(&payload(1), &Map::new()).unwrap();
    let jwks_token = common::jwks_server::sign(
        common::jwks_server::TestKey::Rsa,
        Algorithm::RS256,
        Some("rsa-1"),
        &Value::Object(payload(1)),
    );
    vec![
        Inspected {
            name: "HS256",
            valid: signed(&hs256),
            codec: hs256,
        },
        Inspected {
            name: "RS256",
            valid: signed(&rs256),
            codec: rs256,
        },
        Inspected {
            name: "JWKS",
            valid: jwks_token,
            codec: jwks,
        },
    ]
}

/// Inspection passes exactly when decoding succeeds, and its first failure is decoding's error.
fn inspection_agrees(
    runtime: &tokio::runtime::Runtime,
    config: &Inspected,
    token: &str,
) -> Result<(), TestCaseError> {
    let inspection = runtime.block_on(config.codec.inspect(token));
    let decoded = config.codec.decode(token);
    let verified = runtime.block_on(config.codec.verify(token));
    prop_assert_eq!(
        inspection.passed(),
        decoded.is_ok(),
        "{}: {} — inspection {:?}, decode {:?}",
        config.name,
        token,
        inspection.first_failure,
        decoded
    );
    prop_assert_eq!(
        decoded.is_ok(),
        verified.is_ok(),
        "{}: {}",
        config.name,
        token
    );
    if let Err(error) = decoded {
        let first = inspection.first_failure.expect("a failure");
        prop_assert_eq!(first.check(), error.check(), "{}: {}", config.name, token);
        prop_assert_eq!(
            &first.description,
            &error.description,
            "{}: {}",
            config.name,
            token
        );
        // The failed check is reported as failed in the five-check list, too.
        if let Some(check) = error.check() {
            let report = inspection
                .checks
                .iter()
                .find(|r| r.check == check)
                .expect("five");
            prop_assert!(
                matches!(
                    report.verdict,
                    rocket_flask_jwt::validation::Verdict::Failed(_)
                ),
                "{}: {:?} is {}",
                config.name,
                check,
                report.verdict
            );
        }
    }
    Ok(())
}

/// A header or claims change, re-signed with each configuration's own key.
#[derive(Debug, Clone)]
enum Resigned {
    Header(String, Value),
    Claims(String, Value),
}

fn resigned() -> impl Strategy<Value = Resigned> {
    let header_names = prop::sample::select(vec![
        "alg", "kid", "typ", "cty", "crit", "b64", "zip", "jku", "x5c", "x-custom",
    ]);
    let claim_names =
        prop::sample::select(vec!["exp", "nbf", "iat", "sub", "aud", "iss", "identity"]);
    prop_oneof![
        (header_names, json_value()).prop_map(|(n, v)| Resigned::Header(n.to_owned(), v)),
        (claim_names, json_value()).prop_map(|(n, v)| Resigned::Claims(n.to_owned(), v)),
    ]
}

/// Signs `header`/`claims` with the configuration's own key (so only the change is wrong).
fn resign(config: &Inspected, change: &Resigned) -> String {
    let mut claims = payload(1);
    let mut header = Map::new();
    match change {
        Resigned::Header(name, value) => {
            header.insert(name.clone(), value.clone());
        }
        Resigned::Claims(name, value) => {
            claims.insert(name.clone(), value.clone());
        }
    }
    match config.name {
        "JWKS" => {
            header.entry("kid").or_insert_with(|| "rsa-1".into());
            let key = common::jwks_server::TestKey::Rsa;
            let signer = TokenCodec::new(Settings {
                algorithm: Algorithm::RS256,
                private_key: Some(KeyMaterial::Pem(key.private_pem())),
                public_key: Some(KeyMaterial::Pem(key.public_pem())),
                ..Settings::default()
            })
            .expect("the signer");
            raw_signed(&signer, &header, &claims)
        }
        _ => raw_signed(&config.codec, &header, &claims),
    }
}

/// `encode` writes `typ` and `alg` itself; a changed `alg`/`typ` is written by hand over the
/// header it produced, and signed again with the same codec's key.
fn raw_signed(
    codec: &TokenCodec,
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> String {
    let token = codec.encode(claims, header).expect("signing");
    let overridden: Vec<(&String, &Value)> = header
        .iter()
        .filter(|(name, _)| *name == "alg" || *name == "typ")
        .collect();
    if overridden.is_empty() {
        return token;
    }
    let [first, payload_segment, _] = token.split('.').collect::<Vec<_>>()[..] else {
        unreachable!("encode writes three segments")
    };
    let mut decoded: Map<String, Value> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(first).unwrap()).unwrap();
    for (name, value) in overridden {
        decoded.insert(name.clone(), value.clone());
    }
    // Re-signing an arbitrary header needs the raw key: HS256 only; the others keep the original
    // signature, which then no longer matches (a signature failure, checked just the same).
    let header = b64(serde_json::to_vec(&decoded).unwrap());
    let message = format!("{header}.{payload_segment}");
    if codec.settings().algorithm == Algorithm::HS256 {
        return sign_hs256(
            &serde_json::to_vec(&decoded).unwrap(),
            &URL_SAFE_NO_PAD.decode(payload_segment).unwrap(),
            SECRET,
        );
    }
    let signature = token.rsplit('.').next().unwrap_or_default();
    format!("{message}.{signature}")
}

thread_local! {
    static INSPECTION: (tokio::runtime::Runtime, common::jwks_server::JwksServer, Vec<Inspected>) = {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let server = common::jwks_server::JwksServer::start(&[
            common::jwks_server::TestKey::Rsa.jwk(),
            common::jwks_server::TestKey::Ec.jwk(),
        ]);
        let configs = inspected_configurations(&runtime, &server.jwks_url());
        (runtime, server, configs)
    };
}

proptest! {
    #![proptest_config(config())]

    /// Bytes of each configuration's valid token mutated: inspection and decoding agree.
    #[test]
    fn inspection_agrees_with_decoding_on_mutated_tokens(
        mutations in proptest::collection::vec(mutation(), 0..4)
    ) {
        INSPECTION.with(|(runtime, _server, configs)| {
            for config in configs {
                let mutated = mutate(&config.valid, &mutations);
                inspection_agrees(runtime, config, &mutated)?;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }

    /// Arbitrary token-shaped strings: inspection and decoding agree.
    #[test]
    fn inspection_agrees_with_decoding_on_arbitrary_tokens(token in token_like()) {
        INSPECTION.with(|(runtime, _server, configs)| {
            for config in configs {
                inspection_agrees(runtime, config, &token)?;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }

    /// Header parameters and claims of any JSON value, re-signed: inspection and decoding agree.
    #[test]
    fn inspection_agrees_with_decoding_on_resigned_changes(change in resigned()) {
        INSPECTION.with(|(runtime, _server, configs)| {
            for config in configs {
                inspection_agrees(runtime, config, &resign(config, &change))?;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }
}

#[test]
fn the_valid_tokens_pass_inspection() {
    INSPECTION.with(|(runtime, _server, configs)| {
        for config in configs {
            let inspection = runtime.block_on(config.codec.inspect(&config.valid));
            assert!(
                inspection.passed(),
                "{}: {:?}",
                config.name,
                inspection.first_failure
            );
            assert!(
                config.codec.decode(&config.valid).is_ok(),
                "{}",
                config.name
            );
        }
    });
}
