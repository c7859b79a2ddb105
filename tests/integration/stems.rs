//! Stem mastering: the mix-down nulls against a premix computed here.

use std::path::Path;

use crate::util::*;

const RATE: u32 = 48000;

fn write_wav(path: &Path, ch: &[Vec<f32>], bits: u16) {
    let spec = hound::WavSpec {
        channels: ch.len() as u16,
        sample_rate: RATE,
        bits_per_sample: bits,
        sample_format: if bits == 32 { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..ch[0].len() {
        for c in ch {
            if bits == 32 {
                w.write_sample(c[i]).unwrap();
            } else {
                w.write_sample((c[i] as f64 * 8_388_608.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32)
                    .unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

fn read_float(path: &Path) -> Vec<Vec<f32>> {
    lathe::audio::decode::decode(path).unwrap().0.channels
}

/// Four stems of a synthesized song written as 24-bit WAVs; returns them as the files hold them.
fn stems(dir: &Path, seconds: f64) -> Vec<Vec<Vec<f32>>> {
    let song = lathe_synth::Song { seconds, ..lathe_synth::sample_album_songs()[2].clone() };
    let rendered = lathe_synth::render_stems(&song, RATE);
    lathe_synth::STEM_NAMES
        .iter()
        .zip(rendered)
        .map(|(name, st)| {
            let p = dir.join(format!("{name}.wav"));
            write_wav(&p, &st, 24);
            read_float(&p)
        })
        .collect()
}

/// The premix as the pan law defines it, computed independently: gain, polarity, pan, sum.
fn premix(stems: &[Vec<Vec<f32>>], settings: &[(f64, f64, bool, bool)]) -> Vec<Vec<f32>> {
    let n = stems[0][0].len();
    let mut out = vec![vec![0f64; n]; 2];
    for (st, &(gain_db, pan, mute, inverted)) in stems.iter().zip(settings) {
        if mute {
            continue;
        }
        let g = 10f64.powf(gain_db / 20.0) * if inverted { -1.0 } else { 1.0 };
        let theta = (pan + 1.0) * std::f64::consts::PI / 4.0;
        let pans = [2f64.sqrt() * theta.cos(), 2f64.sqrt() * theta.sin()];
        for c in 0..2 {
            for (o, &x) in out[c].iter_mut().zip(&st[c]) {
                *o += x as f64 * g * pans[c];
            }
        }
    }
    out.into_iter().map(|c| c.into_iter().map(|x| x as f32).collect()).collect()
}

fn manifest(stem_lines: &str) -> String {
    format!(
        "version: 1\nalbum: {{title: Stems}}\ntarget: {{loudness_lufs: -14, true_peak_dbtp: -1, mode: track}}\n\
         deliverables: [{{name: float, bit_depth: 32, dither: none}}]\ntracks:\n  - title: Premix\n    mix: premix.wav\n  - title: Stems\n    stems:\n{stem_lines}"
    )
}

fn residual_db(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    let (mut sig, mut err) = (0f64, 0f64);
    for (ca, cb) in a.iter().zip(b) {
        assert_eq!(ca.len(), cb.len());
        for (&x, &y) in ca.iter().zip(cb) {
            sig += (x as f64).powi(2);
            err += (x as f64 - y as f64).powi(2);
        }
    }
    10.0 * (err / sig).log10()
}

fn null_test(settings: [(f64, f64, bool, bool); 4]) {
    let tmp = tempfile::tempdir().unwrap();
    let files = stems(tmp.path(), 12.0);
    write_wav(&tmp.path().join("premix.wav"), &premix(&files, &settings), 32);
    let lines: String = lathe_synth::STEM_NAMES
        .iter()
        .zip(settings)
        .map(|(name, (g, p, m, inv))| {
            format!(
                "      - {{name: {name}, file: {name}.wav, gain_db: {g}, pan: {p}, mute: {m}, polarity: {}}}\n",
                if inv { "inverted" } else { "normal" }
            )
        })
        .collect();
    std::fs::write(tmp.path().join("album.yaml"), manifest(&lines)).unwrap();
    let out = tmp.path().join("out");
    let o = run(&[
        "master",
        tmp.path().join("album.yaml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let a = read_float(&out.join("float/01 - Premix.wav"));
    let b = read_float(&out.join("float/02 - Stems.wav"));
    let r = residual_db(&a, &b);
    eprintln!("stems null residual: {r:.1} dB for {settings:?}");
    assert!(r <= -90.0, "{settings:?}: null residual {r:.1} dB");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["tracks"][1]["kind"], "stems");
    assert_eq!(report["tracks"][1]["stems"].as_array().unwrap().len(), 4);
}

#[test]
fn unity_stems_null_against_the_premix() {
    null_test([(0.0, 0.0, false, false); 4]);
}

#[test]
fn gain_pan_mute_and_polarity_null_against_an_independent_premix() {
    null_test([
        (-3.0, 0.4, false, false),
        (2.0, -1.0, false, true),
        (0.0, 0.0, true, false),
        (1.5, 0.75, false, false),
    ]);
}

#[test]
fn stems_at_different_rates_are_refused_naming_both() {
    let tmp = tempfile::tempdir().unwrap();
    stems(tmp.path(), 2.0);
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(tmp.path().join("bass.wav"), spec).unwrap();
    for i in 0..88200 {
        w.write_sample(((i as f32 * 0.05).sin() * 8000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let lines = "      - {name: drums, file: drums.wav}\n      - {name: bass, file: bass.wav}\n";
    let text = manifest(lines).replace("  - title: Premix\n    mix: premix.wav\n", "");
    std::fs::write(tmp.path().join("album.yaml"), text).unwrap();
    let o = run(&["check", tmp.path().join("album.yaml").to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("bass.wav: is at 44100 Hz but") && err.contains("drums.wav is at 48000 Hz"),
        "{err}"
    );
}

#[test]
fn stem_checks_length_silence_clipping_and_a_hot_sum() {
    let tmp = tempfile::tempdir().unwrap();
    let files = stems(tmp.path(), 6.0);
    // Shorter bass, a silent "pad" stem, a clipped and hot "lead".
    let short: Vec<Vec<f32>> = files[1].iter().map(|c| c[..c.len() - RATE as usize].to_vec()).collect();
    write_wav(&tmp.path().join("bass.wav"), &short, 24);
    write_wav(&tmp.path().join("pad.wav"), &[vec![0.0; 6 * RATE as usize], vec![0.0; 6 * RATE as usize]], 24);
    let hot: Vec<Vec<f32>> =
        files[3].iter().map(|c| c.iter().map(|v| (v * 40.0).clamp(-1.0, 1.0)).collect()).collect();
    write_wav(&tmp.path().join("lead.wav"), &hot, 24);
    let lines = "      - {name: drums, file: drums.wav}\n      - {name: bass, file: bass.wav}\n      - {name: pad, file: pad.wav}\n      - {name: lead, file: lead.wav, gain_db: 6}\n";
    let text = manifest(lines).replace("  - title: Premix\n    mix: premix.wav\n", "");
    std::fs::write(tmp.path().join("album.yaml"), text).unwrap();
    let o = run(&["check", tmp.path().join("album.yaml").to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for (id, words) in [
        ("stems.length_mismatch", "stem `bass` is 1.000 s shorter than `drums`"),
        ("stems.silent", "stem `pad` is silent"),
        ("stems.clipping", "stem `lead` is clipped"),
        ("stems.sum_over", "the summed stems peak at +"),
    ] {
        assert!(out.contains(id) && out.contains(words), "{id}:\n{out}");
    }
    // A clean set raises none of them.
    let clean = tempfile::tempdir().unwrap();
    stems(clean.path(), 6.0);
    let lines: String =
        lathe_synth::STEM_NAMES.iter().map(|n| format!("      - {{name: {n}, file: {n}.wav}}\n")).collect();
    std::fs::write(
        clean.path().join("album.yaml"),
        manifest(&lines).replace("  - title: Premix\n    mix: premix.wav\n", ""),
    )
    .unwrap();
    let o = run(&["check", clean.path().join("album.yaml").to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).contains("stems."), "{}", stdout(&o));
}
