//! The request flow and its Rocket glue: the user's callbacks, the identity scope of
//! `current_identity!()`, finding the token in a request (header, cookies, query string, JSON
//! body), the engine that runs token → checks → admission → revocation → identity, issuing
//! tokens with the user's loaders, the answers to refusals (Flask-JWT's, Flask-JWT-Extended's),
//! the catcher of refusals, the request guard, the cookie helpers and the state a response still
//! needs. Uses the authorization, revocation and token layers and below; names nothing of the
//! application layer.

pub(crate) mod answer;
pub(crate) mod callbacks;
pub(crate) mod catcher;
pub(crate) mod cookies;
pub(crate) mod dpop;
pub(crate) mod engine;
pub(crate) mod extract;
pub(crate) mod finish;
pub(crate) mod guard;
pub(crate) mod identity;
pub(crate) mod issue;
pub(crate) mod locations;
pub(crate) mod login;
pub(crate) mod rotation;
