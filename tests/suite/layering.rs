//! The hand-written client (`generated/src/`, outside the generated `generated/src/generated/`)
//! imports in one direction: no file reaches, through the `crate::` paths it names, a file that
//! reaches it back. In particular the call path (`transport/execute.rs`) and the files around
//! it (`client.rs`, `upload.rs`, `download.rs`, `error.rs`) form no circle. The generator's
//! modules (`generator/src/`) are held to the same rule.
//!
//! A file's edges are the files its `crate::` and `super::` paths resolve to: `crate::a::b::C`
//! to `a/b.rs` (or the longest prefix that is a file), and a name a module imports
//! (`crate::Client`, `crate::transport::Request`) to the file it comes from. A module file's
//! own submodules are not its edges: it declares them and re-exports what they define, and
//! they may use what it defines. The generated code and the modules that re-export it
//! (`crate::types`, `builder`, `operations`) are leaves: the generated builders call the
//! runtime, and the runtime names their types.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cerebras_batch_tests::{rust_files, workspace_root};
use syn::visit::Visit;

/// Every `crate::..` path a file names (in `use` items, types and expressions), as segments;
/// `self::`/`super::` paths of a module file are made absolute.
#[derive(Default)]
struct Paths {
    /// The file's own module path (`["transport", "execute"]`).
    module: Vec<String>,
    found: BTreeSet<Vec<String>>,
}

impl Paths {
    fn absolute(&self, first: &str, rest: Vec<String>) -> Option<Vec<String>> {
        let base: Vec<String> = match first {
            "crate" => Vec::new(),
            "super" => self.module[..self.module.len().saturating_sub(1)].to_vec(),
            "self" => self.module.clone(),
            _ => return None,
        };
        Some(base.into_iter().chain(rest).collect())
    }

    fn use_tree(&mut self, prefix: Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut next = prefix;
                next.push(p.ident.to_string());
                self.use_tree(next, &p.tree);
            }
            syn::UseTree::Name(n) => self.push_use(prefix, n.ident.to_string()),
            syn::UseTree::Rename(r) => self.push_use(prefix, r.ident.to_string()),
            syn::UseTree::Glob(_) => self.push_use(prefix, String::new()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix.clone(), t);
                }
            }
        }
    }

    fn push_use(&mut self, mut path: Vec<String>, last: String) {
        if !last.is_empty() && last != "self" {
            path.push(last);
        }
        let Some(first) = path.first().cloned() else { return };
        // A module file's `use child::X` names its own submodule.
        let (first, rest) = if ["crate", "super", "self"].contains(&first.as_str()) {
            (first, path[1..].to_vec())
        } else {
            ("self".to_owned(), path)
        };
        if let Some(abs) = self.absolute(&first, rest) {
            self.found.insert(abs);
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    /// An inline module (`mod tests { use super::*; }`) is skipped: its `super` is the file.
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_none() {
            syn::visit::visit_item_mod(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some((first, rest)) = segments.split_first()
            && ["crate", "super"].contains(&first.as_str())
            && let Some(abs) = self.absolute(first, rest.to_vec())
        {
            self.found.insert(abs);
        }
        syn::visit::visit_path(self, path);
    }
}

/// The hand-written files, by module path (`transport/execute.rs` is `["transport", "execute"]`;
/// `lib.rs` is `[]`).
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    fn walk(dir: &Path, module: Vec<String>, out: &mut BTreeMap<Vec<String>, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "generated" || !module.is_empty() {
                    let mut m = module.clone();
                    m.push(name);
                    walk(&path, m, out);
                }
            } else if let Some(stem) = name.strip_suffix(".rs") {
                let mut m = module.clone();
                if !["mod", "lib"].contains(&stem) {
                    m.push(stem.to_owned());
                }
                out.insert(m, path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, Vec::new(), &mut out);
    out
}

/// What each file's `use` items bring into its module: name to the absolute path it names
/// (`transport/mod.rs`'s `pub(crate) use execute::json` gives `json` to
/// `["transport", "execute", "json"]`).
type Imports = BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>;

/// The file a path resolves to: the longest prefix that is a hand-written module, and through
/// that module's imports (`crate::Client` is `client.rs`'s, `crate::transport::Request` is
/// `transport/request.rs`'s). The crate root (`[]`) for the generated code.
fn resolve(path: &[String], modules: &BTreeMap<Vec<String>, PathBuf>, imports: &Imports, depth: usize) -> Vec<String> {
    let module = (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| modules.contains_key(prefix))
        .unwrap_or_default();
    if let Some(name) = path.get(module.len())
        && let Some(target) = imports.get(&module).and_then(|i| i.get(name))
        && depth < 8
    {
        let mut next = target.clone();
        next.extend_from_slice(&path[module.len() + 1..]);
        return resolve(&next, modules, imports, depth + 1);
    }
    module
}

#[test]
fn the_client_imports_in_one_direction() {
    assert_one_direction(
        "generated/src",
        "hand-written files",
        &[
            ("download", "client"),
            ("upload", "transport/request"),
            ("upload", "transport/execute"),
            ("transport/execute", "client"),
            ("transport/execute", "error"),
        ],
    );
}

/// The generator's modules import in one direction too (issue 23): `facade` and `surface` read
/// `model`, which reads `shape`, `wire` and `progenitor_output`; the normalisation rules, the
/// diff and the spec walk form no circle.
#[test]
fn the_generator_imports_in_one_direction() {
    assert_one_direction(
        "generator/src",
        "generator files",
        &[("facade", "model"), ("model", "shape"), ("shape", "progenitor_output")],
    );
}

/// The crate in `src` (from the workspace root) has the `expected` edges (`from` names `to`,
/// which proves the walk sees them) and no circle; `what` names its files in the message.
fn assert_one_direction(src: &str, what: &str, expected: &[(&str, &str)]) {
    let edges = edges(&workspace_root().join(src));
    let path = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
    for (from, to) in expected {
        assert!(
            edges[&path(from)].contains(&path(to)),
            "{from} names {to}: {:?}",
            edges[&path(from)]
        );
    }
    let circles = circles(&edges);
    assert!(
        circles.is_empty(),
        "{what} that import each other in a circle:\n{}",
        circles.join("\n")
    );
}

/// One vocabulary for walking a spec (issue 23): outside `generator/src/spec_walk/`, the
/// generator, the diff, docs-drift and xtask reach the operations through `spec_walk`
/// (`operations`, `path_items`, `for_each_operation_mut`), not by reading `paths` and looping
/// over a list of methods of their own.
#[test]
fn spec_walking_lives_in_one_module() {
    let root = workspace_root();
    let mut found = Vec::new();
    for dir in ["generator/src", "docs-drift/src", "xtask/src"] {
        for file in rust_files(&root.join(dir)) {
            let rel = file.strip_prefix(&root).unwrap().display().to_string();
            if rel.starts_with("generator/src/spec_walk/") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            // Test modules build documents with `json!({"paths": ...})`; only code before them counts.
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (i, line) in code.lines().enumerate() {
                let walks = [
                    "get(\"paths\")",
                    "get_mut(\"paths\")",
                    "pointer(\"/paths\")",
                    "\"get\", \"put\"",
                ]
                .iter()
                .any(|p| line.contains(p));
                if walks {
                    found.push(format!("{rel}:{}: {}", i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "spec walks outside spec_walk:\n{}", found.join("\n"));
}

/// Each file's edges (module path to the module paths it names) for the crate in `src`.
fn edges(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules = modules(src);
    let mut imports = Imports::new();
    let mut named = BTreeMap::new();
    for (module, file) in &modules {
        let ast = syn::parse_file(&std::fs::read_to_string(file).unwrap()).unwrap();
        let mut uses = Paths {
            module: module.clone(),
            ..Paths::default()
        };
        for item in &ast.items {
            if let syn::Item::Use(u) = item {
                uses.visit_item_use(u);
            }
        }
        let names = uses
            .found
            .into_iter()
            .filter_map(|p| Some((p.last()?.clone(), p)))
            .collect();
        imports.insert(module.clone(), names);
        let mut paths = Paths {
            module: module.clone(),
            ..Paths::default()
        };
        paths.visit_file(&ast);
        named.insert(module.clone(), paths.found);
    }

    // A file's edges: the files it names, but itself, the crate root and its own submodules (a
    // module file declares them and re-exports what they define).
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, paths) in &named {
        let targets = paths
            .iter()
            .map(|p| resolve(p, &modules, &imports, 0))
            .filter(|t| !t.is_empty() && !t.starts_with(module))
            .collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

/// Every circle of `edges`, as the files along it (`a -> b`), each once.
fn circles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<String> {
    let mut circles = BTreeSet::new();
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, trail)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    let mut circle: Vec<String> = trail.iter().map(|m| m.join("/")).collect();
                    let min = (0..circle.len()).min_by_key(|&i| circle[i].clone()).unwrap();
                    circle.rotate_left(min);
                    circles.insert(circle.join(" -> "));
                } else if !trail.contains(next) && trail.len() < 8 {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    circles.into_iter().collect()
}
