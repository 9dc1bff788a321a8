//! Parsing: the attribute's arguments into [`Args`], the item into a function.
//!
//! Parsing refuses what [`Args`] cannot hold: an unknown argument, location or DPoP mode name, an
//! argument given twice, a value of the wrong form. What it can hold but must not be (`fresh` with
//! `refresh`, an empty or repeated location list, an empty realm) is for
//! [`validate`](super::validate).

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, ItemFn, Lit, LitBool, LitStr, Meta, Token};

/// How the attribute's arguments are written, for the message that refuses an unknown one.
const KNOWN_ARGUMENTS: &str = "`refresh`, `fresh`, `optional`, \
    `locations = [\"headers\", \"cookies\", \"query_string\", \"json\"]`, \
    `verify_type = false`, `realm = \"...\"`, `scopes = [\"...\"]`, `any_scope = [\"...\"]`, \
    `claim_eq = [(\"claim\", value)]`, `claim_includes = [(\"claim\", value)]`, \
    `predicate = path::to::function`, `authorities = [\"...\"]` \
    and `dpop = \"required\"` (or `\"allowed\"`, `\"off\"`)";

/// The attribute's arguments, each kept as written: later errors are spanned at them.
#[derive(Default)]
pub(super) struct Args {
    /// `refresh`: the route demands a refresh token.
    pub(super) refresh: Option<Ident>,
    /// `fresh`: the route demands a fresh access token.
    pub(super) fresh: Option<Ident>,
    /// `optional`: a request without a token reaches the handler without an identity.
    pub(super) optional: Option<Ident>,
    /// `locations = [...]`: where the route looks for the token, in order.
    pub(super) locations: Option<Locations>,
    /// `verify_type = false`: access and refresh tokens are both accepted.
    pub(super) verify_type: Option<LitBool>,
    /// `realm = "..."`: the realm of the route's `WWW-Authenticate` challenge.
    pub(super) realm: Option<LitStr>,
    /// `scopes = [...]`: scopes the token must all carry.
    pub(super) scopes: Option<ScopeList>,
    /// `any_scope = [...]`: scopes of which the token must carry one.
    pub(super) any_scope: Option<ScopeList>,
    /// `claim_eq = [("claim", value), ...]`: claims that must equal these values.
    pub(super) claim_eq: Option<ClaimPairs>,
    /// `claim_includes = [("claim", value), ...]`: array claims that must include these values.
    pub(super) claim_includes: Option<ClaimPairs>,
    /// `predicate = path::to::function`: a `fn(&Payload) -> bool` that must answer `true`.
    pub(super) predicate: Option<syn::Path>,
    /// `authorities = [...]`: the trusted authorities whose tokens the route accepts.
    pub(super) authorities: Option<ScopeList>,
    /// `dpop = "required"`, `"allowed"` or `"off"`: whether the route takes DPoP-bound tokens.
    pub(super) dpop: Option<Dpop>,
}

impl Args {
    /// Whether the attribute has any argument (else the route takes the guard's default rules).
    pub(super) fn any(&self) -> bool {
        let Args {
            refresh,
            fresh,
            optional,
            locations,
            verify_type,
            realm,
            scopes,
            any_scope,
            claim_eq,
            claim_includes,
            predicate,
            authorities,
            dpop,
        } = self;
        refresh.is_some()
            || fresh.is_some()
            || optional.is_some()
            || locations.is_some()
            || verify_type.is_some()
            || realm.is_some()
            || scopes.is_some()
            || any_scope.is_some()
            || claim_eq.is_some()
            || claim_includes.is_some()
            || predicate.is_some()
            || authorities.is_some()
            || dpop.is_some()
    }
}

/// `scopes = ["read:messages", ...]`, `any_scope = [...]` or `authorities = [...]`: string
/// literals.
pub(super) struct ScopeList {
    /// The list as written: where an empty list is reported.
    pub(super) value: Expr,
    /// The scopes, in the order written.
    pub(super) scopes: Vec<LitStr>,
}

/// `claim_eq = [("claim", value), ...]` or `claim_includes = [...]`.
pub(super) struct ClaimPairs {
    /// The list as written: where an empty list is reported.
    pub(super) value: Expr,
    /// The pairs, in the order written.
    pub(super) pairs: Vec<ClaimPair>,
}

/// `("claim", value)`: a claim name and the literal it is compared with.
pub(super) struct ClaimPair {
    pub(super) name: LitStr,
    pub(super) value: ClaimLiteral,
}

/// The value of a claim rule: a string, a boolean or an integer literal (`-3` included).
pub(super) enum ClaimLiteral {
    Str(LitStr),
    Bool(LitBool),
    Int(i64),
}

/// `locations = ["headers", ...]` or `locations = "headers"`.
pub(super) struct Locations {
    /// The value as written (`[...]` or one string): where an empty list is reported.
    pub(super) value: Expr,
    /// The locations, in the order written.
    pub(super) names: Vec<LocationName>,
}

/// One location of a `locations` list.
pub(super) struct LocationName {
    pub(super) location: Location,
    /// The string literal it was written as.
    pub(super) literal: LitStr,
}

/// The runtime's `Location`, as the macro knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Location {
    Headers,
    Cookies,
    QueryString,
    Json,
}

impl Location {
    /// Every location, in Flask-JWT-Extended's spelling order.
    pub(super) const ALL: [Location; 4] = [
        Location::Headers,
        Location::Cookies,
        Location::QueryString,
        Location::Json,
    ];

    fn from_name(name: &str) -> Option<Location> {
        Location::ALL
            .into_iter()
            .find(|location| location.name() == name)
    }

    /// The name it is written as, Flask-JWT-Extended's `JWT_TOKEN_LOCATION` value.
    pub(super) fn name(self) -> &'static str {
        match self {
            Location::Headers => "headers",
            Location::Cookies => "cookies",
            Location::QueryString => "query_string",
            Location::Json => "json",
        }
    }

    /// The name of the runtime's `Location` variant.
    pub(super) fn variant(self) -> &'static str {
        match self {
            Location::Headers => "Headers",
            Location::Cookies => "Cookies",
            Location::QueryString => "QueryString",
            Location::Json => "Json",
        }
    }
}

/// `dpop = "required"`: the route's DPoP mode.
pub(super) struct Dpop {
    pub(super) mode: DpopMode,
    /// The string literal it was written as.
    pub(super) literal: LitStr,
}

/// The runtime's `DpopMode`, as the macro knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DpopMode {
    Required,
    Allowed,
    Off,
}

impl DpopMode {
    /// Every mode, in the order the messages name them.
    pub(super) const ALL: [DpopMode; 3] = [DpopMode::Required, DpopMode::Allowed, DpopMode::Off];

    fn from_name(name: &str) -> Option<DpopMode> {
        DpopMode::ALL.into_iter().find(|mode| mode.name() == name)
    }

    /// The name it is written as, the `dpop` setting's value.
    pub(super) fn name(self) -> &'static str {
        match self {
            DpopMode::Required => "required",
            DpopMode::Allowed => "allowed",
            DpopMode::Off => "off",
        }
    }

    /// The name of the runtime's `DpopMode` variant.
    pub(super) fn variant(self) -> &'static str {
        match self {
            DpopMode::Required => "Required",
            DpopMode::Allowed => "Allowed",
            DpopMode::Off => "Off",
        }
    }
}

/// The message for a DPoP mode that is not one of the three.
const KNOWN_DPOP_MODES: &str = "the modes are \"required\", \"allowed\" and \"off\"";

/// The message for a location that is not one of the four.
const KNOWN_LOCATIONS: &str =
    "the locations are \"headers\", \"cookies\", \"query_string\" and \"json\"";

/// The arguments, in any order, or nothing.
pub(super) fn args(args: TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut parsed = Args::default();
    for meta in metas {
        let Some(name) = meta.path().get_ident().cloned() else {
            return Err(unknown_argument(meta.path()));
        };
        match name.to_string().as_str() {
            "refresh" => set(&mut parsed.refresh, &name, bare_word(&meta, &name)?)?,
            "fresh" => set(&mut parsed.fresh, &name, bare_word(&meta, &name)?)?,
            "optional" => set(&mut parsed.optional, &name, bare_word(&meta, &name)?)?,
            "locations" => {
                let value = value(meta, "locations = [\"headers\", \"cookies\"]")?;
                set(&mut parsed.locations, &name, locations(value)?)?
            }
            "verify_type" => {
                let value = value(meta, "verify_type = false")?;
                set(&mut parsed.verify_type, &name, verify_type(value)?)?
            }
            "realm" => {
                let value = value(meta, "realm = \"Admin area\"")?;
                set(&mut parsed.realm, &name, realm(value)?)?
            }
            "scopes" | "any_scope" => {
                let value = value(meta, &format!("{name} = [\"read:messages\"]"))?;
                let list = scope_list(&name, value)?;
                let slot = if name == "scopes" {
                    &mut parsed.scopes
                } else {
                    &mut parsed.any_scope
                };
                set(slot, &name, list)?
            }
            "claim_eq" | "claim_includes" => {
                let value = value(meta, &format!("{name} = [(\"org_id\", \"acme\")]"))?;
                let pairs = claim_pairs(&name, value)?;
                let slot = if name == "claim_eq" {
                    &mut parsed.claim_eq
                } else {
                    &mut parsed.claim_includes
                };
                set(slot, &name, pairs)?
            }
            "authorities" => {
                let value = value(meta, "authorities = [\"auth0\"]")?;
                set(&mut parsed.authorities, &name, scope_list(&name, value)?)?
            }
            "predicate" => {
                let value = value(meta, "predicate = path::to::function")?;
                set(&mut parsed.predicate, &name, predicate(value)?)?
            }
            "dpop" => {
                let value = value(meta, "dpop = \"required\"")?;
                set(&mut parsed.dpop, &name, dpop(value)?)?
            }
            _ => return Err(unknown_argument(meta.path())),
        }
    }
    Ok(parsed)
}

fn unknown_argument(path: &syn::Path) -> syn::Error {
    let name = path.to_token_stream().to_string().replace(' ', "");
    syn::Error::new_spanned(
        path,
        format!("unknown argument `{name}`: #[jwt_required] accepts {KNOWN_ARGUMENTS}"),
    )
}

/// Stores an argument's value, refusing a second one at its name.
fn set<T>(slot: &mut Option<T>, name: &Ident, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new_spanned(
            name,
            format!("`{name}` is given twice"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// A mode written as a bare word: `refresh`, not `refresh = true`.
fn bare_word(meta: &Meta, name: &Ident) -> syn::Result<Ident> {
    match meta {
        Meta::Path(_) => Ok(name.clone()),
        Meta::NameValue(_) | Meta::List(_) => Err(syn::Error::new_spanned(
            meta,
            format!("`{name}` takes no value: write it as a bare word, `#[jwt_required({name})]`"),
        )),
    }
}

/// The value of `name = value`; `example` shows the form in the message for anything else.
fn value(meta: Meta, example: &str) -> syn::Result<Expr> {
    match meta {
        Meta::NameValue(pair) => Ok(pair.value),
        Meta::Path(path) => {
            let name = path.to_token_stream().to_string();
            Err(syn::Error::new_spanned(
                path,
                format!("`{name}` needs a value, e.g. `{example}`"),
            ))
        }
        Meta::List(list) => {
            let name = list.path.to_token_stream().to_string();
            Err(syn::Error::new_spanned(
                list,
                format!("`{name}` is written `{example}`"),
            ))
        }
    }
}

/// The string literal `value` is, if it is one.
fn string_literal(value: &Expr) -> Option<&LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(literal),
            ..
        }) => Some(literal),
        _ => None,
    }
}

/// `["headers", "cookies"]`, or one string as shorthand for a list of one, as Flask-JWT-Extended
/// accepts `locations="headers"`.
fn locations(value: Expr) -> syn::Result<Locations> {
    let written: Vec<&Expr> = match &value {
        Expr::Array(array) => array.elems.iter().collect(),
        Expr::Lit(ExprLit {
            lit: Lit::Str(_), ..
        }) => vec![&value],
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "`locations` must be a list of string literals, \
                 e.g. `locations = [\"headers\", \"cookies\"]`",
            ))
        }
    };
    let mut names = Vec::with_capacity(written.len());
    for element in written {
        let Some(literal) = string_literal(element) else {
            return Err(not_a_location_literal(element));
        };
        let Some(location) = Location::from_name(&literal.value()) else {
            return Err(syn::Error::new_spanned(
                literal,
                format!(
                    "unknown location {}: {KNOWN_LOCATIONS}",
                    literal.to_token_stream()
                ),
            ));
        };
        names.push(LocationName {
            location,
            literal: literal.clone(),
        });
    }
    Ok(Locations { value, names })
}

/// A list element that is not a string literal; a bare location name is shown quoted.
fn not_a_location_literal(element: &Expr) -> syn::Error {
    let written = element.to_token_stream().to_string();
    let message = match Location::from_name(&written) {
        Some(location) => format!(
            "a location is a string literal: write `\"{}\"`",
            location.name()
        ),
        None => format!("a location is a string literal: {KNOWN_LOCATIONS}"),
    };
    syn::Error::new_spanned(element, message)
}

/// `true` or `false`.
fn verify_type(value: Expr) -> syn::Result<LitBool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(literal),
            ..
        }) => Ok(literal),
        other => Err(syn::Error::new_spanned(
            other,
            "`verify_type` must be `true` or `false`, e.g. `verify_type = false`",
        )),
    }
}

/// A string literal.
fn realm(value: Expr) -> syn::Result<LitStr> {
    match string_literal(&value) {
        Some(literal) => Ok(literal.clone()),
        None => Err(syn::Error::new_spanned(
            value,
            "`realm` must be a string literal, e.g. `realm = \"Admin area\"`",
        )),
    }
}

/// `"required"`, `"allowed"` or `"off"`: a string literal naming a DPoP mode.
fn dpop(value: Expr) -> syn::Result<Dpop> {
    let Some(literal) = string_literal(&value) else {
        return Err(not_a_dpop_literal(&value));
    };
    match DpopMode::from_name(&literal.value()) {
        Some(mode) => Ok(Dpop {
            mode,
            literal: literal.clone(),
        }),
        None => Err(syn::Error::new_spanned(
            literal,
            format!(
                "unknown `dpop` mode {}: {KNOWN_DPOP_MODES}",
                literal.to_token_stream()
            ),
        )),
    }
}

/// A `dpop` value that is not a string literal; a mode written as a name (`Required`,
/// `DpopMode::Allowed`) is shown as the string to write.
fn not_a_dpop_literal(value: &Expr) -> syn::Error {
    let named = match value {
        Expr::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .and_then(|segment| DpopMode::from_name(&segment.ident.to_string().to_lowercase())),
        _ => None,
    };
    let message = match named {
        Some(mode) => format!(
            "`dpop` must be a string literal: write `dpop = \"{}\"`",
            mode.name()
        ),
        None => format!(
            "`dpop` must be a string literal, e.g. `dpop = \"required\"`; {KNOWN_DPOP_MODES}"
        ),
    };
    syn::Error::new_spanned(value, message)
}

/// `["a", "b"]`: a list of string literals.
fn scope_list(name: &Ident, value: Expr) -> syn::Result<ScopeList> {
    let Expr::Array(array) = &value else {
        return Err(syn::Error::new_spanned(
            &value,
            format!(
                "`{name}` must be a list of string literals, e.g. `{name} = [\"read:messages\"]`"
            ),
        ));
    };
    let mut scopes = Vec::with_capacity(array.elems.len());
    for element in &array.elems {
        match string_literal(element) {
            Some(literal) => scopes.push(literal.clone()),
            None if name == "authorities" => {
                return Err(syn::Error::new_spanned(
                    element,
                    "an authority is named by a string literal, e.g. `authorities = [\"auth0\"]`",
                ))
            }
            None => {
                return Err(syn::Error::new_spanned(
                    element,
                    format!("a scope is a string literal, e.g. `{name} = [\"read:messages\"]`"),
                ))
            }
        }
    }
    Ok(ScopeList { value, scopes })
}

/// `[("claim", value), ...]`: a list of pairs of a claim name and a literal.
fn claim_pairs(name: &Ident, value: Expr) -> syn::Result<ClaimPairs> {
    let example = format!("`{name} = [(\"org_id\", \"acme\"), (\"email_verified\", true)]`");
    let Expr::Array(array) = &value else {
        return Err(syn::Error::new_spanned(
            &value,
            format!("`{name}` must be a list of (\"claim\", value) pairs, e.g. {example}"),
        ));
    };
    let mut pairs = Vec::with_capacity(array.elems.len());
    for element in &array.elems {
        let pair = match element {
            Expr::Tuple(tuple) if tuple.elems.len() == 2 => {
                let Some(claim) = string_literal(&tuple.elems[0]) else {
                    return Err(syn::Error::new_spanned(
                        &tuple.elems[0],
                        "the claim's name is a string literal, e.g. `(\"org_id\", \"acme\")`",
                    ));
                };
                ClaimPair {
                    name: claim.clone(),
                    value: claim_literal(&tuple.elems[1])?,
                }
            }
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!("each rule is a (\"claim\", value) pair, e.g. {example}"),
                ))
            }
        };
        pairs.push(pair);
    }
    Ok(ClaimPairs { value, pairs })
}

/// A string, boolean or (possibly negative) integer literal.
fn claim_literal(value: &Expr) -> syn::Result<ClaimLiteral> {
    let refused = || {
        syn::Error::new_spanned(
            value,
            "a claim's value is a string, boolean or integer literal, e.g. `\"acme\"`, `true` or `3`",
        )
    };
    let (negative, literal) = match value {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => match expr.as_ref() {
            Expr::Lit(ExprLit {
                lit: lit @ Lit::Int(_),
                ..
            }) => (true, lit),
            _ => return Err(refused()),
        },
        _ => return Err(refused()),
    };
    match literal {
        Lit::Str(text) => Ok(ClaimLiteral::Str(text.clone())),
        Lit::Bool(flag) => Ok(ClaimLiteral::Bool(flag.clone())),
        Lit::Int(number) => {
            let text = if negative {
                format!("-{}", number.base10_digits())
            } else {
                number.base10_digits().to_owned()
            };
            let parsed = text.parse::<i64>().map_err(|_| {
                syn::Error::new_spanned(value, "a claim's integer value must fit in an i64")
            })?;
            if !number.suffix().is_empty() {
                return Err(refused());
            }
            Ok(ClaimLiteral::Int(parsed))
        }
        _ => Err(refused()),
    }
}

/// A path to a function: `is_admin` or `auth::is_admin`.
fn predicate(value: Expr) -> syn::Result<syn::Path> {
    match value {
        Expr::Path(path) if path.qself.is_none() => Ok(path.path),
        other => Err(syn::Error::new_spanned(
            other,
            "`predicate` is the path of a `fn(&Payload) -> bool`, e.g. `predicate = auth::is_admin`",
        )),
    }
}

/// The item, which must be a function.
pub(super) fn handler(item: TokenStream) -> syn::Result<ItemFn> {
    syn::parse2(item).map_err(|_| {
        syn::Error::new(
            Span::call_site(),
            "#[jwt_required] applies to a Rocket handler function, e.g. \
             `#[jwt_required] #[get(\"/protected\")] fn protected() -> String { .. }`",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn error(tokens: TokenStream) -> String {
        match args(tokens) {
            Ok(_) => panic!("arguments accepted"),
            Err(error) => error.to_string(),
        }
    }

    fn locations_of(args: &Args) -> Vec<Location> {
        let locations = args.locations.as_ref().expect("locations");
        locations.names.iter().map(|name| name.location).collect()
    }

    #[test]
    fn realm_is_parsed() {
        let parsed = args(quote!(realm = "Admin")).expect("valid arguments");
        assert_eq!(parsed.realm.expect("a realm").value(), "Admin");
        assert!(args(quote!()).expect("no arguments").realm.is_none());
    }

    #[test]
    fn no_arguments_is_every_default() {
        let parsed = args(quote!()).expect("no arguments");
        assert!(!parsed.any());
        assert!(parsed.refresh.is_none());
        assert!(parsed.fresh.is_none());
        assert!(parsed.optional.is_none());
        assert!(parsed.locations.is_none());
        assert!(parsed.verify_type.is_none());
        assert!(parsed.realm.is_none());
        assert!(parsed.dpop.is_none());
    }

    #[test]
    fn every_argument_is_parsed_in_any_order() {
        let parsed = args(quote!(
            verify_type = false,
            optional,
            locations = ["json", "headers", "query_string", "cookies"],
            realm = "Admin",
            refresh,
        ))
        .expect("valid arguments");
        assert!(parsed.any());
        assert_eq!(parsed.refresh.expect("refresh"), "refresh");
        assert!(parsed.fresh.is_none());
        assert_eq!(parsed.optional.expect("optional"), "optional");
        assert!(!parsed.verify_type.expect("verify_type").value);
        assert_eq!(parsed.realm.expect("realm").value(), "Admin");

        let parsed = args(quote!(
            fresh,
            locations = ["json", "headers", "query_string"]
        ))
        .expect("valid arguments");
        assert_eq!(parsed.fresh.as_ref().expect("fresh"), "fresh");
        assert_eq!(
            locations_of(&parsed),
            [Location::Json, Location::Headers, Location::QueryString]
        );
    }

    #[test]
    fn one_location_may_be_a_single_string() {
        let parsed = args(quote!(locations = "cookies")).expect("valid arguments");
        assert_eq!(locations_of(&parsed), [Location::Cookies]);
        let parsed = args(quote!(locations = ["cookies"])).expect("valid arguments");
        assert_eq!(locations_of(&parsed), [Location::Cookies]);
    }

    #[test]
    fn what_validation_refuses_is_still_parsed() {
        let parsed = args(quote!(locations = [])).expect("an empty list parses");
        assert!(locations_of(&parsed).is_empty());
        let parsed = args(quote!(locations = ["json", "json"])).expect("a repeated name parses");
        assert_eq!(locations_of(&parsed), [Location::Json, Location::Json]);
        let parsed = args(quote!(fresh, refresh)).expect("fresh with refresh parses");
        assert!(parsed.fresh.is_some() && parsed.refresh.is_some());
    }

    #[test]
    fn location_names_round_trip() {
        for location in Location::ALL {
            assert_eq!(Location::from_name(location.name()), Some(location));
        }
        assert_eq!(
            Location::from_name("query_string"),
            Some(Location::QueryString)
        );
        assert_eq!(Location::from_name("Headers"), None);
    }

    #[test]
    fn bad_arguments_are_refused() {
        let unknown = error(quote!(scope = "x"));
        assert!(unknown.contains("unknown argument `scope`"), "{unknown}");
        for known in [
            "`refresh`",
            "`fresh`",
            "`optional`",
            "`locations = [",
            "`verify_type = false`",
            "`realm =",
            "`authorities = [\"...\"]` and `dpop = \"required\"` (or `\"allowed\"`, `\"off\"`)",
        ] {
            assert!(unknown.contains(known), "{unknown} lists {known}");
        }
        let path = error(quote!(jwt::refresh));
        assert!(path.contains("unknown argument `jwt::refresh`"), "{path}");
        let non_literal = error(quote!(realm = REALM));
        assert!(non_literal.contains("string literal"), "{non_literal}");
        let twice = error(quote!(realm = "a", realm = "b"));
        assert!(twice.contains("`realm` is given twice"), "{twice}");
        let bare = error(quote!(realm));
        assert!(bare.contains("needs a value"), "{bare}");
    }

    #[test]
    fn modes_are_bare_words_given_once() {
        for mode in ["refresh", "fresh", "optional"] {
            let ident = Ident::new(mode, Span::call_site());
            let twice = error(quote!(#ident, realm = "a", #ident));
            assert_eq!(twice, format!("`{mode}` is given twice"));
            for valued in [quote!(#ident = true), quote!(#ident(true))] {
                let message = error(valued);
                assert!(message.contains("takes no value"), "{message}");
                assert!(
                    message.contains(&format!("#[jwt_required({mode})]")),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn bad_locations_are_refused() {
        let unknown = error(quote!(locations = ["headers", "body"]));
        assert!(
            unknown.starts_with("unknown location \"body\""),
            "{unknown}"
        );
        assert!(unknown.contains("\"query_string\""), "{unknown}");
        let case = error(quote!(locations = ["Headers"]));
        assert!(case.starts_with("unknown location \"Headers\""), "{case}");
        let bare = error(quote!(locations = [headers]));
        assert_eq!(bare, "a location is a string literal: write `\"headers\"`");
        let other = error(quote!(locations = [HEADERS]));
        assert!(other.contains("\"headers\", \"cookies\""), "{other}");
        for not_a_list in [quote!(locations = HEADERS), quote!(locations = 1)] {
            let message = error(not_a_list);
            assert!(message.contains("list of string literals"), "{message}");
        }
        let no_value = error(quote!(locations));
        assert!(no_value.contains("`locations` needs a value"), "{no_value}");
        let list = error(quote!(locations("headers")));
        assert!(list.contains("is written `locations = ["), "{list}");
        let twice = error(quote!(locations = "json", locations = "headers"));
        assert_eq!(twice, "`locations` is given twice");
    }

    #[test]
    fn dpop_is_one_of_the_three_modes() {
        for (written, mode) in [
            (quote!(dpop = "required"), DpopMode::Required),
            (quote!(dpop = "allowed"), DpopMode::Allowed),
            (quote!(dpop = "off"), DpopMode::Off),
        ] {
            let parsed = args(written.clone()).expect("valid arguments");
            assert!(parsed.any(), "{written}");
            let dpop = parsed.dpop.expect("dpop");
            assert_eq!(dpop.mode, mode, "{written}");
            assert_eq!(dpop.literal.value(), mode.name());
        }
        let parsed = args(quote!(
            optional,
            dpop = "allowed",
            scopes = ["read:messages"],
            realm = "Admin"
        ))
        .expect("dpop combines with the other arguments");
        assert_eq!(parsed.dpop.expect("dpop").mode, DpopMode::Allowed);
        assert!(parsed.optional.is_some() && parsed.scopes.is_some() && parsed.realm.is_some());
    }

    #[test]
    fn dpop_mode_names_round_trip() {
        for mode in DpopMode::ALL {
            assert_eq!(DpopMode::from_name(mode.name()), Some(mode));
        }
        assert_eq!(DpopMode::from_name("Required"), None);
        assert_eq!(DpopMode::from_name("require"), None);
    }

    #[test]
    fn bad_dpop_values_are_refused() {
        for (tokens, expected) in [
            (
                quote!(dpop = "require"),
                "unknown `dpop` mode \"require\": the modes are \"required\", \"allowed\" and \"off\"",
            ),
            (
                quote!(dpop = "Required"),
                "unknown `dpop` mode \"Required\": the modes are \"required\", \"allowed\" and \"off\"",
            ),
            (
                quote!(dpop = ""),
                "unknown `dpop` mode \"\": the modes are \"required\", \"allowed\" and \"off\"",
            ),
            (
                quote!(dpop = Required),
                "`dpop` must be a string literal: write `dpop = \"required\"`",
            ),
            (
                quote!(dpop = DpopMode::Allowed),
                "`dpop` must be a string literal: write `dpop = \"allowed\"`",
            ),
            (
                quote!(dpop = off),
                "`dpop` must be a string literal: write `dpop = \"off\"`",
            ),
            (
                quote!(dpop = true),
                "`dpop` must be a string literal, e.g. `dpop = \"required\"`; \
                 the modes are \"required\", \"allowed\" and \"off\"",
            ),
            (
                quote!(dpop = DPOP_MODE),
                "`dpop` must be a string literal, e.g. `dpop = \"required\"`; \
                 the modes are \"required\", \"allowed\" and \"off\"",
            ),
            (
                quote!(dpop = ["required"]),
                "`dpop` must be a string literal, e.g. `dpop = \"required\"`; \
                 the modes are \"required\", \"allowed\" and \"off\"",
            ),
            (
                quote!(dpop = "required", realm = "a", dpop = "off"),
                "`dpop` is given twice",
            ),
            (quote!(dpop), "`dpop` needs a value, e.g. `dpop = \"required\"`"),
            (
                quote!(dpop("required")),
                "`dpop` is written `dpop = \"required\"`",
            ),
        ] {
            assert_eq!(error(tokens.clone()), expected, "{tokens}");
        }
    }

    #[test]
    fn verify_type_is_a_bool_literal() {
        let parsed = args(quote!(verify_type = true)).expect("valid arguments");
        assert!(parsed.verify_type.expect("verify_type").value);
        for bad in [
            quote!(verify_type = "false"),
            quote!(verify_type = 0),
            quote!(verify_type = FALSE),
        ] {
            let message = error(bad);
            assert!(message.contains("`true` or `false`"), "{message}");
        }
        let bare = error(quote!(verify_type));
        assert!(
            bare.contains("needs a value, e.g. `verify_type = false`"),
            "{bare}"
        );
    }

    #[test]
    fn scopes_and_claim_rules_are_parsed() {
        let parsed = args(quote!(
            scopes = ["read:messages", "write:messages"],
            any_scope = ["admin"],
            claim_eq = [("org_id", "acme"), ("email_verified", true), ("level", -3)],
            claim_includes = [("https://example.com/roles", "admin")],
            predicate = auth::is_staff,
        ))
        .expect("valid arguments");
        assert!(parsed.any());
        let scopes = |list: &Option<ScopeList>| -> Vec<String> {
            let list = list.as_ref().expect("a list");
            list.scopes.iter().map(LitStr::value).collect()
        };
        assert_eq!(scopes(&parsed.scopes), ["read:messages", "write:messages"]);
        assert_eq!(scopes(&parsed.any_scope), ["admin"]);
        let pairs = parsed.claim_eq.as_ref().expect("claim_eq");
        let written: Vec<(String, String)> = pairs
            .pairs
            .iter()
            .map(|pair| {
                let value = match &pair.value {
                    ClaimLiteral::Str(text) => text.value(),
                    ClaimLiteral::Bool(flag) => flag.value.to_string(),
                    ClaimLiteral::Int(number) => number.to_string(),
                };
                (pair.name.value(), value)
            })
            .collect();
        assert_eq!(
            written,
            [
                ("org_id".to_string(), "acme".to_string()),
                ("email_verified".into(), "true".into()),
                ("level".into(), "-3".into())
            ]
        );
        let includes = parsed.claim_includes.as_ref().expect("claim_includes");
        assert_eq!(includes.pairs[0].name.value(), "https://example.com/roles");
        assert_eq!(
            parsed
                .predicate
                .to_token_stream()
                .to_string()
                .replace(' ', ""),
            "auth::is_staff"
        );
    }

    #[test]
    fn bad_scopes_and_claim_rules_are_refused() {
        for (tokens, expected) in [
            (quote!(scopes = "read"), "must be a list of string literals"),
            (quote!(scopes = [READ]), "a scope is a string literal"),
            (quote!(any_scope = [1]), "a scope is a string literal"),
            (quote!(scopes), "`scopes` needs a value"),
            (
                quote!(claim_eq = ("a", "b")),
                "must be a list of (\"claim\", value) pairs",
            ),
            (
                quote!(claim_eq = ["a"]),
                "each rule is a (\"claim\", value) pair",
            ),
            (quote!(claim_eq = [("a", "b", "c")]), "each rule is a"),
            (
                quote!(claim_eq = [(a, "b")]),
                "the claim's name is a string literal",
            ),
            (
                quote!(claim_includes = [("a", B)]),
                "string, boolean or integer literal",
            ),
            (
                quote!(claim_eq = [("a", 1.5)]),
                "string, boolean or integer literal",
            ),
            (
                quote!(claim_eq = [("a", 1u8)]),
                "string, boolean or integer literal",
            ),
            (
                quote!(claim_eq = [("a", -"b")]),
                "string, boolean or integer literal",
            ),
            (
                quote!(claim_eq = [("a", 99999999999999999999)]),
                "must fit in an i64",
            ),
            (
                quote!(predicate = "is_admin"),
                "the path of a `fn(&Payload) -> bool`",
            ),
            (
                quote!(predicate = is_admin()),
                "the path of a `fn(&Payload) -> bool`",
            ),
            (
                quote!(scopes = ["a"], scopes = ["b"]),
                "`scopes` is given twice",
            ),
            (
                quote!(claim_ne = [("a", "b")]),
                "unknown argument `claim_ne`",
            ),
            (
                quote!(authorities = [AUTH0]),
                "an authority is named by a string literal",
            ),
            (
                quote!(authorities = "auth0"),
                "must be a list of string literals",
            ),
        ] {
            let message = error(tokens.clone());
            assert!(message.contains(expected), "{tokens}: {message}");
        }
    }

    #[test]
    fn only_functions_are_handlers() {
        assert!(handler(quote!(
            struct NotAHandler;
        ))
        .is_err());
        assert!(handler(quote!(
            fn handler() {}
        ))
        .is_ok());
    }
}
