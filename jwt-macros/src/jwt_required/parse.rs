//! Parsing: the attribute's arguments into [`Args`], the item into a function.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ItemFn, Lit, LitStr, Meta, Token};

/// The attribute's arguments.
pub(super) struct Args {
    /// `realm = "..."`: the realm of the route's `WWW-Authenticate` challenge.
    pub(super) realm: Option<LitStr>,
}

/// `realm = "..."`, or nothing.
pub(super) fn args(args: TokenStream) -> syn::Result<Args> {
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

    #[test]
    fn realm_is_parsed() {
        let parsed = args(quote!(realm = "Admin")).expect("valid arguments");
        assert_eq!(parsed.realm.expect("a realm").value(), "Admin");
        assert!(args(quote!()).expect("no arguments").realm.is_none());
    }

    #[test]
    fn bad_arguments_are_refused() {
        let unknown = error(quote!(scope = "x"));
        assert!(unknown.contains("unknown argument `scope`"), "{unknown}");
        let non_literal = error(quote!(realm = REALM));
        assert!(non_literal.contains("string literal"), "{non_literal}");
        let twice = error(quote!(realm = "a", realm = "b"));
        assert!(twice.contains("twice"), "{twice}");
        let bare = error(quote!(realm));
        assert!(bare.contains("needs a value"), "{bare}");
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
