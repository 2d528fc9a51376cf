//! Spec changes reach the surface: a renamed enum value and a changed field type in a copy of
//! the spec each change the surface text.

use cerebras_batch_tests::spec_text;

fn surface(spec: &str) -> String {
    cerebras_batch_generator::generate(spec)
        .expect("the mutated spec generates")
        .surface
}

fn changed_lines(before: &str, after: &str) -> Vec<String> {
    similar::TextDiff::from_lines(before, after)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| {
            format!(
                "{}{}",
                if c.tag() == similar::ChangeTag::Delete {
                    "-"
                } else {
                    "+"
                },
                c.value().trim_end()
            )
        })
        .collect()
}

#[test]
fn renamed_enum_value_and_changed_field_type_change_the_surface() {
    let original = spec_text();
    let enum_line =
        "enum: [validating, queued, in_progress, finalizing, completed, expired, failed, cancelled, cancelling]";
    assert!(original.contains(enum_line));
    let bytes_field = "        bytes:\n          type: integer\n          format: int64\n          description: The size of the file in bytes.";
    assert!(original.contains(bytes_field));
    let mutated = original
        .replace(enum_line, &enum_line.replace("queued", "waiting"))
        .replace(
            bytes_field,
            "        bytes:\n          type: string\n          description: The size of the file in bytes.",
        );

    let diff = changed_lines(&surface(&original), &surface(&mutated));
    assert_eq!(
        diff,
        [
            "-    Queued = \"queued\"",
            "+    Waiting = \"waiting\"",
            "-    bytes: Option<i64>",
            "+    bytes: Option<String>",
        ],
        "{diff:#?}"
    );
}

#[test]
fn removed_operation_leaves_the_surface() {
    let original = spec_text();
    let start = original
        .find("    delete:\n      operationId: delete_file")
        .expect("delete_file is in the spec");
    let end = original[start..]
        .find("\n  /v1/files/{file_id}/content:")
        .map(|e| start + e)
        .expect("next path");
    let mutated = format!("{}{}", &original[..start], &original[end + 1..]);
    let diff = changed_lines(&surface(&original), &surface(&mutated));
    assert_eq!(
        diff,
        [
            "-DELETE /v1/files/{file_id}  (delete_file)",
            "-    client.delete_file(file_id: impl Into<String>) -> builder::DeleteFile",
            "-        .send() -> Result<types::FileDeleted>",
        ]
    );
}
