//! The album as a sequence: tops and tails, fades, gaps, an album image and
//! its CUE sheet, the Red Book. Masters are read with hound and the sheet
//! with a parser of this file's own, never lathe's code; loudness and
//! ceiling are graded by ffmpeg.

use std::path::{Path, PathBuf};

use crate::reliability::{music, wav};
use crate::util::*;

/// A premaster of `lead` s of digital silence, `body` s of music, `tail` s of silence.
pub fn padded(path: &Path, rate: u32, lead: f64, body: f64, tail: f64, seed: usize) {
    let (a, b) = ((lead * rate as f64) as usize, ((lead + body) * rate as f64) as usize);
    let n = ((lead + body + tail) * rate as f64) as usize;
    wav(path, 2, rate, 24, n, |i, c| if i < a || i >= b { 0.0 } else { 0.5 * music(i + seed, c, rate) });
}

/// Every frame of a WAV, as integers (interleaved), and its rate.
fn samples(path: &Path) -> (Vec<i32>, u32) {
    let mut r = hound::WavReader::open(path).unwrap();
    let rate = r.spec().sample_rate;
    (r.samples::<i32>().map(Result::unwrap).collect(), rate)
}

fn full_scale(path: &Path) -> f64 {
    (1i64 << (hound::WavReader::open(path).unwrap().spec().bits_per_sample - 1)) as f64
}

pub fn report(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

#[test]
fn trimmed_masters_start_and_end_at_the_music_and_a_fade_out_ends_20_db_down() {
    if !have_ffmpeg("trimmed_masters_start_and_end_at_the_music") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    padded(&tmp.path().join("a.wav"), 48_000, 1.5, 8.0, 2.5, 0);
    padded(&tmp.path().join("b.wav"), 48_000, 0.7, 9.0, 3.0, 777);
    let manifest = tmp.path().join("album.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nalbum: {title: T}\ntarget: {mode: track, loudness_lufs: -14}\nsequence: {trim: true}\n\
         deliverables: [{name: m, bit_depth: 24}, {name: cd, sample_rate: 44100, bit_depth: 16}]\n\
         tracks:\n  - {title: A, mix: a.wav}\n  - {title: B, mix: b.wav, fade_out_ms: 3000, fade_curve: linear}\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = master_into(&manifest, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for d in ["m", "cd"] {
        for (name, body) in [("01 - A.wav", 8.0), ("02 - B.wav", 9.0)] {
            let path = out.join(d).join(name);
            let (x, rate) = samples(&path);
            let threshold = full_scale(&path) * 10f64.powf(-60.0 / 20.0);
            let frames = x.len() / 2;
            let loud: Vec<usize> =
                (0..frames).filter(|&i| x[2 * i].abs().max(x[2 * i + 1].abs()) as f64 > threshold).collect();
            let ms = |f: usize| f as f64 * 1000.0 / rate as f64;
            let (head, tail) = (ms(loud[0]), ms(frames - 1 - loud[loud.len() - 1]));
            assert!(head <= 20.0, "{d}/{name}: the music starts {head:.1} ms in");
            assert!((ms(frames) / 1000.0 - body).abs() < 0.05, "{d}/{name}: {} s long", ms(frames) / 1000.0);
            let f = ffmpeg(std::slice::from_ref(&path));
            assert!((f.lufs + 14.0).abs() <= 0.15, "{d}/{name}: {} LUFS by ffmpeg", f.lufs);
            assert!(f.tp <= -1.0 + 0.05, "{d}/{name}: {} dBTP by ffmpeg", f.tp);
            if name.starts_with("01") {
                assert!(tail <= 20.0, "{d}/{name}: the music ends {tail:.1} ms before the end");
            } else {
                // The fade-out: the last 100 ms against the 100 ms 3 s before the end.
                let rms = |from: usize, n: usize| {
                    let e: f64 = x[2 * from..2 * (from + n)].iter().map(|&s| (s as f64).powi(2)).sum();
                    10.0 * (e / (2 * n) as f64).log10()
                };
                let w = rate as usize / 10;
                let depth = rms(frames - 3 * rate as usize - w / 2, w) - rms(frames - w, w);
                assert!(depth >= 20.0, "{d}/{name}: the fade-out ends only {depth:.1} dB down");
            }
        }
    }
    let r = report(&out);
    let e = &r["sequence"][0]["edit"];
    assert!((e["start_s"].as_f64().unwrap() - 1.49).abs() < 0.002, "{e}");
    assert_eq!(e["trimmed"], true);
}

/// A CUE sheet as this test reads it: the catalog, and per track its ISRC,
/// pregap and indices (in CD frames).
#[derive(Debug, Default)]
struct Sheet {
    catalog: Option<String>,
    file: String,
    tracks: Vec<SheetTrack>,
}

#[derive(Debug, Default)]
struct SheetTrack {
    isrc: Option<String>,
    pregap: Option<u64>,
    index00: Option<u64>,
    index01: Option<u64>,
}

fn frames_of(msf: &str) -> u64 {
    let p: Vec<u64> = msf.split(':').map(|v| v.parse().unwrap()).collect();
    assert_eq!(p.len(), 3, "{msf}");
    assert!(p[1] < 60 && p[2] < 75, "{msf}");
    (p[0] * 60 + p[1]) * 75 + p[2]
}

fn parse_sheet(text: &str) -> Sheet {
    let mut sheet = Sheet::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let last = sheet.tracks.last_mut();
        match (words.as_slice(), last) {
            (["CATALOG", c], _) => sheet.catalog = Some(c.to_string()),
            (["FILE", rest @ ..], _) => {
                sheet.file = rest[..rest.len() - 1].join(" ").trim_matches('"').to_string()
            }
            (["TRACK", _, "AUDIO"], _) => sheet.tracks.push(SheetTrack::default()),
            (["ISRC", c], Some(t)) => t.isrc = Some(c.to_string()),
            (["PREGAP", at], Some(t)) => t.pregap = Some(frames_of(at)),
            (["INDEX", "00", at], Some(t)) => t.index00 = Some(frames_of(at)),
            (["INDEX", "01", at], Some(t)) => t.index01 = Some(frames_of(at)),
            _ => {}
        }
    }
    sheet
}

#[test]
fn an_album_image_splits_at_its_cue_indices_into_the_track_masters_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    // Lengths off the 588-sample grid, at a rate the CD deliverable resamples.
    for (i, s) in [5.013, 6.2, 4.77].iter().enumerate() {
        padded(&tmp.path().join(format!("t{i}.wav")), 48_000, 0.0, *s, 0.0, i * 5000);
    }
    let manifest = tmp.path().join("album.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nalbum: {title: Night Drive, artist: The Examples, upc: \"036000291452\"}\n\
         target: {mode: album}\nsequence: {gap_s: 2}\n\
         deliverables:\n  - {name: m, bit_depth: 24}\n  - {name: cd, sample_rate: 44100, bit_depth: 16, layout: album}\n\
         tracks:\n  - {title: One, mix: t0.wav, isrc: GB-EXA-26-00001}\n  - {title: Two, mix: t1.wav, gap_s: 0.5}\n\
         \x20 - {title: Three, mix: t2.wav, gap_s: 0, isrc: GB-EXA-26-00003}\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = master_into(&manifest, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sheet = parse_sheet(&std::fs::read_to_string(out.join("cd/Night Drive.cue")).unwrap());
    assert_eq!(sheet.catalog.as_deref(), Some("0036000291452"));
    assert_eq!(sheet.file, "Night Drive.wav");
    assert_eq!(sheet.tracks.len(), 3);
    assert_eq!(sheet.tracks[0].isrc.as_deref(), Some("GBEXA2600001"));
    assert_eq!(sheet.tracks[2].isrc.as_deref(), Some("GBEXA2600003"));
    assert_eq!(sheet.tracks[0].pregap, Some(150), "the first track's 2 s pregap");
    let (image, rate) = samples(&out.join("cd/Night Drive.wav"));
    assert_eq!(rate, 44_100);
    assert_eq!(image.len() / 2 % 588, 0, "the image is a whole number of CD frames");
    let tracks: Vec<PathBuf> =
        ["01 - One.wav", "02 - Two.wav", "03 - Three.wav"].iter().map(|n| out.join("cd").join(n)).collect();
    let mut at = 0u64; // CD frames
    for (k, (t, path)) in sheet.tracks.iter().zip(&tracks).enumerate() {
        let (own, _) = samples(path);
        assert_eq!(own.len() / 2 % 588, 0, "track {k}'s master is a whole number of CD frames");
        let gap = [0, 38, 0][k]; // 0.5 s is 37.5 frames, rounded
        if gap > 0 {
            assert_eq!(t.index00, Some(at), "track {k}: INDEX 00 where the previous track ends");
            let silence = &image[(at * 588 * 2) as usize..((at + gap) * 588 * 2) as usize];
            assert!(silence.iter().all(|&s| s == 0), "track {k}: the gap is digital silence");
        } else {
            assert_eq!(t.index00, None);
        }
        at += gap;
        assert_eq!(t.index01, Some(at), "track {k}: INDEX 01 is the sum of the tracks and gaps before it");
        let start = (at * 588 * 2) as usize;
        assert!(
            image[start..start + own.len()] == own[..],
            "track {k}: the image between its indices is its master"
        );
        at += own.len() as u64 / 2 / 588;
    }
    assert_eq!(at * 588, image.len() as u64 / 2, "the image ends with the last track");
    let r = report(&out);
    assert_eq!(
        r["images"][0]["cue"].as_str().unwrap(),
        std::fs::read_to_string(out.join("cd/Night Drive.cue")).unwrap()
    );
    let rb = r["checks"].as_array().unwrap().iter().find(|c| c["id"] == "album.red_book").unwrap();
    assert_eq!(rb["severity"], "info", "{rb}");
}

#[test]
fn a_3_s_track_on_a_cd_image_fails_the_red_book() {
    let tmp = tempfile::tempdir().unwrap();
    padded(&tmp.path().join("long.wav"), 44_100, 0.0, 6.0, 0.0, 0);
    padded(&tmp.path().join("short.wav"), 44_100, 0.0, 3.0, 0.0, 99);
    let manifest = tmp.path().join("album.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nalbum: {title: T}\ntarget: {mode: track}\n\
         deliverables: [{name: cd, sample_rate: 44100, bit_depth: 16, layout: album}]\n\
         tracks:\n  - {title: Long, mix: long.wav}\n  - {title: Short, mix: short.wav}\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = master_into(&manifest, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = report(&out);
    assert_eq!(r["passed"], false);
    let rb: Vec<&serde_json::Value> =
        r["checks"].as_array().unwrap().iter().filter(|c| c["id"] == "album.red_book").collect();
    assert_eq!(rb.len(), 1, "{rb:?}");
    assert_eq!(rb[0]["severity"], "fail");
    let msg = rb[0]["message"].as_str().unwrap();
    assert!(msg.contains("track 2 (Short)") && msg.contains("at least 4 s"), "{msg}");
}

/// First-difference energy (both channels) in a 32-sample window at `at`.
fn step_energy(x: &[i32], at: usize) -> f64 {
    (at - 16..at + 16)
        .map(|i| (0..2).map(|c| ((x[2 * i + c] - x[2 * i - 2 + c]) as f64).powi(2)).sum::<f64>())
        .sum()
}

/// The join of `x` at frame `join` against the music's own: its
/// difference energy over the median of the same window's within a second
/// either side (dB).
fn join_db(x: &[i32], join: usize, rate: usize) -> f64 {
    let mut around: Vec<f64> = (join - rate..join + rate)
        .step_by(31)
        .filter(|i| i.abs_diff(join) > 32)
        .map(|i| step_energy(x, i))
        .collect();
    around.sort_by(f64::total_cmp);
    10.0 * (step_energy(x, join) / around[around.len() / 2]).log10()
}

/// A continuous recording, 12 s with a crescendo, whole (`cut: None`) or
/// split in two at `cut` with `gap_s` before the second half; each
/// deliverable's masters played back to back, and where they join.
fn mastered_recording(cut: Option<(usize, f64)>) -> Vec<(Vec<i32>, usize)> {
    let tmp = tempfile::tempdir().unwrap();
    let rate = 48_000usize;
    let level = |i: usize| 0.2 + 0.7 * ((i as f32 / rate as f32 - 3.0) / 2.0).clamp(0.0, 1.0);
    let x =
        |i: usize, c: usize| level(i) * (music(i, c, rate as u32) + 0.3 * music(i * 7 + 3, c, rate as u32));
    let mut tracks = String::new();
    match cut {
        None => {
            wav(&tmp.path().join("a.wav"), 2, rate as u32, 24, 12 * rate, x);
            tracks.push_str("  - {title: A, mix: a.wav}\n");
        }
        Some((cut, gap_s)) => {
            wav(&tmp.path().join("a.wav"), 2, rate as u32, 24, cut, x);
            wav(&tmp.path().join("b.wav"), 2, rate as u32, 24, 12 * rate - cut, |i, c| x(i + cut, c));
            tracks.push_str(&format!(
                "  - {{title: A, mix: a.wav}}\n  - {{title: B, mix: b.wav, gap_s: {gap_s}}}\n"
            ));
        }
    }
    let manifest = tmp.path().join("album.yaml");
    std::fs::write(
        &manifest,
        format!(
            "version: 1\nalbum: {{title: T}}\ntarget: {{mode: track, loudness_lufs: -16}}\n\
             deliverables: [{{name: m, bit_depth: 24}}, {{name: cd, sample_rate: 44100, bit_depth: 16, layout: album}}]\n\
             tracks:\n{tracks}"
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = master_into(&manifest, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    ["m", "cd"]
        .iter()
        .map(|d| {
            let (mut all, _) = samples(&out.join(d).join("01 - A.wav"));
            let join = all.len() / 2;
            if cut.is_some() {
                all.extend(samples(&out.join(d).join("02 - B.wav")).0);
            }
            (all, join)
        })
        .collect()
}

#[test]
fn gapless_tracks_play_back_as_the_whole_recording_mastered_at_once() {
    let whole = mastered_recording(None);
    let gapless = mastered_recording(Some((288_661, 0.0))); // 6.01 s, off any block
    let apart = mastered_recording(Some((288_661, 2.0)));
    for (k, d) in ["m", "cd"].iter().enumerate() {
        let rate = if k == 0 { 48_000 } else { 44_100 };
        let (g, join) = (&gapless[k].0, gapless[k].1);
        assert_eq!(g.len(), whole[k].0.len(), "{d}: the two tracks last as long as the whole");
        assert!(*g == whole[k].0, "{d}: back to back, the gapless masters are the whole recording's master");
        assert!(apart[k].0 != whole[k].0, "{d}: rendered apart, the halves are not the whole's master");
        let (at, apart_at) = (join_db(g, join, rate), join_db(&apart[k].0, apart[k].1, rate));
        assert!(at < 3.0, "{d}: the gapless join is {at:+.1} dB over the music around it");
        eprintln!(
            "{d}: difference energy at the join over the music's own: gapless {at:+.1} dB, rendered apart {apart_at:+.1} dB"
        );
    }
}
