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

/// Validates YAML files against a JSON Schema with python-jsonschema, an
/// implementation by one of the specification's authors that shares no code
/// with lathe; prints, per file, the errors as `path: message`.
const VALIDATE: &str = "import sys, json, yaml, jsonschema\n\
    class Loader(yaml.SafeLoader): pass\n\
    # YAML 1.2, as lathe reads it: 2026-09-21 is text (PyYAML's 1.1 makes it a date).\n\
    Loader.yaml_implicit_resolvers = {k: [r for r in v if r[0] != 'tag:yaml.org,2002:timestamp']\n\
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}\n\
    schema = json.load(open(sys.argv[1]))\n\
    jsonschema.Draft7Validator.check_schema(schema)\n\
    v = jsonschema.Draft7Validator(schema)\n\
    # The errors inside each branch of an anyOf, as an editor shows the closest.\n\
    leaves = lambda e: [l for c in e.context for l in leaves(c)] if e.context else [e]\n\
    print(json.dumps([['/'.join(map(str, l.absolute_path)) + ': ' + l.message\n\
        for e in v.iter_errors(yaml.load(open(f), Loader=Loader)) for l in leaves(e)] for f in sys.argv[2:]]))\n";

#[test]
fn the_schema_accepts_the_sample_album_and_refuses_what_lathe_check_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = tmp.path().join("album.schema.json");
    let o = lathe().arg("schema").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&schema, &o.stdout).unwrap();
    let sample = std::fs::read_to_string(root.join("sample_album/album.yaml")).unwrap();
    let bad = |from: &str, to: &str| {
        assert!(sample.contains(from), "{from}");
        sample.replacen(from, to, 1)
    };
    let cases = [
        ("misspelled.yaml", bad("  mode: album", "  mdoe: album")),
        ("too-loud.yaml", bad("  mode: album", "  mode: album\n  loudness_lufs: -3")),
        ("unknown-id.yaml", bad("[premaster.clipping,", "[premaster.cliping,")),
    ];
    let mut files = vec![root.join("sample_album/album.yaml")];
    for (name, text) in &cases {
        files.push(tmp.path().join(name));
        std::fs::write(files.last().unwrap(), text).unwrap();
        // lathe check refuses each too, at the key the schema names.
        let check = lathe().args(["check", files.last().unwrap().to_str().unwrap()]).output().unwrap();
        assert_eq!(check.status.code(), Some(2), "{name}: {}", stderr(&check));
    }
    let mut args: Vec<&std::path::Path> = vec![&schema];
    args.extend(files.iter().map(|f| f.as_path()));
    let test = "the_schema_accepts_the_sample_album_and_refuses_what_lathe_check_refuses";
    let Some(o) = python(test, "yaml, jsonschema", "python3-yaml python3-jsonschema", VALIDATE, &args) else {
        return;
    };
    let errors: Vec<Vec<String>> = serde_json::from_slice(&o.stdout).unwrap();
    assert!(errors[0].is_empty(), "the sample album: {:?}", errors[0]);
    assert!(errors[1].iter().any(|e| e.contains("'mdoe' was unexpected")), "{:?}", errors[1]);
    assert!(
        errors[2].iter().any(|e| e.starts_with("target/loudness_lufs:") && e.contains("maximum")),
        "{:?}",
        errors[2]
    );
    assert!(
        errors[3].iter().any(|e| e.starts_with("qc/fail_on/0: 'premaster.cliping' is not one of")),
        "{:?}",
        errors[3]
    );
}
