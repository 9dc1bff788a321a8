//! The key ring of issued tokens (`signing_keys_dir`) through Rocket's local client: tokens
//! signed by the current key and named by its RFC 7638 thumbprint, the JWKS (`ETag`, `304`,
//! `Cache-Control`), a key added to the directory taking over without a restart while tokens of
//! the one before keep verifying, a key file that does not parse, the migration from a static
//! HS256 secret and from a static ES256 key, and RFC 8414 metadata.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rocket::http::{Header, Status};
use rocket::local::blocking::Client;
use rocket::{get, routes};
use rocket_flask_jwt::extended::{Freshness, JwtManager};
use rocket_flask_jwt::{jwt_required, Jwt, JwtResponse};
use serde_json::Value;

/// A fresh directory for key files, removed when dropped.
struct KeyDir(PathBuf);

impl KeyDir {
    fn new() -> KeyDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "jwt-key-ring-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("a key directory");
        KeyDir(path)
    }

    /// Writes `<file>` with the times `preamble` and the test key `key`.
    fn add(&self, file: &str, preamble: &str, key: &str) {
        let pem = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("testdata/keys/ring/{key}.pem")),
        )
        .expect("a test key");
        std::fs::write(self.0.join(file), format!("{preamble}{pem}")).expect("a key file");
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for KeyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `testdata/keys/<name>.pem`.
fn pem(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("testdata/keys/{name}.pem")),
    )
    .expect("a test key")
}

/// The extended profile signing with the static ES256 test key.
fn static_es256() -> rocket_flask_jwt::JwtBuilder<()> {
    Jwt::builder()
        .extended()
        .algorithm(rocket_flask_jwt::Algorithm::ES256)
        .private_key_pem(pem("ec_private"))
        .public_key_pem(pem("ec_public"))
}

fn now() -> i64 {
    rocket_flask_jwt::testing::now()
}

#[get("/issue")]
fn issue(jwt: JwtManager<'_>) -> Result<String, JwtResponse> {
    Ok(jwt.create_access_token("ann", Freshness::Fresh)?)
}

#[jwt_required]
#[get("/protected")]
fn protected() -> &'static str {
    "ok"
}

fn client(jwt: rocket_flask_jwt::JwtBuilder<()>) -> Client {
    let jwt = jwt.build().expect("a valid configuration");
    Client::untracked(
        rocket::build()
            .attach(jwt)
            .mount("/", routes![issue, protected]),
    )
    .expect("ignites")
}

fn ring(directory: &KeyDir) -> rocket_flask_jwt::JwtBuilder<()> {
    Jwt::builder().extended().signing_keys_dir(directory.path())
}

/// The token's header.
fn header(token: &str) -> Value {
    let segment = token.split('.').next().expect("a header");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, segment)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn status(client: &Client, token: &str) -> Status {
    client
        .get("/protected")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .status()
}

fn jwks(client: &Client) -> Value {
    client
        .get("/.well-known/jwks.json")
        .dispatch()
        .into_json()
        .expect("a JWKS")
}

fn kids(client: &Client) -> Vec<String> {
    jwks(client)["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

#[test]
fn tokens_are_signed_by_the_current_key_named_by_its_thumbprint_and_published() {
    let directory = KeyDir::new();
    directory.add("a.pem", "", "ec_a");
    let client = client(ring(&directory));
    let token = client
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    let header = header(&token);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(status(&client, &token), Status::Ok);
    let response = client.get("/.well-known/jwks.json").dispatch();
    assert_eq!(response.status(), Status::Ok);
    let etag = response
        .headers()
        .get_one("ETag")
        .expect("an ETag")
        .to_owned();
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("public, max-age=300")
    );
    let set: Value = response.into_json().expect("a JWKS");
    let key = &set["keys"][0];
    assert_eq!(set["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        key["kid"], header["kid"],
        "the token names the published key"
    );
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (
            &"EC".into(),
            &"P-256".into(),
            &"ES256".into(),
            &"sig".into()
        )
    );
    assert!(key.get("d").is_none(), "no private member: {key}");
    let unchanged = client
        .get("/.well-known/jwks.json")
        .header(Header::new("If-None-Match", etag))
        .dispatch();
    assert_eq!(unchanged.status(), Status::NotModified);
    // A token whose signature is not the key's is refused (422, as Flask-JWT-Extended answers).
    let forged = format!("{}.x", token.rsplit_once('.').expect("a token").0);
    assert_eq!(status(&client, &forged), Status::UnprocessableEntity);
}

/// Fetches the JWKS until `done` holds (each request drives the client's runtime, where the
/// directory's watch runs), within five seconds.
fn until(client: &Client, what: &str, done: impl Fn(&Client) -> bool) {
    let started = Instant::now();
    while !done(client) {
        assert!(started.elapsed() < Duration::from_secs(5), "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_key_added_to_the_directory_takes_over_without_a_restart() {
    let directory = KeyDir::new();
    directory.add("a.pem", "", "ec_a");
    let client = client(ring(&directory));
    let first = client
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    let first_kid = header(&first)["kid"].as_str().expect("a kid").to_owned();
    let takes_over = now() + 3;
    directory.add(
        "b.pem",
        &format!("published-at: {}\nsigns-from: {takes_over}\n", now()),
        "ec_b",
    );
    until(&client, "the new key is published", |client| {
        kids(client).len() == 2
    });
    let before = client
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    assert_eq!(
        header(&before)["kid"],
        first_kid.as_str(),
        "published, not signing yet"
    );
    until(&client, "the new key signs", |client| {
        let token = client
            .get("/issue")
            .dispatch()
            .into_string()
            .expect("a token");
        header(&token)["kid"] != first_kid.as_str()
    });
    assert_eq!(
        status(&client, &first),
        Status::Ok,
        "the previous key still verifies"
    );
    // Its file removed, the old key is gone: its tokens are refused.
    std::fs::remove_file(directory.0.join("a.pem")).expect("removed");
    until(&client, "the old key is gone", |client| {
        kids(client).len() == 1
    });
    assert_eq!(status(&client, &first), Status::UnprocessableEntity);
}

#[test]
fn a_key_file_that_does_not_parse_is_refused_and_the_rest_kept() {
    let directory = KeyDir::new();
    directory.add("a.pem", "", "ec_a");
    std::fs::write(directory.0.join("broken.pem"), "signs-from: soon\n").expect("a file");
    let client = client(ring(&directory));
    assert_eq!(kids(&client).len(), 1);
    let logged = crate::common::logs::containing("broken.pem");
    assert!(
        logged
            .iter()
            .any(|line| line.contains("the other keys are used")),
        "{logged:?}"
    );
}

#[test]
fn a_ring_without_a_usable_key_fails_ignition_naming_the_setting() {
    let empty = KeyDir::new();
    std::fs::write(empty.0.join("broken.pem"), "no key").expect("a file");
    let jwt = ring(&empty).build().expect("checked at ignition");
    let Err(error) = Client::untracked(rocket::build().attach(jwt)) else {
        panic!("ignition must fail");
    };
    assert!(format!("{:?}", error.kind()).contains("FailedFairings"));
    assert!(crate::common::logs::containing("signing_keys_dir")
        .iter()
        .any(|line| line.contains("no usable signing key")),);
}

#[test]
fn migrating_from_a_static_secret_keeps_its_tokens_for_the_window_only() {
    let secret = "a secret of at least thirty-two bytes!";
    let before = client(Jwt::builder().extended().secret_key(secret));
    let old = before
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("an HS256 token");
    assert_eq!(header(&old)["alg"], "HS256");

    let directory = KeyDir::new();
    directory.add("a.pem", "", "ec_a");
    let during = client(
        ring(&directory)
            .secret_key(secret)
            .static_keys_until(now() + 2),
    );
    let new = during
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    assert_eq!(
        header(&new)["alg"],
        "ES256",
        "new tokens are signed by the ring"
    );
    assert_eq!(
        status(&during, &old),
        Status::Ok,
        "the secret's tokens, in the window"
    );
    assert_eq!(status(&during, &new), Status::Ok);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        status(&during, &old),
        Status::UnprocessableEntity,
        "after the window"
    );
    assert_eq!(status(&during, &new), Status::Ok);
    let keys: Vec<Value> = jwks(&during)["keys"].as_array().cloned().expect("keys");
    assert!(
        keys.iter().all(|key| key["kty"] != "oct"),
        "the secret is never published: {keys:?}"
    );

    let no_window = ring(&directory)
        .secret_key(secret)
        .build()
        .expect("checked at ignition");
    let Err(error) = Client::untracked(rocket::build().attach(no_window)) else {
        panic!("a static secret beside the ring needs its window");
    };
    assert!(format!("{:?}", error.kind()).contains("FailedFairings"));
}

#[test]
fn migrating_from_a_static_asymmetric_key_keeps_its_tokens_for_the_window_only() {
    let before = client(static_es256());
    let old = before
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    assert_eq!(header(&old)["alg"], "ES256");
    assert!(header(&old).get("kid").is_none(), "a static key names none");

    let directory = KeyDir::new();
    directory.add("a.pem", "", "ec_b");
    let during = client(
        ring(&directory)
            .algorithm(rocket_flask_jwt::Algorithm::ES256)
            .public_key_pem(pem("ec_public"))
            .static_keys_until(now() + 2),
    );
    let new = during
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    assert!(header(&new).get("kid").is_some(), "signed by the ring");
    assert_eq!(
        status(&during, &old),
        Status::Ok,
        "the static key's tokens, in the window"
    );
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        status(&during, &old),
        Status::UnprocessableEntity,
        "after the window"
    );
    assert_eq!(status(&during, &new), Status::Ok);
}

#[test]
fn a_static_asymmetric_key_is_published_alone_and_a_secret_never() {
    let es256 = client(static_es256());
    let keys = jwks(&es256)["keys"].as_array().cloned().expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(
        (&keys[0]["kty"], &keys[0]["alg"]),
        (&"EC".into(), &"ES256".into())
    );
    assert_eq!(
        keys[0]["kid"].as_str().map(str::len),
        Some(43),
        "its thumbprint"
    );
    assert!(keys[0].get("d").is_none());
    let token = es256
        .get("/issue")
        .dispatch()
        .into_string()
        .expect("a token");
    assert!(header(&token).get("kid").is_none(), "its tokens unchanged");

    let hs256 = client(
        Jwt::builder()
            .extended()
            .secret_key("a secret of at least thirty-two bytes!"),
    );
    assert_eq!(
        hs256.get("/.well-known/jwks.json").dispatch().status(),
        Status::NotFound,
        "a secret is never published"
    );

    // An application serving its own JWKS at the path keeps it.
    #[get("/.well-known/jwks.json")]
    fn own() -> &'static str {
        "the application's own"
    }
    let jwt = static_es256().build().expect("a valid configuration");
    let with_own = Client::untracked(rocket::build().attach(jwt).mount("/", routes![own]))
        .expect("no collision at launch");
    assert_eq!(
        with_own
            .get("/.well-known/jwks.json")
            .dispatch()
            .into_string()
            .as_deref(),
        Some("the application's own")
    );
}

#[test]
fn the_issuer_metadata_names_the_key_set() {
    let directory = KeyDir::new();
    directory.add("a.pem", "", "ec_a");
    let jwt = ring(&directory).build().expect("a valid configuration");
    let rocket = rocket::build().attach(jwt);
    let figment = rocket
        .figment()
        .clone()
        .merge(("jwt.encode_issuer", "https://api.example.test/"));
    let client = Client::untracked(rocket.configure(figment)).expect("ignites");
    let metadata: Value = client
        .get("/.well-known/oauth-authorization-server")
        .dispatch()
        .into_json()
        .expect("metadata");
    assert_eq!(metadata["issuer"], "https://api.example.test/");
    assert_eq!(
        metadata["jwks_uri"],
        "https://api.example.test/.well-known/jwks.json"
    );
}
