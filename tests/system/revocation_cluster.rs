//! The Redis store on a real Redis Cluster of three masters: the store's behaviour, a
//! subject's keys in one hash slot, invalidations between instances subscribed through
//! different nodes, and a lost node: lookups for its slots fail within the timeout, the others
//! keep working, and the near-cache comes back through another node.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::serde::json::json;
use rocket_flask_jwt::{
    revocation::RedisOptions, revocation::RedisStore, revocation::RevocationState,
    revocation::RevocationStore,
};

use crate::common::now;
use crate::common::redis_cluster::RedisCluster;
use crate::programs::Program;
use crate::revocation::{
    behaves_as_a_revocation_store, configured, eventually, extended_builder, share_a_revocation,
};

/// A store on the cluster through node `seed`.
fn store(cluster: &RedisCluster, seed: usize, prefix: &str, timeout: Duration) -> RedisStore {
    let options = RedisOptions {
        cluster: true,
        ..RedisOptions::default()
    };
    RedisStore::connect_with(&cluster.url(seed), prefix, timeout, &options).unwrap()
}

/// The key of `subject`'s revocation time under `prefix`, as the store writes it.
fn subject_key(prefix: &str, subject: &str) -> String {
    format!("{prefix}{{{}}}:s", URL_SAFE_NO_PAD.encode(subject))
}

/// A subject whose keys are on node `index`.
fn subject_on(cluster: &RedisCluster, prefix: &str, index: usize) -> String {
    (0..1_000)
        .map(|n| format!("user-{n}"))
        .find(|subject| cluster.node_of_slot(cluster.slot(&subject_key(prefix, subject))) == index)
        .expect("a subject on every node among a thousand")
}

async fn the_redis_store_behaves_as_a_revocation_store_on_a_cluster() {
    let cluster = RedisCluster::start();
    let store = store(&cluster, 0, "cl:", Duration::from_secs(2));
    behaves_as_a_revocation_store(&store).await;

    // One subject's keys share a hash slot (one MGET reads both), on the node serving it.
    let token_key = "cl:{YW5u}:t:ajE";
    let slot = cluster.slot(token_key);
    assert_eq!(slot, cluster.slot(&subject_key("cl:", "ann")));
    let node = cluster.node(cluster.node_of_slot(slot));
    assert!(node.command(&format!("EXISTS {token_key}")).contains(":1"));
    // Subjects are spread over the nodes.
    for index in 0..3 {
        let subject = subject_on(&cluster, "cl:", index);
        store
            .revoke_subject(&subject, now(), now() + 60)
            .await
            .unwrap();
        let key = subject_key("cl:", &subject);
        let reply = cluster.node(index).command(&format!("EXISTS {key}"));
        assert!(reply.contains(":1"), "{subject} on node {index}: {reply}");
    }
}

async fn instances_subscribed_through_different_nodes_invalidate_each_other() {
    let cluster = RedisCluster::start();
    let timeout = Duration::from_secs(1);
    let a = store(&cluster, 0, "nc:", timeout);
    let b = store(&cluster, 2, "nc:", timeout);
    assert!(
        eventually(Duration::from_secs(5), || a.near_cache_live()
            && b.near_cache_live())
        .await
    );
    for index in 0..3 {
        let subject = subject_on(&cluster, "nc:", index);
        assert!(!b.state(&subject, Some("j1")).await.unwrap().token_revoked);
        assert_eq!(
            b.state_now(&subject, Some("j1")),
            Some(RevocationState::default())
        );
        a.revoke_token(&subject, "j1", now() + 60).await.unwrap();
        assert!(
            eventually(Duration::from_secs(1), || b.state_now(&subject, Some("j1"))
                != Some(RevocationState::default()))
            .await,
            "node {index}: B still answers `not revoked` from its near-cache"
        );
        assert!(b.state(&subject, Some("j1")).await.unwrap().token_revoked);
    }
}

async fn a_lost_node_fails_its_slots_closed_and_the_others_keep_working() {
    let mut cluster = RedisCluster::start();
    let timeout = Duration::from_millis(500);
    // B subscribes through node 0, the node that is lost.
    let a = store(&cluster, 1, "f:", timeout);
    let b = store(&cluster, 0, "f:", timeout);
    assert!(
        eventually(Duration::from_secs(5), || a.near_cache_live()
            && b.near_cache_live())
        .await
    );
    let lost = subject_on(&cluster, "f:", 0);
    let kept = [subject_on(&cluster, "f:", 1), subject_on(&cluster, "f:", 2)];
    for subject in [&lost, &kept[0], &kept[1]] {
        assert!(!b.state(subject, Some("j")).await.unwrap().token_revoked);
    }

    cluster.kill(0);
    assert!(
        eventually(Duration::from_secs(3), || !b.near_cache_live()).await,
        "the lost subscription was not noticed"
    );
    assert_eq!(
        b.state_now(&lost, Some("j")),
        None,
        "the near-cache is dropped"
    );
    for _ in 0..3 {
        let started = Instant::now();
        let error = b.state(&lost, Some("j")).await.unwrap_err();
        assert!(
            started.elapsed() < timeout + Duration::from_millis(500),
            "{:?}: {error}",
            started.elapsed()
        );
    }
    for subject in &kept {
        assert!(!b.state(subject, Some("j")).await.unwrap().token_revoked);
        a.revoke_token(subject, "j", now() + 60).await.unwrap();
        assert!(b.state(subject, Some("j")).await.unwrap().token_revoked);
    }

    // The subscription moves to a live node: the near-cache comes back, and invalidations reach
    // it again.
    assert!(
        eventually(Duration::from_secs(10), || b.near_cache_live()).await,
        "the subscription did not move to another node"
    );
    let subject = &kept[1];
    assert!(!b.state(subject, Some("k")).await.unwrap().token_revoked);
    assert_eq!(
        b.state_now(subject, Some("k")),
        Some(RevocationState::default())
    );
    a.revoke_token(subject, "k", now() + 60).await.unwrap();
    assert!(
        eventually(Duration::from_secs(1), || b.state_now(subject, Some("k"))
            != Some(RevocationState::default()))
        .await,
        "an invalidation after the failover was missed"
    );
    assert!(b.state(&lost, Some("j")).await.is_err(), "still closed");
}

async fn a_store_made_while_its_seed_node_is_down_works_once_the_node_is_back() {
    let mut cluster = RedisCluster::start();
    let subject = subject_on(&cluster, "s:", 1);
    cluster.kill(0);
    let timeout = Duration::from_millis(500);
    let store = store(&cluster, 0, "s:", timeout);
    let started = Instant::now();
    assert!(store.state(&subject, None).await.is_err());
    assert!(started.elapsed() < timeout + Duration::from_millis(500));
    assert!(!store.near_cache_live());

    cluster.restart(0);
    let mut recovered = false;
    for _ in 0..100 {
        if store.state(&subject, None).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        recovered,
        "the store did not connect once its seed node was back"
    );
    store
        .revoke_subject(&subject, now(), now() + 60)
        .await
        .unwrap();
    assert!(store
        .state(&subject, None)
        .await
        .unwrap()
        .subject_revoked_at
        .is_some());
    assert!(
        eventually(Duration::from_secs(10), || store.near_cache_live()).await,
        "the subscription did not come up"
    );
}

fn two_applications_configured_for_the_cluster_share_revocations() {
    let cluster = RedisCluster::start();
    // Each through another seed node, from Rocket's configuration.
    let app = |seed: usize| {
        configured(
            extended_builder().build().unwrap(),
            json!({"redis_url": cluster.url(seed), "redis_cluster": true, "redis_key_prefix": "app:"}),
        )
    };
    share_a_revocation(&app(0), &app(2));
    // The key is in the cluster, on the node serving the subject's slot.
    let key = format!("app:{{{}}}:s", URL_SAFE_NO_PAD.encode("ann"));
    let node = cluster.node(cluster.node_of_slot(cluster.slot(&key)));
    let keys = node.command("KEYS app:*");
    assert!(keys.contains(":t:"), "{keys}");
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            async the_redis_store_behaves_as_a_revocation_store_on_a_cluster,
            needs [Program::RedisServer]
        ),
        test!(
            async instances_subscribed_through_different_nodes_invalidate_each_other,
            needs [Program::RedisServer]
        ),
        test!(
            async a_lost_node_fails_its_slots_closed_and_the_others_keep_working,
            needs [Program::RedisServer]
        ),
        test!(
            async a_store_made_while_its_seed_node_is_down_works_once_the_node_is_back,
            needs [Program::RedisServer]
        ),
        test!(
            two_applications_configured_for_the_cluster_share_revocations,
            needs[Program::RedisServer]
        ),
    ]
}
