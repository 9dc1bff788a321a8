//! Refresh-token families, for rotation with reuse detection (the `refresh_token_rotation`
//! setting; RFC 9700 §4.14.2).
//!
//! Every refresh token descended from one login belongs to one family, named by the `fam` claim
//! (a login's refresh token, or one issued before rotation was switched on, names its own
//! family by its `jti`). A store that keeps families remembers, per family, its newest token
//! (`current`), the one before it (`previous`) and until when that one may be presented again
//! (the grace period), and whether the family was revoked. A refresh presents a token and the
//! successor that would replace it; [`FamilyRecord::rotate`] decides, and a store applies the
//! decision in one atomic step (the memory store under its lock, Redis in one script):
//!
//! - the family's newest token: the successor becomes the newest ([`Rotation::Rotated`]);
//! - the one before it, within the grace period: the same successor as before
//!   ([`Rotation::Repeated`]), for clients that refreshed twice at once;
//! - any other token of the family: reuse. The family is revoked, and the newest access token
//!   it issued is handed back to be revoked too ([`Rotation::Reused`]);
//! - a revoked or unknown family: refused ([`Rotation::Refused`]).
//!
//! A family is kept until its newest refresh token expires (its `exp` plus the leeway), so that
//! the store stays bounded; a revoked family is kept as long, so that none of its tokens can
//! start it again.

use super::StoreError;

/// The claim that names a refresh token's family.
pub const FAMILY_CLAIM: &str = "fam";

/// A refresh token presented for rotation, and the successor that replaces it.
#[derive(Debug, Clone, Copy)]
pub struct RotationAttempt<'a> {
    /// The token's subject (the identity claim, as revocation keys read it).
    pub subject: &'a str,
    /// The family (`fam`, else the token's own `jti`).
    pub family: &'a str,
    /// The presented token's `jti`.
    pub presented: &'a str,
    /// Whether the presented token starts its family (a login's token): an unknown family is
    /// then started, not refused.
    pub root: bool,
    /// The successor's `jti`.
    pub successor_jti: &'a str,
    /// The successor, as sent to the client; kept for the grace period only (empty when there
    /// is none), so that a repeated presentation gets the same one.
    pub successor: &'a str,
    /// The access token issued beside the successor, revoked with the family on reuse.
    pub access: Option<AccessToken<'a>>,
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// Until when the presented token may be presented again (`now` plus the grace period).
    pub grace_until: i64,
    /// When the successor expires (its `exp` plus the leeway): the family is kept until then.
    pub until: i64,
    /// When a family started by this attempt started (the presented token's `iat`).
    pub created: i64,
    /// The client's `User-Agent`, when recorded (`refresh_token_record_user_agent`).
    pub user_agent: Option<&'a str>,
}

/// A new family, for a login's refresh token (`JwtManager::start_session`).
#[derive(Debug, Clone, Copy)]
pub struct FamilyStart<'a> {
    /// The token's subject.
    pub subject: &'a str,
    /// The family: the token's `jti`.
    pub family: &'a str,
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// When the token expires (its `exp` plus the leeway).
    pub until: i64,
    /// The client's `User-Agent`, when recorded.
    pub user_agent: Option<&'a str>,
}

/// An access token to revoke with its family: its `jti` and until when it is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessToken<'a> {
    /// The token's `jti`.
    pub jti: &'a str,
    /// Its `exp` plus the leeway.
    pub until: i64,
}

/// An [`AccessToken`] the store hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedAccess {
    /// The token's `jti`.
    pub jti: String,
    /// Its `exp` plus the leeway.
    pub until: i64,
}

/// What a rotation attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The presented token was the family's newest; the successor now is.
    Rotated,
    /// The presented token was rotated within the grace period: this is the successor it got.
    Repeated {
        /// The successor issued then.
        successor: String,
    },
    /// The presented token was rotated before (and not within the grace period): the family is
    /// revoked now.
    Reused {
        /// The newest access token the family issued, to revoke as well.
        access: Option<IssuedAccess>,
    },
    /// The family was revoked before, or is unknown (expired, or never started).
    Refused,
}

/// A detected reuse, as the `on_refresh_token_reuse` callback sees it (for alerting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenReuse {
    /// The token's subject (the identity claim, as text).
    pub subject: String,
    /// The family, now revoked.
    pub family: String,
    /// The `jti` of the token presented again.
    pub jti: String,
}

/// The `on_refresh_token_reuse` callback.
pub(crate) type ReuseFn = dyn Fn(&RefreshTokenReuse) + Send + Sync;

/// One live family: a session a user can see.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Session {
    /// The family (`fam`), which names the session for [`RefreshFamilies::revoke_family`].
    pub id: String,
    /// When it started (the login's `iat`), seconds since the epoch.
    pub created: i64,
    /// When its refresh token was last rotated, if ever.
    pub refreshed: Option<i64>,
    /// When it ends unless refreshed again (its newest refresh token's expiry).
    pub expires: i64,
    /// The `User-Agent` of its last login or refresh, when recorded.
    pub user_agent: Option<String>,
}

/// Where refresh-token families are kept: [`MemoryStore`](super::MemoryStore),
/// [`RedisStore`](super::RedisStore), or the application's own store, through
/// [`RevocationStore::families`](super::RevocationStore::families).
#[rocket::async_trait]
pub trait RefreshFamilies: Send + Sync {
    /// Starts `start`'s family, its token the newest.
    async fn start(&self, start: &FamilyStart<'_>) -> Result<(), StoreError>;

    /// Decides `attempt` as [`FamilyRecord::rotate`] does, in one atomic step: two instances
    /// presenting the same token at once get one successor between them.
    async fn rotate(&self, attempt: &RotationAttempt<'_>) -> Result<Rotation, StoreError>;

    /// `subject`'s live families, oldest first.
    async fn sessions(&self, subject: &str, now: i64) -> Result<Vec<Session>, StoreError>;

    /// Revokes `subject`'s family `family`: `None` when there is no such live family, else the
    /// newest access token it issued (to revoke as well), if known.
    async fn revoke_family(
        &self,
        subject: &str,
        family: &str,
        now: i64,
    ) -> Result<Option<Option<IssuedAccess>>, StoreError>;
}

/// `sessions` oldest first (ties by id), as [`RefreshFamilies::sessions`] answers them.
pub(crate) fn oldest_first(mut sessions: Vec<Session>) -> Vec<Session> {
    sessions.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    sessions
}

/// One family as a store keeps it; the rules of rotation, written once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRecord {
    /// The newest refresh token's `jti`.
    pub current: String,
    /// The `jti` of the token it replaced, if any.
    pub previous: Option<String>,
    /// Until when `previous` may be presented again.
    pub grace_until: i64,
    /// The successor `previous` got, while it may be presented again.
    pub successor: Option<String>,
    /// The newest access token the family issued.
    pub access: Option<IssuedAccess>,
    /// When the family started.
    pub created: i64,
    /// When it was last rotated.
    pub refreshed: Option<i64>,
    /// The `User-Agent` last recorded.
    pub user_agent: Option<String>,
    /// Whether the family was revoked.
    pub revoked: bool,
    /// Until when the record is kept.
    pub until: i64,
}

impl FamilyRecord {
    /// A family started by a login.
    pub fn started(start: &FamilyStart<'_>) -> Self {
        FamilyRecord {
            current: start.family.to_owned(),
            previous: None,
            grace_until: 0,
            successor: None,
            access: None,
            created: start.now,
            refreshed: None,
            user_agent: start.user_agent.map(str::to_owned),
            revoked: false,
            until: start.until,
        }
    }

    /// Decides `attempt` against `record` (`None`: the family is unknown, or expired), updating
    /// it: the rules every store follows.
    pub fn rotate(record: &mut Option<FamilyRecord>, attempt: &RotationAttempt<'_>) -> Rotation {
        if record
            .as_ref()
            .is_some_and(|kept| kept.until <= attempt.now)
        {
            *record = None;
        }
        let Some(kept) = record else {
            if !attempt.root {
                return Rotation::Refused;
            }
            let mut started = FamilyRecord::started(&FamilyStart {
                subject: attempt.subject,
                family: attempt.family,
                now: attempt.created,
                until: attempt.until,
                user_agent: None,
            });
            started.advance(attempt);
            *record = Some(started);
            return Rotation::Rotated;
        };
        if kept.revoked {
            return Rotation::Refused;
        }
        if kept.current == attempt.presented {
            kept.advance(attempt);
            return Rotation::Rotated;
        }
        if kept.previous.as_deref() == Some(attempt.presented)
            && attempt.now <= kept.grace_until
            && let Some(successor) = &kept.successor
        {
            return Rotation::Repeated {
                successor: successor.clone(),
            };
        }
        kept.revoked = true;
        kept.successor = None;
        Rotation::Reused {
            access: kept.access.take(),
        }
    }

    /// The successor of `attempt` becomes the newest token.
    fn advance(&mut self, attempt: &RotationAttempt<'_>) {
        self.previous = Some(attempt.presented.to_owned());
        self.current = attempt.successor_jti.to_owned();
        self.grace_until = attempt.grace_until;
        self.successor = (!attempt.successor.is_empty() && attempt.grace_until > attempt.now)
            .then(|| attempt.successor.to_owned());
        self.access = attempt.access.map(|access| IssuedAccess {
            jti: access.jti.to_owned(),
            until: access.until,
        });
        self.refreshed = Some(attempt.now);
        if let Some(agent) = attempt.user_agent {
            self.user_agent = Some(agent.to_owned());
        }
        self.until = self.until.max(attempt.until);
    }

    /// The session this family shows, named `id`; `None` once revoked or expired.
    pub fn session(&self, id: &str, now: i64) -> Option<Session> {
        (!self.revoked && self.until > now).then(|| Session {
            id: id.to_owned(),
            created: self.created,
            refreshed: self.refreshed,
            expires: self.until,
            user_agent: self.user_agent.clone(),
        })
    }

    /// Revokes the family: the newest access token it issued, to revoke as well.
    pub fn revoke(&mut self) -> Option<IssuedAccess> {
        self.revoked = true;
        self.successor = None;
        self.access.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt<'a>(presented: &'a str, successor: &'a str, now: i64) -> RotationAttempt<'a> {
        RotationAttempt {
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
            now,
            grace_until: now + 10,
            until: now + 1000,
            created: 50,
            user_agent: None,
        }
    }

    #[test]
    fn a_family_rotates_repeats_within_the_grace_and_dies_on_reuse() {
        let mut record = None;
        assert_eq!(
            FamilyRecord::rotate(&mut record, &attempt("r1", "r2", 100)),
            Rotation::Refused,
            "an unknown family is not started by a token that is not its first"
        );
        assert_eq!(
            FamilyRecord::rotate(&mut record, &attempt("r0", "r1", 100)),
            Rotation::Rotated
        );
        assert_eq!(record.as_ref().map(|r| r.created), Some(50));
        assert_eq!(
            FamilyRecord::rotate(&mut record, &attempt("r1", "r2", 101)),
            Rotation::Rotated
        );
        assert_eq!(
            FamilyRecord::rotate(&mut record, &attempt("r1", "r9", 105)),
            Rotation::Repeated {
                successor: "r2".into()
            },
            "the previous token within the grace gets the same successor"
        );
        assert_eq!(
            FamilyRecord::rotate(&mut record, &attempt("r0", "r9", 105)),
            Rotation::Reused {
                access: Some(IssuedAccess {
                    jti: "a".into(),
                    until: 1001
                })
            },
            "an older token is reuse, grace or not"
        );
        assert_eq!(
            FamilyRecord::rotate(&mut record, &attempt("r2", "r3", 106)),
            Rotation::Refused,
            "the newest token of a revoked family is refused"
        );
        assert_eq!(
            FamilyRecord::rotate(&mut record, &attempt("r0", "r3", 106)),
            Rotation::Refused,
            "the root cannot start a revoked family again"
        );
    }

    #[test]
    fn the_previous_token_after_the_grace_is_reuse() {
        let mut record = None;
        FamilyRecord::rotate(&mut record, &attempt("r0", "r1", 100));
        assert!(matches!(
            FamilyRecord::rotate(&mut record, &attempt("r0", "r9", 111)),
            Rotation::Reused { .. }
        ));
        let mut without_grace = None;
        let mut first = attempt("r0", "r1", 100);
        first.grace_until = 100;
        FamilyRecord::rotate(&mut without_grace, &first);
        assert!(matches!(
            FamilyRecord::rotate(&mut without_grace, &attempt("r0", "r9", 100)),
            Rotation::Reused { .. }
        ));
    }

    #[test]
    fn an_expired_family_is_forgotten_and_its_sessions_shown_until_then() {
        let mut record = None;
        FamilyRecord::rotate(&mut record, &attempt("r0", "r1", 100));
        let kept = record.clone().expect("started");
        assert_eq!(
            kept.session("r0", 200),
            Some(Session {
                id: "r0".into(),
                created: 50,
                refreshed: Some(100),
                expires: 1100,
                user_agent: None
            })
        );
        assert_eq!(kept.session("r0", 1100), None);
        assert_eq!(
            FamilyRecord::rotate(&mut record, &attempt("r1", "r2", 1100)),
            Rotation::Refused
        );
        assert_eq!(record, None);
    }
}
