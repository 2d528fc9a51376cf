//! The client's API surface as plain text: every operation (route, Rust signature) and every
//! type (fields or variants with their Rust types). A spec change that reaches users shows up
//! as a readable diff of this text, in the snapshot tests and in review.

use quote::ToTokens;
use std::fmt::Write;

use crate::Normalized;

/// Names of the generated types (structs and enums of progenitor's `types` module, plus the
/// open enums), sorted.
pub fn type_names(raw: &syn::File, normalized: &Normalized) -> Vec<String> {
    let mut names: Vec<String> = types_module(raw)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| match i {
                    syn::Item::Struct(s) => Some(s.ident.to_string()),
                    syn::Item::Enum(e) => Some(e.ident.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    names.extend(normalized.open_enums.keys().cloned());
    names.sort();
    names
}

fn types_module(raw: &syn::File) -> Option<&Vec<syn::Item>> {
    raw.items.iter().find_map(|i| match i {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

/// Renders the surface from the normalised spec, progenitor's file and the facade file.
pub fn render(normalized: &Normalized, raw: &syn::File, facade: &syn::File) -> String {
    let mut out = String::new();
    out.push_str("# Operations\n\n");
    let sigs = facade_signatures(facade);
    for op in &normalized.operations {
        let _ = writeln!(out, "{} {}  ({})", op.method, op.path, op.id);
        match (&op.left_out, sigs.iter().find(|(n, _)| *n == op.id)) {
            (None, Some((_, sig))) => {
                let _ = writeln!(out, "    {sig}");
            }
            (None, None) => out.push_str("    (no facade method generated)\n"),
            (Some(why), _) => {
                let _ = writeln!(out, "    hand-written: {why}");
            }
        }
    }
    out.push_str("\n# Types\n");
    out.push_str(&type_sections(raw, normalized, render_struct, render_enum, |e| {
        let mut s = format!("open enum {}  (spec {})\n", e.name, e.location);
        for (value, variant) in &e.variants {
            let _ = writeln!(s, "    {variant} = {value:?}");
        }
        s.push_str("    Unknown(String)\n");
        s
    }));
    out
}

/// Every type, rendered by kind, sorted by name, each section preceded by a blank line.
fn type_sections(
    raw: &syn::File,
    normalized: &Normalized,
    structs: fn(&syn::ItemStruct) -> String,
    enums: fn(&syn::ItemEnum) -> String,
    open_enums: impl Fn(&crate::EnumSpec) -> String,
) -> String {
    let mut items: Vec<(String, String)> = Vec::new();
    for item in types_module(raw).into_iter().flatten() {
        match item {
            syn::Item::Struct(s) => items.push((s.ident.to_string(), structs(s))),
            syn::Item::Enum(e) => items.push((e.ident.to_string(), enums(e))),
            _ => {}
        }
    }
    items.extend(normalized.open_enums.values().map(|e| (e.name.clone(), open_enums(e))));
    items.sort();
    items.into_iter().map(|(_, text)| format!("\n{text}")).collect()
}

fn facade_signatures(facade: &syn::File) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in &facade.items {
        let syn::Item::Impl(imp) = item else { continue };
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            let (vis, sig) = (&f.vis, &f.sig);
            let file: syn::File = syn::parse_quote!(#vis #sig {});
            let text = prettyplease::unparse(&file);
            let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let one_line = one_line
                .trim_end_matches("{}")
                .trim_end()
                .replace("( ", "(")
                .replace(", )", ")");
            out.push((f.sig.ident.to_string(), tidy(&one_line)));
        }
    }
    out
}

/// Shortens fully qualified paths so that the surface reads like user code.
fn tidy(s: &str) -> String {
    let mut s = s
        .replace(' ', "")
        .replace(",", ", ")
        .replace("->", " -> ")
        .replace("pubasyncfn", "pub async fn ");
    for (from, to) in [
        ("::std::option::", ""),
        ("::std::string::", ""),
        ("::std::vec::", ""),
        ("::std::num::", ""),
        ("::std::collections::", ""),
        ("::serde_json::", "serde_json::"),
        ("crate::generated::enums::", ""),
        ("&'aself", "&'a self"),
        ("&self", "&self"),
        ("&'a", "&'a "),
    ] {
        s = s.replace(from, to);
    }
    space_after_single_colons(&s.replace("&'a  ", "&'a "))
}

/// `a:B` → `a: B`, leaving `::` alone.
fn space_after_single_colons(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in chars.iter().enumerate() {
        out.push(*c);
        let prev_colon = i > 0 && chars[i - 1] == ':';
        let next = chars.get(i + 1).copied();
        if *c == ':' && !prev_colon && next != Some(':') && next != Some(' ') {
            out.push(' ');
        }
    }
    out
}

fn ty(t: &syn::Type) -> String {
    tidy(&t.to_token_stream().to_string())
}

fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().filter(|a| a.path().is_ident("serde")).find_map(|a| {
        let text = a.to_token_stream().to_string();
        let start = text.find("rename = \"")? + "rename = \"".len();
        let end = text[start..].find('"')? + start;
        Some(text[start..end].to_owned())
    })
}

fn has_serde_word(attrs: &[syn::Attribute], word: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| a.to_token_stream().to_string().contains(word))
}

fn render_struct(s: &syn::ItemStruct) -> String {
    let mut out = String::new();
    match &s.fields {
        syn::Fields::Named(named) => {
            let _ = writeln!(out, "struct {}", s.ident);
            for f in &named.named {
                let name = f.ident.as_ref().map(ToString::to_string).unwrap_or_default();
                let rename = serde_rename(&f.attrs)
                    .map(|r| format!("  (json {r:?})"))
                    .unwrap_or_default();
                let default = if has_serde_word(&f.attrs, "default") {
                    "  (default when absent)"
                } else {
                    ""
                };
                let _ = writeln!(out, "    {name}: {}{rename}{default}", ty(&f.ty));
            }
        }
        syn::Fields::Unnamed(unnamed) => {
            let inner: Vec<String> = unnamed.unnamed.iter().map(|f| ty(&f.ty)).collect();
            let _ = writeln!(out, "struct {}({})", s.ident, inner.join(", "));
        }
        syn::Fields::Unit => {
            let _ = writeln!(out, "struct {}", s.ident);
        }
    }
    out
}

fn render_enum(e: &syn::ItemEnum) -> String {
    let mut out = String::new();
    let tag = if has_serde_word(&e.attrs, "untagged") {
        "  (untagged: the first variant that decodes wins)"
    } else {
        ""
    };
    let _ = writeln!(out, "enum {}{tag}", e.ident);
    for v in &e.variants {
        let fields = match &v.fields {
            syn::Fields::Unnamed(u) => format!(
                "({})",
                u.unnamed.iter().map(|f| ty(&f.ty)).collect::<Vec<_>>().join(", ")
            ),
            syn::Fields::Named(n) => format!(
                " {{ {} }}",
                n.named
                    .iter()
                    .map(|f| format!(
                        "{}: {}",
                        f.ident.as_ref().map(ToString::to_string).unwrap_or_default(),
                        ty(&f.ty)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            syn::Fields::Unit => String::new(),
        };
        let rename = serde_rename(&v.attrs).map(|r| format!(" = {r:?}")).unwrap_or_default();
        let _ = writeln!(out, "    {}{fields}{rename}", v.ident);
    }
    out
}

/// The doc text of an item's `#[doc]` attributes, as one paragraph.
fn doc_text(attrs: &[syn::Attribute]) -> String {
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

/// `API.md`: every method of the client with its route, Rust signature and docs, and every
/// type with its fields, for reviewers to read in a pull request.
pub fn markdown(normalized: &Normalized, raw: &syn::File, facade: &syn::File) -> String {
    let mut out = String::new();
    out.push_str("<!-- @generated by `cargo xtask regen` from spec/openapi.yaml. Do not edit. -->\n");
    out.push_str("# The `cerebras-batch` API\n\n");
    out.push_str("Every method of `cerebras_batch::Client` that maps an operation of `spec/openapi.yaml`, and every type of `cerebras_batch::types`. ");
    out.push_str("Timestamps are Unix seconds; sizes are bytes. The hand-written helpers (waiting, pagination, JSONL) are documented in the crate docs.\n\n");
    out.push_str("## Methods\n");
    let sigs = facade_signatures(facade);
    for op in &normalized.operations {
        let _ = write!(
            out,
            "\n### `{}`: {}\n\n`{} {}`",
            op.id,
            op.summary.as_deref().unwrap_or(&op.id),
            op.method,
            op.path
        );
        if let Some(url) = &op.docs_url {
            let _ = write!(out, " · [vendor docs]({url})");
        }
        out.push_str("\n\n");
        match (&op.left_out, sigs.iter().find(|(n, _)| *n == op.id)) {
            (None, Some((_, sig))) => {
                let _ = writeln!(out, "```rust\n{sig}\n```\n");
            }
            (Some(why), _) => {
                let _ = writeln!(out, "Hand-written in the client crate: the {why}.\n");
            }
            (None, None) => out.push_str("(no method generated)\n\n"),
        }
        if let Some(d) = &op.description {
            out.push_str(&one_line(d));
            out.push('\n');
        }
    }
    out.push_str("\n## Types\n");
    out.push_str(&type_sections(raw, normalized, struct_markdown, enum_markdown, |e| {
        let mut s = format!("### `{}` (open enum)\n\n", e.name);
        if let Some(d) = &e.description {
            s.push_str(&one_line(d));
            s.push_str("\n\n");
        }
        s.push_str("| variant | value |\n|---|---|\n");
        for (value, variant) in &e.variants {
            let _ = writeln!(s, "| `{variant}` | `{value}` |");
        }
        s.push_str("| `Unknown(String)` | any other value, kept as received |\n");
        s
    }));
    out
}

/// Text folded onto one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn struct_markdown(s: &syn::ItemStruct) -> String {
    let mut out = format!("### `{}`\n\n", s.ident);
    let doc = doc_text(&s.attrs);
    if !doc.is_empty() {
        out.push_str(&doc);
        out.push_str("\n\n");
    }
    match &s.fields {
        syn::Fields::Named(named) => {
            out.push_str("| field | type | description |\n|---|---|---|\n");
            for f in &named.named {
                let name = f.ident.as_ref().map(ToString::to_string).unwrap_or_default();
                let name = match serde_rename(&f.attrs) {
                    Some(json) => format!("`{name}` (JSON `{json}`)"),
                    None => format!("`{name}`"),
                };
                let _ = writeln!(
                    out,
                    "| {name} | `{}` | {} |",
                    cell(&ty(&f.ty)),
                    cell(&doc_text(&f.attrs))
                );
            }
        }
        syn::Fields::Unnamed(u) => {
            let inner: Vec<String> = u.unnamed.iter().map(|f| ty(&f.ty)).collect();
            let _ = writeln!(out, "A wrapper around `{}`.", inner.join(", "));
        }
        syn::Fields::Unit => {}
    }
    out
}

fn enum_markdown(e: &syn::ItemEnum) -> String {
    let mut out = format!("### `{}`\n\n", e.ident);
    let doc = doc_text(&e.attrs);
    if !doc.is_empty() {
        out.push_str(&doc);
        out.push_str("\n\n");
    }
    if has_serde_word(&e.attrs, "untagged") {
        out.push_str("Untagged: the first variant that decodes wins.\n\n");
    }
    out.push_str("| variant | holds |\n|---|---|\n");
    for v in &e.variants {
        let holds = match &v.fields {
            syn::Fields::Unnamed(u) => u
                .unnamed
                .iter()
                .map(|f| format!("`{}`", cell(&ty(&f.ty))))
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        };
        let _ = writeln!(out, "| `{}` | {holds} |", v.ident);
    }
    out
}
