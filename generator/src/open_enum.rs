//! Open enums: the spec's string enums, with room for values the spec does not list yet.
//!
//! For each [`EnumSpec`] this emits an enum with one unit variant per documented value plus
//! `Unknown(UnknownValue)`, which keeps any other value exactly as received. Decoding never
//! fails on a new value (a number or boolean is kept as its JSON text, as the tolerance rule
//! of [`crate::tolerance`] says for strings) and encoding writes back the same string, so an
//! unknown value round-trips unchanged. Progenitor's types use these through
//! `with_replacement`.
//!
//! The enums can grow without breaking downstream code (as smithy-rs's do): they are
//! `#[non_exhaustive]`, so every `match` outside the crate has a wildcard arm, and the unknown
//! value is opaque (`UnknownValue` has no public constructor or field; read it with
//! `as_str()`), so no code can match on a raw string that a later version turns into a
//! variant. Compare with a value built from a string instead:
//! `status == BatchStatus::from("paused")` holds before and after `paused` is documented.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeMap;

use crate::EnumSpec;

/// Emits `enums.rs`: every open enum, in name order.
pub fn generate(enums: &BTreeMap<String, EnumSpec>) -> TokenStream {
    let items = enums.values().map(one);
    quote! {
        //! The spec's string enums as open enums: documented values plus `Unknown`.

        /// A value an open enum does not document, kept exactly as received.
        ///
        /// Opaque on purpose: read it with [`as_str`](Self::as_str), and build enum values from
        /// strings with `From<&str>`. Code cannot match on the raw string, so it keeps working
        /// when a later version of the crate documents the value as a variant.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct UnknownValue(::std::string::String);

        impl UnknownValue {
            /// The value as received.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for UnknownValue {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Reads a JSON string, number or boolean as text (numbers and booleans as their JSON
        /// text), for the open enums.
        struct TextVisitor;

        impl<'de> ::serde::de::Visitor<'de> for TextVisitor {
            type Value = ::std::string::String;
            fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<Self::Value, E> {
                Ok(v.to_owned())
            }
            fn visit_string<E: ::serde::de::Error>(self, v: ::std::string::String) -> ::std::result::Result<Self::Value, E> {
                Ok(v)
            }
            fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> ::std::result::Result<Self::Value, E> {
                Ok(v.to_string())
            }
            fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> ::std::result::Result<Self::Value, E> {
                Ok(v.to_string())
            }
            fn visit_f64<E: ::serde::de::Error>(self, v: f64) -> ::std::result::Result<Self::Value, E> {
                Ok(v.to_string())
            }
            fn visit_bool<E: ::serde::de::Error>(self, v: bool) -> ::std::result::Result<Self::Value, E> {
                Ok(v.to_string())
            }
        }

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
         It is `#[non_exhaustive]`: match it with a wildcard arm, and compare with a value built by \
         `From<&str>` (which maps documented values to their variants) to test for a value this version \
         does not document.\n\n\
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
        #[non_exhaustive]
        pub enum #name {
            #( #variants )*
            /// A value this version of the client does not know, kept exactly as received
            /// (read it with [`as_str`](Self::as_str)).
            Unknown(UnknownValue),
        }

        impl #name {
            /// Every documented value, in spec order.
            pub const KNOWN: &'static [#name] = &[ #( #name::#idents ),* ];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#idents => #values, )*
                    Self::Unknown(value) => value.0.as_str(),
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
                    other => Self::Unknown(UnknownValue(other.to_owned())),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #( #values => Self::#idents, )*
                    _ => Self::Unknown(UnknownValue(value)),
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
                deserializer.deserialize_any(TextVisitor).map(Self::from)
            }
        }
    }
}
