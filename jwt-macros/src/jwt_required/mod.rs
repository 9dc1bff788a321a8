//! `#[jwt_required]`: [`parse`] the arguments and the handler, [`validate`] both, then
//! [`expand`] them into a handler that takes the `JwtAuth` guard first and runs the original body
//! through it.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

/// Entry point: on error, the original item is emitted beside the error, so the user sees one
/// precise message instead of a cascade of unresolved names.
pub(crate) fn jwt_required(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_jwt_required(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #item)
        }
    }
}

fn try_jwt_required(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = parse::args(args)?;
    let handler = parse::handler(item)?;
    validate::args(&args)?;
    validate::handler(&handler)?;
    Ok(expand::handler(&args, handler))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The top-level items of an expansion, by kind: `compile_error!` invocations and functions.
    fn items(tokens: TokenStream) -> (usize, Vec<String>) {
        let file: syn::File = syn::parse2(tokens).expect("the output parses");
        let mut errors = 0;
        let mut functions = Vec::new();
        for item in file.items {
            match item {
                syn::Item::Macro(mac)
                    if mac
                        .mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|segment| segment.ident == "compile_error") =>
                {
                    errors += 1
                }
                syn::Item::Fn(function) => functions.push(function.sig.ident.to_string()),
                _ => {}
            }
        }
        (errors, functions)
    }

    #[test]
    fn an_error_is_emitted_with_the_item_unchanged() {
        let output = jwt_required(
            quote!(),
            quote! {
                #[get("/<a>/<b>")]
                fn protected((a, b): (u32, u32)) -> String { format!("{a} {b}") }
            },
        );
        assert_eq!(items(output), (1, vec!["protected".to_string()]));
        let output = jwt_required(
            quote!(realm),
            quote!(
                fn p() {}
            ),
        );
        assert_eq!(items(output), (1, vec!["p".to_string()]));
        let output = jwt_required(
            quote!(fresh, refresh),
            quote! {
                #[get("/")]
                fn p() {}
            },
        );
        assert_eq!(items(output), (1, vec!["p".to_string()]));
    }

    #[test]
    fn a_valid_handler_is_expanded_without_error() {
        for args in [
            quote!(),
            quote!(realm = "Admin"),
            quote!(dpop = "required"),
            quote!(fresh, dpop = "allowed", realm = "Admin"),
            quote!(
                refresh,
                optional,
                locations = ["cookies"],
                verify_type = false
            ),
        ] {
            let output = jwt_required(
                args,
                quote! {
                    #[get("/")]
                    fn p() {}
                },
            );
            assert_eq!(items(output), (0, vec!["p".to_string()]));
        }
    }
}
