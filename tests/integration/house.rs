//! The house rules, read from the source tree: files and functions small
//! enough to read, no import cycle between sibling modules, DSP below
//! everything else, and no platform math in the signal path (see
//! ARCHITECTURE.md). Test code is exempt from all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 450;
const MAX_FN_LINES: usize = 70;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()) {
            if e.is_dir() {
                stack.push(e);
            } else if e.extension().is_some_and(|x| x == "rs") {
                out.push(e);
            }
        }
    }
    out.sort();
    out
}

/// The library's own source files: `src/` and the workspace crates,
/// without the files that hold only tests.
fn source_files() -> Vec<PathBuf> {
    let mut files = rust_files(&root().join("src"));
    for krate in ["lathe-synth", "lathe-oracle"] {
        files.extend(rust_files(&root().join("crates").join(krate).join("src")));
    }
    files.retain(|f| f.file_name().is_some_and(|n| n != "tests.rs"));
    files
}

/// Net `{` minus `}` on a line (string contents included: format strings
/// balance their braces).
fn depth_change(line: &str) -> i64 {
    line.matches('{').count() as i64 - line.matches('}').count() as i64
}

/// Where the item starting at `lines[i]` ends (its closing brace, or its
/// `;` if it has no body).
fn item_end(lines: &[&str], i: usize) -> usize {
    let (mut depth, mut opened) = (0i64, false);
    for (j, l) in lines.iter().enumerate().skip(i) {
        depth += depth_change(l);
        opened |= l.contains('{');
        if (opened && depth <= 0) || (!opened && l.trim_end().ends_with(';')) {
            return j;
        }
    }
    lines.len() - 1
}

/// The file's lines without `#[cfg(test)]` items.
fn without_tests(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_start().starts_with("#[cfg(test)]") {
            i = item_end(&lines, i + 1) + 1;
        } else {
            out.push(lines[i]);
            i += 1;
        }
    }
    out
}

/// The name of the function a line declares, if it does.
fn declared_fn(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "unsafe ", "async ", "extern \"C\" "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let name = rest.strip_prefix("fn ")?;
    let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(name.len());
    Some(&name[..end])
}

fn relative(f: &Path) -> String {
    f.strip_prefix(root()).unwrap().display().to_string()
}

#[test]
fn no_file_or_function_is_too_long_to_read() {
    let mut found = Vec::new();
    for f in source_files() {
        let text = fs::read_to_string(&f).unwrap();
        let lines = without_tests(&text);
        if lines.len() > MAX_FILE_LINES {
            found.push(format!("{}: {} lines", relative(&f), lines.len()));
        }
        for (i, l) in lines.iter().enumerate() {
            if let Some(name) = declared_fn(l) {
                let n = item_end(&lines, i) - i + 1;
                if n > MAX_FN_LINES {
                    found.push(format!("{}: fn {name} is {n} lines", relative(&f)));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "over {MAX_FILE_LINES} lines a file or {MAX_FN_LINES} a function:\n{}",
        found.join("\n")
    );
}

/// The module path of a file under `src/`: `src/qc/id.rs` is `[qc, id]`.
fn module_path(f: &Path) -> Vec<String> {
    let rel = f.strip_prefix(root().join("src")).unwrap().with_extension("");
    let mut p: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    if matches!(p.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        p.pop();
    }
    p
}

/// The module paths a file names through `crate::` and `super::`.
/// (`super::` from `a/b.rs` and from `a/b/mod.rs` both name `a`.)
fn references(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (kind, base) in
        [("crate::", Vec::new()), ("super::", module[..module.len().saturating_sub(1)].to_vec())]
    {
        for (at, _) in text.match_indices(kind) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let mut path = base.clone();
            let mut rest = &text[at + kind.len()..];
            loop {
                let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
                if end == 0 || rest[..end] == *"super" {
                    break;
                }
                path.push(rest[..end].to_string());
                match rest[end..].strip_prefix("::") {
                    Some(r) => rest = r,
                    None => break,
                }
            }
            out.push(path);
        }
    }
    out
}

/// Edges between sibling modules: from `a/x` naming `a/y/...`, the edge
/// `a/x → a/y`.
fn sibling_edges() -> BTreeSet<(String, String)> {
    let mut edges = BTreeSet::new();
    for f in rust_files(&root().join("src")) {
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = fs::read_to_string(&f).unwrap();
        let text = without_tests(&text).join("\n");
        let from = module_path(&f);
        for to in references(&text, &from) {
            let k = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if k < from.len() && k < to.len() {
                edges.insert((from[..=k].join("/"), to[..=k].join("/")));
            }
        }
    }
    edges
}

#[test]
fn sibling_modules_never_import_each_other_in_a_cycle() {
    let edges = sibling_edges();
    assert!(edges.len() > 40, "the scan found only {} edges: is it reading the tree?", edges.len());
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in &edges {
        graph.entry(a).or_default().push(b);
    }
    let mut cycles = Vec::new();
    for (a, b) in &edges {
        // Is there a path back from b to a?
        let (mut seen, mut stack) = (BTreeSet::new(), vec![b.as_str()]);
        while let Some(x) = stack.pop() {
            if x == a {
                cycles.push(format!("{a} → {b} → … → {a}"));
                break;
            }
            if seen.insert(x) {
                stack.extend(graph.get(x).into_iter().flatten());
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles between siblings:\n{}", cycles.join("\n"));
}

#[test]
fn dsp_depends_on_nothing_above_it() {
    let above: Vec<_> =
        sibling_edges().into_iter().filter(|(a, b)| a == "dsp" && b != "error").map(|(_, b)| b).collect();
    assert!(above.is_empty(), "dsp imports {above:?}");
}

/// std's transcendental methods defer to the platform's C library, whose
/// last bits vary between machines; the signal path calls `dsp::math`.
#[test]
fn the_signal_path_uses_no_platform_math() {
    const METHODS: [&str; 12] = [
        ".exp(",
        ".ln(",
        ".log10(",
        ".log2(",
        ".powf(",
        ".sin(",
        ".cos(",
        ".tan(",
        ".sin_cos(",
        ".tanh(",
        ".atan(",
        ".atan2(",
    ];
    let mut dirs: Vec<PathBuf> =
        ["src/dsp", "src/render", "src/audio"].iter().map(|d| root().join(d)).collect();
    dirs.push(root().join("crates/lathe-synth/src"));
    let mut found = Vec::new();
    for f in dirs.iter().flat_map(|d| rust_files(d)) {
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = fs::read_to_string(&f).unwrap();
        for l in without_tests(&text) {
            let code = l.split("//").next().unwrap_or("");
            for m in METHODS.iter().filter(|m| code.contains(*m)) {
                found.push(format!(
                    "{}: {m}…) in `{}`: use dsp::math (libm in lathe-synth)",
                    relative(&f),
                    l.trim()
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
