//! `report.json`: the report as the JSON the README documents.

use super::Exporter;
use crate::report::Report;

pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn file_name(&self) -> &'static str {
        "report.json"
    }

    fn render(&self, report: &Report) -> String {
        let mut s = serde_json::to_string_pretty(report).expect("a report always serializes");
        s.push('\n');
        s
    }
}
