//! How the Redis store reaches Redis: [`RedisOptions`] (TLS material, a Redis Cluster, the
//! near-cache), and the [`Connection`] it sends commands on, one server's or a cluster's, both
//! made on first use and remade on their own after a failure.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{ClientTlsConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, TlsCertificates};

use super::StoreError;
use crate::settings::{RevocationKeyLayout, Secret, Settings};

/// How a [`RedisStore`](super::RedisStore) reaches Redis, beyond its URL: the settings
/// `redis_ca_certificate`, `redis_client_certificate`, `redis_client_key`, `redis_cluster`,
/// `revocation_near_cache` and `revocation_key_layout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// PEM certificates of the CAs a `rediss://` server's certificate must chain to, in place of
    /// the system's roots (a self-hosted Redis with its own CA). `None`: the system's roots.
    pub ca_certificate: Option<String>,
    /// A PEM certificate (chain) shown to a `rediss://` server that asks clients for one (mutual
    /// TLS), with [`client_key`](Self::client_key).
    pub client_certificate: Option<String>,
    /// The PEM private key of [`client_certificate`](Self::client_certificate).
    pub client_key: Option<Secret>,
    /// The URL names a node of a Redis Cluster (any one: the others are learnt from it).
    pub cluster: bool,
    /// Keep the near-cache (see [`RedisStore::connect`](super::RedisStore::connect)); `false`
    /// reads Redis on every lookup.
    pub near_cache: bool,
    /// How a revoked token's key is laid out; with Flask-JWT-Extended's layout the near-cache is
    /// not kept (the Flask side publishes no invalidations).
    pub layout: RevocationKeyLayout,
}

impl Default for RedisOptions {
    /// No TLS material (a `rediss://` server's certificate is checked against the system's
    /// roots), one server, and the near-cache.
    fn default() -> Self {
        RedisOptions {
            ca_certificate: None,
            client_certificate: None,
            client_key: None,
            cluster: false,
            near_cache: true,
            layout: RevocationKeyLayout::Default,
        }
    }
}

impl RedisOptions {
    /// The options the settings ask for.
    pub(crate) fn from_settings(settings: &Settings) -> RedisOptions {
        RedisOptions {
            ca_certificate: settings.redis_ca_certificate.clone(),
            client_certificate: settings.redis_client_certificate.clone(),
            client_key: settings.redis_client_key.clone(),
            cluster: settings.redis_cluster,
            near_cache: settings.revocation_near_cache,
            layout: settings.revocation_key_layout,
        }
    }

    /// The TLS material, `None` when there is none.
    fn certificates(&self) -> Result<Option<TlsCertificates>, StoreError> {
        let client_tls = match (&self.client_certificate, &self.client_key) {
            (Some(certificate), Some(key)) => Some(ClientTlsConfig {
                client_cert: certificate.as_bytes().to_vec(),
                client_key: key.expose().as_bytes().to_vec(),
            }),
            (None, None) => None,
            _ => {
                return Err(StoreError::new(
                    "a client certificate needs its key, and a client key its certificate",
                ))
            }
        };
        if client_tls.is_none() && self.ca_certificate.is_none() {
            return Ok(None);
        }
        Ok(Some(TlsCertificates {
            client_tls,
            root_cert: self
                .ca_certificate
                .as_ref()
                .map(|pem| pem.as_bytes().to_vec()),
        }))
    }
}

/// Where the store's commands go: one server (or a replica set's primary behind one address),
/// or a Redis Cluster. Either reconnects on its own; every command is bounded by the store's
/// timeout.
#[derive(Clone)]
pub(crate) enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Connection {
    /// Whether this is a cluster's connection.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Connection::Cluster(_))
    }
}

/// Where the near-cache subscribes: the server of the URL, or a node of the cluster. `PUBLISH`
/// on a cluster reaches the subscribers of every node, so any live node will do: the one the
/// URL names first, then, after a failure, the next live node the cluster knows.
pub(crate) struct Subscriptions {
    seed: redis::Client,
    cluster: Option<ClusterNodes>,
}

/// What finding another node of a cluster takes.
struct ClusterNodes {
    connection: ClusterConnection,
    seed: ConnectionInfo,
    certificates: Option<TlsCertificates>,
}

impl Subscriptions {
    /// The client to subscribe through after `failures` failed subscriptions in a row.
    pub(crate) async fn client(&self, failures: usize, timeout: Duration) -> redis::Client {
        let Some(cluster) = self.cluster.as_ref().filter(|_| failures > 0) else {
            return self.seed.clone();
        };
        let asked = tokio::time::timeout(timeout, cluster.live_nodes()).await;
        let nodes = match asked {
            Ok(Ok(nodes)) if !nodes.is_empty() => nodes,
            _ => return self.seed.clone(),
        };
        let (host, port) = &nodes[failures % nodes.len()];
        let addr = match cluster.seed.addr() {
            ConnectionAddr::TcpTls { insecure, .. } => ConnectionAddr::TcpTls {
                host: host.clone(),
                port: *port,
                insecure: *insecure,
                tls_params: None,
            },
            _ => ConnectionAddr::Tcp(host.clone(), *port),
        };
        let info = cluster.seed.clone().set_addr(addr);
        node_client(info, cluster.certificates.clone()).unwrap_or_else(|_| self.seed.clone())
    }
}

impl ClusterNodes {
    /// The nodes not known to have failed (`CLUSTER NODES`, asked of any node), sorted.
    async fn live_nodes(&self) -> redis::RedisResult<Vec<(String, u16)>> {
        let mut connection = self.connection.clone();
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
        let reply = connection
            .route_command(redis::cmd("CLUSTER").arg("NODES").clone(), routing)
            .await?;
        let text: String = redis::from_redis_value(reply)?;
        Ok(live_nodes(&text))
    }
}

/// The `host:port` of the nodes of a `CLUSTER NODES` reply whose flags say nothing of a
/// failure, sorted.
fn live_nodes(reply: &str) -> Vec<(String, u16)> {
    let mut nodes: Vec<(String, u16)> = reply
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let (_, address, flags) = (fields.next()?, fields.next()?, fields.next()?);
            let dead = ["fail", "noaddr", "handshake"];
            if flags
                .split(',')
                .any(|flag| dead.contains(&flag.trim_end_matches('?')))
            {
                return None;
            }
            // `ip:port@cport[,hostname]`
            let address = address.split(['@', ',']).next()?;
            let (host, port) = address.rsplit_once(':')?;
            let port = port.parse().ok()?;
            (!host.is_empty()).then(|| (host.to_owned(), port))
        })
        .collect();
    nodes.sort();
    nodes
}

/// The connection of `url` with `options`, and where its near-cache subscribes. Nothing is
/// sent yet.
pub(crate) fn open(
    url: &str,
    options: &RedisOptions,
    timeout: Duration,
) -> Result<(Connection, Subscriptions), StoreError> {
    let info = url.into_connection_info().map_err(|error| {
        // The URL may hold a password: name the problem, never the value.
        StoreError::new(format!("not a Redis URL ({:?})", error.kind()))
    })?;
    let certificates = options.certificates()?;
    if certificates.is_some() && !matches!(info.addr(), ConnectionAddr::TcpTls { .. }) {
        return Err(StoreError::new(
            "a CA or client certificate is set, but the Redis URL is not a rediss:// one",
        ));
    }
    let client = node_client(info.clone(), certificates.clone())?;
    if !options.cluster {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_number_of_retries(3);
        let manager = client
            .get_connection_manager_lazy(config)
            .map_err(|error| StoreError::new(format!("Redis: {error}")))?;
        let subscriptions = Subscriptions {
            seed: client,
            cluster: None,
        };
        return Ok((Connection::Single(manager), subscriptions));
    }
    let mut builder = ClusterClient::builder([info.clone()])
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .retries(2)
        .min_retry_wait(20)
        .max_retry_wait(200);
    if let Some(certificates) = certificates.clone() {
        builder = builder.certs(certificates);
    }
    let cluster = builder
        .build()
        .map_err(|error| StoreError::new(format!("Redis Cluster: {error}")))?;
    let config = ClusterConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout);
    let connection = cluster.get_pending_async_connection_with_config(config);
    let subscriptions = Subscriptions {
        seed: client,
        cluster: Some(ClusterNodes {
            connection: connection.clone(),
            seed: info,
            certificates,
        }),
    };
    Ok((Connection::Cluster(connection), subscriptions))
}

/// The client of one server at `info`, with the TLS material.
pub(crate) fn node_client(
    info: ConnectionInfo,
    certificates: Option<TlsCertificates>,
) -> Result<redis::Client, StoreError> {
    match certificates {
        Some(certificates) => redis::Client::build_with_tls(info, certificates),
        None => redis::Client::open(info),
    }
    .map_err(|error| StoreError::new(format!("Redis TLS settings: {error}")))
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Connection::Single(connection) => connection.req_packed_command(cmd),
            Connection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Connection::Single(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
            Connection::Cluster(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(connection) => connection.get_db(),
            Connection::Cluster(connection) => connection.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_nodes_are_read_from_cluster_nodes() {
        let reply = "\
a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7002@17002 master,fail - 1 1 2 connected 5461-10922
c3 10.0.0.3:7003@17003,node-c master - 0 2 3 connected 10923-16383
d4 127.0.0.1:7004@17004 master,fail? - 0 2 4 connected
e5 :7005@17005 master,noaddr - 0 2 5 connected
";
        assert_eq!(
            live_nodes(reply),
            vec![
                ("10.0.0.3".to_owned(), 7003),
                ("127.0.0.1".to_owned(), 7001)
            ]
        );
    }
}
