//! Quality control: checks in mastering language, and the reports.

pub mod checks;
pub mod html;
pub mod markdown;
pub mod report;
pub mod svg;
