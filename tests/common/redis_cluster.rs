//! A real Redis Cluster of three masters (no replicas) on free ports of 127.0.0.1, for the
//! revocation tests: three cluster-enabled servers of [`RedisServer`], joined and given the
//! slots with the server's own commands (`CLUSTER ADDSLOTSRANGE`, `CLUSTER MEET`, as
//! `redis-cli --cluster create` does), all stopped when dropped.
//!
//! The nodes run with `cluster-require-full-coverage no`: when a master is lost, the others
//! keep serving their slots.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::redis_server::{free_port, RedisServer};

/// How long the cluster may take to agree (`cluster_state:ok` on every node).
const FORMING: Duration = Duration::from_secs(20);

/// A running three-master Redis Cluster.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    /// The cluster bus port of each node.
    bus_ports: Vec<u16>,
    directory: PathBuf,
}

impl RedisCluster {
    /// Starts and joins three nodes. Panics when a node cannot be started (see
    /// [`RedisServer::start`]) or the cluster does not form.
    pub fn start() -> RedisCluster {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let directory = std::env::temp_dir().join(format!(
            "rocket-flask-jwt-test-cluster-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&directory).expect("a directory for the cluster's files");
        let mut nodes = Vec::new();
        let mut bus_ports = Vec::new();
        for index in 0..3 {
            // Chosen, not the default (port + 10000, which may be past 65535).
            let bus_port = free_port();
            bus_ports.push(bus_port);
            let config = directory.join(format!("nodes-{index}.conf"));
            let options: Vec<OsString> = vec![
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                config.into(),
                "--cluster-port".into(),
                bus_port.to_string().into(),
                "--cluster-node-timeout".into(),
                "1000".into(),
                "--cluster-require-full-coverage".into(),
                "no".into(),
                "--dir".into(),
                directory.clone().into(),
            ];
            nodes.push(RedisServer::start_with(options));
        }
        let cluster = RedisCluster {
            nodes,
            bus_ports,
            directory,
        };
        cluster.form();
        cluster
    }

    /// The URL of node `index`.
    pub fn url(&self, index: usize) -> String {
        self.nodes[index].url()
    }

    /// Node `index`.
    pub fn node(&self, index: usize) -> &RedisServer {
        &self.nodes[index]
    }

    /// Kills node `index` (SIGKILL).
    pub fn kill(&mut self, index: usize) {
        self.nodes[index].kill();
    }

    /// Starts node `index` again, empty but with its cluster configuration: it rejoins the
    /// cluster with its slots.
    pub fn restart(&mut self, index: usize) {
        self.nodes[index].restart();
    }

    /// The hash slot of `key` (`CLUSTER KEYSLOT`, asked of node 0).
    pub fn slot(&self, key: &str) -> u16 {
        let reply = self.nodes[0].command(&format!("CLUSTER KEYSLOT {key}"));
        reply
            .trim()
            .trim_start_matches(':')
            .parse()
            .unwrap_or_else(|_| panic!("a slot for {key}: {reply:?}"))
    }

    /// The index of the node serving `slot`.
    pub fn node_of_slot(&self, slot: u16) -> usize {
        let per_node = 16384 / 3 + 1;
        usize::from(slot) / per_node
    }

    /// Gives each node a third of the slots, joins them, and waits until each says
    /// `cluster_state:ok` and is linked to the others.
    fn form(&self) {
        let per_node = 16384 / 3 + 1;
        for (index, node) in self.nodes.iter().enumerate() {
            let first = index * per_node;
            let last = ((index + 1) * per_node - 1).min(16383);
            let epoch = node.command(&format!("CLUSTER SET-CONFIG-EPOCH {}", index + 1));
            assert!(epoch.contains("OK"), "{epoch}");
            let slots = node.command(&format!("CLUSTER ADDSLOTSRANGE {first} {last}"));
            assert!(slots.contains("OK"), "{slots}");
        }
        for (node, bus_port) in self.nodes.iter().zip(&self.bus_ports).skip(1) {
            let port = node.port();
            let meet = self.nodes[0].command(&format!("CLUSTER MEET 127.0.0.1 {port} {bus_port}"));
            assert!(meet.contains("OK"), "{meet}");
        }
        let started = Instant::now();
        while started.elapsed() < FORMING {
            // Every node serving, and linked to both others (a `PUBLISH` travels these links).
            let agreed = self.nodes.iter().all(|node| {
                let info = node.command("CLUSTER INFO");
                let nodes = node.command("CLUSTER NODES");
                let links = nodes.lines().filter(|line| line.contains(" connected"));
                info.contains("cluster_state:ok")
                    && links.count() == 3
                    && !nodes.contains("handshake")
                    && !nodes.contains("fail")
            });
            if agreed {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the cluster did not form within {FORMING:?}");
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
