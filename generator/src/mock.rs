//! The mock crate's generated code (`mock/src/generated/`): from the same API model as the
//! client, so the mocks cannot drift from it.
//!
//! - `when.rs`: one expectation builder per operation, named like the client's request builder
//!   (`when::CancelBatch`), created by the `MockApi` method of the operation's name. Each
//!   parameter and the body is a setter that narrows the match, typed as the client takes it;
//!   `respond` takes a `Reply` of the operation's success type. Each mock is named after the
//!   operation and the parameters it pins (`cancel_batch(batch_id = "b1")`, by
//!   `Expect::operation`), and a builder made by a `MockApi` records its mocks there (the
//!   `mock_api` field, set by `with_mock_api`), so that `MockApi::fail_on_unmatched` can name
//!   the closest one. Operations left out of the client's generation get their hand-written
//!   expectation re-exported, so that the mock crate does not compile until someone writes it
//!   (with a `with_mock_api` of its own).
//! - `replies.rs`: a `Reply` constructor per error status the spec declares, named after the
//!   status (`Reply::not_found`), and `DOCUMENTED_ERROR_STATUSES`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::GenerateError;
use crate::model::{Api, Param, Returns};

/// Where the mock crate's generated files go, relative to the workspace root.
pub const OUTPUT_DIR: &str = "mock/src/generated";

/// The generated files of the mock crate, by name: `mod.rs`, `when.rs`, `replies.rs`.
///
/// # Errors
///
/// [`GenerateError::Syntax`] when the code does not parse (a generator bug).
pub fn files(api: &Api) -> Result<Vec<(&'static str, String)>, GenerateError> {
    let pretty = |file: &'static str, text: String| {
        syn::parse_file(&text)
            .map(|f| prettyplease::unparse(&f))
            .map_err(|e| GenerateError::Syntax {
                file,
                message: e.to_string(),
            })
    };
    Ok(vec![
        ("mod.rs", MOD_RS.to_owned()),
        ("when.rs", pretty("mock when.rs", when(api))?),
        ("replies.rs", pretty("mock replies.rs", replies(api))?),
    ])
}

const MOD_RS: &str = "//! Code generated from `spec/openapi.yaml` for the mock crate.\n//!\n//! - `when`: an expectation builder per operation.\n//! - `replies`: a `Reply` constructor per documented error status.\n\n#[rustfmt::skip]\npub mod replies;\n#[rustfmt::skip]\npub mod when;\n";

fn when(api: &Api) -> String {
    let names: std::collections::BTreeSet<String> = api.type_names().into_iter().collect();
    let open = api.open_enum_names();
    let t = |ty: &syn::Type| crate::consumer::external(ty, &names);
    let mut out = String::new();
    out.push_str(
        "//! Expectation builders: one per operation of the spec, created by the `MockApi` method of the\n\
         //! operation's name. Every setter narrows the match; `respond` answers it.\n\
         #![allow(clippy::all)]\n\n\
         #[allow(unused_imports)]\nuse cerebras_batch::types;\n\n",
    );
    let mut methods = String::new();
    for op in &api.operations {
        let s = &op.spec;
        let builder = crate::naming::type_name(&s.id);
        let Some(call) = &op.call else {
            let _ = writeln!(
                out,
                "/// `{} {}` (`{}`) is implemented by hand in the client, and so is its expectation.\npub use crate::hand_written::{builder};\n",
                s.method, s.path, s.id
            );
            let _ = writeln!(
                methods,
                "    /// Expects `{} {}` (`{}`): any such request, until narrowed by the setters of [`{builder}`].\n    pub fn {}(&self) -> {builder} {{\n        {builder}::new().with_mock_api(self)\n    }}\n",
                s.method, s.path, s.id, s.id
            );
            continue;
        };
        let params: Vec<&Param> = call.args.iter().chain(call.options.iter()).collect();
        let reply = match &call.returns {
            Returns::Json(ty) => t(ty),
            Returns::Download => "crate::FileContent".to_owned(),
        };
        let _ = writeln!(
            out,
            "/// Matches `{m} {p}` ([`Client::{id}`](cerebras_batch::Client::{id})): any such request, until narrowed by\n\
             /// the setters, which take values as the client does.\n\
             #[derive(Clone, Debug, Default)]\n#[must_use]\npub struct {builder} {{",
            m = s.method,
            p = s.path,
            id = s.id
        );
        for p in &params {
            let ty = if p.location == "path" {
                "::std::string::String".to_owned()
            } else {
                t(&p.ty)
            };
            let _ = writeln!(out, "    {}: ::std::option::Option<{ty}>,", p.name);
        }
        out.push_str(
            "    /// The `MockApi` that made this builder records its mocks here, for `fail_on_unmatched`.\n    mock_api: crate::unmatched::Registry,\n}\n\n",
        );
        let _ = writeln!(
            out,
            "impl {builder} {{\n    /// Any request to `{} {}`.\n    pub fn new() -> Self {{\n        Self::default()\n    }}\n\n\
             /// Records the mocks it builds in `api`'s registry (for `fail_on_unmatched`).\n    pub(crate) fn with_mock_api(mut self, api: &crate::MockApi) -> Self {{\n        self.mock_api = api.registry();\n        self\n    }}\n",
            s.method, s.path
        );
        for p in &params {
            let (param_ty, convert) = match p.location.as_str() {
                "path" => ("impl ::std::convert::Into<::std::string::String>".to_owned(), true),
                _ if p.ty == syn::parse_quote!(::reqwest::Body) => continue,
                _ => {
                    let (ty, convert) = crate::shape::param_type(&p.ty, &open);
                    (t_tokens(&ty.to_string(), &names), convert)
                }
            };
            let value = if convert { "value.into()" } else { "value" };
            let what = if p.location == "body" {
                "Only requests with this body (compared as JSON).".to_owned()
            } else {
                format!(
                    "Only requests whose `{}` ({}) is `value`, as given to the client.",
                    p.spec_name, p.location
                )
            };
            let _ = writeln!(
                out,
                "    /// {what}\n    pub fn {n}(mut self, value: {param_ty}) -> Self {{\n        self.{n} = ::std::option::Option::Some({value});\n        self\n    }}\n",
                n = p.name
            );
        }
        let _ = writeln!(
            out,
            "    /// The request this expectation matches.\n    pub fn expect(&self) -> crate::Expect {{"
        );
        let _ = write!(
            out,
            "        crate::Expect::new({:?}, {:?})\n            .operation({:?})",
            s.method, s.path, s.id
        );
        for p in &params {
            let n = &p.name;
            match p.location.as_str() {
                "path" => {
                    let _ = write!(out, "\n            .path_param({:?}, self.{n}.as_deref())", p.spec_name);
                }
                "body" => {
                    let _ = write!(
                        out,
                        "\n            .json_body(self.{n}.as_ref().map(|v| ::serde_json::to_value(v).expect(\"a generated type encodes\")))"
                    );
                }
                "query" | "header" => {
                    let _ = write!(
                        out,
                        "\n            .{}({:?}, self.{n}.as_ref().map(|v| ::serde_json::to_value(v).expect(\"a parameter encodes\")).as_ref())",
                        if p.location == "query" { "query" } else { "header" },
                        p.spec_name
                    );
                }
                _ => {}
            }
        }
        out.push_str("\n    }\n\n");
        let _ = writeln!(
            out,
            "    /// Answers with `reply` (mount the returned mock on the `MockApi`).\n    pub fn respond(self, reply: crate::Reply<{reply}>) -> ::wiremock::Mock {{\n        self.respond_with(reply)\n    }}\n\n\
             /// Answers with any wiremock responder (a sequence, a closure). The mock is named after\n    /// the operation and the parameters set (`{id}(..)`).\n    pub fn respond_with(self, responder: impl ::wiremock::Respond + 'static) -> ::wiremock::Mock {{\n        self.mock_api.respond_with(self.expect(), responder)\n    }}\n}}\n",
            id = s.id
        );
        let _ = writeln!(
            methods,
            "    /// Expects `{} {}` ([`Client::{}`](cerebras_batch::Client::{})).\n    pub fn {}(&self) -> {builder} {{\n        {builder}::new().with_mock_api(self)\n    }}\n",
            s.method, s.path, s.id, s.id, s.id
        );
    }
    let _ = writeln!(out, "impl crate::MockApi {{\n{methods}}}");
    out
}

/// A type rendered by quote (`impl :: std :: convert :: Into < T >`) as external code writes it.
fn t_tokens(tokens: &str, names: &std::collections::BTreeSet<String>) -> String {
    match syn::parse_str::<syn::Type>(tokens) {
        Ok(ty) => crate::consumer::external(&ty, names),
        Err(_) => tokens.to_owned(),
    }
}

fn replies(api: &Api) -> String {
    let mut codes: BTreeMap<u16, String> = BTreeMap::new();
    for op in &api.operations {
        for (code, description) in &op.spec.error_responses {
            if let Ok(n) = code.parse::<u16>() {
                codes.entry(n).or_insert_with(|| crate::model::one_line(description));
            }
        }
    }
    let mut out = String::from(
        "//! A `Reply` constructor per error status the spec declares.\n\n\
         /// Every error status the spec declares on some operation (the `4XX`/`5XX` ranges aside).\n",
    );
    let list: Vec<String> = codes.keys().map(ToString::to_string).collect();
    let _ = writeln!(
        out,
        "pub const DOCUMENTED_ERROR_STATUSES: &[u16] = &[{}];\n",
        list.join(", ")
    );
    out.push_str("impl<T> crate::Reply<T> {\n");
    for (code, description) in &codes {
        let _ = writeln!(
            out,
            "    /// Answers `{code}` with the error `body`. The spec: {description}\n    pub fn {}(body: cerebras_batch::types::ErrorBody) -> Self {{\n        Self::error({code}, body)\n    }}\n",
            status_name(*code)
        );
    }
    out.push_str("}\n");
    out
}

/// The snake_case name of a status (its standard reason phrase).
fn status_name(code: u16) -> String {
    match code {
        400 => "bad_request",
        401 => "unauthorized",
        402 => "payment_required",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        410 => "gone",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable_entity",
        429 => "too_many_requests",
        500 => "internal_server_error",
        501 => "not_implemented",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        other => return format!("status_{other}"),
    }
    .to_owned()
}
