//! The token layer: the five checks of the validation pipeline (`validate/`, with the key source
//! they verify with), the verified-token cache and the codec around them ([`TokenCodec`]:
//! encode, decode, verify), RFC 9068's access-token profile, the inspector's verdicts, and the
//! verified token a route receives. Uses claims, errors, settings, keys and JWKS; names nothing
//! of the authorization, revocation, request-flow or application layers.
//!
//! [`TokenCodec`]: codec::TokenCodec

pub(crate) mod access_token;
pub(crate) mod cache;
pub(crate) mod codec;
pub(crate) mod encode;
pub(crate) mod inspect;
pub(crate) mod validate;
pub(crate) mod verified;
