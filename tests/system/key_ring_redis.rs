//! The key ring on Redis (`key_rotation_period`), across instances: two real Rocket instances of
//! `examples/extended.rs` on 127.0.0.1 sharing one real `redis-server`. One of them creates the
//! first key, both sign with it; every few seconds a new key is created by one instance,
//! published ahead of its use and picked up by both, while logins run on both and every token
//! verifies on both; the private keys are in Redis only sealed; an instance with another
//! key-encryption key, or without Redis, fails to start naming the setting; Redis that stops
//! answering at rotation time leaves the current key signing, and the rotation happens once it is
//! back (its writes paused: the revocation checks' reads still go through).
//!
//! Every token also goes to verifiers we did not write (panva's `jose`, Auth0's
//! `express-oauth2-jwt-bearer`, PyJWT's `PyJWKClient`; `jwks_verifiers.rs`), each fetching and
//! caching the JWKS itself, and to this library's `resource_server` example pointed at it.
//!
//! Test settings: a rotation period of 4 s and a publication lead (`jwks_max_age`) of 2 s; the
//! verifiers' refetch cooldowns at 1 s (their own options).
//!
//! Skipped (saying why) where `redis-server` is not installed, unless `CI` is set.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::common::redis_server::RedisServer;
use crate::jwks_verifiers::{Verifiers, PYJWT_ENV};
use crate::live_rocket::LiveRocket;
use crate::programs::Program;

/// A key-encryption key (32 bytes, base64).
fn kek(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// The settings of the key ring on Redis; the test secret of the example never verifies.
fn ring_settings(kek: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("key_rotation_period", json!(4)),
        ("jwks_max_age", json!(2)),
        ("key_encryption_key", json!(kek)),
        ("static_keys_until", json!(0)),
    ]
}

fn instance(redis: &RedisServer, kek: &str) -> LiveRocket {
    crate::live_rocket::extended(Some(&redis.url()), &ring_settings(kek))
}

/// The `iss` and `aud` of the tokens the verifiers check.
const ISSUER: &str = "https://issuer.key-ring-redis.invalid/";
const AUDIENCE: &str = "https://api.key-ring-redis.invalid/";

fn login(server: &LiveRocket) -> String {
    crate::revocation_live::login(server).0
}

/// The `kid` of a token's header.
fn kid(token: &str) -> String {
    let header = token.split('.').next().expect("a header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64url");
    let header: Value = serde_json::from_slice(&bytes).expect("JSON");
    header["kid"].as_str().expect("a kid").to_owned()
}

fn protected(server: &LiveRocket, token: &str) -> u16 {
    server.with_bearer("GET", "/protected", token).status
}

fn published(server: &LiveRocket) -> Vec<String> {
    let set = server
        .request("GET", "/.well-known/jwks.json", &[], b"")
        .json();
    set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

fn keys_rotate_across_instances_and_every_token_verifies_on_both() {
    let redis = RedisServer::start();
    let mut settings = ring_settings(&kek(1));
    settings.extend([
        ("encode_issuer", json!(ISSUER)),
        ("encode_audience", json!(AUDIENCE)),
        ("audience", json!(AUDIENCE)),
    ]);
    let a = crate::live_rocket::extended(Some(&redis.url()), &settings);
    let b = crate::live_rocket::extended(Some(&redis.url()), &settings);
    // Verifiers we did not write, each fetching and caching A's JWKS itself (their refetch
    // cooldowns at 1 s, under the 4 s period).
    let jwks_url = format!("http://127.0.0.1:{}/.well-known/jwks.json", a.port());
    let mut verifiers =
        Verifiers::start_with_cooldown(&jwks_url, ISSUER, AUDIENCE, Duration::from_secs(1))
            .unwrap_or_else(|error| panic!("{error}"));
    // And this library's resource-server example, taking its keys from the same JWKS.
    let ours = crate::key_ring_rotation::resource_server(
        &jwks_url,
        ISSUER,
        AUDIENCE,
        Duration::from_secs(1),
    );
    let first = kid(&login(&a));
    assert_eq!(kid(&login(&b)), first, "one first key for the fleet");
    let mut kids = BTreeSet::from([first.clone()]);
    let mut tokens = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(13) {
        for (issuer, other) in [(&a, &b), (&b, &a)] {
            let token = login(issuer);
            kids.insert(kid(&token));
            verifiers.verify(&token);
            tokens += 1;
            assert_eq!(protected(issuer, &token), 200, "on its issuer");
            assert_eq!(protected(other, &token), 200, "on the other instance");
            let private = ours.with_bearer("GET", "/api/private", &token);
            assert_eq!(
                private.status,
                200,
                "the resource server: {}",
                private.text()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(kids.len() >= 3, "at least two rotations in 13 s: {kids:?}");
    let answers = verifiers.finish().unwrap_or_else(|error| panic!("{error}"));
    for verifier in ["jose", "auth0", "pyjwt"] {
        println!("{verifier}: {}", answers[verifier]);
        assert_eq!(
            answers[verifier]["verified"], tokens,
            "{verifier}: {answers}"
        );
        assert_eq!(answers[verifier]["failed"], 0, "{verifier}: {answers}");
    }
    assert_eq!(
        answers["thumbprints"]["keys"], answers["thumbprints"]["kid_equals_thumbprint"],
        "every kid is its key's thumbprint: {answers}"
    );
    assert_eq!(published(&a), published(&b), "both publish the same keys");
    // Each new key was announced (no revocation happens here, so every PUBLISH is one).
    assert!(
        redis.calls("publish") as usize >= kids.len() - 1,
        "{} announcements for {} keys",
        redis.calls("publish"),
        kids.len()
    );
    assert!(redis.calls("subscribe") >= 2, "both instances listen");

    // In Redis, each key only sealed: no PEM, no PKCS#8 structure in clear.
    let stored = redis.command("HGETALL jwt:revocation:signing-keys");
    assert!(stored.contains("\"sealed\""), "{stored}");
    assert!(!stored.contains("PRIVATE KEY"));
    println!(
        "{tokens} tokens from two instances, {} keys in {:.1} s, every token verified on both",
        kids.len(),
        started.elapsed().as_secs_f64()
    );
}

fn another_key_encryption_key_or_no_redis_fails_at_start_naming_the_setting() {
    let mut redis = RedisServer::start();
    let _a = instance(&redis, &kek(1));
    let starts = |kek: &str, url: &str| {
        let rocket =
            crate::common::with_test_secret(crate::extended_example::app(Some(url.to_owned())));
        let mut figment = rocket.figment().clone();
        for (name, value) in ring_settings(kek) {
            figment = figment.merge((format!("jwt.{name}"), value));
        }
        let ignited = rocket::execute(rocket.configure(figment).ignite());
        ignited
            .map(drop)
            .map_err(|error| format!("{:?}", error.kind()))
    };
    assert!(starts(&kek(2), &redis.url()).is_err(), "another KEK");
    let logged = crate::common::logs::containing("key_rotation_period");
    assert!(
        logged.iter().any(|line| line.contains("decryption failed")),
        "{logged:?}"
    );
    redis.kill();
    assert!(starts(&kek(1), &redis.url()).is_err(), "no Redis");
}

fn redis_that_stops_answering_leaves_the_current_key_signing() {
    let redis = RedisServer::start();
    let a = instance(&redis, &kek(3));
    let b = instance(&redis, &kek(3));
    // Just after a key starts signing, the next is due `period - lead` (2 s) later.
    let before = kid(&login(&a));
    let waiting = Instant::now();
    let first = loop {
        let signing = kid(&login(&a));
        if signing != before {
            break signing;
        }
        assert!(waiting.elapsed() < Duration::from_secs(10), "no rotation");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Redis holds every write for six seconds, past the time the next key was due: the key
    // cannot be created (reads, as the revocation checks', go through).
    assert!(redis.command("CLIENT PAUSE 6000 WRITE").contains("OK"));
    let paused = Instant::now();
    while paused.elapsed() < Duration::from_secs(5) {
        let token = login(&a);
        assert_eq!(kid(&token), first, "the current key keeps signing");
        assert_eq!(protected(&b, &token), 200);
        std::thread::sleep(Duration::from_millis(100));
    }
    // Back: the next key is created, published, and signs.
    let back = Instant::now();
    loop {
        let token = login(&a);
        assert_eq!(protected(&b, &token), 200);
        if kid(&token) != first {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "no rotation after Redis came back"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let warned = crate::common::logs::containing("the keys held keep signing");
    assert!(!warned.is_empty(), "one warning says so");
}

/// With `audit_log` on, the key this instance creates and, once it retired, its removal are one
/// audit record each, naming the key's `kid` (tokens of 1 s: a key retires a second after the next
/// one signs).
fn keys_created_and_retired_are_audit_records() {
    let redis = RedisServer::start();
    let mut settings = ring_settings(&kek(4));
    settings.extend([
        ("audit_log", json!("json")),
        ("expiration_delta", json!(1)),
        ("refresh_token_expires", json!(1)),
    ]);
    let a = crate::live_rocket::extended(Some(&redis.url()), &settings);
    let first = kid(&login(&a));
    // The kids of the `event` records (only this test audits the key ring).
    let kids = |event: &str| -> Vec<String> {
        crate::common::logs::containing(&format!(r#"{{"event":"{event}""#))
            .iter()
            .filter_map(|line| line.strip_prefix("INFO jwt::audit: "))
            .map(|record| {
                let record: Value = serde_json::from_str(record).expect("a JSON record");
                assert_eq!(record["profile"], "extended");
                record["kid"].as_str().expect("a kid").to_owned()
            })
            .collect()
    };
    assert!(
        kids("key_created").contains(&first),
        "{:?}",
        kids("key_created")
    );
    let waiting = Instant::now();
    while !kids("key_retired").contains(&first) {
        assert!(
            waiting.elapsed() < Duration::from_secs(20),
            "no key_retired record for {first}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(kids("key_created").len() >= 2, "the next key too");
}

pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            keys_created_and_retired_are_audit_records,
            needs[Program::RedisServer]
        ),
        test!(
            keys_rotate_across_instances_and_every_token_verifies_on_both,
            needs[Program::RedisServer, Program::Node, Program::Python(&PYJWT_ENV)]
        ),
        test!(
            another_key_encryption_key_or_no_redis_fails_at_start_naming_the_setting,
            needs[Program::RedisServer]
        ),
        test!(
            redis_that_stops_answering_leaves_the_current_key_signing,
            needs[Program::RedisServer]
        ),
    ]
}
