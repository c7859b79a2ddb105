//! Exit codes and error messages: bad input gets one line, exit 2, and nothing written.

use crate::util::*;
use std::collections::BTreeMap;

#[test]
fn a_manifest_error_exits_2_with_file_line_col_and_writes_nothing() {
    let text = sample_manifest().replace("    offset_lu: -2.0", "    ofset_lu: -2.0");
    let (tmp, manifest) = album_with("bad-key", &text);
    let o = run(&["master", manifest.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    let line = text.lines().position(|l| l.contains("ofset_lu")).unwrap() + 1;
    assert!(
        err.contains(&format!("album.yaml:{line}:5: tracks[1].ofset_lu: unknown key `ofset_lu`")),
        "{err}"
    );
    assert!(!tmp.path().join("masters").exists(), "nothing is written");
}

#[test]
fn a_missing_input_among_good_tracks_exits_2_naming_the_file_and_writes_nothing() {
    let text = sample_manifest().replace("mixes/03-underpass.wav", "mixes/03-missing.wav");
    let (tmp, manifest) = album_with("missing", &text);
    let out = tmp.path().join("out");
    let o = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("03-missing.wav") && err.contains("no such file"), "{err}");
    assert!(err.contains("tracks[2].mix") && err.contains("album.yaml:"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(files_under(&out).is_empty(), "nothing is written: {:?}", files_under(&out));
}

#[test]
fn every_missing_input_is_named_at_once_with_its_line_and_column() {
    let text = sample_manifest()
        .replace("mixes/02-slow-bloom.wav", "mixes/02-gone.wav")
        .replace("stems/05/bass.wav", "stems/05/gone.wav");
    let (tmp, manifest) = album_with("missing-two", &text);
    let out = tmp.path().join("out");
    for cmd in ["check", "master"] {
        let o = run(&[cmd, manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = stderr(&o);
        let located = |key: &str, file: &str| {
            err.lines().any(|l| {
                let rest = l.trim().strip_prefix(&format!("{}:", manifest.display())).unwrap_or("");
                let mut parts = rest.splitn(3, ':');
                let (line, col) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                line.parse::<usize>().is_ok()
                    && col.parse::<usize>().is_ok()
                    && l.contains(key)
                    && l.contains(file)
            })
        };
        assert!(located("tracks[1].mix", "02-gone.wav"), "{cmd}: {err}");
        assert!(located("tracks[4].stems[1].file", "gone.wav"), "{cmd}: {err}");
        assert!(files_under(&out).is_empty(), "nothing is written");
    }
}

#[test]
fn a_text_file_named_wav_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("notes.wav");
    std::fs::write(&bad, "these are session notes, not audio\n").unwrap();
    let o = run(&["analyze", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("notes.wav: not a readable audio file"), "{}", stderr(&o));
}

#[test]
fn bad_flags_exit_2() {
    assert_eq!(run(&["master"]).status.code(), Some(2));
    assert_eq!(run(&["master", "x.yaml", "--jobs", "lots"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    let (_tmp, manifest) = album_with("jobs0", &sample_manifest());
    let o = run(&["master", manifest.to_str().unwrap(), "--jobs", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--jobs must be at least 1"));
}

#[test]
fn an_output_that_would_overwrite_an_input_is_refused() {
    // A deliverable named `mixes` writing into the input folder, with a track titled like its input.
    let audio = sample_album();
    let tmp = tempfile::tempdir().unwrap();
    let mixes = tmp.path().join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    std::fs::copy(audio.join("mixes/01-night-drive.wav"), mixes.join("01 - Night Drive.wav")).unwrap();
    let before = std::fs::read(mixes.join("01 - Night Drive.wav")).unwrap();
    let manifest = tmp.path().join("album.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nalbum: {title: T}\ndeliverables: [{name: mixes}]\ntracks:\n  - {title: Night Drive, mix: mixes/01 - Night Drive.wav}\n",
    )
    .unwrap();
    let o = run(&["master", manifest.to_str().unwrap(), "--out", tmp.path().to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("would overwrite this input"), "{}", stderr(&o));
    assert_eq!(std::fs::read(mixes.join("01 - Night Drive.wav")).unwrap(), before);
}

#[test]
fn analyze_json_has_the_contract_shape_and_target_gates_ci() {
    let audio = sample_album();
    let a = audio.join("mixes/01-night-drive.wav");
    let b = audio.join("mixes/02-slow-bloom.wav");
    let o = run(&["analyze", "--json", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "path",
        "integrated_lufs",
        "lra_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "momentary_max_lufs",
        "short_term_max_lufs",
        "plr_db",
        "sample_rate",
        "bit_depth",
        "channels",
        "duration_s",
        "checks",
    ] {
        assert!(v["files"][0].get(key).is_some(), "files[0] lacks {key}");
    }
    assert!(v["album"]["integrated_lufs"].is_number() && v["album"]["lra_lu"].is_number());
    // The ballad's premaster sits near -26 LUFS: the streaming gate fails it.
    let o = run(&["analyze", "--target", "streaming", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("FAILED"));
    // A master made for that target passes it.
    let (tmp, manifest) = album_with("gate", &sample_manifest().replace("mode: album", "mode: track"));
    let out = tmp.path().join("out");
    let m = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(m.status.code(), Some(0), "{}", stderr(&m));
    let master = out.join("streaming/03 - Underpass.wav");
    let o = run(&["analyze", "--target", "streaming", master.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run(&["analyze", "--target", "no-such-preset", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn fuzzer_findings_stay_fixed() {
    // Inputs the fuzzers once broke lathe with (tests/fixtures/fuzz).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let o = run(&["check", dir.join("manifest-multiline-key.yaml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = run(&["analyze", dir.join("decode-absurd-sample-rate.wav").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("decode-absurd-sample-rate.wav: declares a sample rate of 2147527748 Hz"),
        "{}",
        stderr(&o)
    ); // A header claiming billions of frames must not make lathe reserve gigabytes.
    let o = run(&["analyze", dir.join("decode-huge-frame-count.wav").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("decode-huge-frame-count.wav: "), "{}", stderr(&o));
}

#[test]
fn a_malformed_isrc_or_a_wrong_upc_check_digit_exits_2_at_its_line_and_writes_nothing() {
    for (from, to, path, words) in [
        ("isrc: GB-EXA-26-00003", "isrc: GB-EXA-26-0003", "tracks[2].isrc", "is not an ISRC"),
        ("upc: \"036000291452\"", "upc: \"036000291453\"", "album.upc", "fails its check digit"),
    ] {
        let text = sample_manifest().replace(from, to);
        assert_ne!(text, sample_manifest(), "the sample manifest has `{from}`");
        let (tmp, manifest) = album_with("bad-code", &text);
        let out = tmp.path().join("out");
        let o = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        let line = text.lines().position(|l| l.contains(to)).unwrap() + 1;
        let column = text.lines().nth(line - 1).unwrap().find(to.split(':').next().unwrap()).unwrap() + 1;
        assert!(
            err.contains(&format!("album.yaml:{line}:{column}: {path}: ")) && err.contains(words),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(files_under(&out).is_empty() && !out.exists(), "nothing is written");
    }
}

#[test]
fn the_gate_holds_album_masters_as_an_album_and_judges_masters_as_masters() {
    let out = crate::report::mastered_sample();
    let masters: Vec<String> = (std::fs::read_dir(out.join("streaming")).unwrap())
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    let args = |extra: &[&str]| {
        let mut a = vec!["analyze", "--target", "streaming"];
        a.extend_from_slice(extra);
        a.extend(masters.iter().map(String::as_str));
        run(&a)
    };
    // The sample album is mastered in album mode: its tracks keep their
    // relative levels, and the album sits on the target.
    let album = args(&[]);
    assert_eq!(album.status.code(), Some(0), "{}", stdout(&album));
    assert!(stdout(&album).contains("info album.loudness"), "{}", stdout(&album));
    let track = args(&["--mode", "track"]);
    assert_eq!(track.status.code(), Some(1), "{}", stdout(&track));
    assert!(stdout(&track).contains("FAIL master.loudness"), "{}", stdout(&track));
    // Masters get no premaster advice unless asked.
    assert!(!stdout(&album).contains("premaster.headroom"), "{}", stdout(&album));
    let brief = args(&["--premaster"]);
    assert!(stdout(&brief).contains("premaster.headroom"), "{}", stdout(&brief));
    let json = args(&["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["target"]["mode"], "album");
    assert_eq!(v["checks"][0]["id"], "album.loudness");
}

#[test]
fn completions_print_a_script_and_the_man_page_renders() {
    let o = run(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let script = stdout(&o);
    assert!(script.contains("complete -F _lathe") && script.contains("analyze"), "{script}");
    for shell in ["zsh", "fish"] {
        assert!(run(&["completions", shell]).status.success(), "{shell}");
    }
    let man = stdout(&run(&["manpage"]));
    assert!(man.contains(".TH lathe 1") && man.contains("master"), "{man}");
}

#[test]
fn the_makefile_builds_and_runs_from_cargo_target_dir() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = std::process::Command::new("make")
        // -B: the whole plan, even where the sample audio is rendered already.
        .args(["-n", "-B", "demo"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", "/elsewhere/target")
        .output()
        .expect("make runs");
    let plan = stdout(&o);
    assert!(plan.contains("/elsewhere/target/release/lathe master sample_album/album.yaml"), "{plan}");
    assert!(plan.contains("/elsewhere/target/release/lathe-synth sample-album"), "{plan}");
    assert!(!plan.contains(" target/release/"), "{plan}");
}

#[test]
fn init_writes_a_manifest_from_a_folder_that_lathe_check_passes() {
    let audio = sample_album();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Night Drive");
    std::fs::create_dir_all(dir.join("03 Lanterns")).unwrap();
    std::fs::copy(audio.join("mixes/01-night-drive.wav"), dir.join("01 - Night Drive.wav")).unwrap();
    std::fs::copy(audio.join("mixes/02-slow-bloom.wav"), dir.join("02 - Slow Bloom.wav")).unwrap();
    for s in ["drums", "bass"] {
        std::fs::copy(audio.join(format!("stems/05/{s}.wav")), dir.join(format!("03 Lanterns/{s}.wav")))
            .unwrap();
    }
    std::fs::write(dir.join("notes.txt"), "not audio").unwrap();
    let o = run(&["init", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let manifest = dir.join("album.yaml");
    let album = lathe::manifest::load(&manifest).unwrap();
    let titles: Vec<&str> = album.tracks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Night Drive", "Slow Bloom", "Lanterns"]);
    assert_eq!(album.title, "Night Drive");
    assert!(matches!(&album.tracks[2].source, lathe::manifest::TrackSource::Stems(s) if s.len() == 2));
    let check = run(&["check", manifest.to_str().unwrap(), "--quiet"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", stdout(&check), stderr(&check));
    // An editor finds the schema through the modeline; it is `lathe schema`'s.
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=album.schema.json\n"), "{text}");
    let schema = std::fs::read_to_string(dir.join("album.schema.json")).unwrap();
    assert_eq!(schema, stdout(&run(&["schema"])));
    // Never over an existing manifest, unless asked.
    assert_eq!(run(&["init", dir.to_str().unwrap()]).status.code(), Some(2));
    assert_eq!(run(&["init", dir.to_str().unwrap(), "--force"]).status.code(), Some(0));
}

/// Each crate's features as `cargo tree` resolves them with the given edges,
/// for the crates every build compiles (`name version -> features`).
fn resolved_features(edges: &str) -> BTreeMap<String, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = std::process::Command::new(cargo)
        .args(["tree", "--workspace", "--prefix", "none", "-f", "{p}|{f}", "-e", edges])
        .current_dir(root)
        .output()
        .expect("cargo tree runs");
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .filter_map(|l| l.split_once('|'))
        .map(|(p, f)| {
            let name = p.split(" (").next().unwrap_or(p).to_string();
            (name, f.trim_end_matches(" (*)").to_string())
        })
        .collect()
}

/// `make test` reuses what `make demo` built: the dev-dependencies turn on no
/// feature of a crate the binaries share with them (were they to, cargo would
/// build that crate and all above it again for the tests).
#[test]
fn the_tests_resolve_the_same_features_as_the_build() {
    let build = resolved_features("normal,build");
    let test = resolved_features("normal,build,dev");
    let differ: Vec<String> = build
        .iter()
        .filter(|(name, f)| test.get(*name).is_some_and(|t| t != *f))
        .map(|(name, f)| format!("{name}: build [{f}], test [{}]", test[name]))
        .collect();
    assert!(
        differ.is_empty(),
        "turn these features on in Cargo.toml's [dependencies]:\n{}",
        differ.join("\n")
    );
}
