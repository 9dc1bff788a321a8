//! [`VerifiedToken`]: a token that passed the checks and its route's requirements, with where it
//! was found: what the identity scope, revocation and the route's handler read.

use std::sync::Arc;

use serde_json::Value;

use crate::claims::Payload;
use crate::settings::Location;
use crate::token::claims::TokenClaims;
use crate::token::codec::Checked;

/// A token that passed every check of its route, and where it was found.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedToken {
    pub(crate) claims: Arc<TokenClaims>,
    header: Arc<Payload>,
    pub(crate) location: Location,
    pub(crate) identity_claim: Arc<str>,
}

impl VerifiedToken {
    pub(crate) fn new(checked: Checked, location: Location, identity_claim: Arc<str>) -> Self {
        VerifiedToken {
            claims: checked.claims,
            header: checked.header,
            location,
            identity_claim,
        }
    }

    /// The header (shared with the verified-token cache).
    pub(crate) fn header(&self) -> Arc<Payload> {
        Arc::clone(&self.header)
    }

    /// The claims object (built when first asked for, then shared).
    pub(crate) fn payload(&self) -> Arc<Payload> {
        Arc::clone(self.claims.payload())
    }

    /// The identity claim's value.
    pub(crate) fn identity(&self) -> Option<&Value> {
        self.claims.get(&self.identity_claim)
    }
}
