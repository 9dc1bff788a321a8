//! The Redis store over TLS (`rediss://`), on a real `redis-server` with a certificate of a CA
//! made for the test: the store's behaviour, the near-cache kept live through a TLS
//! subscription, a certificate of another CA refused (lookups fail, requests get 503, never an
//! unchecked answer), mutual TLS, and the URL's password never logged.

use std::time::{Duration, Instant};

use rocket::serde::json::json;
use rocket_flask_jwt::{
    revocation::RedisOptions, revocation::RedisStore, revocation::RevocationStore,
};

use crate::common::logs;
use crate::common::now;
use crate::common::redis_server::RedisServer;
use crate::common::test_ca::TestCa;
use crate::programs::Program;
use crate::revocation::{
    behaves_as_a_revocation_store, call, configured, eventually, extended_builder,
    invalidates_across_stores, tokens,
};

/// Options trusting `ca` and nothing else.
fn trusting(ca: &TestCa) -> RedisOptions {
    RedisOptions {
        ca_certificate: Some(ca.certificate.clone()),
        ..RedisOptions::default()
    }
}

async fn the_redis_store_behaves_as_a_revocation_store_over_tls() {
    let ca = TestCa::new("redis");
    let redis = RedisServer::start_tls(&ca, false);
    let url = redis.tls_url();
    assert!(url.starts_with("rediss://"), "{url}");
    let timeout = Duration::from_secs(2);
    let store = RedisStore::connect_with(&url, "tls:", timeout, &trusting(&ca)).unwrap();
    behaves_as_a_revocation_store(&store).await;
    // The writes went to this server (read back through its plain port).
    let keys = redis.command("KEYS tls:*");
    assert!(keys.contains("tls:{YW5u}:t:ajE"), "{keys}");
    assert!(redis.calls("mget") > 0);
}

async fn the_near_cache_goes_live_and_is_invalidated_over_tls() {
    let ca = TestCa::new("redis");
    let redis = RedisServer::start_tls(&ca, false);
    let timeout = Duration::from_secs(1);
    let a = RedisStore::connect_with(&redis.tls_url(), "nc:", timeout, &trusting(&ca)).unwrap();
    let b = RedisStore::connect_with(&redis.tls_url(), "nc:", timeout, &trusting(&ca)).unwrap();
    invalidates_across_stores(&a, &b).await;
}

async fn a_server_certificate_of_an_untrusted_ca_is_refused() {
    let ca = TestCa::new("redis");
    let other = TestCa::new("other");
    let redis = RedisServer::start_tls(&ca, false);
    let timeout = Duration::from_millis(500);
    // Another CA's certificate, and the system's roots (the default): neither trusts the
    // server's CA.
    for options in [trusting(&other), RedisOptions::default()] {
        let store = RedisStore::connect_with(&redis.tls_url(), "x:", timeout, &options).unwrap();
        for _ in 0..3 {
            let started = Instant::now();
            let error = store.state("ann", Some("j1")).await.unwrap_err();
            assert!(
                started.elapsed() < timeout + Duration::from_millis(500),
                "{error}"
            );
        }
        assert!(store.revoke_token("ann", "j1", now() + 60).await.is_err());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !store.near_cache_live(),
            "no subscription through a refused TLS"
        );
        assert_eq!(store.state_now("ann", Some("j1")), None);
    }
    assert!(
        !redis.command("KEYS x:*").contains("x:"),
        "nothing was written"
    );
}

async fn mutual_tls_shows_the_client_certificate() {
    let ca = TestCa::new("redis");
    let redis = RedisServer::start_tls(&ca, true);
    let timeout = Duration::from_millis(500);
    let anonymous = RedisStore::connect_with(&redis.tls_url(), "m:", timeout, &trusting(&ca));
    assert!(
        anonymous.unwrap().state("ann", None).await.is_err(),
        "the server asks for a client certificate"
    );
    let options = RedisOptions {
        client_certificate: Some(ca.client.certificate.clone()),
        client_key: Some(rocket_flask_jwt::settings::Secret::new(
            ca.client.key.clone(),
        )),
        ..trusting(&ca)
    };
    let store = RedisStore::connect_with(&redis.tls_url(), "m:", timeout, &options).unwrap();
    store
        .revoke_subject("ann", now(), now() + 60)
        .await
        .unwrap();
    assert!(store
        .state("ann", None)
        .await
        .unwrap()
        .subject_revoked_at
        .is_some());
    assert!(
        eventually(Duration::from_secs(5), || store.near_cache_live()).await,
        "the subscription shows the certificate too"
    );
}

async fn tls_material_is_checked_when_the_store_is_made() {
    let ca = TestCa::new("redis");
    let timeout = Duration::from_millis(100);
    let made = |url: &str, options: &RedisOptions| {
        RedisStore::connect_with(url, "p:", timeout, options).map(|_| ())
    };
    let plain = made("redis://:hunter2@127.0.0.1:1/", &trusting(&ca)).unwrap_err();
    assert!(plain.to_string().contains("rediss://"), "{plain}");
    assert!(!plain.to_string().contains("hunter2"), "{plain}");
    let half = RedisOptions {
        client_certificate: Some(ca.client.certificate.clone()),
        ..RedisOptions::default()
    };
    let error = made("rediss://127.0.0.1:1/", &half).unwrap_err();
    assert!(error.to_string().contains("needs its key"), "{error}");
    let garbage = RedisOptions {
        ca_certificate: Some("-----BEGIN CERTIFICATE-----\nnot base64!\n".into()),
        ..RedisOptions::default()
    };
    assert!(made("rediss://127.0.0.1:1/", &garbage).is_err());
    assert!(made("rediss://127.0.0.1:1/", &trusting(&ca)).is_ok());
}

fn an_application_on_a_tls_redis_with_a_password_and_its_ca_from_a_file() {
    let ca = TestCa::new("redis");
    let other = TestCa::new("other");
    let redis = RedisServer::start_tls(&ca, false);
    let password = "tls-redis-pw-0123456789";
    assert!(redis
        .command(&format!("CONFIG SET requirepass {password}"))
        .contains("OK"));
    let url = redis
        .tls_url()
        .replace("rediss://", &format!("rediss://:{password}@"));
    let app = |ca: &TestCa| {
        configured(
            extended_builder()
                .revocation_timeout(Duration::from_millis(500))
                .build()
                .unwrap(),
            json!({
                "redis_url": url,
                "redis_key_prefix": "app:",
                "redis_ca_certificate_file": ca.certificate_file(),
            }),
        )
    };

    let trusted = app(&ca);
    let (access, _) = tokens(&trusted);
    assert_eq!(call(&trusted, "GET", "/protected", &access).0, 200);
    assert_eq!(call(&trusted, "DELETE", "/logout", &access).0, 200);
    assert_eq!(
        call(&trusted, "GET", "/protected", &access),
        (401, json!({"msg": "Token has been revoked"}))
    );

    // Another CA: the state cannot be read over a connection to a server it does not vouch
    // for, so the request is refused with 503, never answered unchecked.
    let untrusted = app(&other);
    let (access, _) = tokens(&untrusted);
    for _ in 0..2 {
        assert_eq!(
            call(&untrusted, "GET", "/protected", &access),
            (
                503,
                json!({"msg": "The token's revocation state cannot be read"})
            )
        );
    }
    assert!(!logs::containing("the revocation state cannot be read").is_empty());
    assert!(
        logs::all().iter().all(|line| !line.contains(password)),
        "the URL's password is never logged"
    );
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            async the_redis_store_behaves_as_a_revocation_store_over_tls,
            needs [Program::RedisServer]
        ),
        test!(
            async the_near_cache_goes_live_and_is_invalidated_over_tls,
            needs [Program::RedisServer]
        ),
        test!(
            async a_server_certificate_of_an_untrusted_ca_is_refused,
            needs [Program::RedisServer]
        ),
        test!(async mutual_tls_shows_the_client_certificate, needs [Program::RedisServer]),
        test!(async tls_material_is_checked_when_the_store_is_made, needs []),
        test!(
            an_application_on_a_tls_redis_with_a_password_and_its_ca_from_a_file,
            needs[Program::RedisServer]
        ),
    ]
}
