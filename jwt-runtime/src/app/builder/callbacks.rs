//! The builder's callbacks: Flask-JWT's handlers (authentication, identity, payload, headers,
//! encode, decode, request, auth response and request, error), each in its plain, `_async` and
//! `_blocking` forms where it has them. The identity and authentication handlers set the
//! identity type.

use super::*;

impl<U: Send + Sync + 'static> JwtBuilder<U> {
    /// `authentication_handler(username, password)`: the identity for valid credentials, `None`
    /// otherwise. The default payload handler puts the identity's `id` field (or the identity
    /// itself, when it is a number or string) in the `identity` claim. Its return type sets the
    /// identity type.
    ///
    /// It runs on one of Rocket's async workers and must not block (no synchronous database
    /// driver, no sleep): a lookup that waits is given with
    /// [`authentication_handler_async`](Self::authentication_handler_async) (it awaits) or
    /// [`authentication_handler_blocking`](Self::authentication_handler_blocking) (it blocks,
    /// off the workers).
    pub fn authentication_handler<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&str, &str) -> Option<V> + Send + Sync + 'static,
        V: Serialize + Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.authentication = Some(Authentication::Sync(Box::new(f)));
        builder.callbacks.identity_claim = Some(identity_claim::<V>);
        builder
    }

    /// The async form of [`authentication_handler`](Self::authentication_handler), for a
    /// lookup that awaits a database.
    pub fn authentication_handler_async<V, F, Fut>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(String, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<V>> + Send + 'static,
        V: Serialize + Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.authentication = Some(Authentication::Async(Box::new(move |u, p| {
            Box::pin(f(u, p))
        })));
        builder.callbacks.identity_claim = Some(identity_claim::<V>);
        builder
    }

    /// [`authentication_handler`](Self::authentication_handler) for a callback that blocks (a
    /// synchronous database driver): each call runs on Tokio's blocking threads
    /// (`spawn_blocking`), so a slow lookup holds up its own login and not the other requests.
    /// A panic in it is answered 500, as in any callback.
    pub fn authentication_handler_blocking<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&str, &str) -> Option<V> + Send + Sync + 'static,
        V: Serialize + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.authentication_handler_async(move |username, password| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&username, &password))
        })
    }

    /// `identity_handler(payload)`: the identity a valid token belongs to, `None` when no one
    /// (answered `401 Invalid JWT / User does not exist`). Its return type sets the identity
    /// type.
    ///
    /// It runs on one of Rocket's async workers, on every protected request, and must not block
    /// (no synchronous database driver, no sleep): while it blocks, that worker serves no other
    /// request. A lookup that waits is given with
    /// [`identity_handler_async`](Self::identity_handler_async) (it awaits) or
    /// [`identity_handler_blocking`](Self::identity_handler_blocking) (it blocks, off the
    /// workers).
    pub fn identity_handler<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&Payload) -> Option<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.identity = Some(IdentityLookup::Sync(Box::new(f)));
        builder
    }

    /// The async form of [`identity_handler`](Self::identity_handler).
    pub fn identity_handler_async<V, F, Fut>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(Payload) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<V>> + Send + 'static,
        V: Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.identity = Some(IdentityLookup::Async(Box::new(move |payload| {
            Box::pin(f(payload))
        })));
        builder
    }

    /// [`identity_handler`](Self::identity_handler) for a callback that blocks (a synchronous
    /// database driver): each call runs on Tokio's blocking threads (`spawn_blocking`), so a
    /// slow lookup holds up its own request and not the others. A panic in it is answered 500,
    /// as in any callback.
    pub fn identity_handler_blocking<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&Payload) -> Option<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.identity_handler_async(move |payload| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&payload))
        })
    }

    /// Like [`identity_handler`](Self::identity_handler), given only the value of the identity
    /// claim (`identity_claim`: `identity` by default, `sub` for OIDC tokens). A token without
    /// that claim is refused as `Token is missing the "<claim>" claim`.
    ///
    /// As the identity handler, it runs on an async worker and must not block; see
    /// [`identity_from_claim_async`](Self::identity_from_claim_async) and
    /// [`identity_from_claim_blocking`](Self::identity_from_claim_blocking).
    pub fn identity_from_claim<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&Value) -> Option<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.identity = Some(IdentityLookup::SyncClaim(Box::new(f)));
        builder
    }

    /// The async form of [`identity_from_claim`](Self::identity_from_claim).
    pub fn identity_from_claim_async<V, F, Fut>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<V>> + Send + 'static,
        V: Send + Sync + 'static,
    {
        let mut builder = self.with_identity::<V>();
        builder.callbacks.identity = Some(IdentityLookup::AsyncClaim(Box::new(move |value| {
            Box::pin(f(value))
        })));
        builder
    }

    /// [`identity_from_claim`](Self::identity_from_claim) for a callback that blocks: each call
    /// runs on Tokio's blocking threads (`spawn_blocking`), as
    /// [`identity_handler_blocking`](Self::identity_handler_blocking)'s.
    pub fn identity_from_claim_blocking<V, F>(self, f: F) -> JwtBuilder<V>
    where
        F: Fn(&Value) -> Option<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.identity_from_claim_async(move |value| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&value))
        })
    }

    /// `jwt_payload_handler(identity)`: the claims of issued tokens. Default: `identity` (the
    /// identity's id), `iat` (now), `nbf` (`iat + not_before_delta`), `exp`
    /// (`iat + expiration_delta`), as integer seconds.
    ///
    /// It runs on one of Rocket's async workers and must not block; one that does is given with
    /// [`payload_handler_blocking`](Self::payload_handler_blocking).
    pub fn payload_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &Settings) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.payload = Some(Box::new(f));
        self
    }

    /// [`payload_handler`](Self::payload_handler) for a callback that blocks. There is no async
    /// form: the handler borrows the identity and the settings while the token is signed, in a
    /// step that does not await. It runs in Tokio's `block_in_place`, which hands the worker's
    /// other requests to another thread while it blocks; on a current-thread runtime (not
    /// Rocket's) it runs as the plain form does.
    pub fn payload_handler_blocking<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &Settings) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.payload = Some(Box::new(move |identity, settings| {
            in_place(|| f(identity, settings))
        }));
        self
    }

    /// `jwt_headers_handler(identity)`: extra header fields of issued tokens (e.g. `kid`).
    /// Default: none. `typ` and `alg` cannot be replaced.
    pub fn headers_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &Settings) -> Payload + Send + Sync + 'static,
    {
        self.callbacks.headers = Some(Box::new(f));
        self
    }

    /// `jwt_encode_handler(identity)`: the whole token. Default: the payload and headers
    /// handlers' output, signed with the configured key ([`TokenCodec::encode`]).
    pub fn encode_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&U, &TokenCodec) -> Result<String, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.encode = Some(Box::new(f));
        self
    }

    /// `jwt_decode_handler(token)`: the payload of a presented token. Default:
    /// [`TokenCodec::decode`], which validates it.
    pub fn decode_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, &TokenCodec) -> Result<Payload, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.decode = Some(Box::new(f));
        self
    }

    /// `request_handler()`: finds the token in a request; `Ok(None)` when there is none.
    /// Default: `Authorization: <auth_header_prefix> <token>`.
    pub fn request_handler<F>(mut self, f: F) -> Self
    where
        F: for<'r> Fn(&'r Request<'_>) -> Result<Option<String>, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.request = Some(Box::new(f));
        self
    }

    /// `auth_response_handler(access_token, identity)`: the auth resource's success response.
    /// Default: `200 {"access_token": "<token>"}`.
    pub fn auth_response_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, &U) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.auth_response = Some(Box::new(f));
        self
    }

    /// `auth_request_handler()`: replaces the whole auth resource; it receives the JSON body.
    /// Deprecated in Flask-JWT and kept for migrations; prefer the other callbacks.
    ///
    /// It runs on one of Rocket's async workers and must not block; see
    /// [`auth_request_handler_async`](Self::auth_request_handler_async) and
    /// [`auth_request_handler_blocking`](Self::auth_request_handler_blocking).
    pub fn auth_request_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Result<JwtResponse, JwtError> + Send + Sync + 'static,
    {
        self.callbacks.auth_request = Some(AuthRequest::Sync(Box::new(f)));
        self
    }

    /// The async form of [`auth_request_handler`](Self::auth_request_handler): it receives the
    /// JSON body by value.
    pub fn auth_request_handler_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JwtResponse, JwtError>> + Send + 'static,
    {
        self.callbacks.auth_request =
            Some(AuthRequest::Async(Box::new(move |body| Box::pin(f(body)))));
        self
    }

    /// [`auth_request_handler`](Self::auth_request_handler) for a callback that blocks: each
    /// call runs on Tokio's blocking threads (`spawn_blocking`), off the async workers.
    pub fn auth_request_handler_blocking<F>(self, f: F) -> Self
    where
        F: Fn(&Value) -> Result<JwtResponse, JwtError> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.auth_request_handler_async(move |body| {
            let f = Arc::clone(&f);
            off_the_workers(move || f(&body))
        })
    }

    /// `jwt_error_handler(error)`: the response for every failure (status, body, headers).
    /// Default: `{"status_code", "error", "description"}` JSON with the error's status and
    /// headers ([`JwtError::to_response`]).
    pub fn error_handler<F>(mut self, f: F) -> Self
    where
        F: Fn(&JwtError) -> JwtResponse + Send + Sync + 'static,
    {
        self.callbacks.error = Some(Box::new(f));
        self
    }
}
