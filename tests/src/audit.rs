//! The spec audit: every example checked against its own schema, plus the contradictions a
//! schema cannot express (timestamps against status, counts, ids, retention). The vendor's
//! examples are kept verbatim, oddities included; the audit records each oddity so that a new
//! one shows up in review.

use serde_json::Value;
use std::fmt::Write;

use crate::{Example, examples, schema_violations};

/// Statuses in which each timestamp may be set, from the status semantics of the docs.
const TIMESTAMP_STATUSES: &[(&str, &[&str])] = &[
    (
        "in_progress_at",
        &[
            "in_progress",
            "finalizing",
            "completed",
            "failed",
            "expired",
            "cancelling",
            "cancelled",
        ],
    ),
    (
        "finalizing_at",
        &["finalizing", "completed", "failed", "cancelling", "cancelled"],
    ),
    ("completed_at", &["completed"]),
    ("failed_at", &["failed"]),
    ("expired_at", &["expired"]),
    ("cancelling_at", &["cancelling", "cancelled"]),
    ("cancelled_at", &["cancelled"]),
];

/// The timestamp each final status implies.
const STATUS_TIMESTAMP: &[(&str, &str)] = &[
    ("completed", "completed_at"),
    ("failed", "failed_at"),
    ("expired", "expired_at"),
    ("cancelled", "cancelled_at"),
];

/// Files with purpose `batch` expire after 7 days by default (Upload file page).
const DEFAULT_FILE_RETENTION: i64 = 7 * 24 * 3600;
/// The batch completion window, 24 h.
const COMPLETION_WINDOW: i64 = 24 * 3600;

/// The audit report: one section per example, each finding on its own line.
pub fn report(spec: &Value) -> String {
    let mut out = String::new();
    for ex in examples(spec) {
        let findings = audit_example(spec, &ex);
        let schema = match (&ex.jsonl_line_schema, &ex.schema_name) {
            (Some(line), _) => format!("JSONL of {line}"),
            (None, Some(name)) => name.clone(),
            (None, None) => "inline schema".to_owned(),
        };
        let _ = writeln!(out, "{} ({schema})", ex.pointer);
        if findings.is_empty() {
            out.push_str("    ok\n");
        }
        for f in findings {
            let _ = writeln!(out, "    - {f}");
        }
    }
    out
}

/// The findings for one example.
pub fn audit_example(spec: &Value, ex: &Example) -> Vec<String> {
    let mut findings = Vec::new();
    if let Some(line_schema) = &ex.jsonl_line_schema {
        let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{line_schema}") });
        let text = ex.value.as_str().unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            match serde_json::from_str::<Value>(line) {
                Ok(v) => {
                    for violation in schema_violations(spec, &schema, &v) {
                        findings.push(format!("line {}: schema: {violation}", i + 1));
                    }
                    findings.extend(
                        result_line_findings(&v)
                            .into_iter()
                            .map(|f| format!("line {}: {f}", i + 1)),
                    );
                }
                Err(e) => findings.push(format!("line {}: not JSON: {e}", i + 1)),
            }
        }
        return findings;
    }
    findings.extend(
        schema_violations(spec, &ex.schema, &ex.value)
            .into_iter()
            .map(|v| format!("schema: {v}")),
    );
    match ex.schema_name.as_deref() {
        Some("Batch") => findings.extend(batch_findings(spec, &ex.value, "")),
        Some("BatchList") => {
            let data = list_items(&ex.value);
            for (i, b) in data.iter().enumerate() {
                findings.extend(batch_findings(spec, b, &format!("/data/{i}")));
            }
            findings.extend(duplicate_ids(&data));
            if ex.value.get("has_more").is_none() {
                findings.push("`has_more` is absent".into());
            }
        }
        Some("File") => findings.extend(file_findings(&ex.value, "")),
        Some("FileList") => {
            let data = list_items(&ex.value);
            for (i, f) in data.iter().enumerate() {
                findings.extend(file_findings(f, &format!("/data/{i}")));
            }
            findings.extend(duplicate_ids(&data));
        }
        _ => {}
    }
    findings
}

/// The `data` items of a list envelope (none when `data` is missing or null).
fn list_items(list: &Value) -> Vec<Value> {
    list.get("data").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

fn batch_findings(spec: &Value, b: &Value, at: &str) -> Vec<String> {
    let mut f = Vec::new();
    let status = b.get("status").and_then(Value::as_str).unwrap_or_default();
    let documented: Vec<&str> = spec
        .pointer("/components/schemas/BatchStatus/enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !documented.contains(&status) {
        f.push(format!("{at}/status: {status:?} is not a documented status"));
    }
    for (field, allowed) in TIMESTAMP_STATUSES {
        if int(b, field).is_some() && !allowed.contains(&status) {
            f.push(format!("{at}/{field} is set while the status is {status:?}"));
        }
    }
    for (final_status, field) in STATUS_TIMESTAMP {
        if status == *final_status && int(b, field).is_none() {
            f.push(format!("{at}/status is {status:?} but {field} is null"));
        }
    }
    if let Some(created) = int(b, "created_at") {
        for (field, _) in TIMESTAMP_STATUSES {
            if int(b, field).is_some_and(|t| t < created) {
                f.push(format!("{at}/{field} is before created_at"));
            }
        }
        if let Some(expires) = int(b, "expires_at")
            && expires - created != COMPLETION_WINDOW
        {
            f.push(format!(
                "{at}/expires_at is created_at + {} s, not the 24 h window",
                expires - created
            ));
        }
    }
    if let (Some(cancelling), Some(completed)) = (int(b, "cancelling_at"), int(b, "completed_at")) {
        f.push(format!(
            "{at}/completed_at is {} s after cancelling_at",
            completed - cancelling
        ));
    }
    match b.get("request_counts") {
        Some(Value::Null) | None => f.push(format!("{at}/request_counts is null")),
        Some(rc) => {
            let (total, done, failed) = (int(rc, "total"), int(rc, "completed"), int(rc, "failed"));
            if let (Some(t), Some(d), Some(x)) = (total, done, failed)
                && d + x > t
            {
                f.push(format!(
                    "{at}/request_counts: completed + failed = {} exceeds total {t}",
                    d + x
                ));
            }
        }
    }
    if b.get("errors").is_some_and(Value::is_string) {
        f.push(format!("{at}/errors is a string; the docs type it `object | null`"));
    }
    if b.get("input_file_id").is_some() && b.get("input_file_id") == b.get("output_file_id") {
        f.push(format!("{at}/output_file_id equals input_file_id"));
    }
    if b.get("metadata")
        .and_then(Value::as_object)
        .is_some_and(|m| m.values().any(|v| !v.is_string()))
    {
        f.push(format!("{at}/metadata has a non-string value"));
    }
    f
}

fn file_findings(file: &Value, at: &str) -> Vec<String> {
    let mut f = Vec::new();
    if let (Some(created), Some(expires)) = (int(file, "created_at"), int(file, "expires_at"))
        && expires - created != DEFAULT_FILE_RETENTION
    {
        f.push(format!(
            "{at}/expires_at is created_at + {} days, not the documented 7-day default",
            (expires - created) as f64 / 86400.0
        ));
    }
    f
}

fn result_line_findings(line: &Value) -> Vec<String> {
    let status = line.get("status").and_then(Value::as_str);
    let has = |k: &str| line.get(k).is_some_and(|v| !v.is_null());
    let mut f = Vec::new();
    match status {
        Some("succeeded") if !has("response") => f.push("status succeeded without a response".into()),
        Some("failed" | "expired") if !has("error") => f.push("status failed/expired without an error".into()),
        Some("succeeded") if has("error") => f.push("status succeeded with an error".into()),
        _ => {}
    }
    f
}

fn duplicate_ids(items: &[Value]) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for item in items {
        if let Some(id) = item.get("id").and_then(Value::as_str) {
            *seen.entry(id).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, n)| format!("id {id:?} appears {n} times in `data`"))
        .collect()
}
