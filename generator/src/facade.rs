//! The facade: the public methods of `cerebras_batch::Client` and their request builders.
//!
//! Progenitor's positional methods return `progenitor_client::Error`, which loses the status of
//! an undecodable body; they cannot refuse an id that would leave its path segment; and their
//! argument lists change shape when the spec gains an optional parameter. For each operation
//! progenitor generated, this emits (see [`crate::model`] for the call shape):
//!
//! - `Client::<operationId>(<required arguments>)`, returning a request builder;
//! - `builder::<OperationId>`, with a setter per optional parameter, `send()` and `IntoFuture`.
//!   `send()` is the operation-specific part of a call: it checks every path parameter with
//!   `crate::transport::check_path_segment` before any I/O, then describes the request as a
//!   `crate::transport::Request` (method, the path with each id percent-encoded, query pairs,
//!   headers, the body, the success statuses) and hands it to the call path
//!   (`crate::transport::json`, `empty` or `download`, in `transport/execute.rs`), which sends
//!   it, retries it, decodes the answer and maps every failure to `crate::Error`;
//! - for a listing paged by `after` (see [`crate::model::Paging`]), `into_stream`, which pages
//!   through `crate::pagination::paginate`.
//!
//! The docs come from the spec: summary, description, route, parameters, the vendor doc page
//! and the errors. It also emits one `crate::Operation` constant per operation of the spec,
//! generated or not, and `OPERATIONS`, the list of them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeSet;

use crate::OperationSpec;
use crate::model::{Api, Body, Call, Param, Returns};

/// Emits `operations.rs`: the operation constants and the `Client` methods.
pub fn operations(api: &Api) -> TokenStream {
    let open_enums = api.open_enum_names();
    let mut consts = Vec::new();
    let mut const_names = Vec::new();
    let mut methods = Vec::new();
    let mut hand_written = Vec::new();
    for op in &api.operations {
        let const_name = const_ident(&op.spec);
        consts.push(operation_const(&op.spec, &const_name));
        const_names.push(const_name);
        match &op.call {
            Some(call) => methods.push(client_method(&op.spec, call, &open_enums)),
            None => hand_written.push(hand_written_check(&op.spec)),
        }
    }
    quote! {
        //! The public methods of [`crate::Client`] and one [`crate::Operation`] per operation of
        //! the spec.
        #[allow(unused_imports)]
        use super::progenitor::types;

        #( #consts )*

        /// Every operation of the spec, generated or implemented by hand, in spec order.
        pub const OPERATIONS: &[&crate::Operation] = &[ #( &#const_names ),* ];

        impl crate::Client {
            #( #methods )*
        }

        #( #hand_written )*
    }
}

/// For an operation left out of generation: a reference to the hand-written method, so that
/// the crate does not compile (and `cargo xtask regen` fails, naming it) until someone writes
/// it.
fn hand_written_check(op: &OperationSpec) -> TokenStream {
    let name = format_ident!("{}", op.id);
    let doc = format!(
        " `{}` is left out of generation ({}): it must be written by hand as `Client::{}`.",
        op.id,
        op.left_out.as_deref().unwrap_or_default(),
        op.id
    );
    quote! {
        #[doc = #doc]
        const _: () = {
            let _ = crate::Client::#name;
        };
    }
}

/// Emits `builder.rs`: one request builder per generated operation.
pub fn builders(api: &Api) -> TokenStream {
    let open_enums = api.open_enum_names();
    let items = api
        .operations
        .iter()
        .filter_map(|op| op.call.as_ref().map(|call| builder(&op.spec, call, &open_enums)));
    quote! {
        //! Request builders: one per generated operation. Each is created by the [`crate::Client`]
        //! method of the same name, takes the optional parameters through its setters, and is
        //! sent with `send().await` or by awaiting it directly.
        #[allow(unused_imports)]
        use super::progenitor::types;

        #( #items )*
    }
}

fn const_ident(op: &OperationSpec) -> syn::Ident {
    format_ident!("{}", op.id.to_uppercase())
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

/// How a parameter is taken by a method or setter (see [`crate::shape::param_type`]).
fn param_type(p: &Param, open_enums: &BTreeSet<String>) -> (TokenStream, bool) {
    if p.ty == syn::parse_quote!(::reqwest::Body) {
        return (quote!(impl ::std::convert::Into<::reqwest::Body>), true);
    }
    crate::shape::param_type(&p.ty, open_enums)
}

fn client_method(op: &OperationSpec, call: &Call, open_enums: &BTreeSet<String>) -> TokenStream {
    let name = format_ident!("{}", op.id);
    let builder = format_ident!("{}", call.builder);
    let (params, args): (Vec<TokenStream>, Vec<TokenStream>) = call
        .args
        .iter()
        .map(|p| {
            let n = &p.name;
            let (ty, convert) = param_type(p, open_enums);
            (quote!(#n: #ty), if convert { quote!(#n.into()) } else { quote!(#n) })
        })
        .unzip();
    let doc = doc_attrs(&method_doc(op, call));
    quote! {
        #( #doc )*
        pub fn #name(&self, #( #params ),*) -> crate::builder::#builder<'_> {
            crate::builder::#builder::new(self, #( #args ),*)
        }
    }
}

fn builder(op: &OperationSpec, call: &Call, open_enums: &BTreeSet<String>) -> TokenStream {
    let name = format_ident!("{}", call.builder);
    let const_name = const_ident(op);
    let all: Vec<&Param> = call.args.iter().chain(call.options.iter()).collect();
    let fields = all.iter().map(|p| {
        let (n, ty) = (&p.name, &p.ty);
        if call.args.iter().any(|a| a.name == p.name) {
            quote!(#n: #ty)
        } else {
            quote!(#n: ::std::option::Option<#ty>)
        }
    });
    let ctor_params = call.args.iter().map(|p| {
        let (n, ty) = (&p.name, &p.ty);
        quote!(#n: #ty)
    });
    let ctor_inits = all.iter().map(|p| {
        let n = &p.name;
        if call.args.iter().any(|a| a.name == p.name) {
            quote!(#n)
        } else {
            quote!(#n: ::std::option::Option::None)
        }
    });
    let setters = call.options.iter().map(|p| {
        let n = &p.name;
        let ty = &p.ty;
        let set = format_ident!("set_{}", crate::shape::setter_suffix(n));
        let (param_ty, convert) = param_type(p, open_enums);
        let value = if convert { quote!(value.into()) } else { quote!(value) };
        let doc = doc_attrs(&format!(
            "Sets `{}` ({} parameter): {}",
            p.spec_name,
            p.location,
            sentence(&p.description)
        ));
        let set_doc = format!(" Sets or clears `{}`; see [`{n}`](Self::{n}).", p.spec_name);
        quote! {
            #( #doc )*
            pub fn #n(mut self, value: #param_ty) -> Self {
                self.#n = ::std::option::Option::Some(#value);
                self
            }
            #[doc = #set_doc]
            pub fn #set(mut self, value: ::std::option::Option<#ty>) -> Self {
                self.#n = value;
                self
            }
        }
    });
    let names: Vec<&syn::Ident> = all.iter().map(|p| &p.name).collect();
    let request = request(op, call);
    let (ret, run) = match &call.returns {
        Returns::Download => (quote!(crate::Download), quote!(download)),
        Returns::Json(_) if call.returns.is_empty() => (quote!(()), quote!(empty)),
        Returns::Json(ty) => (quote!(#ty), quote!(json)),
    };
    let checks = call.args.iter().filter(|p| p.location == "path").map(|p| {
        let (n, spec_name) = (&p.name, &p.spec_name);
        quote! { crate::transport::check_path_segment(op, #spec_name, &#n)?; }
    });
    // A raw body may be a stream, which cannot be cloned.
    let derive = if call.body == Some(Body::Raw) {
        quote!(#[derive(Debug)])
    } else {
        quote!(#[derive(Clone, Debug)])
    };
    let struct_doc = doc_attrs(&format!(
        "A request to `{} {}`, made by [`Client::{}`](crate::Client::{}): set optional parameters, then \
         `.send().await` it (or `.await` it directly).",
        op.method, op.path, op.id, op.id
    ));
    let send_doc = doc_attrs(&send_doc(op, call));
    let into_stream = call.paging.as_ref().map(|paging| into_stream(op, call, &paging.item));
    let must_use = "a request does nothing until it is sent: call `.send().await` or `.await` it";
    quote! {
        #( #struct_doc )*
        #derive
        #[must_use = #must_use]
        pub struct #name<'a> {
            client: &'a crate::Client,
            #( #fields, )*
        }

        impl<'a> #name<'a> {
            pub(crate) fn new(client: &'a crate::Client, #( #ctor_params ),*) -> Self {
                Self { client, #( #ctor_inits, )* }
            }

            #( #setters )*

            #( #send_doc )*
            pub async fn send(self) -> crate::Result<#ret> {
                let Self { client, #( #names, )* } = self;
                let op = &crate::operations::#const_name;
                #( #checks )*
                #request
                crate::transport::#run(client, request).await
            }
        }

        #into_stream

        impl<'a> ::std::future::IntoFuture for #name<'a> {
            type Output = crate::Result<#ret>;
            type IntoFuture = ::futures::future::BoxFuture<'a, Self::Output>;
            fn into_future(self) -> Self::IntoFuture {
                ::std::boxed::Box::pin(self.send())
            }
        }
    }
}

/// The statements of `send()` that describe the request: `let mut request = ..;` with the
/// path (each parameter percent-encoded by `PathSegment`), the query pairs, the header
/// parameters and the body.
fn request(op: &OperationSpec, call: &Call) -> TokenStream {
    let all: Vec<&Param> = call.args.iter().chain(call.options.iter()).collect();
    let method = format_ident!("{}", op.method.to_uppercase());
    // `/v1/batches/{batch_id}` → `format!("/v1/batches/{}", PathSegment(&batch_id))`.
    let mut template = String::new();
    let mut segments = Vec::new();
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("a validated template");
        template.push_str(&rest[..open]);
        template.push_str("{}");
        let spec_name = &rest[open + 1..close];
        let param = all
            .iter()
            .find(|p| p.location == "path" && p.spec_name == spec_name)
            .expect("every template parameter has an argument (checked by the model)");
        let n = &param.name;
        segments.push(quote!(crate::transport::PathSegment(&#n)));
        rest = &rest[close + 1..];
    }
    template.push_str(rest);
    let path = if segments.is_empty() {
        quote!(::std::string::String::from(#template))
    } else {
        quote!(::std::format!(#template, #( #segments ),*))
    };
    let (low, high): (Vec<u16>, Vec<u16>) = call.success.iter().copied().unzip();
    let mut statements = Vec::new();
    // The query pairs in name order (as progenitor sent them), then the header parameters; an
    // optional one only when set, every item of an array.
    let mut sent: Vec<&&Param> = all
        .iter()
        .filter(|p| p.location == "query" || p.location == "header")
        .collect();
    sent.sort_by_key(|p| (p.location != "query", p.spec_name.clone()));
    for p in sent {
        let add = match p.location.as_str() {
            "query" => quote!(query),
            _ => quote!(header),
        };
        let (n, wire_name) = (&p.name, &p.spec_name);
        let optional = call.options.iter().any(|o| o.name == p.name);
        let each = if crate::model::vec_inner(&p.ty).is_some() {
            quote! { for value in value { request.#add(#wire_name, value)?; } }
        } else {
            quote! { request.#add(#wire_name, value)?; }
        };
        statements.push(if optional {
            quote! { if let ::std::option::Option::Some(value) = &#n { #each } }
        } else {
            quote! { let value = &#n; #each }
        });
    }
    statements.push(match &call.body {
        None => quote!(),
        Some(Body::Json) => quote!(request.json(&body)?;),
        Some(Body::Form) => quote!(request.form(&body)?;),
        Some(Body::Text(media)) => quote!(request.text(#media, body);),
        Some(Body::Raw) => quote!(request.raw(crate::transport::RepeatableBody::new(body));),
    });
    let binding = if statements.iter().all(TokenStream::is_empty) {
        quote!(let request)
    } else {
        quote!(let mut request)
    };
    quote! {
        #binding = crate::transport::Request::new(
            op,
            ::reqwest::Method::#method,
            #path,
            &[ #( (#low, #high) ),* ],
        );
        #( #statements )*
    }
}

/// `into_stream` for a listing: every item of every page, through
/// `crate::pagination::paginate` (the module's rules: no id twice, no silent end).
fn into_stream(op: &OperationSpec, call: &Call, item: &syn::Type) -> TokenStream {
    let name = format_ident!("{}", call.builder);
    let const_name = const_ident(op);
    let item_text = quote!(#item).to_string().replace(' ', "");
    let doc = doc_attrs(&format!(
        "Every item of the listing, page after page, as one stream of `{item_text}`: this request is \
         sent (`{} {}`) with `after` set to the last id of the previous page while the server says \
         `has_more: true`. Its `limit`, if set, is each page's size.\n\n\
         The stream never yields an id twice: an item a page repeats is skipped, with a `tracing` \
         warning naming the id and the page. A page the client cannot trust to end the listing ends it \
         with an error instead of in silence (see the errors below).\n\n\
         ```no_run\n\
         # async fn run(client: cerebras_batch::Client) -> cerebras_batch::Result<()> {{\n\
         use futures::TryStreamExt;\n\
         let all: Vec<_> = client.{}().into_stream().try_collect().await?;\n\
         # Ok(()) }}\n\
         ```\n\n\
         # Errors\n\n\
         Each item is an error of [`send`](Self::send), or an [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) \
         error, after the items of the page that caused it, when the listing may be incomplete:\n\n\
         - a page says `has_more: true` but brings no item the stream has not yielded (or none at all), or \
         hands back a cursor it already gave: asking again could loop forever;\n\
         - a page has no `has_more` (absent or null) but top-level fields this client does not know, such \
         as `next_page_token` (another way to page); the error names them.\n\n\
         The stream ends after an error.",
        op.method, op.path, op.id
    ));
    quote! {
        impl<'a> #name<'a> {
            #( #doc )*
            pub fn into_stream(self) -> impl ::futures::Stream<Item = crate::Result<#item>> + Send + Unpin + 'a {
                crate::pagination::paginate(
                    &crate::operations::#const_name,
                    move |after| {
                        let request = self.clone().set_after(after);
                        async move {
                            request
                                .send()
                                .await
                                .map(|page| crate::pagination::Page::new(page.data, page.has_more, &page.extra))
                        }
                    },
                    |item: &#item| item.id.as_str(),
                )
            }
        }
    }
}

fn doc_attrs(doc: &str) -> Vec<TokenStream> {
    doc.lines()
        .map(|l| {
            let l = if l.is_empty() { String::new() } else { format!(" {l}") };
            quote!(#[doc = #l])
        })
        .collect()
}

/// The first sentence of a description, with its final period.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "see the spec.".into();
    }
    if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

fn method_doc(op: &OperationSpec, call: &Call) -> String {
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
    if !call.args.is_empty() {
        d.push_str("\n# Arguments\n\n");
        for p in &call.args {
            d.push_str(&format!(
                "- `{}` ({}): {}\n",
                p.name,
                p.location,
                sentence(&p.description)
            ));
        }
    }
    if !call.options.is_empty() {
        d.push_str("\n# Optional parameters\n\nSet on the returned builder:\n\n");
        for p in &call.options {
            d.push_str(&format!(
                "- [`{n}`](crate::builder::{b}::{n}) ({}): {}\n",
                p.location,
                sentence(&p.description),
                n = p.name,
                b = call.builder
            ));
        }
    }
    d.push_str(&format!(
        "\n# Returns\n\nA [`{b}`](crate::builder::{b}) request: `.send().await` or `.await` it. \
         Its [`send`](crate::builder::{b}::send) documents the result and the errors.\n",
        b = call.builder
    ));
    d
}

fn send_doc(op: &OperationSpec, call: &Call) -> String {
    let mut d = format!(
        "Sends `{} {}` and waits for the response.\n\n# Returns\n\n",
        op.method, op.path
    );
    match &call.returns {
        Returns::Download => {
            d.push_str("The response body as a [`crate::Download`], streamed: nothing is buffered until you read it.\n")
        }
        Returns::Json(ty) => {
            let ty = quote!(#ty).to_string().replace(' ', "");
            d.push_str(&format!("The decoded `{ty}`.\n"));
        }
    }
    d.push_str("\n# Errors\n\nA [`crate::Error`]; match on its [`kind`](crate::Error::kind):\n\n");
    for p in call.args.iter().filter(|p| p.location == "path") {
        d.push_str(&format!(
            "- [`InvalidInput`](crate::ErrorKind::InvalidInput), before any request, when `{}` is empty, is `.` or `..`, \
             or holds a backslash or control character (also percent-encoded).\n",
            p.spec_name
        ));
    }
    let declared: Vec<String> = op.error_responses.iter().map(|(code, _)| format!("`{code}`")).collect();
    d.push_str(&format!(
        "- The kind of the HTTP status for a non-2xx response (the spec declares {}). \
         The error keeps the status, headers, raw body text and decoded [`ErrorBody`](crate::types::ErrorBody).\n",
        if declared.is_empty() {
            "none".to_owned()
        } else {
            declared.join(", ")
        }
    ));
    if matches!(call.returns, Returns::Json(_)) {
        d.push_str("- [`Decode`](crate::ErrorKind::Decode) when a 2xx body does not decode; status, headers and body are kept.\n");
    }
    d.push_str("- [`Connection`](crate::ErrorKind::Connection) or [`Timeout`](crate::ErrorKind::Timeout) when no response arrived.\n");
    let streams = matches!(call.returns, Returns::Download)
        || call
            .args
            .iter()
            .chain(&call.options)
            .any(|p| p.ty == syn::parse_quote!(::reqwest::Body));
    if streams {
        d.push_str(
            "- [`Config`](crate::ErrorKind::Config) when the HTTP client for transfers, built on a client's first upload or download, cannot be built.\n",
        );
    }
    d
}
