//! Constructs the generator cannot handle give an error that names them; progenitor panics are
//! caught.

use cerebras_batch_generator::{GenerateError, generate};
use cerebras_batch_tests::spec_text;

fn error_of(spec: &str) -> String {
    match generate(spec) {
        Ok(_) => panic!("generation should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn openapi_3_1_is_refused_by_name() {
    let msg = error_of(&spec_text().replacen("openapi: 3.0.3", "openapi: 3.1.0", 1));
    assert_eq!(
        msg,
        "unsupported construct at /openapi: OpenAPI version 3.1.0; write the spec as OpenAPI 3.0.x (progenitor 0.15.1 rejects 3.1)"
    );
}

#[test]
fn ref_with_sibling_nullable_is_refused() {
    let spec = spec_text().replacen(
        "        request_counts:\n          description: Statistics about the requests in the batch (if available); null right after a cancel.\n          oneOf:\n            - $ref: '#/components/schemas/BatchRequestCounts'\n            - $ref: '#/components/schemas/NullValue'",
        "        request_counts:\n          nullable: true\n          $ref: '#/components/schemas/BatchRequestCounts'",
        1,
    );
    let msg = error_of(&spec);
    assert!(
        msg.starts_with(
            "unsupported construct at /components/schemas/Batch/properties/request_counts: `$ref` with sibling keys [\"nullable\"]"
        ),
        "{msg}"
    );
}

#[test]
fn nullable_component_is_refused() {
    let spec = spec_text().replacen(
        "    BatchRequestCounts:\n      type: object\n",
        "    BatchRequestCounts:\n      type: object\n      nullable: true\n",
        1,
    );
    let msg = error_of(&spec);
    assert!(
        msg.starts_with("unsupported construct at /components/schemas/BatchRequestCounts: a nullable component schema"),
        "{msg}"
    );
}

#[test]
fn enum_values_without_identifiers_need_varnames() {
    let spec = spec_text().replacen(
        "      enum: [24h]\n      x-enum-varnames: [Hours24]\n",
        "      enum: [24h]\n",
        1,
    );
    let msg = error_of(&spec);
    assert!(
        msg.contains("/components/schemas/CompletionWindow: enum value \"24h\", whose variant name would be \"24h\""),
        "{msg}"
    );
}

#[test]
fn mixed_success_bodies_are_refused_before_progenitor_panics() {
    let spec = spec_text().replacen(
        "      responses:\n        '200':\n          description: Confirmation of the deletion.",
        "      responses:\n        '204':\n          description: No content.\n        '200':\n          description: Confirmation of the deletion.",
        1,
    );
    let msg = error_of(&spec);
    assert!(
        msg.contains(
            "/paths/~1v1~1files~1{file_id}/delete/responses: success responses with different bodies (2 kinds)"
        ),
        "{msg}"
    );
}

#[test]
fn a_progenitor_panic_becomes_an_error() {
    // A request body with two media types makes progenitor 0.15.1 panic (`todo!` in its
    // method.rs).
    let spec = spec_text().replacen(
        "          application/json:\n            schema:\n              $ref: '#/components/schemas/CreateBatchRequest'\n",
        "          application/json:\n            schema:\n              $ref: '#/components/schemas/CreateBatchRequest'\n          text/plain:\n            schema:\n              type: string\n",
        1,
    );
    match generate(&spec) {
        Err(GenerateError::Progenitor(msg)) => {
            assert_eq!(
                msg,
                "progenitor panicked: not yet implemented: more media types than expected for create_batch: 2"
            )
        }
        Err(other) => panic!("expected a caught panic, got {other}"),
        Ok(_) => panic!("expected a caught panic, got generated code"),
    }
}

#[test]
fn json_successes_with_different_schemas_are_refused() {
    let spec = spec_text().replacen(
        "      responses:\n        '200':\n          description: Confirmation of the deletion.",
        "      responses:\n        '201':\n          description: Other.\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/File'\n        '200':\n          description: Confirmation of the deletion.",
        1,
    );
    let msg = error_of(&spec);
    assert!(
        msg.contains("/delete/responses: success responses with different bodies (2 kinds)"),
        "{msg}"
    );
}

#[test]
fn multipart_operations_are_left_out_by_name() {
    let output = generate(&spec_text()).expect("the spec generates");
    assert_eq!(
        output.summary.left_out,
        [(
            "upload_file".to_owned(),
            "request body is multipart/form-data (progenitor 0.15.1 cannot send it)".to_owned()
        )]
    );
    assert_eq!(output.summary.generated.len(), 9);
}

#[test]
fn invalid_yaml_names_the_line() {
    let msg = error_of("openapi: 3.0.3\ninfo: [unclosed\n");
    assert!(msg.starts_with("spec is not valid at line "), "{msg}");
}
