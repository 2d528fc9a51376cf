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
