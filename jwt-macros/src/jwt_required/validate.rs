//! Validation: arguments that parse but do not make sense together, and what the expansion needs
//! of the handler; each refusal spanned at the offending tokens.

use proc_macro2::Span;
use syn::{FnArg, ItemFn, Pat};

use super::parse::{Args, ClaimPairs, Locations, ScopeList};

/// Arguments that make one route rule: `fresh` only on access tokens, a non-empty list of
/// distinct locations, a realm that is not empty.
pub(super) fn args(args: &Args) -> syn::Result<()> {
    if let (Some(fresh), Some(_)) = (&args.fresh, &args.refresh) {
        return Err(syn::Error::new_spanned(
            fresh,
            "`fresh` cannot be combined with `refresh`: freshness is a property of access tokens \
             (a refresh token is never fresh)",
        ));
    }
    if let Some(locations) = &args.locations {
        self::locations(locations)?;
    }
    if let Some(realm) = &args.realm
        && realm.value().is_empty()
    {
        return Err(syn::Error::new_spanned(
            realm,
            "`realm` must not be empty: name the protected area, e.g. `realm = \"Admin area\"`, \
                 or leave `realm` out for the `default_realm` setting",
        ));
    }
    for (name, list) in [("scopes", &args.scopes), ("any_scope", &args.any_scope)] {
        if let Some(list) = list {
            scope_list(name, list)?;
        }
    }
    if let Some(list) = &args.authorities {
        authority_names(list)?;
    }
    for (name, pairs) in [
        ("claim_eq", &args.claim_eq),
        ("claim_includes", &args.claim_includes),
    ] {
        if let Some(pairs) = pairs {
            claim_pairs(name, pairs)?;
        }
    }
    Ok(())
}

/// At least one scope, each once, each a scope token of RFC 6749 §3.3 (visible ASCII without
/// space, `"` or `\`).
fn scope_list(name: &str, list: &ScopeList) -> syn::Result<()> {
    if list.scopes.is_empty() {
        return Err(syn::Error::new_spanned(
            &list.value,
            format!(
                "`{name}` needs at least one scope, e.g. `{name} = [\"read:messages\"]`; \
                 leave `{name}` out for a route that needs none"
            ),
        ));
    }
    for (index, scope) in list.scopes.iter().enumerate() {
        let value = scope.value();
        let is_scope_token = !value.is_empty()
            && value
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !is_scope_token {
            return Err(syn::Error::new_spanned(
                scope,
                "a scope is one non-empty word of visible ASCII characters, without spaces, \
                 `\"` or `\\` (RFC 6749 §3.3): list several scopes as several strings",
            ));
        }
        if list.scopes[..index]
            .iter()
            .any(|earlier| earlier.value() == value)
        {
            return Err(syn::Error::new_spanned(
                scope,
                format!("scope {value:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// At least one authority name, each non-empty and listed once.
fn authority_names(list: &ScopeList) -> syn::Result<()> {
    if list.scopes.is_empty() {
        return Err(syn::Error::new_spanned(
            &list.value,
            "`authorities` needs at least one authority name, e.g. `authorities = [\"auth0\"]`; \
             leave `authorities` out to accept every trusted authority",
        ));
    }
    for (index, name) in list.scopes.iter().enumerate() {
        let value = name.value();
        if value.is_empty() {
            return Err(syn::Error::new_spanned(
                name,
                "an authority name must not be empty",
            ));
        }
        if list.scopes[..index]
            .iter()
            .any(|earlier| earlier.value() == value)
        {
            return Err(syn::Error::new_spanned(
                name,
                format!("authority {value:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// At least one pair, each naming a claim.
fn claim_pairs(name: &str, pairs: &ClaimPairs) -> syn::Result<()> {
    if pairs.pairs.is_empty() {
        return Err(syn::Error::new_spanned(
            &pairs.value,
            format!(
                "`{name}` needs at least one (\"claim\", value) pair, \
                 e.g. `{name} = [(\"org_id\", \"acme\")]`"
            ),
        ));
    }
    if let Some(pair) = pairs.pairs.iter().find(|pair| pair.name.value().is_empty()) {
        return Err(syn::Error::new_spanned(
            &pair.name,
            "the claim's name must not be empty",
        ));
    }
    Ok(())
}

/// At least one location, each once.
fn locations(locations: &Locations) -> syn::Result<()> {
    if locations.names.is_empty() {
        return Err(syn::Error::new_spanned(
            &locations.value,
            "`locations` needs at least one location, e.g. `locations = [\"headers\"]`; \
             leave `locations` out for the `token_location` setting",
        ));
    }
    for (index, name) in locations.names.iter().enumerate() {
        if locations.names[..index]
            .iter()
            .any(|earlier| earlier.location == name.location)
        {
            return Err(syn::Error::new_spanned(
                &name.literal,
                format!("location \"{}\" is listed twice", name.location.name()),
            ));
        }
    }
    Ok(())
}

/// Route attributes the macro must be placed above.
const ROUTE_ATTRIBUTES: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "route",
];

/// The prefix of the names the expansion adds beside the handler's arguments. Rocket tells a
/// handler's arguments apart by name, whatever their hygiene, so the application cannot use it.
const RESERVED_PREFIX: &str = "__jwt_";

/// A free function below a route attribute, whose arguments are all plain names of its own.
pub(super) fn handler(function: &ItemFn) -> syn::Result<()> {
    if !function.attrs.iter().any(is_route_attribute) {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[jwt_required] must be placed above the route attribute, e.g. \
             `#[jwt_required]` then `#[get(\"/protected\")]` on the line below",
        ));
    }
    for input in &function.sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new_spanned(
                    receiver,
                    "#[jwt_required] applies to free handler functions, not methods",
                ))
            }
            FnArg::Typed(argument) => match &*argument.pat {
                Pat::Ident(pat) if pat.ident.to_string().starts_with(RESERVED_PREFIX) => {
                    return Err(syn::Error::new_spanned(
                        &pat.ident,
                        format!(
                            "argument names starting with `{RESERVED_PREFIX}` are reserved for \
                             #[jwt_required]: rename this one"
                        ),
                    ))
                }
                Pat::Ident(_) => {}
                Pat::Wild(_) => {
                    return Err(syn::Error::new_spanned(
                        &argument.pat,
                        "#[jwt_required] needs every handler argument to be named: \
                         use `_name: Type` for one the body does not use",
                    ))
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        &argument.pat,
                        "#[jwt_required] needs every handler argument to be a name, not a \
                         pattern: take it as `name: Type` and destructure it in the body",
                    ))
                }
            },
        }
    }
    Ok(())
}

fn is_route_attribute(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| ROUTE_ATTRIBUTES.contains(&segment.ident.to_string().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;
    use syn::parse_quote;

    /// The refusal of `tokens` as arguments, which must parse.
    fn args_error(tokens: TokenStream) -> String {
        let parsed = super::super::parse::args(tokens).expect("the arguments parse");
        match args(&parsed) {
            Ok(()) => panic!("arguments accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn combinable_arguments_are_valid() {
        for tokens in [
            quote!(),
            quote!(refresh),
            quote!(fresh),
            quote!(optional),
            quote!(refresh, optional, verify_type = false),
            quote!(
                fresh,
                optional,
                locations = ["headers", "cookies"],
                realm = "Admin"
            ),
            quote!(locations = ["headers", "cookies", "query_string", "json"]),
            quote!(locations = "json", verify_type = true),
            quote!(dpop = "required"),
            quote!(optional, dpop = "allowed"),
            quote!(
                dpop = "off",
                refresh,
                optional,
                verify_type = false,
                locations = ["cookies"],
                realm = "Admin",
                scopes = ["read:messages"],
                any_scope = ["admin"],
                claim_eq = [("org", "acme")],
                claim_includes = [("roles", "admin")],
                predicate = is_admin,
                authorities = ["auth0"]
            ),
        ] {
            let parsed = super::super::parse::args(tokens.clone()).expect("the arguments parse");
            if let Err(error) = args(&parsed) {
                panic!("`{tokens}` refused: {error}");
            }
        }
    }

    #[test]
    fn fresh_is_for_access_tokens() {
        for tokens in [quote!(fresh, refresh), quote!(refresh, optional, fresh)] {
            let message = args_error(tokens);
            assert!(
                message.starts_with("`fresh` cannot be combined with `refresh`"),
                "{message}"
            );
        }
    }

    #[test]
    fn locations_are_a_non_empty_list_without_repeats() {
        let empty = args_error(quote!(locations = []));
        assert!(
            empty.starts_with("`locations` needs at least one location"),
            "{empty}"
        );
        let twice = args_error(quote!(locations = ["cookies", "json", "cookies"]));
        assert_eq!(twice, "location \"cookies\" is listed twice");
    }

    #[test]
    fn scope_lists_and_claim_rules_are_not_empty_and_scopes_are_words() {
        for (tokens, expected) in [
            (quote!(scopes = []), "`scopes` needs at least one scope"),
            (
                quote!(any_scope = []),
                "`any_scope` needs at least one scope",
            ),
            (quote!(scopes = [""]), "a scope is one non-empty word"),
            (quote!(scopes = ["a b"]), "a scope is one non-empty word"),
            (quote!(scopes = ["a\tb"]), "a scope is one non-empty word"),
            (quote!(scopes = ["a\"b"]), "a scope is one non-empty word"),
            (
                quote!(scopes = ["caf\u{e9}"]),
                "a scope is one non-empty word",
            ),
            (
                quote!(scopes = ["a", "b", "a"]),
                "scope \"a\" is listed twice",
            ),
            (quote!(claim_eq = []), "`claim_eq` needs at least one"),
            (
                quote!(claim_includes = []),
                "`claim_includes` needs at least one",
            ),
            (
                quote!(claim_eq = [("", "x")]),
                "the claim's name must not be empty",
            ),
            (quote!(authorities = []), "`authorities` needs at least one"),
            (
                quote!(authorities = [""]),
                "an authority name must not be empty",
            ),
            (
                quote!(authorities = ["a", "a"]),
                "authority \"a\" is listed twice",
            ),
        ] {
            let message = args_error(tokens.clone());
            assert!(message.starts_with(expected), "{tokens}: {message}");
        }
        let parsed = super::super::parse::args(quote!(
            fresh,
            scopes = ["read:messages", "a!#[]~"],
            any_scope = ["read:messages"],
            claim_eq = [("org", "acme")],
            claim_includes = [("roles", "admin")],
            predicate = is_admin
        ))
        .expect("the arguments parse");
        args(&parsed).expect("valid and combinable");
    }

    #[test]
    fn a_realm_is_not_empty() {
        let empty = args_error(quote!(realm = ""));
        assert!(empty.starts_with("`realm` must not be empty"), "{empty}");
    }

    fn error(function: ItemFn) -> String {
        match handler(&function) {
            Ok(()) => panic!("handler accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_route_handler_with_named_arguments_is_valid() {
        handler(&parse_quote! {
            #[rocket::get("/items/<id>")]
            fn item(mut id: u32, db: &State<Db>) {}
        })
        .expect("valid handler");
    }

    #[test]
    fn the_route_attribute_must_follow() {
        let message = error(parse_quote!(
            fn p() {}
        ));
        assert!(message.contains("above the route attribute"), "{message}");
    }

    #[test]
    fn a_method_is_refused() {
        let message = error(parse_quote! {
            #[get("/")]
            fn p(&self) {}
        });
        assert!(message.contains("not methods"), "{message}");
    }

    #[test]
    fn a_pattern_argument_is_refused() {
        for function in [
            parse_quote! { #[get("/<a>/<b>")] fn p(id: u8, (a, b): (u8, u8)) {} },
            parse_quote! { #[get("/")] fn p(Wrapper(inner): Wrapper) {} },
        ] {
            let message = error(function);
            assert!(message.contains("not a pattern"), "{message}");
        }
        let message = error(parse_quote! { #[get("/")] fn p(_: Guard) {} });
        assert!(message.contains("`_name: Type`"), "{message}");
    }

    #[test]
    fn the_expansions_names_are_reserved() {
        for function in [
            parse_quote! { #[get("/<__jwt_auth>")] fn p(__jwt_auth: u8) {} },
            parse_quote! { #[get("/")] fn p(__jwt_required_p: Guard) {} },
        ] {
            let message = error(function);
            assert!(message.contains("reserved"), "{message}");
        }
    }
}
