//! Reports: how findings look. Each printer is a sink that consumes the sorted findings and the
//! run's summary; nothing upstream knows about terminals or file formats.

mod human;
mod json;

pub use human::HumanReport;
pub use json::JsonReport;

use crate::check::Summary;
use crate::findings::Finding;

/// A printer of a finished check.
pub trait Report {
    /// Write `findings` (already in report order) and the `summary`.
    fn write(
        &self,
        out: &mut dyn std::io::Write,
        findings: &[Finding],
        summary: &Summary,
    ) -> std::io::Result<()>;
}
