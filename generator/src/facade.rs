//! The facade: the public methods of `cerebras_batch::Client`.
//!
//! Progenitor's positional methods return `progenitor_client::Error`, which loses the status of
//! an undecodable body, and they cannot refuse an id that would leave its path segment. For
//! each operation progenitor generated, this emits a method of the same name and arguments on
//! the hand-written `crate::Client` that
//! 1. checks every path parameter with `crate::transport::check_path_segment` before any I/O,
//! 2. runs progenitor's method through `crate::Client::execute`, which maps every failure to
//!    `crate::Error` with status, headers and raw body kept,
//! 3. carries docs built from the spec: summary, description, route, arguments, the vendor doc
//!    page and the errors it returns.
//!
//! It also emits one `crate::Operation` constant per operation of the spec, generated or not,
//! and `OPERATIONS`, the list of them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeMap;

use crate::{GenerateError, Normalized, OperationSpec};

/// Emits `operations.rs`.
pub fn generate(normalized: &Normalized, raw: &syn::File) -> Result<TokenStream, GenerateError> {
    let methods = raw_methods(raw);
    let mut consts = Vec::new();
    let mut const_names = Vec::new();
    let mut facade = Vec::new();
    for op in &normalized.operations {
        let const_name = format_ident!("{}", op.id.to_uppercase());
        consts.push(operation_const(op, &const_name));
        const_names.push(const_name.clone());
        if op.left_out.is_some() {
            continue;
        }
        let method = methods.get(op.id.as_str()).ok_or_else(|| {
            GenerateError::Progenitor(format!("progenitor generated no method for operation `{}`", op.id))
        })?;
        facade.push(facade_method(op, &const_name, method)?);
    }
    Ok(quote! {
        //! The public methods of [`crate::Client`] and one [`crate::Operation`] per operation of
        //! the spec.
        use super::progenitor::types;
        #[allow(unused_imports)]
        use super::progenitor::ByteStream;
        use super::progenitor::ResponseValue;

        #( #consts )*

        /// Every operation of the spec, generated or implemented by hand, in spec order.
        pub const OPERATIONS: &[&crate::Operation] = &[ #( &#const_names ),* ];

        impl crate::Client {
            #( #facade )*
        }
    })
}

/// Progenitor's positional methods on `Client`, by name.
fn raw_methods(raw: &syn::File) -> BTreeMap<String, &syn::ImplItemFn> {
    let mut out = BTreeMap::new();
    for item in &raw.items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let syn::Type::Path(tp) = &*imp.self_ty else { continue };
        if !tp.path.is_ident("Client") {
            continue;
        }
        for it in &imp.items {
            if let syn::ImplItem::Fn(f) = it
                && f.sig.asyncness.is_some()
            {
                out.insert(f.sig.ident.to_string(), f);
            }
        }
    }
    out
}

fn operation_const(op: &OperationSpec, name: &syn::Ident) -> TokenStream {
    let (id, method, path) = (&op.id, &op.method, &op.path);
    let docs_url = match &op.docs_url {
        Some(u) => quote!(Some(#u)),
        None => quote!(None),
    };
    let generated = op.left_out.is_none();
    let doc = match &op.left_out {
        None => format!("`{method} {path}`: generated as [`crate::Client::{id}`]."),
        Some(why) => format!("`{method} {path}`: implemented by hand, because the {why}."),
    };
    quote! {
        #[doc = #doc]
        pub const #name: crate::Operation = crate::Operation {
            id: #id,
            method: #method,
            path: #path,
            docs_url: #docs_url,
            generated: #generated,
        };
    }
}

/// The `T` of progenitor's `Result<ResponseValue<T>, Error<E>>`.
fn success_type(sig: &syn::Signature) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let result = last_segment_args(ty, "Result")?;
    let syn::GenericArgument::Type(rv) = result.first()? else {
        return None;
    };
    let inner = last_segment_args(rv, "ResponseValue")?;
    match inner.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
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

fn is_byte_stream(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(tp) if tp.path.is_ident("ByteStream"))
}

fn facade_method(
    op: &OperationSpec,
    const_name: &syn::Ident,
    raw: &syn::ImplItemFn,
) -> Result<TokenStream, GenerateError> {
    let sig = &raw.sig;
    let name = &sig.ident;
    let generics = &sig.generics;
    let inputs: Vec<&syn::PatType> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some(t),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let arg_names: Vec<syn::Ident> = inputs
        .iter()
        .map(|t| match &*t.pat {
            syn::Pat::Ident(p) => Ok(p.ident.clone()),
            _ => Err(GenerateError::Progenitor(format!(
                "unexpected argument pattern in `{}`",
                op.id
            ))),
        })
        .collect::<Result<_, _>>()?;
    let self_lifetime = match sig.inputs.first() {
        Some(syn::FnArg::Receiver(r)) => match &r.kind {
            syn::ReceiverKind::Reference(_, lifetime, _) => lifetime.clone(),
            _ => None,
        },
        _ => None,
    };
    let receiver = match &self_lifetime {
        Some(l) => quote!(&#l self),
        None => quote!(&self),
    };

    let mut checks = Vec::new();
    for p in &op.path_params {
        let ident = arg_names.iter().find(|a| *a == p).ok_or_else(|| {
            GenerateError::Progenitor(format!("`{}` has no argument for path parameter `{p}`", op.id))
        })?;
        checks.push(quote! { crate::transport::check_path_segment(&#const_name, #p, #ident)?; });
    }

    let ty =
        success_type(sig).ok_or_else(|| GenerateError::Progenitor(format!("unexpected return type of `{}`", op.id)))?;
    let (ret, finish) = if is_byte_stream(&ty) {
        (quote!(crate::Download), quote!(.map(crate::Download::new)))
    } else {
        (quote!(#ty), quote!(.map(ResponseValue::into_inner)))
    };
    let doc = method_doc(op, is_byte_stream(&ty), &quote!(#ty).to_string());
    let doc_lines = doc.lines().map(|l| {
        let l = format!(" {l}");
        quote!(#[doc = #l])
    });
    Ok(quote! {
        #( #doc_lines )*
        pub async fn #name #generics (#receiver, #( #inputs ),*) -> crate::Result<#ret> {
            #( #checks )*
            self.execute(&#const_name, self.raw().#name( #( #arg_names ),* )).await #finish
        }
    })
}

fn method_doc(op: &OperationSpec, stream: bool, ty: &str) -> String {
    let mut d = String::new();
    d.push_str(op.summary.as_deref().unwrap_or(&op.id));
    d.push_str(".\n\n");
    if let Some(desc) = &op.description {
        d.push_str(desc.trim());
        d.push_str("\n\n");
    }
    d.push_str(&format!("Sends `{} {}` (operationId `{}`).", op.method, op.path, op.id));
    if let Some(url) = &op.docs_url {
        d.push_str(&format!(" Vendor docs: <{url}>."));
    }
    d.push('\n');
    if !op.params.is_empty() {
        d.push_str("\n# Arguments\n\n");
        for (name, location, description) in &op.params {
            let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
            d.push_str(&format!("- `{name}` ({location}): {description}\n"));
        }
    }
    d.push_str("\n# Returns\n\n");
    if stream {
        d.push_str("The response body as a [`crate::Download`], streamed: nothing is buffered until you read it.\n");
    } else {
        let ty = ty.replace(' ', "");
        d.push_str(&format!("The decoded `{ty}`.\n"));
    }
    d.push_str("\n# Errors\n\nA [`crate::Error`]; match on its [`kind`](crate::Error::kind):\n\n");
    for p in &op.path_params {
        d.push_str(&format!(
            "- [`InvalidInput`](crate::ErrorKind::InvalidInput), before any request, when `{p}` is empty, is `.` or `..`, \
             or holds a backslash or control character (also percent-encoded).\n"
        ));
    }
    let declared: Vec<String> = op
        .error_responses
        .iter()
        .map(|(code, desc)| format!("`{code}` ({})", desc.split('.').next().unwrap_or_default().trim()))
        .collect();
    d.push_str(&format!(
        "- The kind of the HTTP status for a non-2xx response (the spec declares {}). \
         The error keeps the status, headers, raw body text and decoded [`ErrorBody`](crate::types::ErrorBody).\n",
        if declared.is_empty() {
            "none".to_owned()
        } else {
            declared.join(", ")
        }
    ));
    if !stream {
        d.push_str("- [`Decode`](crate::ErrorKind::Decode) when a 2xx body does not decode; status, headers and body are kept.\n");
    }
    d.push_str("- [`Connection`](crate::ErrorKind::Connection) or [`Timeout`](crate::ErrorKind::Timeout) when no response arrived.\n");
    d
}
