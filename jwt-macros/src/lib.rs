//! Attribute macros of `rocket-flask-jwt`. Use them through that package, which re-exports them;
//! the generated code calls into its runtime.
//!
//! The crate only parses, validates and expands: every behaviour lives in the runtime, behind
//! the `JwtAuth` request guard and the identity scope functions.

use proc_macro::TokenStream;

mod jwt_required;

/// Demands a valid token on a Rocket handler, as Flask-JWT's `@jwt_required()`.
///
/// Place it **above** the route attribute:
///
/// ```text
/// #[jwt_required]                        // default realm
/// #[get("/protected")]
/// fn protected() -> String { format!("{}", current_identity!(User)) }
///
/// #[jwt_required(realm = "Admin area")]  // realm of the WWW-Authenticate challenge
/// #[get("/admin")]
/// async fn admin(db: &State<Db>) -> String { /* ... */ }
/// ```
///
/// The handler runs only for a request whose token is valid and whose identity the identity
/// callback found; inside it (and in anything it calls on the same task) `current_identity!()`
/// gives that identity. Any other request gets the error callback's response, Flask-JWT's JSON
/// error by default, before the handler's other guards run and without its body being read.
/// The handler's return type `T` becomes `Result<T, JwtResponse>`.
///
/// The expansion is the hand-written form: the `JwtAuth` request guard as the first argument
/// (`JwtAuth<R>` with a realm, `R` a generated `Rules` type), and the body run by one `JwtAuth::run_sync` (sync handlers) or
/// `JwtAuth::run` (async handlers) call. Each argument must be a name, not a pattern, and names
/// starting with `__jwt_` are reserved for the expansion.
#[proc_macro_attribute]
pub fn jwt_required(args: TokenStream, item: TokenStream) -> TokenStream {
    jwt_required::jwt_required(args.into(), item.into()).into()
}
