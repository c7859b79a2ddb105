//! The tonal match, graded by an independent measure: premasters made of
//! one tone at each 1/3-octave centre from 31.5 Hz to 16 kHz, each at a
//! level its "mix" gives it, and every tone read back from the written
//! master by least-squares projection (`oracle::tone_amplitude`), none of
//! lathe's spectrum code. Loudness and true peak by ffmpeg.

use std::path::{Path, PathBuf};

use crate::oracle;
use crate::reliability::wav;
use crate::sequence::report;
use crate::util::*;

const RATE: u32 = 44_100;
const SECONDS: usize = 12;

fn centres() -> Vec<f64> {
    (-15..=12).map(|k| 1000.0 * 10f64.powf(k as f64 / 10.0)).collect()
}

/// A premaster whose tone `k` sits at `profile(f)` dB (the reference is
/// flat); left and right differ in phase, so side has content too.
fn premaster(path: &Path, profile: impl Fn(f64) -> f64) {
    let fs = centres();
    let gains: Vec<f64> = fs.iter().map(|&f| 0.02 * 10f64.powf(profile(f) / 20.0)).collect();
    wav(path, 2, RATE, 24, RATE as usize * SECONDS, |i, c| {
        let t = i as f64 / RATE as f64;
        fs.iter()
            .zip(&gains)
            .enumerate()
            .map(|(k, (f, g))| g * (std::f64::consts::TAU * f * t + k as f64 * (1.3 + 0.6 * c as f64)).sin())
            .sum::<f64>() as f32
    });
}

/// Each tone's level in a file (dB), both channels' mean power.
fn tones(path: &Path) -> Vec<f64> {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
    let x: Vec<f32> = r.samples::<i32>().map(|s| s.unwrap() as f32 / scale).collect();
    let ch: Vec<Vec<f32>> = (0..2).map(|c| x.iter().skip(c).step_by(2).copied().collect()).collect();
    // The middle: away from the fades a match's filter would ring at.
    let (a, b) = (ch[0].len() / 4, 3 * ch[0].len() / 4);
    centres()
        .iter()
        .map(|&f| {
            let p: f64 =
                ch.iter().map(|c| oracle::tone_amplitude(&c[a..b], f, spec.sample_rate).powi(2)).sum();
            10.0 * (p / 2.0).log10()
        })
        .collect()
}

/// RMS of the difference in dB, its mean taken out.
fn distance(a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt()
}

/// A mix's level by frequency, dB.
type Profile = fn(f64) -> f64;

/// The four "mixes" of other balances than the reference's.
const MIXES: [(&str, Profile); 4] = [
    ("dark", |f| -3.0 * (f / 1000.0).log2().max(0.0)),
    ("bright", |f| 1.5 * (f / 1000.0).log2()),
    ("scooped", |f| -5.0 * (-((f / 800.0).log2() / 1.2).powi(2)).exp()),
    ("boomy", |f| 5.0 / (1.0 + (f / 150.0).powi(2))),
];

fn album(dir: &Path, chain: &str) -> PathBuf {
    let tracks: String =
        MIXES.iter().map(|(name, _)| format!("  - {{title: {name}, mix: {name}.wav}}\n")).collect();
    let manifest = dir.join("album.yaml");
    std::fs::write(
        &manifest,
        format!(
            "version: 1\nalbum: {{title: Match}}\ntarget: {{loudness_lufs: -18, true_peak_dbtp: -1, mode: track}}\n\
             chain: {chain}\ndeliverables: [{{name: wav, format: wav, bit_depth: 24}}]\ntracks:\n{tracks}"
        ),
    )
    .unwrap();
    manifest
}

fn masters(out: &Path) -> Vec<PathBuf> {
    MIXES
        .iter()
        .enumerate()
        .map(|(i, (name, _))| out.join(format!("wav/{:02} - {name}.wav", i + 1)))
        .collect()
}

#[test]
fn a_match_halves_the_distance_to_its_reference_on_target_and_under_the_ceiling() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    premaster(&dir.join("reference.wav"), |_| 0.0);
    for (name, profile) in MIXES {
        premaster(&dir.join(format!("{name}.wav")), profile);
    }
    let reference = tones(&dir.join("reference.wav"));
    let mut runs = Vec::new();
    for (name, chain) in [
        ("full", "{match: {reference: reference.wav}}"),
        ("half", "{match: {reference: reference.wav, amount: 0.5}}"),
    ] {
        let out = dir.join(name);
        let o = master_into(&album(dir, chain), &out, &[]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        runs.push(out);
    }
    let r = report(&runs[0]);
    for (i, (name, _)) in MIXES.iter().enumerate() {
        let pre = tones(&dir.join(format!("{name}.wav")));
        let (full, half) = (tones(&masters(&runs[0])[i]), tones(&masters(&runs[1])[i]));
        let (before, after) = (distance(&pre, &reference), distance(&full, &reference));
        assert!(after <= 0.5 * before, "{name}: {before:.2} dB → {after:.2} dB from the reference");
        // amount 0.5: between 35% and 70% of the whole correction.
        let share = distance(&half, &pre) / distance(&full, &pre);
        eprintln!(
            "{name}: {before:.2} dB → {after:.2} dB from the reference; amount 0.5 makes {:.0}% of it",
            share * 100.0
        );
        assert!((0.35..=0.70).contains(&share), "{name}: amount 0.5 made {:.0}% of it", share * 100.0);
        // No tone moved more than max_db (6), beyond the level.
        let moved: Vec<f64> = full.iter().zip(&pre).map(|(m, p)| m - p).collect();
        let mean = moved.iter().sum::<f64>() / moved.len() as f64;
        assert!(moved.iter().all(|d| (d - mean).abs() <= 6.5), "{name}: {moved:?}");
        let t = &r["tracks"][i]["tonal"];
        assert_eq!(t["reference"], "reference.wav");
        assert!(t["distance_after_db"].as_f64().unwrap() < t["distance_before_db"].as_f64().unwrap(), "{t}");
    }
    if have_ffmpeg("a_match_halves_the_distance_to_its_reference_on_target_and_under_the_ceiling") {
        for m in masters(&runs[0]) {
            let f = ffmpeg(std::slice::from_ref(&m));
            assert!((f.lufs + 18.0).abs() <= 0.2, "{}: {} LUFS", m.display(), f.lufs);
            assert!(f.tp <= -1.0 + 0.05, "{}: {} dBTP", m.display(), f.tp);
        }
    }
}

#[test]
fn the_album_as_reference_pulls_the_tracks_together() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (name, profile) in MIXES {
        premaster(&dir.join(format!("{name}.wav")), profile);
    }
    let spread = |out: &Path| -> f64 {
        let t: Vec<Vec<f64>> = masters(out).iter().map(|m| tones(m)).collect();
        // Each track's distance to the tracks' mean balance (in dB), averaged.
        let mean: Vec<f64> =
            (0..t[0].len()).map(|k| t.iter().map(|x| x[k]).sum::<f64>() / t.len() as f64).collect();
        t.iter().map(|x| distance(x, &mean)).sum::<f64>() / t.len() as f64
    };
    let (plain, matched) = (dir.join("plain"), dir.join("matched"));
    for (out, chain) in [(&plain, "{width: 1.0}"), (&matched, "{match: {reference: album}}")] {
        let o = master_into(&album(dir, chain), out, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let (before, after) = (spread(&plain), spread(&matched));
    eprintln!("the album's tonal spread: {before:.2} dB → {after:.2} dB");
    assert!(after <= 0.6 * before, "tonal spread {before:.2} dB → {after:.2} dB");
    let r = report(&matched);
    assert!(
        r["album"]["tonal_spread_db"].as_f64().unwrap()
            < report(&plain)["album"]["tonal_spread_db"].as_f64().unwrap()
    );
    assert_eq!(r["tracks"][0]["tonal"]["reference"], "album");
}

#[test]
fn a_reference_too_short_or_missing_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (name, profile) in MIXES {
        premaster(&dir.join(format!("{name}.wav")), profile);
    }
    wav(&dir.join("short.wav"), 2, RATE, 24, RATE as usize * 3, |i, _| (i as f32 * 0.01).sin() * 0.1);
    let out = dir.join("out");
    let o = master_into(&album(dir, "{match: {reference: short.wav}}"), &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("short.wav") && stderr(&o).contains("at least 10 s"), "{}", stderr(&o));
    assert!(!out.join("wav").exists(), "nothing written");
    let o = master_into(&album(dir, "{match: {reference: nowhere.wav}}"), &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("chain.match.reference: no such file: nowhere.wav"), "{}", stderr(&o));
}
