//! The key ring on Redis (`key_rotation_period`), for a fleet: the keys live in one Redis hash,
//! `<redis_key_prefix>signing-keys`, field `kid`, value a JSON record of the key's algorithm and
//! times and its PKCS#8 private key sealed with AES-256-GCM under `key_encryption_key` (the
//! `kid` bound as associated data): never written in clear, never logged.
//!
//! Every instance reads the hash when it ignites, then whenever a new key is announced on
//! `<prefix>signing-keys:changed` (pub/sub, as revocation does), and every few seconds besides
//! (at most a third of the publication lead, so that every instance holds a key before it signs
//! even when a notice is lost), and computes each
//! key's state from its times and the clock, as with a key directory. When the newest key has
//! signed for `key_rotation_period` less `jwks_max_age`, the instance that takes the lock
//! (`<prefix>signing-keys:lock`, `SET NX` with a lease: two instances racing create one key)
//! creates the next key, published now and signing `jwks_max_age` later. Retired keys are removed
//! from the hash. Redis that does not answer at rotation time leaves the ring as it is: the
//! current key keeps signing, nothing half-made is published, one warning says so, and the
//! rotation happens once Redis is back.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::Notify;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};

use crate::claims::now;
use crate::crypto;
use crate::keys::ring::{KeyRing, KeyState, KeyTimes, RingKey, SharedRing};
use crate::revocation::{connect_redis, RedisConnection, RedisOptions, Subscriptions};
use crate::settings::Settings;
use crate::telemetry::{Audit, Event, Telemetry};

/// How long the creation lock is held at most.
const LOCK_LEASE: Duration = Duration::from_secs(10);

/// One key as the hash keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    alg: Algorithm,
    published_at: i64,
    signs_from: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retires_at: Option<i64>,
    /// base64url of the nonce, the sealed PKCS#8 key and the tag.
    sealed: String,
}

/// The ring's keys in Redis.
struct RedisKeys {
    connection: RedisConnection,
    /// Where the change notices are subscribed to.
    subscriptions: Option<Subscriptions>,
    hash: String,
    lock: String,
    /// The channel a new key is announced on: every instance reads the hash at once.
    channel: String,
    kek: [u8; 32],
    timeout: Duration,
}

/// What a reading of the hash gave.
struct Reading {
    ring: KeyRing,
    /// Records that could not be opened (another key-encryption key, or damaged).
    unreadable: Vec<String>,
}

impl RedisKeys {
    fn new(settings: &Settings) -> Result<RedisKeys, String> {
        let url = settings
            .redis_url
            .as_ref()
            .ok_or("key_rotation_period: needs `redis_url`")?;
        let kek = key_encryption_key(settings)?;
        let (connection, subscriptions) = connect_redis(
            url.expose(),
            &RedisOptions::from_settings(settings),
            settings.revocation_timeout,
        )
        .map_err(|e| format!("key_rotation_period: {e}"))?;
        let prefix = &settings.redis_key_prefix;
        Ok(RedisKeys {
            connection,
            subscriptions: Some(subscriptions),
            hash: format!("{prefix}signing-keys"),
            lock: format!("{prefix}signing-keys:lock"),
            channel: format!("{prefix}signing-keys:changed"),
            kek,
            timeout: settings.revocation_timeout.max(Duration::from_secs(2)),
        })
    }

    /// `command` on the connection, within the timeout.
    async fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, String> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(self.timeout, command.query_async(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(format!("Redis: {error}")),
            Err(_) => Err(format!("Redis: no answer within {:?}", self.timeout)),
        }
    }

    /// The ring the hash holds.
    async fn read(&self, verifies_for: i64) -> Result<Reading, String> {
        let fields: Vec<(String, String)> = self.run(redis::cmd("HGETALL").arg(&self.hash)).await?;
        let mut keys = Vec::new();
        let mut unreadable = Vec::new();
        for (kid, record) in fields {
            match self.open(&kid, &record) {
                Ok(key) => keys.push(key),
                Err(reason) => unreadable.push(format!("key {kid}: {reason}")),
            }
        }
        let ring = KeyRing::new(keys, verifies_for).map_err(|e| e.to_string())?;
        Ok(Reading { ring, unreadable })
    }

    /// The key of one record, checked to be the key its `kid` names.
    fn open(&self, kid: &str, record: &str) -> Result<RingKey, String> {
        let record: Record = serde_json::from_str(record).map_err(|e| e.to_string())?;
        let sealed = URL_SAFE_NO_PAD
            .decode(&record.sealed)
            .map_err(|e| e.to_string())?;
        let der = crypto::open(&self.kek, kid.as_bytes(), &sealed)?;
        let key = match record.alg {
            Algorithm::EdDSA => EncodingKey::from_ed_der(&der),
            _ => EncodingKey::from_ec_der(&der),
        };
        let times = KeyTimes {
            published_at: record.published_at,
            signs_from: record.signs_from,
            retires_at: record.retires_at,
        };
        let key = RingKey::new(record.alg, &key, times).map_err(|e| e.to_string())?;
        if key.kid() != kid {
            return Err("the key is not the one its kid names".into());
        }
        Ok(key)
    }

    /// Creates a key of `algorithm` with `times`, unless `still_needed` (asked again once the
    /// lock is held, on a fresh reading) says another instance did. The key's `kid` when this
    /// one did.
    async fn create(
        &self,
        algorithm: Algorithm,
        verifies_for: i64,
        still_needed: impl Fn(&Reading) -> Option<KeyTimes>,
    ) -> Result<Option<String>, String> {
        let mut token = [0u8; 16];
        crypto::fill_random(&mut token).map_err(|()| "the random number generator failed")?;
        let token = URL_SAFE_NO_PAD.encode(token);
        let locked: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(&self.lock)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(LOCK_LEASE.as_millis() as u64),
            )
            .await?;
        if locked.is_none() {
            return Ok(None);
        }
        let created = self
            .create_locked(algorithm, verifies_for, still_needed)
            .await;
        let release = redis::Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        );
        let mut connection = self.connection.clone();
        let mut invocation = release.key(&self.lock);
        invocation.arg(&token);
        let released = invocation.invoke_async::<i64>(&mut connection);
        // The lease ends it anyway: a failed release only delays the next creation.
        let _ = tokio::time::timeout(self.timeout, released).await;
        created
    }

    async fn create_locked(
        &self,
        algorithm: Algorithm,
        verifies_for: i64,
        still_needed: impl Fn(&Reading) -> Option<KeyTimes>,
    ) -> Result<Option<String>, String> {
        let reading = self.read(verifies_for).await?;
        let Some(times) = still_needed(&reading) else {
            return Ok(None);
        };
        let der = crypto::generate_pkcs8(algorithm)?;
        let key = match algorithm {
            Algorithm::EdDSA => EncodingKey::from_ed_der(&der),
            _ => EncodingKey::from_ec_der(&der),
        };
        let key = RingKey::new(algorithm, &key, times).map_err(|e| e.to_string())?;
        let sealed = crypto::seal(&self.kek, key.kid().as_bytes(), &der)?;
        let record = Record {
            alg: algorithm,
            published_at: times.published_at,
            signs_from: times.signs_from,
            retires_at: times.retires_at,
            sealed: URL_SAFE_NO_PAD.encode(sealed),
        };
        let record = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        let _: i64 = self
            .run(
                redis::cmd("HSET")
                    .arg(&self.hash)
                    .arg(key.kid())
                    .arg(record),
            )
            .await?;
        // Polling finds it too: a lost notice only delays the other instances' reading.
        let _ = self
            .run::<i64>(redis::cmd("PUBLISH").arg(&self.channel).arg(key.kid()))
            .await;
        log::info!(
            "jwt: signing key {} ({algorithm:?}) created in Redis, signing from {}",
            key.kid(),
            times.signs_from
        );
        Ok(Some(key.kid().to_owned()))
    }

    /// Removes the keys `kids` from the hash.
    async fn remove(&self, kids: &[&str]) -> Result<(), String> {
        let mut command = redis::cmd("HDEL");
        command.arg(&self.hash);
        for kid in kids {
            command.arg(*kid);
        }
        self.run::<i64>(&command).await.map(drop)
    }
}

/// The key-encryption key of the settings: 32 bytes of base64.
fn key_encryption_key(settings: &Settings) -> Result<[u8; 32], String> {
    let text = settings
        .key_encryption_key
        .as_ref()
        .ok_or("key_rotation_period: needs `key_encryption_key`")?;
    let text = text.expose().trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .map_err(|_| "key_encryption_key: not base64".to_string())?;
    bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| format!("key_encryption_key: {} bytes, not 32", bytes.len()))
}

/// The rotation of one instance.
struct Rotation {
    keys: RedisKeys,
    period: i64,
    lead: i64,
    verifies_for: i64,
    algorithm: Algorithm,
    every: Duration,
    /// The metrics' counters (key rotations), when `metrics` is on.
    telemetry: Option<Arc<Telemetry>>,
    /// The audit records (keys created and retired), when `audit_log` is on.
    audit: Option<Audit>,
}

impl Rotation {
    /// The times of the key to create after `reading` at `now`, if one is due (see
    /// [`next_key_times`]). Never while a record cannot be read: its key may be the newest.
    fn due(&self, reading: &Reading, now: i64) -> Option<KeyTimes> {
        if !reading.unreadable.is_empty() {
            return None;
        }
        let newest = reading.ring.keys().last().map(|key| key.times().signs_from);
        next_key_times(newest, now, self.period, self.lead)
    }

    /// One round: read the hash, take its ring, create the key that is due, remove the retired.
    async fn round(&self, ring: &SharedRing) -> Result<(), String> {
        let now = now();
        let mut reading = self.keys.read(self.verifies_for).await?;
        if self.due(&reading, now).is_some() {
            let due = |reading: &Reading| self.due(reading, now);
            if let Some(kid) = self
                .keys
                .create(self.algorithm, self.verifies_for, due)
                .await?
            {
                if let Some(telemetry) = &self.telemetry {
                    telemetry.count(Event::KeyRotation);
                }
                if let Some(audit) = &self.audit {
                    audit.key_created(&kid);
                }
                reading = self.keys.read(self.verifies_for).await?;
            }
        }
        if let Some(problem) = reading.unreadable.first() {
            return Err(format!(
                "{problem} (key_encryption_key differs from the fleet's?); no key is created \
                 while a record cannot be read"
            ));
        }
        let retired: Vec<&str> = reading
            .ring
            .keys()
            .iter()
            .filter(|key| reading.ring.state(key.kid(), now) == Some(KeyState::Retired))
            .map(|key| key.kid())
            .collect();
        if !retired.is_empty() {
            self.keys.remove(&retired).await?;
            if let Some(audit) = &self.audit {
                retired.iter().for_each(|kid| audit.key_retired(kid));
            }
        }
        if !same_keys(&ring.load(), &reading.ring) {
            ring.replace(reading.ring);
        }
        Ok(())
    }

    /// Rounds every `every`, and at once when another instance announces a new key, for as long
    /// as `ring` lives; one warning per outage.
    async fn run(mut self, ring: Weak<SharedRing>) {
        let announced = Arc::new(Notify::new());
        if let Some(subscriptions) = self.keys.subscriptions.take() {
            tokio::spawn(listen(
                subscriptions,
                self.keys.channel.clone(),
                Arc::downgrade(&announced),
                self.keys.timeout,
            ));
        }
        let mut failing = false;
        let mut ticks = tokio::time::interval(self.every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = announced.notified() => {}
            }
            let Some(shared) = ring.upgrade() else {
                return;
            };
            match self.round(&shared).await {
                Ok(()) if failing => {
                    log::warn!("jwt: the signing keys in Redis can be read again");
                    failing = false;
                }
                Ok(()) => {}
                Err(error) if !failing => {
                    log::warn!(
                        "jwt: the signing keys in Redis: {error}; the keys held keep signing and \
                         verifying until it recovers"
                    );
                    failing = true;
                }
                Err(_) => {}
            }
        }
    }
}

/// Listens on `channel` for new keys while `announced` lives, waking the rounds; resubscribes
/// after a failure (the rounds poll meanwhile).
async fn listen(
    subscriptions: Subscriptions,
    channel: String,
    announced: Weak<Notify>,
    timeout: Duration,
) {
    let mut failures = 0;
    while announced.strong_count() > 0 {
        let client = subscriptions.client(failures, timeout).await;
        if let Ok(Ok(mut pubsub)) = tokio::time::timeout(timeout, client.get_async_pubsub()).await
            && let Ok(Ok(())) = tokio::time::timeout(timeout, pubsub.subscribe(&channel)).await
        {
            failures = 0;
            let mut messages = pubsub.on_message();
            while messages.next().await.is_some() {
                match announced.upgrade() {
                    Some(announced) => announced.notify_one(),
                    None => return,
                }
            }
        }
        failures += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The times of the next key at `now`, when the newest key signs from `newest`, if one is due.
/// The first key signs at once, dated `lead` back, so that an instance whose clock is up to
/// `lead` behind sees it signing too. The next is published now and signs `lead` later, once
/// the newest has signed for `period` less `lead`; none while a later key already waits.
fn next_key_times(newest: Option<i64>, now: i64, period: i64, lead: i64) -> Option<KeyTimes> {
    match newest {
        None => Some(KeyTimes {
            published_at: now - lead,
            signs_from: now - lead,
            retires_at: None,
        }),
        Some(from) if from <= now && now >= from + period - lead => Some(KeyTimes {
            published_at: now,
            signs_from: (now + lead).max(from + period),
            retires_at: None,
        }),
        Some(_) => None,
    }
}

/// Whether two rings hold the same keys with the same times.
fn same_keys(a: &KeyRing, b: &KeyRing) -> bool {
    let keys = |ring: &KeyRing| -> Vec<(String, KeyTimes)> {
        ring.keys()
            .iter()
            .map(|key| (key.kid().to_owned(), key.times()))
            .collect()
    };
    keys(a) == keys(b)
}

/// Reads the ring from Redis into `ring` (creating the first key when there is none), then keeps
/// it up to date. Fails, naming the setting, when Redis does not answer or no key signs.
pub(crate) async fn start(
    settings: &Settings,
    ring: &Arc<SharedRing>,
    telemetry: Option<Arc<Telemetry>>,
    audit: Option<Audit>,
) -> Result<(), String> {
    let Some(period) = settings.key_rotation_period else {
        return Ok(());
    };
    let lead = settings.jwks_max_age.as_secs() as i64;
    let algorithm = match settings.algorithm {
        Algorithm::ES384 => Algorithm::ES384,
        Algorithm::EdDSA => Algorithm::EdDSA,
        _ => Algorithm::ES256,
    };
    let rotation = Rotation {
        keys: RedisKeys::new(settings)?,
        period: period.as_secs() as i64,
        lead,
        verifies_for: crate::token::codec::verifies_for(settings),
        algorithm,
        every: Duration::from_secs((lead / 3).clamp(1, 30) as u64),
        telemetry,
        audit,
    };
    // Another instance may hold the lock while it creates the first key: a few rounds. Redis
    // that does not answer, or a key that cannot be read, fails at once.
    for _ in 0..10 {
        rotation
            .round(ring)
            .await
            .map_err(|error| format!("key_rotation_period: the signing keys in Redis: {error}"))?;
        if ring.load().current(now()).is_some() {
            tokio::spawn(rotation.run(Arc::downgrade(ring)));
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err("key_rotation_period: no signing key in Redis signs, and none could be created".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;

    #[test]
    fn the_key_encryption_key_is_32_bytes_of_base64() {
        let with = |text: &str| Settings {
            key_encryption_key: Some(Secret::new(text)),
            ..Settings::default()
        };
        let standard = STANDARD.encode([7u8; 32]);
        assert_eq!(key_encryption_key(&with(&standard)), Ok([7u8; 32]));
        let url_safe = URL_SAFE_NO_PAD.encode([0xfbu8; 32]);
        assert_eq!(key_encryption_key(&with(&url_safe)), Ok([0xfbu8; 32]));
        let short = key_encryption_key(&with(&STANDARD.encode([1u8; 16]))).unwrap_err();
        assert!(short.contains("16 bytes, not 32"), "{short}");
        assert!(key_encryption_key(&with("not base64!")).is_err());
        assert!(key_encryption_key(&Settings::default()).is_err());
    }

    #[test]
    fn keys_are_due_once_the_newest_has_signed_for_the_period_less_the_lead() {
        let times = |published_at, signs_from| {
            Some(KeyTimes {
                published_at,
                signs_from,
                retires_at: None,
            })
        };
        assert_eq!(
            next_key_times(None, 1000, 60, 10),
            times(990, 990),
            "dated the lead back"
        );
        assert_eq!(next_key_times(Some(1000), 1049, 60, 10), None, "not yet");
        assert_eq!(next_key_times(Some(1000), 1050, 60, 10), times(1050, 1060));
        assert_eq!(
            next_key_times(Some(1000), 1200, 60, 10),
            times(1200, 1210),
            "late: still published the lead ahead"
        );
        assert_eq!(
            next_key_times(Some(1060), 1055, 60, 10),
            None,
            "a later key waits"
        );
    }

    #[test]
    fn sealed_keys_open_only_under_their_key_and_kid() {
        let der = crypto::generate_pkcs8(Algorithm::ES256).expect("a key");
        let sealed = crypto::seal(&[1; 32], b"kid-1", &der).expect("sealed");
        assert!(!sealed
            .windows(der.len())
            .any(|window| window == der.as_slice()));
        assert_eq!(crypto::open(&[1; 32], b"kid-1", &sealed), Ok(der));
        assert!(
            crypto::open(&[2; 32], b"kid-1", &sealed).is_err(),
            "another key"
        );
        assert!(
            crypto::open(&[1; 32], b"kid-2", &sealed).is_err(),
            "another kid"
        );
        let mut changed = sealed.clone();
        changed[20] ^= 1;
        assert!(
            crypto::open(&[1; 32], b"kid-1", &changed).is_err(),
            "changed data"
        );
        for algorithm in [Algorithm::ES384, Algorithm::EdDSA] {
            assert!(crypto::generate_pkcs8(algorithm).is_ok());
        }
        assert!(crypto::generate_pkcs8(Algorithm::RS256).is_err());
    }
}
