//! [`ProofReplay`] on Redis: one `SET <prefix>dpop:<key> 1 NX PX <lifetime>` per proof, so a
//! proof accepted by one instance is refused by every other sharing the store.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::redis::RedisStore;
use super::replay::ProofReplay;
use super::StoreError;

#[rocket::async_trait]
impl ProofReplay for RedisStore {
    async fn first_use(&self, key: &[u8; 32], lifetime: Duration) -> Result<bool, StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(self.prefixed(&format!("dpop:{}", URL_SAFE_NO_PAD.encode(key))))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(
                u64::try_from(lifetime.as_millis())
                    .unwrap_or(u64::MAX)
                    .max(1),
            );
        let stored: Option<String> = self
            .run(|mut connection| async move { set.query_async(&mut connection).await })
            .await?;
        Ok(stored.is_some())
    }
}
