//! The authorization layer: what a route demands of a valid token ([`Rules`](rules::Rules): realm,
//! token type, freshness, locations), its admission in Flask-JWT-Extended's order (identity claim,
//! CSRF, type, freshness), scopes and claim rules, the RFC 6750 challenges, and
//! several trusted authorities (a codec each). Uses the token layer and below; names nothing of
//! revocation, the request flow or the application.

pub(crate) mod admission;
pub(crate) mod authorities;
pub(crate) mod authorization;
pub(crate) mod challenge;
pub(crate) mod rules;
