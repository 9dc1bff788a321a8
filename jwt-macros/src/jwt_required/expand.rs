//! Expansion: the handler takes the `JwtAuth` guard first and runs its original body through it,
//! in one call.
//!
//! ```text
//! // #[jwt_required(fresh, realm = "Admin area")] #[get("/items/<id>")] fn item(mut id: u32) -> T { .. }
//! #[doc(hidden)] struct __jwt_rules_item;          // only with arguments
//! impl Rules for __jwt_rules_item {                // the constants that differ from the defaults
//!     const REALM: Option<&'static str> = Some("Admin area");
//!     const FRESH: bool = true;
//! }
//!
//! #[get("/items/<id>")]                             // the handler's attributes, unchanged
//! fn item(__jwt_auth: JwtAuth<__jwt_rules_item>, id: u32) -> Result<T, JwtResponse> {
//!     fn __jwt_required_item(mut id: u32) -> T { .. }   // the original handler
//!     JwtAuth::run_sync(__jwt_auth, move || __jwt_required_item(id))
//!     // async handlers: JwtAuth::run(__jwt_auth, __jwt_required_item(id)).await
//! }
//! ```
//!
//! The guard comes first because Rocket runs request guards in parameter order: authentication
//! decides before any other guard of the route, and before the body is read.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned as _;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType};

use super::parse::{Args, ClaimLiteral, ClaimPairs, Dpop, Locations, ScopeList};

/// The runtime's hidden module for generated code; its version is the expansion's.
fn runtime() -> TokenStream {
    quote!(::rocket_flask_jwt::__private_v1)
}

/// The protected handler, preceded by its rules type when the attribute has arguments.
pub(super) fn handler(args: &Args, function: ItemFn) -> TokenStream {
    let runtime = runtime();
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    // Mixed-site: user code can neither name nor shadow the guard argument.
    let auth = Ident::new("__jwt_auth", Span::mixed_site());
    let original = format_ident!("__jwt_required_{}", sig.ident);

    // The guard's type by its public path, which Rocket's log line names when the guard refuses
    // a request.
    let (rules_item, guard) = if args.any() {
        let marker = format_ident!("__jwt_rules_{}", sig.ident);
        let constants = constants(args, &runtime);
        let item = quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis struct #marker;
            impl #runtime::Rules for #marker {
                #(#constants)*
            }
        };
        (item, quote!(::rocket_flask_jwt::JwtAuth<#marker>))
    } else {
        (TokenStream::new(), quote!(::rocket_flask_jwt::JwtAuth))
    };

    let mut original_sig = sig.clone();
    original_sig.ident = original.clone();

    let mut sig = sig;
    let mut names = Vec::new();
    for input in sig.inputs.iter_mut() {
        if let FnArg::Typed(argument) = input
            && let Pat::Ident(pat) = argument.pat.as_mut()
        {
            pat.mutability = None;
            pat.by_ref = None;
            names.push(pat.ident.clone());
        }
    }
    sig.inputs.insert(0, syn::parse_quote!(#auth: #guard));
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    sig.output = syn::parse_quote!(-> ::core::result::Result<#output, #runtime::JwtResponse>);

    let run = if sig.asyncness.is_some() {
        quote!(#runtime::JwtAuth::run(#auth, #original(#(#names),*)).await)
    } else {
        quote!(#runtime::JwtAuth::run_sync(#auth, move || #original(#(#names),*)))
    };

    quote! {
        #rules_item
        #(#attrs)*
        #[allow(clippy::too_many_arguments)]
        #vis #sig {
            #[allow(clippy::too_many_arguments)]
            #original_sig #block
            #run
        }
    }
}

/// The `Rules` constants that differ from the trait's defaults, in the trait's order.
fn constants(args: &Args, runtime: &TokenStream) -> Vec<TokenStream> {
    let option = quote!(::core::option::Option);
    let bool = quote!(::core::primitive::bool);
    let mut constants = Vec::new();
    if let Some(realm) = &args.realm {
        constants.push(quote!(const REALM: #option<&'static str> = #option::Some(#realm);));
    }
    if args.refresh.is_some() {
        constants.push(quote!(const REFRESH: #bool = true;));
    }
    if args.fresh.is_some() {
        constants.push(quote!(const FRESH: #bool = true;));
    }
    if args.optional.is_some() {
        constants.push(quote!(const OPTIONAL: #bool = true;));
    }
    if args
        .verify_type
        .as_ref()
        .is_some_and(|verify| !verify.value)
    {
        constants.push(quote!(const VERIFY_TYPE: #bool = false;));
    }
    if let Some(locations) = &args.locations {
        let list = location_list(locations, runtime);
        constants.push(quote! {
            const LOCATIONS: #option<&'static [#runtime::Location]> = #option::Some(&[#(#list),*]);
        });
    }
    if let Some(list) = &args.scopes {
        let scopes = scope_literals(list);
        constants.push(quote!(const SCOPES: &'static [&'static str] = &[#(#scopes),*];));
    }
    if let Some(list) = &args.any_scope {
        let scopes = scope_literals(list);
        constants.push(quote!(const ANY_SCOPE: &'static [&'static str] = &[#(#scopes),*];));
    }
    if args.claim_eq.is_some() || args.claim_includes.is_some() {
        let mut rules = Vec::new();
        if let Some(pairs) = &args.claim_eq {
            rules.extend(claim_rules(pairs, "Equals", runtime));
        }
        if let Some(pairs) = &args.claim_includes {
            rules.extend(claim_rules(pairs, "Includes", runtime));
        }
        constants.push(quote! {
            const CLAIMS: &'static [#runtime::ClaimRule] = &[#(#rules),*];
        });
    }
    if let Some(path) = &args.predicate {
        let payload = quote!(#runtime::Payload);
        let cast = quote_spanned!(path.span()=> #path as fn(&#payload) -> #bool);
        constants.push(quote! {
            const PREDICATE: #option<fn(&#payload) -> #bool> = #option::Some(#cast);
        });
    }
    if let Some(list) = &args.authorities {
        let names = scope_literals(list);
        constants.push(quote!(const AUTHORITIES: &'static [&'static str] = &[#(#names),*];));
    }
    if let Some(dpop) = &args.dpop {
        let mode = dpop_mode(dpop, runtime);
        constants.push(quote! {
            const DPOP: #option<#runtime::DpopMode> = #option::Some(#mode);
        });
    }
    constants
}

/// `DpopMode::Required` (or `Allowed`, `Off`), the variant spanned at the string it was written
/// as.
fn dpop_mode(dpop: &Dpop, runtime: &TokenStream) -> TokenStream {
    let variant = Ident::new(dpop.mode.variant(), dpop.literal.span());
    quote!(#runtime::DpopMode::#variant)
}

/// The scopes' string literals, as written.
fn scope_literals(list: &ScopeList) -> Vec<&syn::LitStr> {
    list.scopes.iter().collect()
}

/// `ClaimRule::<variant>("claim", ClaimValue::..)` for each pair.
fn claim_rules(pairs: &ClaimPairs, variant: &str, runtime: &TokenStream) -> Vec<TokenStream> {
    let variant = Ident::new(variant, Span::call_site());
    pairs
        .pairs
        .iter()
        .map(|pair| {
            let name = &pair.name;
            let value = match &pair.value {
                ClaimLiteral::Str(text) => quote!(#runtime::ClaimValue::Str(#text)),
                ClaimLiteral::Bool(flag) => quote!(#runtime::ClaimValue::Bool(#flag)),
                ClaimLiteral::Int(number) => quote!(#runtime::ClaimValue::Int(#number)),
            };
            quote!(#runtime::ClaimRule::#variant(#name, #value))
        })
        .collect()
}

/// `Location::Headers, ...`, each variant spanned at the string it was written as.
fn location_list(locations: &Locations, runtime: &TokenStream) -> Vec<TokenStream> {
    locations
        .names
        .iter()
        .map(|name| {
            let variant = Ident::new(name.location.variant(), name.literal.span());
            quote!(#runtime::Location::#variant)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::{parse_quote, ImplItem, Item, ItemImpl, ItemStruct, Stmt};

    /// The expansion of `function` with the attribute arguments `args`, as items.
    fn expand(args: TokenStream, function: ItemFn) -> Vec<Item> {
        let args = super::super::parse::args(args).expect("the arguments parse");
        let file: syn::File = syn::parse2(handler(&args, function)).expect("the expansion parses");
        file.items
    }

    /// The rules type, its `Rules` constants as (name, type, value) and the guard's type, of a
    /// handler `p` expanded with `args`.
    fn rules(args: TokenStream) -> (Vec<(String, String, String)>, String) {
        let items = expand(
            args,
            parse_quote!(
                #[get("/")]
                fn p() {}
            ),
        );
        let [Item::Struct(marker), Item::Impl(rules), Item::Fn(handler)] = items.as_slice() else {
            panic!("expected the rules type, its Rules impl and the handler");
        };
        assert_eq!(marker.ident, "__jwt_rules_p");
        let (_, trait_path, _) = rules.trait_.as_ref().expect("a trait impl");
        assert_eq!(flat(trait_path), "::rocket_flask_jwt::__private_v1::Rules");
        assert_eq!(flat(&rules.self_ty), "__jwt_rules_p");
        let constants = rules
            .items
            .iter()
            .map(|item| match item {
                ImplItem::Const(constant) => (
                    constant.ident.to_string(),
                    flat(&constant.ty),
                    flat(&constant.expr),
                ),
                other => panic!("not a constant: {}", flat(other)),
            })
            .collect();
        (constants, arguments(handler)[0].2.clone())
    }

    /// (name, type, value) of a `bool` constant.
    fn bool_constant(name: &str, value: bool) -> (String, String, String) {
        (
            name.to_string(),
            "::core::primitive::bool".to_string(),
            value.to_string(),
        )
    }

    /// Tokens as one string without spaces, for comparing short fragments.
    fn flat(tokens: impl ToTokens) -> String {
        tokens.to_token_stream().to_string().replace(' ', "")
    }

    fn the_handler(items: &[Item]) -> &ItemFn {
        match items.last() {
            Some(Item::Fn(function)) => function,
            other => panic!("the handler comes last: {}", flat(quote!(#other))),
        }
    }

    /// Each argument as (name, `mut`, type).
    fn arguments(function: &ItemFn) -> Vec<(String, bool, String)> {
        let argument = |input: &FnArg| match input {
            FnArg::Typed(argument) => match argument.pat.as_ref() {
                Pat::Ident(pat) => (
                    pat.ident.to_string(),
                    pat.mutability.is_some(),
                    flat(&argument.ty),
                ),
                other => panic!("not a name: {}", flat(other)),
            },
            FnArg::Receiver(_) => panic!("a receiver"),
        };
        function.sig.inputs.iter().map(argument).collect()
    }

    /// The handler's statements: the original handler, then the call that runs it.
    fn body(function: &ItemFn) -> (&ItemFn, String) {
        match function.block.stmts.as_slice() {
            [Stmt::Item(Item::Fn(original)), Stmt::Expr(call, None)] => (original, flat(call)),
            other => panic!("unexpected body: {}", flat(quote!(#(#other)*))),
        }
    }

    #[test]
    fn the_guard_comes_first_and_the_body_runs_through_it() {
        let items = expand(
            quote!(),
            parse_quote! {
                /// Docs stay.
                #[get("/items/<id>")]
                fn item(mut id: u32, db: &State<Db>) -> String { id += 1; id.to_string() }
            },
        );
        assert_eq!(items.len(), 1, "no rules type without arguments");
        let handler = the_handler(&items);
        assert_eq!(handler.sig.ident, "item");
        assert!(handler.attrs.iter().any(|attr| attr.path().is_ident("get")));
        assert!(handler.attrs.iter().any(|attr| attr.path().is_ident("doc")));
        assert_eq!(
            arguments(handler),
            [
                (
                    "__jwt_auth".to_string(),
                    false,
                    "::rocket_flask_jwt::JwtAuth".to_string()
                ),
                ("id".into(), false, "u32".into()),
                ("db".into(), false, "&State<Db>".into()),
            ]
        );
        assert_eq!(
            flat(&handler.sig.output),
            "->::core::result::Result<String,::rocket_flask_jwt::__private_v1::JwtResponse>"
        );

        let (original, call) = body(handler);
        assert_eq!(original.sig.ident, "__jwt_required_item");
        assert_eq!(
            arguments(original),
            [
                ("id".to_string(), true, "u32".to_string()),
                ("db".into(), false, "&State<Db>".into()),
            ]
        );
        assert_eq!(flat(&original.sig.output), "->String");
        assert_eq!(
            call,
            "::rocket_flask_jwt::__private_v1::JwtAuth::run_sync(__jwt_auth,move||__jwt_required_item(id,db))"
        );
    }

    #[test]
    fn an_async_handler_is_awaited_in_the_identity_scope() {
        let items = expand(
            quote!(),
            parse_quote! {
                #[post("/", data = "<body>")]
                async fn create(body: Json<Item>) {}
            },
        );
        let handler = the_handler(&items);
        assert!(handler.sig.asyncness.is_some());
        assert_eq!(
            flat(&handler.sig.output),
            "->::core::result::Result<(),::rocket_flask_jwt::__private_v1::JwtResponse>"
        );
        let (original, call) = body(handler);
        assert!(original.sig.asyncness.is_some());
        assert_eq!(
            call,
            "::rocket_flask_jwt::__private_v1::JwtAuth::run(__jwt_auth,__jwt_required_create(body)).await"
        );
    }

    #[test]
    fn a_realm_is_a_type_given_to_the_guard() {
        let items = expand(
            quote!(realm = "Admin area"),
            parse_quote! {
                #[get("/admin")]
                pub(crate) fn admin() -> &'static str { "admin" }
            },
        );
        let [Item::Struct(marker), Item::Impl(realm), Item::Fn(handler)] = items.as_slice() else {
            panic!("expected the rules type, its Rules impl and the handler");
        };
        let ItemStruct { ident, vis, .. } = marker;
        assert_eq!(ident, "__jwt_rules_admin");
        assert_eq!(
            flat(vis),
            "pub(crate)",
            "the rules type is as visible as the handler"
        );
        let ItemImpl {
            trait_, self_ty, ..
        } = realm;
        let (_, trait_path, _) = trait_.as_ref().expect("a trait impl");
        assert_eq!(flat(trait_path), "::rocket_flask_jwt::__private_v1::Rules");
        assert_eq!(flat(self_ty), "__jwt_rules_admin");
        assert!(
            flat(realm).contains("Some(\"Adminarea\")"),
            "{}",
            flat(realm)
        );
        assert_eq!(
            arguments(handler)[0].2,
            "::rocket_flask_jwt::JwtAuth<__jwt_rules_admin>"
        );
    }

    #[test]
    fn each_mode_sets_only_its_constant() {
        for (mode, constant) in [
            (quote!(refresh), "REFRESH"),
            (quote!(fresh), "FRESH"),
            (quote!(optional), "OPTIONAL"),
        ] {
            let (constants, guard) = rules(mode);
            assert_eq!(constants, [bool_constant(constant, true)]);
            assert_eq!(guard, "::rocket_flask_jwt::JwtAuth<__jwt_rules_p>");
        }
        let (constants, _) = rules(quote!(verify_type = false));
        assert_eq!(constants, [bool_constant("VERIFY_TYPE", false)]);
    }

    #[test]
    fn a_default_value_sets_no_constant() {
        let (constants, guard) = rules(quote!(verify_type = true));
        assert!(constants.is_empty(), "{constants:?}");
        assert_eq!(
            guard, "::rocket_flask_jwt::JwtAuth<__jwt_rules_p>",
            "an argument, even a default one, gives the route its own rules type"
        );
    }

    #[test]
    fn locations_are_the_runtimes_variants_in_the_order_written() {
        let (constants, _) = rules(quote!(
            locations = ["json", "query_string", "cookies", "headers"]
        ));
        let location = "::rocket_flask_jwt::__private_v1::Location";
        assert_eq!(
            constants,
            [(
                "LOCATIONS".to_string(),
                format!("::core::option::Option<&'static[{location}]>"),
                format!(
                    "::core::option::Option::Some(&[{location}::Json,{location}::QueryString,\
                     {location}::Cookies,{location}::Headers])"
                ),
            )]
        );
        let (constants, _) = rules(quote!(locations = "headers"));
        assert_eq!(
            constants[0].2,
            format!("::core::option::Option::Some(&[{location}::Headers])")
        );
    }

    #[test]
    fn scopes_and_claim_rules_are_the_runtimes_constants() {
        let (constants, _) = rules(quote!(
            predicate = auth::is_staff,
            claim_includes = [("roles", "admin")],
            claim_eq = [("org", "acme"), ("verified", true), ("level", -2)],
            any_scope = ["admin", "root"],
            scopes = ["read:messages"],
            authorities = ["auth0", "partner"],
            optional
        ));
        let runtime = "::rocket_flask_jwt::__private_v1";
        let names: Vec<&str> = constants.iter().map(|(name, ..)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "OPTIONAL",
                "SCOPES",
                "ANY_SCOPE",
                "CLAIMS",
                "PREDICATE",
                "AUTHORITIES"
            ]
        );
        assert_eq!(constants[5].2, "&[\"auth0\",\"partner\"]");
        assert_eq!(constants[1].1, "&'static[&'staticstr]");
        assert_eq!(constants[1].2, "&[\"read:messages\"]");
        assert_eq!(constants[2].2, "&[\"admin\",\"root\"]");
        assert_eq!(constants[3].1, format!("&'static[{runtime}::ClaimRule]"));
        assert_eq!(
            constants[3].2,
            format!(
                "&[{runtime}::ClaimRule::Equals(\"org\",{runtime}::ClaimValue::Str(\"acme\")),\
                 {runtime}::ClaimRule::Equals(\"verified\",{runtime}::ClaimValue::Bool(true)),\
                 {runtime}::ClaimRule::Equals(\"level\",{runtime}::ClaimValue::Int(-2i64)),\
                 {runtime}::ClaimRule::Includes(\"roles\",{runtime}::ClaimValue::Str(\"admin\"))]"
            )
        );
        assert_eq!(
            constants[4].1,
            format!("::core::option::Option<fn(&{runtime}::Payload)->::core::primitive::bool>")
        );
        assert_eq!(
            constants[4].2,
            format!(
                "::core::option::Option::Some(auth::is_staffasfn(&{runtime}::Payload)->::core::primitive::bool)"
            )
        );
    }

    #[test]
    fn dpop_is_the_runtimes_mode() {
        let mode = "::rocket_flask_jwt::__private_v1::DpopMode";
        for (args, variant) in [
            (quote!(dpop = "required"), "Required"),
            (quote!(dpop = "allowed"), "Allowed"),
            (quote!(dpop = "off"), "Off"),
        ] {
            let (constants, guard) = rules(args.clone());
            assert_eq!(
                constants,
                [(
                    "DPOP".to_string(),
                    format!("::core::option::Option<{mode}>"),
                    format!("::core::option::Option::Some({mode}::{variant})"),
                )],
                "{args}"
            );
            assert_eq!(guard, "::rocket_flask_jwt::JwtAuth<__jwt_rules_p>");
        }
        let (constants, _) = rules(quote!(
            dpop = "required",
            authorities = ["auth0"],
            fresh,
            realm = "Admin area",
            scopes = ["read:messages"]
        ));
        let names: Vec<&str> = constants.iter().map(|(name, ..)| name.as_str()).collect();
        assert_eq!(names, ["REALM", "FRESH", "SCOPES", "AUTHORITIES", "DPOP"]);
        let (constants, _) = rules(quote!(realm = "Admin area"));
        assert!(
            constants.iter().all(|(name, ..)| name != "DPOP"),
            "without `dpop` the setting applies: {constants:?}"
        );
    }

    #[test]
    fn combined_arguments_set_their_constants_in_the_traits_order() {
        let (constants, _) = rules(quote!(
            locations = ["cookies"],
            verify_type = false,
            optional,
            refresh,
            realm = "Admin area"
        ));
        let names: Vec<&str> = constants.iter().map(|(name, ..)| name.as_str()).collect();
        assert_eq!(
            names,
            ["REALM", "REFRESH", "OPTIONAL", "VERIFY_TYPE", "LOCATIONS"]
        );
        assert_eq!(
            constants[0],
            (
                "REALM".to_string(),
                "::core::option::Option<&'staticstr>".to_string(),
                "::core::option::Option::Some(\"Adminarea\")".to_string()
            )
        );
        let (constants, _) = rules(quote!(fresh, optional, locations = "headers"));
        let names: Vec<&str> = constants.iter().map(|(name, ..)| name.as_str()).collect();
        assert_eq!(names, ["FRESH", "OPTIONAL", "LOCATIONS"]);
    }
}
