//! `#[jwt_required]`: parse the arguments and the handler, validate, then expand.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, FnArg, ItemFn, Lit, LitStr, Meta, Pat, ReturnType, Token};

/// Route attributes the macro must be placed above.
const ROUTE_ATTRIBUTES: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "route",
];

/// The parsed attribute arguments.
struct Args {
    realm: Option<LitStr>,
}

/// Entry point: on error, the original item is emitted beside the error, so the user sees one
/// precise message instead of a cascade.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #item)
        }
    }
}

fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = parse_args(args)?;
    let function: ItemFn = syn::parse2(item.clone()).map_err(|_| {
        syn::Error::new(
            Span::call_site(),
            "#[jwt_required] applies to a Rocket handler function, e.g. \
             `#[jwt_required] #[get(\"/protected\")] fn protected() -> String { .. }`",
        )
    })?;
    validate(&function)?;
    if has_pattern_argument(&function) {
        // Rocket's route attribute reports this precisely; a second error would only repeat it.
        return Ok(item);
    }
    Ok(generate(&args, function))
}

// ----- parse -------------------------------------------------------------------------------------

fn parse_args(args: TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut realm: Option<LitStr> = None;
    for meta in metas {
        match meta {
            Meta::NameValue(pair) if pair.path.is_ident("realm") => {
                if realm.is_some() {
                    return Err(syn::Error::new_spanned(pair.path, "`realm` is given twice"));
                }
                match pair.value {
                    Expr::Lit(syn::ExprLit {
                        lit: Lit::Str(lit), ..
                    }) => realm = Some(lit),
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "`realm` must be a string literal, e.g. `realm = \"Admin area\"`",
                        ))
                    }
                }
            }
            Meta::Path(path) if path.is_ident("realm") => {
                return Err(syn::Error::new_spanned(
                    path,
                    "`realm` needs a value, e.g. `realm = \"Admin area\"`",
                ))
            }
            other => {
                let name = other.path().to_token_stream().to_string().replace(' ', "");
                return Err(syn::Error::new_spanned(
                    other.path(),
                    format!(
                        "unknown argument `{name}`: #[jwt_required] accepts only `realm = \"...\"`"
                    ),
                ));
            }
        }
    }
    Ok(Args { realm })
}

// ----- validate ----------------------------------------------------------------------------------

fn is_route_attribute(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| ROUTE_ATTRIBUTES.contains(&segment.ident.to_string().as_str()))
}

fn validate(function: &ItemFn) -> syn::Result<()> {
    if !function.attrs.iter().any(is_route_attribute) {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[jwt_required] must be placed above the route attribute, e.g. \
             `#[jwt_required]` then `#[get(\"/protected\")]` on the line below",
        ));
    }
    for input in &function.sig.inputs {
        if let FnArg::Receiver(receiver) = input {
            return Err(syn::Error::new_spanned(
                receiver,
                "#[jwt_required] applies to free handler functions, not methods",
            ));
        }
    }
    Ok(())
}

/// Whether an argument is a pattern rather than a name (which Rocket itself refuses).
fn has_pattern_argument(function: &ItemFn) -> bool {
    function
        .sig
        .inputs
        .iter()
        .any(|input| matches!(input, FnArg::Typed(arg) if !matches!(*arg.pat, Pat::Ident(_))))
}

// ----- expand ------------------------------------------------------------------------------------

fn generate(args: &Args, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let runtime = quote!(::rocket_flask_jwt::__private);
    let inner = format_ident!("__jwt_required_{}", sig.ident);

    let mut inner_sig = sig.clone();
    inner_sig.ident = inner.clone();

    let mut outer_sig = sig.clone();
    let mut names = Vec::new();
    for input in outer_sig.inputs.iter_mut() {
        if let FnArg::Typed(arg) = input {
            if let Pat::Ident(pat) = arg.pat.as_mut() {
                pat.mutability = None;
                pat.by_ref = None;
                names.push(pat.ident.clone());
            }
        }
    }
    outer_sig
        .inputs
        .insert(0, syn::parse_quote!(__jwt_auth: #runtime::JwtAuth<'_>));
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    outer_sig.output = syn::parse_quote!(-> ::core::result::Result<#output, #runtime::JwtResponse>);

    let realm = match &args.realm {
        Some(realm) => quote!(::core::option::Option::Some(#realm)),
        None => quote!(::core::option::Option::None),
    };
    let call = if sig.asyncness.is_some() {
        quote!(#runtime::scope(__jwt_identity, #inner(#(#names),*)).await)
    } else {
        quote!(#runtime::sync_scope(__jwt_identity, move || #inner(#(#names),*)))
    };

    quote! {
        #(#attrs)*
        #vis #outer_sig {
            #[allow(clippy::too_many_arguments)]
            #inner_sig #block
            let __jwt_identity = match #runtime::JwtAuth::require(__jwt_auth, #realm) {
                ::core::result::Result::Ok(identity) => identity,
                ::core::result::Result::Err(response) => return ::core::result::Result::Err(response),
            };
            ::core::result::Result::Ok(#call)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_is_parsed() {
        let args = parse_args(quote!(realm = "Admin")).unwrap();
        assert_eq!(args.realm.unwrap().value(), "Admin");
        assert!(parse_args(quote!()).unwrap().realm.is_none());
    }

    #[test]
    fn bad_arguments_are_refused() {
        let unknown = parse_args(quote!(scope = "x")).err().unwrap().to_string();
        assert!(unknown.contains("unknown argument `scope`"), "{unknown}");
        let non_literal = parse_args(quote!(realm = REALM)).err().unwrap().to_string();
        assert!(non_literal.contains("string literal"), "{non_literal}");
        let twice = parse_args(quote!(realm = "a", realm = "b"))
            .err()
            .unwrap()
            .to_string();
        assert!(twice.contains("twice"), "{twice}");
    }

    #[test]
    fn expansion_wraps_the_handler() {
        let out = expand(
            quote!(realm = "Admin"),
            quote!(
                #[get("/p/<id>")]
                fn p(mut id: u32) -> String {
                    id += 1;
                    id.to_string()
                }
            ),
        )
        .to_string();
        assert!(
            out.contains("__jwt_auth : :: rocket_flask_jwt :: __private :: JwtAuth"),
            "{out}"
        );
        assert!(
            out.contains("fn __jwt_required_p (mut id : u32) -> String"),
            "{out}"
        );
        assert!(
            out.contains("Result < String , :: rocket_flask_jwt :: __private :: JwtResponse >"),
            "{out}"
        );
        assert!(out.contains("sync_scope"), "{out}");
        assert!(out.contains("Some (\"Admin\")"), "{out}");
    }

    #[test]
    fn missing_route_attribute_keeps_the_item() {
        let out = expand(
            quote!(),
            quote!(
                fn p() {}
            ),
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("fn p () { }"), "{out}");
    }
}
