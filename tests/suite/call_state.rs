//! A call's state travels in values: the hand-written client (`generated/src/`, outside the
//! generated `generated/src/generated/`) has no `thread_local!` and no `static` holding a lock,
//! a cell or an atomic, except those listed here with the reason they hold no call's state.

use cerebras_batch_tests::{rust_files, workspace_root};
use syn::visit::Visit;

/// `(file, static, why it is not call state)`.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "generated/src/download.rs",
        "NEXT",
        "the counter that makes `Download::save`'s temporary file names unique in the process",
    ),
    (
        "generated/src/job/paths.rs",
        "NEXT",
        "the counter that makes the job's probe file names (can a file be created here?) unique in the process",
    ),
];

/// What a `static` must not hold (in its type's text): locks, cells and atomics.
const SHARED_STATE: &[&str] = &[
    "Mutex", "RwLock", "RefCell", "Cell", "OnceLock", "OnceCell", "LazyLock", "Atomic",
];

/// Every `thread_local!` and every `static` of one file, wherever it is (in a function body
/// too), with the text of its type.
#[derive(Default)]
struct Found {
    thread_locals: usize,
    statics: Vec<(String, String)>,
}

impl<'ast> Visit<'ast> for Found {
    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let ty = &item.ty;
        self.statics
            .push((item.ident.to_string(), quote::quote!(#ty).to_string()));
        syn::visit::visit_item_static(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if mac.path.segments.last().is_some_and(|s| s.ident == "thread_local") {
            self.thread_locals += 1;
        }
        syn::visit::visit_macro(self, mac);
    }
}

#[test]
fn no_thread_local_or_global_holds_call_state() {
    let root = workspace_root();
    // The hand-written client: the generated code (`generated/src/generated/`) is left out.
    let generated = root.join("generated/src/generated");
    let files: Vec<_> = rust_files(&root.join("generated/src"))
        .into_iter()
        .filter(|f| !f.starts_with(&generated))
        .collect();
    assert!(files.len() > 20, "the client's sources: {files:?}");
    let mut found_allowed = Vec::new();
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(file).unwrap();
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let mut found = Found::default();
        found.visit_file(&ast);
        // A macro's own tokens are not parsed as items: the text check catches one written
        // inside another macro's call.
        if found.thread_locals > 0 || text.contains("thread_local!") {
            problems.push(format!("{rel}: a `thread_local!`"));
        }
        for (name, ty) in found.statics {
            if !SHARED_STATE.iter().any(|s| ty.contains(s)) {
                continue;
            }
            match ALLOWED.iter().find(|(f, n, _)| *f == rel && *n == name) {
                Some(allowed) => found_allowed.push(allowed),
                None => problems.push(format!("{rel}: `static {name}: {ty}`")),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "state outside the values a call passes along (list it in ALLOWED with the reason it \
         holds no call's state, or pass it as a value):\n{}",
        problems.join("\n")
    );
    assert_eq!(
        found_allowed.len(),
        ALLOWED.len(),
        "an entry of ALLOWED is no longer in the code: remove it"
    );
}
