//! The fixed label values: why a request was refused ([`Reason`]), and the events of a session
//! ([`Event`]).

use crate::error::{Check, ErrorKind, JwtError, ProofCheck};

/// What became of a protected request, one label value each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// A valid token, and its identity.
    Authenticated = 0,
    /// An optional route's request without a token.
    Anonymous,
    MissingToken,
    MalformedHeader,
    WellFormed,
    Signature,
    ValidityPeriod,
    Authority,
    Audience,
    TokenType,
    Freshness,
    Csrf,
    Revoked,
    Scope,
    Dpop,
    IdentityNotFound,
    ClaimsVerification,
    KeysUnavailable,
    StoreUnavailable,
    Internal,
}

impl Reason {
    /// Every reason, in label order.
    pub(crate) const ALL: [Reason; 20] = [
        Reason::Authenticated,
        Reason::Anonymous,
        Reason::MissingToken,
        Reason::MalformedHeader,
        Reason::WellFormed,
        Reason::Signature,
        Reason::ValidityPeriod,
        Reason::Authority,
        Reason::Audience,
        Reason::TokenType,
        Reason::Freshness,
        Reason::Csrf,
        Reason::Revoked,
        Reason::Scope,
        Reason::Dpop,
        Reason::IdentityNotFound,
        Reason::ClaimsVerification,
        Reason::KeysUnavailable,
        Reason::StoreUnavailable,
        Reason::Internal,
    ];

    /// The refusal's reason.
    pub(crate) fn of(error: &JwtError) -> Reason {
        match error.kind {
            ErrorKind::MissingToken => Reason::MissingToken,
            ErrorKind::InvalidHeader => Reason::MalformedHeader,
            ErrorKind::InvalidToken(check) => match check {
                Check::WellFormed => Reason::WellFormed,
                Check::Signature => Reason::Signature,
                Check::ValidityPeriod => Reason::ValidityPeriod,
                Check::Authority => Reason::Authority,
                Check::Audience => Reason::Audience,
            },
            ErrorKind::WrongTokenType => Reason::TokenType,
            ErrorKind::FreshTokenRequired => Reason::Freshness,
            ErrorKind::Csrf => Reason::Csrf,
            ErrorKind::Revoked => Reason::Revoked,
            ErrorKind::InsufficientScope => Reason::Scope,
            ErrorKind::InvalidProof(_) => Reason::Dpop,
            ErrorKind::UnknownIdentity => Reason::IdentityNotFound,
            ErrorKind::ClaimsVerificationFailed => Reason::ClaimsVerification,
            ErrorKind::KeysUnavailable => Reason::KeysUnavailable,
            ErrorKind::RevocationUnavailable => Reason::StoreUnavailable,
            ErrorKind::Internal | ErrorKind::InvalidCredentials | ErrorKind::BadRequestBody => {
                Reason::Internal
            }
        }
    }

    /// The `reason` label's value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Authenticated => "none",
            Reason::Anonymous => "no_token_optional",
            Reason::MissingToken => "missing_token",
            Reason::MalformedHeader => "malformed_header",
            Reason::WellFormed => "well_formed",
            Reason::Signature => "signature",
            Reason::ValidityPeriod => "validity_period",
            Reason::Authority => "authority",
            Reason::Audience => "audience",
            Reason::TokenType => "token_type",
            Reason::Freshness => "freshness",
            Reason::Csrf => "csrf",
            Reason::Revoked => "revoked",
            Reason::Scope => "scope",
            Reason::Dpop => "dpop",
            Reason::IdentityNotFound => "identity_not_found",
            Reason::ClaimsVerification => "claims_verification",
            Reason::KeysUnavailable => "keys_unavailable",
            Reason::StoreUnavailable => "store_unavailable",
            Reason::Internal => "internal",
        }
    }

    /// The `outcome` label's value: `authenticated`, `anonymous`, `refused` (the client's
    /// credentials), or `unavailable` and `error` (the server's side).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn outcome(self) -> &'static str {
        match self {
            Reason::Authenticated => "authenticated",
            Reason::Anonymous => "anonymous",
            Reason::KeysUnavailable | Reason::StoreUnavailable => "unavailable",
            Reason::Internal => "error",
            _ => "refused",
        }
    }

    /// Whether the guard let the request through.
    pub(crate) fn accepted(self) -> bool {
        matches!(self, Reason::Authenticated | Reason::Anonymous)
    }
}

/// The index of a DPoP check in `ProofCheck::ALL`.
pub(crate) fn proof_check_index(check: ProofCheck) -> usize {
    ProofCheck::ALL
        .iter()
        .position(|candidate| *candidate == check)
        .unwrap_or_default()
}

/// The events of a session, counted where they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// Tokens issued by a login: `POST /auth`, or a fresh access token from `JwtManager`.
    Login = 0,
    /// A refresh route's request that got through (the refresh resource, `#[jwt_required(refresh)]`).
    Refresh,
    /// A token revoked (a logout).
    Logout,
    /// Every token of a subject revoked.
    SubjectRevoked,
    /// A replaced refresh token presented again (`refresh_token_rotation`).
    RefreshTokenReuse,
    /// A new signing key in the key ring on Redis.
    KeyRotation,
}

impl Event {
    /// Every event, in label order.
    pub(crate) const ALL: [Event; 6] = [
        Event::Login,
        Event::Refresh,
        Event::Logout,
        Event::SubjectRevoked,
        Event::RefreshTokenReuse,
        Event::KeyRotation,
    ];

    /// The metric's name (without the `jwt_` prefix and `_total`), and its help.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn describe(self) -> (&'static str, &'static str) {
        match self {
            Event::Login => (
                "logins",
                "Logins: tokens issued by POST /auth or a fresh access token from JwtManager",
            ),
            Event::Refresh => ("refreshes", "Refresh routes' requests that got through"),
            Event::Logout => ("logouts", "Tokens revoked (logouts)"),
            Event::SubjectRevoked => ("subject_revocations", "Every token of a subject revoked"),
            Event::RefreshTokenReuse => (
                "refresh_token_reuse",
                "Replaced refresh tokens presented again (their family revoked)",
            ),
            Event::KeyRotation => (
                "key_rotations",
                "New signing keys generated by the key ring on Redis",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_one_label_and_its_index() {
        let mut labels: Vec<&str> = Reason::ALL.iter().map(|reason| reason.as_str()).collect();
        for (index, reason) in Reason::ALL.iter().enumerate() {
            assert_eq!(*reason as usize, index);
        }
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), Reason::ALL.len());
        for (index, event) in Event::ALL.iter().enumerate() {
            assert_eq!(*event as usize, index);
        }
    }
}
