//! docs-drift: the spec held against the vendor's documentation pages.
//!
//! The pages: the vendor's complete cancel page (`../shared/reference/cancel-batch.md`), and a
//! complete page written by us, in the vendor's markup, for every other operation and the guide
//! (`tests/fixtures/docs-pages/`). The vendor's other stored copies (`../shared/reference/
//! vendor-pages/`) are excerpts; the revision tests take their examples and facts to build
//! `.md` pages. Tests that need `../shared` say they are skipped when it is absent (it is there
//! in CI, which sets `CEREBRAS_BATCH_REQUIRE_SHARED` so that they fail instead); the vendor's
//! pages are not copied into the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use cerebras_batch_docs_drift::page::{self, PageError, Source};
use cerebras_batch_docs_drift::{self as docs_drift, Found, Known, Report};
use cerebras_batch_tests::{spec_json, workspace_root};
use proptest::prelude::*;
use serde_json::Value;

const CANCEL_OP: &str = "/paths/~1v1~1batches~1{batch_id}/delete";
const CANCEL_EXAMPLE: &str =
    "/paths/~1v1~1batches~1{batch_id}/delete/responses/200/content/application~1json/examples/cancel_batch_response";

/// `../shared/reference`, holding the vendor's cancel page (see [`cerebras_batch_tests::shared`]).
fn shared() -> Option<PathBuf> {
    let cancel = cerebras_batch_tests::shared("reference/cancel-batch.md")?;
    Some(cancel.parent().expect("a file has a folder").to_path_buf())
}

fn fixtures() -> PathBuf {
    workspace_root().join("tests/fixtures/docs-pages")
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn known() -> Vec<Known> {
    docs_drift::known_differences(&read(workspace_root().join("spec/known-differences.yaml"))).expect("the list parses")
}

fn wanted(spec: &Value) -> Vec<String> {
    docs_drift::page_urls(spec).into_iter().map(|(name, _)| name).collect()
}

/// The vendor's cancel page and our pages, as CI checks them.
fn pages(spec: &Value) -> Option<BTreeMap<String, Found>> {
    Some(docs_drift::load_pages(&[shared()?, fixtures()], &wanted(spec)).expect("the page folders can be listed"))
}

fn with_page(mut pages: BTreeMap<String, Found>, name: &str, text: &str) -> BTreeMap<String, Found> {
    pages.insert(
        name.to_owned(),
        Found {
            path: PathBuf::from(format!("(edited) {name}")),
            page: page::parse(name, text),
        },
    );
    pages
}

fn lines(report: &Report) -> Vec<String> {
    report
        .unacknowledged()
        .map(|d| {
            let mark = if d.breaking { "BREAKING " } else { "" };
            format!("{mark}{}:{}: {}: {}", d.page, d.line, d.pointer, d.what)
        })
        .collect()
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line holds {needle}"))
        + 1
}

/// The first JSON value of a flattened HTML copy (its response example; they come first).
fn first_json(text: &str) -> Value {
    let start = text.find("\n{\n").expect("an example") + 1;
    serde_json::Deserializer::from_str(&text[start..])
        .into_iter::<Value>()
        .next()
        .expect("a value")
        .expect("valid JSON")
}

/// `page` with the JSON of its `<ResponseExample>` replaced by `example`.
fn with_response_example(page: &str, example: &Value) -> String {
    let open = page.find("<ResponseExample>").expect("a response example");
    let fence = open + page[open..].find("```json").expect("a json block");
    let body = fence + page[fence..].find('\n').unwrap() + 1;
    let end = body + page[body..].find("```").unwrap();
    let indented: String = serde_json::to_string_pretty(example)
        .unwrap()
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    format!("{}{indented}  {}", &page[..body], &page[end..])
}

#[test]
fn todays_spec_shows_no_drift_beyond_the_known_list() {
    let spec = spec_json();
    let Some(pages) = pages(&spec) else { return };
    let report = docs_drift::check(&spec, &pages, &known());
    assert_eq!(lines(&report), Vec::<String>::new(), "\n{}", report.text());
    assert_eq!(report.unreadable().count(), 0, "\n{}", report.text());
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    assert!(!report.failed());

    // Which pages are the vendor's and which ours, in the report too.
    let sources: BTreeMap<&str, &Source> = report
        .pages
        .iter()
        .map(|(name, _, r)| (name.as_str(), r.as_ref().expect("readable")))
        .collect();
    let names = wanted(&spec);
    let expected: BTreeMap<&str, &Source> = names
        .iter()
        .map(|n| {
            (
                n.as_str(),
                if n == "cancel-batch.md" {
                    &Source::Vendor
                } else {
                    &Source::Ours
                },
            )
        })
        .collect();
    assert_eq!(sources, expected);
    assert_eq!(names.len(), 11, "ten operations and the guide: {names:?}");
    let text = report.text();
    assert!(text.contains("  cancel-batch.md: a vendor copy ("), "{text}");
    assert!(
        text.contains("  create-batch.md: written by us in the vendor's markup ("),
        "{text}"
    );
    assert!(
        text.contains("11 page(s) checked: 1 vendor copies, 10 written by us; 0 unreadable"),
        "{text}"
    );

    // The known differences this check meets, each under its reviewed entry.
    let ids: BTreeSet<&str> = report.differences.iter().filter_map(|(_, id)| id.as_deref()).collect();
    assert_eq!(
        ids,
        BTreeSet::from([
            "batch-errors-shape",
            "list-batch-object-type",
            "list-batches-limit-optional",
            "upload-expires-after-brackets",
        ])
    );
    let errors: Vec<String> = report
        .differences
        .iter()
        .filter(|(d, _)| d.pointer == "/components/schemas/Batch/properties/errors")
        .map(|(d, _)| format!("{}:{}", d.page, d.line))
        .collect();
    assert_eq!(
        errors,
        ["cancel-batch.md:33", "create-batch.md:53", "retrieve-batch.md:35"]
    );
}

#[test]
fn every_drift_line_of_the_known_list_is_still_met() {
    let spec = spec_json();
    let Some(pages) = pages(&spec) else { return };
    let report = docs_drift::check(&spec, &pages, &known());
    for entry in known() {
        for what in &entry.drift {
            assert!(
                report
                    .differences
                    .iter()
                    .any(|(d, id)| &d.what == what && id.as_deref() == Some(entry.id.as_str())),
                "{}: the drift line {what:?} matches nothing today; remove it",
                entry.id
            );
        }
    }
}

#[test]
fn our_pages_say_they_are_ours_and_the_vendors_are_not_copied() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let page = page::parse(&name, &read(path)).unwrap_or_else(|e| panic!("{name}:{e}"));
        assert_eq!(
            page.source,
            Source::Ours,
            "{name} does not start with the `written by us` marker"
        );
        names.push(name);
    }
    names.sort();
    assert!(
        !names.contains(&"cancel-batch.md".to_owned()),
        "the cancel page is read from ../shared"
    );
    let spec = spec_json();
    let mut expected: Vec<String> = wanted(&spec).into_iter().filter(|n| n != "cancel-batch.md").collect();
    expected.sort();
    assert_eq!(names, expected);
}

/// The older revisions' examples (from the flattened HTML copies) in today's pages: the ids that
/// changed are reported against today's spec, at the example's line and the spec's example.
#[test]
fn the_example_ids_of_older_revisions_are_reported() {
    let spec = spec_json();
    let Some(shared) = shared() else { return };
    let Some(base) = pages(&spec) else { return };
    let older = |name: &str| read(shared.join(format!("vendor-pages/{name}.html-older.md")));
    let current = |name: &str| match name {
        "cancel-batch" => read(shared.join("cancel-batch.md")),
        _ => read(fixtures().join(format!("{name}.md"))),
    };
    let cases = [
        (
            "create-batch",
            "/paths/~1v1~1batches/post/responses/200/content/application~1json/examples/create_batch_response",
            "batch_5842ec7d8fb6",
        ),
        (
            "retrieve-batch",
            "/paths/~1v1~1batches~1{batch_id}/get/responses/200/content/application~1json/examples/retrieve_batch_response",
            "batch_5842ec7d8fb6",
        ),
        ("cancel-batch", CANCEL_EXAMPLE, "batch_xxxx"),
    ];
    for (name, pointer, old_id) in cases {
        let example = first_json(&older(name));
        assert_eq!(example["id"], old_id);
        let mut text = with_response_example(&current(name), &example);
        // The older request: `create(input_file_id="file_456")`.
        if name == "create-batch" {
            assert!(older(name).contains("input_file_id=\"file_456\""));
            text = text.replace(
                "\"input_file_id\": \"file_abc123\", \"endpoint\"",
                "\"input_file_id\": \"file_456\", \"endpoint\"",
            );
        }
        let file = format!("{name}.md");
        let report = docs_drift::check(&spec, &with_page(base.clone(), &file, &text), &known());
        let example_line = line_of(&text, "```json");
        let mut expected = vec![format!(
            "{file}:{example_line}: {pointer}: response example: differs from the spec's at /id: the page has \"{old_id}\", the spec \"batch_abc123\""
        )];
        if name == "create-batch" {
            expected.push(format!(
                "{file}:{}: /paths/~1v1~1batches/post/requestBody/content/application~1json/examples/create_page_request: request example: differs from the spec's at /input_file_id: the page has \"file_456\", the spec \"file_abc123\"",
                line_of(&text, "```bash")
            ));
        }
        expected.sort();
        assert_eq!(lines(&report), expected, "{name}");
        assert!(report.failed());
    }
}

/// The other way round: a spec that matches the older revision, against today's pages.
#[test]
fn a_spec_matching_the_older_revision_is_reported_against_todays_pages() {
    let mut spec = spec_json();
    let Some(pages) = pages(&spec) else { return };
    let at =
        "/paths/~1v1~1batches~1{batch_id}/get/responses/200/content/application~1json/examples/retrieve_batch_response";
    let value = spec.pointer_mut(&format!("{at}/value")).expect("the retrieve example");
    value["id"] = "batch_5842ec7d8fb6".into();
    value["input_file_id"] = "file_456".into();
    let report = docs_drift::check(&spec, &pages, &known());
    let text = read(fixtures().join("retrieve-batch.md"));
    assert_eq!(
        lines(&report),
        [format!(
            "retrieve-batch.md:{}: {at}: response example: differs from the spec's at /id: the page has \"batch_abc123\", the spec \"batch_5842ec7d8fb6\"",
            line_of(&text, "```json")
        )]
    );
}

/// The older guide calls `GET /v1/batches/{batch_id}/results`; a spec without that operation is
/// told so. The current guide (ours) does not call it, and the spec keeping it is no drift.
#[test]
fn an_operation_in_one_guide_revision_and_not_the_other_is_reported() {
    let Some(shared) = shared() else { return };
    let older = read(shared.join("vendor-pages/capabilities-batch.older.md"));
    let mut spec = spec_json();
    let Some(pages) = pages(&spec) else { return };
    let pages = with_page(pages, "capabilities-batch.md", &older);
    assert!(
        !docs_drift::check(&spec, &pages, &known()).failed(),
        "today's spec has every endpoint of the older guide"
    );

    spec["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/v1/batches/{batch_id}/results");
    let mut wanted_pages = pages.clone();
    wanted_pages.remove("retrieve-batch-results.md");
    let report = docs_drift::check(&spec, &wanted_pages, &known());
    let line = line_of(&older, "/v1/batches/batch_abc123/results") - 1;
    assert_eq!(
        lines(&report),
        [format!(
            "BREAKING capabilities-batch.md:{line}: /paths: the guide calls GET /v1/batches/batch_abc123/results, which the spec lacks"
        )]
    );
}

/// Edits of the vendor's cancel page, each reported with the page's line and the spec's pointer.
#[test]
fn every_edit_of_the_cancel_page_is_reported_where_it_is() {
    let spec = spec_json();
    let Some(shared) = shared() else { return };
    let Some(base) = pages(&spec) else { return };
    let cancel = read(shared.join("cancel-batch.md"));
    let field = |name: &str| format!("<ResponseField name=\"{name}\"");
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "a field added",
            cancel.replace(
                "<Note>",
                "<ResponseField name=\"priority\" type=\"string\">\n  The priority.\n</ResponseField>\n\n<Note>",
            ),
            vec![format!(
                "cancel-batch.md:{}: {CANCEL_OP}: response field priority: in the page, not in the spec",
                line_of(&cancel, "<Note>")
            )],
        ),
        (
            "a nested field added",
            cancel.replace(
                "  Statistics about the requests in the batch (if available).\n",
                "  Statistics about the requests in the batch (if available).\n  <Expandable title=\"properties\">\n    <ResponseField name=\"pending\" type=\"integer\" />\n    <ResponseField name=\"total\" type=\"integer\" />\n    <ResponseField name=\"completed\" type=\"integer\" />\n    <ResponseField name=\"failed\" type=\"integer\" />\n  </Expandable>\n",
            ),
            vec![format!(
                "cancel-batch.md:{}: {CANCEL_OP}: response field request_counts.pending: in the page, not in the spec",
                line_of(&cancel, &field("request_counts")) + 3
            )],
        ),
        (
            "a field removed",
            cancel.replace(
                "<ResponseField name=\"output_file_id\" type=\"string | null\">\n  The ID of the file containing batch results with any completed requests.\n</ResponseField>\n",
                "",
            ),
            vec![format!(
                "cancel-batch.md:{}: /components/schemas/Batch/properties/output_file_id: response field output_file_id: in the spec, not in the page",
                line_of(&cancel, "## Response")
            )],
        ),
        (
            "a type made nullable",
            cancel.replace("name=\"input_file_id\" type=\"string\"", "name=\"input_file_id\" type=\"string | null\""),
            vec![format!(
                "BREAKING cancel-batch.md:{}: /components/schemas/Batch/properties/input_file_id: response field input_file_id: the page says string | null, the spec string",
                line_of(&cancel, &field("input_file_id"))
            )],
        ),
        (
            "a type changed",
            cancel.replace("name=\"created_at\" type=\"integer\"", "name=\"created_at\" type=\"string\""),
            vec![format!(
                "BREAKING cancel-batch.md:{}: /components/schemas/Batch/properties/created_at: response field created_at: type: the page says string, the spec integer",
                line_of(&cancel, &field("created_at"))
            )],
        ),
        (
            "the parameter made optional",
            cancel.replace("path=\"batch_id\" type=\"string\" required=\"true\"", "path=\"batch_id\" type=\"string\" required=\"false\""),
            vec![format!(
                "BREAKING cancel-batch.md:{}: /components/parameters/BatchId: parameter path batch_id: optional in the page, required in the spec",
                line_of(&cancel, "<ParamField path=\"batch_id\"")
            )],
        ),
        (
            "a required parameter added",
            cancel.replace(
                "## Response",
                "## Query Parameters\n\n<ParamField query=\"reason\" type=\"string\" required>\n  Why.\n</ParamField>\n\n## Response",
            ),
            vec![format!(
                "BREAKING cancel-batch.md:{}: {CANCEL_OP}: parameter query reason: in the page, not in the spec",
                line_of(&cancel, "## Response") + 2
            )],
        ),
        (
            "an example value changed",
            cancel.replace("\"status\": \"calling\"", "\"status\": \"cancelling\""),
            vec![format!(
                "cancel-batch.md:{}: {CANCEL_EXAMPLE}: response example: differs from the spec's at /status: the page has \"cancelling\", the spec \"calling\"",
                line_of(&cancel, "```json")
            )],
        ),
        (
            "the method changed",
            cancel.replace("--request DELETE", "--request POST"),
            vec![format!(
                "BREAKING cancel-batch.md:{}: {CANCEL_OP}: method: the page says POST, the spec DELETE",
                line_of(&cancel, "```bash")
            )],
        ),
        (
            "the path changed",
            cancel.replace("v1/batches/batch_abc123'", "v1/batches/batch_abc123/cancel'"),
            vec![format!(
                "BREAKING cancel-batch.md:{}: {CANCEL_OP}: path: the page says /v1/batches/batch_abc123/cancel, the spec /v1/batches/{{batch_id}}",
                line_of(&cancel, "```bash")
            )],
        ),
    ];
    for (what, text, expected) in cases {
        assert_ne!(text, cancel, "{what}: the edit did not apply");
        let report = docs_drift::check(&spec, &with_page(base.clone(), "cancel-batch.md", &text), &known());
        assert_eq!(lines(&report), expected, "{what}");
        assert!(report.failed(), "{what}");
    }
}

/// An optional parameter of a page made required (the list page's `after`).
#[test]
fn a_parameter_made_required_is_reported() {
    let spec = spec_json();
    let Some(base) = pages(&spec) else { return };
    let list = read(fixtures().join("list-batch.md"));
    let text = list.replace(
        "path=\"after\" type=\"string\" required=\"false\"",
        "path=\"after\" type=\"string\" required=\"true\"",
    );
    assert_ne!(text, list);
    let report = docs_drift::check(&spec, &with_page(base, "list-batch.md", &text), &known());
    assert_eq!(
        lines(&report),
        [format!(
            "BREAKING list-batch.md:{}: /paths/~1v1~1batches/get/parameters/1: parameter query after: required in the page, optional in the spec",
            line_of(&list, "path=\"after\"")
        )]
    );
}

#[test]
fn an_operation_without_a_page_is_reported() {
    let mut spec = spec_json();
    let Some(mut pages) = pages(&spec) else { return };
    pages.remove("cancel-batch.md");
    let report = docs_drift::check(&spec, &pages, &known());
    assert_eq!(
        lines(&report),
        [format!(
            "cancel-batch.md:0: {CANCEL_OP}: operation cancel_batch: no page was given"
        )]
    );

    let op = spec.pointer_mut(CANCEL_OP).unwrap().as_object_mut().unwrap();
    op.remove("externalDocs");
    let report = docs_drift::check(&spec, &pages, &known());
    assert_eq!(
        lines(&report),
        [format!(
            "(none):0: {CANCEL_OP}: operation cancel_batch names no page (no externalDocs.url)"
        )]
    );
}

/// A cut-off or broken page is an error naming the page and line, not drift (and not "no page").
#[test]
fn truncated_and_malformed_pages_are_named_with_their_line() {
    let spec = spec_json();
    let Some(shared) = shared() else { return };
    let Some(base) = pages(&spec) else { return };
    let cancel = read(shared.join("cancel-batch.md"));
    let cut_in_code: String = cancel.lines().take(150).map(|l| format!("{l}\n")).collect();
    let cut_in_tag: String = cancel.lines().take(94).map(|l| format!("{l}\n")).collect();
    let stray = cancel.replacen("</ResponseField>", "</ResponseField>\n</Expandable>", 1);
    let cases = [
        (
            cut_in_code,
            "cancel-batch.md:142: the page ends inside a code block (truncated)",
        ),
        (
            cut_in_tag,
            "cancel-batch.md:93: the page ends inside `<ResponseField>` (truncated)",
        ),
        (
            stray,
            "cancel-batch.md:24: malformed markup: `</Expandable>` closes nothing",
        ),
    ];
    for (text, expected) in cases {
        let report = docs_drift::check(&spec, &with_page(base.clone(), "cancel-batch.md", &text), &known());
        let unreadable: Vec<String> = report.unreadable().map(|(n, e)| format!("{n}:{e}")).collect();
        assert_eq!(unreadable, [expected]);
        assert_eq!(lines(&report), Vec::<String>::new(), "an unreadable page is not drift");
        assert!(report.failed());
        assert!(
            report
                .text()
                .contains(&format!("cancel-batch.md: UNREADABLE: {expected}")),
            "{}",
            report.text()
        );
    }
}

/// A page file that cannot be read is an error naming it, never an empty page; a folder that
/// cannot be listed is an error naming the folder.
#[test]
fn a_page_that_cannot_be_read_fails_the_check_naming_it() {
    let spec = spec_json();
    let dir = std::env::temp_dir().join(format!("docs-drift-unreadable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("cancel-batch.md"),
        b"---\napi: DELETE /v1/batches/{batch_id}\n---\n\xff\xfe\n",
    )
    .unwrap();
    let pages = docs_drift::load_pages(std::slice::from_ref(&dir), &wanted(&spec)).expect("the folder can be listed");
    let report = docs_drift::check(&spec, &pages, &known());
    let unreadable: Vec<String> = report.unreadable().map(|(n, e)| e.located(n)).collect();
    assert_eq!(
        unreadable,
        ["cancel-batch.md: the file cannot be read: stream did not contain valid UTF-8"]
    );
    assert!(report.failed());
    assert!(
        report.text().contains(
            "cancel-batch.md: UNREADABLE: cancel-batch.md: the file cannot be read: stream did not contain valid UTF-8"
        ),
        "{}",
        report.text()
    );
    let not_a_folder = dir.join("cancel-batch.md");
    let err = docs_drift::load_pages(std::slice::from_ref(&not_a_folder), &wanted(&spec))
        .expect_err("a file is not a folder");
    assert!(
        err.starts_with(&format!("cannot list the pages in {}: ", not_a_folder.display())),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The vendor's stored excerpts are cut at ~2,000 characters: each is reported truncated at the
/// line where what it cuts began, none as malformed.
#[test]
fn the_stored_vendor_excerpts_are_reported_truncated() {
    let Some(shared) = shared() else { return };
    let spec = spec_json();
    let pages =
        docs_drift::load_pages(&[shared.join("vendor-pages")], &wanted(&spec)).expect("the folder can be listed");
    let results: BTreeMap<&str, String> = pages
        .iter()
        .map(|(n, f)| {
            (
                n.as_str(),
                f.page.as_ref().map_or_else(|e| e.to_string(), |_| "read".to_owned()),
            )
        })
        .collect();
    let expected = BTreeMap::from([
        ("capabilities-batch.md", "read".to_owned()),
        (
            "create-batch.md",
            "46: the page ends inside the tag `<ResponseField name=\"object\" type=\"str` (truncated)".to_owned(),
        ),
        (
            "delete-file.md",
            "77: the page ends inside a code block (truncated)".to_owned(),
        ),
        (
            "list-batch.md",
            "40: the page ends inside `<RequestExample>` (truncated)".to_owned(),
        ),
        (
            "list-files.md",
            "61: the page ends inside the tag `</R` (truncated)".to_owned(),
        ),
        (
            "retrieve-batch.md",
            "48: the page ends inside `<ResponseField>` (truncated)".to_owned(),
        ),
        (
            "retrieve-file-content.md",
            "74: the page ends inside a code block (truncated)".to_owned(),
        ),
        (
            "retrieve-file.md",
            "66: the page ends inside a code block (truncated)".to_owned(),
        ),
        (
            "upload-file.md",
            "30: the page ends inside `<ParamField>` (truncated)".to_owned(),
        ),
    ]);
    assert_eq!(results, expected);
}

/// Serves our pages as the vendor's site would (`<page URL>.md`), one page missing, and fetches.
#[tokio::test]
async fn fetch_writes_the_current_pages_into_the_repository_folder() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let mut spec = spec_json();
    for (name, url) in docs_drift::page_urls(&spec) {
        let url_path = url.strip_prefix(docs_drift::DOCS_SITE).unwrap().to_owned();
        let response = match std::fs::read_to_string(fixtures().join(&name)) {
            Ok(text) if name != "delete-file.md" => ResponseTemplate::new(200).set_body_string(text),
            _ => ResponseTemplate::new(404),
        };
        Mock::given(method("GET"))
            .and(path(format!("{url_path}.md")))
            .respond_with(response)
            .mount(&server)
            .await;
    }
    // A page outside the vendor's site is not fetched.
    *spec
        .pointer_mut("/paths/~1v1~1files/get/externalDocs/url")
        .expect("list-files names its page") = "https://example.com/list-files".into();

    let out = workspace_root().join(format!("target/docs-drift-fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let report = docs_drift::fetch(&spec, &server.uri(), &out).await.expect("fetched");
    let base = server.uri();
    assert!(
        report.contains(&format!(
            "{base}/api-reference/file/delete-file.md: answered 404 Not Found; skipped"
        )),
        "{report:#?}"
    );
    assert!(
        report.contains(
            &"https://example.com/list-files: not a page of https://inference-docs.cerebras.ai; not fetched".to_owned()
        ),
        "{report:#?}"
    );
    assert!(report.contains(&format!(
        "fetched {base}/api-reference/batch/create-batch.md into {}",
        out.join("create-batch.md").display()
    )));
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "capabilities-batch.md",
            "create-batch.md",
            "list-batch.md",
            "retrieve-batch-results.md",
            "retrieve-batch.md",
            "retrieve-file-content.md",
            "retrieve-file.md",
            "upload-file.md",
        ]
    );
    assert_eq!(
        read(out.join("create-batch.md")),
        read(fixtures().join("create-batch.md"))
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        10,
        "one GET per page of the vendor's site, the missing one too"
    );
    let _ = std::fs::remove_dir_all(&out);
}

fn mangle(text: &str, edits: &[(u8, usize, String)]) -> String {
    let mut text = text.to_owned();
    for (kind, at, payload) in edits {
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        match kind % 4 {
            0 => text.truncate(at),
            1 => text.insert_str(at, payload),
            2 => {
                let end = (at + payload.len()).min(text.len());
                let mut end = end;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, "");
            }
            _ => {
                let line: String = text[at..].lines().next().unwrap_or_default().to_owned();
                text.insert_str(at, &format!("{line}\n"));
            }
        }
    }
    text
}

fn fixture_texts() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), read(p)))
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Cut, spliced, deleted and doubled pages: an error naming a line of the page, or a page
    /// that the comparison reads; never a panic.
    #[test]
    fn mangled_pages_never_panic(
        which in 0usize..10,
        edits in proptest::collection::vec(
            (any::<u8>(), any::<usize>(), prop_oneof![
                Just("<".to_owned()), Just(">".to_owned()), Just("\"".to_owned()), Just("'".to_owned()),
                Just("```".to_owned()), Just("```json\n".to_owned()), Just("</ResponseField>".to_owned()),
                Just("<Expandable>".to_owned()), Just("{".to_owned()), Just("é—\u{1F600}".to_owned()),
                Just("<ParamField path=\"x\" type=\"string | null\" required>".to_owned()),
                "[ -~\n]{0,12}",
            ]),
            1..6,
        ),
    ) {
        let spec = spec_json();
        let texts = fixture_texts();
        let (name, text) = &texts[which % texts.len()];
        let mangled = mangle(text, &edits);
        let line_count = mangled.lines().count().max(1);
        match page::parse(name, &mangled) {
            Err(PageError::Truncated { line, .. } | PageError::Malformed { line, .. }) => {
                prop_assert!((1..=line_count).contains(&line), "line {line} of {line_count}");
            }
            Err(e @ PageError::Unreadable { .. }) => prop_assert!(false, "text that parses is readable: {e}"),
            Ok(_) => {}
        }
        let pages = with_page(
            docs_drift::load_pages(&[fixtures()], &wanted(&spec)).expect("the fixtures can be listed"),
            name,
            &mangled,
        );
        let report = docs_drift::check(&spec, &pages, &known());
        let _ = report.text();
    }
}
