//! The store of the `redis_url` setting: a [`RedisStore`] made from the settings at ignition, and
//! the one log line that says whether it answers.

use std::sync::Arc;

use super::{RedisOptions, RedisStore, RevocationStore};
use crate::settings::{Settings, SettingsError};

/// The Redis store `redis_url` names, with its URL as logs show it (without its password).
pub(crate) struct UrlStore {
    url: String,
    store: Arc<RedisStore>,
}

impl UrlStore {
    /// The store of `settings.redis_url`, `None` when it is unset. Nothing is sent yet.
    pub(crate) fn from_settings(settings: &Settings) -> Result<Option<UrlStore>, SettingsError> {
        let Some(url) = &settings.redis_url else {
            return Ok(None);
        };
        let store = RedisStore::connect_with(
            url.expose(),
            &settings.redis_key_prefix,
            settings.revocation_timeout,
            &RedisOptions::from_settings(settings),
        )
        .map_err(|error| SettingsError::Invalid {
            setting: "redis_url",
            reason: error.to_string(),
        })?;
        Ok(Some(UrlStore {
            url: redacted_url(url.expose()),
            store: Arc::new(store),
        }))
    }

    /// The store, for the revocation check and the revoker.
    pub(crate) fn store(&self) -> Arc<dyn RevocationStore> {
        Arc::clone(&self.store) as Arc<dyn RevocationStore>
    }

    /// Whether the server answers, in one log line that says what it means for requests
    /// (`fail_open`: `revocation_fail_open`).
    pub(crate) async fn log_reachability(&self, fail_open: bool) {
        let url = &self.url;
        let started = std::time::Instant::now();
        match self.store.ping().await {
            Ok(()) => log::info!(
                "jwt: revocation store {url}: reachable (PING answered in {} ms)",
                started.elapsed().as_millis()
            ),
            Err(error) if fail_open => log::warn!(
                "jwt: revocation store {url}: UNREACHABLE ({error}); protected requests are \
                 accepted WITHOUT the revocation check (revocation_fail_open) until it answers"
            ),
            Err(error) => log::warn!(
                "jwt: revocation store {url}: UNREACHABLE ({error}); protected requests are \
                 answered 503 until it answers (the connection is retried on its own)"
            ),
        }
    }
}

/// `url` without its password, for logs: `redis://app:secret@host/` is
/// `redis://app:***@host/`.
fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            let user = if rest[..at].contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{scheme}://{user}@{}", &rest[at + 1..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_urls_never_show_a_password() {
        assert_eq!(
            redacted_url("rediss://app:secret@redis.internal:6380/0"),
            "rediss://app:***@redis.internal:6380/0"
        );
        assert_eq!(redacted_url("redis://secret@host/"), "redis://***@host/");
        assert_eq!(
            redacted_url("redis://127.0.0.1:6379/"),
            "redis://127.0.0.1:6379/"
        );
    }
}
