//! The test suite, one binary (it links once):
//!
//! - `regressions`: the problems an adversarial review found, each fixed.
//! - `semver`: `cargo xtask diff`'s verdict on each fixture edit of the spec, proven by
//!   compiling code written against today's client against each edited one.
//! - `tolerance`: the tolerance rule, for every type the client reads.
//! - `spec_fidelity`: the known differences between spec and docs are sourced; the error statuses are declared.
//! - `surface`: the API-surface snapshot (every operation and type).
//! - `examples`: every spec example decoded through the generated types (snapshot).
//! - `contract`: the client against Prism serving the spec (request validation, examples, 200+ random responses).
//! - `audit`: every example checked against its schema, oddities listed (snapshot).
//! - `freshness`: the checked-in generated code matches the spec.
//! - `mutation`: spec changes show up in the surface snapshot.
//! - `fuzz_replay`: the fuzz targets' seeds and random inputs, through the same entry points.
//! - `real_specs`: the generator over 19 published specs (from ../shared): generated or refused with every problem located.
//! - `drift`: the drift corpus: realistic spec edits, each regenerating to compiling code or refused with every problem located.
//! - `docs_drift`: the spec against the vendor's documentation pages (revisions, page edits, truncated
//!   and mangled pages, `--fetch` from a local server).
//! - `e2e`: the client against a local server on 127.0.0.1.
//! - `errors`: errors a person can act on (`Display`, numeric codes, HTML, TLS, stalled bodies).
//! - `results`: result lines as servers write them (numeric codes, string errors, OpenAI-shape
//!   failures, byte order marks, CRLF, gzip).
//! - `faults`: retries, Retry-After, POST safety, timeouts, resets and tracing spans.
//! - `hostile`: hostile ids (a proptest property), base URLs, keys and headers.
//! - `workflow`: upload, create, wait, cancel, download, pagination and JSONL against the fake API.

mod audit;
mod contract;
mod docs_drift;
mod drift;
mod e2e;
mod errors;
mod examples;
mod faults;
mod freshness;
mod fuzz_replay;
mod hostile;
mod mutation;
mod real_specs;
mod regressions;
mod results;
mod semver;
mod spec_fidelity;
mod surface;
mod tolerance;
mod workflow;
