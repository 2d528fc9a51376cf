//! Every reader of progenitor's output, in one place: what the generator takes from the code
//! progenitor 0.15.1 emits, and the checks that fail regeneration, naming what was expected and
//! where, when a progenitor release emits something else.
//!
//! The generator keeps two things of progenitor's output and nothing else:
//!
//! 1. **The `types` module** (typify's types for the spec's schemas), written out as
//!    `progenitor.rs` once [`crate::shape`] has given it its public shape.
//! 2. **The signature of each positional method** (`Client::<operationId>(&self, ..) ->
//!    Result<ResponseValue<T>, Error<E>>`), read as data: each argument's name and Rust type
//!    (the types typify chose for the parameters and the request body) and the success type.
//!    The method bodies (progenitor's request code) are dropped: the builders in `builder.rs`
//!    send requests through the hand-written call path instead.
//!
//! What is recognised, each checked by [`read`] (see `ARCHITECTURE.md`, "Progenitor outputs
//! depended on"):
//!
//! - the file's top-level items: `use` items, `mod types`, `struct Client`, its inherent and
//!   trait impls, the hooks assertion (`const _`), `mod prelude`; anything else fails;
//! - in `types`: structs, enums, impls and the `error` module, nothing else; every struct and
//!   enum derives serde's `Deserialize` and `Serialize` (the shape adds `#[serde(..)]`
//!   attributes to them); a field that progenitor skips when `None` has an `Option` type (how
//!   optional fields are told); no inherent `new` or `with_*` method that the shape's
//!   constructors would collide with; no type of its own for a schema given to
//!   `with_replacement` (the open enums);
//! - each operation's method: `pub async fn`, receiver `&self`, named arguments whose types
//!   are `&'a str`, `&'a T`, `Option<..>`, the body's generic `B` or an owned type, and the
//!   return type `Result<ResponseValue<T>, Error<..>>`.

use std::collections::{BTreeMap, BTreeSet};

use quote::ToTokens;

use crate::GenerateError;

/// What the generator takes from progenitor's output.
#[derive(Debug, Clone)]
pub struct ProgenitorOutput {
    /// A file holding only progenitor's `types` module (shaped by [`crate::shape`], then
    /// written out as `progenitor.rs`).
    pub types: syn::File,
    /// Each positional method's signature, by operationId.
    pub methods: BTreeMap<String, Method>,
}

/// One positional method's signature, as data.
#[derive(Debug, Clone)]
pub struct Method {
    /// The arguments after `&self`, in progenitor's order.
    pub args: Vec<Arg>,
    /// What a success returns.
    pub success: Success,
}

/// One argument of a positional method.
#[derive(Debug, Clone)]
pub struct Arg {
    /// progenitor's (typify's) Rust name of the parameter, or `body`.
    pub name: syn::Ident,
    /// The owned type a request builder stores: `String` for `&'a str`, `T` for `&'a T`,
    /// `::reqwest::Body` for the raw body's generic `B`; for an optional argument, the type
    /// inside the `Option`.
    pub ty: syn::Type,
    /// Whether progenitor takes it as an `Option`.
    pub optional: bool,
    /// Whether it is the raw request body (progenitor's generic `B: Into<reqwest::Body>`).
    pub raw_body: bool,
}

/// What a positional method returns on success: progenitor's `ResponseValue<T>`.
#[derive(Debug, Clone)]
pub enum Success {
    /// A JSON body decoded into this type (a path in the generated code: `types::Batch`).
    Json(Box<syn::Type>),
    /// A body of another media type, streamed (`ResponseValue<ByteStream>`).
    Stream,
    /// No body (`ResponseValue<()>`).
    Empty,
}

/// Where the generator was built against: named in every failure.
const VERSION: &str = "progenitor 0.15.1";

/// The failure for output of another shape than expected.
fn drift(at: impl std::fmt::Display, expected: impl std::fmt::Display, found: impl std::fmt::Display) -> GenerateError {
    GenerateError::Progenitor(format!(
        "progenitor's output changed shape at {at}: expected {expected}, found {found}. The generator reads \
         {VERSION}'s output (ARCHITECTURE.md lists what it depends on): update `generator/src/progenitor_output.rs` \
         for the new release"
    ))
}

fn tokens(node: &impl ToTokens) -> String {
    let text = node.to_token_stream().to_string();
    let short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        format!("`{short}…`")
    } else {
        format!("`{short}`")
    }
}

/// Reads progenitor's output for a spec whose `open_enums` were given to `with_replacement`.
///
/// # Errors
///
/// [`GenerateError::Progenitor`] naming what was expected, where and what was found, when
/// the output does not have the shape described in the module docs.
pub fn read(file: syn::File, open_enums: &BTreeSet<String>) -> Result<ProgenitorOutput, GenerateError> {
    let mut types = None;
    let mut methods = BTreeMap::new();
    for item in file.items {
        match item {
            syn::Item::Use(_) => {}
            syn::Item::Mod(m) if m.ident == "types" => {
                if m.content.is_none() {
                    return Err(drift("`mod types`", "an inline module", "`mod types;`"));
                }
                if types.replace(m).is_some() {
                    return Err(drift("`mod types`", "one `types` module", "two"));
                }
            }
            syn::Item::Mod(m) if m.ident == "prelude" => {}
            syn::Item::Struct(s) if s.ident == "Client" => {}
            syn::Item::Const(c) if c.ident == "_" => {}
            syn::Item::Impl(imp) if is_client(&imp.self_ty) => {
                if imp.trait_.is_none() {
                    read_client_impl(&imp, &mut methods)?;
                }
            }
            other => {
                return Err(drift(
                    "the top level of the file",
                    "only `use` items, `mod types`, `struct Client` and its impls, `const _` and `mod prelude`",
                    tokens(&other),
                ));
            }
        }
    }
    let Some(types) = types else {
        return Err(drift(
            "the top level of the file",
            "a `pub mod types { .. }` holding the generated types",
            "no `types` module",
        ));
    };
    check_types(&types, open_enums)?;
    Ok(ProgenitorOutput {
        types: syn::File {
            shebang: None,
            frontmatter: None,
            attrs: Vec::new(),
            items: vec![syn::Item::Mod(types)],
        },
        methods,
    })
}

/// `Client` or `&Client`.
fn is_client(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.is_ident("Client"),
        syn::Type::Reference(r) => is_client(&r.elem),
        _ => false,
    }
}

/// The inherent `impl Client`: the constructors, or the positional methods.
fn read_client_impl(imp: &syn::ItemImpl, methods: &mut BTreeMap<String, Method>) -> Result<(), GenerateError> {
    for item in &imp.items {
        let syn::ImplItem::Fn(f) = item else {
            return Err(drift("`impl Client`", "only methods", tokens(item)));
        };
        let name = f.sig.ident.to_string();
        match (f.sig.asyncness.is_some(), name.as_str()) {
            (false, "new" | "new_with_client") => {}
            (false, _) => {
                return Err(drift(
                    format!("`Client::{name}`"),
                    "`new`, `new_with_client` or an `async fn` per operation",
                    "another function",
                ));
            }
            (true, _) => {
                let method = read_method(&name, &f.sig)?;
                methods.insert(name, method);
            }
        }
    }
    Ok(())
}

fn read_method(name: &str, sig: &syn::Signature) -> Result<Method, GenerateError> {
    let at = format!("`Client::{name}`");
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(syn::FnArg::Receiver(r)) if matches!(r.kind, syn::ReceiverKind::Reference(_, _, None)) => {}
        other => {
            return Err(drift(
                &at,
                "the receiver `&'a self`",
                other.map_or("none".into(), tokens),
            ));
        }
    }
    let generics: BTreeSet<String> = sig.generics.type_params().map(|p| p.ident.to_string()).collect();
    let mut args = Vec::new();
    for input in inputs {
        let syn::FnArg::Typed(t) = input else {
            return Err(drift(&at, "named arguments", tokens(input)));
        };
        let syn::Pat::Ident(pat) = &*t.pat else {
            return Err(drift(&at, "an argument name", tokens(&t.pat)));
        };
        args.push(read_arg(&at, pat.ident.clone(), &t.ty, &generics)?);
    }
    Ok(Method {
        args,
        success: read_success(&at, &sig.output)?,
    })
}

/// An argument of type `&'a str`, `&'a T`, `Option<&'a str>`, `Option<&'a T>`, `Option<T>`,
/// `B` (the raw body) or `T`.
fn read_arg(at: &str, name: syn::Ident, ty: &syn::Type, generics: &BTreeSet<String>) -> Result<Arg, GenerateError> {
    let (inner, optional) = match option_inner(ty) {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    let raw_body =
        matches!(inner, syn::Type::Path(p) if p.path.get_ident().is_some_and(|i| generics.contains(&i.to_string())));
    let owned: syn::Type = match inner {
        _ if raw_body && !optional => syn::parse_quote!(::reqwest::Body),
        _ if raw_body => return Err(drift(at, format!("the raw body `{name}` required"), "an optional one")),
        syn::Type::Reference(r) if r.mutability.is_some() => {
            return Err(drift(at, format!("`{name}` by shared reference or value"), tokens(ty)));
        }
        syn::Type::Reference(r) => match &*r.elem {
            syn::Type::Path(p) if p.path.is_ident("str") => syn::parse_quote!(::std::string::String),
            elem => elem.clone(),
        },
        syn::Type::Path(_) => inner.clone(),
        _ => return Err(drift(at, format!("`{name}` of a named type"), tokens(ty))),
    };
    Ok(Arg {
        name,
        ty: owned,
        optional,
        raw_body,
    })
}

/// `Result<ResponseValue<T>, Error<E>>`.
fn read_success(at: &str, output: &syn::ReturnType) -> Result<Success, GenerateError> {
    let expected = "the return type `Result<ResponseValue<T>, Error<E>>`";
    let syn::ReturnType::Type(_, ty) = output else {
        return Err(drift(at, expected, "none"));
    };
    let found = || tokens(&**ty);
    let result = last_segment_args(ty, "Result").ok_or_else(|| drift(at, expected, found()))?;
    let (Some(syn::GenericArgument::Type(value)), Some(syn::GenericArgument::Type(error))) =
        (result.first(), result.get(1))
    else {
        return Err(drift(at, expected, found()));
    };
    if last_segment_args(error, "Error").is_none() {
        return Err(drift(at, expected, found()));
    }
    let value = last_segment_args(value, "ResponseValue").ok_or_else(|| drift(at, expected, found()))?;
    let Some(syn::GenericArgument::Type(t)) = value.first() else {
        return Err(drift(at, expected, found()));
    };
    Ok(match t {
        syn::Type::Tuple(u) if u.elems.is_empty() => Success::Empty,
        syn::Type::Path(p) if p.path.is_ident("ByteStream") => Success::Stream,
        _ => Success::Json(Box::new(t.clone())),
    })
}

fn last_segment_args<'a>(ty: &'a syn::Type, name: &str) -> Option<Vec<&'a syn::GenericArgument>> {
    let syn::Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    if seg.ident != name {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => Some(a.args.iter().collect()),
        _ => None,
    }
}

/// The checks on the `types` module (see the module docs).
fn check_types(types: &syn::ItemMod, open_enums: &BTreeSet<String>) -> Result<(), GenerateError> {
    let items = &types.content.as_ref().expect("checked inline").1;
    let mut inherent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in items {
        let (name, attrs) = match item {
            syn::Item::Struct(s) => (s.ident.to_string(), &s.attrs),
            syn::Item::Enum(e) => (e.ident.to_string(), &e.attrs),
            syn::Item::Impl(imp) => {
                if imp.trait_.is_none()
                    && let syn::Type::Path(p) = &*imp.self_ty
                    && let Some(ident) = p.path.get_ident()
                {
                    let fns = imp.items.iter().filter_map(|i| match i {
                        syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                        _ => None,
                    });
                    inherent.entry(ident.to_string()).or_default().extend(fns);
                }
                continue;
            }
            syn::Item::Mod(m) if m.ident == "error" => continue,
            other => {
                return Err(drift(
                    "`mod types`",
                    "only structs, enums, impls and `mod error`",
                    tokens(other),
                ));
            }
        };
        let at = format!("`types::{name}`");
        if open_enums.contains(&name) {
            return Err(drift(
                &at,
                format!("no type `{name}`: it was given to `with_replacement` (an open enum of `enums.rs`)"),
                "a type progenitor generated itself",
            ));
        }
        let derives = derives(attrs);
        for wanted in ["Deserialize", "Serialize"] {
            if !derives.contains(wanted) {
                return Err(drift(
                    &at,
                    format!("`#[derive(.., ::serde::{wanted}, ..)]`"),
                    format!("derives {derives:?}"),
                ));
            }
        }
        if let syn::Item::Struct(s) = item {
            for field in &s.fields {
                let skipped_when_none = serde_text(&field.attrs).contains("Option::is_none");
                if skipped_when_none && option_inner(&field.ty).is_none() {
                    let field_name = field.ident.as_ref().map_or("0".to_owned(), ToString::to_string);
                    return Err(drift(
                        format!("{at} field `{field_name}`"),
                        "an `Option<..>` type for a field skipped when `None`",
                        tokens(&field.ty),
                    ));
                }
            }
        }
    }
    for (name, fns) in &inherent {
        if let Some(f) = fns.iter().find(|f| *f == "new" || f.starts_with("with_")) {
            return Err(drift(
                format!("`impl types::{name}`"),
                "no inherent `new` or `with_*` method (the generator adds them)",
                format!("`{f}`"),
            ));
        }
    }
    Ok(())
}

/// The last path segments of every `#[derive(..)]` entry (`::serde::Deserialize` gives
/// `Deserialize`).
fn derives(attrs: &[syn::Attribute]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = a.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                out.insert(last.ident.to_string());
            }
            Ok(())
        });
    }
    out
}

/// The text of the `#[serde(...)]` attributes.
fn serde_text(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .map(|a| a.to_token_stream().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The items of the `types` module of a file holding it (what [`read`] returns).
pub(crate) fn types_items(file: &syn::File) -> Option<&Vec<syn::Item>> {
    file.items.iter().find_map(|i| match i {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

/// As [`types_items`], to change them.
pub(crate) fn types_items_mut(file: &mut syn::File) -> Option<&mut Vec<syn::Item>> {
    file.items.iter_mut().find_map(|i| match i {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// Every word inside the `#[serde(...)]` attributes (`flatten`, `default`, `untagged`, ...).
pub(crate) fn serde_words(attrs: &[syn::Attribute]) -> BTreeSet<String> {
    serde_text(attrs)
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `rename = "..."` of a `#[serde(...)]` attribute, if any.
pub(crate) fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let text = serde_text(attrs);
    let start = text.find("rename = \"")? + "rename = \"".len();
    let end = text[start..].find('"')? + start;
    Some(text[start..end].to_owned())
}

/// `T` of `Option<T>` (`::std::option::Option<T>` too).
pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    crate::tolerance::option_inner(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized() -> crate::Normalized {
        let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/openapi.yaml")).unwrap();
        crate::normalize::normalize(crate::yaml::load(&spec).unwrap().value).unwrap()
    }

    /// Progenitor's real output for the project's spec.
    fn raw() -> syn::File {
        syn::parse2(crate::run_progenitor(&normalized()).unwrap()).unwrap()
    }

    fn open_enums() -> BTreeSet<String> {
        ["BatchStatus".to_owned()].into()
    }

    /// `read` of a changed copy of `raw()`: the failure's message.
    fn failure(change: impl FnOnce(&mut syn::File)) -> String {
        let mut file = raw();
        change(&mut file);
        match read(file, &open_enums()) {
            Ok(_) => panic!("the changed output was read without a failure"),
            Err(e) => e.to_string(),
        }
    }

    fn types_mut(file: &mut syn::File) -> &mut Vec<syn::Item> {
        types_items_mut(file).unwrap()
    }

    fn item_named<'a>(items: &'a mut [syn::Item], name: &str) -> &'a mut syn::Item {
        items
            .iter_mut()
            .find(|i| {
                matches!(i, syn::Item::Struct(s) if s.ident == name)
                    || matches!(i, syn::Item::Enum(e) if e.ident == name)
            })
            .unwrap()
    }

    fn client_method<'a>(file: &'a mut syn::File, name: &str) -> &'a mut syn::ImplItemFn {
        file.items
            .iter_mut()
            .filter_map(|i| match i {
                syn::Item::Impl(imp) if imp.trait_.is_none() && is_client(&imp.self_ty) => Some(imp),
                _ => None,
            })
            .flat_map(|imp| imp.items.iter_mut())
            .find_map(|i| match i {
                syn::ImplItem::Fn(f) if f.sig.ident == name => Some(f),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn the_real_output_is_read() {
        let output = read(raw(), &BTreeSet::new()).expect("progenitor 0.15.1's output has the expected shape");
        assert!(types_items(&output.types).is_some_and(|items| !items.is_empty()));
        let cancel = &output.methods["cancel_batch"];
        assert_eq!(cancel.args.len(), 1);
        assert_eq!(cancel.args[0].name, "batch_id");
        assert_eq!(cancel.args[0].ty, syn::parse_quote!(::std::string::String));
        assert!(matches!(&cancel.success, Success::Json(t) if **t == syn::parse_quote!(types::Batch)));
        assert!(matches!(
            output.methods["retrieve_file_content"].success,
            Success::Stream
        ));
        let list = &output.methods["list_files"];
        assert!(list.args.iter().all(|a| a.optional));
    }

    /// Through the generator's whole pipeline (what `cargo xtask regen` runs): the changed output
    /// fails generation with the located message, and nothing is written.
    #[test]
    fn generation_fails_naming_the_changed_shape() {
        let mut file = raw();
        client_method(&mut file, "list_files").sig.output = syn::parse_quote!(-> Result<Vec<types::File>, Error<()>>);
        match crate::from_progenitor(normalized(), quote::quote!(#file)) {
            Err(GenerateError::Progenitor(message)) => assert!(
                message
                    .contains("at `Client::list_files`: expected the return type `Result<ResponseValue<T>, Error<E>>`"),
                "{message}"
            ),
            Err(other) => panic!("another failure: {other}"),
            Ok(_) => panic!("generated from a changed shape"),
        }
        // Unchanged, it generates.
        let unchanged = raw();
        assert!(crate::from_progenitor(normalized(), quote::quote!(#unchanged)).is_ok());
    }

    #[test]
    fn a_missing_types_module_is_named() {
        let message = failure(|f| {
            f.items
                .retain(|i| !matches!(i, syn::Item::Mod(m) if m.ident == "types"));
        });
        assert!(
            message.contains("at the top level of the file: expected a `pub mod types { .. }`"),
            "{message}"
        );
        assert!(message.contains("progenitor 0.15.1"), "{message}");
    }

    #[test]
    fn an_unknown_top_level_item_is_named() {
        let message = failure(|f| {
            f.items.push(syn::parse_quote!(
                pub type Extra = u8;
            ))
        });
        assert!(
            message.contains("at the top level of the file: expected only `use` items")
                && message.contains("found `pub type Extra = u8 ;`"),
            "{message}"
        );
    }

    #[test]
    fn a_changed_return_type_is_named_with_its_method() {
        let message = failure(|f| {
            client_method(f, "cancel_batch").sig.output = syn::parse_quote!(-> Result<types::Batch, Error<()>>);
        });
        assert!(
            message
                .contains("at `Client::cancel_batch`: expected the return type `Result<ResponseValue<T>, Error<E>>`"),
            "{message}"
        );
    }

    #[test]
    fn a_changed_receiver_or_argument_is_named() {
        let message = failure(|f| {
            let sig = &mut client_method(f, "retrieve_batch").sig;
            sig.inputs = syn::parse_quote!(self, batch_id: &'a str);
        });
        assert!(
            message.contains("at `Client::retrieve_batch`: expected the receiver `&'a self`"),
            "{message}"
        );
        let message = failure(|f| {
            let sig = &mut client_method(f, "retrieve_batch").sig;
            sig.inputs = syn::parse_quote!(&'a self, batch_id: &'a mut String);
        });
        assert!(
            message.contains("at `Client::retrieve_batch`: expected `batch_id` by shared reference or value"),
            "{message}"
        );
    }

    #[test]
    fn a_type_without_serde_derives_is_named() {
        let message = failure(|f| {
            let syn::Item::Struct(s) = item_named(types_mut(f), "Batch") else {
                unreachable!()
            };
            s.attrs.retain(|a| !a.path().is_ident("derive"));
            s.attrs.push(syn::parse_quote!(#[derive(Clone, Debug)]));
        });
        assert!(
            message.contains("at `types::Batch`: expected `#[derive(.., ::serde::Deserialize, ..)]`"),
            "{message}"
        );
    }

    #[test]
    fn an_optional_field_of_another_wrapper_is_named() {
        let message = failure(|f| {
            let syn::Item::Struct(s) = item_named(types_mut(f), "Batch") else {
                unreachable!()
            };
            let field = s
                .fields
                .iter_mut()
                .find(|f| f.ident.as_ref().is_some_and(|i| i == "cancelled_at"))
                .unwrap();
            field.ty = syn::parse_quote!(::core::option::Maybe<i64>);
        });
        assert!(
            message.contains("at `types::Batch` field `cancelled_at`: expected an `Option<..>` type"),
            "{message}"
        );
    }

    #[test]
    fn a_replacement_that_did_not_apply_is_named() {
        let message = failure(|f| {
            types_mut(f).push(syn::parse_quote! {
                #[derive(::serde::Deserialize, ::serde::Serialize)]
                pub enum BatchStatus { Validating }
            });
        });
        assert!(
            message.contains(
                "at `types::BatchStatus`: expected no type `BatchStatus`: it was given to `with_replacement`"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_constructor_progenitor_emits_itself_is_named() {
        let message = failure(|f| {
            types_mut(f).push(syn::parse_quote! {
                impl Batch { pub fn new() -> Self { todo!() } }
            });
        });
        assert!(
            message.contains("at `impl types::Batch`: expected no inherent `new` or `with_*` method"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_item_in_types_is_named() {
        let message = failure(|f| {
            types_mut(f).push(syn::parse_quote!(
                pub type Alias = Batch;
            ))
        });
        assert!(
            message.contains("at `mod types`: expected only structs, enums, impls and `mod error`"),
            "{message}"
        );
    }

    /// `from_progenitor` of a changed copy of `raw()`: the failure's message.
    fn generation_failure(change: impl FnOnce(&mut syn::File)) -> String {
        let mut file = raw();
        change(&mut file);
        match crate::from_progenitor(normalized(), quote::quote!(#file)) {
            Err(GenerateError::Progenitor(message)) => message,
            Err(other) => panic!("another failure: {other}"),
            Ok(_) => panic!("generated from a changed shape"),
        }
    }

    #[test]
    fn a_module_types_declared_elsewhere_is_named() {
        let message = failure(|f| {
            for item in &mut f.items {
                if let syn::Item::Mod(m) = item
                    && m.ident == "types"
                {
                    m.content = None;
                    m.semi = Some(Default::default());
                }
            }
        });
        assert!(
            message.contains("at `mod types`: expected an inline module, found `mod types;`"),
            "{message}"
        );
    }

    /// Adds `item` to progenitor's first inherent `impl Client`.
    fn push_into_impl_client(f: &mut syn::File, item: syn::ImplItem) {
        let imp = f
            .items
            .iter_mut()
            .find_map(|i| match i {
                syn::Item::Impl(imp) if imp.trait_.is_none() && is_client(&imp.self_ty) => Some(imp),
                _ => None,
            })
            .unwrap();
        imp.items.push(item);
    }

    #[test]
    fn another_function_or_item_in_impl_client_is_named() {
        let message = failure(|f| {
            push_into_impl_client(
                f,
                syn::parse_quote!(
                    pub fn baseurl(&self) -> &str {
                        ""
                    }
                ),
            )
        });
        assert!(
            message.contains("at `Client::baseurl`: expected `new`, `new_with_client` or an `async fn` per operation"),
            "{message}"
        );
        let message = failure(|f| {
            push_into_impl_client(
                f,
                syn::parse_quote!(
                    const VERSION: &str = "1";
                ),
            )
        });
        assert!(message.contains("at `impl Client`: expected only methods"), "{message}");
    }

    #[test]
    fn an_argument_of_another_kind_is_named() {
        let message = failure(|f| {
            let sig = &mut client_method(f, "retrieve_batch").sig;
            sig.inputs = syn::parse_quote!(&'a self, batch_id: [u8; 4]);
        });
        assert!(
            message.contains("at `Client::retrieve_batch`: expected `batch_id` of a named type, found `[u8 ; 4]`"),
            "{message}"
        );
        let message = failure(|f| {
            let sig = &mut client_method(f, "retrieve_batch").sig;
            sig.inputs = syn::parse_quote!(&'a self, (a, b): (u8, u8));
        });
        assert!(
            message.contains("at `Client::retrieve_batch`: expected an argument name"),
            "{message}"
        );
        let message = failure(|f| {
            let sig = &mut client_method(f, "retrieve_batch").sig;
            sig.generics = syn::parse_quote!(<'a, B: Into<reqwest::Body>>);
            sig.inputs = syn::parse_quote!(&'a self, body: Option<B>);
        });
        assert!(
            message
                .contains("at `Client::retrieve_batch`: expected the raw body `body` required, found an optional one"),
            "{message}"
        );
    }

    #[test]
    fn an_argument_the_spec_does_not_name_is_named() {
        let message = generation_failure(|f| {
            let sig = &mut client_method(f, "retrieve_batch").sig;
            sig.inputs = syn::parse_quote!(&'a self, id: &'a str);
        });
        assert!(
            message.contains("`retrieve_batch`: progenitor's argument `id` matches no parameter of the spec"),
            "{message}"
        );
    }
}
