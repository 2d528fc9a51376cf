//! `cargo xtask public-api`: the whole public API of the client crate (generated and
//! hand-written items alike), read from rustdoc's JSON, as one line per item in
//! `generated/public-api.txt`; and the external types that API exposes, checked against
//! `generated/external-types.toml` (as smithy-rs does), so that a dependency bump that leaks into
//! the API shows in review.
//!
//! Stable rustdoc emits JSON with `RUSTC_BOOTSTRAP=1`; `rustdoc-types` reads the format version
//! it was built for, and a mismatch is an error naming both.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rustdoc_types::{
    Attribute, Crate, GenericArg, GenericArgs, GenericBound, GenericParamDefKind, Generics, Id, Item, ItemEnum, Path,
    StructKind, Term, Type, VariantKind, Visibility, WherePredicate,
};

use crate::util::{root, run, target_dir};

const SNAPSHOT: &str = "generated/public-api.txt";
const EXTERNAL: &str = "generated/external-types.toml";
const HEADER: &str = "# The public API of cerebras-batch, one line per item (cargo xtask public-api --write).\n# Generated from rustdoc's JSON; review its diff like code.\n";

/// Builds the rustdoc JSON, renders the API, and compares (or, with `write`, writes) the
/// snapshot and the external-types list.
pub fn public_api(write: bool) -> Result<(), String> {
    println!("== rustdoc JSON of cerebras-batch");
    run(std::process::Command::new("cargo")
        .current_dir(root())
        .args([
            "rustdoc",
            "--quiet",
            "-p",
            "cerebras-batch",
            "--lib",
            "--",
            "-Z",
            "unstable-options",
            "--output-format",
            "json",
        ])
        .env("RUSTC_BOOTSTRAP", "1"))?;
    let path = target_dir().join("doc/cerebras_batch.json");
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let format: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let version = format["format_version"].as_u64().unwrap_or(0);
    if version != u64::from(rustdoc_types::FORMAT_VERSION) {
        return Err(format!(
            "rustdoc emits JSON format {version}; xtask reads format {} (rustdoc-types): update rustdoc-types to the release for format {version}",
            rustdoc_types::FORMAT_VERSION
        ));
    }
    let krate: Crate = serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let api = Api::render(&krate);

    let mut lines: Vec<&String> = api.lines.iter().collect();
    lines.sort_by_key(|l| (sort_key(l), (*l).clone()));
    let text = format!(
        "{HEADER}{}\n",
        lines.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n")
    );
    let mut external = String::from(
        "# Every type of another crate that the public API of cerebras-batch exposes (cargo xtask public-api --write).\n# A new entry means a dependency became part of the API: review it.\nallowed_external_types = [\n",
    );
    for (ty, places) in &api.external {
        external.push_str(&format!(
            "    \"{ty}\", # {}\n",
            places.iter().next().map(String::as_str).unwrap_or("")
        ));
    }
    external.push_str("]\n");

    if write {
        std::fs::write(root().join(SNAPSHOT), &text).map_err(|e| e.to_string())?;
        std::fs::write(root().join(EXTERNAL), &external).map_err(|e| e.to_string())?;
        println!(
            "wrote {SNAPSHOT} ({} items) and {EXTERNAL} ({} types)",
            api.lines.len(),
            api.external.len()
        );
        return Ok(());
    }
    let mut problems = Vec::new();
    let old = std::fs::read_to_string(root().join(SNAPSHOT)).unwrap_or_default();
    if old != text {
        let diff = similar::TextDiff::from_lines(&old, &text);
        problems.push(format!(
            "{SNAPSHOT} is not the public API of today's code (review, then run `cargo xtask public-api --write`):\n{}",
            diff.unified_diff().header(SNAPSHOT, "today's API")
        ));
    }
    let allowed: BTreeSet<String> = std::fs::read_to_string(root().join(EXTERNAL))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"').and_then(|r| r.split('"').next()))
        .map(str::to_owned)
        .collect();
    let leaked: Vec<String> = api
        .external
        .iter()
        .filter(|(ty, _)| !allowed.contains(*ty))
        .map(|(ty, places)| format!("  {ty} (in {})", places.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    if !leaked.is_empty() {
        problems.push(format!(
            "external types in the public API that {EXTERNAL} does not list:\n{}\n(if deliberate, run `cargo xtask public-api --write`)",
            leaked.join("\n")
        ));
    }
    let unused: Vec<&String> = allowed.iter().filter(|t| !api.external.contains_key(*t)).collect();
    if !unused.is_empty() {
        problems.push(format!(
            "{EXTERNAL} lists types the API no longer exposes: {unused:?} (run `cargo xtask public-api --write`)"
        ));
    }
    if problems.is_empty() {
        println!(
            "the public API matches {SNAPSHOT} ({} items); its {} external types are all in {EXTERNAL}",
            api.lines.len(),
            api.external.len()
        );
        Ok(())
    } else {
        Err(problems.join("\n\n"))
    }
}

/// Orders lines by the item they are about: an item, then its fields, variants, methods and
/// trait implementations.
fn sort_key(line: &str) -> String {
    let (subject, rank) = match line.split_once(" for ") {
        Some((_, ty)) if line.starts_with("impl") => (ty, "~"),
        _ => (line, ""),
    };
    let start = subject.find("cerebras_batch").unwrap_or(0);
    let path: String = subject[start..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    format!("{path}{rank}")
}

/// The rendered API.
struct Api<'a> {
    krate: &'a Crate,
    /// The public path of each item of this crate, as first reached from the root.
    public: HashMap<Id, String>,
    lines: BTreeSet<String>,
    /// External type path → where it appears.
    external: BTreeMap<String, BTreeSet<String>>,
}

fn hidden(item: &Item) -> bool {
    item.attrs
        .iter()
        .any(|a| matches!(a, Attribute::Other(text) if text.replace(' ', "").contains("doc(hidden)")))
}

fn non_exhaustive(item: &Item) -> &'static str {
    if item.attrs.iter().any(|a| matches!(a, Attribute::NonExhaustive)) {
        "#[non_exhaustive] "
    } else {
        ""
    }
}

impl<'a> Api<'a> {
    fn render(krate: &'a Crate) -> Self {
        let mut api = Api {
            krate,
            public: HashMap::new(),
            lines: BTreeSet::new(),
            external: BTreeMap::new(),
        };
        let name = krate.index[&krate.root].name.clone().unwrap_or_default();
        // First the paths, so that a type is named by its public path wherever it appears.
        api.visit(&krate.root, &name, true, &mut BTreeSet::new());
        api.visit(&krate.root, &name, false, &mut BTreeSet::new());
        api
    }

    /// Walks the public items of module `id` at `path`: with `paths_only`, records public paths;
    /// otherwise renders.
    fn visit(&mut self, id: &Id, path: &str, paths_only: bool, seen: &mut BTreeSet<(u32, String)>) {
        let Some(module) = self.krate.index.get(id) else { return };
        let ItemEnum::Module(m) = &module.inner else { return };
        for child in &m.items {
            let Some(item) = self.krate.index.get(child) else {
                continue;
            };
            if item.visibility != Visibility::Public || hidden(item) {
                continue;
            }
            match &item.inner {
                ItemEnum::Use(u) => {
                    let Some(target) = u.id else {
                        continue;
                    };
                    match self.krate.index.get(&target) {
                        Some(t) if u.is_glob => {
                            if let ItemEnum::Module(_) = t.inner {
                                self.visit(&target, path, paths_only, seen);
                            }
                        }
                        Some(t) if !hidden(t) => self.item(&target, &format!("{path}::{}", u.name), paths_only, seen),
                        Some(_) => {}
                        None => {
                            // A re-exported crate or item of another crate.
                            if !paths_only {
                                self.lines.insert(format!("pub use {path}::{} = {}", u.name, u.source));
                                self.external
                                    .entry(format!("{}::*", u.source))
                                    .or_default()
                                    .insert(format!("{path}::{}", u.name));
                            }
                        }
                    }
                }
                _ => {
                    let name = item.name.clone().unwrap_or_default();
                    self.item(child, &format!("{path}::{name}"), paths_only, seen);
                }
            }
        }
    }

    fn item(&mut self, id: &Id, path: &str, paths_only: bool, seen: &mut BTreeSet<(u32, String)>) {
        let Some(item) = self.krate.index.get(id) else { return };
        if !seen.insert((id.0, path.to_owned())) {
            return;
        }
        if paths_only {
            self.public.entry(*id).or_insert_with(|| path.to_owned());
            if let ItemEnum::Module(_) = item.inner {
                self.visit(id, path, true, seen);
            }
            return;
        }
        match &item.inner {
            ItemEnum::Module(_) => {
                self.lines.insert(format!("pub mod {path}"));
                self.visit(id, path, false, seen);
            }
            ItemEnum::Struct(s) => {
                let generics = self.generics(&s.generics, path);
                self.lines
                    .insert(format!("{}pub struct {path}{generics}", non_exhaustive(item)));
                match &s.kind {
                    StructKind::Plain { fields, .. } => self.fields(fields, path),
                    StructKind::Tuple(fields) => {
                        let fields: Vec<Id> = fields.iter().flatten().copied().collect();
                        self.fields(&fields, path);
                    }
                    StructKind::Unit => {}
                }
                self.impls(&s.impls, path);
            }
            ItemEnum::Enum(e) => {
                let generics = self.generics(&e.generics, path);
                self.lines
                    .insert(format!("{}pub enum {path}{generics}", non_exhaustive(item)));
                for v in &e.variants {
                    let Some(var) = self.krate.index.get(v) else { continue };
                    let ItemEnum::Variant(variant) = &var.inner else {
                        continue;
                    };
                    let name = var.name.clone().unwrap_or_default();
                    let shape = match &variant.kind {
                        VariantKind::Plain => String::new(),
                        VariantKind::Tuple(fields) => {
                            let types: Vec<String> = fields
                                .iter()
                                .flatten()
                                .filter_map(|f| match &self.krate.index.get(f)?.inner {
                                    ItemEnum::StructField(t) => Some(t.clone()),
                                    _ => None,
                                })
                                .collect::<Vec<_>>()
                                .iter()
                                .map(|t| self.ty(t, path))
                                .collect();
                            format!("({})", types.join(", "))
                        }
                        VariantKind::Struct { fields, .. } => {
                            self.fields(fields, &format!("{path}::{name}"));
                            " { .. }".to_owned()
                        }
                    };
                    self.lines.insert(format!("pub variant {path}::{name}{shape}"));
                }
                self.impls(&e.impls, path);
            }
            ItemEnum::Function(f) => {
                let sig = self.function(f, path);
                self.lines.insert(format!("pub fn {path}{sig}"));
            }
            ItemEnum::Constant { type_, .. } => {
                let ty = self.ty(type_, path);
                self.lines.insert(format!("pub const {path}: {ty}"));
            }
            ItemEnum::Static(s) => {
                let ty = self.ty(&s.type_, path);
                self.lines.insert(format!("pub static {path}: {ty}"));
            }
            ItemEnum::TypeAlias(t) => {
                let ty = self.ty(&t.type_, path);
                let generics = self.generics(&t.generics, path);
                self.lines.insert(format!("pub type {path}{generics} = {ty}"));
            }
            ItemEnum::Trait(t) => {
                let generics = self.generics(&t.generics, path);
                self.lines.insert(format!("pub trait {path}{generics}"));
                for i in &t.items {
                    if let Some(it) = self.krate.index.get(i)
                        && let ItemEnum::Function(f) = &it.inner
                    {
                        let name = it.name.clone().unwrap_or_default();
                        let sig = self.function(f, path);
                        self.lines.insert(format!("pub fn {path}::{name}{sig}"));
                    }
                }
            }
            ItemEnum::Macro(_) => {
                self.lines.insert(format!("pub macro {path}!"));
            }
            _ => {}
        }
    }

    fn fields(&mut self, fields: &[Id], path: &str) {
        for f in fields {
            let Some(field) = self.krate.index.get(f) else { continue };
            if field.visibility != Visibility::Public || hidden(field) {
                continue;
            }
            if let ItemEnum::StructField(t) = &field.inner {
                let ty = self.ty(t, path);
                let name = field.name.clone().unwrap_or_default();
                self.lines.insert(format!("pub field {path}::{name}: {ty}"));
            }
        }
    }

    /// Inherent items of `impls` on `path`, and one line per (non-synthetic, non-blanket) trait
    /// implementation.
    fn impls(&mut self, impls: &[Id], path: &str) {
        for i in impls {
            let Some(imp) = self.krate.index.get(i) else { continue };
            let ItemEnum::Impl(imp_) = &imp.inner else { continue };
            if imp_.is_synthetic || imp_.blanket_impl.is_some() {
                continue;
            }
            match &imp_.trait_ {
                Some(t) => {
                    let generics = self.generics(&imp_.generics, path);
                    let name = self.path(t, path);
                    let not = if imp_.is_negative { "!" } else { "" };
                    let for_ = self.ty(&imp_.for_, path);
                    self.lines.insert(format!("impl{generics} {not}{name} for {for_}"));
                }
                None => {
                    for item_id in &imp_.items {
                        let Some(it) = self.krate.index.get(item_id) else {
                            continue;
                        };
                        if it.visibility != Visibility::Public || hidden(it) {
                            continue;
                        }
                        let name = it.name.clone().unwrap_or_default();
                        match &it.inner {
                            ItemEnum::Function(f) => {
                                let sig = self.function(f, path);
                                self.lines.insert(format!("pub fn {path}::{name}{sig}"));
                            }
                            ItemEnum::AssocConst { type_, .. } => {
                                let ty = self.ty(type_, path);
                                self.lines.insert(format!("pub const {path}::{name}: {ty}"));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    fn function(&mut self, f: &rustdoc_types::Function, at: &str) -> String {
        let generics = self.generics(&f.generics, at);
        let inputs: Vec<String> = f
            .sig
            .inputs
            .iter()
            .map(|(name, ty)| match (name.as_str(), ty) {
                ("self", Type::Generic(s)) if s == "Self" => "self".to_owned(),
                (
                    "self",
                    Type::BorrowedRef {
                        is_mutable,
                        type_,
                        lifetime,
                    },
                ) if matches!(type_.as_ref(), Type::Generic(s) if s == "Self") => {
                    format!(
                        "&{}{}self",
                        lifetime.as_ref().map(|l| format!("{l} ")).unwrap_or_default(),
                        if *is_mutable { "mut " } else { "" }
                    )
                }
                _ => format!("{name}: {}", self.ty(ty, at)),
            })
            .collect();
        let output = f
            .sig
            .output
            .as_ref()
            .map(|t| format!(" -> {}", self.ty(t, at)))
            .unwrap_or_default();
        let asyncness = if f.header.is_async { "async " } else { "" };
        let wheres = self.wheres(&f.generics, at);
        let _ = asyncness;
        format!(
            "{generics}({}){output}{wheres}{}",
            inputs.join(", "),
            if f.header.is_async { " [async]" } else { "" }
        )
    }

    fn generics(&mut self, g: &Generics, at: &str) -> String {
        let params: Vec<String> = g
            .params
            .iter()
            .filter_map(|p| match &p.kind {
                GenericParamDefKind::Lifetime { .. } => Some(p.name.clone()),
                GenericParamDefKind::Type { is_synthetic: true, .. } => None,
                GenericParamDefKind::Type { bounds, .. } => {
                    let b = self.bounds(bounds, at);
                    Some(if b.is_empty() {
                        p.name.clone()
                    } else {
                        format!("{}: {b}", p.name)
                    })
                }
                GenericParamDefKind::Const { type_, .. } => Some(format!("const {}: {}", p.name, self.ty(type_, at))),
            })
            .collect();
        if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        }
    }

    fn wheres(&mut self, g: &Generics, at: &str) -> String {
        let preds: Vec<String> = g
            .where_predicates
            .iter()
            .map(|w| match w {
                WherePredicate::BoundPredicate { type_, bounds, .. } => {
                    format!("{}: {}", self.ty(type_, at), self.bounds(bounds, at))
                }
                WherePredicate::LifetimePredicate { lifetime, outlives } => {
                    format!("{lifetime}: {}", outlives.join(" + "))
                }
                WherePredicate::EqPredicate { lhs, rhs } => format!("{} = {}", self.ty(lhs, at), self.term(rhs, at)),
            })
            .collect();
        if preds.is_empty() {
            String::new()
        } else {
            format!(" where {}", preds.join(", "))
        }
    }

    fn bounds(&mut self, bounds: &[GenericBound], at: &str) -> String {
        bounds
            .iter()
            .map(|b| match b {
                GenericBound::TraitBound { trait_, modifier, .. } => {
                    let q = if matches!(modifier, rustdoc_types::TraitBoundModifier::Maybe) {
                        "?"
                    } else {
                        ""
                    };
                    format!("{q}{}", self.path(trait_, at))
                }
                GenericBound::Outlives(l) => l.clone(),
                GenericBound::Use(args) => format!(
                    "use<{}>",
                    args.iter()
                        .map(|a| match a {
                            rustdoc_types::PreciseCapturingArg::Lifetime(l) => l.clone(),
                            rustdoc_types::PreciseCapturingArg::Param(p) => p.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }

    fn term(&mut self, t: &Term, at: &str) -> String {
        match t {
            Term::Type(t) => self.ty(t, at),
            Term::Constant(c) => c.expr.clone(),
        }
    }

    /// A path: this crate's items by their public path, other crates' by their definition path
    /// (recorded as external, unless from std, core or alloc).
    fn path(&mut self, p: &Path, at: &str) -> String {
        let name = match self.public.get(&p.id) {
            Some(public) => public.clone(),
            None => match self.krate.paths.get(&p.id) {
                Some(summary) if summary.crate_id != 0 => {
                    let full = summary.path.join("::");
                    let krate = summary.path.first().map(String::as_str).unwrap_or("");
                    if matches!(krate, "std" | "core" | "alloc") {
                        summary.path.last().cloned().unwrap_or_else(|| p.path.clone())
                    } else {
                        self.external.entry(full.clone()).or_default().insert(at.to_owned());
                        full
                    }
                }
                Some(summary) => summary.path.join("::"),
                None => p.path.clone(),
            },
        };
        match p.args.as_deref() {
            None => name,
            Some(args) => format!("{name}{}", self.args(args, at)),
        }
    }

    fn args(&mut self, args: &GenericArgs, at: &str) -> String {
        match args {
            GenericArgs::AngleBracketed { args, constraints } => {
                let mut all: Vec<String> = args
                    .iter()
                    .map(|a| match a {
                        GenericArg::Lifetime(l) => l.clone(),
                        GenericArg::Type(t) => self.ty(t, at),
                        GenericArg::Const(c) => c.expr.clone(),
                        GenericArg::Infer => "_".into(),
                    })
                    .collect();
                for c in constraints {
                    let value = match &c.binding {
                        rustdoc_types::AssocItemConstraintKind::Equality(t) => format!(" = {}", self.term(t, at)),
                        rustdoc_types::AssocItemConstraintKind::Constraint(b) => format!(": {}", self.bounds(b, at)),
                    };
                    all.push(format!("{}{value}", c.name));
                }
                if all.is_empty() {
                    String::new()
                } else {
                    format!("<{}>", all.join(", "))
                }
            }
            GenericArgs::Parenthesized { inputs, output } => {
                let inputs: Vec<String> = inputs.iter().map(|t| self.ty(t, at)).collect();
                let output = output
                    .as_ref()
                    .map(|t| format!(" -> {}", self.ty(t, at)))
                    .unwrap_or_default();
                format!("({}){output}", inputs.join(", "))
            }
            GenericArgs::ReturnTypeNotation => "(..)".into(),
        }
    }

    fn ty(&mut self, t: &Type, at: &str) -> String {
        match t {
            Type::ResolvedPath(p) => self.path(p, at),
            Type::DynTrait(d) => {
                let traits: Vec<String> = d.traits.iter().map(|pt| self.path(&pt.trait_, at)).collect();
                let lifetime = d.lifetime.as_ref().map(|l| format!(" + {l}")).unwrap_or_default();
                format!("dyn {}{lifetime}", traits.join(" + "))
            }
            Type::Generic(g) => g.clone(),
            Type::Primitive(p) => p.clone(),
            Type::Array { type_, len } => format!("[{}; {len}]", self.ty(type_, at)),
            Type::Pat { type_, .. } => self.ty(type_, at),
            Type::ImplTrait(bounds) => format!("impl {}", self.bounds(bounds, at)),
            Type::Infer => "_".into(),
            Type::RawPointer { is_mutable, type_ } => {
                format!("*{} {}", if *is_mutable { "mut" } else { "const" }, self.ty(type_, at))
            }
            Type::BorrowedRef {
                lifetime,
                is_mutable,
                type_,
            } => format!(
                "&{}{}{}",
                lifetime.as_ref().map(|l| format!("{l} ")).unwrap_or_default(),
                if *is_mutable { "mut " } else { "" },
                self.ty(type_, at)
            ),
            Type::QualifiedPath {
                name,
                self_type,
                trait_,
                ..
            } => {
                let s = self.ty(self_type, at);
                match trait_ {
                    Some(t) => format!("<{s} as {}>::{name}", self.path(t, at)),
                    None => format!("{s}::{name}"),
                }
            }
            Type::Slice(inner) => format!("[{}]", self.ty(inner, at)),
            Type::Tuple(items) => {
                let items: Vec<String> = items.iter().map(|t| self.ty(t, at)).collect();
                format!("({})", items.join(", "))
            }
            Type::FunctionPointer(f) => {
                let inputs: Vec<String> = f.sig.inputs.iter().map(|(_, t)| self.ty(t, at)).collect();
                let output = f
                    .sig
                    .output
                    .as_ref()
                    .map(|t| format!(" -> {}", self.ty(t, at)))
                    .unwrap_or_default();
                format!("fn({}){output}", inputs.join(", "))
            }
        }
    }
}
