//! Bad input, poor premasters and interruption.

use std::path::Path;

use crate::util::*;

pub fn wav(path: &Path, channels: u16, rate: u32, bits: u16, frames: usize, f: impl Fn(usize, usize) -> f32) {
    let float = bits == 32;
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let scale = (1i64 << (bits - 1)) as f32;
    for i in 0..frames {
        for c in 0..channels as usize {
            let x = f(i, c);
            if float {
                w.write_sample(x).unwrap();
            } else if bits == 8 {
                w.write_sample((x * 127.0).round() as i8).unwrap();
            } else {
                w.write_sample((x * scale).round().clamp(-scale, scale - 1.0) as i32).unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

pub fn music(i: usize, c: usize, rate: u32) -> f32 {
    let t = i as f32 / rate as f32;
    let env = 0.6 + 0.4 * (t * 1.7).sin();
    0.25 * env
        * ((t * 220.0 * std::f32::consts::TAU).sin()
            + 0.5 * (t * (330.0 + c as f32) * std::f32::consts::TAU).sin())
}

fn album(dir: &Path, tracks: &[&str]) -> std::path::PathBuf {
    let mut y = String::from("version: 1\nalbum: {title: T}\ntarget: {mode: track}\ntracks:\n");
    for (i, t) in tracks.iter().enumerate() {
        y.push_str(&format!("  - {{title: Track {}, mix: {t}}}\n", i + 1));
    }
    let p = dir.join("album.yaml");
    std::fs::write(&p, y).unwrap();
    p
}

/// Masters `bad` between two good tracks: exit 2, one line naming the file with `words`, nothing written.
fn refused(bad_name: &str, make_bad: impl Fn(&Path), words: &str) {
    let tmp = tempfile::tempdir().unwrap();
    for g in ["good1.wav", "good2.wav"] {
        wav(&tmp.path().join(g), 2, 44100, 24, 44100 * 4, |i, c| music(i, c, 44100));
    }
    make_bad(&tmp.path().join(bad_name));
    let manifest = album(tmp.path(), &["good1.wav", bad_name, "good2.wav"]);
    let out = tmp.path().join("out");
    let o = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{bad_name}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(bad_name) && err.contains(words), "{bad_name}: expected `{words}` in: {err}");
    assert!(files_under(&out).is_empty(), "{bad_name}: wrote {:?}", files_under(&out));
}

#[test]
fn malformed_audio_is_refused_before_anything_is_written() {
    refused("empty.wav", |p| std::fs::write(p, b"").unwrap(), "the file is empty");
    refused("nodata.wav", |p| wav(p, 2, 44100, 16, 0, |_, _| 0.0), "holds no audio samples");
    refused(
        "truncated.wav",
        |p| {
            wav(p, 2, 44100, 24, 44100 * 3, |i, c| music(i, c, 44100));
            let bytes = std::fs::read(p).unwrap();
            std::fs::write(p, &bytes[..bytes.len() / 2]).unwrap();
        },
        "is truncated: the header promises 132300 frames",
    );
    refused(
        "noise.wav",
        |p| {
            std::fs::write(
                p,
                (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect::<Vec<_>>(),
            )
            .unwrap()
        },
        "not a readable audio file",
    );
    refused(
        "notes.wav",
        |p| std::fs::write(p, "mix notes: more vocals\n".repeat(50)).unwrap(),
        "not a readable audio file",
    );
    refused(
        "nan.wav",
        |p| {
            wav(
                p,
                2,
                44100,
                32,
                44100 * 2,
                |i, c| if i == 30000 && c == 1 { f32::NAN } else { music(i, c, 44100) },
            )
        },
        "non-finite sample (NaN or Inf) in channel 2 at frame 30000",
    );
    refused(
        "surround.wav",
        |p| wav(p, 6, 48000, 24, 48000 * 2, |i, c| music(i, c, 48000)),
        "has 6 channels; lathe masters mono or stereo premasters only",
    );
    refused("silent.wav", |p| wav(p, 2, 44100, 24, 44100 * 5, |_, _| 0.0), "is silent");
    refused(
        "blip.wav",
        |p| wav(p, 2, 44100, 24, 44100 / 4, |i, c| music(i, c, 44100)),
        "shorter than one 400 ms loudness block",
    );
}

#[test]
fn usable_but_poor_premasters_master_with_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    wav(&d.join("mono.wav"), 1, 44100, 24, 44100 * 5, |i, c| music(i, c, 44100));
    wav(&d.join("8bit.wav"), 2, 44100, 8, 44100 * 5, |i, c| music(i, c, 44100));
    wav(&d.join("22k.wav"), 2, 22050, 16, 22050 * 5, |i, c| music(i, c, 22050));
    wav(&d.join("dc.wav"), 2, 44100, 24, 44100 * 5, |i, c| music(i, c, 44100) + 0.02);
    wav(&d.join("clipped.wav"), 2, 44100, 24, 44100 * 5, |i, c| (music(i, c, 44100) * 6.0).clamp(-1.0, 1.0));
    let manifest = album(d, &["mono.wav", "8bit.wav", "22k.wav", "dc.wav", "clipped.wav"]);
    let out = d.join("out");
    let o = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let ids = |t: usize| -> Vec<String> {
        r["tracks"][t]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(1).contains(&"premaster.bit_depth".into()), "{:?}", ids(1));
    assert!(ids(2).contains(&"premaster.sample_rate".into()), "{:?}", ids(2));
    assert!(ids(3).contains(&"premaster.dc_offset".into()), "{:?}", ids(3));
    assert!(ids(4).contains(&"premaster.clipping".into()), "{:?}", ids(4));
    assert_eq!(r["tracks"][0]["premaster"]["channels"], 1);
    for t in 0..5 {
        let m = &r["tracks"][t]["master"];
        assert!((m["integrated_lufs"].as_f64().unwrap() + 14.0).abs() <= 0.1, "track {t}: {m}");
        assert!(m["true_peak_dbtp"].as_f64().unwrap() <= -1.0);
    }
    // The mono premaster became dual mono: the channels differ only by their (independent) dither.
    let (audio, _) = lathe::audio::decode::decode(&out.join("master/01 - Track 1.wav")).unwrap();
    assert_eq!(audio.channels.len(), 2);
    let lsb = 1.0 / (1u32 << 23) as f32;
    let worst =
        audio.channels[0].iter().zip(&audio.channels[1]).map(|(l, r)| (l - r).abs()).fold(0f32, f32::max);
    assert!(worst <= 2.0 * lsb, "L and R differ by {} LSB", worst / lsb);
}
