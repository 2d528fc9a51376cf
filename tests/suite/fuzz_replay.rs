//! The fuzz targets' inputs, replayed in every test run (CI's stable toolchain has no libFuzzer):
//! every spec example, every committed seed and crash input in `tests/fuzz/seeds/`, and random
//! inputs from proptest, through the same entry points the libFuzzer targets call.

#[path = "../fuzz/src/lib.rs"]
mod entry;

use cerebras_batch_tests::{examples, spec_json, workspace_root};
use proptest::prelude::*;

type Entry = fn(&[u8]);
const ENTRIES: &[(&str, Entry)] = &[
    ("batch", entry::batch),
    ("list", entry::list),
    ("error_body", entry::error_body),
    ("retry_after", entry::retry_after),
    ("result_lines", entry::result_lines),
    ("result_decode", entry::result_decode),
    ("pagination", entry::pagination),
];

fn seed_inputs() -> Vec<(String, Vec<u8>)> {
    let mut inputs = Vec::new();
    for ex in examples(&spec_json()) {
        inputs.push((
            ex.pointer.clone(),
            match &ex.value {
                serde_json::Value::String(text) => text.as_bytes().to_vec(),
                value => serde_json::to_vec(value).unwrap(),
            },
        ));
        if let Some(text) = &ex.verbatim {
            inputs.push((format!("{} (verbatim)", ex.pointer), text.as_bytes().to_vec()));
        }
    }
    let seeds = workspace_root().join("tests/fuzz/seeds");
    for dir in std::fs::read_dir(&seeds).expect("tests/fuzz/seeds exists").flatten() {
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            inputs.push((file.path().display().to_string(), std::fs::read(file.path()).unwrap()));
        }
    }
    inputs
}

#[test]
fn every_seed_passes_every_entry_point() {
    let inputs = seed_inputs();
    assert!(inputs.len() >= 25, "{}", inputs.len());
    for (name, data) in &inputs {
        for (target, run) in ENTRIES {
            let result = std::panic::catch_unwind(|| run(data));
            assert!(result.is_ok(), "{target} panicked on {name}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        for (_, run) in ENTRIES {
            run(&data);
        }
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[\{\}\[\]":,0-9a-z_\\\n -]{0,300}"#) {
        for (_, run) in ENTRIES {
            run(text.as_bytes());
        }
    }

    #[test]
    fn mutated_examples_never_panic(index in 0usize..64, cut in 0usize..2000, byte in any::<u8>()) {
        let inputs = seed_inputs();
        let (_, data) = &inputs[index % inputs.len()];
        let mut data = data.clone();
        if !data.is_empty() {
            let at = cut % data.len();
            data[at] = byte;
            data.truncate(at + 1 + cut % 7);
        }
        for (_, run) in ENTRIES {
            run(&data);
        }
    }
}

/// A list page body for the `pagination` entry: items from a small set of ids (so pages
/// overlap), `has_more` true, false, null or absent, and sometimes a field this client does not
/// know or one it does.
fn list_page() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(0u8..6, 0..4),
        0u8..4,
        prop::option::of(prop::sample::select(vec![
            "next_page_token",
            "first_id",
            "next",
            "last_id",
        ])),
        any::<bool>(),
    )
        .prop_map(|(ids, more, field, null_data)| {
            let data: Vec<_> = ids
                .iter()
                .map(|i| serde_json::json!({"id": format!("b{i}"), "object": "batch"}))
                .collect();
            let mut page = serde_json::json!({"object": "list", "data": data});
            if null_data && ids.is_empty() {
                page["data"] = serde_json::Value::Null;
            }
            match more {
                0 => page["has_more"] = true.into(),
                1 => page["has_more"] = false.into(),
                2 => page["has_more"] = serde_json::Value::Null,
                _ => {}
            }
            if let Some(field) = field {
                page[field] = "x".into();
            }
            page.to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn page_sequences_keep_the_listing_invariants(pages in prop::collection::vec(list_page(), 1..6)) {
        entry::pagination(pages.join("\n").as_bytes());
    }
}
