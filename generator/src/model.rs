//! The generated API as data: every operation with its call shape, every struct with its
//! fields, every union and open enum. Built once from the normalised spec and progenitor's
//! (shaped) output; the facade, the surface text, `API.md` and the compile-proof consumer are
//! all rendered from it, so they cannot disagree.
//!
//! # The call shape of an operation
//!
//! `client.<operationId>(<arguments>)` returns a request builder (`builder::<OperationId>`)
//! that is sent with `.send().await`, or awaited directly (`IntoFuture`). The arguments are
//! what cannot be left out: the path parameters in the order of the path template, then any
//! other required parameter in name order, then the request body. Every optional parameter is a
//! setter on the builder, so a new optional parameter never changes an existing call.

use std::collections::BTreeSet;

use crate::{EnumSpec, GenerateError, Normalized, OperationSpec};

/// The generated API.
#[derive(Debug, Clone)]
pub struct Api {
    /// Every operation of the spec, in spec order; `call` is `None` for the ones left out.
    pub operations: Vec<Operation>,
    /// Every generated struct, by name.
    pub structs: Vec<Struct>,
    /// Every generated enum that is not an open enum (`oneOf` unions), by name.
    pub unions: Vec<Union>,
    /// The open enums, by name.
    pub open_enums: Vec<EnumSpec>,
}

/// One operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// What the spec says.
    pub spec: OperationSpec,
    /// How it is called, when it is generated.
    pub call: Option<Call>,
}

/// How a generated operation is called.
#[derive(Debug, Clone)]
pub struct Call {
    /// The request builder's type name (`ListFiles`).
    pub builder: String,
    /// The arguments of `client.<operationId>(..)`, in order.
    pub args: Vec<Param>,
    /// The optional parameters: one setter each on the builder, in name order.
    pub options: Vec<Param>,
    /// What `send()` returns on success.
    pub returns: Returns,
}

/// A success value.
#[derive(Debug, Clone)]
pub enum Returns {
    /// A decoded JSON body of this type (a path inside the generated code).
    Json(Box<syn::Type>),
    /// A streamed body, returned as `crate::Download`.
    Download,
}

/// One parameter of a call (the request body included, as `body`).
#[derive(Debug, Clone)]
pub struct Param {
    /// The Rust name (progenitor's argument name).
    pub name: syn::Ident,
    /// The name in the spec (`batch_id`, or `body`).
    pub spec_name: String,
    /// `path`, `query`, `header` or `body`.
    pub location: String,
    /// The spec's description, on one line.
    pub description: String,
    /// The value's type (for an optional parameter, without the `Option`).
    pub ty: syn::Type,
    /// How the builder passes its value to progenitor's method.
    pub pass: Pass,
    /// Its position in progenitor's argument list.
    pub raw_index: usize,
}

/// How a builder hands a stored value to progenitor's positional method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// `&value` (progenitor takes `&'a T` or `&'a str`).
    Ref,
    /// `value.as_deref()` (progenitor takes `Option<&'a str>`).
    OptionDeref,
    /// `value.as_ref()` (progenitor takes `Option<&'a T>`).
    OptionRef,
    /// `value` (progenitor takes the value, optional or not).
    Value,
}

/// A generated struct.
#[derive(Debug, Clone)]
pub struct Struct {
    /// The type name.
    pub name: String,
    /// Its doc text.
    pub doc: String,
    /// Whether it is a read type (decoded tolerantly; see [`crate::tolerance`]).
    pub read: bool,
    /// The fields, in declaration order (alphabetical); empty for a newtype.
    pub fields: Vec<Field>,
    /// For a newtype: the wrapped type.
    pub newtype: Option<syn::Type>,
}

/// A field of a generated struct.
#[derive(Debug, Clone)]
pub struct Field {
    /// The Rust name.
    pub name: syn::Ident,
    /// The JSON name; [`FLATTENED`] for a flattened map (every field the others do not name).
    pub wire: String,
    /// The Rust type.
    pub ty: syn::Type,
    /// The doc text, on one line.
    pub doc: String,
    /// Whether it is a parameter of the constructor `new` (otherwise it has a `with_` setter).
    pub in_constructor: bool,
}

/// The [`Field::wire`] of a flattened map: it holds every JSON field the other fields do not
/// name (the `extra` map of read types).
pub const FLATTENED: &str = "*";

/// A generated enum that is not an open enum: a `oneOf` union.
#[derive(Debug, Clone)]
pub struct Union {
    /// The type name.
    pub name: String,
    /// Its doc text.
    pub doc: String,
    /// Whether it is `#[serde(untagged)]` (the first variant that decodes wins).
    pub untagged: bool,
    /// How the generator's own decoder finds a value's variant ([`crate::open_union`]), in
    /// words; `None` for progenitor's enums.
    pub decoding: Option<String>,
    /// `(variant, the types it holds, its JSON name when renamed)`.
    pub variants: Vec<(String, Vec<syn::Type>, Option<String>)>,
}

impl Api {
    /// Builds the model from the normalised spec and progenitor's shaped file.
    pub(crate) fn build(
        normalized: &Normalized,
        raw: &syn::File,
        shaped: &crate::shape::Shaped,
    ) -> Result<Self, GenerateError> {
        let methods = crate::raw::raw_methods(raw);
        let mut operations = Vec::new();
        for op in &normalized.operations {
            let call = match &op.left_out {
                Some(_) => None,
                None => {
                    let method = methods.get(op.id.as_str()).ok_or_else(|| {
                        GenerateError::Progenitor(format!("progenitor generated no method for operation `{}`", op.id))
                    })?;
                    Some(call(op, &method.sig)?)
                }
            };
            operations.push(Operation { spec: op.clone(), call });
        }
        let mut structs = Vec::new();
        let mut unions = Vec::new();
        for item in crate::shape::types_items(raw).into_iter().flatten() {
            match item {
                syn::Item::Struct(s) => structs.push(strukt(s, shaped.read_types.contains(&s.ident.to_string()))),
                syn::Item::Enum(e) => unions.push(Union {
                    name: e.ident.to_string(),
                    doc: doc_text(&e.attrs),
                    untagged: crate::shape::serde_words(&e.attrs).contains("untagged"),
                    decoding: None,
                    variants: e
                        .variants
                        .iter()
                        .map(|v| {
                            (
                                v.ident.to_string(),
                                v.fields.iter().map(|f| f.ty.clone()).collect(),
                                serde_rename(&v.attrs),
                            )
                        })
                        .collect(),
                }),
                _ => {}
            }
        }
        structs.sort_by(|a, b| a.name.cmp(&b.name));
        unions.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Api {
            operations,
            structs,
            unions,
            open_enums: normalized.open_enums.values().cloned().collect(),
        })
    }

    /// Every type name: structs, unions and open enums, sorted.
    pub fn type_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .structs
            .iter()
            .map(|s| s.name.clone())
            .chain(self.unions.iter().map(|u| u.name.clone()))
            .chain(self.open_enums.iter().map(|e| e.name.clone()))
            .collect();
        names.sort();
        names
    }

    /// The names of the open enums.
    pub fn open_enum_names(&self) -> BTreeSet<String> {
        self.open_enums.iter().map(|e| e.name.clone()).collect()
    }
}

/// The call shape of one operation from progenitor's positional signature.
fn call(op: &OperationSpec, sig: &syn::Signature) -> Result<Call, GenerateError> {
    let generics: BTreeSet<String> = sig.generics.type_params().map(|p| p.ident.to_string()).collect();
    let mut positional = Vec::new();
    let mut options = Vec::new();
    for (raw_index, input) in sig.inputs.iter().enumerate() {
        let syn::FnArg::Typed(t) = input else { continue };
        let syn::Pat::Ident(pat) = &*t.pat else {
            return Err(GenerateError::Progenitor(format!(
                "unexpected argument pattern in `{}`",
                op.id
            )));
        };
        let name = pat.ident.clone();
        let spec = op.params.iter().find(|p| name == crate::naming::field_name(&p.name));
        let (spec_name, location, description) = match spec {
            Some(p) => (p.name.clone(), p.location.clone(), one_line(&p.description)),
            None if name == "body" => ("body".to_owned(), "body".to_owned(), "The request body.".to_owned()),
            None => {
                return Err(GenerateError::Progenitor(format!(
                    "`{}`: progenitor's argument `{name}` matches no parameter of the spec",
                    op.id
                )));
            }
        };
        let (ty, pass, optional) = owned(&t.ty, &generics);
        let param = Param {
            name,
            spec_name,
            location,
            description,
            ty,
            pass,
            raw_index,
        };
        if optional {
            options.push(param);
        } else {
            positional.push(param);
        }
    }
    // Path parameters in template order, then other required ones by name, the body last.
    let rank = |p: &Param| match p.location.as_str() {
        "path" => (
            0,
            op.path_params
                .iter()
                .position(|n| *n == p.spec_name)
                .unwrap_or(usize::MAX),
            String::new(),
        ),
        "body" => (2, 0, String::new()),
        _ => (1, 0, p.name.to_string()),
    };
    positional.sort_by_key(rank);
    options.sort_by_key(|p| p.name.to_string());
    for p in &op.path_params {
        if !positional.iter().any(|a| a.location == "path" && a.spec_name == *p) {
            return Err(GenerateError::Progenitor(format!(
                "`{}` has no argument for path parameter `{p}`",
                op.id
            )));
        }
    }
    let returns = match crate::raw::success_type(sig) {
        Some(syn::Type::Path(tp)) if tp.path.is_ident("ByteStream") => Returns::Download,
        Some(t) => Returns::Json(Box::new(t)),
        None => {
            return Err(GenerateError::Progenitor(format!(
                "unexpected return type of `{}`",
                op.id
            )));
        }
    };
    Ok(Call {
        builder: crate::naming::type_name(&op.id),
        args: positional,
        options,
        returns,
    })
}

/// The owned type a builder stores for an argument of progenitor's type `ty`, how it passes
/// it back, and whether the argument is optional.
fn owned(ty: &syn::Type, generics: &BTreeSet<String>) -> (syn::Type, Pass, bool) {
    let is_str = |t: &syn::Type| matches!(t, syn::Type::Path(p) if p.path.is_ident("str"));
    if let Some(inner) = crate::tolerance::option_inner(ty) {
        return match inner {
            syn::Type::Reference(r) if is_str(&r.elem) => {
                (syn::parse_quote!(::std::string::String), Pass::OptionDeref, true)
            }
            syn::Type::Reference(r) => ((*r.elem).clone(), Pass::OptionRef, true),
            other => (other.clone(), Pass::Value, true),
        };
    }
    match ty {
        syn::Type::Reference(r) if is_str(&r.elem) => (syn::parse_quote!(::std::string::String), Pass::Ref, false),
        syn::Type::Reference(r) => ((*r.elem).clone(), Pass::Ref, false),
        syn::Type::Path(p) if p.path.get_ident().is_some_and(|i| generics.contains(&i.to_string())) => {
            (syn::parse_quote!(::reqwest::Body), Pass::Value, false)
        }
        other => (other.clone(), Pass::Value, false),
    }
}

fn strukt(s: &syn::ItemStruct, read: bool) -> Struct {
    let newtype = match &s.fields {
        syn::Fields::Unnamed(u) => u.unnamed.first().map(|f| f.ty.clone()),
        _ => None,
    };
    let fields = match &s.fields {
        syn::Fields::Named(named) => named
            .named
            .iter()
            .map(|f| {
                let name = f.ident.clone().expect("named field");
                let flattened = crate::shape::serde_words(&f.attrs).contains("flatten");
                Field {
                    wire: match serde_rename(&f.attrs) {
                        _ if flattened => FLATTENED.to_owned(),
                        Some(rename) => rename,
                        None => name.to_string(),
                    },
                    name,
                    ty: f.ty.clone(),
                    doc: doc_text(&f.attrs),
                    in_constructor: crate::shape::is_constructor_field(f),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    Struct {
        name: s.ident.to_string(),
        doc: doc_text(&s.attrs),
        read,
        fields,
        newtype,
    }
}

/// The `rename = "..."` of a `#[serde(...)]` attribute, if any.
pub(crate) fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    use quote::ToTokens;
    attrs.iter().filter(|a| a.path().is_ident("serde")).find_map(|a| {
        let text = a.to_token_stream().to_string();
        let start = text.find("rename = \"")? + "rename = \"".len();
        let end = text[start..].find('"')? + start;
        Some(text[start..end].to_owned())
    })
}

/// The doc text of an item's `#[doc]` attributes, on one line.
pub(crate) fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut parts = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &a.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s), ..
            }) = &nv.value
        {
            parts.push(s.value());
        }
    }
    one_line(&parts.join("\n"))
}

/// Text folded onto one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
