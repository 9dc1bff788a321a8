//! Refresh-token families in Redis: [`RefreshFamilies`] for [`RedisStore`]. Each change is one
//! Lua script, so that it is atomic across every instance: two instances presenting the same
//! token at once get one successor between them.
//!
//! Keys, all under the subject's hash tag (one slot of a Redis Cluster):
//!
//! - `<prefix>{<subject>}:f:<family>`: a hash, `c` the newest token's `jti`, `p` the previous
//!   one's, `g` until when it may be presented again, `a`/`au` the newest access token's `jti`
//!   and expiry, `cr` created, `r` last rotated, `ua` the user agent, `x` set once revoked, `u`
//!   until when it is kept; it expires then;
//! - `<prefix>{<subject>}:f:<family>:s`: the successor the previous token got, expiring with the
//!   grace period;
//! - `<prefix>{<subject>}:fs`: a sorted set of the subject's live families, scored by expiry.
//!
//! The scripts follow [`FamilyRecord::rotate`], the rules every store shares; the tests of
//! `tests/system` run the same scenarios against both stores.

use std::sync::LazyLock;

use redis::Script;

use super::encoding::encode;
use super::families::{oldest_first, FamilyRecord, FamilyStart, IssuedAccess, RefreshFamilies};
use super::{RedisStore, Rotation, RotationAttempt, Session, StoreError};

/// [`FamilyRecord::rotate`] in one step. The reply: `{"rotated"}`, `{"repeated", successor}`,
/// `{"reused", access jti, access until}` or `{"refused"}`.
static ROTATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now = tonumber(ARGV[8])
local f = redis.call('HMGET', KEYS[1], 'c', 'p', 'g', 'x', 'a', 'au', 'u')
if f[1] and tonumber(f[7]) <= now then
  redis.call('DEL', KEYS[1], KEYS[2])
  f = {false, false, false, false, false, false, false}
end
if not f[1] then
  if ARGV[3] ~= '1' then return {'refused'} end
  redis.call('HSET', KEYS[1], 'cr', ARGV[11])
elseif f[4] then
  return {'refused'}
elseif f[1] ~= ARGV[2] then
  if f[2] == ARGV[2] and now <= tonumber(f[3]) then
    local successor = redis.call('GET', KEYS[2])
    if successor then return {'repeated', successor} end
  end
  redis.call('HSET', KEYS[1], 'x', '1')
  redis.call('HDEL', KEYS[1], 'a', 'au')
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'reused', f[5] or '', f[6] or ''}
end
redis.call('HSET', KEYS[1], 'c', ARGV[4], 'p', ARGV[2], 'g', ARGV[9], 'r', ARGV[8])
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'a', ARGV[6], 'au', ARGV[7])
else
  redis.call('HDEL', KEYS[1], 'a', 'au')
end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'ua', ARGV[12]) end
local keep = math.max(tonumber(ARGV[10]), tonumber(f[7] or 0))
redis.call('HSET', KEYS[1], 'u', keep)
redis.call('EXPIREAT', KEYS[1], keep)
local grace = tonumber(ARGV[9]) - now
if ARGV[5] ~= '' and grace > 0 then
  redis.call('SET', KEYS[2], ARGV[5], 'EX', grace + 1)
else
  redis.call('DEL', KEYS[2])
end
redis.call('ZADD', KEYS[3], keep, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('TTL', KEYS[3]) < keep - now then redis.call('EXPIREAT', KEYS[3], keep) end
return {'rotated'}
",
    )
});

/// [`FamilyRecord::started`], listed among the subject's families.
static START: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'c', ARGV[1], 'cr', ARGV[2], 'g', 0, 'u', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'ua', ARGV[4]) end
redis.call('EXPIREAT', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('TTL', KEYS[2]) < tonumber(ARGV[3]) - tonumber(ARGV[2]) then
  redis.call('EXPIREAT', KEYS[2], ARGV[3])
end
return 1
",
    )
});

/// [`FamilyRecord::revoke`]: nil when there is no live family, else `{access jti, access
/// until}` (empty when unknown).
static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local f = redis.call('HMGET', KEYS[1], 'c', 'x', 'a', 'au', 'u')
if not f[1] or f[2] or tonumber(f[5]) <= tonumber(ARGV[2]) then return false end
redis.call('HSET', KEYS[1], 'x', '1')
redis.call('HDEL', KEYS[1], 'a', 'au')
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return {f[3] or '', f[4] or ''}
",
    )
});

impl RedisStore {
    /// The keys of `subject`'s `family`: its hash, its successor, the subject's families.
    fn family_keys(&self, subject: &str, family: &str) -> [String; 3] {
        let hash = self.key_of(subject, &format!("f:{}", encode(family)));
        let successor = format!("{hash}:s");
        [hash, successor, self.key_of(subject, "fs")]
    }
}

#[rocket::async_trait]
impl RefreshFamilies for RedisStore {
    async fn start(&self, start: &FamilyStart<'_>) -> Result<(), StoreError> {
        let [hash, _, families] = self.family_keys(start.subject, start.family);
        let mut invocation = START.key(hash);
        invocation
            .key(families)
            .arg(start.family)
            .arg(start.now)
            .arg(start.until)
            .arg(start.user_agent.unwrap_or_default());
        self.run(
            |mut connection| async move { invocation.invoke_async::<i64>(&mut connection).await },
        )
        .await
        .map(drop)
    }

    async fn rotate(&self, attempt: &RotationAttempt<'_>) -> Result<Rotation, StoreError> {
        let [hash, successor, families] = self.family_keys(attempt.subject, attempt.family);
        let (access_jti, access_until) = match attempt.access {
            Some(access) => (access.jti, access.until),
            None => ("", 0),
        };
        let mut invocation = ROTATE.key(hash);
        invocation
            .key(successor)
            .key(families)
            .arg(attempt.family)
            .arg(attempt.presented)
            .arg(if attempt.root { "1" } else { "0" })
            .arg(attempt.successor_jti)
            .arg(attempt.successor)
            .arg(access_jti)
            .arg(access_until)
            .arg(attempt.now)
            .arg(attempt.grace_until)
            .arg(attempt.until)
            .arg(attempt.created)
            .arg(attempt.user_agent.unwrap_or_default());
        let reply: Vec<String> = self
            .run(|mut connection| async move { invocation.invoke_async(&mut connection).await })
            .await?;
        match reply.as_slice() {
            [outcome] if outcome == "rotated" => Ok(Rotation::Rotated),
            [outcome] if outcome == "refused" => Ok(Rotation::Refused),
            [outcome, successor] if outcome == "repeated" => Ok(Rotation::Repeated {
                successor: successor.clone(),
            }),
            [outcome, jti, until] if outcome == "reused" => Ok(Rotation::Reused {
                access: issued_access(jti, until),
            }),
            _ => Err(StoreError::new(
                "Redis: an unexpected reply to a refresh-token rotation",
            )),
        }
    }

    async fn sessions(&self, subject: &str, now: i64) -> Result<Vec<Session>, StoreError> {
        let families_key = self.key_of(subject, "fs");
        let families: Vec<String> = self
            .run(|mut connection| async move {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(families_key)
                    .arg(format!("({now}"))
                    .arg("+inf")
                    .query_async(&mut connection)
                    .await
            })
            .await?;
        if families.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipeline = redis::pipe();
        for family in &families {
            let [hash, _, _] = self.family_keys(subject, family);
            pipeline
                .cmd("HMGET")
                .arg(hash)
                .arg(&["cr", "r", "ua", "x", "u"]);
        }
        type Fields = (
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let records: Vec<Fields> = self
            .run(|mut connection| async move { pipeline.query_async(&mut connection).await })
            .await?;
        let sessions = families
            .into_iter()
            .zip(records)
            .filter_map(
                |(family, (created, refreshed, user_agent, revoked, until))| {
                    let record = FamilyRecord {
                        current: String::new(),
                        previous: None,
                        grace_until: 0,
                        successor: None,
                        access: None,
                        created: created?,
                        refreshed,
                        user_agent,
                        revoked: revoked.is_some(),
                        until: until?,
                    };
                    record.session(&family, now)
                },
            )
            .collect();
        Ok(oldest_first(sessions))
    }

    async fn revoke_family(
        &self,
        subject: &str,
        family: &str,
        now: i64,
    ) -> Result<Option<Option<IssuedAccess>>, StoreError> {
        let [hash, successor, families] = self.family_keys(subject, family);
        let mut invocation = REVOKE.key(hash);
        invocation.key(successor).key(families).arg(family).arg(now);
        let reply: Option<(String, String)> = self
            .run(|mut connection| async move { invocation.invoke_async(&mut connection).await })
            .await?;
        Ok(reply.map(|(jti, until)| issued_access(&jti, &until)))
    }
}

/// The access token a script handed back (empty: none recorded).
fn issued_access(jti: &str, until: &str) -> Option<IssuedAccess> {
    Some(IssuedAccess {
        jti: (!jti.is_empty()).then(|| jti.to_owned())?,
        until: until.parse().ok()?,
    })
}
