//! What a protected route demands of a request's token: [`Rules`], written by
//! `#[jwt_required(...)]` for its handler or by hand, and where tokens may be found
//! ([`Location`]).
//!
//! The rules are part of the guard's type, [`JwtAuth<R>`](crate::JwtAuth): they are constants,
//! known when the route is compiled, and cost nothing per request.

use crate::authz::authorization::{ClaimPredicate, ClaimRule, RouteAuthorization};
pub use crate::settings::Location;
use crate::settings::{DpopMode, Settings};

/// What a route demands of the token, as constants of a marker type: the type parameter of
/// [`JwtAuth<R>`](crate::JwtAuth).
///
/// Every constant has a default, so a marker states only what differs from a plain
/// `#[jwt_required]` route: an access token, from the configured locations, with the configured
/// realm. `#[jwt_required(refresh, realm = "..")]` writes such a type for its handler; by hand:
///
/// ```
/// use rocket_flask_jwt_runtime::extended::Location;
/// use rocket_flask_jwt_runtime::Rules;
///
/// /// A fresh access token from the `Authorization` header only, challenged as "Admin area".
/// struct Admin;
/// impl Rules for Admin {
///     const REALM: Option<&'static str> = Some("Admin area");
///     const FRESH: bool = true;
///     const LOCATIONS: Option<&'static [Location]> = Some(&[Location::Headers]);
/// }
/// ```
pub trait Rules: Send + Sync + 'static {
    /// The realm of the `WWW-Authenticate` challenge; `None` for the `default_realm` setting.
    const REALM: Option<&'static str> = None;
    /// A refresh token is required (else an access token). Cookies and JSON bodies are then
    /// read under the refresh names.
    const REFRESH: bool = false;
    /// The access token must be fresh (`"fresh": true`, or a `fresh` time still to come).
    const FRESH: bool = false;
    /// A request without a token is let through without an identity. A token that is present
    /// must still be valid.
    const OPTIONAL: bool = false;
    /// Check the token's `type` (`access` or `refresh`) against [`REFRESH`](Self::REFRESH);
    /// `false` accepts both.
    const VERIFY_TYPE: bool = true;
    /// Where to look for the token, in order; `None` for the `token_location` setting.
    const LOCATIONS: Option<&'static [Location]> = None;
    /// Scopes the token must all carry (read from the `scope_claims` setting's claims); empty
    /// demands none. A valid token without them is answered 403 `insufficient_scope`.
    const SCOPES: &'static [&'static str] = &[];
    /// Scopes of which the token must carry at least one; empty demands none.
    const ANY_SCOPE: &'static [&'static str] = &[];
    /// Rules on the token's claims, all of which must hold; 403 when one does not.
    const CLAIMS: &'static [ClaimRule] = &[];
    /// A function of the verified claims that must answer `true`; 403 when it answers `false`.
    const PREDICATE: Option<ClaimPredicate> = None;
    /// With the `authorities` setting, the names of the authorities whose tokens the route
    /// accepts; empty accepts any trusted authority's. A token of another is refused (401).
    const AUTHORITIES: &'static [&'static str] = &[];
    /// Whether the route takes DPoP-bound tokens with their proofs (RFC 9449); `None` for the
    /// `dpop` setting.
    const DPOP: Option<DpopMode> = None;
}

/// A valid access token: plain `#[jwt_required]`, and [`JwtAuth`](crate::JwtAuth)'s default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Required;

impl Rules for Required {}

/// A valid refresh token: `#[jwt_required(refresh)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refresh;

impl Rules for Refresh {
    const REFRESH: bool = true;
}

/// A valid, fresh access token: `#[jwt_required(fresh)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fresh;

impl Rules for Fresh {
    const FRESH: bool = true;
}

/// A valid access token or none: `#[jwt_required(optional)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Optional;

impl Rules for Optional {
    const OPTIONAL: bool = true;
}

/// The constants of a [`Rules`] type as a value, for the code that does not need to be generic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouteRules {
    pub(crate) realm: Option<&'static str>,
    pub(crate) refresh: bool,
    pub(crate) fresh: bool,
    pub(crate) optional: bool,
    pub(crate) verify_type: bool,
    pub(crate) locations: Option<&'static [Location]>,
    pub(crate) authorization: RouteAuthorization,
    pub(crate) authorities: &'static [&'static str],
    pub(crate) dpop: Option<DpopMode>,
}

impl RouteRules {
    /// The rules of `R`.
    pub(crate) const fn of<R: Rules>() -> RouteRules {
        RouteRules {
            realm: R::REALM,
            refresh: R::REFRESH,
            fresh: R::FRESH,
            optional: R::OPTIONAL,
            verify_type: R::VERIFY_TYPE,
            locations: R::LOCATIONS,
            authorization: RouteAuthorization {
                scopes: R::SCOPES,
                any_scope: R::ANY_SCOPE,
                claims: R::CLAIMS,
                predicate: R::PREDICATE,
            },
            authorities: R::AUTHORITIES,
            dpop: R::DPOP,
        }
    }

    /// The route's DPoP mode: its own, else the `dpop` setting.
    pub(crate) fn dpop_mode(&self, settings: &Settings) -> DpopMode {
        self.dpop.unwrap_or(settings.dpop)
    }

    /// The rules of `R`, one static value per route type: a request's future holds a
    /// reference, not a copy.
    pub(crate) fn of_route<R: Rules>() -> &'static RouteRules {
        RulesOf::<R>::ROUTE
    }
}

/// The static [`RouteRules`] of a [`Rules`] type.
struct RulesOf<R>(std::marker::PhantomData<R>);

impl<R: Rules> RulesOf<R> {
    const ROUTE: &'static RouteRules = &RouteRules::of::<R>();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_made_rules_differ_from_required_in_one_constant() {
        let required = RouteRules::of::<Required>();
        assert_eq!(
            required,
            RouteRules {
                realm: None,
                refresh: false,
                fresh: false,
                optional: false,
                verify_type: true,
                locations: None,
                authorization: RouteAuthorization {
                    scopes: &[],
                    any_scope: &[],
                    claims: &[],
                    predicate: None,
                },
                authorities: &[],
                dpop: None,
            }
        );
        assert_eq!(
            RouteRules::of::<Refresh>(),
            RouteRules {
                refresh: true,
                ..required
            }
        );
        assert_eq!(
            RouteRules::of::<Fresh>(),
            RouteRules {
                fresh: true,
                ..required
            }
        );
        assert_eq!(
            RouteRules::of::<Optional>(),
            RouteRules {
                optional: true,
                ..required
            }
        );
    }

    #[test]
    fn locations_are_written_as_flask_jwt_extended_writes_them() {
        for location in Location::ALL {
            let written = serde_json::to_value(location).unwrap();
            assert_eq!(written, location.as_str());
            assert_eq!(
                serde_json::from_value::<Location>(written).unwrap(),
                location
            );
        }
        assert!(serde_json::from_str::<Location>("\"body\"").is_err());
    }
}
