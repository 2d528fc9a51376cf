//! The API surface: every operation (method, path, Rust signature) and every type with its
//! fields. Any spec change that reaches users changes this snapshot.

use cerebras_batch_tests::spec_text;

#[test]
fn api_surface() {
    let output = cerebras_batch_generator::generate(&spec_text()).expect("the spec generates");
    insta::assert_snapshot!("api_surface", output.surface);
}

#[test]
fn surface_names_every_operation_of_the_spec() {
    let output = cerebras_batch_generator::generate(&spec_text()).expect("the spec generates");
    let ids: Vec<&str> = cerebras_batch::operations::OPERATIONS.iter().map(|o| o.id).collect();
    assert_eq!(
        ids,
        [
            "list_batches",
            "create_batch",
            "retrieve_batch",
            "cancel_batch",
            "retrieve_batch_results",
            "list_files",
            "upload_file",
            "retrieve_file",
            "delete_file",
            "retrieve_file_content"
        ]
    );
    for op in cerebras_batch::operations::OPERATIONS {
        assert!(
            output
                .surface
                .contains(&format!("{} {}  ({})", op.method, op.path, op.id)),
            "{op:?}"
        );
    }
    assert_eq!(cerebras_batch::operations::CANCEL_BATCH.method, "DELETE");
    assert_eq!(cerebras_batch::operations::CANCEL_BATCH.path, "/v1/batches/{batch_id}");
    let hand_written: Vec<&str> = cerebras_batch::operations::OPERATIONS
        .iter()
        .filter(|o| !o.generated)
        .map(|o| o.id)
        .collect();
    assert_eq!(hand_written, ["upload_file"]);
    assert_eq!(output.summary.left_out.len(), 1);
    assert_eq!(output.summary.left_out[0].0, "upload_file");
}
