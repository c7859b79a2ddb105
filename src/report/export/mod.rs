//! The exporters: one file format each, behind one trait, and the registry
//! (`ReportFormat`) that `--report` picks from.

mod html;
mod json;
mod junit;
mod markdown;
mod svg;

use super::Report;

/// Turns a report into one file's contents.
pub trait Exporter {
    /// File name inside the output folder.
    fn file_name(&self) -> &'static str;
    fn render(&self, report: &Report) -> String;
}

/// The report files `lathe master` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Html,
    Markdown,
    /// JUnit XML, for CI systems.
    Junit,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 4] =
        [ReportFormat::Json, ReportFormat::Html, ReportFormat::Markdown, ReportFormat::Junit];

    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            ReportFormat::Json => Box::new(json::JsonExporter),
            ReportFormat::Html => Box::new(html::HtmlExporter),
            ReportFormat::Markdown => Box::new(markdown::MarkdownExporter),
            ReportFormat::Junit => Box::new(junit::JunitExporter),
        }
    }
}

impl std::str::FromStr for ReportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(ReportFormat::Json),
            "html" => Ok(ReportFormat::Html),
            "md" | "markdown" => Ok(ReportFormat::Markdown),
            "junit" => Ok(ReportFormat::Junit),
            _ => Err(format!("unknown report format `{s}` (expected json, html, md or junit)")),
        }
    }
}
