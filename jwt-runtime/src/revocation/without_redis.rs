//! The store of the `redis_url` setting without the `redis` feature: there is none, and the
//! setting is refused, naming the feature (at ignition, by the settings' feature check, before
//! this is reached).

use std::sync::Arc;

use super::RevocationStore;
use crate::settings::{Settings, SettingsError};

/// The Redis store `redis_url` would name; no value exists in this build.
pub(crate) enum UrlStore {}

impl UrlStore {
    /// `None` when `redis_url` is unset; otherwise the error naming the missing `redis` feature.
    pub(crate) fn from_settings(settings: &Settings) -> Result<Option<UrlStore>, SettingsError> {
        crate::settings::check_redis_feature(settings).map(|()| None)
    }

    /// The store.
    pub(crate) fn store(&self) -> Arc<dyn RevocationStore> {
        match *self {}
    }

    /// Whether the server answers.
    pub(crate) async fn log_reachability(&self, _fail_open: bool) {
        match *self {}
    }
}
