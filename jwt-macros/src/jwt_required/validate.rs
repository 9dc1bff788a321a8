//! Validation: what the expansion needs of the handler, each refusal spanned at the offending
//! tokens.

use proc_macro2::Span;
use syn::{FnArg, ItemFn, Pat};

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
    use syn::parse_quote;

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
