//! Refresh-token rotation on a refresh route (the `refresh_token_rotation` setting): the
//! successor is issued and the family's state changed in one atomic store operation, after the
//! token passed every other check and before the handler runs. The handler then finds the
//! successor ([`JwtManager::rotated_refresh_token`](crate::extended::JwtManager::rotated_refresh_token));
//! a token that came in a cookie gets its successor in the refresh cookies without the
//! handler's help (written by the guard, [`crate::http::cookies::write_rotated`]).
//!
//! The rules of a family are in [`crate::revocation::FamilyRecord`]. A store that cannot answer
//! within `revocation_timeout` fails the refresh closed (503) whatever `revocation_fail_open`
//! says: a successor is issued only once the store took it.

use crate::telemetry::{Audit, Event, Telemetry};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rocket::http::Status;
use rocket::Request;
use serde_json::{json, Value};

use crate::authz::rules::Location;
use crate::claims::{claim_text, now, Payload};
use crate::error::{ErrorKind, JwtError};
use crate::http::finish::Rotated;
use crate::http::issue::{self, Freshness, TokenRequest, TokenType};
use crate::revocation::{
    self, AccessToken, FamilyStart, RefreshFamilies, RefreshTokenReuse, ReuseFn, RevocationStore,
    Rotation, RotationAttempt, FAMILY_CLAIM,
};
use crate::settings::Settings;
use crate::token::verified::VerifiedToken;

/// The rotation of an engine: the store's families and the settings that shape them.
pub(crate) struct Rotator {
    store: Arc<dyn RevocationStore>,
    grace: i64,
    revokes_access: bool,
    record_user_agent: bool,
    timeout: Duration,
    leeway: i64,
    access_lifetime: i64,
    refresh_lifetime: i64,
    identity_claim: String,
    on_reuse: Option<Arc<ReuseFn>>,
    /// The metrics' counters (reuse detected), when `metrics` is on.
    telemetry: Option<Arc<Telemetry>>,
    /// The audit records (reuse detected), when `audit_log` is on.
    audit: Option<Audit>,
}

impl Rotator {
    /// The rotation of `settings` on `store`, or why it cannot be: the store keeps no families.
    pub(crate) fn new(
        store: Arc<dyn RevocationStore>,
        settings: &Settings,
        on_reuse: Option<Arc<ReuseFn>>,
        telemetry: Option<Arc<Telemetry>>,
        audit: Option<Audit>,
    ) -> Result<Rotator, String> {
        if store.families().is_none() {
            return Err(
                "refresh_token_rotation: the revocation store keeps no refresh-token \
                        families (RevocationStore::families)"
                    .into(),
            );
        }
        let seconds = |duration: Duration| duration.as_secs() as i64;
        Ok(Rotator {
            store,
            grace: seconds(settings.refresh_token_reuse_grace),
            revokes_access: settings.refresh_token_reuse_revokes_access,
            record_user_agent: settings.refresh_token_record_user_agent,
            timeout: settings.revocation_timeout,
            leeway: seconds(settings.leeway),
            access_lifetime: seconds(settings.expiration_delta),
            refresh_lifetime: seconds(settings.refresh_token_expires),
            identity_claim: settings.identity_claim.clone(),
            on_reuse,
            telemetry,
            audit,
        })
    }

    /// The store's families (checked when the rotator was made: never an error in practice).
    fn families(&self) -> Result<&dyn RefreshFamilies, JwtError> {
        self.store
            .families()
            .ok_or_else(|| JwtError::internal("the revocation store keeps no families"))
    }

    /// Rotates `token` (a verified refresh token) for `request`: the successor is issued with
    /// `create`, the family's state changed, and the outcome left in the request for the
    /// handler. A reuse, or a token of a revoked or unknown family, is 401.
    pub(crate) async fn rotate(
        &self,
        request: &Request<'_>,
        token: &VerifiedToken,
        create: impl Fn(TokenRequest) -> Result<String, JwtError>,
    ) -> Result<(), JwtError> {
        if crate::http::finish::of(request).rotated.get().is_some() {
            // A second guard of the same request: the token was rotated by the first (presenting
            // it again would be a reuse).
            return Ok(());
        }
        let claims = &token.claims;
        let subject = claims
            .get(&self.identity_claim)
            .map(claim_text)
            .unwrap_or_default();
        let Some(jti) = claims.get("jti").map(claim_text) else {
            return Err(refused(
                token,
                "a refresh token without a jti cannot be rotated",
            ));
        };
        let family = match claims.get(FAMILY_CLAIM) {
            Some(Value::String(family)) => family.as_str(),
            Some(_) => return Err(refused(token, "its family claim is not a string")),
            None => &*jti,
        };
        let now = now();
        let identity = token.identity().cloned().unwrap_or(Value::Null);
        let successor_jti = issue::uuid4()?;
        let mut successor = TokenRequest::new(identity, TokenType::Refresh, Freshness::NotFresh);
        successor.claims = Payload::from_iter([
            ("jti".to_owned(), json!(successor_jti)),
            (FAMILY_CLAIM.to_owned(), json!(family)),
        ]);
        // A DPoP-bound family stays bound to its key.
        if let Some(confirmation) = claims.get("cnf") {
            successor.claims.insert("cnf".into(), confirmation.clone());
        }
        let successor = create(successor)?;
        let access_jti = issue::uuid4()?;
        let user_agent = self.user_agent(request);
        let attempt = RotationAttempt {
            subject: &subject,
            family,
            presented: &jti,
            root: family == jti,
            successor_jti: &successor_jti,
            successor: if self.grace > 0 { &successor } else { "" },
            access: Some(AccessToken {
                jti: &access_jti,
                until: now
                    .saturating_add(self.access_lifetime.max(1))
                    .saturating_add(self.leeway),
            }),
            now,
            grace_until: now + self.grace,
            until: now
                .saturating_add(self.refresh_lifetime)
                .saturating_add(self.leeway),
            created: claims
                .get("iat")
                .and_then(revocation::seconds)
                .unwrap_or(now),
            user_agent,
        };
        let rotated = match self.within(self.families()?.rotate(&attempt)).await? {
            Rotation::Rotated => Rotated {
                refresh_token: successor,
                access_jti: Mutex::new(Some(access_jti)),
                in_cookie: token.location == Location::Cookies,
                cookies_written: Default::default(),
            },
            Rotation::Repeated { successor } => Rotated {
                refresh_token: successor,
                access_jti: Mutex::new(None),
                in_cookie: token.location == Location::Cookies,
                cookies_written: Default::default(),
            },
            Rotation::Reused { access } => {
                log::warn!(
                    "jwt: refresh token reuse: token {jti} of family {family} (subject \
                     {subject:?}) was presented again; the family is revoked"
                );
                if let Some(telemetry) = &self.telemetry {
                    telemetry.count(Event::RefreshTokenReuse);
                }
                if let Some(audit) = &self.audit {
                    let subject = (!subject.is_empty()).then_some(subject.as_ref());
                    audit.refresh_token_reuse(request, subject);
                }
                if let Some(on_reuse) = &self.on_reuse {
                    on_reuse(&RefreshTokenReuse {
                        subject: subject.clone().into_owned(),
                        family: family.to_owned(),
                        jti: jti.clone().into_owned(),
                    });
                }
                if let Some(access) = access.filter(|_| self.revokes_access) {
                    self.revoke_access(&subject, &access.jti, access.until)
                        .await;
                }
                return Err(refused(
                    token,
                    "refresh token reuse: the token was already rotated, so its family is revoked",
                ));
            }
            Rotation::Refused => {
                return Err(refused(token, "its family is revoked, or unknown"));
            }
        };
        // Set once per request (see above). The refresh cookies are written by the guard
        // (`cookies::write_rotated`).
        let _ = crate::http::finish::of(request).rotated.set(rotated);
        Ok(())
    }

    /// Starts the family of `refresh_token` (just issued, with the claims `claims`), so that
    /// the session is listed from its login on.
    pub(crate) async fn start(
        &self,
        request: &Request<'_>,
        claims: &Payload,
    ) -> Result<(), JwtError> {
        let subject = claims
            .get(&self.identity_claim)
            .map(claim_text)
            .unwrap_or_default();
        let family = claims
            .get("jti")
            .and_then(Value::as_str)
            .ok_or_else(|| JwtError::internal("a refresh token without a jti"))?;
        let now = now();
        let until = claims
            .get("exp")
            .and_then(revocation::seconds)
            .unwrap_or(now + self.refresh_lifetime)
            .saturating_add(self.leeway);
        let start = FamilyStart {
            subject: &subject,
            family,
            now,
            until,
            user_agent: self.user_agent(request),
        };
        self.within(self.families()?.start(&start)).await
    }

    /// Revokes the access token `jti` of `subject`; a failure is logged (the family is revoked
    /// already, and the token expires soon).
    async fn revoke_access(&self, subject: &str, jti: &str, until: i64) {
        let revoked =
            tokio::time::timeout(self.timeout, self.store.revoke_token(subject, jti, until));
        match revoked.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                log::warn!("jwt: the reused family's access token {jti} was not revoked: {error}")
            }
            Err(_) => log::warn!(
                "jwt: the reused family's access token {jti} was not revoked: no answer within {:?}",
                self.timeout
            ),
        }
    }

    /// The request's `User-Agent`, when recorded (at most 256 bytes of it).
    fn user_agent<'r>(&self, request: &'r Request<'_>) -> Option<&'r str> {
        let agent = request
            .headers()
            .get_one("User-Agent")
            .filter(|_| self.record_user_agent)?;
        let mut end = agent.len().min(256);
        while !agent.is_char_boundary(end) {
            end -= 1;
        }
        Some(&agent[..end])
    }

    /// `operation` within `revocation_timeout`; 503 when the store does not answer.
    async fn within<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, revocation::StoreError>>,
    ) -> Result<T, JwtError> {
        let reason = match tokio::time::timeout(self.timeout, operation).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {:?}", self.timeout),
        };
        log::warn!("jwt: a refresh-token rotation failed: {reason}");
        Err(JwtError::new(
            Status::ServiceUnavailable,
            ErrorKind::RevocationUnavailable,
            "Service Unavailable",
            "The refresh token's family cannot be read",
        )
        .with_detail(reason))
    }
}

/// 401 for a refresh token its family refuses: the revoked-token answer, saying why.
fn refused(token: &VerifiedToken, why: &str) -> JwtError {
    revocation::revoked()
        .with_detail(why.to_owned())
        .with_parts(token.header(), token.payload())
}
