//! The test suite, one binary (it links once), one file per subject:
//!
//! - the client, by subject: `operations` (every operation against the vendor's examples),
//!   `config`, `environment` (proxy and certificate variables, in child processes), `paths`
//!   (ids in paths), `retries` (and timeouts), `errors`, `tracing`, `upload`, `download`, `wait`
//!   (and cancel), `pagination`, `request_files`, `results`, `tolerance`,
//!   `workflow`, `api_guarantees` (Send, Sync and 'static, checked by the compiler), `call_state`
//!   (no thread-local or global holds a call's state), `layering` (the hand-written files import
//!   in one direction);
//! - the spec: `spec_fidelity`, `audit`, `examples`, `contract` (the client against Prism serving
//!   the spec), `docs_drift` (the spec against the vendor's pages);
//! - the generator: `freshness`, `surface`, `mutation`, `drift` (realistic spec edits),
//!   `real_specs` (19 published specs), `semver` (`cargo xtask diff`'s verdicts, proven by the
//!   compiler);
//! - the docs: `readme` (every Rust block of the README run, every inline call checked, every
//!   relative link of the Markdown docs resolved);
//! - `fuzz_replay`: the fuzz targets' seeds and random inputs, through the same entry points;
//! - `doubles`: test doubles on 127.0.0.1 (a throwaway CA, an HTTPS server, proxies, upload
//!   servers that read slowly, stop, or never answer).

mod api_guarantees;
mod audit;
mod call_state;
mod config;
mod contract;
mod docs_drift;
mod doubles;
mod download;
mod drift;
mod environment;
mod errors;
mod examples;
mod fake;
mod freshness;
mod fuzz_replay;
mod job;
mod layering;
mod mutation;
mod operations;
mod pagination;
mod paths;
mod readme;
mod real_specs;
mod request_files;
mod results;
mod retries;
mod semver;
mod spec_fidelity;
mod surface;
mod tolerance;
mod tracing;
mod upload;
mod wait;
mod workflow;
