//! The current identity: what the identity callback returned for this request.
//!
//! [`JwtAuth::run`](crate::JwtAuth::run) and [`JwtAuth::run_sync`](crate::JwtAuth::run_sync)
//! (what `#[jwt_required]` expands to) run the handler inside [`scope`] (async handlers) or
//! [`sync_scope`] (sync handlers), so [`current_identity!`](crate::current_identity) works in the
//! handler and in every function it calls on the same task, sync or async. Outside such a scope there is no identity:
//! [`try_current_identity`] says so, and `current_identity!()` panics with a message naming the
//! mistake.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::authz::rules::Location;
use crate::claims::Payload;
use crate::token::verified::VerifiedToken;

tokio::task_local! {
    static CURRENT: Authenticated;
}

/// What authentication found for a request: the identity (none on an optional route without a
/// token, or without an identity callback) and the verified token.
#[derive(Debug, Clone, Default)]
pub struct Authenticated {
    pub(crate) identity: Option<Identity>,
    pub(crate) token: Option<VerifiedToken>,
}

impl From<Identity> for Authenticated {
    fn from(identity: Identity) -> Self {
        Authenticated {
            identity: Some(identity),
            token: None,
        }
    }
}

impl Authenticated {
    /// The identity as `U`, if there is one.
    pub(crate) fn identity_as<U: Any + Send + Sync>(
        &self,
    ) -> Result<Option<Arc<U>>, IdentityError> {
        self.identity
            .as_ref()
            .map(Identity::downcast::<U>)
            .transpose()
    }
}

/// A type-erased identity, as produced by the identity callback.
#[derive(Clone)]
pub struct Identity {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
}

impl Identity {
    /// Wraps the identity callback's result.
    pub fn new<U: Any + Send + Sync>(value: U) -> Self {
        Identity {
            value: Arc::new(value),
            type_name: std::any::type_name::<U>(),
        }
    }

    /// The identity as `U`, or an error naming both types when it is something else.
    pub fn downcast<U: Any + Send + Sync>(&self) -> Result<Arc<U>, IdentityError> {
        Arc::clone(&self.value)
            .downcast::<U>()
            .map_err(|_| IdentityError::WrongType {
                requested: std::any::type_name::<U>(),
                actual: self.type_name,
            })
    }

    /// The Rust type name of the identity.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("type", &self.type_name)
            .finish_non_exhaustive()
    }
}

/// Why there is no current identity of the requested type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Not inside a `#[jwt_required]` handler or [`JwtAuth::run`](crate::JwtAuth::run) (or a
    /// function they call on the same task).
    #[error(
        "current_identity!() was used outside a request protected by #[jwt_required] or JwtAuth::run: \
         there is no current identity here (use try_current_identity() where it is optional)"
    )]
    NoIdentity,
    /// The identity callback returns a different type.
    #[error(
        "current_identity!() asked for `{requested}`, but the identity callback returns `{actual}`"
    )]
    WrongType {
        /// The type asked for.
        requested: &'static str,
        /// The type the identity callback returns.
        actual: &'static str,
    },
}

/// The current identity as `U`, if this code runs inside a protected request that has one.
pub fn try_current_identity<U: Any + Send + Sync>() -> Result<Arc<U>, IdentityError> {
    CURRENT
        .try_with(|current| current.identity_as::<U>())
        .unwrap_or(Err(IdentityError::NoIdentity))?
        .ok_or(IdentityError::NoIdentity)
}

/// The current identity as `U` on a route where it is optional: `None` when the request carried
/// no token (or no identity callback is configured).
///
/// # Panics
/// Outside a protected request, or when `U` is not the identity callback's type.
#[track_caller]
pub fn optional_identity<U: Any + Send + Sync>() -> Option<Arc<U>> {
    match CURRENT.try_with(|current| current.identity_as::<U>()) {
        Ok(Ok(identity)) => identity,
        Ok(Err(error)) => panic!("{error}"),
        Err(_) => panic!("{}", IdentityError::NoIdentity),
    }
}

/// `f` applied to the current request's token, or `None` on an optional route without one.
///
/// # Panics
/// Outside a protected request.
#[track_caller]
fn with_token<T>(what: &str, f: impl FnOnce(&VerifiedToken) -> T) -> Option<T> {
    match CURRENT.try_with(|current| current.token.as_ref().map(f)) {
        Ok(value) => value,
        Err(_) => panic!(
            "{what} was used outside a request protected by #[jwt_required] or JwtAuth::run: \
             there is no current token here"
        ),
    }
}

/// The verified claims of the current request's token (Flask-JWT-Extended's `get_jwt()`): an
/// empty map on an optional route without a token.
///
/// # Panics
/// Outside a protected request (`#[jwt_required]`, `JwtAuth::run`, or what they call).
#[track_caller]
pub fn get_jwt() -> Arc<Payload> {
    with_token("get_jwt()", VerifiedToken::payload).unwrap_or_default()
}

/// The header of the current request's token (`get_jwt_header()`): an empty map on an optional
/// route without a token.
///
/// # Panics
/// Outside a protected request.
#[track_caller]
pub fn get_jwt_header() -> Arc<Payload> {
    with_token("get_jwt_header()", VerifiedToken::header).unwrap_or_default()
}

/// The identity claim of the current request's token (`get_jwt_identity()`, the `sub` claim
/// in the extended profile); `None` on an optional route without a token.
///
/// # Panics
/// Outside a protected request.
#[track_caller]
pub fn get_jwt_identity() -> Option<Value> {
    with_token("get_jwt_identity()", |token| token.identity().cloned()).flatten()
}

/// Where the current request's token was found (`get_jwt_request_location()`); `None` on an
/// optional route without a token.
///
/// # Panics
/// Outside a protected request.
#[track_caller]
pub fn get_jwt_location() -> Option<Location> {
    with_token("get_jwt_location()", |token| token.location)
}

/// The current identity as `U`.
///
/// # Panics
/// Outside a `#[jwt_required]` (or `JwtAuth::run`) request, or when `U` is not the type the
/// identity callback returns: both are programming errors, reported with a message that says
/// which.
#[track_caller]
pub fn current_identity<U: Any + Send + Sync>() -> Arc<U> {
    match try_current_identity::<U>() {
        Ok(identity) => identity,
        Err(error) => panic!("{error}"),
    }
}

/// Runs `future` with `current` as the current authentication.
pub(crate) async fn scope<F: Future>(current: Authenticated, future: F) -> F::Output {
    CURRENT.scope(current, future).await
}

/// Runs `f` with `current` (an [`Identity`], or all that authentication found) as the current
/// authentication.
pub fn sync_scope<R>(current: impl Into<Authenticated>, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(current.into(), f)
}

/// The identity the identity callback returned for this request, as `Arc<T>`.
///
/// `current_identity!()` infers `T` from where the value goes; `current_identity!(User)` names it.
/// Usable in a `#[jwt_required]` handler and in any function it calls on the same task.
///
/// ```
/// # use rocket_flask_jwt_runtime::{current_identity, testing::sync_scope, identity::Identity};
/// # use std::sync::Arc;
/// #[derive(Debug, PartialEq)]
/// struct User { id: u64 }
///
/// fn greeting() -> String {
///     let user: Arc<User> = current_identity!();
///     format!("hello {}", user.id)
/// }
/// # let out = sync_scope(Identity::new(User { id: 1 }), || (greeting(), current_identity!(User).id));
/// # assert_eq!(out, ("hello 1".to_string(), 1));
/// ```
///
/// # Panics
/// Outside a protected request, or when `T` is not the identity callback's type.
#[macro_export]
macro_rules! current_identity {
    () => {
        $crate::__private_v1::current_identity()
    };
    ($ty:ty) => {
        $crate::__private_v1::current_identity::<$ty>()
    };
}

/// The identity on a route where it is optional (`#[jwt_required(optional)]`), as
/// `Option<Arc<T>>`: `None` when the request carried no token.
///
/// `optional_identity!()` infers `T`; `optional_identity!(User)` names it.
///
/// ```
/// # use rocket_flask_jwt_runtime::{optional_identity, testing::sync_scope, identity::Identity};
/// # use std::sync::Arc;
/// struct User { name: String }
///
/// fn greeting() -> String {
///     match optional_identity!(User) {
///         Some(user) => format!("hello {}", user.name),
///         None => "hello stranger".to_owned(),
///     }
/// }
/// # let named = sync_scope(Identity::new(User { name: "ann".into() }), greeting);
/// # assert_eq!(named, "hello ann");
/// # let anonymous = sync_scope(rocket_flask_jwt_runtime::testing::Authenticated::default(), greeting);
/// # assert_eq!(anonymous, "hello stranger");
/// ```
///
/// # Panics
/// Outside a protected request, or when `T` is not the identity callback's type.
#[macro_export]
macro_rules! optional_identity {
    () => {
        $crate::__private_v1::optional_identity()
    };
    ($ty:ty) => {
        $crate::__private_v1::optional_identity::<$ty>()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct User(u32);

    #[test]
    fn no_identity_outside_a_scope() {
        assert_eq!(
            try_current_identity::<User>().unwrap_err(),
            IdentityError::NoIdentity
        );
    }

    #[test]
    fn sync_scope_gives_the_typed_identity_to_nested_calls() {
        fn nested() -> Arc<User> {
            current_identity::<User>()
        }
        let user = sync_scope(Identity::new(User(7)), nested);
        assert_eq!(*user, User(7));
        assert!(try_current_identity::<User>().is_err());
    }

    #[test]
    fn wrong_type_is_named() {
        let err = sync_scope(Identity::new(User(1)), try_current_identity::<String>).unwrap_err();
        assert!(err.to_string().contains("alloc::string::String"), "{err}");
        assert!(err.to_string().contains("User"), "{err}");
    }

    #[test]
    #[should_panic(expected = "outside a request protected by #[jwt_required]")]
    fn current_identity_outside_panics_clearly() {
        let _ = current_identity::<User>();
    }

    #[tokio::test]
    async fn async_scope_survives_await_points() {
        let got = scope(Identity::new(User(3)).into(), async {
            tokio::task::yield_now().await;
            try_current_identity::<User>()
        })
        .await;
        assert_eq!(*got.unwrap(), User(3));
    }
}
