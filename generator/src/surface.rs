//! The generated API rendered for people, from [`crate::model::Api`]: a compact plain-text
//! surface (for snapshots: a spec change that reaches users shows up as a readable diff) and
//! `API.md` (the same facts with the spec's descriptions, for review).

use quote::ToTokens;
use std::collections::BTreeSet;
use std::fmt::Write;

use crate::model::{Api, Call, Param, Returns, Struct, Union, one_line};
use crate::shape::param_type;

/// The compact surface: every operation (route, call shape) and every type (fields or
/// variants with their Rust types).
pub fn render(api: &Api) -> String {
    let open_enums = api.open_enum_names();
    let mut out = String::new();
    out.push_str("# Operations\n\n");
    for op in &api.operations {
        let s = &op.spec;
        let _ = writeln!(out, "{} {}  ({})", s.method, s.path, s.id);
        match (&op.call, &s.left_out) {
            (Some(call), _) => out.push_str(&call_text(&s.id, call, &open_enums, "    ")),
            (None, Some(why)) => {
                let _ = writeln!(out, "    hand-written: {why}");
            }
            (None, None) => out.push_str("    (no method generated)\n"),
        }
    }
    out.push_str("\n# Types\n");
    for (_, text) in sections(api, struct_text, union_text, |e| {
        let mut s = format!("open enum {}  (spec {}; #[non_exhaustive])\n", e.name, e.location);
        for (value, variant) in &e.variants {
            let _ = writeln!(s, "    {variant} = {value:?}");
        }
        s.push_str("    Unknown(UnknownValue)\n");
        s
    }) {
        out.push('\n');
        out.push_str(&text);
    }
    out
}

/// The call shape of one operation: the client method, each setter, `send()`.
fn call_text(id: &str, call: &Call, open_enums: &BTreeSet<String>, indent: &str) -> String {
    let mut out = String::new();
    let args: Vec<String> = call
        .args
        .iter()
        .map(|p| format!("{}: {}", p.name, param_text(p, open_enums)))
        .collect();
    let _ = writeln!(
        out,
        "{indent}client.{id}({}) -> builder::{}",
        args.join(", "),
        call.builder
    );
    for p in &call.options {
        let _ = writeln!(
            out,
            "{indent}    .{}({})  {}, optional",
            p.name,
            param_text(p, open_enums),
            p.location
        );
    }
    let _ = writeln!(out, "{indent}    .send() -> Result<{}>", returns_text(&call.returns));
    out
}

fn param_text(p: &Param, open_enums: &BTreeSet<String>) -> String {
    if p.ty == syn::parse_quote!(::reqwest::Body) {
        return "impl Into<reqwest::Body>".into();
    }
    tidy(&param_type(&p.ty, open_enums).0.to_string())
}

fn returns_text(r: &Returns) -> String {
    match r {
        Returns::Json(t) => ty(t),
        Returns::Download => "Download".into(),
    }
}

/// Every type section by name: structs, unions and open enums, each rendered by its function.
fn sections(
    api: &Api,
    structs: fn(&Struct) -> String,
    unions: fn(&Union) -> String,
    open_enums: impl Fn(&crate::EnumSpec) -> String,
) -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = Vec::new();
    items.extend(api.structs.iter().map(|s| (s.name.clone(), structs(s))));
    items.extend(api.unions.iter().map(|u| (u.name.clone(), unions(u))));
    items.extend(api.open_enums.iter().map(|e| (e.name.clone(), open_enums(e))));
    items.sort();
    items
}

fn struct_text(s: &Struct) -> String {
    let mut out = String::new();
    if let Some(inner) = &s.newtype {
        let _ = writeln!(out, "struct {}({})", s.name, ty(inner));
        return out;
    }
    let ctor: Vec<String> = s
        .fields
        .iter()
        .filter(|f| f.in_constructor)
        .map(|f| f.name.to_string())
        .collect();
    let _ = writeln!(
        out,
        "struct {}  ({}; #[non_exhaustive], new({}))",
        s.name,
        if s.read { "read" } else { "sent" },
        ctor.join(", ")
    );
    for f in &s.fields {
        let json = if f.wire == crate::model::FLATTENED {
            "  (json: every other field)".to_owned()
        } else if f.name != f.wire {
            format!("  (json {:?})", f.wire)
        } else {
            String::new()
        };
        let _ = writeln!(out, "    {}: {}{json}", f.name, ty(&f.ty));
    }
    out
}

fn union_text(u: &Union) -> String {
    let mut out = String::new();
    let tag = match (&u.decoding, u.untagged) {
        (Some(how), _) => format!("decoded {how}; "),
        (None, true) => "untagged: the first variant that decodes wins; ".to_owned(),
        (None, false) => String::new(),
    };
    let _ = writeln!(out, "enum {}  ({tag}#[non_exhaustive])", u.name);
    for (name, tys, rename) in &u.variants {
        let holds = if tys.is_empty() {
            String::new()
        } else {
            format!("({})", tys.iter().map(ty).collect::<Vec<_>>().join(", "))
        };
        let rename = rename.as_ref().map(|r| format!(" = {r:?}")).unwrap_or_default();
        let _ = writeln!(out, "    {name}{holds}{rename}");
    }
    out
}

/// `API.md`: every method of the client with its route, call shape and docs, and every type
/// with its fields, for reviewers to read in a pull request.
pub fn markdown(api: &Api) -> String {
    let open_enums = api.open_enum_names();
    let mut out = String::new();
    out.push_str("<!-- @generated by `cargo xtask regen` from spec/openapi.yaml. Do not edit. -->\n");
    out.push_str("# The `cerebras-batch` API\n\n");
    out.push_str(
        "Every method of `cerebras_batch::Client` that maps an operation of `spec/openapi.yaml`, and every type of \
         `cerebras_batch::types`. Each method takes what cannot be left out and returns a request builder \
         (`cerebras_batch::builder`); optional parameters are its setters, and it is sent with `.send().await` or \
         by awaiting it. Types are `#[non_exhaustive]`: build them with `new` and the `with_` setters. \
         Timestamps are Unix seconds; sizes are bytes. The hand-written helpers (waiting, pagination, JSONL) are \
         documented in the crate docs.\n\n",
    );
    out.push_str("## Methods\n");
    for op in &api.operations {
        let s = &op.spec;
        let _ = write!(
            out,
            "\n### `{}`: {}\n\n`{} {}`",
            s.id,
            s.summary.as_deref().unwrap_or(&s.id),
            s.method,
            s.path
        );
        if let Some(url) = &s.docs_url {
            let _ = write!(out, " · [vendor docs]({url})");
        }
        out.push_str("\n\n");
        match (&op.call, &s.left_out) {
            (Some(call), _) => {
                let _ = writeln!(out, "```text\n{}```\n", call_text(&s.id, call, &open_enums, ""));
                let params: Vec<&Param> = call.args.iter().chain(call.options.iter()).collect();
                if !params.is_empty() {
                    out.push_str("| parameter | in | required | description |\n|---|---|---|---|\n");
                    for p in params {
                        let required = call.args.iter().any(|a| a.name == p.name);
                        let _ = writeln!(
                            out,
                            "| `{}` | {} | {} | {} |",
                            p.spec_name,
                            p.location,
                            if required { "yes" } else { "no" },
                            cell(&p.description)
                        );
                    }
                    out.push('\n');
                }
            }
            (None, Some(why)) => {
                let _ = writeln!(out, "Hand-written in the client crate: the {why}.\n");
            }
            (None, None) => out.push_str("(no method generated)\n\n"),
        }
        if let Some(d) = &s.description {
            out.push_str(&one_line(d));
            out.push('\n');
        }
        if !s.error_responses.is_empty() {
            let codes: Vec<String> = s.error_responses.iter().map(|(c, _)| format!("`{c}`")).collect();
            let _ = writeln!(out, "\nDeclared errors: {}.", codes.join(", "));
        }
    }
    out.push_str("\n## Types\n");
    for (_, text) in sections(api, struct_markdown, union_markdown, |e| {
        let mut s = format!("### `{}` (open enum)\n\n", e.name);
        if let Some(d) = &e.description {
            s.push_str(&one_line(d));
            s.push_str("\n\n");
        }
        s.push_str("| variant | value |\n|---|---|\n");
        for (value, variant) in &e.variants {
            let _ = writeln!(s, "| `{variant}` | `{value}` |");
        }
        s.push_str("| `Unknown(UnknownValue)` | any other value, kept as received (read it with `as_str()`) |\n");
        s
    }) {
        out.push('\n');
        out.push_str(&text);
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn struct_markdown(s: &Struct) -> String {
    let mut out = format!("### `{}`\n\n", s.name);
    if !s.doc.is_empty() {
        out.push_str(&s.doc);
        out.push_str("\n\n");
    }
    if let Some(inner) = &s.newtype {
        let _ = writeln!(out, "A wrapper around `{}`.", ty(inner));
        return out;
    }
    let ctor: Vec<String> = s
        .fields
        .iter()
        .filter(|f| f.in_constructor)
        .map(|f| format!("`{}`", f.name))
        .collect();
    let _ = writeln!(
        out,
        "{} Built with `{}::new({})`{}.\n",
        if s.read {
            "Read from responses: only what identifies it is required, every other field may be absent or null."
        } else {
            "Sent in requests."
        },
        s.name,
        ctor.iter().map(|c| c.trim_matches('`')).collect::<Vec<_>>().join(", "),
        if s.fields.iter().any(|f| !f.in_constructor) {
            " and the `with_` setters"
        } else {
            ""
        }
    );
    out.push_str("| field | type | description |\n|---|---|---|\n");
    for f in &s.fields {
        let name = if f.wire == crate::model::FLATTENED {
            format!("`{}` (JSON: every other field)", f.name)
        } else if f.name != f.wire {
            format!("`{}` (JSON `{}`)", f.name, f.wire)
        } else {
            format!("`{}`", f.name)
        };
        let _ = writeln!(out, "| {name} | `{}` | {} |", cell(&ty(&f.ty)), cell(&f.doc));
    }
    out
}

fn union_markdown(u: &Union) -> String {
    let mut out = format!("### `{}`\n\n", u.name);
    if !u.doc.is_empty() {
        out.push_str(&u.doc);
        out.push_str("\n\n");
    }
    match (&u.decoding, u.untagged) {
        (Some(how), _) => out.push_str(&format!(
            "Decoded {how}; a value no variant claims is kept as `Unknown`.\n\n"
        )),
        (None, true) => out.push_str("Untagged: the first variant that decodes wins.\n\n"),
        (None, false) => {}
    }
    out.push_str("| variant | holds |\n|---|---|\n");
    for (name, tys, _) in &u.variants {
        let holds = tys
            .iter()
            .map(|t| format!("`{}`", cell(&ty(t))))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "| `{name}` | {holds} |");
    }
    out
}

/// A type as users write it.
pub(crate) fn ty(t: &syn::Type) -> String {
    tidy(&t.to_token_stream().to_string())
}

/// Shortens fully qualified paths so that the surface reads like user code.
fn tidy(s: &str) -> String {
    // The keyword `impl` keeps its space (a token stream writes it as the token `impl`
    // followed by a space); `impl` inside a name (`SimplifiedBatch`) is left alone.
    let mut s = format!(" {s}")
        .replace(" impl ", " impl\u{0}")
        .replace(' ', "")
        .replace('\u{0}', " ")
        .replace(",", ", ")
        .replace("->", " -> ");
    for (from, to) in [
        ("::std::option::", ""),
        ("::std::string::", ""),
        ("::std::vec::", ""),
        ("::std::num::", ""),
        ("::std::collections::", ""),
        ("::std::convert::", ""),
        ("::serde_json::", "serde_json::"),
        ("::reqwest::", "reqwest::"),
        ("crate::generated::enums::", ""),
        ("crate::generated::unions::", ""),
    ] {
        s = s.replace(from, to);
    }
    s
}

#[cfg(test)]
mod tidy_tests {
    use quote::ToTokens;

    use super::tidy;

    #[test]
    fn impl_is_spaced_only_as_a_keyword() {
        let ty = |src: &str| tidy(&syn::parse_str::<syn::Type>(src).unwrap().to_token_stream().to_string());
        assert_eq!(ty("impl Into<::std::string::String>"), "impl Into<String>");
        assert_eq!(ty("SimplifiedBatch"), "SimplifiedBatch");
        assert_eq!(
            ty("::std::option::Option<crate::generated::enums::Simplicity>"),
            "Option<Simplicity>"
        );
        assert_eq!(ty("impl Fn(u64) -> bool"), "impl Fn(u64) -> bool");
    }
}
