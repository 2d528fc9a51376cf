//! The public shape of the generated types, applied to progenitor's `types` module so that the
//! API can grow without breaking downstream code:
//!
//! - every struct and enum is `#[non_exhaustive]`: a new field or variant is not a breaking
//!   change, because no code outside the crate can build the type with a struct literal or
//!   match it exhaustively;
//! - so every struct gets a constructor, `new`, taking the fields that have no empty value
//!   (required and not an `Option`, in field order, which is alphabetical), and a chained
//!   setter `with_<field>` for every other field;
//! - read types decode tolerantly: [`crate::tolerance`] names a decoder for each field that
//!   needs one, added here as `#[serde(deserialize_with = ...)]`;
//! - read structs keep the fields the spec does not define, in a flattened map
//!   `extra` (rule 6 of [`crate::tolerance`]); with it, serde decodes such a struct
//!   only from a JSON object, never from an array by position.
//!
//! Newtype structs (a single unnamed field) are left as they are: they cannot grow.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::{BTreeMap, BTreeSet};

use crate::GenerateError;
use crate::progenitor_output::{serde_words, types_items_mut};
use crate::tolerance::{EXTRA_FIELD, deserializer_for, last_ident, option_inner};

/// What shaping found, for the rest of the generator.
#[derive(Debug, Clone, Default)]
pub struct Shaped {
    /// Rust names of the read types (decoded tolerantly).
    pub read_types: BTreeSet<String>,
}

/// Applies the shape to `raw` (progenitor's `types` module, as
/// [`crate::progenitor_output::read`] gives it). `read_components` are the Rust names of the
/// component schemas the tolerance rule calls read; `open_enums` the open enums' names;
/// `success_types` the last identifiers of the operations' success types.
pub(crate) fn shape(
    raw: &mut syn::File,
    read_components: &BTreeSet<String>,
    open_enums: &BTreeSet<String>,
    success_types: &BTreeSet<String>,
) -> Result<Shaped, GenerateError> {
    let items =
        types_items_mut(raw).ok_or_else(|| GenerateError::Progenitor("progenitor emitted no `types` module".into()))?;
    let names: BTreeSet<String> = items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            _ => None,
        })
        .collect();

    // The read types: read components, what the generated methods return, and everything
    // those hold.
    let mut read: BTreeSet<String> = read_components
        .iter()
        .chain(success_types.iter())
        .filter(|n| names.contains(*n))
        .cloned()
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in items.iter() {
        let (name, tys): (String, Vec<&syn::Type>) = match item {
            syn::Item::Struct(s) => (s.ident.to_string(), s.fields.iter().map(|f| &f.ty).collect()),
            syn::Item::Enum(e) => (
                e.ident.to_string(),
                e.variants.iter().flat_map(|v| v.fields.iter().map(|f| &f.ty)).collect(),
            ),
            _ => continue,
        };
        let mut refs = BTreeSet::new();
        for ty in tys {
            idents_in(ty, &mut refs);
        }
        edges.insert(name, refs.intersection(&names).cloned().collect());
    }
    let mut todo: Vec<String> = read.iter().cloned().collect();
    while let Some(n) = todo.pop() {
        for m in edges.get(&n).into_iter().flatten() {
            if read.insert(m.clone()) {
                todo.push(m.clone());
            }
        }
    }

    let message_types: BTreeSet<String> = items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s)
                if read.contains(&s.ident.to_string())
                    && s.fields.iter().any(|f| {
                        f.ident.as_ref().is_some_and(|i| i == "message")
                            && option_inner(&f.ty).and_then(last_ident).as_deref() == Some("String")
                    }) =>
            {
                Some(s.ident.to_string())
            }
            _ => None,
        })
        .collect();

    let mut constructors = Vec::new();
    for item in items.iter_mut() {
        match item {
            syn::Item::Struct(s) if matches!(s.fields, syn::Fields::Named(_)) => {
                s.attrs.push(syn::parse_quote!(#[non_exhaustive]));
                if read.contains(&s.ident.to_string()) {
                    for field in s.fields.iter_mut() {
                        tolerate(field, &message_types);
                    }
                    keep_unknown_fields(s);
                }
                constructors.push(constructor(s, open_enums));
            }
            syn::Item::Enum(e) => e.attrs.push(syn::parse_quote!(#[non_exhaustive])),
            _ => {}
        }
    }
    for c in constructors {
        items.push(syn::parse2(c).map_err(|e| GenerateError::Syntax {
            file: "progenitor.rs",
            message: e.to_string(),
        })?);
    }
    Ok(Shaped { read_types: read })
}

/// Adds [`EXTRA_FIELD`] to a read struct: a map of every field the spec does not define, as
/// received, flattened. Besides keeping those fields (for the client's own checks, such as a
/// list page's unknown paging fields, and for callers), it makes serde read the struct through
/// `deserialize_map` alone: a struct without a flattened field also decodes from a JSON array
/// by position (`["bad", 400]` into `{message, code}`), inventing fields the server never sent.
/// A struct that already has a flattened field is left as it is.
fn keep_unknown_fields(s: &mut syn::ItemStruct) {
    if s.fields.iter().any(|f| serde_words(&f.attrs).contains("flatten")) {
        return;
    }
    let syn::Fields::Named(fields) = &mut s.fields else {
        return;
    };
    let name = format_ident!("{EXTRA_FIELD}");
    fields.named.push(syn::parse_quote! {
        /// The fields the spec does not define, as received (a newer API's, or another
        /// server's); empty when there are none. They are written back when the value is
        /// serialized.
        #[serde(flatten)]
        pub #name: ::serde_json::Map<::std::string::String, ::serde_json::Value>
    });
}

/// Adds the tolerant decoder a read type's field needs.
fn tolerate(field: &mut syn::Field, message_types: &BTreeSet<String>) {
    let name = field.ident.as_ref().map(ToString::to_string).unwrap_or_default();
    let Some(path) = deserializer_for(&name, &field.ty, message_types) else {
        return;
    };
    let optional = option_inner(&field.ty).is_some();
    let attr: syn::Attribute = if optional && !serde_words(&field.attrs).contains("default") {
        syn::parse_quote!(#[serde(default, deserialize_with = #path)])
    } else {
        syn::parse_quote!(#[serde(deserialize_with = #path)])
    };
    field.attrs.push(attr);
}

/// Whether a field is a parameter of `new`: no empty value (not an `Option`, no serde
/// default, not a flattened map).
pub(crate) fn is_constructor_field(field: &syn::Field) -> bool {
    let words = serde_words(&field.attrs);
    option_inner(&field.ty).is_none() && !words.contains("default") && !words.contains("flatten")
}

/// How a value of type `ty` is taken by a constructor or setter: `impl Into<String>` for
/// strings, `impl Into<E>` for open enums (which convert from `&str`), the type itself
/// otherwise (an `impl Into<i64>` would make integer literals ambiguous).
pub(crate) fn param_type(ty: &syn::Type, open_enums: &BTreeSet<String>) -> (TokenStream, bool) {
    match last_ident(ty) {
        Some(n) if n == "String" => (quote!(impl ::std::convert::Into<::std::string::String>), true),
        Some(n) if open_enums.contains(&n) => (quote!(impl ::std::convert::Into<#ty>), true),
        _ => (quote!(#ty), false),
    }
}

/// The Rust method-name part of a field: `type_` gives `type`.
pub(crate) fn setter_suffix(field: &syn::Ident) -> String {
    field.to_string().trim_end_matches('_').to_owned()
}

fn constructor(s: &syn::ItemStruct, open_enums: &BTreeSet<String>) -> TokenStream {
    let name = &s.ident;
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut setters = Vec::new();
    let mut required_names = Vec::new();
    for f in &s.fields {
        let ident = f.ident.as_ref().expect("named fields");
        if is_constructor_field(f) {
            let (ty, convert) = param_type(&f.ty, open_enums);
            params.push(quote!(#ident: #ty));
            inits.push(if convert {
                quote!(#ident: #ident.into())
            } else {
                quote!(#ident)
            });
            required_names.push(format!("`{ident}`"));
            continue;
        }
        inits.push(quote!(#ident: ::std::default::Default::default()));
        let setter = format_ident!("with_{}", setter_suffix(ident));
        let (inner, wrap) = match option_inner(&f.ty) {
            Some(inner) => (inner, true),
            None => (&f.ty, false),
        };
        let (ty, convert) = param_type(inner, open_enums);
        let value = if convert { quote!(value.into()) } else { quote!(value) };
        let value = if wrap {
            quote!(::std::option::Option::Some(#value))
        } else {
            value
        };
        let doc = format!(" Sets [`{ident}`](Self::{ident}).");
        setters.push(quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #setter(mut self, value: #ty) -> Self {
                self.#ident = #value;
                self
            }
        });
    }
    let doc = if required_names.is_empty() {
        format!(" A `{name}` with every field empty (`None`); set fields with the `with_` methods.")
    } else {
        format!(
            " A `{name}` with {} set and every other field empty; set those with the `with_` methods.",
            required_names.join(", ")
        )
    };
    quote! {
        impl #name {
            #[doc = #doc]
            #[allow(clippy::new_without_default, clippy::too_many_arguments)]
            pub fn new(#( #params ),*) -> Self {
                Self { #( #inits ),* }
            }
            #( #setters )*
        }
    }
}

/// Every identifier in a type's path segments (`Option<Vec<Batch>>` gives `Option`, `Vec`,
/// `Batch`).
fn idents_in(ty: &syn::Type, out: &mut BTreeSet<String>) {
    use syn::visit::Visit;
    struct V<'a>(&'a mut BTreeSet<String>);
    impl<'ast> Visit<'ast> for V<'_> {
        fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
            self.0.insert(seg.ident.to_string());
            syn::visit::visit_path_segment(self, seg);
        }
    }
    V(out).visit_type(ty);
}
