//! Open enums: the spec's string enums, with room for values the spec does not list yet.
//!
//! For each [`EnumSpec`] this emits an enum with one unit variant per documented value plus
//! `Unknown(String)`, which keeps any other value exactly as received. Decoding never fails on
//! a new value and encoding writes back the same string, so an unknown value round-trips
//! unchanged. Progenitor's types use these through `with_replacement`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeMap;

use crate::EnumSpec;

/// Emits `enums.rs`: every open enum, in name order.
pub fn generate(enums: &BTreeMap<String, EnumSpec>) -> TokenStream {
    let items = enums.values().map(one);
    quote! {
        //! The spec's string enums as open enums: documented values plus `Unknown(String)`.
        #( #items )*
    }
}

fn one(e: &EnumSpec) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let mut doc = e
        .description
        .clone()
        .unwrap_or_else(|| format!("The `{}` values.", e.name))
        .trim_end()
        .to_owned();
    doc.push_str(&format!(
        "\n\nAn open enum: a value the spec does not list decodes as `Unknown` and encodes back unchanged. \
         Build one from a string with `From<&str>`, which maps documented values to their variants.\n\n\
         Spec: `{}`.",
        e.location
    ));
    let variants = e.variants.iter().map(|(value, variant)| {
        let ident = format_ident!("{}", variant);
        let vdoc = format!("`{value}`");
        quote! { #[doc = #vdoc] #ident, }
    });
    let idents: Vec<_> = e.variants.iter().map(|(_, v)| format_ident!("{}", v)).collect();
    let values: Vec<&str> = e.variants.iter().map(|(v, _)| v.as_str()).collect();
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #( #variants )*
            /// A value this version of the client does not know, kept exactly as received.
            Unknown(::std::string::String),
        }

        impl #name {
            /// Every documented value, in spec order.
            pub const KNOWN: &'static [#name] = &[ #( #name::#idents ),* ];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#idents => #values, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether the value is one the spec documents (not `Unknown`).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#idents, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #( #values => Self::#idents, )*
                    _ => Self::Unknown(value),
                }
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                ::std::string::String::deserialize(deserializer).map(Self::from)
            }
        }
    }
}
