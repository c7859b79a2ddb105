//! GitHub Actions workflow commands: each failed check as an `::error`,
//! each warning as a `::warning`, pointing at the manifest line of the
//! track it concerns (album checks at the album's), so a pull request shows
//! them on the manifest.

use std::path::Path;

use super::Report;
use crate::qc::{Check, Severity};

/// A workflow command's message: `%`, CR and LF escaped.
fn message(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn property(text: &str) -> String {
    message(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(out: &mut String, file: &str, line: usize, c: &Check) {
    let kind = match c.severity {
        Severity::Fail => "error",
        Severity::Warn => "warning",
        Severity::Info => return,
    };
    out.push_str(&format!(
        "::{kind} file={},line={line},title={}::{}\n",
        property(file),
        property(c.id.as_str()),
        message(&c.message)
    ));
}

/// The annotations of `report`: `track_lines` are the manifest lines of
/// its tracks, in order; `album_line` the line album checks point at.
pub fn annotations(report: &Report, manifest: &Path, track_lines: &[usize], album_line: usize) -> String {
    let file = manifest.display().to_string();
    let mut out = String::new();
    for (t, &line) in report.tracks.iter().zip(track_lines) {
        for c in &t.checks {
            command(&mut out, &file, line, c);
        }
    }
    for c in &report.checks {
        command(&mut out, &file, album_line, c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped_as_github_reads_them() {
        assert_eq!(message("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
