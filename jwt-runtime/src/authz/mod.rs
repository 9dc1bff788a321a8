//! The authorization layer: what a route demands of a valid token ([`Rules`](rules::Rules): realm,
//! token type, freshness, locations, trusted authorities), its admission in Flask-JWT-Extended's
//! order (CSRF, type, freshness), scopes and claim rules, and the RFC 6750 challenges. Uses the
//! token layer and below; names nothing of revocation, the request flow or the application.

pub(crate) mod admission;
pub(crate) mod authorization;
pub(crate) mod challenge;
pub(crate) mod rules;
