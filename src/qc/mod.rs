//! Quality control: checks in mastering language, and the reports.

pub mod checks;
pub mod report;
