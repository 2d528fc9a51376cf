//! The generator's compact surface (every operation with its Rust call shape, every type with its
//! fields) names every operation of the spec. Reviewers read `generated/API.md` for the
//! generated API and `generated/public-api.txt` for the whole public API; the surface text is
//! the oracle of the mutation and drift tests.

use cerebras_batch_tests::spec_text;

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
