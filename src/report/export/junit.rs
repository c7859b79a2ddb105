//! `report.junit.xml`: the run as JUnit XML, which CI systems (Jenkins,
//! GitLab, GitHub's test reporters) show as tests. One testsuite for the
//! album; a testcase per track and per album check; a `<failure>` per
//! failed check, its id as the type and its words as the message. Warnings
//! are the testcase's `<system-out>`.

use std::fmt::Write;

use super::Exporter;
use super::svg::esc;
use crate::qc::{Check, Severity};
use crate::report::Report;

pub struct JunitExporter;

fn failures(checks: &[Check]) -> usize {
    checks.iter().filter(|c| c.severity == Severity::Fail).count()
}

fn testcase(s: &mut String, classname: &str, name: &str, checks: &[Check]) {
    let _ = write!(s, r#"    <testcase classname="{}" name="{}">"#, esc(classname), esc(name));
    for c in checks.iter().filter(|c| c.severity == Severity::Fail) {
        let _ = write!(
            s,
            r#"<failure type="{}" message="{}">{}: {}</failure>"#,
            c.id,
            esc(&c.message),
            c.id,
            esc(&c.message)
        );
    }
    let warnings: Vec<String> = (checks.iter())
        .filter(|c| c.severity == Severity::Warn)
        .map(|c| format!("warn {}: {}", c.id, c.message))
        .collect();
    if !warnings.is_empty() {
        let _ = write!(s, "<system-out>{}</system-out>", esc(&warnings.join("\n")));
    }
    s.push_str("</testcase>\n");
}

impl Exporter for JunitExporter {
    fn file_name(&self) -> &'static str {
        "report.junit.xml"
    }

    fn render(&self, r: &Report) -> String {
        let tests = r.tracks.len() + r.checks.len();
        let failed = r.tracks.iter().map(|t| failures(&t.checks)).sum::<usize>() + failures(&r.checks);
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(s, r#"<testsuites name="lathe" tests="{tests}" failures="{failed}">"#);
        let _ = writeln!(
            s,
            r#"  <testsuite name="{}" tests="{tests}" failures="{failed}" errors="0" skipped="0">"#,
            esc(&r.album.title)
        );
        let suite = format!("lathe.{}", r.album.title);
        for t in &r.tracks {
            testcase(&mut s, &suite, &format!("track {:02} {}", t.index, t.title), &t.checks);
        }
        for c in &r.checks {
            testcase(&mut s, &suite, &format!("album {}", c.id), std::slice::from_ref(c));
        }
        s.push_str("  </testsuite>\n</testsuites>\n");
        s
    }
}
