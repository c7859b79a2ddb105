//! What CI systems read: JUnit XML and GitHub's workflow annotations,
//! checked against report.json's own failed checks.

use crate::reliability::{music, wav};
use crate::sequence::{padded, report};
use crate::util::*;

#[test]
fn junit_and_github_annotations_carry_every_failed_check_at_its_manifest_line() {
    let tmp = tempfile::tempdir().unwrap();
    padded(&tmp.path().join("long.wav"), 44_100, 0.0, 6.0, 0.0, 0);
    // Peaks near full scale: the headroom warning, failed by `fail_on`.
    wav(&tmp.path().join("hot.wav"), 2, 44_100, 24, 44_100 * 6, |i, c| 1.9 * music(i, c, 44_100));
    padded(&tmp.path().join("short.wav"), 44_100, 0.0, 3.0, 0.0, 99);
    let manifest = tmp.path().join("album.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nalbum: {title: T}\ntarget: {mode: track}\n\
         deliverables: [{name: cd, sample_rate: 44100, bit_depth: 16, layout: album}]\n\
         tracks:\n  - {title: Long, mix: long.wav}\n  - {title: Hot, mix: hot.wav}\n  - {title: Short, mix: short.wav}\n\
         qc: {fail_on: [premaster.headroom]}\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = lathe()
        .args(["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--report", "json,junit"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = report(&out);
    let failed_in = |checks: &serde_json::Value| {
        checks.as_array().unwrap().iter().filter(|c| c["severity"] == "fail").count()
    };
    let failed = r["tracks"].as_array().unwrap().iter().map(|t| failed_in(&t["checks"])).sum::<usize>()
        + failed_in(&r["checks"]);
    assert!(failed >= 2, "a headroom failure and the Red Book's: {failed}");
    let xml = std::fs::read_to_string(out.join("report.junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("failure")).collect();
    assert_eq!(failures.len(), failed, "{xml}");
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    assert_eq!(suite.attribute("failures"), Some(failed.to_string().as_str()));
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name("testcase")).count(),
        3 + r["checks"].as_array().unwrap().len()
    );
    assert!(failures.iter().any(|f| f.attribute("type") == Some("album.red_book")));
    // Annotations: the headroom failure on track 2's line (line 7), the Red Book's on the album's (line 2).
    let text = stdout(&o);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), failed, "{text}");
    assert!(errors.iter().any(|l| l.contains(",line=7,title=premaster.headroom::")), "{text}");
    assert!(errors.iter().any(|l| l.contains(",line=2,title=album.red_book::")), "{text}");
    assert!(errors.iter().all(|l| l.contains(&format!("file={}", manifest.display()).replace(':', "%3A"))));
}
