//! The `cerebras-batch` command, run as a person or a cron job runs it, against the mock crate's
//! stateful fake API on 127.0.0.1 (`cerebras_batch_mock::FakeApi`).
//!
//! - `submit`: small and 120,000-line runs, a batch that fails, bad input, cron-style runs;
//! - `resume`: runs killed at every step (fault points and real kills) and Ctrl-C, each resumed
//!   with nothing uploaded or created twice;
//! - `commands`: `status`, `list`, `cancel`, `download` and `files`, as tables and `--json`;
//! - `terminal`: the progress display in a real terminal (tmux), and its absence in a pipe;
//! - `defects`: regression tests of what a new user met (lookups on a 5xx, outputs that
//!   cannot be written, duplicate ids, a mistyped base URL, two runs on one output).

mod commands;
mod common;
mod contract;
mod defects;
mod resume;
mod submit;
mod terminal;
