//! The callbacks an application plugs in, as stored by the builder.
//!
//! Each has Flask-JWT's name and role; where a callback is not given, the default of Flask-JWT
//! 0.3.2 applies (see the builder's methods for each default).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rocket::Request;
use serde::Serialize;
use serde_json::Value;

use crate::claims::Payload;
use crate::error::{Check, JwtError, JwtResponse};
use crate::revocation::{BlocklistFn, ReuseFn, RevocationStore};
use crate::settings::Settings;
use crate::token::claims::TokenClaims;
use crate::token::codec::TokenCodec;

/// A boxed, sendable future, as async callbacks return.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs `f` on Tokio's blocking threads (`spawn_blocking`), off the async workers, and awaits its
/// result: what the `_blocking` forms of the callbacks called where the library can await do, so
/// that a slow synchronous lookup (a blocking database driver) stalls its own request only.
///
/// A panic in `f` is resumed on the awaiting task, where it is answered as a panic of any other
/// callback: 500 `a callback failed`, for this request only.
pub(crate) async fn off_the_workers<T, F>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match rocket::tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only when the runtime shuts down before the callback started.
            Err(error) => {
                log::error!("jwt: a blocking callback did not run: {error}");
                std::panic::resume_unwind(Box::new(error.to_string()))
            }
        },
    }
}

/// Runs `f` where the library calls a callback synchronously and cannot await (token issuing):
/// on a multi-thread runtime, Rocket's, inside `block_in_place`, which hands the worker's other
/// tasks to another thread while `f` blocks; on a current-thread runtime or outside any runtime,
/// where no other thread could take them, directly.
pub(crate) fn in_place<T>(f: impl FnOnce() -> T) -> T {
    use rocket::tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            rocket::tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

type SyncAuthenticationFn<U> = Box<dyn Fn(&str, &str) -> Option<U> + Send + Sync>;
type AsyncAuthenticationFn<U> =
    Box<dyn Fn(String, String) -> BoxFuture<'static, Option<U>> + Send + Sync>;
type SyncIdentityFn<U> = Box<dyn Fn(&Payload) -> Option<U> + Send + Sync>;
type AsyncIdentityFn<U> = Box<dyn Fn(Payload) -> BoxFuture<'static, Option<U>> + Send + Sync>;
type SyncClaimFn<U> = Box<dyn Fn(&Value) -> Option<U> + Send + Sync>;
type AsyncClaimFn<U> = Box<dyn Fn(Value) -> BoxFuture<'static, Option<U>> + Send + Sync>;
pub(crate) type IdentityClaimFn<U> = fn(&U) -> Result<Value, JwtError>;

/// `authentication_handler`: `(username, password)` to an identity, sync or async.
pub(crate) enum Authentication<U> {
    Sync(SyncAuthenticationFn<U>),
    Async(AsyncAuthenticationFn<U>),
}

impl<U> Authentication<U> {
    pub(crate) async fn call(&self, username: &str, password: &str) -> Option<U> {
        match self {
            Authentication::Sync(f) => f(username, password),
            Authentication::Async(f) => f(username.to_owned(), password.to_owned()).await,
        }
    }
}

/// `identity_handler`: the token's payload (or just its identity claim) to an identity, sync or
/// async.
pub(crate) enum IdentityLookup<U> {
    Sync(SyncIdentityFn<U>),
    Async(AsyncIdentityFn<U>),
    SyncClaim(SyncClaimFn<U>),
    AsyncClaim(AsyncClaimFn<U>),
}

impl<U> IdentityLookup<U> {
    /// The identity for `payload`; `claim` names the identity claim, which the claim forms
    /// require (a token without it is not well-formed for this application).
    pub(crate) async fn call(
        &self,
        claims: &TokenClaims,
        claim: &str,
    ) -> Result<Option<U>, JwtError> {
        match self {
            IdentityLookup::AsyncClaim(f) => Ok(f(claim_value(claims, claim)?.clone()).await),
            IdentityLookup::Async(f) => Ok(f(claims.to_payload()).await),
            IdentityLookup::Sync(_) | IdentityLookup::SyncClaim(_) => self.call_now(claims, claim),
        }
    }

    /// Whether the callback answers without awaiting: [`call_now`](Self::call_now) answers.
    pub(crate) fn is_sync(&self) -> bool {
        matches!(self, IdentityLookup::Sync(_) | IdentityLookup::SyncClaim(_))
    }

    /// [`call`](Self::call) for a sync callback ([`is_sync`](Self::is_sync)); an async one is a
    /// mistake of the caller's, answered as an internal error.
    pub(crate) fn call_now(
        &self,
        claims: &TokenClaims,
        claim: &str,
    ) -> Result<Option<U>, JwtError> {
        match self {
            IdentityLookup::Sync(f) => Ok(f(claims.payload())),
            IdentityLookup::SyncClaim(f) => claim_value(claims, claim).map(f),
            IdentityLookup::Async(_) | IdentityLookup::AsyncClaim(_) => Err(JwtError::internal(
                "an async identity callback was called without awaiting it",
            )),
        }
    }
}

/// The identity claim's value, which the claim forms of the identity callback require.
fn claim_value<'c>(claims: &'c TokenClaims, claim: &str) -> Result<&'c Value, JwtError> {
    claims.get(claim).ok_or_else(|| {
        JwtError::invalid_token(
            Check::WellFormed,
            format!("Token is missing the \"{claim}\" claim"),
        )
    })
}

pub(crate) type PayloadFn<U> = Box<dyn Fn(&U, &Settings) -> Payload + Send + Sync>;
pub(crate) type HeadersFn<U> = Box<dyn Fn(&U, &Settings) -> Payload + Send + Sync>;
pub(crate) type EncodeFn<U> =
    Box<dyn Fn(&U, &TokenCodec) -> Result<String, JwtError> + Send + Sync>;
pub(crate) type DecodeFn =
    Box<dyn Fn(&str, &TokenCodec) -> Result<Payload, JwtError> + Send + Sync>;
pub(crate) type RequestFn =
    Box<dyn for<'r> Fn(&'r Request<'_>) -> Result<Option<String>, JwtError> + Send + Sync>;
pub(crate) type AuthResponseFn<U> = Box<dyn Fn(&str, &U) -> JwtResponse + Send + Sync>;
type SyncAuthRequestFn = Box<dyn Fn(&Value) -> Result<JwtResponse, JwtError> + Send + Sync>;
type AsyncAuthRequestFn =
    Box<dyn Fn(Value) -> BoxFuture<'static, Result<JwtResponse, JwtError>> + Send + Sync>;
pub(crate) type ErrorFn = Box<dyn Fn(&JwtError) -> JwtResponse + Send + Sync>;

type MessageFn = Box<dyn Fn(&str) -> JwtResponse + Send + Sync>;
type TokenAnswerFn = Box<dyn Fn(&Payload, &Payload) -> JwtResponse + Send + Sync>;
type SyncVerifyFn = Box<dyn Fn(&Payload, &Payload) -> bool + Send + Sync>;
type AsyncVerifyFn =
    Box<dyn Fn(Arc<Payload>, Arc<Payload>) -> BoxFuture<'static, bool> + Send + Sync>;
type ClaimsFn = Box<dyn Fn(&Value) -> Payload + Send + Sync>;

/// `auth_request_handler`: the JSON body to the auth resource's whole answer, sync or async.
pub(crate) enum AuthRequest {
    Sync(SyncAuthRequestFn),
    Async(AsyncAuthRequestFn),
}

impl AuthRequest {
    pub(crate) async fn call(&self, body: Value) -> Result<JwtResponse, JwtError> {
        match self {
            AuthRequest::Sync(f) => f(&body),
            AuthRequest::Async(f) => f(body).await,
        }
    }
}

/// `token_verification_loader`: `false` refuses a valid token; sync or async.
pub(crate) enum TokenVerification {
    Sync(SyncVerifyFn),
    Async(AsyncVerifyFn),
}

impl TokenVerification {
    /// Whether the token is accepted (a sync callback answers when first polled).
    pub(crate) async fn call(&self, header: Arc<Payload>, claims: Arc<Payload>) -> bool {
        match self {
            TokenVerification::Sync(f) => f(&header, &claims),
            TokenVerification::Async(f) => f(header, claims).await,
        }
    }
}

/// Flask-JWT-Extended's loaders: the callbacks of the extended profile that do not depend on
/// the identity type. `None` means Flask-JWT-Extended's default. Those given a token receive
/// its header and claims, in that order.
#[derive(Default)]
pub(crate) struct Loaders {
    /// `unauthorized_loader(msg)`: no token (401), or a CSRF failure.
    pub(crate) unauthorized: Option<MessageFn>,
    /// `invalid_token_loader(msg)`: a malformed, tampered or otherwise invalid token (422).
    pub(crate) invalid_token: Option<MessageFn>,
    /// `expired_token_loader(header, claims)`: 401 `Token has expired`.
    pub(crate) expired_token: Option<TokenAnswerFn>,
    /// `needs_fresh_token_loader(header, claims)`: 401 `Fresh token required`.
    pub(crate) needs_fresh_token: Option<TokenAnswerFn>,
    /// `user_lookup_error_loader(header, claims)`: 401 `Error loading the user <sub>`.
    pub(crate) user_lookup_error: Option<TokenAnswerFn>,
    /// `token_verification_failed_loader(header, claims)`: 400 `User claims verification failed`.
    pub(crate) token_verification_failed: Option<TokenAnswerFn>,
    /// `token_verification_loader(header, claims)`: `false` refuses a valid token.
    pub(crate) token_verification: Option<TokenVerification>,
    /// `additional_claims_loader(identity)`: claims added to issued tokens.
    pub(crate) additional_claims: Option<ClaimsFn>,
    /// `additional_headers_loader(identity)`: header fields added to issued tokens.
    pub(crate) additional_headers: Option<ClaimsFn>,
    /// `token_in_blocklist_loader(header, claims)`: `true` refuses a valid token as revoked.
    pub(crate) token_in_blocklist: Option<Arc<BlocklistFn>>,
    /// `revoked_token_loader(header, claims)`: 401 `Token has been revoked`.
    pub(crate) revoked_token: Option<TokenAnswerFn>,
}

/// Every callback of a [`Jwt`](crate::Jwt); `None` means Flask-JWT's default.
pub(crate) struct Callbacks<U> {
    pub(crate) authentication: Option<Authentication<U>>,
    pub(crate) identity: Option<IdentityLookup<U>>,
    /// How the default payload handler reads `identity.id`; set with the authentication handler.
    pub(crate) identity_claim: Option<IdentityClaimFn<U>>,
    pub(crate) payload: Option<PayloadFn<U>>,
    pub(crate) headers: Option<HeadersFn<U>>,
    pub(crate) encode: Option<EncodeFn<U>>,
    pub(crate) decode: Option<DecodeFn>,
    pub(crate) request: Option<RequestFn>,
    pub(crate) auth_response: Option<AuthResponseFn<U>>,
    pub(crate) auth_request: Option<AuthRequest>,
    pub(crate) error: Option<ErrorFn>,
    pub(crate) loaders: Loaders,
    /// Where revoked tokens are kept, when the application gives the store.
    pub(crate) revocation_store: Option<Arc<dyn RevocationStore>>,
    /// Told of every refresh-token reuse (`refresh_token_rotation`).
    pub(crate) refresh_token_reuse: Option<Arc<ReuseFn>>,
}

impl<U> Callbacks<U> {
    /// Whether these callbacks read the whole payload of every verified token: the identity
    /// callback's payload forms, the token verification and blocklist callbacks.
    pub(crate) fn read_every_payload(&self) -> bool {
        matches!(
            self.identity,
            Some(IdentityLookup::Sync(_) | IdentityLookup::Async(_))
        ) || self.loaders.token_verification.is_some()
            || self.loaders.token_in_blocklist.is_some()
    }
}

impl<U> Default for Callbacks<U> {
    fn default() -> Self {
        Callbacks {
            authentication: None,
            identity: None,
            identity_claim: None,
            payload: None,
            headers: None,
            encode: None,
            decode: None,
            request: None,
            auth_response: None,
            auth_request: None,
            error: None,
            loaders: Loaders::default(),
            revocation_store: None,
            refresh_token_reuse: None,
        }
    }
}

impl<U: 'static> Callbacks<U> {
    /// These callbacks for the identity type `V`. Those that involve the identity were given for
    /// `U`: they are kept when `V` is `U`, and otherwise dropped, the first one's name returned.
    pub(crate) fn for_identity<V: 'static>(self) -> (Callbacks<V>, Option<&'static str>) {
        let Callbacks {
            authentication,
            identity,
            identity_claim,
            payload,
            headers,
            encode,
            decode,
            request,
            auth_response,
            auth_request,
            error,
            loaders,
            revocation_store,
            refresh_token_reuse,
        } = self;
        let given = [
            ("authentication_handler", authentication.is_some()),
            ("identity_handler", identity.is_some()),
            ("payload_handler", payload.is_some()),
            ("headers_handler", headers.is_some()),
            ("encode_handler", encode.is_some()),
            ("auth_response_handler", auth_response.is_some()),
        ]
        .into_iter()
        .find_map(|(name, set)| set.then_some(name));
        // Downcasting from `Any` is how a value typed with `U` is read as typed with `V`, which
        // succeeds exactly when they are the same type.
        let typed: Box<dyn Any> = Box::new((
            authentication,
            identity,
            identity_claim,
            payload,
            headers,
            encode,
            auth_response,
        ));
        let (typed, dropped) = match typed.downcast::<IdentityTyped<V>>() {
            Ok(same) => (*same, None),
            Err(_) => ((None, None, None, None, None, None, None), given),
        };
        let (authentication, identity, identity_claim, payload, headers, encode, auth_response) =
            typed;
        let callbacks = Callbacks {
            authentication,
            identity,
            identity_claim,
            payload,
            headers,
            encode,
            decode,
            request,
            auth_response,
            auth_request,
            error,
            loaders,
            revocation_store,
            refresh_token_reuse,
        };
        (callbacks, dropped)
    }
}

/// The callbacks of [`Callbacks`] that involve the identity type, in field order.
type IdentityTyped<U> = (
    Option<Authentication<U>>,
    Option<IdentityLookup<U>>,
    Option<IdentityClaimFn<U>>,
    Option<PayloadFn<U>>,
    Option<HeadersFn<U>>,
    Option<EncodeFn<U>>,
    Option<AuthResponseFn<U>>,
);

/// Flask-JWT's `getattr(identity, 'id') or identity['id']`: the `id` field of the serialised
/// identity, or the identity itself when it serialises to a plain value (a number or a string).
pub(crate) fn identity_claim<U: Serialize>(identity: &U) -> Result<Value, JwtError> {
    let value = serde_json::to_value(identity)
        .map_err(|e| JwtError::internal(format!("the identity could not be serialised: {e}")))?;
    match value {
        Value::Object(mut fields) => fields.remove("id").ok_or_else(|| {
            JwtError::internal(
                "the default payload handler needs an `id` field on the identity \
                 (or set payload_handler)",
            )
        }),
        Value::Array(_) | Value::Null => Err(JwtError::internal(
            "the default payload handler needs an identity with an `id` field",
        )),
        scalar => Ok(scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct User {
        id: u32,
        username: &'static str,
    }

    #[test]
    fn identity_claim_reads_id_like_flask_jwt() {
        let user = User {
            id: 1,
            username: "joe",
        };
        assert_eq!(identity_claim(&user).unwrap(), json!(1));
        assert_eq!(identity_claim(&42u64).unwrap(), json!(42));
        assert_eq!(identity_claim(&"joe").unwrap(), json!("joe"));
        assert!(identity_claim(&json!({"name": "x"})).is_err());
        assert!(identity_claim(&Option::<u8>::None).is_err());
    }

    #[test]
    fn the_payload_forms_read_every_payload_and_the_claim_forms_do_not() {
        let with_identity = |identity| Callbacks::<u8> {
            identity: Some(identity),
            ..Callbacks::default()
        };
        assert!(!Callbacks::<u8>::default().read_every_payload());
        assert!(
            !with_identity(IdentityLookup::SyncClaim(Box::new(|_| Some(1)))).read_every_payload()
        );
        assert!(with_identity(IdentityLookup::Sync(Box::new(|_| Some(1)))).read_every_payload());
        let mut verifying = Callbacks::<u8>::default();
        verifying.loaders.token_verification = Some(TokenVerification::Sync(Box::new(|_, _| true)));
        assert!(verifying.read_every_payload());
    }

    #[tokio::test]
    async fn a_blocking_callback_runs_off_the_calling_thread_and_its_panic_reaches_the_caller() {
        use futures_util::FutureExt as _;
        use std::panic::AssertUnwindSafe;

        let caller = std::thread::current().id();
        let ran_on = off_the_workers(|| std::thread::current().id()).await;
        assert_ne!(ran_on, caller);

        let panicked = AssertUnwindSafe(off_the_workers(|| -> u8 { panic!("a failing lookup") }))
            .catch_unwind()
            .await;
        let message = panicked.expect_err("the panic is resumed on the awaiting task");
        assert_eq!(message.downcast_ref::<&str>(), Some(&"a failing lookup"));
    }

    /// On a one-worker runtime, a task blocked in [`in_place`] lets another task of that worker
    /// run: without `block_in_place` the other task would wait for the blocked one forever (the
    /// channel's timeout would fail the test).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn in_place_hands_the_workers_other_tasks_to_another_thread() {
        let blocked = tokio::spawn(async {
            let (sender, receiver) = std::sync::mpsc::channel();
            let other = tokio::spawn(async move { sender.send(()).expect("the receiver waits") });
            in_place(|| receiver.recv_timeout(std::time::Duration::from_secs(20)))
                .expect("the other task ran while this one blocked");
            other.await.expect("the other task ends");
        });
        blocked.await.expect("the blocked task ends");
    }

    #[test]
    fn in_place_outside_a_runtime_calls_directly() {
        let caller = std::thread::current().id();
        assert_eq!(in_place(|| std::thread::current().id()), caller);
    }
}
