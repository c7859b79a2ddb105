//! Release deliverables, graded by readers that share no code with lathe:
//! FLAC decoded by ffmpeg against the WAV of the same master, MP3 decoded
//! by ffmpeg against the ceiling and the WAV's loudness, tags read
//! back by ffprobe and by mutagen (Python), ReplayGain and the `bext`
//! loudness fields against ffmpeg's `ebur128` meter.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::*;

const MANIFEST: &str = r#"version: 1
album:
  title: Night Drive
  artist: The Examples
  date: 2026-03-20
  genre: Electronic
  label: Example Records
  copyright: "2026 The Examples"
  upc: "036000291452"
target: {preset: streaming, mode: album}
deliverables:
  - {name: wav16, format: wav, sample_rate: 44100, bit_depth: 16, dither: tpdf}
  - {name: flac16, format: flac, sample_rate: 44100, bit_depth: 16, dither: tpdf, compression: 0}
  - {name: wav24, format: wav, sample_rate: 48000, bit_depth: 24}
  - {name: flac24, format: flac, sample_rate: 48000, bit_depth: 24, compression: 8, file_name: "{number:02} {artist} - {title}"}
  - {name: mp3, format: mp3, sample_rate: 44100, bitrate_kbps: 320}
  - {name: v0, format: mp3, sample_rate: 48000, quality: 0}
  - {name: ogg, format: ogg, sample_rate: 44100, quality: 6}
tracks:
  - {title: Night Drive, mix: mixes/01-night-drive.wav, isrc: GB-ABC-26-00001, composer: A. Writer}
  - {title: Slow Bloom, mix: mixes/02-slow-bloom.wav, isrc: GB-ABC-26-00002, artist: Guest Singer, offset_lu: -2}
"#;

/// The release mastered once for every test here (in the target folder,
/// so the masters stay for a look after a failure): its folder and report.
fn release() -> (&'static Path, &'static Value) {
    static DONE: std::sync::OnceLock<(PathBuf, Value)> = std::sync::OnceLock::new();
    let (out, report) = DONE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("release");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let audio = sample_album();
        let manifest = dir.join("album.yaml");
        std::fs::write(&manifest, MANIFEST.replace("mixes/", &format!("{}/mixes/", audio.display())))
            .unwrap();
        let out = dir.join("out");
        let o = master_into(&manifest, &out, &[]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        let report =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
        (out, report)
    });
    (out, report)
}

fn outputs(report: &Value) -> Vec<&Value> {
    report["tracks"].as_array().unwrap().iter().flat_map(|t| t["outputs"].as_array().unwrap()).collect()
}

fn output<'a>(report: &'a Value, track: usize, deliverable: &str) -> &'a Value {
    let outs = report["tracks"][track]["outputs"].as_array().unwrap();
    outs.iter().find(|o| o["deliverable"] == deliverable).unwrap()
}

/// Where a track's master of `deliverable` was written.
fn file(out: &Path, report: &Value, track: usize, deliverable: &str) -> PathBuf {
    out.join(output(report, track, deliverable)["path"].as_str().unwrap())
}

/// A file's samples as ffmpeg decodes them, 32-bit little-endian.
fn ffmpeg_samples(path: &Path) -> Vec<u8> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "s32le", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

#[test]
fn a_flac_deliverable_decodes_to_exactly_the_wav_deliverables_samples() {
    if !have_ffmpeg("a_flac_deliverable_decodes_to_exactly_the_wav_deliverables_samples") {
        return;
    }
    let (out, report) = release();
    for t in 0..2 {
        for (wav, flac) in [("wav16", "flac16"), ("wav24", "flac24")] {
            let (w, f) = (output(report, t, wav), output(report, t, flac));
            assert_eq!(f["format"], "flac");
            let (ws, fs) = (
                ffmpeg_samples(&out.join(w["path"].as_str().unwrap())),
                ffmpeg_samples(&out.join(f["path"].as_str().unwrap())),
            );
            assert!(ws.len() > 1_000_000 && ws == fs, "track {t}: {flac} differs from {wav}");
        }
    }
    assert_eq!(output(report, 1, "flac24")["path"], "flac24/02 Guest Singer - Slow Bloom.flac");
}

/// The container-level tags ffprobe reads, lower-cased keys.
fn ffprobe_tags(path: &Path) -> std::collections::BTreeMap<String, String> {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format_tags", "-of", "json"])
        .arg(path)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["format"]["tags"].as_object().map_or_else(Default::default, |m| {
        m.iter().map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap_or_default().to_string())).collect()
    })
}

#[test]
fn tags_read_back_with_ffprobe_and_with_mutagen() {
    if !have_ffmpeg("tags_read_back_with_ffprobe_and_with_mutagen") {
        return;
    }
    let (out, report) = release();
    let flac = file(out, report, 1, "flac16");
    let t = ffprobe_tags(&flac);
    for (k, v) in [
        ("title", "Slow Bloom"),
        ("artist", "Guest Singer"),
        ("album", "Night Drive"),
        ("album_artist", "The Examples"),
        ("date", "2026-03-20"),
        ("genre", "Electronic"),
        ("label", "Example Records"),
        ("copyright", "2026 The Examples"),
        ("barcode", "036000291452"),
        ("isrc", "GBABC2600002"),
        ("track", "2"),
        ("tracktotal", "2"),
    ] {
        assert_eq!(t.get(k).map(String::as_str), Some(v), "FLAC {k}: {t:?}");
    }
    let wav = file(out, report, 0, "wav24");
    let t = ffprobe_tags(&wav);
    for (k, v) in [
        ("title", "Night Drive"),
        ("artist", "The Examples"),
        ("album", "Night Drive"),
        ("track", "1"),
        ("isrc", "GBABC2600001"),
    ] {
        assert_eq!(t.get(k).map(String::as_str), Some(v), "WAV {k}: {t:?}");
    }
    assert_eq!(t.get("originator_reference").map(String::as_str), Some("GBABC2600001"), "bext: {t:?}");
    assert!(t.get("coding_history").is_some_and(|h| h.starts_with("A=PCM,F=48000,W=24")), "bext: {t:?}");
    // SOURCE_DATE_EPOCH (util) dates the file.
    assert_eq!(output(report, 0, "wav24")["tags"]["bext.origination_date"], "2026-09-21");
    assert_eq!(output(report, 0, "wav24")["tags"]["bext.origination_time"], "14:13:20");

    // mutagen: a second reader, in another language.
    let script = "import sys, json, mutagen.flac, mutagen.wave\n\
        f = mutagen.flac.FLAC(sys.argv[1])\n\
        w = mutagen.wave.WAVE(sys.argv[2])\n\
        m = mutagen.File(sys.argv[3])\n\
        print(json.dumps({'flac': {k: v[0] for k, v in f.tags.items()}, 'wav_frames': w.info.length,\n\
          'id3': {k: str(v) for k, v in m.tags.items()}, 'id3_version': list(m.tags.version)}))\n";
    let mp3 = file(out, report, 1, "mp3");
    let Some(o) = python(
        "tags_read_back_with_ffprobe_and_with_mutagen",
        "mutagen",
        "python3-mutagen",
        script,
        &[&flac, &wav, &mp3],
    ) else {
        return;
    };
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tags = &v["flac"];
    for (k, want) in
        [("title", "Slow Bloom"), ("isrc", "GBABC2600002"), ("barcode", "036000291452"), ("tracknumber", "2")]
    {
        assert_eq!(tags[k], want, "mutagen {k}: {tags}");
    }
    let rg = output(report, 1, "flac16")["tags"]["REPLAYGAIN_TRACK_GAIN"].as_str().unwrap().to_string();
    assert_eq!(tags["replaygain_track_gain"], rg.as_str());
    assert!(v["wav_frames"].as_f64().unwrap() > 1.0, "mutagen reads the tagged WAV: {v}");
    let id3 = &v["id3"];
    assert_eq!(v["id3_version"][1], 4, "ID3v2.4: {v}");
    for (k, want) in [
        ("TIT2", "Slow Bloom"),
        ("TPE1", "Guest Singer"),
        ("TSRC", "GBABC2600002"),
        ("TRCK", "2/2"),
        ("TPUB", "Example Records"),
    ] {
        assert_eq!(id3[k], want, "mutagen MP3 {k}: {id3}");
    }
    assert_eq!(id3["TXXX:BARCODE"], "036000291452", "{id3}");
    // What the report says was written is what the file holds.
    for (k, want) in output(report, 1, "flac16")["tags"].as_object().unwrap() {
        assert_eq!(&tags[k.to_lowercase()], want, "report tag {k}");
    }
}

/// A ReplayGain tag as the report lists it: a Vorbis comment, or an ID3 `TXXX` frame.
fn rg<'a>(tags: &'a Value, key: &str) -> &'a str {
    tags[key]
        .as_str()
        .or_else(|| tags[format!("TXXX:{key}")].as_str())
        .unwrap_or_else(|| panic!("no {key}: {tags}"))
}

fn gain_db(tag: &str) -> f64 {
    tag.trim_end_matches(" dB").parse().unwrap()
}

#[test]
fn replaygain_is_minus_18_less_the_loudness_ffmpeg_measures() {
    if !have_ffmpeg("replaygain_is_minus_18_less_the_loudness_ffmpeg_measures") {
        return;
    }
    let (out, report) = release();
    for d in ["flac16", "flac24", "mp3", "v0", "ogg"] {
        let files: Vec<PathBuf> = (0..2).map(|t| file(out, report, t, d)).collect();
        for (t, f) in files.iter().enumerate() {
            let tags = &output(report, t, d)["tags"];
            let m = ffmpeg(std::slice::from_ref(f));
            let track = gain_db(rg(tags, "REPLAYGAIN_TRACK_GAIN"));
            assert!((track - (-18.0 - m.lufs)).abs() <= 0.1, "{d} track {t}: {track} dB for {} LUFS", m.lufs);
            let peak: f64 = rg(tags, "REPLAYGAIN_TRACK_PEAK").parse().unwrap();
            assert!(
                (20.0 * peak.log10() - m.tp).abs() <= 0.1,
                "{d} track {t}: peak {peak} for {} dBTP",
                m.tp
            );
        }
        let album = ffmpeg(&files);
        for t in 0..2 {
            let g = gain_db(rg(&output(report, t, d)["tags"], "REPLAYGAIN_ALBUM_GAIN"));
            assert!(
                (g - (-18.0 - album.lufs)).abs() <= 0.1,
                "{d}: album gain {g} dB for {} LUFS",
                album.lufs
            );
        }
    }
}

/// The `bext` chunk's loudness fields, read from the file's bytes (Tech 3285 v2 offsets).
fn bext_loudness(path: &Path) -> [f64; 5] {
    let f = std::fs::read(path).unwrap();
    let mut at = 12;
    while &f[at..at + 4] != b"bext" {
        at += 8 + u32::from_le_bytes(f[at + 4..at + 8].try_into().unwrap()) as usize;
    }
    let body = &f[at + 8..];
    assert_eq!(u16::from_le_bytes([body[346], body[347]]), 2, "bext version 2");
    std::array::from_fn(|k| i16::from_le_bytes([body[412 + 2 * k], body[413 + 2 * k]]) as f64 / 100.0)
}

/// (ffmpeg's own LRA figure is held to 0.5 LU: its histogram reads these
/// 30-second songs up to 0.25 LU over Tech 3342 on its own readings.)
#[test]
fn the_bext_loudness_fields_agree_with_ffmpeg() {
    if !have_ffmpeg("the_bext_loudness_fields_agree_with_ffmpeg") {
        return;
    }
    let (out, report) = release();
    for o in outputs(report).into_iter().filter(|o| o["format"] == "wav") {
        let path = out.join(o["path"].as_str().unwrap());
        let [value, range, tp, momentary, short_term] = bext_loudness(&path);
        let m = ffmpeg(std::slice::from_ref(&path));
        for (name, got, want) in [
            ("loudness value", value, m.lufs),
            ("loudness range", range, m.lra_3342),
            ("max true peak", tp, m.tp),
            ("max momentary", momentary, m.momentary_max),
            ("max short-term", short_term, m.short_term_max),
        ] {
            assert!((got - want).abs() <= 0.1, "{}: {name} {got} in bext, ffmpeg {want}", path.display());
        }
        assert!(
            (range - m.lra).abs() <= 0.5,
            "{}: LRA {range} in bext, ffmpeg's figure {}",
            path.display(),
            m.lra
        );
    }
}

#[test]
fn lossy_files_decoded_by_ffmpeg_hold_the_ceiling_and_the_wavs_loudness() {
    if !have_ffmpeg("lossy_files_decoded_by_ffmpeg_hold_the_ceiling_and_the_wavs_loudness") {
        return;
    }
    let (out, report) = release();
    for t in 0..2 {
        let wav = ffmpeg(&[file(out, report, t, "wav16")]);
        for d in ["mp3", "v0", "ogg"] {
            let o = output(report, t, d);
            let path = out.join(o["path"].as_str().unwrap());
            let m = ffmpeg(std::slice::from_ref(&path));
            assert!(
                m.tp <= -1.0,
                "track {t} {d}: decoded by ffmpeg, {:.2} dBTP over the -1 dBTP ceiling ({})",
                m.tp,
                o["codec"]
            );
            assert!(
                (m.lufs - wav.lufs).abs() <= 0.25,
                "track {t} {d}: {:.2} LUFS, the WAV {:.2}",
                m.lufs,
                wav.lufs
            );
            // The report's figures are the decoded file's.
            assert!((o["integrated_lufs"].as_f64().unwrap() - m.lufs).abs() <= 0.1, "{d}: {o}");
            assert!(o["codec"]["passes"].as_u64().unwrap() >= 1);
            let probe = Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-show_entries",
                    "stream=codec_name,sample_rate,duration_ts",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&path)
                .output()
                .unwrap();
            let want = match d {
                "mp3" => "mp3,44100",
                "v0" => "mp3,48000",
                _ => "vorbis,44100",
            };
            assert!(String::from_utf8_lossy(&probe.stdout).starts_with(want), "{d}");
        }
    }
    let tags = ffprobe_tags(&file(out, report, 0, "mp3"));
    for (k, v) in [
        ("title", "Night Drive"),
        ("artist", "The Examples"),
        ("album", "Night Drive"),
        ("tsrc", "GBABC2600001"),
        ("track", "1/2"),
        ("composer", "A. Writer"),
    ] {
        assert_eq!(tags.get(k).map(String::as_str), Some(v), "MP3 {k}: {tags:?}");
    }
    assert!(tags.contains_key("replaygain_track_gain"), "{tags:?}");
    assert_eq!(report["album"]["deliverables"][4]["bitrate_kbps"], 320);
    assert_eq!(report["album"]["deliverables"][5]["vbr_quality"], 0);
    // Ogg Vorbis keeps its comments in the stream.
    let ogg = file(out, report, 1, "ogg");
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream_tags", "-of", "json"])
        .arg(&ogg)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tags = &v["streams"][0]["tags"];
    assert_eq!(tags["TITLE"], "Slow Bloom", "{v}");
    assert_eq!(tags["ISRC"], "GBABC2600002", "{v}");
    assert!(tags["REPLAYGAIN_ALBUM_GAIN"].is_string(), "{v}");
}
