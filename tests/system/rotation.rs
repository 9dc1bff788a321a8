//! Refresh-token rotation on Redis, across instances: two real Rocket instances of
//! `examples/extended.rs` on 127.0.0.1 sharing one real `redis-server` with
//! `refresh_token_rotation` on. A token rotated on one and presented again on the other revokes
//! its family on both (its newest access token too); the grace period answers the same successor
//! on either; a refresh racing itself on both yields one successor; Redis that stops answering
//! fails the refresh closed (503) and never lets a second successor out. The Redis store follows
//! the same rules as the memory store, step for step, and a refresh costs one script call.
//!
//! Skipped (saying why) where `redis-server` is not installed, unless `CI` is set.

use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use rocket_flask_jwt::revocation::{
    AccessToken, MemoryStore, RedisStore, RefreshFamilies, Rotation, RotationAttempt,
};
use serde_json::{json, Value};

use crate::common::redis_server::RedisServer;
use crate::http_client::HttpResponse;
use crate::live_rocket::LiveRocket;
use crate::programs::Program;
use crate::revocation_live::login;

/// The example application on the Redis at `url` with rotation on, and `settings` over its
/// configuration (`jwt.<name>`).
fn instance(url: &str, settings: &[(&str, Value)]) -> LiveRocket {
    let mut all = vec![("refresh_token_rotation", json!(true))];
    all.extend(settings.iter().cloned());
    crate::live_rocket::extended(Some(url), &all)
}

fn text(body: &Value, member: &str) -> String {
    body[member]
        .as_str()
        .unwrap_or_else(|| panic!("{member} in {body}"))
        .to_owned()
}

fn refresh(server: &LiveRocket, token: &str) -> HttpResponse {
    server.with_bearer("POST", "/refresh", token)
}

/// The status of `/protected` with `token` once it settles on `expected`, within a second (the
/// other instance learns of a revocation through Redis's invalidation channel).
fn protected_settles(server: &LiveRocket, token: &str, expected: u16) -> u16 {
    let since = Instant::now();
    loop {
        let status = server.with_bearer("GET", "/protected", token).status;
        if status == expected || since.elapsed() > Duration::from_secs(1) {
            return status;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn rotate_on_a_reuse_on_b_kills_the_family_on_both() {
    let redis = RedisServer::start();
    let a = instance(&redis.url(), &[]);
    let b = instance(&redis.url(), &[]);
    let (_, r0) = login(&a);
    let first = refresh(&a, &r0);
    assert_eq!(first.status, 200, "{}", first.text());
    let r1 = text(&first.json(), "refresh_token");
    let second = refresh(&b, &r1);
    assert_eq!(second.status, 200, "rotated on B: {}", second.text());
    let r2 = text(&second.json(), "refresh_token");
    let a2 = text(&second.json(), "access_token");
    assert_eq!(protected_settles(&a, &a2, 200), 200);

    let reuse = refresh(&b, &r0);
    assert_eq!(
        (reuse.status, reuse.json()),
        (401, json!({"msg": "Token has been revoked"})),
        "r0, rotated on A, presented again on B"
    );
    for (name, server) in [("A", &a), ("B", &b)] {
        assert_eq!(
            refresh(server, &r2).status,
            401,
            "the newest token on {name}"
        );
        assert_eq!(refresh(server, &r1).status, 401, "r1 on {name}");
        assert_eq!(
            protected_settles(server, &a2, 401),
            401,
            "the family's newest access token on {name}"
        );
    }
    // Another login is untouched.
    let (access, other) = login(&b);
    assert_eq!(refresh(&a, &other).status, 200);
    assert_eq!(protected_settles(&a, &access, 200), 200);
    println!(
        "rotate on A, rotate on B, reuse on B: family and newest access token refused on both"
    );
}

fn the_grace_period_holds_across_instances_and_a_race_yields_one_successor() {
    let redis = RedisServer::start();
    let settings = [("refresh_token_reuse_grace", json!(30))];
    let a = instance(&redis.url(), &settings);
    let b = instance(&redis.url(), &settings);
    let (_, r0) = login(&a);
    let first = refresh(&a, &r0);
    let r1 = text(&first.json(), "refresh_token");
    let again = refresh(&b, &r0);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(
        text(&again.json(), "refresh_token"),
        r1,
        "the same successor on B"
    );

    // The same token on both instances at once, twenty times: one successor each time.
    let mut token = r1;
    for round in 0..20 {
        let barrier = Barrier::new(2);
        let (on_a, on_b) = thread::scope(|scope| {
            let a_side = scope.spawn(|| {
                barrier.wait();
                refresh(&a, &token)
            });
            let b_side = scope.spawn(|| {
                barrier.wait();
                refresh(&b, &token)
            });
            (a_side.join().unwrap(), b_side.join().unwrap())
        });
        assert_eq!((on_a.status, on_b.status), (200, 200), "round {round}");
        let (from_a, from_b) = (
            text(&on_a.json(), "refresh_token"),
            text(&on_b.json(), "refresh_token"),
        );
        assert_eq!(from_a, from_b, "round {round}: one successor");
        token = from_a;
    }
    assert_eq!(refresh(&b, &token).status, 200, "the family is alive");
    println!("grace 30 s: previous token on B got A's successor; 20 races, one successor each");
}

fn without_grace_a_race_lets_one_refresh_through_and_revokes_the_family() {
    let redis = RedisServer::start();
    let a = instance(&redis.url(), &[]);
    let b = instance(&redis.url(), &[]);
    let (_, r0) = login(&a);
    let barrier = Barrier::new(2);
    let (on_a, on_b) = thread::scope(|scope| {
        let a_side = scope.spawn(|| {
            barrier.wait();
            refresh(&a, &r0)
        });
        let b_side = scope.spawn(|| {
            barrier.wait();
            refresh(&b, &r0)
        });
        (a_side.join().unwrap(), b_side.join().unwrap())
    });
    let mut statuses = [on_a.status, on_b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "one successor, the other is reuse");
    let winner = if on_a.status == 200 { on_a } else { on_b };
    let successor = text(&winner.json(), "refresh_token");
    assert_eq!(
        refresh(&a, &successor).status,
        401,
        "the race revoked the family"
    );
}

fn redis_that_stops_answering_fails_the_refresh_closed_without_a_second_successor() {
    let mut redis = RedisServer::start();
    let settings = [("revocation_timeout", json!(0.3))];
    let a = instance(&redis.url(), &settings);
    // A first refresh loads the script into Redis (a cancelled first call would only have
    // asked whether it was loaded).
    let (_, warm) = login(&a);
    assert_eq!(refresh(&a, &warm).status, 200);
    let (_, r0) = login(&a);

    // Redis holds every write for a second (reads, as the refresh token's revocation check, go
    // through; scripts wait): the script runs after the timeout answered.
    assert!(redis.command("CLIENT PAUSE 1000 WRITE").contains("OK"));
    let paused = refresh(&a, &r0);
    assert_eq!(paused.status, 503, "{}", paused.text());
    assert!(paused.json().get("refresh_token").is_none());
    thread::sleep(Duration::from_millis(1200));
    // The script did run once Redis woke: the token was rotated already, so presenting it again
    // is reuse, never a second successor.
    let retried = refresh(&a, &r0);
    assert_eq!(retried.status, 401, "{}", retried.text());

    // Redis gone: no session starts, no refresh rotates; back (empty): both work again.
    let (_, r1) = login(&a);
    redis.kill();
    let login_down = a.request(
        "POST",
        "/login",
        &[("Content-Type", "application/json")],
        br#"{"username": "user1", "password": "abcxyz"}"#,
    );
    assert_eq!(login_down.status, 503, "{}", login_down.text());
    assert_eq!(refresh(&a, &r1).status, 503);
    redis.restart();
    let (_, r2) = login(&a);
    let up_again = refresh(&a, &r2);
    assert_eq!(up_again.status, 200, "{}", up_again.text());
    println!(
        "Redis paused: 503, the retried token then refused as reuse; Redis down: 503; back: 200"
    );
}

fn the_redis_store_decides_as_the_memory_store_does() {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let on_redis =
            RedisStore::connect(&redis.url(), "t:", Duration::from_secs(2)).expect("a store");
        let in_memory = MemoryStore::new();
        let now = rocket_flask_jwt::testing::now();
        // (presented, successor, seconds later, grace), in order, on one family "r0".
        let steps: &[(&str, &str, i64, i64)] = &[
            ("r1", "x", 0, 0),  // unknown family, not its first token: refused
            ("r0", "r1", 0, 5), // the first rotation starts it
            ("r1", "r2", 1, 5),
            ("r1", "r3", 2, 5), // the previous token within the grace: the same successor
            ("r2", "r3", 3, 0), // rotated, no grace
            ("r2", "r4", 3, 0), // the previous token without grace: reuse
            ("r3", "r4", 4, 0), // the newest of a revoked family: refused
            ("r0", "r9", 4, 0), // the first token cannot start it again
        ];
        let mut answers = Vec::new();
        for &(presented, successor, later, grace) in steps {
            let attempt = RotationAttempt {
                subject: "ann",
                family: "r0",
                presented,
                root: presented == "r0",
                successor_jti: successor,
                successor,
                access: Some(AccessToken {
                    jti: "a",
                    until: now + 900,
                }),
                now: now + later,
                grace_until: now + later + grace,
                until: now + 600,
                created: now,
                user_agent: Some("test"),
            };
            let memory = RefreshFamilies::rotate(&in_memory, &attempt)
                .await
                .expect("memory");
            let redis = RefreshFamilies::rotate(&on_redis, &attempt)
                .await
                .expect("redis");
            assert_eq!(redis, memory, "{presented} -> {successor}");
            answers.push(redis);
        }
        assert!(matches!(answers[0], Rotation::Refused));
        assert!(matches!(answers[3], Rotation::Repeated { ref successor } if successor == "r2"));
        assert!(matches!(answers[5], Rotation::Reused { .. }));
        assert!(matches!(answers[6], Rotation::Refused));
        assert!(matches!(answers[7], Rotation::Refused));
        let sessions = on_redis.sessions("ann", now).await.expect("sessions");
        assert!(
            sessions.is_empty(),
            "a revoked family is no session: {sessions:?}"
        );
    });
}

fn a_refresh_costs_one_script_call_and_protected_routes_none() {
    let redis = RedisServer::start();
    let a = instance(&redis.url(), &[]);
    let (access, r0) = login(&a);
    let scripts = || redis.calls("evalsha") + redis.calls("eval");
    // The first refresh loads the script (`NOSCRIPT`, `SCRIPT LOAD`, then the call).
    let first = refresh(&a, &r0);
    assert_eq!(first.status, 200);
    let mut token = text(&first.json(), "refresh_token");
    let before = scripts();
    for _ in 0..10 {
        let response = refresh(&a, &token);
        assert_eq!(response.status, 200);
        token = text(&response.json(), "refresh_token");
    }
    assert_eq!(scripts() - before, 10, "one script call per refresh");
    let writes = || redis.calls("set") + redis.calls("hset") + redis.calls("zadd");
    let (scripts_before, writes_before) = (scripts(), writes());
    for _ in 0..50 {
        assert_eq!(a.with_bearer("GET", "/protected", &access).status, 200);
    }
    assert_eq!(
        (scripts(), writes()),
        (scripts_before, writes_before),
        "protected routes touch no family"
    );
}

pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            rotate_on_a_reuse_on_b_kills_the_family_on_both,
            needs[Program::RedisServer]
        ),
        test!(
            the_grace_period_holds_across_instances_and_a_race_yields_one_successor,
            needs[Program::RedisServer]
        ),
        test!(
            without_grace_a_race_lets_one_refresh_through_and_revokes_the_family,
            needs[Program::RedisServer]
        ),
        test!(
            redis_that_stops_answering_fails_the_refresh_closed_without_a_second_successor,
            needs[Program::RedisServer]
        ),
        test!(
            the_redis_store_decides_as_the_memory_store_does,
            needs[Program::RedisServer]
        ),
        test!(
            a_refresh_costs_one_script_call_and_protected_routes_none,
            needs[Program::RedisServer]
        ),
    ]
}
