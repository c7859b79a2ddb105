//! `lathe master` on the sample album: targets held on the written files.

use std::path::Path;

use crate::util::*;

fn report(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn album_mode_lands_the_pooled_album_on_target_and_keeps_relative_levels() {
    let (tmp, manifest) = album_with("album-mode", &sample_manifest());
    let out = tmp.path().join("out");
    let o = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    for title in ["Night Drive", "Slow Bloom", "Underpass", "Hot Wire", "Lanterns"] {
        assert!(text.contains(title), "summary table lists {title}:\n{text}");
    }

    let r = report(&out);
    let album = lathe::manifest::load(&manifest).unwrap();
    let mut gating = Vec::new();
    let mut changes = Vec::new();
    for (t, track) in r["tracks"].as_array().unwrap().iter().zip(&album.tracks) {
        let pre = f(&t["premaster"]["integrated_lufs"]);
        let pre_frames = (f(&t["premaster"]["duration_s"]) * f(&t["premaster"]["sample_rate"])).round();
        for o in t["outputs"].as_array().unwrap() {
            let path = out.join(o["path"].as_str().unwrap());
            let (audio, fmt) = lathe::audio::decode::decode(&path).unwrap();
            let (m, g) = lathe::dsp::loudness::measure(&audio.channels, audio.sample_rate).unwrap();
            assert!(m.true_peak_dbtp <= -1.0, "{}: {:.3} dBTP", path.display(), m.true_peak_dbtp);
            let want_frames = pre_frames * fmt.sample_rate as f64 / f(&t["premaster"]["sample_rate"]);
            // A track of an album image ends on the CD frame grid, padded with silence.
            let image = album.deliverables.iter().any(|d| {
                d.name == o["deliverable"].as_str().unwrap() && d.layout == lathe::manifest::Layout::Album
            });
            let pad = audio.frames() as f64 - want_frames;
            let grid = if image { (fmt.sample_rate / 75) as f64 } else { 0.0 };
            assert!((-1.0..=grid + 1.0).contains(&pad), "{}: length", path.display());
            if o["deliverable"] == "streaming" {
                gating.push(g);
                changes.push(m.integrated_lufs - pre - track.offset_lu);
            }
        }
    }
    let pooled = lathe::dsp::loudness::BlockEnergies::pooled_integrated(&gating.iter().collect::<Vec<_>>());
    assert!((pooled + 14.0).abs() <= 0.1, "album pooled {pooled:.3} LUFS");
    let spread =
        changes.iter().cloned().fold(f64::MIN, f64::max) - changes.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread <= 1.5, "loudness changes differ by {spread:.2} LU: {changes:?}");

    // Report contract keys.
    for key in ["schema_version", "passed", "album", "tracks", "checks"] {
        assert!(r.get(key).is_some(), "report.json lacks {key}");
    }
    for key in [
        "title",
        "mode",
        "target_lufs",
        "ceiling_dbtp",
        "integrated_lufs",
        "true_peak_dbtp",
        "loudness_spread_lu",
    ] {
        assert!(r["album"].get(key).is_some(), "album lacks {key}");
    }
    let t0 = &r["tracks"][0];
    for key in ["index", "title", "kind", "premaster", "master", "outputs", "checks"] {
        assert!(t0.get(key).is_some(), "track lacks {key}");
    }
    for key in ["integrated_lufs", "true_peak_dbtp", "lra_lu", "sample_rate", "bit_depth", "duration_s"] {
        assert!(t0["premaster"].get(key).is_some(), "premaster lacks {key}");
    }
    for key in ["integrated_lufs", "true_peak_dbtp", "lra_lu", "gain_db", "max_limiting_db"] {
        assert!(t0["master"].get(key).is_some(), "master lacks {key}");
    }
    for key in ["deliverable", "path", "integrated_lufs", "true_peak_dbtp"] {
        assert!(t0["outputs"][0].get(key).is_some(), "output lacks {key}");
    }
    assert_eq!(r["tracks"][4]["kind"], "stems");
    assert!(r["tracks"][0]["checks"].as_array().unwrap().iter().any(|c| c["id"] == "premaster.headroom"));
}

#[test]
fn track_mode_puts_every_master_on_target_plus_offset() {
    let text = sample_manifest().replace("mode: album", "mode: track");
    let (tmp, manifest) = album_with("track-mode", &text);
    let out = tmp.path().join("out");
    let o = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let album = lathe::manifest::load(&manifest).unwrap();
    for track in &album.tracks {
        for d in &album.deliverables {
            let path = out.join(&d.name).join(album.file_name(track, d));
            let (m, _, _) = measure(&path);
            let want = -14.0 + track.offset_lu;
            assert!(
                (m.integrated_lufs - want).abs() <= 0.1,
                "{}: {:.3} LUFS, want {want}",
                path.display(),
                m.integrated_lufs
            );
            assert!(m.true_peak_dbtp <= -1.0, "{}: {:.3} dBTP", path.display(), m.true_peak_dbtp);
        }
    }
}

#[test]
fn outputs_are_bit_identical_whatever_the_job_count() {
    let (tmp, manifest) = album_with("determinism", &sample_manifest());
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    for (out, jobs) in [(&a, "1"), (&b, "2")] {
        let o = run(&[
            "master",
            manifest.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            jobs,
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let (fa, fb) = (files_under(&a), files_under(&b));
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        if x.extension().is_some_and(|e| e == "wav") {
            assert!(std::fs::read(x).unwrap() == std::fs::read(y).unwrap(), "{} differs", x.display());
        }
    }
}

#[test]
fn a_failed_check_exits_1_and_still_writes_masters_and_report() {
    // Night Drive peaks above -3 dBFS: promote the headroom warning to a failure.
    let text = sample_manifest()
        .replace("fail_on: [premaster.clipping, master.true_peak]", "fail_on: [premaster.headroom]");
    let (tmp, manifest) = album_with("qc-fail", &text);
    let out = tmp.path().join("out");
    let o = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(out.join("streaming/01 - Night Drive.wav").exists());
    let r = report(&out);
    assert_eq!(r["passed"], false);
    assert!(
        r["tracks"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "premaster.headroom" && c["severity"] == "fail")
    );
}

#[test]
fn the_loudest_anchor_puts_the_loudest_planned_track_on_target_offset_and_all() {
    // Night Drive, the loudest premaster, sits 1 LU under by its offset: it
    // is still the loudest as planned, and the anchor puts it on -14 LUFS.
    let text = sample_manifest().replace("  mode: album", "  mode: album\n  album_anchor: loudest");
    let (tmp, manifest) = album_with("loudest", &text);
    let out = tmp.path().join("out");
    let o = master_into(&manifest, &out, &["--report", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let r = report(&out);
    let night = &r["tracks"][0];
    assert!((f(&night["outputs"][0]["integrated_lufs"]) + 14.0).abs() <= 0.1, "{night}");
    let album_loudness: Vec<_> =
        r["checks"].as_array().unwrap().iter().filter(|c| c["id"] == "album.loudness").collect();
    assert!(album_loudness.is_empty(), "{album_loudness:?}");
}
