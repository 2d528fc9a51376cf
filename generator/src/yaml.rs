//! Reads the spec's YAML (or JSON, a subset of YAML) into a `serde_json::Value`, remembering
//! where each node was written, so that every problem can name its line and column. A key
//! written twice in one mapping is refused (YAML forbids it; a lenient reader would silently keep
//! the last value).
//!
//! Built on `yaml-rust2`'s event parser. Scalars follow the YAML 1.2 core schema: a plain
//! `200` is a number and a quoted `'200'` a string; mapping keys are always strings (`200:`
//! is the key `"200"`). Anchors and aliases are supported.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::spec_walk::escape;

/// A 1-based line and column.
pub type Position = (usize, usize);

/// A parsed document and where each of its nodes was written.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The document.
    pub value: Value,
    /// JSON pointer → position: of the key for a mapping entry, of the node otherwise.
    pub positions: BTreeMap<String, Position>,
}

impl Loaded {
    /// The position of `pointer`, or of its nearest ancestor that has one.
    pub fn position(&self, pointer: &str) -> Position {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return (1, 1),
            }
        }
    }
}

/// A problem with the YAML text itself, at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where.
    pub position: Position,
    /// The JSON pointer of the node, when known.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// Parses `text`.
///
/// # Errors
///
/// A [`YamlError`] for invalid YAML, a duplicated key, an unknown alias or several documents.
pub fn load(text: &str) -> Result<Loaded, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        return Err(YamlError {
            position: (e.marker().line(), e.marker().col() + 1),
            pointer: builder.current_pointer(),
            message: format!("invalid YAML: {}", e.info()),
        });
    }
    if let Some(e) = builder.error {
        return Err(e);
    }
    Ok(Loaded {
        value: builder.root.unwrap_or(Value::Null),
        positions: builder.positions,
    })
}

enum Frame {
    Map {
        map: Map<String, Value>,
        pointer: String,
        anchor: usize,
        /// The key waiting for its value, with its position.
        key: Option<(String, Position)>,
    },
    Seq {
        items: Vec<Value>,
        pointer: String,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Value>,
    positions: BTreeMap<String, Position>,
    anchors: BTreeMap<usize, Value>,
    error: Option<YamlError>,
}

impl Builder {
    /// The pointer of the innermost node being read (for errors in the middle of one).
    fn current_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Map {
                pointer,
                key: Some((k, _)),
                ..
            }) => format!("{pointer}/{}", escape(k)),
            Some(Frame::Map { pointer, .. } | Frame::Seq { pointer, .. }) => pointer.clone(),
        }
    }

    /// The pointer the next value gets, and records its position.
    fn next_pointer(&mut self, mark: Marker) -> String {
        let pos = (mark.line(), mark.col() + 1);
        let (pointer, pos) = match self.stack.last() {
            None => (String::new(), pos),
            Some(Frame::Map { pointer, key, .. }) => {
                let (k, kpos) = key.as_ref().expect("a value follows its key");
                (format!("{pointer}/{}", escape(k)), *kpos)
            }
            Some(Frame::Seq { pointer, items, .. }) => (format!("{pointer}/{}", items.len()), pos),
        };
        self.positions.entry(pointer.clone()).or_insert(pos);
        pointer
    }

    /// Places a finished value in its parent.
    fn place(&mut self, value: Value, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Map { map, key, .. }) => {
                let (k, _) = key.take().expect("a value follows its key");
                map.insert(k, value);
            }
            Some(Frame::Seq { items, .. }) => items.push(value),
        }
    }

    fn fail(&mut self, position: Position, pointer: String, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                position,
                pointer,
                message,
            });
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos = (mark.line(), mark.col() + 1);
        // A scalar in key position is a key.
        if let Event::Scalar(text, ..) = &ev
            && let Some(Frame::Map { map, key, pointer, .. }) = self.stack.last_mut()
            && key.is_none()
        {
            if map.contains_key(text) {
                let at = format!("{pointer}/{}", escape(text));
                let first = self.positions.get(&at).copied().unwrap_or((0, 0));
                let message = format!(
                    "the key `{text}` is written twice in one mapping (first at line {}); YAML forbids it, and a reader would silently keep only the last value",
                    first.0
                );
                self.fail(pos, at, message);
                return;
            }
            *key = Some((text.clone(), pos));
            return;
        }
        if let Some(Frame::Map { key: None, pointer, .. }) = self.stack.last()
            && !matches!(ev, Event::MappingEnd)
        {
            let at = pointer.clone();
            self.fail(pos, at, "a mapping key must be a plain string".into());
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let pointer = self.next_pointer(mark);
                let value = scalar(&text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                let _ = pointer;
                self.place(value, anchor);
            }
            Event::Alias(id) => {
                let pointer = self.next_pointer(mark);
                match self.anchors.get(&id).cloned() {
                    Some(v) => self.place(v, 0),
                    None => self.fail(pos, pointer, "an alias to an unknown anchor".into()),
                }
            }
            Event::MappingStart(anchor, _) => {
                let pointer = self.next_pointer(mark);
                self.stack.push(Frame::Map {
                    map: Map::new(),
                    pointer,
                    anchor,
                    key: None,
                });
            }
            Event::SequenceStart(anchor, _) => {
                let pointer = self.next_pointer(mark);
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    pointer,
                    anchor,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Map { map, anchor, .. }) => self.place(Value::Object(map), anchor),
                Some(Frame::Seq { items, anchor, .. }) => self.place(Value::Array(items), anchor),
                None => {}
            },
            Event::DocumentStart if self.root.is_some() => {
                self.fail(pos, String::new(), "more than one YAML document in the file".into())
            }
            _ => {}
        }
    }
}

/// A scalar by the YAML 1.2 core schema: quoted scalars are strings; plain ones may be null,
/// booleans or numbers. A number JSON cannot hold (`.inf`, `.nan`) stays a string.
fn scalar(text: &str, style: TScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => return Value::String(text.to_owned()),
        Some("int") | Some("float") | Some("bool") | Some("null") | None => {}
        Some(_) => return Value::String(text.to_owned()),
    }
    if style != TScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "~" | "null" | "Null" | "NULL" | "" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = serde_json::from_str::<serde_json::Number>(text)
        && text.chars().next().is_some_and(|c| c == '-' || c.is_ascii_digit())
    {
        return Value::Number(n);
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(n) = i64::from_str_radix(hex, 16)
    {
        return Value::from(n);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(n) = i64::from_str_radix(oct, 8)
    {
        return Value::from(n);
    }
    Value::String(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_and_positions() {
        let text = "a: 1\nb:\n  - x\n  - '2'\n  - 2.5\nc: {d: null, e: true}\n'200': ok\n";
        let loaded = load(text).unwrap();
        assert_eq!(
            loaded.value,
            json!({"a": 1, "b": ["x", "2", 2.5], "c": {"d": null, "e": true}, "200": "ok"})
        );
        assert_eq!(loaded.position("/a"), (1, 1));
        assert_eq!(loaded.position("/b/1"), (4, 5));
        assert_eq!(loaded.position("/c/e"), (6, 14));
        assert_eq!(loaded.position("/b/1/nothing/deeper"), (4, 5));
    }

    #[test]
    fn duplicate_keys_are_refused_with_both_lines() {
        let e = load("a: 1\nb:\n  x: 1\n  x: 2\n").unwrap_err();
        assert_eq!(e.position, (4, 3));
        assert_eq!(e.pointer, "/b/x");
        assert!(e.message.contains("first at line 3"), "{}", e.message);
    }

    #[test]
    fn huge_numbers_and_json_input() {
        let loaded = load("{\"openapi\": \"3.1.0\", \"n\": 123456789012345678901234567890}").unwrap();
        assert_eq!(loaded.value["openapi"], "3.1.0");
        assert!(loaded.value["n"].is_number());
    }

    #[test]
    fn anchors_and_aliases() {
        let loaded = load("a: &x {k: 1}\nb: *x\n").unwrap();
        assert_eq!(loaded.value, json!({"a": {"k": 1}, "b": {"k": 1}}));
    }
}
