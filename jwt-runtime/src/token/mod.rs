//! The token layer: a token's claims as read member by member (`claims`), the five checks of the validation pipeline (`validate/`, with the key source
//! they verify with), the verified-token cache and the codec around them ([`TokenCodec`]:
//! encode, decode, verify), the claim requirements of every route (`claim_checks`, RFC 9068's
//! access-token profile), several trusted authorities (a codec each), the resolved validation of
//! an application ([`Verifier`]), the inspector's verdicts, and the verified token a route
//! receives. Uses claims, errors, settings, keys and JWKS; names nothing of the authorization,
//! revocation, request-flow or application layers.
//!
//! [`TokenCodec`]: codec::TokenCodec
//! [`Verifier`]: verifier::Verifier

pub(crate) mod access_token;
pub(crate) mod authorities;
pub(crate) mod cache;
pub(crate) mod claim_checks;
pub(crate) mod claims;
pub(crate) mod codec;
pub(crate) mod encode;
pub(crate) mod inspect;
pub(crate) mod validate;
pub(crate) mod verified;
pub(crate) mod verifier;
