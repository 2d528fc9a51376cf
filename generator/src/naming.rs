//! Rust names of spec names, exactly as typify 0.8 (progenitor's type generator) derives them:
//! `heck` case conversion after replacing characters that cannot continue an identifier with
//! `-`, an `x`/`X` prefix when the result cannot start one, and a trailing `_` for keywords
//! (`type` becomes `type_`). The generator predicts progenitor's names with these, to find the
//! generated type of a component and to refuse two properties that would get one field name.

use heck::{ToPascalCase, ToSnakeCase};

/// The Rust type name of a component schema name (`batch_list` → `BatchList`).
pub fn type_name(name: &str) -> String {
    sanitize(name, |s| s.to_pascal_case(), "X")
}

/// The Rust field name of a property name (`expires_after[anchor]` → `expires_after_anchor`,
/// `type` → `type_`).
pub fn field_name(name: &str) -> String {
    sanitize(name, |s| s.to_snake_case(), "x")
}

/// PascalCase of the alphanumeric words of `s` (`in_progress` → `InProgress`, `POST` → `Post`).
pub fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = if w.chars().all(|c| !c.is_ascii_lowercase()) {
                w.to_ascii_lowercase()
            } else {
                w.to_owned()
            };
            let mut cs = w.chars();
            let first = cs.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(cs).collect::<String>()
        })
        .collect()
}

/// The Rust variant of an enum value, as typify names variants (`in_progress` → `InProgress`,
/// `+1` → `Plus1`, `2fa` → `X2fa`); empty for the empty string, which has no sensible name.
pub fn variant_name(value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        type_name(value)
    }
}

fn sanitize(input: &str, case: impl Fn(&str) -> String, prefix: &str) -> String {
    let out = match input {
        "+1" => "plus1".to_owned(),
        "-1" => "minus1".to_owned(),
        _ => case(
            &input
                .replace('\'', "")
                .replace(|c: char| !unicode_ident::is_xid_continue(c), "-"),
        ),
    };
    let out = match out.chars().next() {
        None => prefix.to_owned(),
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("{prefix}{out}"),
    };
    if KEYWORDS.contains(&out.as_str()) {
        format!("{out}_")
    } else {
        out
    }
}

/// What typify refuses as an identifier (typify-impl 0.8 `accept_as_ident`).
const KEYWORDS: &[&str] = &[
    "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro",
    "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "Self", "self", "static", "struct",
    "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while",
    "yield",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_typify() {
        assert_eq!(type_name("BatchList"), "BatchList");
        assert_eq!(type_name("batch_list"), "BatchList");
        assert_eq!(field_name("type"), "type_");
        assert_eq!(field_name("expires_after[anchor]"), "expires_after_anchor");
        assert_eq!(field_name("x-rate"), "x_rate");
        assert_eq!(field_name("x_rate"), "x_rate");
        assert_eq!(field_name("2fa"), "x2fa");
    }
}
