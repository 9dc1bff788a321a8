//! Expansion: the handler takes the `JwtAuth` guard first and runs its original body through it,
//! in one call.
//!
//! ```text
//! // #[jwt_required(realm = "Admin area")] #[get("/items/<id>")] fn item(mut id: u32) -> T { .. }
//! #[doc(hidden)] struct __jwt_realm_item;          // only with `realm = ".."`
//! impl Rules for __jwt_realm_item { const REALM: Option<&'static str> = Some("Admin area"); }
//!
//! #[get("/items/<id>")]                             // the handler's attributes, unchanged
//! fn item(__jwt_auth: JwtAuth<__jwt_realm_item>, id: u32) -> Result<T, JwtResponse> {
//!     fn __jwt_required_item(mut id: u32) -> T { .. }   // the original handler
//!     JwtAuth::run_sync(__jwt_auth, move || __jwt_required_item(id))
//!     // async handlers: JwtAuth::run(__jwt_auth, __jwt_required_item(id)).await
//! }
//! ```
//!
//! The guard comes first because Rocket runs request guards in parameter order: authentication
//! decides before any other guard of the route, and before the body is read.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType};

use super::parse::Args;

/// The runtime's hidden module for generated code; its version is the expansion's.
fn runtime() -> TokenStream {
    quote!(::rocket_flask_jwt::__private_v1)
}

/// The protected handler, preceded by its realm type when the attribute names a realm.
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

    let (realm_item, guard) = match &args.realm {
        Some(realm) => {
            let marker = format_ident!("__jwt_realm_{}", sig.ident);
            let item = quote! {
                #[doc(hidden)]
                #[allow(non_camel_case_types)]
                #vis struct #marker;
                impl #runtime::Rules for #marker {
                    const REALM: ::core::option::Option<&'static str> =
                        ::core::option::Option::Some(#realm);
                }
            };
            (item, quote!(#runtime::JwtAuth<#marker>))
        }
        None => (TokenStream::new(), quote!(#runtime::JwtAuth)),
    };

    let mut original_sig = sig.clone();
    original_sig.ident = original.clone();

    let mut sig = sig;
    let mut names = Vec::new();
    for input in sig.inputs.iter_mut() {
        if let FnArg::Typed(argument) = input {
            if let Pat::Ident(pat) = argument.pat.as_mut() {
                pat.mutability = None;
                pat.by_ref = None;
                names.push(pat.ident.clone());
            }
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
        #realm_item
        #(#attrs)*
        #[allow(clippy::too_many_arguments)]
        #vis #sig {
            #[allow(clippy::too_many_arguments)]
            #original_sig #block
            #run
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::{parse_quote, Item, ItemImpl, ItemStruct, Stmt};

    /// The expansion of `function` with `realm`, as items.
    fn expand(realm: Option<&str>, function: ItemFn) -> Vec<Item> {
        let args = Args {
            realm: realm.map(|realm| syn::LitStr::new(realm, Span::call_site())),
        };
        let file: syn::File = syn::parse2(handler(&args, function)).expect("the expansion parses");
        file.items
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
            None,
            parse_quote! {
                /// Docs stay.
                #[get("/items/<id>")]
                fn item(mut id: u32, db: &State<Db>) -> String { id += 1; id.to_string() }
            },
        );
        assert_eq!(items.len(), 1, "no realm type without a realm");
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
                    "::rocket_flask_jwt::__private_v1::JwtAuth".to_string()
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
            None,
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
            Some("Admin area"),
            parse_quote! {
                #[get("/admin")]
                pub(crate) fn admin() -> &'static str { "admin" }
            },
        );
        let [Item::Struct(marker), Item::Impl(realm), Item::Fn(handler)] = items.as_slice() else {
            panic!("expected the realm type, its Rules impl and the handler");
        };
        let ItemStruct { ident, vis, .. } = marker;
        assert_eq!(ident, "__jwt_realm_admin");
        assert_eq!(
            flat(vis),
            "pub(crate)",
            "the realm type is as visible as the handler"
        );
        let ItemImpl {
            trait_, self_ty, ..
        } = realm;
        let (_, trait_path, _) = trait_.as_ref().expect("a trait impl");
        assert_eq!(flat(trait_path), "::rocket_flask_jwt::__private_v1::Rules");
        assert_eq!(flat(self_ty), "__jwt_realm_admin");
        assert!(
            flat(realm).contains("Some(\"Adminarea\")"),
            "{}",
            flat(realm)
        );
        assert_eq!(
            arguments(handler)[0].2,
            "::rocket_flask_jwt::__private_v1::JwtAuth<__jwt_realm_admin>"
        );
    }
}
