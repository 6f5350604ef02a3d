//! `admit test`: declarative policy test suites.
//!
//! A test file (`admit-test.yaml`, or `NAME.admit-test.yaml`) names policies and cases; each
//! case gives the policies a manifest or a request and says what must come out: allowed,
//! rejected, skipped or an error, the message, the findings' `path:line:col` and ids, the
//! warnings, a mutation's patch. The format borrows from `kyverno test` (policies ×
//! resources × expected results), conftest's `verify` and the `kwctl test` proposal
//! (kubewarden/kwctl#1386: pass, skip, fail per policy and manifest, with context-aware
//! sessions); the schema is `admit-test.schema.json`.
//!
//! The flow, one module per step: `discover` finds the files, `read` turns each into a
//! `format::TestFile` (a mistake is a diagnostic at its line, `error`), `runner` runs every
//! case through admit's own check (`inline` makes a manifest written in the test file a file
//! whose nodes keep their offsets; `requests` evaluates a request as `admit run` does),
//! `verdict` compares what came out with what was expected, `update` writes what came out
//! back (`--update`), and `report` prints the `outcome`.

mod discover;
mod error;
mod format;
mod host_context;
mod inline;
mod outcome;
mod read;
pub(crate) mod report;
mod requests;
mod runner;
mod update;
mod verdict;

pub(crate) use discover::discover;
pub(crate) use error::TestFileError;
pub(crate) use format::TestFile;
pub(crate) use outcome::SuiteOutcome;
pub(crate) use read::read;
pub(crate) use runner::{RunOptions, run};
pub(crate) use update::update;
