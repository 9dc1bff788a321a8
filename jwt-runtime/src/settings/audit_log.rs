//! The `audit_log` setting: whether the security events (refusals, logins, refreshes, logouts,
//! revocations, refresh-token reuse, signing-key changes) are logged as audit records, and in
//! which form.

use serde::{Deserialize, Serialize};

/// The form of the audit records (the `audit_log` setting): one `log` record per event, at level
/// info under the target `jwt::audit`, whose key-values are the event's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditLog {
    /// No audit records. The default.
    #[default]
    Off,
    /// The message is the fields as `key=value` pairs: `event=refusal reason=signature ...`.
    Text,
    /// The message is the fields as one JSON object: `{"event":"refusal","reason":"signature",...}`.
    Json,
}

impl AuditLog {
    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditLog::Off => "off",
            AuditLog::Text => "text",
            AuditLog::Json => "json",
        }
    }
}
