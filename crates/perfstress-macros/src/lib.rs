//! Procedural macros of perfstress. Use them through the `perfstress`
//! crate (`#[perfstress::test]`), not directly.

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, ExprLit, ImplItem, ItemImpl, Lit, LitStr, Meta, Token, Type, parse_macro_input};

/// Registers a test: put it on the `impl PerfTest for MyTest` (or
/// `BatchPerfTest`, `EventPerfTest`) block. The test is then listed and run by its type
/// name. The description shown in the list is the first line of the impl
/// block's doc comment, or `#[perfstress::test(description = "...")]`.
///
/// `#[perfstress::test(sync_bridge)]` on a test that has only `run_async`
/// (or `run_batch_async`) lets it run under `--sync` as well: each
/// instance's thread drives the async operation on a runtime of its own.
/// `alias = "name"` (repeatable) adds a name the test is also found by,
/// case-insensitively, e.g. the Class names of a suite migrating from
/// `azure_core_test` (`#[perfstress::test(alias = "download_blob")]`).
/// `crate = path` names the perfstress crate when it is re-exported.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let arguments = parse_macro_input!(attr as Arguments);
    let item_impl = parse_macro_input!(item as ItemImpl);
    match expand(arguments, &item_impl) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#item_impl #error).into()
        }
    }
}

struct Arguments {
    description: Option<LitStr>,
    /// `crate = path`: where perfstress is, for crates that re-export it.
    krate: Option<syn::Path>,
    /// `sync_bridge`: an async-only test runs under `--sync` too, its
    /// `run_async` driven on a runtime owned by each instance's thread.
    sync_bridge: Option<syn::Ident>,
    /// `alias = "..."` (repeatable): other names the test is found by.
    aliases: Vec<LitStr>,
}

impl Parse for Arguments {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut description = None;
        let mut krate = None;
        let mut sync_bridge = None;
        let mut aliases = Vec::new();
        while !input.is_empty() {
            let name: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
            if name == "sync_bridge" {
                sync_bridge = Some(name);
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
                continue;
            }
            input.parse::<Token![=]>()?;
            if name == "description" {
                description = Some(input.parse::<LitStr>()?);
            } else if name == "alias" {
                aliases.push(input.parse::<LitStr>()?);
            } else if name == "crate" {
                krate = Some(input.parse::<syn::Path>()?);
            } else {
                return Err(syn::Error::new(
                    name.span(),
                    "unknown argument; expected `description = \"...\"`, `alias = \"...\"`, `sync_bridge` or `crate = path`",
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(Self {
            description,
            krate,
            sync_bridge,
            aliases,
        })
    }
}

fn expand(arguments: Arguments, item_impl: &ItemImpl) -> syn::Result<proc_macro2::TokenStream> {
    let Some((_, trait_path, _)) = &item_impl.trait_ else {
        return Err(syn::Error::new_spanned(
            &item_impl.self_ty,
            "#[perfstress::test] goes on `impl PerfTest for MyTest` or `impl BatchPerfTest for MyTest`",
        ));
    };
    if !item_impl.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item_impl.generics,
            "a registered test must be a concrete type; register each instantiation with its own type",
        ));
    }
    let trait_name = trait_path
        .segments
        .last()
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default();
    let (constructor, sync_method, async_method) = match trait_name.as_str() {
        "PerfTest" => (quote!(single), "run_sync", "run_async"),
        "BatchPerfTest" => (quote!(batch), "run_batch_sync", "run_batch_async"),
        "EventPerfTest" => (quote!(event), "start_events_sync", "start_events_async"),
        _ => {
            return Err(syn::Error::new_spanned(
                trait_path,
                "#[perfstress::test] supports `PerfTest`, `BatchPerfTest` and `EventPerfTest` impls",
            ));
        }
    };
    let Type::Path(self_path) = &*item_impl.self_ty else {
        return Err(syn::Error::new_spanned(
            &item_impl.self_ty,
            "expected a type name",
        ));
    };
    let name = self_path
        .path
        .segments
        .last()
        .map(|segment| segment.ident.to_string())
        .ok_or_else(|| syn::Error::new_spanned(&item_impl.self_ty, "expected a type name"))?;
    let defines = |method: &str| {
        item_impl
            .items
            .iter()
            .any(|item| matches!(item, ImplItem::Fn(function) if function.sig.ident == method))
    };
    let (has_sync, has_async) = (defines(sync_method), defines(async_method));
    if !has_sync && !has_async {
        return Err(syn::Error::new_spanned(
            &item_impl.self_ty,
            format!("a test must implement `{sync_method}`, `{async_method}` or both"),
        ));
    }
    let constructor = match (&arguments.sync_bridge, has_sync) {
        (None, _) => constructor,
        (Some(bridge), true) => {
            return Err(syn::Error::new_spanned(
                bridge,
                format!("`sync_bridge` is for tests without `{sync_method}`: this one has it"),
            ));
        }
        (Some(bridge), false) if trait_name == "EventPerfTest" => {
            return Err(syn::Error::new_spanned(
                bridge,
                "`sync_bridge` is for PerfTest and BatchPerfTest: an event test's sources start in `start_events_sync`",
            ));
        }
        (Some(_), false) => {
            let bridged = quote::format_ident!("{}_bridged", constructor.to_string());
            quote!(#bridged)
        }
    };
    let has_sync = has_sync || arguments.sync_bridge.is_some();
    let description = match arguments.description {
        Some(description) => description.value(),
        None => first_doc_line(&item_impl.attrs),
    };
    let self_ty = &item_impl.self_ty;
    let aliases = &arguments.aliases;
    let krate = arguments
        .krate
        .map(|path| quote!(#path))
        .unwrap_or_else(|| quote!(::perfstress));
    Ok(quote! {
        #item_impl
        #krate::__private::inventory::submit! {
            #krate::__private::#constructor::<#self_ty>(
                #krate::__private::Registration {
                    name: #name,
                    description: #description,
                    module_path: ::core::module_path!(),
                    suite_version: ::core::env!("CARGO_PKG_VERSION"),
                    aliases: &[#(#aliases),*],
                    has_sync: #has_sync,
                    has_async: #has_async,
                }
            )
        }
    })
}

/// The first non-empty line of the doc comment in `attrs`.
fn first_doc_line(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(pair) => match &pair.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .find(|line| !line.is_empty())
        .unwrap_or_default()
}
