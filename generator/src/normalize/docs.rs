//! Rule 4: the spec's descriptions are untrusted text from a vendor, and they end up in rustdoc
//! (progenitor copies schema and field descriptions, the facade copies operation and parameter
//! ones). So that no description can break the build or the docs:
//!
//! - every fenced code block is tagged `text` (an untagged or `rust` fence would be compiled as a
//!   doctest);
//! - lines lose their leading whitespace outside fences (an indented line would be an indented
//!   code block, also a doctest);
//! - outside code, `<` and `>` are escaped (raw HTML, a `<script>` say, would reach the HTML
//!   docs), except in `<https://...>` autolinks, and `[`/`]` are escaped (rustdoc would read
//!   `[name]` as an intra-doc link), except in `[text](url)` links;
//! - a bare URL becomes an autolink `<https://...>`.

use serde_json::Value;

use crate::spec_walk::{for_each_operation_mut, path_items_mut};

/// Rewrites every description (and operation summary) of the spec copy into safe rustdoc.
pub(super) fn sanitize(spec: &mut Value) {
    crate::spec_walk::for_each_schema_mut(spec, &mut |schema, _| {
        if let Some(Value::String(d)) = schema.get_mut("description") {
            *d = rustdoc_text(d);
        }
    });
    let fix = |v: Option<&mut Value>| {
        if let Some(Value::String(d)) = v {
            *d = rustdoc_text(d);
        }
    };
    if let Some(info) = spec.get_mut("info") {
        fix(info.get_mut("description"));
    }
    for kind in ["parameters", "responses", "requestBodies"] {
        if let Some(map) = spec
            .get_mut("components")
            .and_then(|c| c.get_mut(kind))
            .and_then(Value::as_object_mut)
        {
            for (_, v) in map.iter_mut() {
                fix(v.get_mut("description"));
            }
        }
    }
    for (_, item) in path_items_mut(spec) {
        for p in item
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            fix(p.get_mut("description"));
        }
    }
    for_each_operation_mut(spec, |_, _, op| {
        fix(op.get_mut("summary"));
        fix(op.get_mut("description"));
        for p in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            fix(p.get_mut("description"));
        }
        for (_, r) in op
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flatten()
        {
            fix(r.get_mut("description"));
        }
    });
}

/// `text` as rustdoc that renders as the text reads and compiles to nothing.
pub(crate) fn rustdoc_text(text: &str) -> String {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (&fence, marker) {
            (None, Some(m)) => {
                let len = trimmed.chars().take_while(|c| m.starts_with(*c)).count();
                fence = Some(trimmed[..len].to_owned());
                out.push(format!("{}text", &trimmed[..len]));
            }
            (Some(open), Some(_))
                if trimmed.starts_with(open.as_str()) && trimmed.trim_end() == trimmed[..open.len()].trim_end() =>
            {
                out.push(open.clone());
                fence = None;
            }
            (Some(_), _) => out.push(line.to_owned()),
            (None, None) => out.push(escape_prose(trimmed)),
        }
    }
    if let Some(open) = fence {
        out.push(open);
    }
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

/// Escapes HTML and brackets outside inline code spans.
fn escape_prose(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, part) in line.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(part);
            continue;
        }
        let chars: Vec<char> = part.chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let rest: String = chars[j..].iter().collect();
            match chars[j] {
                '<' if (rest.starts_with("<https://") || rest.starts_with("<http://"))
                    && rest.find('>').is_some_and(|e| !rest[..e].contains(char::is_whitespace)) =>
                {
                    let end = rest.find('>').expect("checked");
                    out.push_str(&rest[..=end]);
                    j += rest[..=end].chars().count();
                    continue;
                }
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '[' => {
                    // A `[text](url)` link stays a link.
                    if let Some(close) = rest.find("](")
                        && !rest[1..close].contains('[')
                        && rest[close..].contains(')')
                    {
                        let end = close + rest[close..].find(')').expect("checked");
                        out.push_str(&rest[..=end]);
                        j += rest[..=end].chars().count();
                        continue;
                    }
                    out.push_str("\\[");
                }
                ']' => out.push_str("\\]"),
                // A bare URL becomes an autolink (rustdoc warns about bare URLs); trailing
                // punctuation stays outside it.
                'h' if rest.starts_with("https://") || rest.starts_with("http://") => {
                    let end = rest
                        .find(|c: char| c.is_whitespace() || c == '<' || c == '>')
                        .unwrap_or(rest.len());
                    let url = rest[..end].trim_end_matches(['.', ',', ';', ':', ')', '\'', '"']);
                    out.push('<');
                    out.push_str(url);
                    out.push('>');
                    j += url.chars().count();
                    continue;
                }
                c => out.push(c),
            }
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rustdoc_text;

    #[test]
    fn code_blocks_become_text_and_html_is_escaped() {
        assert_eq!(
            rustdoc_text("Run:\n```\nfn main() {}\n```"),
            "Run:\n```text\nfn main() {}\n```"
        );
        assert_eq!(rustdoc_text("```rust\nx\n```"), "```text\nx\n```");
        assert_eq!(rustdoc_text("Text\n\n    indented code\n"), "Text\n\nindented code\n");
        assert_eq!(
            rustdoc_text("a <script>alert(1)</script> b"),
            "a &lt;script&gt;alert(1)&lt;/script&gt; b"
        );
        assert_eq!(
            rustdoc_text("see <https://x.y/z> and `a<b>`"),
            "see <https://x.y/z> and `a<b>`"
        );
        assert_eq!(
            rustdoc_text("[link](https://x) and [name]"),
            "[link](https://x) and \\[name\\]"
        );
        assert_eq!(
            rustdoc_text("an unclosed\n```\nfence"),
            "an unclosed\n```text\nfence\n```"
        );
    }
}
