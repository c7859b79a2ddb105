//! Mastering judgment, graded by meters that share no code with lathe:
//! ffmpeg's `ebur128` filter for loudness, loudness range and true peak,
//! and the 16x reference interpolator of `oracle` for the ceiling.
//!
//! The hard cases are built from the sample album's synthesized songs: a
//! quiet intro before a dense body peaking near 0 dBFS, a very quiet and
//! dynamic track, a dense one squeezed by a fast compressor, and ordinary ones.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::oracle::{db, reference_true_peak};
use crate::util::*;

/// Writes stereo 24-bit WAV.
fn write_wav(path: &Path, rate: u32, ch: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..ch[0].len() {
        for c in ch {
            w.write_sample((c[i].clamp(-1.0, 1.0) as f64 * 8_388_607.0).round() as i32).unwrap();
        }
    }
    w.finalize().unwrap();
}

fn read(path: &Path) -> (Vec<Vec<f32>>, u32) {
    let (audio, _) = lathe::audio::decode::decode(path).unwrap();
    let rate = audio.sample_rate;
    (audio.into_stereo().into_channels(), rate)
}

fn scaled(x: &[Vec<f32>], gain_db: f64) -> Vec<Vec<f32>> {
    let g = 10f64.powf(gain_db / 20.0) as f32;
    x.iter().map(|c| c.iter().map(|v| v * g).collect()).collect()
}

fn peak_db(x: &[Vec<f32>]) -> f64 {
    db(x.iter().flatten().fold(0f32, |m, v| m.max(v.abs())) as f64)
}

/// The hard-case album: files in `dir`, and its tracks as manifest lines.
fn hard_cases(dir: &Path) -> String {
    let mixes = sample_album().join("mixes");
    let (bloom, rate) = read(&mixes.join("02-slow-bloom.wav"));
    let (night, _) = read(&mixes.join("01-night-drive.wav"));
    let (hot, _) = read(&mixes.join("04-hot-wire.wav"));
    // A quiet intro (the ballad 14 dB down), then a dense body peaking at -0.3 dBFS.
    let body = scaled(&night, -0.3 - peak_db(&night));
    let intro = scaled(&bloom, -14.0);
    let joined: Vec<Vec<f32>> =
        intro.iter().zip(&body).map(|(a, b)| a.iter().chain(b).copied().collect()).collect();
    write_wav(&dir.join("intro-body.wav"), rate, &joined);
    // Very quiet and dynamic: the ballad around -32 LUFS.
    let (m, _) = lathe::dsp::loudness::measure(&bloom, rate).unwrap();
    write_wav(&dir.join("quiet.wav"), rate, &scaled(&bloom, -32.0 - m.integrated_lufs));
    // Dense: squeezed by a fast 10:1 compressor, peaking at -1 dBFS.
    let mut dense = hot.clone();
    let c = lathe::dsp::compressor::CompressorSettings {
        threshold_db: -30.0,
        ratio: 10.0,
        attack_ms: 1.0,
        release_ms: 40.0,
        knee_db: 0.0,
        makeup_db: 0.0,
        sidechain_hpf_hz: None,
    };
    let (l, r) = dense.split_at_mut(1);
    lathe::dsp::compressor::process(&c, rate, &mut l[0], &mut r[0]);
    write_wav(&dir.join("dense.wav"), rate, &scaled(&dense, -1.0 - peak_db(&dense)));
    let under = mixes.join("03-underpass.wav");
    format!(
        "  - {{title: Intro Body, mix: intro-body.wav}}\n  - {{title: Quiet, mix: quiet.wav}}\n  - {{title: Dense, mix: dense.wav}}\n  - {{title: Underpass, mix: '{}'}}\n  - {{title: Hot Wire, mix: '{}'}}\n",
        under.display(),
        mixes.join("04-hot-wire.wav").display()
    )
}

struct Graded {
    report: Value,
    /// Per track: premaster and first master, by ffmpeg.
    pre: Vec<Ffmpeg>,
    master: Vec<Ffmpeg>,
    masters: Vec<PathBuf>,
}

fn master_album(dir: &Path, name: &str, tracks: &str, target: &str) -> Graded {
    let manifest = dir.join(format!("{name}.yaml"));
    let out = dir.join(format!("out-{name}"));
    std::fs::write(
        &manifest,
        format!("version: 1\nalbum: {{title: Hard Cases}}\ntarget: {{loudness_lufs: -14, true_peak_dbtp: -1, {target}}}\ntracks:\n{tracks}"),
    )
    .unwrap();
    let o = master_into(&manifest, &out, &["--report", "json"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}{}", stdout(&o), stderr(&o));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let tracks = report["tracks"].as_array().unwrap();
    let pre = tracks
        .iter()
        .map(|t| {
            let p = t["premaster"]["path"].as_str().unwrap();
            ffmpeg(&[if Path::new(p).is_absolute() { PathBuf::from(p) } else { dir.join(p) }])
        })
        .collect();
    let masters: Vec<PathBuf> =
        tracks.iter().map(|t| out.join(t["outputs"][0]["path"].as_str().unwrap())).collect();
    let master = masters.iter().map(|m| ffmpeg(std::slice::from_ref(m))).collect();
    Graded { report, pre, master, masters }
}

fn checks<'a>(v: &'a Value, id: &str) -> Vec<&'a Value> {
    v["checks"].as_array().unwrap().iter().filter(|c| c["id"] == id).collect()
}

/// Every master: at most 2 LU of loudness range lost, and at or under the
/// ceiling by ffmpeg and by the 16x reference.
fn grade_music_and_ceiling(g: &Graded) {
    for (i, t) in g.report["tracks"].as_array().unwrap().iter().enumerate() {
        let (pre, m) = (g.pre[i], g.master[i]);
        assert!(pre.lra - m.lra <= 2.0, "{}: LRA {:.1} -> {:.1} LU", t["title"], pre.lra, m.lra);
        assert!(m.tp <= -1.0, "{}: {:.2} dBTP by ffmpeg", t["title"], m.tp);
        let (x, _) = read(&g.masters[i]);
        let tp = x.iter().map(|c| db(reference_true_peak(c))).fold(f64::NEG_INFINITY, f64::max);
        assert!(tp <= -1.0, "{}: {tp:.3} dBTP by the reference", t["title"]);
        let budget = &t["master"]["limiting_budget"];
        assert!(
            t["master"]["sustained_limiting_db"].as_f64().unwrap()
                <= budget["sustained_db"].as_f64().unwrap() + 1e-6
        );
        assert!(
            t["master"]["max_limiting_db"].as_f64().unwrap() <= budget["peak_db"].as_f64().unwrap() + 0.01
        );
    }
}

#[test]
fn track_mode_reaches_each_target_or_says_where_it_stopped() {
    if !have_ffmpeg("track_mode_reaches_each_target_or_says_where_it_stopped") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tracks = hard_cases(dir.path());
    let g = master_album(dir.path(), "track", &tracks, "mode: track");
    grade_music_and_ceiling(&g);
    for (i, t) in g.report["tracks"].as_array().unwrap().iter().enumerate() {
        let m = g.master[i];
        let short = checks(t, "master.loudness");
        if (m.lufs + 14.0).abs() > 0.1 {
            let c = short
                .first()
                .unwrap_or_else(|| panic!("{}: {:.2} LUFS and no master.loudness", t["title"], m.lufs));
            assert_eq!(c["severity"], "warn");
            let msg = c["message"].as_str().unwrap();
            let reached = t["master"]["integrated_lufs"].as_f64().unwrap();
            assert!(msg.contains(&format!("reaches {reached:.1} LUFS")), "{msg}");
            assert!(
                (reached - m.lufs).abs() <= 0.1,
                "{}: report says {reached:.2}, ffmpeg {:.2}",
                t["title"],
                m.lufs
            );
        }
    }
}

#[test]
fn a_loud_target_stops_at_the_budget_and_says_why() {
    if !have_ffmpeg("a_loud_target_stops_at_the_budget_and_says_why") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tracks = hard_cases(dir.path());
    let manifest = dir.path().join("loud.yaml");
    std::fs::write(
        &manifest,
        format!("version: 1\nalbum: {{title: Loud}}\ntarget: {{loudness_lufs: -8, true_peak_dbtp: -1, mode: track}}\ntracks:\n{tracks}"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = master_into(&manifest, &out, &["--report", "json"]);
    assert_eq!(o.status.code(), Some(0), "warnings only: {}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("LU short of its target"), "{}", stdout(&o));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let mut bounded = 0;
    for t in report["tracks"].as_array().unwrap() {
        let path = out.join(t["outputs"][0]["path"].as_str().unwrap());
        let m = ffmpeg(&[path]);
        assert!(m.tp <= -1.0, "{}: {:.2} dBTP", t["title"], m.tp);
        if t["master"]["limited_by"] != "target" {
            bounded += 1;
            let c = checks(t, "master.loudness");
            let msg = c[0]["message"].as_str().unwrap();
            assert!(msg.contains("the budget is") || msg.contains("maximum"), "{msg}");
            assert!(msg.contains("Raise") || msg.contains("raise"), "a remedy: {msg}");
        }
    }
    assert!(bounded >= 3, "-8 LUFS is past the budget of most of these tracks");
}

#[test]
fn album_mode_keeps_relative_levels_and_names_what_holds_it_back() {
    if !have_ffmpeg("album_mode_keeps_relative_levels_and_names_what_holds_it_back") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tracks = hard_cases(dir.path());
    for (name, target) in [("pooled", "mode: album"), ("loudest", "mode: album, album_anchor: loudest")] {
        let g = master_album(dir.path(), name, &tracks, target);
        grade_music_and_ceiling(&g);
        let changes: Vec<f64> = g.pre.iter().zip(&g.master).map(|(p, m)| m.lufs - p.lufs).collect();
        let spread = changes.iter().cloned().fold(f64::MIN, f64::max)
            - changes.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread <= 1.0, "{target}: per-track changes vary by {spread:.2} LU: {changes:?}");
        let album_checks = checks(&g.report, "album.loudness");
        let measured = if target.contains("loudest") {
            // The loudest premaster (no offsets here) carries the anchor.
            let k = (0..g.pre.len()).max_by(|&a, &b| g.pre[a].lufs.total_cmp(&g.pre[b].lufs)).unwrap();
            g.master[k].lufs
        } else {
            ffmpeg(&g.masters).lufs
        };
        if (measured + 14.0).abs() > 0.1 {
            let c = album_checks
                .first()
                .unwrap_or_else(|| panic!("{target}: album at {measured:.2} LUFS, no album.loudness"));
            let msg = c["message"].as_str().unwrap();
            assert!(msg.contains("holds it back") && msg.contains("offset_lu"), "{msg}");
            let held = &g.report["album"]["held_back_by"];
            assert!(msg.contains(held["title"].as_str().unwrap()), "{msg}");
        } else {
            assert!(album_checks.is_empty(), "{target}: {album_checks:?}");
        }
    }
}

#[test]
fn pathological_inputs_hold_the_ceiling_or_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rate = 48000u32;
    let n = rate as usize * 6;
    let mut click = vec![vec![0f32; n]; 2];
    click[0][n / 2] = 0.5;
    click[1][n / 2] = 0.5;
    let dc = vec![vec![0.25f32; n]; 2];
    let mut state = 3u32;
    let mut noise = || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state as f32 / u32::MAX as f32 - 0.5) * 0.006
    };
    let near: Vec<Vec<f32>> = (0..2).map(|_| (0..n).map(|_| noise()).collect()).collect();
    for (name, x) in [("click", &click), ("dc", &dc), ("near-silence", &near)] {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(dir.path().join(format!("{name}.wav")), spec).unwrap();
        for (l, r) in x[0].iter().zip(&x[1]) {
            w.write_sample(*l).unwrap();
            w.write_sample(*r).unwrap();
        }
        w.finalize().unwrap();
    }
    let manifest = dir.path().join("album.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nalbum: {title: P}\ntarget: {loudness_lufs: -9, true_peak_dbtp: -1, mode: track}\ndeliverables: [{name: f, bit_depth: 32}, {name: cd, sample_rate: 44100, bit_depth: 16}]\ntracks:\n  - {title: click, mix: click.wav}\n  - {title: dc, mix: dc.wav}\n  - {title: near, mix: near-silence.wav}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = master_into(&manifest, &out, &["--report", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let ffmpeg_here = have_ffmpeg("pathological_inputs_hold_the_ceiling_or_are_refused (ffmpeg part)");
    for t in report["tracks"].as_array().unwrap() {
        let gain = t["master"]["gain_db"].as_f64().unwrap();
        assert!(gain <= 24.0, "{}: {gain} dB of gain", t["title"]);
        for o in t["outputs"].as_array().unwrap() {
            let path = out.join(o["path"].as_str().unwrap());
            let (x, _) = read(&path);
            let tp = x.iter().map(|c| db(reference_true_peak(c))).fold(f64::NEG_INFINITY, f64::max);
            assert!(tp <= -1.0, "{}: {tp:.3} dBTP by the reference", path.display());
            if ffmpeg_here {
                let m = ffmpeg(std::slice::from_ref(&path));
                assert!(m.tp <= -1.0, "{}: {:.2} dBTP by ffmpeg", path.display(), m.tp);
            }
        }
    }
    // A track target above 0 LUFS through offset_lu is refused before anything is written.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "version: 1\nalbum: {title: P}\ntracks:\n  - {title: click, mix: click.wav, offset_lu: 20}\n",
    )
    .unwrap();
    let out2 = dir.path().join("out2");
    let o = run(&["master", bad.to_str().unwrap(), "--out", out2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bad.yaml:4:36: tracks[0].offset_lu") && err.contains("too loud"), "{err}");
    assert!(!out2.exists(), "nothing is written");
}
