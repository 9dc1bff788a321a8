//! The attack and bad-input catalogue, one test per case, named after its id (SECURITY.md cites them):
//! A1–A15 structure and encoding, B1–B8 `alg`, C1–C11 algorithm confusion and keys, D1–D12 other
//! header parameters, E1–E15 time claims, F1–F12 issuer/audience/subject, G1–G6 JSON edge cases,
//! H1–H13 JWKS key resolution, I1–I4 HTTP extraction.
//!
//! Each token case goes through Rocket (`GET /protected`: status and Flask-JWT's JSON body) and
//! through the runtime's [`TokenCodec::decode`] (the [`Check`] that failed), for every
//! configuration where it applies: HS256 with the Flask-JWT fixture's secret, RS256 and ES256 with
//! static PEM keys, and RS256 keys from a JWKS served on 127.0.0.1 (`common::jwks_server`).
//! Configuration cases assert that ignition fails and that [`TokenCodec::new`] names the setting.
//!
//! The last tests prove that no log line and no response body holds a token, a password or a
//! secret, and that a panicking callback answers 500 JSON for its own request only.

use crate::common;

use common::logs;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use common::jwks_server::{jwk, testdata, JwksServer, Reply, TestKey};
use common::{joe, now, User, SECRET};
use jsonwebtoken::EncodingKey;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{Build, Rocket};
use rocket_flask_jwt::testing::parse_authorization;
use rocket_flask_jwt::{
    settings::KeyMaterial, settings::Secret, validation::TokenCodec, Algorithm, Check, Jwt,
    JwtBuilder, JwtError, Settings,
};
use serde_json::{json, Value};

// ----- applications --------------------------------------------------------------------------------

const INVALID_TOKEN: &str = "Invalid token";
/// A registered header parameter of the wrong JSON type.
const WRONG_TYPE: &str = "Invalid header: a registered parameter has the wrong type";
const NOT_ALLOWED: &str = "The specified alg value is not allowed";
const BAD_SIGNATURE: &str = "Signature verification failed";
const UNKNOWN_KEY: &str = "Unknown signing key: the token is not from the intended authority";
const AMBIGUOUS_KEY: &str =
    "Ambiguous signing key: the token must name one of the authority's keys (kid)";
const INVALID_ISSUER: &str = "Invalid issuer: the token is not from the intended authority";
const INVALID_AUDIENCE: &str = "Invalid audience: the token is not for this application";
const EXPIRED: &str = "Signature has expired";
const EXP_NOT_INTEGER: &str = "Expiration Time claim (exp) must be an integer.";
const NOT_AN_OBJECT_HEADER: &str = "Invalid header string: must be a json object";
const NOT_AN_OBJECT_PAYLOAD: &str = "Invalid payload string: must be a json object";
const CRIT: &str = "Unsupported critical header parameters (crit)";
const ISSUER: &str = "https://issuer.example/";
/// A real HMAC secret (32+ bytes) for configurations that accept HS256 beside RS256.
const REAL_SECRET: &str = "a-real-hmac-secret-of-at-least-32-bytes";

/// Rocket's configuration for every client here: the debug defaults with Rocket's own logging
/// off, plus `extra` (e.g. `("jwt.leeway", 100000)`).
fn rocket_for(jwt: Jwt<User>, extra: &[(&str, Value)]) -> Rocket<Build> {
    logs::install();
    let mut figment = Figment::from(rocket::Config::debug_default()).merge(("log_level", "off"));
    for (key, value) in extra {
        figment = figment.merge((*key, value.clone()));
    }
    rocket::custom(figment)
        .attach(jwt)
        .mount("/", rocket::routes![common::protected])
}

/// The fixture's callbacks: joe/pass logs in, `identity == 1` is joe.
fn callbacks(builder: JwtBuilder<()>) -> JwtBuilder<User> {
    builder
        .authentication_handler(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        })
        .identity_handler(|payload| (payload.get("identity")? == 1).then(joe))
}

/// The client for `settings`, or why it could not be had (a build error, or the ignition
/// failure, inspected so that dropping Rocket's error is fine).
fn try_ignite(settings: Settings, extra: &[(&str, Value)]) -> Result<Client, String> {
    let jwt = callbacks(Jwt::builder().settings(settings))
        .build()
        .map_err(|e| format!("build: {e}"))?;
    Client::tracked(rocket_for(jwt, extra)).map_err(|e| format!("ignition: {:?}", e.kind()))
}

fn ignite(settings: Settings) -> Client {
    try_ignite(settings, &[]).expect("the rocket ignites")
}

/// A codec for `settings`, its JWKS (if any) loaded once.
fn codec_for(settings: Settings) -> TokenCodec {
    let codec = TokenCodec::new(settings).expect("valid settings");
    if let Some(jwks) = rocket_flask_jwt::testing::jwks(&codec) {
        // A key set that does not load (the H cases serve some) leaves the codec without keys.
        let _ = runtime().block_on(jwks.refresh());
    }
    codec
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// What signs the tokens of an application: algorithm, key and the `kid` its header carries.
struct Signer {
    alg: Algorithm,
    key: EncodingKey,
    kid: Option<String>,
}

impl Signer {
    fn hs256(secret: &str) -> Signer {
        Signer {
            alg: Algorithm::HS256,
            key: EncodingKey::from_secret(secret.as_bytes()),
            kid: None,
        }
    }

    fn pem(key: TestKey, alg: Algorithm, kid: Option<&str>) -> Signer {
        Signer::from_pem(&key.private_pem(), alg, kid)
    }

    fn from_pem(pem: &str, alg: Algorithm, kid: Option<&str>) -> Signer {
        let key = match alg {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .expect("a private key PEM");
        Signer {
            alg,
            key,
            kid: kid.map(str::to_owned),
        }
    }

    /// `message.signature`.
    fn sign_message(&self, message: &str) -> String {
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &self.key, self.alg)
            .expect("the test key signs");
        format!("{message}.{signature}")
    }

    /// A token over raw header and claims bytes.
    fn sign_bytes(&self, header: &[u8], claims: &[u8]) -> String {
        self.sign_message(&format!("{}.{}", b64(header), b64(claims)))
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_bytes(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// The header this signer writes: `typ`, `alg` and its `kid`.
    fn header(&self) -> Value {
        let mut header = json!({"typ": "JWT", "alg": alg_name(self.alg)});
        if let Some(kid) = &self.kid {
            header["kid"] = json!(kid);
        }
        header
    }
}

fn alg_name(alg: Algorithm) -> &'static str {
    rocket_flask_jwt::testing::algorithm_name(alg)
}

/// The configurations every token case runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conf {
    Hs256,
    Rs256,
    Es256,
    Jwks,
}

const ALL: [Conf; 4] = [Conf::Hs256, Conf::Rs256, Conf::Es256, Conf::Jwks];

/// A running application (Rocket's local client), a codec with the same settings, the signer of
/// its legitimate tokens, and the JWKS server its keys come from (if any).
struct App {
    name: String,
    client: Client,
    codec: TokenCodec,
    signer: Signer,
    server: Option<JwksServer>,
}

fn static_settings(algorithm: Algorithm, key: TestKey) -> Settings {
    Settings {
        algorithm,
        private_key: Some(KeyMaterial::Pem(key.private_pem())),
        public_key: Some(KeyMaterial::Pem(key.public_pem())),
        ..Settings::default()
    }
}

fn hs256_settings() -> Settings {
    Settings {
        secret_key: Some(Secret::new(SECRET)),
        allow_short_secret: true,
        ..Settings::default()
    }
}

/// A resource server taking RS256 keys from `server` (no auth resource: it holds no private key).
fn jwks_settings(server: &JwksServer) -> Settings {
    Settings {
        algorithm: Algorithm::RS256,
        jwks_url: Some(server.jwks_url()),
        auth_url_rule: None,
        ..Settings::default()
    }
}

impl App {
    fn new(conf: Conf) -> App {
        App::tweaked(conf, |_| {})
    }

    /// `conf` with `tweak` applied to its settings.
    fn tweaked(conf: Conf, tweak: impl FnOnce(&mut Settings)) -> App {
        match conf {
            Conf::Hs256 => {
                let mut settings = hs256_settings();
                tweak(&mut settings);
                App::from_settings("HS256", settings, Signer::hs256(SECRET), None)
            }
            Conf::Rs256 => {
                let mut settings = static_settings(Algorithm::RS256, TestKey::Rsa);
                tweak(&mut settings);
                let signer = Signer::pem(TestKey::Rsa, Algorithm::RS256, None);
                App::from_settings("RS256", settings, signer, None)
            }
            Conf::Es256 => {
                let mut settings = static_settings(Algorithm::ES256, TestKey::Ec);
                tweak(&mut settings);
                let signer = Signer::pem(TestKey::Ec, Algorithm::ES256, None);
                App::from_settings("ES256", settings, signer, None)
            }
            Conf::Jwks => {
                let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
                let mut settings = jwks_settings(&server);
                tweak(&mut settings);
                let signer = Signer::pem(TestKey::Rsa, Algorithm::RS256, Some("rsa-1"));
                App::from_settings("JWKS RS256", settings, signer, Some(server))
            }
        }
    }

    fn from_settings(
        name: &str,
        settings: Settings,
        signer: Signer,
        server: Option<JwksServer>,
    ) -> App {
        let client = try_ignite(settings.clone(), &[])
            .unwrap_or_else(|e| panic!("{name}: the rocket ignites: {e}"));
        App {
            name: name.into(),
            client,
            codec: codec_for(settings),
            signer,
            server,
        }
    }

    fn server(&self) -> &JwksServer {
        self.server.as_ref().expect("a JWKS application")
    }

    /// The legitimate header, with `extra` members set over it (a `null` member stays `null`).
    fn header_with(&self, extra: Value) -> Value {
        merged(self.signer.header(), extra)
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.signer.sign(header, claims)
    }

    /// A good token: the legitimate header, fresh claims for identity 1.
    fn good(&self) -> String {
        self.sign(&self.signer.header(), &claims())
    }

    fn with_claims(&self, claims: &Value) -> String {
        self.sign(&self.signer.header(), claims)
    }

    fn with_header(&self, extra: Value) -> String {
        self.sign(&self.header_with(extra), &claims())
    }

    fn request(&self, authorization: &str) -> LocalResponse<'_> {
        self.client
            .get("/protected")
            .header(Header::new("Authorization", authorization.to_owned()))
            .dispatch()
    }

    fn get(&self, token: &str) -> LocalResponse<'_> {
        self.request(&format!("JWT {token}"))
    }

    #[track_caller]
    fn accepts(&self, token: &str) {
        let response = self.get(token);
        let status = response.status();
        let body = response.into_string().unwrap_or_default();
        assert_eq!(
            (status, body.as_str()),
            (Status::Ok, "success"),
            "{}: {token}",
            self.name
        );
        if let Err(error) = self.codec.decode(token) {
            panic!("{}: the codec refuses a good token: {error}", self.name);
        }
    }

    /// Refused through Rocket (401 `Invalid token`, `description`) and by the codec (`check`).
    #[track_caller]
    fn rejects(&self, token: &str, check: Check, description: &str) {
        assert_invalid(self.get(token), description, &self.name);
        let error = self.codec_error(token);
        assert_eq!(
            (error.check(), error.description.as_ref()),
            (Some(check), description),
            "{}: {token}",
            self.name
        );
    }

    /// Like [`rejects`](Self::rejects) with a description only known by its start.
    #[track_caller]
    fn rejects_starting(&self, token: &str, check: Check, start: &str) -> String {
        let body = json_error(self.get(token), 401, &self.name);
        assert_eq!(body["error"], INVALID_TOKEN, "{}", self.name);
        let description = body["description"].as_str().unwrap_or_default().to_owned();
        assert!(description.starts_with(start), "{}: {body}", self.name);
        let error = self.codec_error(token);
        assert_eq!(error.check(), Some(check), "{}: {error}", self.name);
        assert_eq!(error.description, description, "{}", self.name);
        description
    }

    #[track_caller]
    fn codec_error(&self, token: &str) -> JwtError {
        match self.codec.decode(token) {
            Ok(payload) => panic!("{}: the codec accepted {token}: {payload:?}", self.name),
            Err(error) => error,
        }
    }
}

fn apps() -> Vec<App> {
    ALL.into_iter().map(App::new).collect()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `base` with `extra`'s members set over it.
fn merged(mut base: Value, extra: Value) -> Value {
    let object = base.as_object_mut().expect("an object");
    for (name, value) in extra.as_object().expect("extra members are an object") {
        object.insert(name.clone(), value.clone());
    }
    base
}

fn without(mut value: Value, names: &[&str]) -> Value {
    let object = value.as_object_mut().expect("an object");
    for name in names {
        object.remove(*name);
    }
    value
}

/// Flask-JWT's claims for identity 1, issued now for 300 s.
fn claims() -> Value {
    common::claims(json!(1))
}

fn claims_with(extra: Value) -> Value {
    merged(claims(), extra)
}

/// Fresh claims as JSON text with `members` (raw JSON text, e.g. `"exp":1e999`) appended.
fn claims_text(members: &str) -> String {
    let now = now();
    let sep = if members.is_empty() { "" } else { "," };
    format!(r#"{{"identity":1,"iat":{now},"nbf":{now}{sep}{members}}}"#)
}

/// The JSON body of an error response, checked for Flask-JWT's shape and `status`.
#[track_caller]
fn json_error(response: LocalResponse<'_>, status: u16, context: &str) -> Value {
    assert_eq!(response.status().code, status, "{context}");
    assert_eq!(
        response.content_type(),
        Some(ContentType::JSON),
        "{context}"
    );
    let body: Value = response.into_json().expect("a JSON error body");
    assert_eq!(body["status_code"], status, "{context}: {body}");
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(3),
        "{context}: {body}"
    );
    body
}

#[track_caller]
fn assert_invalid(response: LocalResponse<'_>, description: &str, context: &str) {
    let body = json_error(response, 401, context);
    assert_eq!(
        body,
        json!({"status_code": 401, "error": INVALID_TOKEN, "description": description}),
        "{context}"
    );
}

#[track_caller]
fn assert_header_error(response: LocalResponse<'_>, description: &str) {
    let body = json_error(response, 401, description);
    assert_eq!(
        body,
        json!({"status_code": 401, "error": "Invalid JWT header", "description": description})
    );
}

#[track_caller]
fn assert_success(response: LocalResponse<'_>, context: &str) {
    let status = response.status();
    let body = response.into_string().unwrap_or_default();
    assert_eq!(
        (status, body.as_str()),
        (Status::Ok, "success"),
        "{context}"
    );
}

/// Replaces segment `index` of `token`.
fn with_segment(token: &str, index: usize, segment: &str) -> String {
    let mut segments: Vec<&str> = token.split('.').collect();
    segments[index] = segment;
    segments.join(".")
}

fn segment(token: &str, index: usize) -> &str {
    token.split('.').nth(index).expect("a segment")
}

/// The description of a base64 error in segment `index` (PyJWT's wording).
fn padding_error(index: usize) -> &'static str {
    [
        "Invalid header padding",
        "Invalid payload padding",
        "Invalid crypto padding",
    ][index]
}

// ===== A. Structure and encoding ("well-formed") ===================================================

#[test]
fn a01_signature_stripped() {
    for app in apps() {
        let token = app.good();
        let (message, _) = token.rsplit_once('.').unwrap();
        app.rejects(message, Check::WellFormed, "Not enough segments");
    }
}

#[test]
fn a02_empty_signature() {
    for app in apps() {
        let token = with_segment(&app.good(), 2, "");
        assert!(token.ends_with('.'));
        app.rejects(&token, Check::Signature, BAD_SIGNATURE);
    }
}

#[test]
fn a03_literal_null_signature() {
    for app in apps() {
        let token = with_segment(&app.good(), 2, "null");
        app.rejects(&token, Check::Signature, BAD_SIGNATURE);
    }
}

#[test]
fn a04_one_segment_or_empty() {
    for app in apps() {
        let token = app.good();
        let header = segment(&token, 0);
        app.rejects(header, Check::WellFormed, "Not enough segments");
        app.rejects("abc", Check::WellFormed, "Not enough segments");
        let error = app.codec_error("");
        assert_eq!(error.check(), Some(Check::WellFormed));
        assert_eq!(error.description, "Not enough segments");
        // Through HTTP the empty token is the prefix alone.
        for value in ["JWT ", "JWT"] {
            assert_header_error(app.request(value), "Token missing");
        }
    }
}

#[test]
fn a05_four_or_five_segments() {
    for app in apps() {
        let token = app.good();
        app.rejects(
            &format!("{token}.x"),
            Check::WellFormed,
            "Too many segments",
        );
        // The JWE compact shape: header.encrypted_key.iv.ciphertext.tag.
        let jwe_header = b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
        let jwe = format!("{jwe_header}.a2V5.aXY.Y2lwaGVy.dGFn");
        app.rejects(&jwe, Check::WellFormed, "Too many segments");
        let five = format!("{token}.x.y");
        app.rejects(&five, Check::WellFormed, "Too many segments");
    }
}

#[test]
fn a06_padded_signature() {
    for app in apps() {
        let token = app.good();
        for padding in ["=", "=="] {
            app.rejects(
                &format!("{token}{padding}"),
                Check::WellFormed,
                "Invalid crypto padding",
            );
        }
        // The padded standard encoding of the same signature bytes.
        let signature = URL_SAFE_NO_PAD.decode(segment(&token, 2)).unwrap();
        let padded = URL_SAFE.encode(&signature);
        if padded.ends_with('=') {
            app.rejects(
                &with_segment(&token, 2, &padded),
                Check::WellFormed,
                "Invalid crypto padding",
            );
        }
    }
}

#[test]
fn a07_padded_header_or_payload_resigned() {
    for app in apps() {
        // A header whose encoding needs padding, padded, and signed over the padded text: a
        // lenient decoder would accept it.
        let mut header = app.signer.header().to_string();
        while header.len().is_multiple_of(3) {
            header.push(' ');
        }
        let padded_header = URL_SAFE.encode(&header);
        assert!(padded_header.ends_with('='));
        let token = app
            .signer
            .sign_message(&format!("{padded_header}.{}", b64(claims().to_string())));
        app.rejects(&token, Check::WellFormed, "Invalid header padding");

        let mut body = claims().to_string();
        while body.len().is_multiple_of(3) {
            body.push(' ');
        }
        let padded_body = URL_SAFE.encode(&body);
        let token = app.signer.sign_message(&format!(
            "{}.{padded_body}",
            b64(app.signer.header().to_string())
        ));
        app.rejects(&token, Check::WellFormed, "Invalid payload padding");
    }
}

#[test]
fn a08_whitespace_or_prefix_left_in_the_token() {
    for app in apps() {
        let token = app.good();
        // The codec sees the token exactly: any extra byte is refused.
        for (bad, description) in [
            (format!(" {token}"), "Invalid header padding"),
            (format!("{token}\n"), "Invalid crypto padding"),
            (format!("{token} "), "Invalid crypto padding"),
            (format!("Bearer {token}"), "Invalid header padding"),
            (format!("JWT {token}"), "Invalid header padding"),
        ] {
            let error = app.codec_error(&bad);
            assert_eq!(
                (error.check(), error.description.as_ref()),
                (Some(Check::WellFormed), description),
                "{}: {bad:?}",
                app.name
            );
        }
        // Over HTTP a scheme word left in the token makes three words: refused.
        for value in [format!("JWT JWT {token}"), format!("JWT Bearer {token}")] {
            assert_header_error(app.request(&value), "Token contains spaces");
        }
        // Flask-JWT splits the header on whitespace (`str.split()`): surrounding whitespace and
        // a double space are not part of the token (Flask-JWT compatibility, see I3).
        for value in [
            format!("JWT  {token}"),
            format!(" JWT {token}"),
            format!("JWT {token}\n"),
        ] {
            assert_success(app.request(&value), &app.name);
        }
    }
}

/// A token of `app` whose three segments each hold a `-` or `_`.
fn token_with_url_safe_characters(app: &App) -> String {
    for i in 0..2000 {
        let header = app.header_with(json!({"x": "?".repeat(1 + i % 6)}));
        let claims = claims_with(json!({"x": ">".repeat(1 + (i / 6) % 6), "n": i}));
        let token = app.sign(&header, &claims);
        if token.split('.').all(|s| s.contains(['-', '_'])) {
            return token;
        }
    }
    panic!("{}: no token with '-' or '_' in every segment", app.name);
}

#[test]
fn a09_standard_base64_alphabet() {
    for app in apps() {
        let token = token_with_url_safe_characters(&app);
        app.accepts(&token);
        for index in 0..3 {
            let standard = segment(&token, index).replace('-', "+").replace('_', "/");
            app.rejects(
                &with_segment(&token, index, &standard),
                Check::WellFormed,
                padding_error(index),
            );
        }
    }
}

#[test]
fn a10_non_base64_characters() {
    for app in apps() {
        let token = app.good();
        for character in ['!', 'é', '€', '*', '%'] {
            for index in 0..3 {
                let mut bad = segment(&token, index).to_owned();
                bad.insert(3, character);
                app.rejects(
                    &with_segment(&token, index, &bad),
                    Check::WellFormed,
                    padding_error(index),
                );
            }
        }
    }
}

#[test]
fn a11_header_not_an_object() {
    for app in apps() {
        for header in ["1", "[]", r#""str""#, "null", "true", "1.5"] {
            let token = app
                .signer
                .sign_bytes(header.as_bytes(), claims().to_string().as_bytes());
            app.rejects(&token, Check::WellFormed, NOT_AN_OBJECT_HEADER);
        }
        let token = app.signer.sign_bytes(b"{", claims().to_string().as_bytes());
        app.rejects_starting(&token, Check::WellFormed, "Invalid header string: ");
    }
}

#[test]
fn a12_payload_not_an_object() {
    for app in apps() {
        let header = app.signer.header().to_string();
        for payload in ["1", "[]", r#""str""#, "null"] {
            let token = app.signer.sign_bytes(header.as_bytes(), payload.as_bytes());
            app.rejects(&token, Check::WellFormed, NOT_AN_OBJECT_PAYLOAD);
        }
        for payload in ["{", "", "{\"identity\":1", "{}}"] {
            let token = app.signer.sign_bytes(header.as_bytes(), payload.as_bytes());
            let description =
                app.rejects_starting(&token, Check::WellFormed, "Invalid payload string: ");
            assert_ne!(description, NOT_AN_OBJECT_PAYLOAD);
        }
    }
}

#[test]
fn a13_payload_with_invalid_utf8() {
    for app in apps() {
        let header = app.signer.header().to_string();
        for invalid in [&[0xC0, 0xAF][..], &[0xFF], &[0xED, 0xA0, 0x80]] {
            let text = claims_text(r#""exp":9999999999,"name":"#);
            let mut payload = text.as_bytes()[..text.len() - 1].to_vec();
            payload.push(b'"');
            payload.extend_from_slice(invalid);
            payload.extend_from_slice(b"\"}");
            let token = app.signer.sign_bytes(header.as_bytes(), &payload);
            app.rejects_starting(&token, Check::WellFormed, "Invalid payload string: ");
        }
    }
}

#[test]
fn a14_token_not_a_string() {
    for app in apps() {
        for token in ["12345", "null", "true", "{}", "[]", "-1", "1.5e3"] {
            app.rejects(token, Check::WellFormed, "Not enough segments");
        }
    }
}

#[test]
fn a15_truncated_signature() {
    for app in apps() {
        let token = app.good();
        for cut in 1..=3 {
            let truncated = &token[..token.len() - cut];
            // Whether the shorter text is still canonical base64url decides which check answers.
            if URL_SAFE_NO_PAD
                .decode(truncated.rsplit('.').next().unwrap())
                .is_ok()
            {
                app.rejects(truncated, Check::Signature, BAD_SIGNATURE);
            } else {
                app.rejects(truncated, Check::WellFormed, "Invalid crypto padding");
            }
        }
        // Three characters off an HMAC-SHA256 signature (43 → 40 characters, 30 bytes) always
        // decodes: it is the signature check that refuses it.
        if app.signer.alg == Algorithm::HS256 {
            let truncated = &token[..token.len() - 3];
            app.rejects(truncated, Check::Signature, BAD_SIGNATURE);
        }
    }
}

// ===== B. The `alg` header =========================================================================

#[test]
fn b01_alg_none_variants() {
    for app in apps() {
        for none in ["none", "None", "NONE", "nOnE"] {
            let token = with_segment(&app.with_header(json!({"alg": none})), 2, "");
            app.rejects(&token, Check::Signature, NOT_ALLOWED);
        }
    }
}

#[test]
fn b02_alg_none_keeping_the_signature() {
    for app in apps() {
        let token = app.good();
        for none in ["none", "None"] {
            let header = b64(app.header_with(json!({"alg": none})).to_string());
            app.rejects(
                &with_segment(&token, 0, &header),
                Check::Signature,
                NOT_ALLOWED,
            );
        }
    }
}

#[test]
fn b03_alg_case_or_whitespace_variants() {
    for app in apps() {
        let alg = alg_name(app.signer.alg);
        for variant in [
            alg.to_lowercase(),
            format!(" {alg} "),
            format!("\t{alg}"),
            format!("{alg}\u{0}"),
            format!("{alg}\n"),
        ] {
            let token = app.with_header(json!({ "alg": variant }));
            app.rejects(&token, Check::Signature, NOT_ALLOWED);
        }
    }
}

#[test]
fn b04_alg_not_a_string_or_missing() {
    for app in apps() {
        let alg = alg_name(app.signer.alg);
        // Not a string: malformed, never read as absent.
        for variant in [
            json!([alg]),
            json!(["none", alg]),
            json!(null),
            json!({"name": alg}),
            json!(256),
        ] {
            let token = app.with_header(json!({ "alg": variant }));
            app.rejects(&token, Check::WellFormed, WRONG_TYPE);
        }
        let token = app.with_header(json!({ "alg": "" }));
        app.rejects(&token, Check::Signature, NOT_ALLOWED);
        let missing = app.sign(&without(app.signer.header(), &["alg"]), &claims());
        app.rejects(&missing, Check::Signature, NOT_ALLOWED);
    }
}

#[test]
fn b05_valid_token_outside_the_allowed_list() {
    let hs256_token = common::token_for(&claims());
    let hs384 = App::from_settings(
        "HS384 only",
        Settings {
            algorithm: Algorithm::HS384,
            ..hs256_settings()
        },
        Signer::hs256(SECRET),
        None,
    );
    hs384.rejects(&hs256_token, Check::Signature, NOT_ALLOWED);
    // HS512 under the application's own secret, to an HS256 application.
    let hs512 = Signer {
        alg: Algorithm::HS512,
        ..Signer::hs256(SECRET)
    };
    let hs256 = App::new(Conf::Hs256);
    hs256.rejects(
        &hs512.sign(&json!({"typ": "JWT", "alg": "HS512"}), &claims()),
        Check::Signature,
        NOT_ALLOWED,
    );
    let rs512 = App::from_settings(
        "RS512 only",
        static_settings(Algorithm::RS512, TestKey::Rsa),
        Signer::pem(TestKey::Rsa, Algorithm::RS512, None),
        None,
    );
    rs512.rejects(&hs256_token, Check::Signature, NOT_ALLOWED);
    rs512.accepts(&rs512.good());
    // An RS256 token (same key) is not an RS512 one.
    let rs256_token = Signer::pem(TestKey::Rsa, Algorithm::RS256, None);
    let rs256_token = rs256_token.sign(&rs256_token.header(), &claims());
    rs512.rejects(&rs256_token, Check::Signature, NOT_ALLOWED);
}

#[test]
fn b06_rsa_alg_rewritten_with_the_signature_kept() {
    let rsa_family = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::RS384,
        Algorithm::RS512,
    ];
    let rs256_only = App::new(Conf::Rs256);
    let static_family = App::from_settings(
        "static RS256+PS256+RS384+RS512",
        Settings {
            algorithms: rsa_family.to_vec(),
            ..static_settings(Algorithm::RS256, TestKey::Rsa)
        },
        Signer::pem(TestKey::Rsa, Algorithm::RS256, None),
        None,
    );
    // A JWK without `alg` is bound to every allowed RSA algorithm.
    let server = JwksServer::start(&[jwk(TestKey::Rsa, json!({"alg": null}))]);
    let jwks_family = App::from_settings(
        "JWKS RS256+PS256+RS384+RS512",
        Settings {
            algorithms: rsa_family.to_vec(),
            ..jwks_settings(&server)
        },
        Signer::pem(TestKey::Rsa, Algorithm::RS256, Some("rsa-1")),
        Some(server),
    );
    for (app, other_algorithm_answer) in [
        (&rs256_only, (Check::Signature, NOT_ALLOWED)),
        (&static_family, (Check::Signature, BAD_SIGNATURE)),
        (&jwks_family, (Check::Signature, BAD_SIGNATURE)),
    ] {
        let token = app.good();
        app.accepts(&token);
        for alg in ["PS256", "RS384", "RS512"] {
            let header = b64(app.header_with(json!({ "alg": alg })).to_string());
            let rewritten = with_segment(&token, 0, &header);
            app.rejects(
                &rewritten,
                other_algorithm_answer.0,
                other_algorithm_answer.1,
            );
        }
    }
}

#[test]
fn b07_duplicate_alg_member() {
    for app in apps() {
        let alg = alg_name(app.signer.alg);
        let kid = match &app.signer.kid {
            Some(kid) => format!(r#","kid":"{kid}""#),
            None => String::new(),
        };
        for header in [
            format!(r#"{{"typ":"JWT","alg":"none","alg":"{alg}"{kid}}}"#),
            format!(r#"{{"typ":"JWT","alg":"{alg}","alg":"none"{kid}}}"#),
            format!(r#"{{"typ":"JWT","alg":"{alg}","alg":"{alg}"{kid}}}"#),
        ] {
            let token = app
                .signer
                .sign_bytes(header.as_bytes(), claims().to_string().as_bytes());
            app.rejects(
                &token,
                Check::WellFormed,
                r#"Invalid header string: duplicate member "alg""#,
            );
        }
    }
}

#[test]
fn b08_es256_token_to_an_rs256_configuration() {
    let es256 = Signer::pem(TestKey::Ec, Algorithm::ES256, Some("ec-1"));
    let es256_token = es256.sign(&es256.header(), &claims());
    for conf in [Conf::Rs256, Conf::Jwks] {
        App::new(conf).rejects(&es256_token, Check::Signature, NOT_ALLOWED);
    }
    // And the reverse.
    let rs256 = Signer::pem(TestKey::Rsa, Algorithm::RS256, None);
    let rs256_token = rs256.sign(&rs256.header(), &claims());
    App::new(Conf::Es256).rejects(&rs256_token, Check::Signature, NOT_ALLOWED);
}

// ===== C. Algorithm confusion and keys =============================================================

/// An HS256 token (with `app`'s `kid`, if any) whose HMAC key is `key_text`.
fn hs256_signed_with(app: &App, key_text: &str) -> String {
    let header = app.header_with(json!({"alg": "HS256"}));
    Signer::hs256(key_text).sign(&header, &claims())
}

/// Static RS256 keys plus HS256 with a real secret: the mixed configuration of C2.
fn mixed_rs256_hs256() -> App {
    App::from_settings(
        "static RS256+HS256",
        Settings {
            algorithms: vec![Algorithm::RS256, Algorithm::HS256],
            secret_key: Some(Secret::new(REAL_SECRET)),
            ..static_settings(Algorithm::RS256, TestKey::Rsa)
        },
        Signer::pem(TestKey::Rsa, Algorithm::RS256, None),
        None,
    )
}

#[test]
fn c01_hs256_signed_with_the_public_pem() {
    for conf in [Conf::Rs256, Conf::Jwks] {
        let app = App::new(conf);
        let token = hs256_signed_with(&app, &TestKey::Rsa.public_pem());
        app.rejects(&token, Check::Signature, NOT_ALLOWED);
    }
    let app = App::new(Conf::Es256);
    let token = hs256_signed_with(&app, &TestKey::Ec.public_pem());
    app.rejects(&token, Check::Signature, NOT_ALLOWED);
    // Without a kid as well: the key set is never asked for an HMAC key.
    let app = App::new(Conf::Jwks);
    let token = Signer::hs256(&TestKey::Rsa.public_pem())
        .sign(&json!({"typ": "JWT", "alg": "HS256"}), &claims());
    app.rejects(&token, Check::Signature, NOT_ALLOWED);
}

#[test]
fn c02_hs256_signed_with_the_public_pem_in_a_mixed_configuration() {
    let app = mixed_rs256_hs256();
    app.accepts(&app.good());
    // A genuine HS256 token with the real secret is fine: HS256 is allowed.
    app.accepts(
        &Signer::hs256(REAL_SECRET).sign(&json!({"typ": "JWT", "alg": "HS256"}), &claims()),
    );
    let token = hs256_signed_with(&app, &TestKey::Rsa.public_pem());
    app.rejects(&token, Check::Signature, BAD_SIGNATURE);
    // HMAC keys never come from a JWKS: allowing HS256 there is a configuration error.
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    let settings = Settings {
        algorithms: vec![Algorithm::RS256, Algorithm::HS256],
        ..jwks_settings(&server)
    };
    let error = TokenCodec::new(settings.clone()).unwrap_err().to_string();
    assert!(error.contains("`algorithms`"), "{error}");
    assert!(try_ignite(settings, &[]).is_err());
}

/// The RSA public key in the textual forms an attacker might try as an HMAC key.
fn rsa_public_key_variants() -> Vec<(&'static str, String)> {
    let pem = TestKey::Rsa.public_pem();
    let trimmed = pem.trim_end_matches('\n').to_owned();
    vec![
        ("PEM", pem.clone()),
        ("PEM without the final newline", trimmed.clone()),
        ("PEM with an extra newline", format!("{pem}\n")),
        ("PEM with CRLF", pem.replace('\n', "\r\n")),
        ("PEM with leading whitespace", format!("  \n{pem}")),
        ("PKCS#1 PEM", pkcs1_pem()),
        ("OpenSSH ssh-rsa", openssh_rsa()),
        (
            "OpenSSH ssh-rsa with a comment",
            format!("{} user@host", openssh_rsa()),
        ),
    ]
}

#[test]
fn c03_public_pem_variants_as_hmac_key() {
    let rs256 = App::new(Conf::Rs256);
    let jwks = App::new(Conf::Jwks);
    let mixed = mixed_rs256_hs256();
    for (form, key) in rsa_public_key_variants().into_iter().take(5) {
        rs256.rejects(
            &hs256_signed_with(&rs256, &key),
            Check::Signature,
            NOT_ALLOWED,
        );
        jwks.rejects(
            &hs256_signed_with(&jwks, &key),
            Check::Signature,
            NOT_ALLOWED,
        );
        let token = hs256_signed_with(&mixed, &key);
        assert_invalid(mixed.get(&token), BAD_SIGNATURE, form);
        assert_eq!(
            mixed.codec_error(&token).check(),
            Some(Check::Signature),
            "{form}"
        );
    }
}

#[test]
fn c04_openssh_and_pkcs1_forms_as_hmac_key() {
    let rs256 = App::new(Conf::Rs256);
    let es256 = App::new(Conf::Es256);
    let mixed = mixed_rs256_hs256();
    let mut keys = rsa_public_key_variants();
    keys.push(("OpenSSH ecdsa-sha2-nistp256", openssh_ec()));
    keys.push(("OpenSSH ssh-ed25519", openssh_ed()));
    keys.push((
        "OpenSSH with leading whitespace",
        format!(" {}", openssh_rsa()),
    ));
    for (form, key) in keys {
        rs256.rejects(
            &hs256_signed_with(&rs256, &key),
            Check::Signature,
            NOT_ALLOWED,
        );
        es256.rejects(
            &hs256_signed_with(&es256, &key),
            Check::Signature,
            NOT_ALLOWED,
        );
        let token = hs256_signed_with(&mixed, &key);
        assert_invalid(mixed.get(&token), BAD_SIGNATURE, form);
    }
}

#[test]
fn c05_key_material_as_hmac_secret_is_a_configuration_error() {
    let mut secrets = rsa_public_key_variants();
    secrets.push(("RSA private PEM", TestKey::Rsa.private_pem()));
    secrets.push(("EC public PEM", TestKey::Ec.public_pem()));
    secrets.push(("OpenSSH ecdsa", openssh_ec()));
    secrets.push(("OpenSSH ed25519", openssh_ed()));
    for (form, secret) in secrets {
        for algorithm in [Algorithm::HS256, Algorithm::HS512] {
            // Even with the short-secret opt-out: key material is never an HMAC secret.
            let settings = Settings {
                algorithm,
                secret_key: Some(Secret::new(secret.clone())),
                allow_short_secret: true,
                ..Settings::default()
            };
            let error = TokenCodec::new(settings.clone())
                .expect_err(form)
                .to_string();
            assert!(
                error.contains("`secret_key`") && error.contains("key material"),
                "{form}: {error}"
            );
            assert!(!error.contains(&secret), "{form}: the error shows the key");
            let ignition = try_ignite(settings, &[]).expect_err(form);
            assert!(ignition.contains("FailedFairings"), "{form}: {ignition}");
        }
    }
    assert!(
        !logs::containing("invalid jwt setting `secret_key`: the secret is key material")
            .is_empty()
    );
}

#[test]
fn c06_symmetric_jwk_in_the_key_set_is_refused() {
    let secret = "an-oct-key-of-32-bytes-or-more!!";
    let oct = json!({"kty": "oct", "kid": "k1", "k": b64(secret), "alg": "HS256"});
    let server = JwksServer::start(&[oct.clone(), TestKey::Rsa.jwk()]);
    let app = App::from_settings(
        "JWKS with an oct key",
        jwks_settings(&server),
        Signer::pem(TestKey::Rsa, Algorithm::RS256, Some("rsa-1")),
        Some(server),
    );
    app.accepts(&app.good());
    let hs256 = Signer::hs256(secret).sign(
        &json!({"typ": "JWT", "alg": "HS256", "kid": "k1"}),
        &claims(),
    );
    app.rejects(&hs256, Check::Signature, NOT_ALLOWED);
    // The oct entry was skipped: no key answers to its kid.
    let rs256 = app.with_header(json!({"kid": "k1"}));
    app.rejects(&rs256, Check::Authority, UNKNOWN_KEY);
    // A key set of the oct key alone holds no usable key: requests fail closed.
    let only_oct = JwksServer::start(&[oct]);
    let client = ignite(Settings {
        jwks_cooldown: Duration::ZERO,
        ..jwks_settings(&only_oct)
    });
    let response = client
        .get("/protected")
        .header(Header::new("Authorization", format!("JWT {hs256}")))
        .dispatch();
    assert_invalid(response, NOT_ALLOWED, "oct only, HS256");
    let response = client
        .get("/protected")
        .header(Header::new("Authorization", format!("JWT {rs256}")))
        .dispatch();
    json_error(response, 503, "oct only, RS256");
}

#[test]
fn c08_psychic_signatures() {
    let es256 = App::new(Conf::Es256);
    let server = JwksServer::start(&[TestKey::Ec.jwk()]);
    let es256_jwks = App::from_settings(
        "JWKS ES256",
        Settings {
            algorithm: Algorithm::ES256,
            ..jwks_settings(&server)
        },
        Signer::pem(TestKey::Ec, Algorithm::ES256, Some("ec-1")),
        Some(server),
    );
    let es384 = App::from_settings(
        "ES384",
        static_settings(Algorithm::ES384, TestKey::Ec384),
        Signer::pem(TestKey::Ec384, Algorithm::ES384, None),
        None,
    );
    for (app, size) in [(&es256, 64), (&es256_jwks, 64), (&es384, 96)] {
        let token = app.good();
        app.accepts(&token);
        for signature in [
            vec![0u8; size],
            vec![0xFF; size],
            vec![0u8; size - 1],
            vec![0u8; size + 1],
            [vec![0u8; size / 2], vec![1u8; size / 2]].concat(),
        ] {
            let forged = with_segment(&token, 2, &b64(&signature));
            app.rejects(&forged, Check::Signature, BAD_SIGNATURE);
        }
        // ES512's all-zero 132 bytes: not an allowed algorithm at all.
        let es512 = with_segment(
            &app.with_header(json!({"alg": "ES512"})),
            2,
            &b64([0u8; 132]),
        );
        app.rejects(&es512, Check::Signature, NOT_ALLOWED);
    }
}

#[test]
fn c09_empty_or_dictionary_hmac_secret_is_a_configuration_error() {
    for secret in ["", "secret", "password", "super-secret"] {
        let settings = Settings {
            secret_key: Some(Secret::new(secret)),
            ..Settings::default()
        };
        let error = TokenCodec::new(settings.clone())
            .expect_err(secret)
            .to_string();
        assert!(
            error.contains("`secret_key`")
                && error.contains(&format!("the secret has {} bytes", secret.len())),
            "{secret:?}: {error}"
        );
        assert!(try_ignite(settings, &[]).is_err(), "{secret:?}");
    }
    assert!(!logs::containing("`secret_key`: the secret has 0 bytes").is_empty());
    // A token signed with the empty key never passes the fixture's secret.
    let app = App::new(Conf::Hs256);
    let forged = Signer::hs256("").sign(&json!({"typ": "JWT", "alg": "HS256"}), &claims());
    app.rejects(&forged, Check::Signature, BAD_SIGNATURE);
}

#[test]
fn c09_the_empty_secret_is_refused_even_with_the_short_secret_opt_out() {
    // `allow_short_secret` exists for a Flask-JWT app stuck with a short secret; an empty one
    // (e.g. `JWT_SECRET_KEY=` from an unset shell variable) is no secret at all: anyone could
    // sign tokens with the empty key.
    let settings = Settings {
        secret_key: Some(Secret::new("")),
        allow_short_secret: true,
        ..Settings::default()
    };
    let result = TokenCodec::new(settings.clone());
    assert!(
        result.is_err(),
        "an empty HMAC secret is accepted with allow_short_secret"
    );
    assert!(try_ignite(settings, &[]).is_err());
}

#[test]
fn c10_embedded_jwk_header_is_ignored() {
    let attacker_rsa = Signer::pem(TestKey::Rsa2, Algorithm::RS256, None);
    let attacker_ec = Signer::from_pem(
        &testdata_text("keys/ec2_private.pem"),
        Algorithm::ES256,
        None,
    );
    let attacker_ec_jwk: Value =
        serde_json::from_str(&testdata_text("jwks/ec2_public.jwk.json")).unwrap();
    for conf in [Conf::Rs256, Conf::Jwks, Conf::Es256] {
        let app = App::new(conf);
        let (attacker, embedded) = match conf {
            Conf::Es256 => (
                &attacker_ec,
                merged(
                    attacker_ec_jwk.clone(),
                    json!({"kty": "EC", "crv": "P-256"}),
                ),
            ),
            _ => (&attacker_rsa, TestKey::Rsa2.jwk()),
        };
        let header = merged(app.signer.header(), json!({ "jwk": embedded }));
        let token = attacker.sign(&header, &claims());
        app.rejects(&token, Check::Signature, BAD_SIGNATURE);
        if conf == Conf::Jwks {
            // Naming the embedded key's kid finds nothing in the configured set.
            let header = merged(header, json!({"kid": "rsa-2"}));
            app.rejects(
                &attacker.sign(&header, &claims()),
                Check::Authority,
                UNKNOWN_KEY,
            );
        }
    }
}

/// A self-signed certificate for the attacker's key (`rsa2`), base64 DER as in `x5c`. Made with
/// `openssl req -x509 -key testdata/keys/rsa2_private.pem -subj /CN=attacker.example -outform DER`.
const ATTACKER_CERTIFICATE: &str = "MIIDFzCCAf+gAwIBAgIUddxjZPn6AfVFl/ywVg6czjKnNiswDQYJKoZIhvcNAQELBQAwGzEZMBcGA1UEAwwQYXR0YWNrZXIuZXhhbXBsZTAeFw0yNjExMjMxMTQ2MDVaFw0zNjExMjAxMTQ2MDVaMBsxGTAXBgNVBAMMEGF0dGFja2VyLmV4YW1wbGUwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDEYj/GiB9h8+PXK4qqk3dzrG1fNkxFLcJm+e6T49zBfKt3NDfxAN0Eqfhe7KTE9pRzsgDL7gXNv4xGRJasQgmGchlbo/P2TV+INBXzKDX7zWs5zrbAcx+NYSL3a8TpFiycZzEi3rHH0NmypTutKmJcSBp/gfqWs9oxJbt43Z28NmBAX3VOM8sEgAW5szQfp9BMoW13oAF+k2wIwjIDkWNUs7lQfkjHBLiNxxGh36aaA8GAKeEJcefE9rZBmI9gEBwsOx6y84Vaf9ql/MvsH6ea/VVofgRK64Rjm4EZ+s4jmnj07LmRje1hhvFVS6lVgTaBfdUZDsGbF2s5KJCeMsdxAgMBAAGjUzBRMB0GA1UdDgQWBBRjf0zemA6FkG/0wdBgLoOYlD8tFDAfBgNVHSMEGDAWgBRjf0zemA6FkG/0wdBgLoOYlD8tFDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQC9TKxPG3BLVrnZUdWatBT9WaL1OG6xp79/HkGw0ZggWLiZhsa5sfqgDLyTmjA6d2/B/OWugCjZZe7EZZFMyDh66t8CHUN65/EE9mR5iN4BpZWhbMsrt+LhFpTZWJX7SP0cdJA+nTXxbFY5nOvNKV8sN/Ud5dM30JmEw5n/LM8W2PTuTcSfnPEItqAxv6CKGsyrf+Xb4YCTGboQw4V/e1e8MiSu9/dfcTFoSRnXChEJ9rc0AQMb10bqKfNA5lgof5DN7q6QzhXyatNACw8uTUlvinlq8FJTD5A5HnCnuyJnpYIAPZdrn50bj+c8z+9SAe7ZB2537JOe4QVMnl5Jm6Ox";

#[test]
fn c11_x5c_header_is_ignored() {
    assert!(STANDARD.decode(ATTACKER_CERTIFICATE).is_ok());
    let attacker = Signer::pem(TestKey::Rsa2, Algorithm::RS256, None);
    for conf in [Conf::Rs256, Conf::Jwks] {
        let app = App::new(conf);
        let header = app.header_with(json!({"x5c": [ATTACKER_CERTIFICATE], "x5t": "AAAA"}));
        app.rejects(
            &attacker.sign(&header, &claims()),
            Check::Signature,
            BAD_SIGNATURE,
        );
        // The legitimate signer's token with an x5c header: the certificate is simply ignored.
        app.accepts(&app.sign(&header, &claims()));
    }
}

// ===== D. Other header parameters ==================================================================

/// Tokens naming `kids`, signed HS256 with `hs_key` (for the HS256 and JWKS applications) and with
/// the attacker's RSA key: every one is refused, and the JWKS server sees nothing but the key set
/// fetches it saw before.
fn hostile_kids_are_refused(kids: &[&str], hs_key: &str) {
    let attacker = Signer::pem(TestKey::Rsa2, Algorithm::RS256, None);
    for app in apps() {
        let before = app.server.as_ref().map(JwksServer::total_hits);
        for kid in kids {
            let started = Instant::now();
            let hs = Signer::hs256(hs_key).sign(
                &json!({"typ": "JWT", "alg": "HS256", "kid": kid}),
                &claims(),
            );
            let rs = attacker.sign(
                &json!({"typ": "JWT", "alg": "RS256", "kid": kid}),
                &claims(),
            );
            match app.signer.alg {
                Algorithm::HS256 => {
                    app.rejects(&hs, Check::Signature, BAD_SIGNATURE);
                    app.rejects(&rs, Check::Signature, NOT_ALLOWED);
                }
                Algorithm::ES256 => {
                    app.rejects(&hs, Check::Signature, NOT_ALLOWED);
                    app.rejects(&rs, Check::Signature, NOT_ALLOWED);
                }
                _ if app.server.is_some() => {
                    app.rejects(&hs, Check::Signature, NOT_ALLOWED);
                    app.rejects(&rs, Check::Authority, UNKNOWN_KEY);
                }
                _ => {
                    app.rejects(&hs, Check::Signature, NOT_ALLOWED);
                    app.rejects(&rs, Check::Signature, BAD_SIGNATURE);
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{}: kid {kid:?} took {:?}",
                app.name,
                started.elapsed()
            );
        }
        if let Some(server) = &app.server {
            assert_eq!(
                Some(server.total_hits()),
                before,
                "{}: no extra request",
                app.name
            );
            assert_eq!(
                server.total_hits(),
                server.jwks_hits(),
                "only the key set was asked for"
            );
        }
    }
}

#[test]
fn d01_kid_path_traversal() {
    hostile_kids_are_refused(
        &[
            "../../../../dev/null",
            "/dev/null",
            "file:///dev/null",
            "legit\u{0}../../dev/null",
            "..\\..\\..\\windows\\win.ini",
        ],
        "",
    );
}

#[test]
fn d02_kid_sql_injection() {
    hostile_kids_are_refused(
        &[
            "x' UNION SELECT '1';--",
            "' OR '1'='1",
            "1; DROP TABLE keys",
        ],
        "1",
    );
}

#[test]
fn d03_kid_command_injection() {
    let marker = std::env::temp_dir().join(format!("rfj-d03-{}", std::process::id()));
    let touch = format!("|touch {}", marker.display());
    hostile_kids_are_refused(
        &[
            "&#124;sleep 10",
            "|sleep 10",
            "$(sleep 10)",
            "`sleep 10`",
            "; sleep 10",
            &touch,
        ],
        "",
    );
    assert!(!marker.exists(), "a command ran");
}

#[test]
fn d05_jku_and_x5u_cause_no_outbound_request() {
    // The "attacker" is a key set server of its own on 127.0.0.1: it must never be asked.
    let attacker = JwksServer::start(&[TestKey::Rsa2.jwk()]);
    let attacker_signer = Signer::pem(TestKey::Rsa2, Algorithm::RS256, None);
    let urls = [
        attacker.jwks_url(),
        format!("{}/.well-known/jwks.json", attacker.base_url()),
        "https://attacker.example/jwks.json".to_owned(),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_owned(),
        "file:///etc/passwd".to_owned(),
        "gopher://127.0.0.1:6379/_FLUSHALL".to_owned(),
        "http://[::1]/".to_owned(),
        "https://issuer.example@attacker.example/jwks.json".to_owned(),
        "https://issuer.exampleZattacker.example/jwks.json".to_owned(),
        "https://issuer.example/jwks.json\r\nHost: attacker.example".to_owned(),
    ];
    for app in apps() {
        let before = app.server.as_ref().map(JwksServer::total_hits);
        for url in &urls {
            for member in ["jku", "x5u"] {
                let header = app.header_with(json!({ member: url }));
                // Signed by the attacker: refused, with the configured keys only.
                let forged = match app.signer.alg {
                    Algorithm::HS256 => Signer::hs256("attacker-secret").sign(&header, &claims()),
                    _ => attacker_signer
                        .sign(&merged(header.clone(), json!({"alg": "RS256"})), &claims()),
                };
                let answer = match app.signer.alg {
                    Algorithm::ES256 => NOT_ALLOWED,
                    _ => BAD_SIGNATURE,
                };
                app.rejects(&forged, Check::Signature, answer);
                // Signed by the legitimate key: the member is ignored.
                app.accepts(&app.sign(&header, &claims()));
            }
        }
        if let Some(server) = &app.server {
            assert_eq!(Some(server.total_hits()), before, "{}", app.name);
        }
    }
    assert_eq!(attacker.total_hits(), 0, "the attacker's server was asked");
}

#[test]
fn d06_crit_is_refused() {
    for app in apps() {
        for crit in [
            json!(["x-custom"]),
            json!([]),
            json!(["b64"]),
            json!(["exp"]),
        ] {
            let token = app.with_header(json!({ "crit": crit, "x-custom": true }));
            app.rejects(&token, Check::WellFormed, CRIT);
        }
        // Not an array of strings: malformed.
        for crit in [json!("b64"), json!([123]), json!(null)] {
            let token = app.with_header(json!({ "crit": crit, "x-custom": true }));
            app.rejects(&token, Check::WellFormed, WRONG_TYPE);
        }
    }
}

#[test]
fn d07_unencoded_payload_b64_false() {
    for app in apps() {
        app.rejects(
            &app.with_header(json!({"b64": false, "crit": ["b64"]})),
            Check::WellFormed,
            CRIT,
        );
        for b64_value in [json!(false), json!(true)] {
            app.rejects(
                &app.with_header(json!({ "b64": b64_value })),
                Check::WellFormed,
                "Unencoded payloads (b64) are not supported",
            );
        }
        app.rejects(
            &app.with_header(json!({ "b64": "false" })),
            Check::WellFormed,
            WRONG_TYPE,
        );
        // RFC 7797's shape: the payload segment is the raw JSON, signed as such.
        let header = b64(app.header_with(json!({"b64": false})).to_string());
        let raw = app.signer.sign_message(&format!("{header}.{}", claims()));
        app.rejects(
            &raw,
            Check::WellFormed,
            "Unencoded payloads (b64) are not supported",
        );
    }
}

#[test]
fn d08_typ_variants() {
    let variants = [
        None,
        Some("JWT"),
        Some("at+jwt"),
        Some("application/at+jwt"),
        Some("AT+JWT"),
        Some("JWT\u{0}"),
        Some("JOSE"),
        Some("application/jwt"),
    ];
    let header = |app: &App, typ: Option<&str>| match typ {
        Some(typ) => app.header_with(json!({ "typ": typ })),
        None => without(app.signer.header(), &["typ"]),
    };
    // No expected_typ (the default): typ is ignored.
    for app in apps() {
        for typ in variants {
            app.accepts(&app.sign(&header(&app, typ), &claims()));
        }
    }
    // expected_typ: only equivalent media types (case-insensitive, `application/` optional).
    for (expected, accepted) in [
        ("at+jwt", &["at+jwt", "application/at+jwt", "AT+JWT"][..]),
        ("JWT", &["JWT", "application/jwt"][..]),
    ] {
        for conf in [Conf::Hs256, Conf::Rs256, Conf::Jwks] {
            let app = App::tweaked(conf, |s| s.expected_typ = Some(expected.into()));
            for typ in variants {
                let token = app.sign(&header(&app, typ), &claims());
                if typ.is_some_and(|typ| accepted.contains(&typ)) {
                    app.accepts(&token);
                } else {
                    app.rejects(&token, Check::WellFormed, "Invalid token type (typ)");
                }
            }
        }
    }
}

/// A raw DEFLATE stream of 1 MiB of `A` in 1034 bytes (zlib level 9, no zlib header): a
/// "deflate bomb" payload. Made with Python's `zlib.compressobj(9, zlib.DEFLATED, -15)`.
fn deflate_bomb() -> Vec<u8> {
    let head = [
        0xed, 0xc1, 0x31, 0x01, 0x00, 0x00, 0x00, 0xc2, 0xa0, 0x6c, 0xeb, 0x5f, 0xca, 0x10, 0xbe,
        0x40, 0x01,
    ];
    let mut bomb = head.to_vec();
    bomb.resize(1032, 0);
    bomb.extend_from_slice(&[0x7c, 0x06]);
    bomb
}

#[test]
fn d09_zip_is_refused_never_inflated() {
    const ZIP: &str = "Compressed tokens (zip) are not accepted";
    for app in apps() {
        for zip in [json!("DEF"), json!("GZIP"), json!("")] {
            app.rejects(
                &app.with_header(json!({ "zip": zip })),
                Check::WellFormed,
                ZIP,
            );
        }
        for zip in [json!(null), json!(["DEF"])] {
            app.rejects(
                &app.with_header(json!({ "zip": zip })),
                Check::WellFormed,
                WRONG_TYPE,
            );
        }
        let header = app.header_with(json!({"zip": "DEF"})).to_string();
        let started = Instant::now();
        let bomb = app.signer.sign_bytes(header.as_bytes(), &deflate_bomb());
        assert!(bomb.len() < 8192, "the bomb fits the default size limit");
        app.rejects(&bomb, Check::WellFormed, ZIP);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}

#[test]
fn d10_nested_token_cty_jwt() {
    const NESTED: &str = "Nested tokens (cty: JWT) are not accepted";
    for app in apps() {
        let inner_none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none"}"#),
            b64(claims().to_string())
        );
        let inner_empty_key =
            Signer::hs256("").sign(&json!({"typ": "JWT", "alg": "HS256"}), &claims());
        for inner in [&inner_none, &inner_empty_key] {
            for cty in ["JWT", "jwt", "application/jwt", "application/JWT"] {
                let header = app.header_with(json!({ "cty": cty })).to_string();
                let outer = app.signer.sign_bytes(header.as_bytes(), inner.as_bytes());
                app.rejects(&outer, Check::WellFormed, NESTED);
                // Also as a JSON string payload.
                let quoted = json!(inner).to_string();
                let outer = app.signer.sign_bytes(header.as_bytes(), quoted.as_bytes());
                app.rejects(&outer, Check::WellFormed, NESTED);
            }
        }
        // A non-string cty is malformed (it cannot be shown not to mean JWT).
        app.rejects(
            &app.with_header(json!({"cty": ["JWT"]})),
            Check::WellFormed,
            WRONG_TYPE,
        );
    }
}

#[test]
fn d11_duplicate_kid_member() {
    for app in apps() {
        let alg = alg_name(app.signer.alg);
        for header in [
            format!(r#"{{"typ":"JWT","alg":"{alg}","kid":"a","kid":"b"}}"#),
            format!(r#"{{"typ":"JWT","alg":"{alg}","kid":"rsa-1","kid":"rsa-2"}}"#),
            format!(r#"{{"typ":"JWT","alg":"{alg}","kid":"rsa-1","kid":"rsa-1"}}"#),
        ] {
            let token = app
                .signer
                .sign_bytes(header.as_bytes(), claims().to_string().as_bytes());
            app.rejects(
                &token,
                Check::WellFormed,
                r#"Invalid header string: duplicate member "kid""#,
            );
        }
    }
}

#[test]
fn d12_unknown_non_critical_header_members_are_ignored() {
    for app in apps() {
        app.accepts(&app.with_header(json!({"foo": "bar"})));
        app.accepts(&app.with_header(json!({"foo": {"nested": [1, 2, 3]}, "x-trace": 7})));
    }
}

// ===== E. Time claims ==============================================================================

#[test]
fn e01_expired_long_ago() {
    let now = now();
    for app in apps() {
        let token = app.with_claims(&claims_with(
            json!({"iat": now - 10_300, "nbf": now - 10_300, "exp": now - 10_000}),
        ));
        app.rejects(&token, Check::ValidityPeriod, EXPIRED);
    }
}

#[test]
fn e02_expired_within_or_beyond_the_leeway() {
    let now = now();
    let past = claims_with(json!({"iat": now - 300, "nbf": now - 300, "exp": now - 30}));
    for conf in ALL {
        let lenient = App::tweaked(conf, |s| s.leeway = Duration::from_secs(60));
        lenient.accepts(&lenient.with_claims(&past));
        let strict = App::tweaked(conf, |s| s.leeway = Duration::ZERO);
        strict.rejects(&strict.with_claims(&past), Check::ValidityPeriod, EXPIRED);
    }
}

#[test]
fn e04_exp_missing() {
    for app in apps() {
        let token = app.with_claims(&without(claims(), &["exp"]));
        app.rejects(
            &token,
            Check::ValidityPeriod,
            r#"Token is missing the "exp" claim"#,
        );
    }
}

#[test]
fn e05_exp_not_a_number() {
    let past = (now() - 1000).to_string();
    for app in apps() {
        for exp in [
            json!("9999999999"),
            json!(past),
            json!(true),
            json!([]),
            json!({}),
            json!(""),
            json!("NaN"),
            json!("Infinity"),
            json!("-Infinity"),
            json!([9_999_999_999u64]),
        ] {
            let token = app.with_claims(&claims_with(json!({ "exp": exp })));
            app.rejects(&token, Check::ValidityPeriod, EXP_NOT_INTEGER);
        }
        // A `null` exp counts as missing (the claim is required).
        let token = app.with_claims(&claims_with(json!({"exp": null})));
        app.rejects(
            &token,
            Check::ValidityPeriod,
            r#"Token is missing the "exp" claim"#,
        );
        // NaN and Infinity have no JSON form: the bare words are not JSON.
        let header = app.signer.header().to_string();
        for exp in ["NaN", "Infinity", "-Infinity", "1e999"] {
            let text = claims_text(&format!(r#""exp":{exp}"#));
            let token = app.signer.sign_bytes(header.as_bytes(), text.as_bytes());
            app.rejects_starting(&token, Check::WellFormed, "Invalid payload string: ");
        }
    }
}

#[test]
fn e06_float_exp() {
    let now = now();
    for app in apps() {
        app.accepts(&app.with_claims(&claims_with(json!({"exp": now as f64 + 100.5}))));
        let past =
            claims_with(json!({"iat": now - 300, "nbf": now - 300, "exp": now as f64 - 100.5}));
        app.rejects(&app.with_claims(&past), Check::ValidityPeriod, EXPIRED);
    }
}

#[test]
fn e07_exp_out_of_range() {
    for app in apps() {
        let header = app.signer.header().to_string();
        for exp in [
            "1e300",
            "18446744073709551616",
            "18446744073709551615",
            "9.3e18",
            "-1e300",
        ] {
            let text = claims_text(&format!(r#""exp":{exp}"#));
            let token = app.signer.sign_bytes(header.as_bytes(), text.as_bytes());
            app.rejects(&token, Check::ValidityPeriod, EXP_NOT_INTEGER);
        }
        for exp in ["-1", "0", "-9223372036854775808"] {
            let text = claims_text(&format!(r#""exp":{exp}"#));
            let token = app.signer.sign_bytes(header.as_bytes(), text.as_bytes());
            app.rejects(&token, Check::ValidityPeriod, EXPIRED);
        }
    }
}

#[test]
fn e09_nbf_an_hour_ahead() {
    let now = now();
    for app in apps() {
        let token = app.with_claims(&claims_with(json!({"nbf": now + 3600, "exp": now + 7200})));
        app.rejects(
            &token,
            Check::ValidityPeriod,
            "The token is not yet valid (nbf)",
        );
    }
}

#[test]
fn e10_nbf_within_or_beyond_the_leeway() {
    let now = now();
    let early = claims_with(json!({"nbf": now + 30}));
    for conf in ALL {
        let lenient = App::tweaked(conf, |s| s.leeway = Duration::from_secs(60));
        lenient.accepts(&lenient.with_claims(&early));
        let strict = App::tweaked(conf, |s| s.leeway = Duration::ZERO);
        strict.rejects(
            &strict.with_claims(&early),
            Check::ValidityPeriod,
            "The token is not yet valid (nbf)",
        );
    }
}

#[test]
fn e11_nbf_string_when_not_required() {
    for conf in ALL {
        let app = App::tweaked(conf, |s| {
            s.required_claims = Some(vec!["exp".into(), "iat".into()])
        });
        app.accepts(&app.with_claims(&without(claims(), &["nbf"])));
        for nbf in [json!("99999999999"), json!("0"), json!(false)] {
            let token = app.with_claims(&claims_with(json!({ "nbf": nbf })));
            app.rejects(
                &token,
                Check::ValidityPeriod,
                "Not Before claim (nbf) must be an integer.",
            );
        }
    }
}

/// Policy: an `iat` in the future beyond the leeway is refused, as PyJWT 1.x (Flask-JWT's) does.
#[test]
fn e12_iat_in_the_future_is_refused_policy() {
    let now = now();
    for app in apps() {
        let token = app.with_claims(&claims_with(json!({"iat": now + 3600})));
        app.rejects(
            &token,
            Check::ValidityPeriod,
            "Issued At claim (iat) cannot be in the future.",
        );
        // Within the leeway (10 s): accepted.
        app.accepts(&app.with_claims(&claims_with(json!({"iat": now + 5}))));
    }
}

#[test]
fn e13_iat_not_a_number() {
    for app in apps() {
        for iat in [json!("x"), json!("1700000000"), json!([]), json!(true)] {
            let token = app.with_claims(&claims_with(json!({ "iat": iat })));
            app.rejects(
                &token,
                Check::ValidityPeriod,
                "Issued At claim (iat) must be an integer.",
            );
        }
    }
    // When `iat` is neither verified nor required, it is ignored (as PyJWT with verify_iat off).
    for conf in ALL {
        let app = App::tweaked(conf, |s| {
            s.verify_claims = vec!["signature".into(), "exp".into(), "nbf".into()];
            s.required_claims = Some(vec!["exp".into(), "nbf".into()]);
        });
        app.accepts(&app.with_claims(&claims_with(json!({"iat": "x"}))));
    }
}

#[test]
fn e14_max_age_without_iat() {
    let now = now();
    for conf in ALL {
        let app = App::tweaked(conf, |s| {
            s.max_age = Some(Duration::from_secs(60));
            s.required_claims = Some(vec!["exp".into(), "nbf".into()]);
        });
        app.accepts(&app.good());
        app.rejects(
            &app.with_claims(&without(claims(), &["iat"])),
            Check::ValidityPeriod,
            r#"Token is missing the "iat" claim"#,
        );
        app.rejects(
            &app.with_claims(&claims_with(json!({"iat": now - 600, "nbf": now - 600}))),
            Check::ValidityPeriod,
            "The token is too old (iat)",
        );
    }
}

#[test]
fn e15_leeway_beyond_the_cap_is_a_configuration_error() {
    for leeway in [301, 86_400, now() as u64 + 1, u64::MAX] {
        let settings = Settings {
            leeway: Duration::from_secs(leeway),
            ..hs256_settings()
        };
        let error = TokenCodec::new(settings.clone())
            .expect_err("leeway")
            .to_string();
        assert!(error.contains("`leeway`"), "{leeway}: {error}");
        let error = try_ignite(settings, &[]).expect_err("leeway");
        assert!(error.contains("leeway"), "{leeway}: {error}");
    }
    // From Rocket's configuration: ignition fails and the log names the setting.
    let error = try_ignite(hs256_settings(), &[("jwt.leeway", json!(100_000))])
        .expect_err("leeway from the configuration");
    assert!(error.contains("FailedFairings"), "{error}");
    assert!(
        !logs::containing("invalid jwt setting `leeway`: 100000 s is more than").is_empty(),
        "{:#?}",
        logs::containing("leeway")
    );
    // The cap itself is fine.
    let settings = Settings {
        leeway: Duration::from_secs(300),
        ..hs256_settings()
    };
    assert!(TokenCodec::new(settings.clone()).is_ok());
    assert!(try_ignite(settings, &[]).is_ok());
}

// ===== F. Issuer, audience, subject ================================================================

fn oidc_apps(audience: &[&str]) -> Vec<App> {
    ALL.into_iter()
        .map(|conf| {
            App::tweaked(conf, |s| {
                s.issuer = Some(ISSUER.into());
                s.audience = audience.iter().map(|a| a.to_string()).collect();
            })
        })
        .collect()
}

fn oidc_claims(extra: Value) -> Value {
    merged(claims_with(json!({"iss": ISSUER, "aud": "api"})), extra)
}

#[test]
fn f01_iss_missing() {
    for app in oidc_apps(&["api"]) {
        app.accepts(&app.with_claims(&oidc_claims(json!({}))));
        let token = app.with_claims(&without(oidc_claims(json!({})), &["iss"]));
        app.rejects(
            &token,
            Check::Authority,
            r#"Token is missing the "iss" claim"#,
        );
        let token = app.with_claims(&oidc_claims(json!({"iss": null})));
        app.rejects(
            &token,
            Check::Authority,
            r#"Token is missing the "iss" claim"#,
        );
    }
}

#[test]
fn f02_iss_trailing_slash_both_ways() {
    for app in oidc_apps(&["api"]) {
        let token = app.with_claims(&oidc_claims(json!({"iss": "https://issuer.example"})));
        app.rejects(&token, Check::Authority, INVALID_ISSUER);
    }
    let without_slash = App::tweaked(Conf::Hs256, |s| {
        s.issuer = Some("https://issuer.example".into());
    });
    let token = without_slash.with_claims(&claims_with(json!({"iss": ISSUER})));
    without_slash.rejects(&token, Check::Authority, INVALID_ISSUER);
    let token = without_slash.with_claims(&claims_with(json!({"iss": "https://issuer.example"})));
    without_slash.accepts(&token);
}

#[test]
fn f03_iss_near_misses() {
    for app in oidc_apps(&["api"]) {
        for iss in [
            "https://ISSUER.EXAMPLE/",
            "https://Issuer.example/",
            "https://issuer.example/x",
            "https://",
            "https://https://issuer.example/",
            "issuer.example/",
            "urn:issuer.example",
            "https://issuer.example.attacker.example/",
            "https://issuer.example/ ",
            " https://issuer.example/",
            "https://issuer.example/\u{0}",
        ] {
            let token = app.with_claims(&oidc_claims(json!({ "iss": iss })));
            app.rejects(&token, Check::Authority, INVALID_ISSUER);
        }
    }
}

#[test]
fn f04_iss_not_a_string() {
    for app in oidc_apps(&["api"]) {
        for iss in [
            json!(123),
            json!([ISSUER]),
            json!({"iss": ISSUER}),
            json!(true),
        ] {
            let token = app.with_claims(&oidc_claims(json!({ "iss": iss })));
            app.rejects(&token, Check::Authority, INVALID_ISSUER);
        }
    }
}

#[test]
fn f06_aud_missing() {
    for app in oidc_apps(&["api"]) {
        let token = app.with_claims(&without(oidc_claims(json!({})), &["aud"]));
        app.rejects(
            &token,
            Check::Audience,
            r#"Token is missing the "aud" claim"#,
        );
    }
}

#[test]
fn f07_aud_string_or_array_containing_the_audience() {
    for app in oidc_apps(&["api"]) {
        for aud in [json!("api"), json!(["other", "api"]), json!(["api"])] {
            app.accepts(&app.with_claims(&oidc_claims(json!({ "aud": aud }))));
        }
    }
}

#[test]
fn f08_aud_not_matching() {
    for app in oidc_apps(&["api"]) {
        for aud in [
            json!(["other"]),
            json!([]),
            json!(""),
            json!("API"),
            json!("api "),
            json!(["api", 1]),
            json!(1),
            json!({"api": true}),
        ] {
            let token = app.with_claims(&oidc_claims(json!({ "aud": aud })));
            app.rejects(&token, Check::Audience, INVALID_AUDIENCE);
        }
    }
}

#[test]
fn f10_aud_present_but_no_audience_configured() {
    for app in oidc_apps(&[]) {
        app.accepts(&app.with_claims(&without(oidc_claims(json!({})), &["aud"])));
        for aud in [json!("api"), json!(["api"])] {
            let token = app.with_claims(&oidc_claims(json!({ "aud": aud })));
            app.rejects(&token, Check::Audience, INVALID_AUDIENCE);
        }
    }
}

#[test]
fn f11_token_for_another_api_of_the_same_tenant() {
    for app in oidc_apps(&["api"]) {
        // Valid signature, same iss, another API's aud.
        let token = app.with_claims(&oidc_claims(json!({"aud": "billing-api"})));
        app.rejects(&token, Check::Audience, INVALID_AUDIENCE);
    }
}

#[test]
fn f12_sub_not_a_string_or_not_the_expected_one() {
    for app in apps() {
        for sub in [
            json!(1),
            json!(null),
            json!(["alice"]),
            json!({"id": "alice"}),
            json!(true),
        ] {
            let token = app.with_claims(&claims_with(json!({ "sub": sub })));
            app.rejects(
                &token,
                Check::WellFormed,
                "Invalid subject: sub must be a string",
            );
        }
        app.accepts(&app.with_claims(&claims_with(json!({"sub": "alice"}))));
    }
    // The expected subject is the identity callback's decision: another sub is no one.
    let jwt = Jwt::builder()
        .settings(hs256_settings())
        .disable_auth_url_rule()
        .identity_claim("sub")
        .identity_from_claim(|sub| (sub.as_str()? == "alice").then(joe))
        .build()
        .unwrap();
    let client = Client::tracked(rocket_for(jwt, &[])).unwrap();
    let get = |sub: &str| {
        let token = Signer::hs256(SECRET).sign(
            &json!({"typ": "JWT", "alg": "HS256"}),
            &claims_with(json!({ "sub": sub })),
        );
        client
            .get("/protected")
            .header(Header::new("Authorization", format!("JWT {token}")))
            .dispatch()
    };
    assert_success(get("alice"), "sub alice");
    for sub in ["bob", "Alice", "alice ", ""] {
        let body = json_error(get(sub), 401, sub);
        assert_eq!(
            body,
            json!({"status_code": 401, "error": "Invalid JWT", "description": "User does not exist"})
        );
    }
}

// ===== G. JSON parser edge cases ===================================================================

#[test]
fn g01_duplicate_registered_claim() {
    let now = now();
    for app in apps() {
        let header = app.signer.header().to_string();
        for exp in [
            format!(r#""exp":{},"exp":{}"#, now - 1000, now + 1000),
            format!(r#""exp":{},"exp":{}"#, now + 1000, now - 1000),
        ] {
            let token = app
                .signer
                .sign_bytes(header.as_bytes(), claims_text(&exp).as_bytes());
            app.rejects(
                &token,
                Check::WellFormed,
                r#"Invalid payload string: duplicate member "exp""#,
            );
        }
        let text = claims_text(&format!(r#""exp":{},"identity":2"#, now + 1000));
        let token = app.signer.sign_bytes(header.as_bytes(), text.as_bytes());
        app.rejects(
            &token,
            Check::WellFormed,
            r#"Invalid payload string: duplicate member "identity""#,
        );
    }
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn g03_deeply_nested_json() {
    let deep = nested(100_000);
    let exp = now() + 300;
    for conf in ALL {
        // With the default size limit the 200 kB claim never reaches a parser.
        let app = App::new(conf);
        let header = app.signer.header().to_string();
        let text = claims_text(&format!(r#""exp":{exp},"deep":{deep}"#));
        let token = app.signer.sign_bytes(header.as_bytes(), text.as_bytes());
        app.rejects(&token, Check::WellFormed, "Token is too large");

        // With a 1 MiB limit: forged (wrong key) it stops at the signature, unparsed; correctly
        // signed, the parser's depth limit refuses it; in the header (parsed before the
        // signature check), the same.
        let app = App::tweaked(conf, |s| s.max_token_bytes = 1 << 20);
        let forged = Signer::hs256("wrong key");
        let forged = forged.sign_bytes(
            app.header_with(json!({"alg": alg_name(app.signer.alg)}))
                .to_string()
                .as_bytes(),
            text.as_bytes(),
        );
        let forged = with_segment(&forged, 2, segment(&app.good(), 2));
        app.rejects(&forged, Check::Signature, BAD_SIGNATURE);
        let token = app.signer.sign_bytes(header.as_bytes(), text.as_bytes());
        let description =
            app.rejects_starting(&token, Check::WellFormed, "Invalid payload string: ");
        assert!(description.contains("recursion limit"), "{description}");
        let deep_header = format!(r#"{{"alg":"{}","deep":{deep}}}"#, alg_name(app.signer.alg));
        let token = app
            .signer
            .sign_bytes(deep_header.as_bytes(), claims().to_string().as_bytes());
        let description =
            app.rejects_starting(&token, Check::WellFormed, "Invalid header string: ");
        assert!(description.contains("recursion limit"), "{description}");

        // 127 deep, forged: refused (by the parser's depth limit in the header, by the signature
        // in the claims).
        let shallow = nested(127);
        let header_127 = format!(
            r#"{{"alg":"{}","deep":{shallow}}}"#,
            alg_name(app.signer.alg)
        );
        let token = Signer::hs256("wrong key")
            .sign_bytes(header_127.as_bytes(), claims().to_string().as_bytes());
        let description =
            app.rejects_starting(&token, Check::WellFormed, "Invalid header string: ");
        assert!(description.contains("recursion limit"), "{description}");
        let text_127 = claims_text(&format!(r#""exp":{exp},"deep":{shallow}"#));
        let signed = app
            .signer
            .sign_bytes(header.as_bytes(), text_127.as_bytes());
        let description =
            app.rejects_starting(&signed, Check::WellFormed, "Invalid payload string: ");
        assert!(description.contains("recursion limit"), "{description}");
        let token = with_segment(
            &app.signer
                .sign_bytes(header.as_bytes(), text_127.as_bytes()),
            2,
            segment(&app.good(), 2),
        );
        app.rejects(&token, Check::Signature, BAD_SIGNATURE);
    }
}

#[test]
fn g05_ten_million_periods() {
    let periods = ".".repeat(10_000_000);
    for app in apps() {
        let started = Instant::now();
        let error = app.codec_error(&periods);
        assert_eq!(
            (error.check(), error.description.as_ref()),
            (Some(Check::WellFormed), "Token is too large")
        );
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        // An HTTP request with a 1 MiB Authorization header.
        let started = Instant::now();
        let mib = &periods[..1 << 20];
        assert_invalid(app.get(mib), "Token is too large", &app.name);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}

#[test]
fn g06_numeric_edge_cases_for_exp() {
    let now = now();
    for app in apps() {
        let header = app.signer.header().to_string();
        let sign = |exp: &str| {
            app.signer.sign_bytes(
                header.as_bytes(),
                claims_text(&format!(r#""exp":{exp}"#)).as_bytes(),
            )
        };
        // `1.0` style: a whole number written as a float is accepted (PyJWT truncates floats).
        app.accepts(&sign(&format!("{}.0", now + 300)));
        app.accepts(&sign(&format!("{}e0", now + 300)));
        let description = app.rejects_starting(
            &sign("1e999"),
            Check::WellFormed,
            "Invalid payload string: ",
        );
        assert!(description.contains("number out of range"), "{description}");
        for huge in ["1e19", "123456789012345678901234567890", "1.7e308"] {
            app.rejects(&sign(huge), Check::ValidityPeriod, EXP_NOT_INTEGER);
        }
        for expired in ["-0", "0.0", "1.0", "-0.0"] {
            app.rejects(&sign(expired), Check::ValidityPeriod, EXPIRED);
        }
    }
}

// ===== H. JWKS key resolution, end to end through Rocket ===========================================

/// A JWKS application with `keys` served and `tweak` applied to its settings.
fn jwks_app(keys: &[Value], tweak: impl FnOnce(&mut Settings)) -> App {
    let server = JwksServer::start(keys);
    let mut settings = jwks_settings(&server);
    tweak(&mut settings);
    App::from_settings(
        "JWKS",
        settings,
        Signer::pem(TestKey::Rsa, Algorithm::RS256, Some("rsa-1")),
        Some(server),
    )
}

/// An RS256 token signed by `key` naming `kid`, with fresh claims for identity 1 (`n` makes each
/// token distinct, so the verified-token cache never answers for it).
fn rs256_token(key: TestKey, kid: Option<&str>, n: u64) -> String {
    let signer = Signer::pem(key, Algorithm::RS256, kid);
    signer.sign(&signer.header(), &claims_with(json!({ "n": n })))
}

#[test]
fn h01_unknown_kid_refetches_at_most_once_per_cooldown() {
    // Default cooldown (30 s): ignition just fetched, so unknown kids cost no request.
    let app = jwks_app(&[TestKey::Rsa.jwk()], |_| {});
    let server = app.server();
    let before = server.jwks_hits();
    for n in 0..5 {
        let token = rs256_token(TestKey::Rsa2, Some("rsa-2"), n);
        assert_invalid(app.get(&token), UNKNOWN_KEY, "unknown kid");
    }
    assert_eq!(server.jwks_hits(), before, "no refetch inside the cooldown");
    // No cooldown: one refetch per unknown kid, never more.
    let app = jwks_app(&[TestKey::Rsa.jwk()], |s| s.jwks_cooldown = Duration::ZERO);
    let server = app.server();
    for n in 1..=3 {
        let before = server.jwks_hits();
        let token = rs256_token(TestKey::Rsa2, Some("rsa-2"), n);
        assert_invalid(app.get(&token), UNKNOWN_KEY, "unknown kid");
        assert_eq!(server.jwks_hits(), before + 1, "exactly one refetch");
    }
}

#[test]
fn h02_burst_of_random_kids_does_not_starve_known_ones() {
    let app = jwks_app(&[TestKey::Rsa.jwk()], |_| {});
    let server = app.server();
    let before = server.jwks_hits();
    for n in 0..100u64 {
        let kid = format!("random-{:016x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let token = rs256_token(TestKey::Rsa2, Some(&kid), n);
        assert_invalid(app.get(&token), UNKNOWN_KEY, &kid);
        if n % 10 == 0 {
            assert_success(
                app.get(&rs256_token(TestKey::Rsa, Some("rsa-1"), n)),
                "known kid",
            );
        }
    }
    assert!(
        server.jwks_hits() <= before + 1,
        "{} fetches",
        server.jwks_hits() - before
    );
}

#[test]
fn h03_concurrent_cold_start_fetches_once() {
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    server.set_reply(Reply::Error500);
    let settings = Settings {
        jwks_cooldown: Duration::ZERO,
        ..jwks_settings(&server)
    };
    let jwt = callbacks(Jwt::builder().settings(settings))
        .build()
        .unwrap();
    let rocket = rocket_for(jwt, &[]);
    let tokens: Vec<String> = (0..100)
        .map(|n| rs256_token(TestKey::Rsa, Some("rsa-1"), n))
        .collect();
    let statuses = runtime().block_on(async {
        let client = Arc::new(
            rocket::local::asynchronous::Client::tracked(rocket)
                .await
                .expect("ignites although the first fetch fails"),
        );
        // Ignition's fetch failed: the cache is empty.
        assert_eq!(server.jwks_hits(), 1);
        server.set_reply(Reply::Keys);
        let mut tasks = Vec::new();
        for token in tokens {
            let client = Arc::clone(&client);
            tasks.push(tokio::spawn(async move {
                client
                    .get("/protected")
                    .header(Header::new("Authorization", format!("JWT {token}")))
                    .dispatch()
                    .await
                    .status()
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.expect("the request task"));
        }
        statuses
    });
    assert!(statuses.iter().all(|s| *s == Status::Ok), "{statuses:?}");
    assert_eq!(server.jwks_hits(), 2, "100 concurrent requests, one fetch");
}

/// Settings where every request refetches (no TTL, no cooldown) and stale keys serve for an hour.
fn refetch_always(settings: &mut Settings) {
    settings.jwks_cache_ttl = Duration::ZERO;
    settings.jwks_cooldown = Duration::ZERO;
    settings.jwks_timeout = Duration::from_millis(300);
}

/// A way for the key set endpoint to fail, named.
type Failure = (&'static str, fn(&JwksServer));

#[test]
fn h04_endpoint_failures_keep_the_previous_keys() {
    let failures: [Failure; 4] = [
        ("500", |s| s.set_reply(Reply::Error500)),
        ("not JSON", |s| s.set_reply(Reply::Garbage)),
        ("timeout", |s| s.set_reply(Reply::Hang)),
        ("empty key set", |s| s.set_keys(&[])),
    ];
    for (n, (what, fail)) in failures.into_iter().enumerate() {
        let app = jwks_app(&[TestKey::Rsa.jwk()], refetch_always);
        let server = app.server();
        fail(server);
        let before = server.jwks_hits();
        assert_success(
            app.get(&rs256_token(TestKey::Rsa, Some("rsa-1"), n as u64)),
            what,
        );
        assert_eq!(
            server.jwks_hits(),
            before + 1,
            "{what}: the refetch was tried"
        );
        // The failure was not cached: the endpoint is asked again next time.
        assert_success(
            app.get(&rs256_token(TestKey::Rsa, Some("rsa-1"), 100 + n as u64)),
            what,
        );
        assert_eq!(server.jwks_hits(), before + 2, "{what}");
    }
    // Connection refused: the server is gone.
    let mut app = jwks_app(&[TestKey::Rsa.jwk()], refetch_always);
    drop(app.server.take());
    assert_success(
        app.get(&rs256_token(TestKey::Rsa, Some("rsa-1"), 7)),
        "refused",
    );
}

#[test]
fn h05_endpoint_down_past_the_stale_window_fails_closed() {
    let app = jwks_app(&[TestKey::Rsa.jwk()], |s| {
        refetch_always(s);
        s.jwks_stale_for = Duration::from_millis(300);
    });
    let server = app.server();
    // A token verified (and cached) while the endpoint is up.
    let seen = rs256_token(TestKey::Rsa, Some("rsa-1"), 1);
    assert_success(app.get(&seen), "endpoint up");
    server.set_reply(Reply::Error500);
    std::thread::sleep(Duration::from_millis(400));
    let unavailable = json!({
        "status_code": 503,
        "error": "Service Unavailable",
        "description": "The authority's signing keys cannot be fetched",
    });
    let fresh = rs256_token(TestKey::Rsa, Some("rsa-1"), 2);
    assert_eq!(json_error(app.get(&fresh), 503, "new token"), unavailable);
    // The token verified earlier is refused as well: the verified-token cache must not outlive
    // the keys it was verified with.
    assert_eq!(json_error(app.get(&seen), 503, "cached token"), unavailable);
}

#[test]
fn h06_unknown_kid_while_stale_keys_are_served() {
    let app = jwks_app(&[TestKey::Rsa.jwk()], refetch_always);
    app.server().set_reply(Reply::Error500);
    assert_success(
        app.get(&rs256_token(TestKey::Rsa, Some("rsa-1"), 1)),
        "known kid",
    );
    assert_invalid(
        app.get(&rs256_token(TestKey::Rsa2, Some("rsa-2"), 2)),
        UNKNOWN_KEY,
        "unknown kid",
    );
}

#[test]
fn h07_rotated_key_accepted_after_one_refetch() {
    let app = jwks_app(&[TestKey::Rsa.jwk()], |s| s.jwks_cooldown = Duration::ZERO);
    let server = app.server();
    server.set_keys(&[TestKey::Rsa.jwk(), TestKey::Rsa2.jwk()]);
    let before = server.jwks_hits();
    let rotated = rs256_token(TestKey::Rsa2, Some("rsa-2"), 1);
    assert_success(app.get(&rotated), "new kid");
    assert_eq!(server.jwks_hits(), before + 1);
    assert_success(
        app.get(&rs256_token(TestKey::Rsa2, Some("rsa-2"), 2)),
        "cached",
    );
    assert_eq!(server.jwks_hits(), before + 1);
}

/// The stale-serving trade-off: a removed (compromised) key keeps verifying until the cached
/// key set expires (`jwks_cache_ttl`, 600 s by default), then is refused.
#[test]
fn h08_removed_key_refused_once_the_cache_expires() {
    let cached = rs256_token(TestKey::Rsa2, Some("rsa-2"), 1);
    let inside = rs256_token(TestKey::Rsa2, Some("rsa-2"), 2);
    let after = rs256_token(TestKey::Rsa2, Some("rsa-2"), 3);
    let remaining = rs256_token(TestKey::Rsa, Some("rsa-1"), 4);
    let app = jwks_app(&[TestKey::Rsa.jwk(), TestKey::Rsa2.jwk()], |s| {
        s.jwks_cache_ttl = Duration::from_millis(800);
    });
    let server = app.server();
    assert_success(app.get(&cached), "before removal");
    server.set_keys(&[TestKey::Rsa.jwk()]);
    // Inside the TTL the removed key still verifies: the documented trade-off.
    assert_success(app.get(&inside), "inside the TTL");
    std::thread::sleep(Duration::from_millis(900));
    // Past the TTL: refused, the token verified before as well as a new one.
    assert_invalid(app.get(&cached), UNKNOWN_KEY, "cached token past the TTL");
    assert_invalid(app.get(&after), UNKNOWN_KEY, "new token past the TTL");
    assert_success(app.get(&remaining), "remaining key");
}

/// Refused as ambiguous, through Rocket and by the codec's offline `decode` (cached keys only).
#[track_caller]
fn rejects_as_ambiguous(app: &App, token: &str) {
    assert_invalid(app.get(token), AMBIGUOUS_KEY, &app.name);
    let offline = app.codec_error(token);
    assert_eq!(offline.check(), Some(Check::Authority));
    assert_eq!(offline.description, AMBIGUOUS_KEY);
}

#[test]
fn h09_duplicate_kid_in_the_key_set() {
    // Same kid, two RSA keys for RS256: ambiguous, refused whichever key signed.
    let app = jwks_app(
        &[
            jwk(TestKey::Rsa, json!({"kid": "dup"})),
            jwk(TestKey::Rsa2, json!({"kid": "dup"})),
        ],
        |_| {},
    );
    for key in [TestKey::Rsa, TestKey::Rsa2] {
        rejects_as_ambiguous(&app, &rs256_token(key, Some("dup"), 1));
    }
    // Same kid on an RSA and an EC key: `alg` (and so `kty`) tells them apart.
    let app = jwks_app(
        &[
            jwk(TestKey::Rsa, json!({"kid": "dup"})),
            jwk(TestKey::Ec, json!({"kid": "dup"})),
        ],
        |s| s.algorithms = vec![Algorithm::RS256, Algorithm::ES256],
    );
    app.accepts(&rs256_token(TestKey::Rsa, Some("dup"), 1));
    let es = Signer::pem(TestKey::Ec, Algorithm::ES256, Some("dup"));
    app.accepts(&es.sign(&es.header(), &claims()));
}

#[test]
fn h10_token_without_kid_and_several_keys() {
    let app = jwks_app(&[TestKey::Rsa.jwk(), TestKey::Rsa2.jwk()], |_| {});
    for key in [TestKey::Rsa, TestKey::Rsa2] {
        rejects_as_ambiguous(&app, &rs256_token(key, None, 1));
    }
    let single = jwks_app(&[TestKey::Rsa.jwk()], |_| {});
    single.accepts(&rs256_token(TestKey::Rsa, None, 1));
}

fn unfit_entries() -> Vec<Value> {
    vec![
        jwk(TestKey::Rsa, json!({"kid": "enc", "use": "enc"})),
        jwk(TestKey::Rsa, json!({"kid": "wrap", "key_ops": ["wrapKey"]})),
        jwk(TestKey::Rsa, json!({"kid": "private", "d": "AQAB"})),
        json!({"kty": "oct", "kid": "oct", "k": b64("an-oct-key-of-32-bytes-or-more!!")}),
        json!({"kty": "XYZ", "kid": "xyz", "n": "AQAB"}),
        jwk(TestKey::Rsa, json!({"kid": "bad-n", "n": "!!not base64!!"})),
        merged(
            serde_json::from_str(&testdata_text("jwks/rsa1024_public.jwk.json")).unwrap(),
            json!({"kty": "RSA", "kid": "short", "alg": "RS256"}),
        ),
        json!("not an object"),
    ]
}

#[test]
fn h11_unfit_key_set_entries_are_skipped() {
    let mut keys = unfit_entries();
    keys.push(TestKey::Rsa2.jwk());
    let app = jwks_app(&keys, |_| {});
    for kid in ["enc", "wrap", "private", "oct", "xyz", "bad-n", "short"] {
        app.rejects(
            &rs256_token(TestKey::Rsa, Some(kid), 1),
            Check::Authority,
            UNKNOWN_KEY,
        );
    }
    app.accepts(&rs256_token(TestKey::Rsa2, Some("rsa-2"), 1));
    // A set with no usable key is an error: requests fail closed.
    let app = jwks_app(&unfit_entries(), |s| s.jwks_cooldown = Duration::ZERO);
    let body = json_error(
        app.get(&rs256_token(TestKey::Rsa, Some("enc"), 2)),
        503,
        "no usable key",
    );
    assert_eq!(
        body["description"],
        "The authority's signing keys cannot be fetched"
    );
}

#[test]
fn h12_oversized_or_hanging_key_set_response() {
    // 10 MB key set: refused at the size limit (256 KiB), quickly.
    let huge = json!({"kty": "RSA", "kid": "huge", "n": "A".repeat(10 << 20), "e": "AQAB"});
    let server = JwksServer::start(&[huge]);
    let client = ignite(Settings {
        jwks_cooldown: Duration::ZERO,
        ..jwks_settings(&server)
    });
    let started = Instant::now();
    let response = client
        .get("/protected")
        .header(Header::new(
            "Authorization",
            format!("JWT {}", rs256_token(TestKey::Rsa, Some("rsa-1"), 1)),
        ))
        .dispatch();
    json_error(response, 503, "10 MB key set");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // A key set endpoint that never answers: abandoned at the timeout.
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    server.set_reply(Reply::Hang);
    let client = ignite(Settings {
        jwks_cooldown: Duration::ZERO,
        jwks_timeout: Duration::from_millis(300),
        ..jwks_settings(&server)
    });
    let started = Instant::now();
    let response = client
        .get("/protected")
        .header(Header::new(
            "Authorization",
            format!("JWT {}", rs256_token(TestKey::Rsa, Some("rsa-1"), 2)),
        ))
        .dispatch();
    json_error(response, 503, "hanging key set");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn h13_iss_and_jku_never_choose_the_key_source() {
    let attacker = JwksServer::start(&[TestKey::Rsa2.jwk()]);
    let app = jwks_app(&[TestKey::Rsa.jwk()], |s| s.issuer = Some(ISSUER.into()));
    let before = app.server().total_hits();
    let attacker_claims = claims_with(json!({"iss": attacker.authority()}));
    let signer = Signer::pem(TestKey::Rsa2, Algorithm::RS256, Some("rsa-2"));
    let header = merged(signer.header(), json!({"jku": attacker.jwks_url()}));
    app.rejects(
        &signer.sign(&header, &attacker_claims),
        Check::Authority,
        UNKNOWN_KEY,
    );
    let header = merged(header, json!({"kid": "rsa-1"}));
    app.rejects(
        &signer.sign(&header, &attacker_claims),
        Check::Signature,
        BAD_SIGNATURE,
    );
    // Even signed by the real key, the attacker's iss is not the configured issuer.
    let real = Signer::pem(TestKey::Rsa, Algorithm::RS256, Some("rsa-1"));
    app.rejects(
        &real.sign(&real.header(), &attacker_claims),
        Check::Authority,
        INVALID_ISSUER,
    );
    assert_eq!(attacker.total_hits(), 0, "the attacker's server was asked");
    assert_eq!(app.server().total_hits(), before);
    // OIDC discovery: a document naming another issuer stops ignition before any key is fetched.
    let server = JwksServer::start(&[TestKey::Rsa.jwk()]);
    server.set_discovery(json!({"issuer": attacker.authority(), "jwks_uri": attacker.jwks_url()}));
    let settings = Settings {
        algorithm: Algorithm::RS256,
        auth_url_rule: None,
        authority: Some(server.authority()),
        oidc_discovery: true,
        ..Settings::default()
    };
    assert!(try_ignite(settings, &[]).is_err());
    assert_eq!((server.discovery_hits(), server.jwks_hits()), (1, 0));
    assert_eq!(attacker.total_hits(), 0);
}

// ===== I. HTTP extraction ==========================================================================

#[test]
fn i01_no_authorization_header() {
    for app in [App::new(Conf::Hs256), App::new(Conf::Jwks)] {
        let response = app.client.get("/protected").dispatch();
        assert_eq!(
            response.headers().get_one("WWW-Authenticate"),
            Some(r#"JWT realm="Login Required""#)
        );
        let body = json_error(response, 401, &app.name);
        assert_eq!(body["error"], "Authorization Required");
        assert_eq!(
            body["description"],
            "Request does not contain an access token"
        );
    }
}

#[test]
fn i02_scheme_is_case_insensitive() {
    for app in [App::new(Conf::Hs256), App::new(Conf::Jwks)] {
        let token = app.good();
        for scheme in ["JWT", "jwt", "Jwt", "jWt"] {
            assert_success(app.request(&format!("{scheme} {token}")), scheme);
        }
    }
    let bearer = App::tweaked(Conf::Hs256, |s| s.auth_header_prefix = "Bearer".into());
    let token = bearer.good();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        assert_success(bearer.request(&format!("{scheme} {token}")), scheme);
        assert_eq!(
            parse_authorization(&format!("{scheme} {token}"), "Bearer").unwrap(),
            Some(token.as_str())
        );
    }
    assert_header_error(
        bearer.request(&format!("JWT {token}")),
        "Unsupported authorization type",
    );
}

#[test]
fn i03_ambiguous_or_incomplete_authorization() {
    let app = App::new(Conf::Hs256);
    let token = app.good();
    let other = app.with_claims(&claims_with(json!({"n": 2})));
    assert_header_error(app.request("JWT"), "Token missing");
    assert_header_error(app.request("JWT   "), "Token missing");
    assert_header_error(
        app.request("Basic am9lOnBhc3M="),
        "Unsupported authorization type",
    );
    assert_header_error(
        app.request(&format!("Bearer {token}")),
        "Unsupported authorization type",
    );
    assert_header_error(
        app.request(&format!("JWT {token}, JWT {other}")),
        "Token contains spaces",
    );
    // Two tokens glued by a comma: one malformed token, not a choice between two.
    app.rejects(
        &format!("{token},{other}"),
        Check::WellFormed,
        "Too many segments",
    );
    // Two Authorization headers, valid or not: refused, never one picked.
    for (first, second) in [(&token, &other), (&token, &"garbage".to_owned())] {
        let response = app
            .client
            .get("/protected")
            .header(Header::new("Authorization", format!("JWT {first}")))
            .header(Header::new("Authorization", format!("JWT {second}")))
            .dispatch();
        assert_header_error(response, "Multiple Authorization headers");
    }
    // Flask-JWT compatibility (policy): `JWT  <token>` with two spaces is accepted, as Flask-JWT's
    // `str.split()` does.
    assert_success(app.request(&format!("JWT  {token}")), "two spaces");
    assert_eq!(
        parse_authorization(&format!("JWT  {token}"), "JWT").unwrap(),
        Some(token.as_str())
    );
}

/// Policy: invalid and expired tokens both answer 401 (Flask-JWT's `JWTError` status), with
/// `error: "Invalid token"` and a description telling them apart.
#[test]
fn i04_invalid_and_expired_tokens_both_answer_401_policy() {
    let now = now();
    for app in apps() {
        let expired = app.with_claims(&claims_with(
            json!({"iat": now - 1000, "nbf": now - 1000, "exp": now - 500}),
        ));
        let invalid = with_segment(&app.good(), 1, &b64(r#"{"identity":2}"#));
        for (token, description) in [(expired, EXPIRED), (invalid, BAD_SIGNATURE)] {
            let response = app.get(&token);
            assert_eq!(response.status(), Status::Unauthorized, "{}", app.name);
            assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
            assert_invalid(response, description, &app.name);
        }
    }
}

// ===== Configuration-level guards ==================================================================

#[test]
fn config_short_hmac_secrets_need_the_opt_out_which_warns() {
    for (algorithm, secret, minimum) in [
        (Algorithm::HS256, "super-secret", 32),
        (Algorithm::HS256, "0123456789abcdef0123456789abcde", 32),
        (Algorithm::HS384, "0123456789abcdef0123456789abcdef", 48),
        (
            Algorithm::HS512,
            "0123456789abcdef0123456789abcdef0123456789abcdef",
            64,
        ),
    ] {
        let settings = Settings {
            algorithm,
            secret_key: Some(Secret::new(secret)),
            ..Settings::default()
        };
        let error = TokenCodec::new(settings.clone())
            .expect_err(secret)
            .to_string();
        assert!(
            error.contains("`secret_key`")
                && error.contains(&format!("needs at least {minimum}"))
                && error.contains("allow_short_secret"),
            "{error}"
        );
        assert!(
            !error.contains(secret),
            "the error shows the secret: {error}"
        );
        assert!(try_ignite(settings.clone(), &[]).is_err());
        // With the opt-out: accepted, with a warning that does not show the secret.
        let allowed = Settings {
            allow_short_secret: true,
            ..settings
        };
        assert!(TokenCodec::new(allowed.clone()).is_ok());
        assert!(try_ignite(allowed, &[]).is_ok());
    }
    let warnings = logs::containing("INSECURE");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("WARN") && w.contains("allow_short_secret")),
        "{warnings:#?}"
    );
    assert!(warnings.iter().all(|w| !w.contains("super-secret")));
    // Long enough: no opt-out needed.
    assert!(TokenCodec::new(Settings {
        secret_key: Some(Secret::new(REAL_SECRET)),
        ..Settings::default()
    })
    .is_ok());
}

#[test]
fn config_rsa_keys_under_2048_bits_are_refused() {
    let settings = Settings {
        algorithm: Algorithm::RS256,
        public_key: Some(KeyMaterial::Pem(
            std::fs::read_to_string(testdata("keys/rsa1024_public.pem")).unwrap(),
        )),
        ..Settings::default()
    };
    let error = TokenCodec::new(settings.clone()).unwrap_err().to_string();
    assert!(
        error.contains("`public_key`") && error.contains("1024 bits"),
        "{error}"
    );
    assert!(try_ignite(settings, &[]).is_err());
    assert!(
        !logs::containing("invalid jwt setting `public_key`: the RSA key has 1024 bits").is_empty()
    );
}

// ===== Secrets never leak; panicking callbacks =====================================================

const LEAK_SECRET: &str = "leak-test-secret-that-never-appears-0123456789";
const LEAK_PASSWORD: &str = "correct-horse-battery-staple-never-logged";

/// The application of the leak tests: joe logs in with [`LEAK_PASSWORD`]; identity 1 is joe,
/// identity 3 panics, any other is no one; the user `panic` makes authentication panic.
fn leak_app(error_handler_panics: bool) -> Client {
    let mut builder = Jwt::builder()
        .secret_key(LEAK_SECRET)
        .authentication_handler(|username, password| {
            assert!(
                username != "panic",
                "authentication callback failed on purpose"
            );
            (username == "joe" && password == LEAK_PASSWORD).then(joe)
        })
        .identity_handler(|payload| match payload.get("identity")?.as_u64()? {
            1 => Some(joe()),
            3 => panic!("identity callback failed on purpose"),
            _ => None,
        });
    if error_handler_panics {
        builder = builder.error_handler(|error| {
            assert!(
                error.description != EXPIRED,
                "error callback failed on purpose"
            );
            error.to_response()
        });
    }
    Client::tracked(rocket_for(builder.build().unwrap(), &[])).expect("ignites")
}

fn leak_token(claims: &Value) -> String {
    Signer::hs256(LEAK_SECRET).sign(&json!({"typ": "JWT", "alg": "HS256"}), claims)
}

fn post_auth<'c>(client: &'c Client, body: &str) -> LocalResponse<'c> {
    client
        .post("/auth")
        .header(ContentType::JSON)
        .body(body)
        .dispatch()
}

fn get_token<'c>(client: &'c Client, token: &str) -> LocalResponse<'c> {
    client
        .get("/protected")
        .header(Header::new("Authorization", format!("JWT {token}")))
        .dispatch()
}

#[test]
fn logs_and_error_bodies_never_hold_tokens_passwords_or_secrets() {
    let now = now();
    let client = leak_app(false);
    let mut bodies = Vec::new();
    let response = post_auth(
        &client,
        &format!(r#"{{"username":"joe","password":"{LEAK_PASSWORD}"}}"#),
    );
    assert_eq!(response.status(), Status::Ok);
    let body: Value = response.into_json().unwrap();
    let valid = body["access_token"].as_str().unwrap().to_owned();

    let expired =
        leak_token(&json!({"identity": 1, "iat": now - 900, "nbf": now - 900, "exp": now - 600}));
    let tampered = with_segment(
        &valid,
        1,
        &b64(claims_with(json!({"identity": 2})).to_string()),
    );
    let foreign = Signer::hs256("another-secret-of-thirty-two-bytes!")
        .sign(&json!({"typ": "JWT", "alg": "HS256"}), &claims());
    let unknown = leak_token(&claims_with(json!({"identity": 2})));
    let panicking = leak_token(&claims_with(json!({"identity": 3})));
    let malformed = format!("{}.{}", segment(&valid, 0), segment(&valid, 2));
    let tokens = [
        &valid, &expired, &tampered, &foreign, &unknown, &panicking, &malformed,
    ];
    for token in tokens {
        let response = get_token(&client, token);
        let status = response.status();
        bodies.push((status, response.into_string().unwrap_or_default()));
    }
    assert_eq!(
        bodies.iter().map(|(s, _)| s.code).collect::<Vec<_>>(),
        [200, 401, 401, 401, 401, 500, 401]
    );
    for body in [
        format!(r#"{{"username":"joe","password":"{LEAK_PASSWORD}x"}}"#),
        format!(r#"{{"username":"mallory","password":"{LEAK_PASSWORD}"}}"#),
        format!(r#"{{"username":"joe","password":"{LEAK_PASSWORD}","extra":1}}"#),
        format!(r#"{{"username":"joe","password":"{LEAK_PASSWORD}"#),
        format!(r#"{{"username":1,"password":"{LEAK_PASSWORD}"}}"#),
        format!("username=joe&password={LEAK_PASSWORD}"),
        format!(r#"["joe","{LEAK_PASSWORD}"]"#),
        format!(r#"{{"username":"panic","password":"{LEAK_PASSWORD}"}}"#),
    ] {
        let response = post_auth(&client, &body);
        let status = response.status();
        bodies.push((status, response.into_string().unwrap_or_default()));
    }
    // The error callback panicking.
    let panicking_errors = leak_app(true);
    let response = get_token(&panicking_errors, &expired);
    bodies.push((
        response.status(),
        response.into_string().unwrap_or_default(),
    ));

    let mut secrets: Vec<&str> = vec![LEAK_SECRET, LEAK_PASSWORD];
    let signatures: Vec<&str> = tokens
        .iter()
        .map(|t| t.rsplit('.').next().unwrap())
        .collect();
    secrets.extend(tokens.iter().map(|t| t.as_str()));
    secrets.extend(signatures.iter().filter(|s| !s.is_empty()));
    // The token's claims segment is not secret (anyone can decode it), but neither is it logged.
    secrets.push(segment(&valid, 1));
    for (status, body) in &bodies {
        for secret in &secrets {
            assert!(
                !body.contains(secret),
                "a {status} body holds {secret:?}: {body}"
            );
        }
    }
    let lines = logs::all();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("jwt: GET /protected: Invalid token")),
        "the rejections were logged (capture works)"
    );
    assert!(lines.iter().any(|l| l.contains("a callback panicked")));
    for line in &lines {
        for secret in &secrets {
            assert!(
                !line.contains(secret),
                "a log line holds {secret:?}: {line}"
            );
        }
    }
}

#[test]
fn panicking_callbacks_answer_500_json_and_the_next_request_is_served() {
    let internal = json!({
        "status_code": 500,
        "error": "Internal Server Error",
        "description": "a callback failed",
    });
    let client = leak_app(false);
    let good = leak_token(&claims());
    // The identity callback.
    let panicking = leak_token(&claims_with(json!({"identity": 3})));
    assert_eq!(
        json_error(get_token(&client, &panicking), 500, "identity"),
        internal
    );
    // Again, now that the token is in the verified-token cache (decided without awaiting).
    assert_eq!(
        json_error(get_token(&client, &panicking), 500, "identity, cached"),
        internal
    );
    assert_success(get_token(&client, &good), "after the identity panic");
    assert_success(
        get_token(&client, &good),
        "cached, after the identity panic",
    );
    // The authentication callback.
    let body = format!(r#"{{"username":"panic","password":"{LEAK_PASSWORD}"}}"#);
    assert_eq!(
        json_error(post_auth(&client, &body), 500, "authentication"),
        internal
    );
    let login = format!(r#"{{"username":"joe","password":"{LEAK_PASSWORD}"}}"#);
    assert_eq!(post_auth(&client, &login).status(), Status::Ok);
    // The error callback.
    let client = leak_app(true);
    let now = now();
    let expired =
        leak_token(&json!({"identity": 1, "iat": now - 900, "nbf": now - 900, "exp": now - 600}));
    assert_eq!(
        json_error(get_token(&client, &expired), 500, "error callback"),
        internal
    );
    assert_invalid(
        get_token(&client, &format!("{good}x")),
        BAD_SIGNATURE,
        "after the error callback panic",
    );
    assert_success(get_token(&client, &good), "after the error callback panic");
    // At /auth too.
    let wrong = r#"{"username":"joe","password":"wrong"}"#;
    assert_eq!(
        json_error(post_auth(&client, wrong), 401, "bad login")["description"],
        "Invalid credentials"
    );
}

// ----- key forms ---------------------------------------------------------------------------------------

fn testdata_text(name: &str) -> String {
    let path = testdata(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn jwk_member(key: TestKey, name: &str) -> Vec<u8> {
    let jwk = key.jwk();
    URL_SAFE_NO_PAD
        .decode(jwk[name].as_str().expect("a JWK member"))
        .expect("base64url")
}

fn ssh_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_be_bytes());
    out.extend_from_slice(bytes);
}

fn ssh_mpint(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let mut value = bytes[start..].to_vec();
    if value.first().is_some_and(|b| b & 0x80 != 0) {
        value.insert(0, 0);
    }
    ssh_string(out, &value);
}

/// The RSA test key's public half as OpenSSH writes it (`ssh-keygen -y`).
fn openssh_rsa() -> String {
    let mut blob = Vec::new();
    ssh_string(&mut blob, b"ssh-rsa");
    ssh_mpint(&mut blob, &jwk_member(TestKey::Rsa, "e"));
    ssh_mpint(&mut blob, &jwk_member(TestKey::Rsa, "n"));
    format!("ssh-rsa {}", STANDARD.encode(blob))
}

/// The EC P-256 test key's public half in OpenSSH form.
fn openssh_ec() -> String {
    let mut point = vec![4u8];
    point.extend(jwk_member(TestKey::Ec, "x"));
    point.extend(jwk_member(TestKey::Ec, "y"));
    let mut blob = Vec::new();
    ssh_string(&mut blob, b"ecdsa-sha2-nistp256");
    ssh_string(&mut blob, b"nistp256");
    ssh_string(&mut blob, &point);
    format!("ecdsa-sha2-nistp256 {}", STANDARD.encode(blob))
}

/// The Ed25519 test key's public half in OpenSSH form.
fn openssh_ed() -> String {
    let mut blob = Vec::new();
    ssh_string(&mut blob, b"ssh-ed25519");
    ssh_string(&mut blob, &jwk_member(TestKey::Ed, "x"));
    format!("ssh-ed25519 {}", STANDARD.encode(blob))
}

/// The RSA test key's public half as PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`).
fn pkcs1_pem() -> String {
    let der = std::fs::read(testdata("keys/rsa_public_pkcs1.der")).unwrap();
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

#[test]
fn the_openssh_forms_match_ssh_keygen() {
    // `ssh-keygen -y -f testdata/keys/ec_private.pem`.
    assert_eq!(
        openssh_ec(),
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGRtiECKhZN95cpRJz7eNs+YH0A/zBhAdg8w00Nq51ikv+3XRbbASafakYVmBSo+4tPVFEZJBSgswrw9Zjv4PEI="
    );
    assert!(openssh_rsa().starts_with(
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDmF2kNU8Czu53q4GRLW3aod3idPLDMBBJsNEAU5HcVTPiH+OQaRFXjpAs6OPfE"
    ));
}
