//! Attribute macros of `rocket-flask-jwt`. Use them through that package, which re-exports them;
//! the generated code calls into its runtime.
//!
//! The crate only parses, validates and expands: every behaviour lives in the runtime, behind
//! the `JwtAuth` request guard and the identity scope functions.

use proc_macro::TokenStream;

mod jwt_required;

/// Demands a valid token on a Rocket handler, as Flask-JWT's `@jwt_required()` and
/// Flask-JWT-Extended's `@jwt_required(...)`.
///
/// Place it **above** the route attribute:
///
/// ```text
/// #[jwt_required]                        // a valid access token
/// #[get("/protected")]
/// fn protected() -> String { format!("{}", current_identity!(User)) }
///
/// #[jwt_required(realm = "Admin area")]  // realm of the WWW-Authenticate challenge
/// #[get("/admin")]
/// async fn admin(db: &State<Db>) -> String { /* ... */ }
///
/// #[jwt_required(refresh)]               // a refresh token
/// #[post("/refresh")]
/// fn refresh() -> Json<Tokens> { /* ... */ }
///
/// #[jwt_required(fresh, locations = ["headers"])]
/// #[post("/password")]
/// fn change_password(form: Json<Password>) -> &'static str { /* ... */ }
/// ```
///
/// # Arguments
///
/// Without arguments the route demands a valid access token from the locations of the
/// `token_location` setting. The arguments, in any order and combinable, each given at most once:
///
/// | argument | the route demands | Flask-JWT-Extended |
/// |---|---|---|
/// | `refresh` | a refresh token instead of an access token (cookies and JSON bodies are read under the refresh names) | `refresh=True` |
/// | `fresh` | a fresh access token | `fresh=True` |
/// | `optional` | nothing when no token is sent: the handler runs without an identity; a token that is sent must still be valid | `optional=True` |
/// | `locations = ["headers", "cookies", "query_string", "json"]` | the token from these locations only, tried in this order, instead of the `token_location` setting; one location may be written as a single string, `locations = "cookies"` | `locations=[...]` |
/// | `verify_type = false` | a token of either type, access or refresh | `verify_type=False` |
/// | `realm = "..."` | nothing more: the realm of the `WWW-Authenticate` challenge of the Flask-JWT profile, instead of the `default_realm` setting | (Flask-JWT's `realm`) |
/// | `scopes = ["read:messages", ...]` | a token carrying every one of these scopes (from the `scope_claims` setting's claims) | (Auth0's `requiredScopes`) |
/// | `any_scope = ["admin", ...]` | a token carrying at least one of these scopes | |
/// | `claim_eq = [("org_id", "acme"), ("email_verified", true)]` | each claim equal to its value, of the same JSON type (string, boolean or integer literal) | |
/// | `claim_includes = [("https://example.com/roles", "admin")]` | each claim an array with an element equal to its value | |
/// | `predicate = path::to::function` | `function(&claims)` answering `true`; the function is a `fn(&Payload) -> bool` | |
/// | `authorities = ["auth0", ...]` | with the `authorities` setting, a token of one of these trusted authorities (else 401) | |
/// | `dpop = "required"` / `"allowed"` / `"off"` | the route takes DPoP-bound tokens with their proofs (RFC 9449): `required` only those, `allowed` bearer tokens too, `off` none; instead of the `dpop` setting | (Auth0's `dpop.required`) |
///
/// A valid token without the scopes or claims the route needs is answered 403 with
/// `WWW-Authenticate: Bearer error="insufficient_scope"` (and the route's scopes), in every
/// profile; the handler does not run. An empty scope or rule list, a scope that is not one word,
/// a non-literal, a repeated scope, an unknown rule or a `predicate` that is not a path is a
/// compile error.
///
/// `refresh`, `fresh` and `optional` are bare words (`refresh`, not `refresh = true`); the
/// locations are string literals, spelled as in Flask-JWT-Extended's `JWT_TOKEN_LOCATION`;
/// `verify_type` takes `true` (the default) or `false`; `realm` a non-empty string literal; `dpop`
/// one of the string literals `"required"`, `"allowed"` and `"off"`, spelled as in the `dpop`
/// setting. Anything else is a compile error at the offending token: an unknown argument, an
/// argument given twice, `fresh` with `refresh` (freshness is a property of access tokens), an
/// unknown, repeated or missing location (`locations = []`), an unknown `dpop` mode
/// (`dpop = "require"`), or a value of the wrong form.
///
/// # Behaviour
///
/// The handler runs only for a request whose token is valid for the route and whose identity the
/// identity callback found (or, on an `optional` route, for a request without a token); inside
/// it (and in anything it calls on the same task) `current_identity!()` gives that identity. Any
/// other request gets the error callback's response, Flask-JWT's JSON error by default, before
/// the handler's other guards run and without its body being read. The handler's return type `T` becomes `Result<T, JwtResponse>`.
///
/// # Expansion
///
/// The expansion is the hand-written form: the `JwtAuth` request guard as the first argument
/// (`JwtAuth` without arguments; with arguments `JwtAuth<R>`, `R` a generated `Rules` type whose
/// constants are those the arguments change), and the body run by one `JwtAuth::run_sync` (sync
/// handlers) or `JwtAuth::run` (async handlers) call. A hand-written handler can take
/// `JwtAuth<Refresh>`, `JwtAuth<Fresh>`, `JwtAuth<Optional>` or its own `Rules` type instead.
/// Each argument must be a name, not a pattern, and names starting with `__jwt_` are reserved for
/// the expansion.
#[proc_macro_attribute]
pub fn jwt_required(args: TokenStream, item: TokenStream) -> TokenStream {
    jwt_required::jwt_required(args.into(), item.into()).into()
}
