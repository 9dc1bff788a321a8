//! [`Revoker`]: revoking tokens from a handler (log out, log out everywhere) or from anywhere
//! holding the Rocket.

use crate::telemetry::{Audit, Event, Telemetry};
use std::sync::Arc;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::Request;
use serde_json::Value;

use super::{RevocationStore, Session, StoreError, FAMILY_CLAIM};
use crate::claims::{claim_text, now, Payload};
use crate::error::{ErrorKind, JwtError};
use crate::settings::Settings;

/// Revokes tokens in the configured store, for every instance sharing it.
///
/// Managed in Rocket's state when a store is configured (the `redis_url` setting, or
/// [`JwtBuilder::revocation_store`](crate::JwtBuilder::revocation_store)): take `&Revoker` as a
/// request guard (500 when no store is configured), or `rocket.state::<Revoker>()`.
///
/// ```
/// # use rocket::delete;
/// use rocket_flask_jwt_runtime::identity::get_jwt;
/// use rocket_flask_jwt_runtime::revocation::Revoker;
/// use rocket_flask_jwt_runtime::JwtResponse;
///
/// // Behind #[jwt_required(verify_type = false)] in an application:
/// #[delete("/logout")]
/// async fn logout(revoker: &Revoker) -> Result<&'static str, JwtResponse> {
///     revoker.revoke_token(&get_jwt()).await?;
///     Ok("Token revoked")
/// }
/// ```
#[derive(Clone)]
pub struct Revoker {
    store: Arc<dyn RevocationStore>,
    identity_claim: String,
    /// Seconds a token is still accepted after its `exp`.
    leeway: i64,
    /// Seconds the longest token this application issues is valid for, leeway included.
    longest_lifetime: i64,
    /// `refresh_token_rotation`: revoking a refresh token revokes its family.
    rotation: bool,
    /// The metrics' counters (logouts, subjects revoked), when `metrics` is on.
    telemetry: Option<Arc<Telemetry>>,
    /// The audit records (logouts, subjects revoked), when `audit_log` is on.
    audit: Option<Audit>,
}

impl Revoker {
    pub(crate) fn new(
        store: Arc<dyn RevocationStore>,
        settings: &Settings,
        telemetry: Option<Arc<Telemetry>>,
        audit: Option<Audit>,
    ) -> Self {
        let leeway = settings.leeway.as_secs() as i64;
        let longest = settings
            .expiration_delta
            .max(settings.refresh_token_expires)
            .max(settings.max_age.unwrap_or_default());
        Revoker {
            store,
            identity_claim: settings.identity_claim.clone(),
            leeway,
            longest_lifetime: longest.as_secs() as i64 + leeway,
            rotation: settings.refresh_token_rotation,
            telemetry,
            audit,
        }
    }

    fn count(&self, event: Event) {
        if let Some(telemetry) = &self.telemetry {
            telemetry.count(event);
        }
    }

    /// Revokes the token with these (verified) claims until it expires (`exp` plus the leeway;
    /// without `exp`, the longest token lifetime). It needs a `jti`: tokens without one (the
    /// Flask-JWT profile's) are revoked with [`revoke_subject`](Self::revoke_subject).
    ///
    /// With `refresh_token_rotation` on, revoking a refresh token revokes its session (the
    /// family, and the newest access token it issued).
    pub async fn revoke_token(&self, claims: &Payload) -> Result<(), JwtError> {
        let jti = claims.get("jti").map(claim_text).ok_or_else(|| {
            JwtError::internal("the token has no jti: revoke every token of its subject instead")
        })?;
        let owner = claims
            .get(&self.identity_claim)
            .map(claim_text)
            .unwrap_or_default();
        let until = match claims.get("exp").and_then(super::seconds) {
            Some(exp) => exp.saturating_add(self.leeway),
            None => now().saturating_add(self.longest_lifetime),
        };
        self.store
            .revoke_token(&owner, &jti, until)
            .await
            .map_err(failed)?;
        self.count(Event::Logout);
        if let Some(audit) = &self.audit {
            audit.logout((!owner.is_empty()).then_some(owner.as_ref()));
        }
        if self.rotation && claims.get("type").is_some_and(|kind| kind == "refresh") {
            let family = match claims.get(FAMILY_CLAIM) {
                Some(family) => claim_text(family),
                None => jti,
            };
            // The subject as text: `claim_text` of a string is the string itself.
            self.revoke_session(owner.into_owned(), &family).await?;
        }
        Ok(())
    }

    /// The live sessions (refresh-token families) of `identity`, oldest first; empty when the
    /// store keeps no families. Only sessions whose refresh token was issued with
    /// `refresh_token_rotation` on are kept: from their login when it used
    /// [`JwtManager::start_session`](crate::extended::JwtManager::start_session), else from
    /// their first refresh.
    pub async fn sessions(&self, identity: impl Into<Value>) -> Result<Vec<Session>, JwtError> {
        let Some(families) = self.store.families() else {
            return Ok(Vec::new());
        };
        families
            .sessions(&claim_text(&identity.into()), now())
            .await
            .map_err(failed)
    }

    /// Revokes one session of `identity` (its refresh tokens, and the newest access token it
    /// issued through a refresh), leaving the others alone. `false` when there is no such live
    /// session.
    pub async fn revoke_session(
        &self,
        identity: impl Into<Value>,
        session: &str,
    ) -> Result<bool, JwtError> {
        let Some(families) = self.store.families() else {
            return Ok(false);
        };
        let subject = claim_text(&identity.into()).into_owned();
        let revoked = families
            .revoke_family(&subject, session, now())
            .await
            .map_err(failed)?;
        let Some(access) = revoked else {
            return Ok(false);
        };
        if let Some(access) = access {
            self.store
                .revoke_token(&subject, &access.jti, access.until)
                .await
                .map_err(failed)?;
        }
        Ok(true)
    }

    /// Revokes every token of `identity` (the identity claim's value) issued until now, on
    /// every instance: "log out everywhere". Tokens issued in the same second are revoked too.
    pub async fn revoke_subject(&self, identity: impl Into<Value>) -> Result<(), JwtError> {
        let now = now();
        let subject = identity.into();
        let subject = claim_text(&subject);
        self.store
            .revoke_subject(&subject, now, now.saturating_add(self.longest_lifetime))
            .await
            .map_err(failed)?;
        self.count(Event::SubjectRevoked);
        if let Some(audit) = &self.audit {
            audit.subject_revoked(&subject);
        }
        Ok(())
    }

    /// The store revocations go to.
    pub fn store(&self) -> &Arc<dyn RevocationStore> {
        &self.store
    }
}

/// 503 for a revocation the store did not take.
fn failed(error: StoreError) -> JwtError {
    log::warn!("jwt: a revocation failed: {error}");
    JwtError::new(
        Status::ServiceUnavailable,
        ErrorKind::RevocationUnavailable,
        "Service Unavailable",
        "The token could not be revoked",
    )
    .with_detail(error.to_string())
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r Revoker {
    /// No revocation store is configured.
    type Error = JwtError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match request.rocket().state::<Revoker>() {
            Some(revoker) => Outcome::Success(revoker),
            None => {
                let error = JwtError::internal(
                    "no revocation store is configured (redis_url or revocation_store)",
                );
                log::error!("jwt: {error}");
                Outcome::Error((Status::InternalServerError, error))
            }
        }
    }
}
