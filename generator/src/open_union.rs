//! Open unions: the spec's `oneOf`s, decoded by what tells their members apart, with room for
//! members the spec does not list yet.
//!
//! For each [`UnionSpec`] this emits an enum with one variant per member plus
//! `Unknown(UnknownMember)`, which keeps any value no member claims exactly as received.
//! Decoding reads the value as JSON first and chooses the member by the rule of
//! `normalize/unions.rs` (the discriminator's tag, or JSON type and each object member's
//! mark), before the member's own (tolerant) decoding runs: the tolerance rule never makes two
//! members accept the same value, and no value decodes as a member it does not claim. A value
//! that claims a member but does not decode as it is an error, never another member. Encoding
//! writes the member as itself (with its tag, when the union has one and the member does not
//! hold it) and `Unknown` as received, so an unknown member round-trips unchanged.
//! Progenitor's types use these through `with_replacement`, as they use the open enums of
//! [`crate::open_enum`], whose style this follows: `#[non_exhaustive]`, and an opaque unknown
//! value (`UnknownMember` has no public constructor or field; read it with `as_json()`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeMap;

use crate::normalize::{Decoding, JsonType, Mark, Member, MemberType};
use crate::{CRATE_MODULE, UnionSpec};

/// The name of the type that holds a value no member claims.
pub const UNKNOWN_MEMBER: &str = "UnknownMember";

/// Emits `unions.rs`: every open union, in name order (nothing when there are none).
pub fn generate(unions: &BTreeMap<String, UnionSpec>) -> TokenStream {
    if unions.is_empty() {
        return quote! {
            //! The spec's `oneOf` unions (this spec has none).
        };
    }
    let items = unions.values().map(one);
    // The helpers only some unions use, emitted when one does.
    let any_tag = unions.values().any(|u| matches!(u.decoding, Decoding::Tag { .. }));
    let any_has = unions
        .values()
        .flat_map(|u| &u.members)
        .any(|m| matches!(m.mark, Some(Mark::Has(_))));
    let tagged = if any_tag {
        quote! {
        /// Encodes `value` with its tag: `property` is set to `tag` unless the value holds it.
        fn tagged<T, S>(value: &T, property: &str, tag: &str, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
        where
            T: ::serde::Serialize,
            S: ::serde::Serializer,
        {
            let mut json = ::serde_json::to_value(value).map_err(::serde::ser::Error::custom)?;
            if let ::serde_json::Value::Object(object) = &mut json {
                object
                    .entry(property)
                    .or_insert_with(|| ::serde_json::Value::String(tag.to_owned()));
            }
            ::serde::Serialize::serialize(&json, serializer)
        }
        }
    } else {
        TokenStream::new()
    };
    let has = if any_has {
        quote! {
        /// Whether `object` holds `property`, not `null`.
        fn has(object: &::serde_json::Map<::std::string::String, ::serde_json::Value>, property: &str) -> bool {
            object.get(property).is_some_and(|v| !v.is_null())
        }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        //! The spec's `oneOf` unions: one variant per member, plus `Unknown`.

        /// A value of a union that none of its members claims (an unknown or missing tag, or a
        /// shape no member has), kept exactly as received.
        ///
        /// Opaque on purpose: read it with [`as_json`](Self::as_json). Code cannot match on its
        /// contents, so it keeps working when a later version of the crate documents the member
        /// as a variant.
        #[derive(Clone, Debug, PartialEq)]
        pub struct UnknownMember(::serde_json::Value);

        impl UnknownMember {
            /// The value as received.
            pub fn as_json(&self) -> &::serde_json::Value {
                &self.0
            }
        }

        /// Decodes `value` as the member `variant` of `union`, which it claims: an error, never
        /// another member, when it does not decode.
        fn member<T, U, E>(
            value: ::serde_json::Value,
            wrap: fn(T) -> U,
            union: &str,
            variant: &str,
        ) -> ::std::result::Result<U, E>
        where
            T: ::serde::de::DeserializeOwned,
            E: ::serde::de::Error,
        {
            ::serde_json::from_value(value)
                .map(wrap)
                .map_err(|e| E::custom(format_args!("{union}: a value of {variant} that does not decode: {e}")))
        }

        #tagged

        #has

        #( #items )*
    }
}

/// The Rust type of a member, inside the generated module.
fn rust_type(ty: &MemberType) -> TokenStream {
    let module: TokenStream = CRATE_MODULE.parse().expect("a path");
    match ty {
        MemberType::Component(c) => {
            let name = format_ident!("{}", crate::naming::type_name(c));
            quote!(#module::progenitor::types::#name)
        }
        MemberType::OpenEnum(c) => {
            let name = format_ident!("{}", c);
            quote!(#module::enums::#name)
        }
        MemberType::String => quote!(::std::string::String),
        MemberType::Integer(t) | MemberType::Number(t) => {
            let t = format_ident!("{}", t);
            quote!(#t)
        }
        MemberType::Boolean => quote!(bool),
        MemberType::Array(item) => {
            let item = rust_type(item);
            quote!(::std::vec::Vec<#item>)
        }
    }
}

/// How a union finds a value's member, in words (for its docs, the surface and `API.md`).
pub fn decoding_words(u: &UnionSpec) -> String {
    match &u.decoding {
        Decoding::Tag { property } => format!(
            "by the tag `{property}` ({})",
            u.members
                .iter()
                .map(|m| format!("{}: {}", tags_words(&m.tags), m.variant))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Decoding::Shape => {
            let marks: Vec<String> = u
                .members
                .iter()
                .filter_map(|m| {
                    m.mark
                        .as_ref()
                        .map(|mark| format!("{}: {}", m.variant, mark_words(mark)))
                })
                .collect();
            if marks.is_empty() {
                "by JSON type".to_owned()
            } else {
                format!("by JSON type, and objects by their mark ({})", marks.join("; "))
            }
        }
    }
}

fn tags_words(tags: &[String]) -> String {
    tags.iter().map(|t| format!("{t:?}")).collect::<Vec<_>>().join(" or ")
}

fn mark_words(mark: &Mark) -> String {
    match mark {
        Mark::Has(p) => format!("has `{p}`"),
        Mark::Equals(p, v) => format!("`{p}` is {v:?}"),
    }
}

fn variant_doc(u: &UnionSpec, m: &Member) -> String {
    match (&u.decoding, &m.mark) {
        (Decoding::Tag { property }, _) => format!("`{property}`: {}", tags_words(&m.tags)),
        (Decoding::Shape, Some(mark)) => format!("An object that {}.", mark_words(mark)),
        (Decoding::Shape, None) => match m.json {
            JsonType::String => "A JSON string.".into(),
            JsonType::Number => "A JSON number.".into(),
            JsonType::Boolean => "`true` or `false`.".into(),
            JsonType::Array => "A JSON array.".into(),
            JsonType::Object => "A JSON object.".into(),
        },
    }
}

fn one(u: &UnionSpec) -> TokenStream {
    let name = format_ident!("{}", u.name);
    let mut doc = u
        .description
        .clone()
        .unwrap_or_else(|| format!("The `{}` union.", u.name))
        .trim_end()
        .to_owned();
    doc.push_str(&format!(
        "\n\nA `oneOf` union, decoded {}. A value no member claims decodes as `Unknown` and encodes back \
         unchanged; a value that claims a member but does not decode as it is an error, never another member. \
         It is `#[non_exhaustive]`: match it with a wildcard arm.\n\nSpec: `{}`.",
        decoding_words(u),
        u.location
    ));
    let idents: Vec<_> = u.members.iter().map(|m| format_ident!("{}", m.variant)).collect();
    let types: Vec<_> = u.members.iter().map(|m| rust_type(&m.ty)).collect();
    let docs: Vec<_> = u.members.iter().map(|m| variant_doc(u, m)).collect();
    let serialize = serialize_arms(u, &idents);
    let deserialize = deserialize_body(u, &idents);
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #docs] #idents(#types), )*
            /// A value no member claims, kept exactly as received (read it with
            /// [`UnknownMember::as_json`]).
            Unknown(UnknownMember),
        }

        impl #name {
            /// Whether the value is one of the members the spec documents (not `Unknown`).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        #(
            impl ::std::convert::From<#types> for #name {
                fn from(value: #types) -> Self {
                    Self::#idents(value)
                }
            }
        )*

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #serialize
                    Self::Unknown(value) => ::serde::Serialize::serialize(&value.0, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                #deserialize
            }
        }
    }
}

fn serialize_arms(u: &UnionSpec, idents: &[proc_macro2::Ident]) -> TokenStream {
    let arms = u.members.iter().zip(idents).map(|(m, ident)| match &u.decoding {
        Decoding::Tag { property } => {
            let tag = m.tags.first().cloned().unwrap_or_default();
            quote!(Self::#ident(value) => tagged(value, #property, #tag, serializer),)
        }
        Decoding::Shape => quote!(Self::#ident(value) => ::serde::Serialize::serialize(value, serializer),),
    });
    quote!(#( #arms )*)
}

fn deserialize_body(u: &UnionSpec, idents: &[proc_macro2::Ident]) -> TokenStream {
    let union = &u.name;
    let claim = |m: &Member, ident: &proc_macro2::Ident| {
        let variant = &m.variant;
        quote!(member(value, Self::#ident, #union, #variant))
    };
    match &u.decoding {
        Decoding::Tag { property } => {
            let arms = u.members.iter().zip(idents).map(|(m, ident)| {
                let tags = &m.tags;
                let decode = claim(m, ident);
                quote!(::std::option::Option::Some(#( #tags )|*) => #decode,)
            });
            quote! {
                let tag = value.get(#property).and_then(::serde_json::Value::as_str).map(str::to_owned);
                match tag.as_deref() {
                    #( #arms )*
                    _ => Ok(Self::Unknown(UnknownMember(value))),
                }
            }
        }
        Decoding::Shape => {
            let mut arms = Vec::new();
            for (m, ident) in u.members.iter().zip(idents) {
                let decode = claim(m, ident);
                let pattern = match m.json {
                    JsonType::String => quote!(::serde_json::Value::String(_)),
                    JsonType::Number => quote!(::serde_json::Value::Number(_)),
                    JsonType::Boolean => quote!(::serde_json::Value::Bool(_)),
                    JsonType::Array => quote!(::serde_json::Value::Array(_)),
                    JsonType::Object if m.mark.is_some() => continue,
                    JsonType::Object => quote!(::serde_json::Value::Object(_)),
                };
                arms.push(quote!(#pattern => #decode,));
            }
            let marked: Vec<(&Member, &proc_macro2::Ident)> =
                u.members.iter().zip(idents).filter(|(m, _)| m.mark.is_some()).collect();
            if !marked.is_empty() {
                arms.push(objects_arm(&marked, &claim));
            }
            quote! {
                match &value {
                    #( #arms )*
                    _ => Ok(Self::Unknown(UnknownMember(value))),
                }
            }
        }
    }
}

/// The arm for objects among several object members: exactly one mark must match.
fn objects_arm(
    marked: &[(&Member, &proc_macro2::Ident)],
    claim: &dyn Fn(&Member, &proc_macro2::Ident) -> TokenStream,
) -> TokenStream {
    let checks = marked.iter().map(|(m, _)| match m.mark.as_ref().expect("marked") {
        Mark::Has(p) => quote!(has(object, #p)),
        Mark::Equals(p, v) => quote!(object.get(#p).and_then(::serde_json::Value::as_str) == Some(#v)),
    });
    let arms = (0..marked.len()).map(|i| {
        let pattern = (0..marked.len()).map(|j| if i == j { quote!(true) } else { quote!(false) });
        let decode = claim(marked[i].0, marked[i].1);
        quote!([#( #pattern ),*] => #decode,)
    });
    quote! {
        ::serde_json::Value::Object(object) => match [#( #checks ),*] {
            #( #arms )*
            _ => Ok(Self::Unknown(UnknownMember(value))),
        },
    }
}

/// The unions as the API model describes them.
pub fn model(unions: &BTreeMap<String, UnionSpec>) -> Vec<crate::model::Union> {
    unions
        .values()
        .map(|u| {
            let mut variants: Vec<(String, Vec<syn::Type>, Option<String>)> = u
                .members
                .iter()
                .map(|m| (m.variant.clone(), vec![model_type(&m.ty)], None))
                .collect();
            let unknown = format_ident!("{UNKNOWN_MEMBER}");
            variants.push(("Unknown".into(), vec![syn::parse_quote!(types::#unknown)], None));
            crate::model::Union {
                name: u.name.clone(),
                doc: crate::model::one_line(u.description.as_deref().unwrap_or_default()),
                untagged: false,
                decoding: Some(decoding_words(u)),
                variants,
            }
        })
        .collect()
}

/// A member's type as the model writes types: progenitor's types by their bare name.
fn model_type(ty: &MemberType) -> syn::Type {
    match ty {
        MemberType::Component(c) => {
            let name = format_ident!("{}", crate::naming::type_name(c));
            syn::parse_quote!(#name)
        }
        MemberType::Array(item) => {
            let item = model_type(item);
            syn::parse_quote!(::std::vec::Vec<#item>)
        }
        other => syn::parse2(rust_type(other)).expect("a type"),
    }
}
