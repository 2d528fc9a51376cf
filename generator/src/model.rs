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

use crate::progenitor_output::{self, ProgenitorOutput, Success, serde_rename, serde_words, types_items};
pub use crate::wire::Body;
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
    /// How the request body is sent, when there is one (the `body` argument).
    pub body: Option<Body>,
    /// The success statuses, as inclusive ranges (`(200, 200)`; `2XX` and `default` are
    /// `(200, 299)`): any other status is an error.
    pub success: Vec<(u16, u16)>,
    /// For a listing paged by an `after` cursor: what `into_stream` yields.
    pub paging: Option<Paging>,
}

/// A listing that pages with `after` set to the last id of the previous page, while
/// `has_more` is true (the vendor's documented scheme): its success type has
/// `data: Option<Vec<Item>>`, `has_more: Option<bool>` and the `extra` map, and `Item` has a
/// required `id: String`.
#[derive(Debug, Clone)]
pub struct Paging {
    /// The item type, a path in the generated code (`types::Batch`).
    pub item: syn::Type,
}

/// A success value.
#[derive(Debug, Clone)]
pub enum Returns {
    /// A decoded JSON body of this type (a path inside the generated code); `()` for a
    /// success without a body.
    Json(Box<syn::Type>),
    /// A streamed body, returned as `crate::Download`.
    Download,
}

impl Returns {
    /// Whether the success has no body (`()`).
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Json(t) if matches!(&**t, syn::Type::Tuple(u) if u.elems.is_empty()))
    }
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
    /// Builds the model from the normalised spec and what the generator read of progenitor's
    /// output (its `types` module shaped).
    pub(crate) fn build(
        normalized: &Normalized,
        raw: &ProgenitorOutput,
        shaped: &crate::shape::Shaped,
    ) -> Result<Self, GenerateError> {
        let mut structs = Vec::new();
        let mut unions = Vec::new();
        for item in types_items(&raw.types).into_iter().flatten() {
            match item {
                syn::Item::Struct(s) => structs.push(strukt(s, shaped.read_types.contains(&s.ident.to_string()))),
                syn::Item::Enum(e) => unions.push(Union {
                    name: e.ident.to_string(),
                    doc: doc_text(&e.attrs),
                    untagged: serde_words(&e.attrs).contains("untagged"),
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
        let mut operations = Vec::new();
        for op in &normalized.operations {
            let call = match &op.left_out {
                Some(_) => None,
                None => {
                    let method = raw.methods.get(op.id.as_str()).ok_or_else(|| {
                        GenerateError::Progenitor(format!(
                            "progenitor's output has no method `Client::{}` for the operation `{}`",
                            op.id, op.id
                        ))
                    })?;
                    let wire = crate::wire::of(op, &normalized.for_progenitor);
                    let mut call = call(op, method, wire)?;
                    call.paging = paging(&call, &structs);
                    Some(call)
                }
            };
            operations.push(Operation { spec: op.clone(), call });
        }
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

/// The call shape of one operation, from progenitor's positional signature (the parameters'
/// and the success's Rust types) and the spec (how the body goes on the wire, the success
/// statuses).
fn call(
    op: &OperationSpec,
    method: &progenitor_output::Method,
    wire: crate::wire::Wire,
) -> Result<Call, GenerateError> {
    let mut positional = Vec::new();
    let mut options = Vec::new();
    let mut body_arg = None;
    for arg in &method.args {
        let name = arg.name.clone();
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
        if location == "body" {
            body_arg = Some(arg);
        }
        let param = Param {
            name,
            spec_name,
            location,
            description,
            ty: arg.ty.clone(),
        };
        if arg.optional {
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
    let body = match (body_arg, wire.body) {
        (None, None) => None,
        (Some(arg), Some(kind)) => {
            let fits = match &kind {
                Body::Raw => arg.raw_body,
                Body::Text(_) => !arg.raw_body && arg.ty == syn::parse_quote!(::std::string::String),
                Body::Json | Body::Form => !arg.raw_body,
            };
            if !fits || arg.optional {
                return Err(GenerateError::Progenitor(format!(
                    "progenitor's `Client::{}` takes its body as `{}`, which does not fit the spec's {kind:?} request body",
                    op.id,
                    quote::ToTokens::to_token_stream(&arg.ty)
                )));
            }
            Some(kind)
        }
        (Some(_), None) => {
            return Err(GenerateError::Progenitor(format!(
                "progenitor's `Client::{}` takes a `body`, but the spec's operation has no request body",
                op.id
            )));
        }
        (None, Some(kind)) => {
            return Err(GenerateError::Progenitor(format!(
                "progenitor's `Client::{}` takes no `body`, but the spec's operation has a {kind:?} request body",
                op.id
            )));
        }
    };
    let returns = match &method.success {
        Success::Stream => Returns::Download,
        Success::Json(t) => Returns::Json(t.clone()),
        Success::Empty => Returns::Json(Box::new(syn::parse_quote!(()))),
    };
    Ok(Call {
        builder: crate::naming::type_name(&op.id),
        args: positional,
        options,
        returns,
        body,
        success: wire.success,
        paging: None,
    })
}

/// The paging of a listing (see [`Paging`]), when the call is one. A listing whose types do not
/// have that shape gets no `into_stream`: a spec change can do that (an item whose `id` becomes
/// optional, `tests/fixtures/semver/`), so it is not a failure; `cargo xtask diff` calls it
/// breaking and the public-API snapshot shows it.
fn paging(call: &Call, structs: &[Struct]) -> Option<Paging> {
    let string: syn::Type = syn::parse_quote!(::std::string::String);
    let by_name = |ty: &syn::Type| {
        let name = crate::tolerance::last_ident(ty)?;
        structs.iter().find(|s| s.name == name)
    };
    call.options
        .iter()
        .find(|p| p.location == "query" && p.spec_name == "after" && p.ty == string)?;
    let Returns::Json(page) = &call.returns else {
        return None;
    };
    let page = by_name(page)?;
    let field = |s: &'_ Struct, name: &str| s.fields.iter().find(|f| f.name == name).map(|f| f.ty.clone());
    let items = field(page, "data")?;
    let has_more = field(page, "has_more")?;
    page.fields.iter().find(|f| f.wire == FLATTENED)?;
    if has_more != syn::parse_quote!(::std::option::Option<bool>) {
        return None;
    }
    let vec = crate::tolerance::option_inner(&items)?;
    let item = by_name(vec_inner(vec)?)?;
    if field(item, "id")? != string {
        return None;
    }
    let name = quote::format_ident!("{}", item.name);
    Some(Paging {
        item: syn::parse_quote!(types::#name),
    })
}

pub(crate) use crate::tolerance::vec_inner;

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
                let flattened = serde_words(&f.attrs).contains("flatten");
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
