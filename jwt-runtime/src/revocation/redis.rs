//! [`RedisStore`]: revoked tokens in Redis (or Valkey), shared by every instance, with a
//! near-cache kept up to date through the prefix's invalidation channel.
//!
//! Keys (subject and `jti` base64url-encoded, so that no value can forge another key):
//!
//! - `<prefix>{<subject>}:t:<jti>`: a revoked token, expiring with the token (`exp` + leeway);
//! - `<prefix>{<subject>}:s`: the time every token of the subject issued until then was revoked,
//!   expiring after the longest token lifetime;
//! - `<prefix>{<subject>}:f:<family>` (a hash), `<prefix>{<subject>}:f:<family>:s` and
//!   `<prefix>{<subject>}:fs` (a sorted set): a refresh-token family, its successor during the
//!   grace period, and the subject's live families (see [`super::redis_families`]).
//!
//! With the `flask-jwt-extended` layout (`revocation_key_layout`), a revoked token's key is its
//! `jti` alone, as Flask-JWT-Extended's Redis blocklist recipe has it; the subject's key stays,
//! and no near-cache is kept (the Flask side publishes nothing on the channel).
//!
//! The braces make the subject the hash tag: every key of a subject is in one hash slot of a
//! Redis Cluster, so one `MGET` reads both. Each revocation is also published on
//! `<prefix>invalidations` (see [`super::near_cache`]).

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;

use super::encoding::encode;
use super::near_cache::{Invalidation, NearCache};
use super::redis_connection::{self, Connection, RedisOptions, Subscriptions};
use super::{RevocationState, RevocationStore, StoreError};
use crate::claims::now;
use crate::settings::RevocationKeyLayout;

/// How often the subscription is pinged: a connection that died silently is noticed (and the
/// near-cache dropped) within this period plus the timeout.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(1);

/// Revoked tokens in Redis, for every instance of an application.
///
/// Connections are made on first use and remade on their own after a failure (redis-rs's
/// connection manager, or its cluster connection), so the store works again once Redis is back,
/// without a restart. Every command is bounded by the timeout given to
/// [`connect`](Self::connect).
pub struct RedisStore {
    connection: Connection,
    prefix: String,
    channel: String,
    near: Arc<NearCache>,
    timeout: Duration,
    layout: RevocationKeyLayout,
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://` or `rediss://`), keys under `key_prefix`, each
    /// command bounded by `timeout`. Nothing is sent yet: an unreachable Redis makes lookups fail
    /// (see `revocation_fail_open`), not this call. Starts the near-cache's subscriber, so it
    /// must be called within a Tokio runtime (Rocket's, at ignition).
    pub fn connect(url: &str, key_prefix: &str, timeout: Duration) -> Result<Self, StoreError> {
        Self::connect_with(url, key_prefix, timeout, &RedisOptions::default())
    }

    /// [`connect`](Self::connect) with `options`: the CA and client certificate of a
    /// `rediss://` server, a Redis Cluster, the near-cache or not. TLS material that cannot be
    /// read, or that is given with a `redis://` URL, is an error here.
    pub fn connect_with(
        url: &str,
        key_prefix: &str,
        timeout: Duration,
        options: &RedisOptions,
    ) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::new("the Redis store must be made within a Tokio runtime"))?;
        let (connection, subscriptions) = redis_connection::open(url, options, timeout)?;
        let near = Arc::new(NearCache::new());
        let channel = format!("{key_prefix}invalidations");
        if options.near_cache && options.layout == RevocationKeyLayout::Default {
            runtime.spawn(subscribe(
                subscriptions,
                channel.clone(),
                Arc::downgrade(&near),
                timeout,
            ));
        }
        Ok(RedisStore {
            connection,
            prefix: key_prefix.to_owned(),
            channel,
            near,
            timeout,
            layout: options.layout,
        })
    }

    /// Whether the server answers `PING` within the timeout.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|mut connection| async move {
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
        })
        .await
        .map(drop)
    }

    /// Whether the invalidation channel is live, so that warm lookups are answered locally.
    pub fn near_cache_live(&self) -> bool {
        self.near.is_live()
    }

    /// The key of `subject`'s revoked token `jti`.
    fn token_key(&self, subject: &str, jti: &str) -> String {
        match self.layout {
            RevocationKeyLayout::Default => {
                format!("{}{{{}}}:t:{}", self.prefix, encode(subject), encode(jti))
            }
            RevocationKeyLayout::FlaskJwtExtended => jti.to_owned(),
        }
    }

    /// The key of `subject`'s revocation time.
    fn subject_key(&self, subject: &str) -> String {
        self.key_of(subject, "s")
    }

    /// The key `tail` of `subject`: `<prefix>{<subject>}:<tail>`.
    /// `tail` under the store's key prefix.
    pub(super) fn prefixed(&self, tail: &str) -> String {
        format!("{}{tail}", self.prefix)
    }

    pub(super) fn key_of(&self, subject: &str, tail: &str) -> String {
        format!("{}{{{}}}:{tail}", self.prefix, encode(subject))
    }

    /// `command` on a connection, within the timeout.
    pub(super) async fn run<T, F>(
        &self,
        command: impl FnOnce(Connection) -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, command(self.connection.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::new(format!("Redis: {error}"))),
            Err(_) => Err(StoreError::new(format!(
                "Redis: no answer within {:?}",
                self.timeout
            ))),
        }
    }

    /// Writes `key` with `value` for `ttl` seconds and publishes `message`, then drops what the
    /// near-cache knows of it (the published message does the same on every instance).
    async fn revoke(
        &self,
        key: String,
        value: i64,
        ttl: i64,
        message: Invalidation,
    ) -> Result<(), StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(key).arg(value).arg("EX").arg(ttl.max(1));
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(&self.channel).arg(message.encode());
        self.run(|mut connection| async move {
            if connection.is_cluster() {
                // A cluster's pipeline stays within one slot, and the channel is not in the
                // subject's: one after the other (the write first, as in the pipeline).
                set.query_async::<()>(&mut connection).await?;
                publish.query_async::<()>(&mut connection).await
            } else {
                redis::pipe()
                    .add_command(set)
                    .ignore()
                    .add_command(publish)
                    .ignore()
                    .query_async::<()>(&mut connection)
                    .await
            }
        })
        .await?;
        self.near.invalidate(&message);
        Ok(())
    }
}

#[rocket::async_trait]
impl RevocationStore for RedisStore {
    async fn state(&self, subject: &str, jti: Option<&str>) -> Result<RevocationState, StoreError> {
        let epoch = self.near.epoch();
        let subject_key = self.subject_key(subject);
        let (token, revoked_at): (Option<String>, Option<String>) = match jti {
            Some(jti) => {
                let token_key = self.token_key(subject, jti);
                self.run(|mut connection| async move {
                    if connection.is_cluster() && self.layout != RevocationKeyLayout::Default {
                        // The two keys are in different hash slots: one read each.
                        let token = redis::cmd("GET")
                            .arg(token_key)
                            .query_async(&mut connection)
                            .await?;
                        let at = redis::cmd("GET")
                            .arg(subject_key)
                            .query_async(&mut connection)
                            .await?;
                        return Ok((token, at));
                    }
                    redis::cmd("MGET")
                        .arg(token_key)
                        .arg(subject_key)
                        .query_async(&mut connection)
                        .await
                })
                .await?
            }
            None => {
                let at = self
                    .run(|mut connection| async move {
                        redis::cmd("GET")
                            .arg(subject_key)
                            .query_async(&mut connection)
                            .await
                    })
                    .await?;
                (None, at)
            }
        };
        let subject_revoked_at = match revoked_at {
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                StoreError::new("Redis: a subject's revocation time is not an integer")
            })?),
            None => None,
        };
        let state = RevocationState {
            token_revoked: token.is_some(),
            subject_revoked_at,
        };
        self.near.insert(epoch, subject, jti, state);
        Ok(state)
    }

    fn state_now(&self, subject: &str, jti: Option<&str>) -> Option<RevocationState> {
        self.near.get(subject, jti)
    }

    async fn revoke_token(&self, subject: &str, jti: &str, until: i64) -> Result<(), StoreError> {
        let message = Invalidation::Token {
            subject: subject.to_owned(),
            jti: jti.to_owned(),
        };
        self.revoke(self.token_key(subject, jti), 1, until - now(), message)
            .await
    }

    async fn revoke_subject(&self, subject: &str, at: i64, until: i64) -> Result<(), StoreError> {
        let message = Invalidation::Subject {
            subject: subject.to_owned(),
        };
        self.revoke(self.subject_key(subject), at, until - now(), message)
            .await
    }

    fn families(&self) -> Option<&dyn super::RefreshFamilies> {
        Some(self)
    }

    fn proof_replay(&self) -> Option<&dyn super::ProofReplay> {
        Some(self)
    }

    fn near_cache_live(&self) -> Option<bool> {
        Some(RedisStore::near_cache_live(self))
    }
}

/// The near-cache's subscriber: listens on `channel` for as long as the store lives, dropping
/// the near-cache whenever the subscription is lost and resubscribing.
async fn subscribe(
    subscriptions: Subscriptions,
    channel: String,
    near: Weak<NearCache>,
    timeout: Duration,
) {
    let mut delay = Duration::from_millis(50);
    let mut failures = 0;
    loop {
        let client = subscriptions.client(failures, timeout).await;
        let result = listen(&client, &channel, &near, timeout).await;
        let Some(cache) = near.upgrade() else {
            return; // the store is gone
        };
        let was_live = cache.is_live();
        cache.go_dark();
        drop(cache);
        match result {
            Ok(()) => return,
            Err(error) => {
                failures += 1;
                if was_live {
                    log::warn!(
                        "jwt: revocation near-cache dropped: the invalidation channel is lost \
                         ({error}); every lookup goes to Redis until it is back"
                    );
                    delay = Duration::from_millis(50);
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// One subscription: confirmed, then invalidations until it fails (`Err`) or the store is gone
/// (`Ok`).
async fn listen(
    client: &redis::Client,
    channel: &str,
    near: &Weak<NearCache>,
    timeout: Duration,
) -> Result<(), StoreError> {
    let pubsub = within(timeout, "connect", client.get_async_pubsub()).await?;
    let (mut sink, mut stream) = pubsub.split();
    within(timeout, "subscribe", sink.subscribe(channel)).await?;
    match near.upgrade() {
        Some(cache) => cache.go_live(),
        None => return Ok(()),
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    return Err(StoreError::new("the subscription was closed"));
                };
                let Some(cache) = near.upgrade() else {
                    return Ok(());
                };
                let decoded = message
                    .get_payload::<String>()
                    .ok()
                    .and_then(|text| Invalidation::decode(&text));
                match decoded {
                    Some(invalidation) => cache.invalidate(&invalidation),
                    // Unknown to this version: forget everything rather than miss a revocation.
                    None => cache.go_live(),
                }
            }
            _ = heartbeat.tick() => {
                if near.strong_count() == 0 {
                    return Ok(());
                }
                within(timeout, "heartbeat", sink.ping::<redis::Value>()).await?;
            }
        }
    }
}

/// `command` of the subscription, within `timeout`.
async fn within<T>(
    timeout: Duration,
    what: &str,
    command: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(timeout, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(StoreError::new(format!("{what}: {error}"))),
        Err(_) => Err(StoreError::new(format!(
            "{what}: no answer within {timeout:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_a_subject_share_its_hash_tag_and_cannot_be_forged() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let _entered = runtime.enter();
        let store = RedisStore::connect("redis://127.0.0.1:1", "app:", HEARTBEAT)
            .expect("a valid URL connects lazily");
        assert_eq!(store.token_key("ann", "j1"), "app:{YW5u}:t:ajE");
        assert_eq!(store.subject_key("ann"), "app:{YW5u}:s");
        // A subject holding the separators stays inside its braces.
        assert_eq!(store.subject_key("a}:t:x"), "app:{YX06dDp4}:s");
        let recipe = RedisStore::connect_with(
            "redis://127.0.0.1:1",
            "app:",
            HEARTBEAT,
            &RedisOptions {
                layout: RevocationKeyLayout::FlaskJwtExtended,
                ..RedisOptions::default()
            },
        )
        .expect("a valid URL connects lazily");
        assert_eq!(
            recipe.token_key("ann", "j1"),
            "j1",
            "Flask-JWT-Extended's recipe"
        );
        assert_eq!(recipe.subject_key("ann"), "app:{YW5u}:s");
        assert!(RedisStore::connect("http://x", "app:", HEARTBEAT).is_err());
        assert!(RedisStore::connect("rediss://127.0.0.1:1", "app:", HEARTBEAT).is_ok());
    }
}
