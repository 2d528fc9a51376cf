//! A semantic diff of two versions of the spec, for review: every change to operations,
//! parameters, fields, enum values, nullability, required-ness, validation and types, each
//! classified as **breaking** or **compatible**, with its spec location (a JSON pointer) and
//! the Rust items it changes.
//!
//! *Compatible* promises two things: code written against the client generated from the older
//! spec still compiles against the newer one and behaves the same, and the requests it sends
//! are still accepted. The compile proof in `tests/suite/semver.rs` checks the first promise
//! for every fixture, by compiling a consumer that touches every item of the older API
//! against the newer client. The rules, each with the Rust guarantee it rests on (the API
//! shape is described in [`crate::model`] and [`crate::shape`]; read and sent types in
//! [`crate::tolerance`]):
//!
//! - **Operations.** Added: compatible (a new method and builder; no existing call changes).
//!   Removed or renamed: breaking (the method disappears). Moved to another route: breaking,
//!   although it still compiles (calls reach another URL). Two operations with one
//!   `operationId`: breaking, and `cargo xtask regen` refuses the spec.
//! - **Parameters.** An optional one added: compatible (a new setter on the request builder;
//!   existing calls do not name it). A required one added, one removed, or one changing
//!   between required and optional: breaking (the method's arguments change: required
//!   parameters are arguments, optional ones are setters).
//! - **Properties of sent types** (request bodies): an optional one added: compatible (the
//!   struct is `#[non_exhaustive]`, built with `new` and setters, so a new field breaks no
//!   literal and no constructor call). A required one added, or one changing between required
//!   and optional or between nullable and not when required: breaking (the constructor's
//!   parameters or the field's type change, and the server may refuse older requests).
//! - **Properties of read types** (responses): only identity properties (`id`, `custom_id`)
//!   are plain values; every other field is an `Option` whatever the spec says. So adding a
//!   property, required or not, and making one optional, required, nullable or not, are
//!   compatible (the Rust type does not change, and decoding accepts absence and null); the
//!   same changes to an identity property are breaking.
//! - **Removing a property** is breaking (the field disappears, and with it its `with_` setter,
//!   or its parameter of `new`; the report lists both).
//! - **Types.** A property's or parameter's type, a `$ref` target, an integer or number
//!   `format`, a plain string becoming an enum (or back), or a composition (`oneOf`, `anyOf`,
//!   `allOf`) changing: breaking (the Rust type changes). A string `format` changing:
//!   compatible in what the client reads (every string is a `String`), breaking in what it
//!   sends (the server may refuse older values).
//! - **Enum values.** Added: compatible (enums are `#[non_exhaustive]` and keep unknown values
//!   opaque, so no match breaks and no match on a raw string silently changes meaning). The
//!   report says what still changes: binaries already built decode the new value as
//!   `Unknown`, but code recompiled against the new crate gets the new variant, so a `match`
//!   that handled the value through its `Unknown(_)` arm stops seeing it there; the reviewer
//!   looks at such matches. Removed: breaking (the variant disappears).
//! - **Validation keywords** (`minimum`, `maxLength`, `pattern`, `not`, ...; the list is
//!   [`crate::spec_walk::VALIDATION_KEYWORDS`]): they never change Rust types (the generator
//!   does not pass them to progenitor). Changed in what the client reads: compatible. In what
//!   it sends: breaking (the server may refuse what older code sends).
//!   `additionalProperties: false` likewise.
//! - **Annotations** (`default`, [`crate::spec_walk::ANNOTATION_KEYWORDS`]): compatible
//!   everywhere. They change no Rust type, and the client never sends a default; code that
//!   leaves the value out gets whatever the server now assumes, which the report says.
//! - **Responses.** A success response or media type removed: breaking. Added: compatible.
//!   Error responses come and go compatibly (every error keeps its status whatever is
//!   declared).
//! - Descriptions and examples are not compared: they cannot break a client (examples are
//!   checked by the linter instead).

use serde_json::Value;
use std::collections::BTreeMap;

mod operations;
mod report;
mod schemas;

use crate::naming::{field_name, pascal, type_name};
use crate::spec_walk::{component_schemas, escape};
use crate::usage::Usage;

pub use report::report;

/// One change between two versions of the spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Change {
    /// Whether code or requests written against the older spec can break.
    pub breaking: bool,
    /// What changed, in words, e.g. `schema File, property bytes`.
    pub location: String,
    /// Where, as a JSON pointer into the newer spec (the older one for a removal).
    pub pointer: String,
    /// The Rust items it changes, e.g. `types::File::bytes`.
    pub rust: Vec<String>,
    /// How it changed.
    pub what: String,
}

/// How [`report`] writes the changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One line per change, for a terminal.
    Text,
    /// A Markdown report for a pull request: breaking changes first, each with its spec
    /// location and Rust items.
    Markdown,
    /// One JSON document, for tools: `{"from", "to", "breaking", "compatible", "changes": [...]}`.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Self::Text),
            "markdown" => Ok(Self::Markdown),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown format {other:?}: use text, markdown or json")),
        }
    }
}

/// The semantic changes from `base` to `head` (both parsed specs), breaking ones first.
pub fn diff(base: &Value, head: &Value) -> Vec<Change> {
    let base = prepared(base);
    let head = prepared(head);
    let mut out = Vec::new();
    let usage = merged_usages(&base, &head);
    let mut cx = Cx { out: &mut out };
    operations::diff_operations(&base, &head, &mut cx);
    let bs: BTreeMap<&String, &Value> = component_schemas(&base).collect();
    let hs: BTreeMap<&String, &Value> = component_schemas(&head).collect();
    for (name, b) in &bs {
        let at = Place::schema(name);
        match hs.get(name) {
            None => cx.push(true, &at, vec![at.rust.clone()], "removed"),
            Some(h) => {
                let u = usage.get(*name).copied().unwrap_or_default();
                schemas::diff_schema(&at, b, h, Side::of(u), &mut cx);
            }
        }
    }
    for name in hs.keys().filter(|n| !bs.contains_key(*n)) {
        let at = Place::schema(name);
        cx.push(false, &at, vec![at.rust.clone()], "added");
    }
    out.sort_by(|a, b| {
        b.breaking
            .cmp(&a.breaking)
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.what.cmp(&b.what))
    });
    out.dedup();
    out
}

/// Both specs with the nullable-reference idiom rewritten (see [`crate::normalize`]).
fn prepared(spec: &Value) -> Value {
    let mut spec = spec.clone();
    crate::normalize::rewrite_nullable_refs(&mut spec);
    spec
}

/// Where a schema sits: its words, pointer, Rust path, and the Rust name its inline enum
/// would get.
#[derive(Clone)]
struct Place {
    location: String,
    pointer: String,
    rust: String,
    enum_type: String,
    /// The other Rust items whose types follow this schema's (a property's setter, and the
    /// constructor when it takes the property).
    also: Vec<String>,
}

impl Place {
    /// The items a change of this schema's Rust type changes: [`Place::rust`] and
    /// [`Place::also`].
    fn typed(&self) -> Vec<String> {
        let mut items = vec![self.rust.clone()];
        items.extend(self.also.iter().cloned());
        items
    }
    fn schema(name: &str) -> Place {
        Place {
            location: format!("schema {name}"),
            pointer: format!("/components/schemas/{}", escape(name)),
            rust: format!("types::{}", type_name(name)),
            enum_type: type_name(name),
            also: Vec::new(),
        }
    }
    fn property(&self, name: &str, owner: &str) -> Place {
        Place {
            location: format!("{}, property {name}", self.location),
            pointer: format!("{}/properties/{}", self.pointer, escape(name)),
            rust: format!("types::{owner}::{}", field_name(name)),
            enum_type: format!("{owner}{}", pascal(name)),
            also: Vec::new(),
        }
    }
    fn child(&self, words: &str, key: &str) -> Place {
        Place {
            location: format!("{}, {words}", self.location),
            pointer: format!("{}/{key}", self.pointer),
            rust: self.rust.clone(),
            enum_type: format!("{}Item", self.enum_type),
            also: self.also.clone(),
        }
    }
}

struct Cx<'a> {
    out: &'a mut Vec<Change>,
}

impl Cx<'_> {
    fn push(&mut self, breaking: bool, at: &Place, rust: Vec<String>, what: impl Into<String>) {
        self.out.push(Change {
            breaking,
            location: at.location.clone(),
            pointer: at.pointer.clone(),
            rust,
            what: what.into(),
        });
    }
}

/// How the schema being compared travels, and so which rules apply.
#[derive(Clone, Copy, Debug, Default)]
struct Side {
    /// In requests: the server may refuse what older clients send.
    sent: bool,
    /// Generated as a read type (tolerant, see [`crate::tolerance`]).
    read_shape: bool,
}

impl Side {
    fn of(u: Usage) -> Self {
        Side {
            sent: u.request,
            read_shape: crate::tolerance::is_read(Some(&u).filter(|u| u.request || u.response)),
        }
    }
    fn parameter() -> Self {
        Side {
            sent: true,
            read_shape: false,
        }
    }
}

fn merged_usages(base: &Value, head: &Value) -> BTreeMap<String, Usage> {
    let mut out = crate::usage::usages(base);
    for (name, u) in crate::usage::usages(head) {
        let e = out.entry(name).or_default();
        e.request |= u.request;
        e.response |= u.response;
    }
    out
}
