//! The report: its model, the exporters that write it as files, and the
//! tables printed on a terminal.

pub(crate) mod export;
pub mod github;
mod model;
pub mod text;

pub use export::{Exporter, ReportFormat};
pub use model::*;
