//! The `dpop` setting: whether requests may, or must, prove possession of the key a token is
//! bound to (RFC 9449).

use serde::{Deserialize, Serialize};

/// Whether a route takes DPoP-bound tokens (the `dpop` setting, and `dpop = ".."` on
/// `#[jwt_required]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DpopMode {
    /// No DPoP: the `DPoP` scheme is not read, tokens are taken as bearer tokens. The default.
    #[default]
    Off,
    /// Bearer tokens and DPoP-bound tokens with their proofs; a bound token sent as `Bearer` is
    /// refused.
    Allowed,
    /// DPoP-bound tokens with their proofs only.
    Required,
}

impl DpopMode {
    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DpopMode::Off => "off",
            DpopMode::Allowed => "allowed",
            DpopMode::Required => "required",
        }
    }

    /// Whether the `DPoP` scheme is read.
    pub fn is_on(self) -> bool {
        self != DpopMode::Off
    }
}
