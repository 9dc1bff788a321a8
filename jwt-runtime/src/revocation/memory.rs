//! [`MemoryStore`]: revoked tokens and refresh-token families in this process only, for tests
//! and single instances.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::families::{oldest_first, FamilyRecord, FamilyStart, IssuedAccess, RefreshFamilies};
use super::{RevocationState, RevocationStore, StoreError};
use super::{Rotation, RotationAttempt, Session};
use crate::claims::now;

/// Revoked tokens and subjects in memory. Every answer is known without waiting, so the check
/// never leaves the request's fast path. Expired entries are dropped as revocations come in.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// `(subject, jti)` to the time the entry is dropped.
    tokens: HashMap<(String, String), i64>,
    /// Subject to `(revoked at, dropped at)`.
    subjects: HashMap<String, (i64, i64)>,
    /// `(subject, family)` to the family's record.
    families: HashMap<(String, String), FamilyRecord>,
    /// Entries at which expired ones are dropped next.
    purge_at: usize,
}

/// Fewest entries before expired ones are looked for.
const FIRST_PURGE: usize = 1024;

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves the maps consistent (each change is one insert).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many revocations (tokens and subjects) are kept.
    pub fn len(&self) -> usize {
        let entries = self.entries();
        entries.tokens.len() + entries.subjects.len() + entries.families.len()
    }

    /// Whether no revocation is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Entries {
    fn lookup(&self, subject: &str, jti: Option<&str>, now: i64) -> RevocationState {
        let token_revoked = jti.is_some_and(|jti| {
            self.tokens
                .get(&(subject.to_owned(), jti.to_owned()))
                .is_some_and(|&until| until > now)
        });
        let subject_revoked_at = self
            .subjects
            .get(subject)
            .filter(|&&(_, until)| until > now)
            .map(|&(at, _)| at);
        RevocationState {
            token_revoked,
            subject_revoked_at,
        }
    }

    /// Drops expired entries once the store doubled since the last time.
    fn purge(&mut self, now: i64) {
        let kept = || self.tokens.len() + self.subjects.len() + self.families.len();
        if kept() < self.purge_at.max(FIRST_PURGE) {
            return;
        }
        self.tokens.retain(|_, until| *until > now);
        self.subjects.retain(|_, (_, until)| *until > now);
        self.families.retain(|_, family| family.until > now);
        self.purge_at = 2 * (self.tokens.len() + self.subjects.len() + self.families.len());
    }
}

#[rocket::async_trait]
impl RevocationStore for MemoryStore {
    async fn state(&self, subject: &str, jti: Option<&str>) -> Result<RevocationState, StoreError> {
        Ok(self.entries().lookup(subject, jti, now()))
    }

    fn state_now(&self, subject: &str, jti: Option<&str>) -> Option<RevocationState> {
        Some(self.entries().lookup(subject, jti, now()))
    }

    async fn revoke_token(&self, subject: &str, jti: &str, until: i64) -> Result<(), StoreError> {
        let mut entries = self.entries();
        entries.purge(now());
        let kept = entries
            .tokens
            .entry((subject.to_owned(), jti.to_owned()))
            .or_insert(until);
        *kept = (*kept).max(until);
        Ok(())
    }

    async fn revoke_subject(&self, subject: &str, at: i64, until: i64) -> Result<(), StoreError> {
        let mut entries = self.entries();
        entries.purge(now());
        let kept = entries
            .subjects
            .entry(subject.to_owned())
            .or_insert((at, until));
        *kept = (kept.0.max(at), kept.1.max(until));
        Ok(())
    }

    fn families(&self) -> Option<&dyn RefreshFamilies> {
        Some(self)
    }
}

#[rocket::async_trait]
impl RefreshFamilies for MemoryStore {
    async fn start(&self, start: &FamilyStart<'_>) -> Result<(), StoreError> {
        let mut entries = self.entries();
        entries.purge(start.now);
        entries.families.insert(
            (start.subject.to_owned(), start.family.to_owned()),
            FamilyRecord::started(start),
        );
        Ok(())
    }

    async fn rotate(&self, attempt: &RotationAttempt<'_>) -> Result<Rotation, StoreError> {
        let mut entries = self.entries();
        entries.purge(attempt.now);
        let key = (attempt.subject.to_owned(), attempt.family.to_owned());
        let mut record = entries.families.remove(&key);
        let rotation = FamilyRecord::rotate(&mut record, attempt);
        if let Some(record) = record {
            entries.families.insert(key, record);
        }
        Ok(rotation)
    }

    async fn sessions(&self, subject: &str, now: i64) -> Result<Vec<Session>, StoreError> {
        let entries = self.entries();
        let sessions = entries
            .families
            .iter()
            .filter(|((owner, _), _)| owner == subject)
            .filter_map(|((_, family), record)| record.session(family, now))
            .collect();
        Ok(oldest_first(sessions))
    }

    async fn revoke_family(
        &self,
        subject: &str,
        family: &str,
        now: i64,
    ) -> Result<Option<Option<IssuedAccess>>, StoreError> {
        let mut entries = self.entries();
        let record = entries
            .families
            .get_mut(&(subject.to_owned(), family.to_owned()))
            .filter(|record| !record.revoked && record.until > now);
        Ok(record.map(FamilyRecord::revoke))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn expired_entries_are_forgotten_and_purged() {
        let store = MemoryStore::new();
        let now = now();
        store.revoke_token("ann", "old", now - 1).await.unwrap();
        assert!(!store.state("ann", Some("old")).await.unwrap().token_revoked);
        for index in 0..FIRST_PURGE {
            store
                .revoke_token("bob", &index.to_string(), now + 60)
                .await
                .unwrap();
        }
        store.revoke_token("bob", "last", now + 60).await.unwrap();
        assert_eq!(
            store.len(),
            FIRST_PURGE + 1,
            "the expired entry was dropped"
        );
    }
}
