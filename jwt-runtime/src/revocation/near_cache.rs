//! The near-cache of the Redis store: revocation state read from Redis, kept in this process so
//! that a request for a token already seen pays no round trip.
//!
//! Every revocation is published on the prefix's invalidation channel; each instance's
//! subscriber drops the entries it names ([`NearCache::invalidate`]). Entries are only used
//! while the subscription is live: when it is lost (or a heartbeat goes unanswered) the whole
//! cache is dropped and stays off until the subscription is back, so a missed invalidation can
//! never keep a revoked token alive. An answer read from Redis is only kept when no
//! invalidation arrived while it was being read (the epoch did not move).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::RevocationState;

/// Entries kept (tokens and subjects together); the least used go first.
const CAPACITY: usize = 65_536;

/// Local revocation state, valid while the invalidation channel is live.
pub(crate) struct NearCache {
    /// `(subject, jti)` to whether that token is revoked.
    tokens: quick_cache::sync::Cache<(String, String), bool>,
    /// Subject to when all its tokens were revoked (`None`: never).
    subjects: quick_cache::sync::Cache<String, Option<i64>>,
    /// The subscription is confirmed and nothing was missed since.
    live: AtomicBool,
    /// Moves on every invalidation and every loss of the subscription.
    epoch: AtomicU64,
}

impl NearCache {
    pub(crate) fn new() -> Self {
        NearCache {
            tokens: quick_cache::sync::Cache::new(CAPACITY),
            subjects: quick_cache::sync::Cache::new(CAPACITY / 4),
            live: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
        }
    }

    /// The state of `subject`'s token `jti` when both halves are cached and the channel is live.
    pub(crate) fn get(&self, subject: &str, jti: Option<&str>) -> Option<RevocationState> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let subject_revoked_at = self.subjects.get(subject)?;
        let token_revoked = match jti {
            Some(jti) => self.tokens.get(&(subject.to_owned(), jti.to_owned()))?,
            None => false,
        };
        Some(RevocationState {
            token_revoked,
            subject_revoked_at,
        })
    }

    /// The epoch to pass to [`insert`](Self::insert) for a state about to be read.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps `state`, read from Redis after [`epoch`](Self::epoch) answered `epoch`, unless an
    /// invalidation (or a loss of the channel) came in since.
    pub(crate) fn insert(
        &self,
        epoch: u64,
        subject: &str,
        jti: Option<&str>,
        state: RevocationState,
    ) {
        if !self.live.load(Ordering::Acquire) || self.epoch() != epoch {
            return;
        }
        self.subjects
            .insert(subject.to_owned(), state.subject_revoked_at);
        if let Some(jti) = jti {
            self.tokens
                .insert((subject.to_owned(), jti.to_owned()), state.token_revoked);
        }
        // An invalidation that raced the inserts: drop what they may have put back.
        if self.epoch() != epoch {
            self.subjects.remove(subject);
            if let Some(jti) = jti {
                self.tokens.remove(&(subject.to_owned(), jti.to_owned()));
            }
        }
    }

    /// A revocation was published: forget what the cache knows of it.
    pub(crate) fn invalidate(&self, message: &Invalidation) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match message {
            Invalidation::Token { subject, jti } => {
                self.tokens.remove(&(subject.clone(), jti.clone()));
            }
            Invalidation::Subject { subject } => {
                self.subjects.remove(subject);
            }
        }
    }

    /// The channel is confirmed: start caching from an empty state.
    pub(crate) fn go_live(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.clear();
        self.live.store(true, Ordering::Release);
    }

    /// The channel is lost (or unconfirmed): drop everything and stop caching.
    pub(crate) fn go_dark(&self) {
        self.live.store(false, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.clear();
    }

    /// Whether the invalidation channel is live (answers can come from the cache).
    pub(crate) fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    fn clear(&self) {
        self.tokens.clear();
        self.subjects.clear();
    }
}

/// A message of the invalidation channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalidation {
    /// `t <subject> <jti>`: one token was revoked.
    Token { subject: String, jti: String },
    /// `s <subject>`: every token of a subject was revoked.
    Subject { subject: String },
}

impl Invalidation {
    /// The message's text: the kind, then the subject and `jti` encoded as in the keys
    /// (base64url), separated by spaces.
    pub(crate) fn encode(&self) -> String {
        match self {
            Invalidation::Token { subject, jti } => {
                format!(
                    "t {} {}",
                    super::encoding::encode(subject),
                    super::encoding::encode(jti)
                )
            }
            Invalidation::Subject { subject } => format!("s {}", super::encoding::encode(subject)),
        }
    }

    /// The message `text`; `None` when it is not one.
    pub(crate) fn decode(text: &str) -> Option<Invalidation> {
        let mut parts = text.split(' ');
        let message = match (parts.next()?, parts.next(), parts.next()) {
            ("t", Some(subject), Some(jti)) => Invalidation::Token {
                subject: super::encoding::decode(subject)?,
                jti: super::encoding::decode(jti)?,
            },
            ("s", Some(subject), _) => Invalidation::Subject {
                subject: super::encoding::decode(subject)?,
            },
            _ => return None,
        };
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revoked_at(at: i64) -> RevocationState {
        RevocationState {
            token_revoked: false,
            subject_revoked_at: Some(at),
        }
    }

    #[test]
    fn nothing_is_cached_while_the_channel_is_not_live() {
        let cache = NearCache::new();
        cache.insert(cache.epoch(), "ann", Some("j"), revoked_at(5));
        assert_eq!(cache.get("ann", Some("j")), None);
        cache.go_live();
        cache.insert(cache.epoch(), "ann", Some("j"), revoked_at(5));
        assert_eq!(cache.get("ann", Some("j")), Some(revoked_at(5)));
        assert_eq!(cache.get("ann", None), Some(revoked_at(5)));
        assert_eq!(cache.get("ann", Some("other")), None, "jti not cached");
        cache.go_dark();
        assert_eq!(cache.get("ann", Some("j")), None);
        cache.go_live();
        assert_eq!(
            cache.get("ann", Some("j")),
            None,
            "dropped with the channel"
        );
    }

    #[test]
    fn invalidations_drop_entries_and_stale_reads_are_not_kept() {
        let cache = NearCache::new();
        cache.go_live();
        let fresh = RevocationState::default();
        cache.insert(cache.epoch(), "ann", Some("j"), fresh);
        cache.invalidate(&Invalidation::Token {
            subject: "ann".into(),
            jti: "j".into(),
        });
        assert_eq!(cache.get("ann", Some("j")), None);
        cache.insert(cache.epoch(), "ann", Some("j"), fresh);
        cache.invalidate(&Invalidation::Subject {
            subject: "ann".into(),
        });
        assert_eq!(cache.get("ann", Some("j")), None);
        // A read that started before an invalidation is not kept.
        let before = cache.epoch();
        cache.invalidate(&Invalidation::Subject {
            subject: "bob".into(),
        });
        cache.insert(before, "ann", Some("j"), fresh);
        assert_eq!(cache.get("ann", Some("j")), None);
    }

    #[test]
    fn messages_survive_a_round_trip_and_odd_subjects() {
        for message in [
            Invalidation::Token {
                subject: "a b}{:x".into(),
                jti: "j 1".into(),
            },
            Invalidation::Subject {
                subject: "7".into(),
            },
        ] {
            assert_eq!(Invalidation::decode(&message.encode()), Some(message));
        }
        assert_eq!(Invalidation::decode("x y"), None);
        assert_eq!(Invalidation::decode("t onlyone"), None);
        assert_eq!(Invalidation::decode("s !!!"), None);
    }
}
