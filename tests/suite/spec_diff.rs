//! `cargo xtask diff`: pairs of fixture specs covering every class of change, each checked for
//! its classification (breaking or compatible), and the reports in one snapshot.

use cerebras_batch_generator::diff::{Change, diff, report};
use cerebras_batch_tests::workspace_root;

fn base() -> String {
    std::fs::read_to_string(workspace_root().join("tests/fixtures/diff/base.yaml")).unwrap()
}

fn parse(text: &str) -> serde_json::Value {
    cerebras_batch_generator::parse_spec(text).expect("fixture parses")
}

/// `(case, [(from, to)], expected changes as (breaking, "location: what"))`.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [(bool, &'static str)],
);

const CASES: &[Case] = &[
    (
        "description only",
        &[("description: A thing.", "description: Some thing.")],
        &[],
    ),
    (
        "operation removed",
        &[(
            "    delete:\n      operationId: delete_thing\n      responses:\n        '200':\n          description: The deleted thing.\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Thing'\n",
            "",
        )],
        &[(true, "operation delete_thing: removed (DELETE /v1/things/{thing_id})")],
    ),
    (
        "operation renamed",
        &[("operationId: delete_thing", "operationId: remove_thing")],
        &[(
            true,
            "operation delete_thing: renamed to remove_thing (the Rust method is renamed)",
        )],
    ),
    (
        "operation added",
        &[(
            "paths:\n",
            "paths:\n  /v1/ping:\n    get:\n      operationId: retrieve_ping\n      responses:\n        '200':\n          description: Pong.\n",
        )],
        &[(false, "operation retrieve_ping: added (GET /v1/ping)")],
    ),
    (
        "operation moved",
        &[("  /v1/things:\n    post:", "  /v1/items:\n    post:")],
        &[(
            true,
            "operation create_thing: moved from POST /v1/things to POST /v1/items",
        )],
    ),
    (
        "required parameter added",
        &[(
            "        - name: expand\n",
            "        - name: version\n          in: query\n          required: true\n          schema:\n            type: string\n        - name: expand\n",
        )],
        &[(
            true,
            "operation retrieve_thing, query parameter version: added, required",
        )],
    ),
    (
        "optional parameter added",
        &[(
            "        - name: expand\n",
            "        - name: limit\n          in: query\n          schema:\n            type: integer\n        - name: expand\n",
        )],
        &[(
            false,
            "operation retrieve_thing, query parameter limit: added, optional",
        )],
    ),
    (
        "parameter removed",
        &[(
            "        - name: expand\n          in: query\n          required: false\n          schema:\n            type: string\n",
            "",
        )],
        &[(true, "operation retrieve_thing, query parameter expand: removed")],
    ),
    (
        "parameter became required",
        &[("          required: false\n", "          required: true\n")],
        &[(
            true,
            "operation retrieve_thing, query parameter expand: became required",
        )],
    ),
    (
        "response field removed",
        &[("        size:\n          type: integer\n          format: int64\n", "")],
        &[(true, "schema Thing, property size: removed")],
    ),
    (
        "response field added",
        &[(
            "        id:\n          type: string\n",
            "        id:\n          type: string\n        color:\n          type: string\n",
        )],
        &[(false, "schema Thing, property color: added, optional")],
    ),
    (
        "field type changed",
        &[(
            "          type: integer\n          format: int64\n",
            "          type: string\n",
        )],
        &[(
            true,
            "schema Thing, property size: type changed from integer (int64) to string",
        )],
    ),
    (
        "response field may be null",
        &[(
            "          type: integer\n          format: int64\n",
            "          type: integer\n          format: int64\n          nullable: true\n",
        )],
        &[(true, "schema Thing, property size: may now be null")],
    ),
    (
        "response field no longer null",
        &[(
            "          oneOf:\n            - $ref: '#/components/schemas/Detail'\n            - $ref: '#/components/schemas/NullValue'\n",
            "          allOf:\n            - $ref: '#/components/schemas/Detail'\n",
        )],
        &[(false, "schema Thing, property note: may no longer be null")],
    ),
    (
        "response field became optional",
        &[("required: [id, status]", "required: [id]")],
        &[(
            true,
            "schema Thing, property status: became optional (it may now be missing)",
        )],
    ),
    (
        "response field became required",
        &[("required: [id, status]", "required: [id, status, size]")],
        &[(false, "schema Thing, property size: became required")],
    ),
    (
        "request field added, required",
        &[(
            "      required: [name]\n      properties:\n        name:\n          type: string\n",
            "      required: [name, weight]\n      properties:\n        name:\n          type: string\n        weight:\n          type: integer\n",
        )],
        &[(true, "schema CreateThing, property weight: added, required")],
    ),
    (
        "request field became required",
        &[("required: [name]", "required: [name, color]")],
        &[(true, "schema CreateThing, property color: became required")],
    ),
    (
        "request field became optional",
        &[("required: [name]", "required: []")],
        &[(
            false,
            "schema CreateThing, property name: became optional (it may now be missing)",
        )],
    ),
    (
        "enum value added",
        &[("enum: [active, done]", "enum: [active, done, paused]")],
        &[(
            false,
            "schema Status: enum value \"paused\" added (enums are open: older clients decode it as Unknown)",
        )],
    ),
    (
        "enum value removed",
        &[("enum: [active, done]", "enum: [active]")],
        &[(true, "schema Status: enum value \"done\" removed")],
    ),
    (
        "schema removed",
        &[
            (
                "    Detail:\n      type: object\n      properties:\n        text:\n          type: string\n",
                "",
            ),
            (
                "            - $ref: '#/components/schemas/Detail'\n",
                "            - type: object\n",
            ),
        ],
        &[
            (true, "schema Detail: removed"),
            (
                true,
                "schema Thing, property note: allOf changed from [#/components/schemas/Detail] to [object]",
            ),
        ],
    ),
];

fn head_of(case: &str, edits: &[(&str, &str)]) -> String {
    let mut head = base();
    for (from, to) in edits {
        assert!(head.contains(from), "{case}: the fixture lacks {from:?}");
        head = head.replacen(from, to, 1);
    }
    head
}

#[test]
fn every_class_of_change_is_classified() {
    let base = parse(&base());
    let mut reports = String::new();
    for (case, edits, expected) in CASES {
        let changes: Vec<Change> = diff(&base, &parse(&head_of(case, edits)));
        let got: Vec<(bool, String)> = changes
            .iter()
            .map(|c| (c.breaking, format!("{}: {}", c.location, c.what)))
            .collect();
        let want: Vec<(bool, String)> = expected.iter().map(|(b, t)| (*b, t.to_string())).collect();
        assert_eq!(got, want, "case {case}");
        reports.push_str(&format!("## {case}\n{}\n", report(&changes, "base.yaml", "head.yaml")));
    }
    insta::assert_snapshot!("diff_reports", reports);
}

#[test]
fn the_real_spec_against_itself_has_no_changes() {
    let spec = cerebras_batch_tests::spec_json();
    assert_eq!(diff(&spec, &spec), vec![]);
    assert_eq!(
        report(&[], "a", "b"),
        "Spec changes from a to b:\n\nNo semantic changes (descriptions and examples are not compared).\n"
    );
}
