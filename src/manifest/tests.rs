//! Manifests in, plans or located errors out.

use std::path::{Path, PathBuf};

use super::*;
use crate::dsp::biquad::Shape;
use crate::dsp::dither::DitherKind;
use crate::dsp::limiter::Budget;
use crate::error::ManifestError;
use defaults::MAX_GAIN_DB as DEFAULT_MAX_GAIN_DB;
use names::MAX_TITLE_BYTES;

fn parse_str(text: &str) -> Result<Album, ManifestError> {
    parse(Path::new("album.yaml"), text)
}

fn err(text: &str) -> ManifestError {
    parse_str(text).expect_err("the manifest should be rejected")
}

const MINIMAL: &str = "version: 1\nalbum: {title: T}\ntracks:\n  - {title: One, mix: one.wav}\n";

#[test]
fn defaults_fill_a_minimal_manifest() {
    let a = parse_str(MINIMAL).unwrap();
    assert_eq!(a.target.loudness_lufs, -14.0);
    assert_eq!(a.target.true_peak_dbtp, -1.0);
    assert_eq!(a.target.mode, Mode::Album);
    assert_eq!(a.target.album_anchor, AlbumAnchor::Pooled);
    assert_eq!(a.target.max_gain_db, DEFAULT_MAX_GAIN_DB);
    assert_eq!(a.tracks[0].chain.limiter.budget, Budget::DEFAULT);
    assert_eq!(a.deliverables.len(), 1);
    assert_eq!(a.deliverables[0].name, "master");
    assert_eq!(a.deliverables[0].sample_rate, None);
    assert_eq!(a.deliverables[0].format, SampleFormat::Int24);
    let chain = &a.tracks[0].chain;
    assert_eq!(chain, &Chain::default());
    assert_eq!(chain.eq.len(), 1, "the default chain is a 20 Hz high-pass and the limiter");
    assert_eq!(chain.eq[0].shape, Shape::Highpass);
    assert_eq!(chain.eq[0].freq_hz, 20.0);
    assert!(chain.compressor.is_none());
    assert_eq!(a.tracks[0].source, TrackSource::Mix(PathBuf::from("./one.wav")));
    assert_eq!(a.file_name(&a.tracks[0], &a.deliverables[0]), "01 - One.wav");
}

#[test]
fn presets_merge_under_explicit_keys() {
    let a = parse_str("version: 1\nalbum: {title: T}\ntarget: {preset: cd, loudness_lufs: -9}\ntracks:\n  - {title: One, mix: a.wav}\n").unwrap();
    assert_eq!(a.target.loudness_lufs, -9.0, "the manifest's key wins");
    assert_eq!(a.target.true_peak_dbtp, -0.3, "the preset fills the rest");
    assert_eq!(a.deliverables[0].name, "cd");
    assert_eq!(a.deliverables[0].format, SampleFormat::Int16);
    assert_eq!(a.deliverables[0].sample_rate, Some(44100));
    assert_eq!(a.deliverables[0].dither, DitherKind::Tpdf);
    let b = parse_str("version: 1\nalbum: {title: T}\ntarget: {preset: broadcast-r128}\ntracks:\n  - {title: One, mix: a.wav}\n").unwrap();
    assert_eq!((b.target.loudness_lufs, b.target.mode), (-23.0, Mode::Track));
}

#[test]
fn a_track_chain_overrides_album_keys_one_by_one() {
    let a = parse_str(
        "version: 1\nalbum: {title: T}\nchain:\n  compressor: {threshold_db: -20, ratio: 3}\n  width: 1.2\ntracks:\n  - {title: A, mix: a.wav}\n  - title: B\n    mix: b.wav\n    chain: {compressor: {ratio: 1.5}}\n",
    )
    .unwrap();
    let (ca, cb) = (a.tracks[0].chain.compressor.unwrap(), a.tracks[1].chain.compressor.unwrap());
    assert_eq!((ca.threshold_db, ca.ratio), (-20.0, 3.0));
    assert_eq!((cb.threshold_db, cb.ratio), (-20.0, 1.5));
    assert_eq!(a.tracks[1].chain.width.width, 1.2);
}

#[test]
fn the_limiting_budget_merges_key_by_key() {
    let a = parse_str(
        "version: 1\nalbum: {title: T}\ntarget: {album_anchor: loudest, max_gain_db: 12}\nchain:\n  limiter: {budget: {sustained_db: 3, peak_db: 9}}\ntracks:\n  - {title: A, mix: a.wav}\n  - title: B\n    mix: b.wav\n    chain: {limiter: {release_ms: 200, budget: {peak_db: 12}}}\n",
    )
    .unwrap();
    assert_eq!(a.target.album_anchor, AlbumAnchor::Loudest);
    assert_eq!(a.target.max_gain_db, 12.0);
    assert_eq!(a.tracks[0].chain.limiter.budget, Budget { sustained_db: 3.0, peak_db: 9.0 });
    let b = a.tracks[1].chain.limiter;
    assert_eq!((b.release_ms, b.budget), (200.0, Budget { sustained_db: 3.0, peak_db: 12.0 }));
}

#[test]
fn unknown_keys_name_line_column_and_path() {
    let e = err(
        "version: 1\nalbum: {title: T}\ntracks:\n  - title: S\n    stems:\n      - {name: v, file: v.wav, gian_db: 1}\n",
    );
    assert_eq!(e.path, "tracks[0].stems[0].gian_db");
    assert_eq!((e.line, e.column), (6, 32));
    assert!(e.message.contains("unknown key `gian_db`"), "{}", e.message);
    assert!(e.to_string().starts_with("album.yaml:6:32: tracks[0].stems[0].gian_db: unknown key"), "{e}");
}

#[test]
fn each_invalid_manifest_gets_a_located_error() {
    let cases: &[(&str, &str, (usize, usize), &str)] = &[
        (
            "version: 1\nalbum: {title: T}\ntarget: {loudness_lufs: loud}\ntracks: []\n",
            "target.loudness_lufs",
            (3, 25),
            "a number in LUFS is expected here",
        ),
        ("version: 1\nalbum: {title: T\n", "", (3, 1), "did not find expected"),
        (
            "version: 1\nalbum: {title: T}\ntracks:\n  - {title: A, mix: a.wav, stems: []}\n",
            "tracks[0].stems",
            (4, 28),
            "either `mix` or `stems`",
        ),
        ("version: 1\nalbum: {title: T}\ntracks: []\n", "tracks", (3, 1), "no tracks"),
        (
            "version: 1\nalbum: {title: T}\ntarget: {mode: loud}\ntracks: []\n",
            "target.mode",
            (3, 16),
            "unknown variant `loud`",
        ),
        (
            "version: 1\nalbum: {title: T}\ntarget: {true_peak_dbtp: 0.5}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "target.true_peak_dbtp",
            (3, 10),
            "at or below 0 dBTP",
        ),
        (
            "version: 1\nalbum: {title: T}\ntarget: {loudness_lufs: -80}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "target.loudness_lufs",
            (3, 10),
            "between -70 and -5",
        ),
        (
            "version: 1\nalbum: {title: T}\ntarget: {loudness_lufs: -14}\ntracks:\n  - {title: A, mix: a.wav}\n  - {title: B, mix: b.wav, offset_lu: 20}\n",
            "tracks[1].offset_lu",
            (6, 28),
            "-14 LUFS +20 LU = +6 LUFS, is too loud",
        ),
        (
            "version: 1\nalbum: {title: T}\nchain: {limiter: {budget: {sustained_db: 4, peak_db: 2}}}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "chain.limiter.budget.peak_db",
            (3, 45),
            "below the sustained budget",
        ),
        (
            "version: 1\nalbum: {title: T}\ntarget: {max_gain_db: 60}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "target.max_gain_db",
            (3, 10),
            "between 0 and 40",
        ),
        (
            "version: 2\nalbum: {title: T}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "version",
            (1, 1),
            "version 2 is not supported",
        ),
        ("version: 1\nalbum: {title: T}\ntracks:\n  - {title: A}\n", "tracks[0]", (4, 5), "needs `mix`"),
        (
            "version: 1\nalbum: {title: T}\ndeliverables:\n  - {name: a}\n  - {name: A}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[1].name",
            (5, 6),
            "same files",
        ),
        (
            "version: 1\nalbum: {title: T}\ntarget: {preset: nope}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "target.preset",
            (3, 10),
            "no preset `nope`",
        ),
        (
            "version: 1\nalbum: {title: T}\nqc: {fail_on: [master.lufs]}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "qc.fail_on[0]",
            (3, 16),
            "unknown check id",
        ),
    ];
    for (text, path, pos, words) in cases {
        let e = err(text);
        assert_eq!(&e.path, path, "{e}");
        assert_eq!((e.line, e.column), *pos, "{e}");
        assert!(e.message.contains(words), "{e}");
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
}

#[test]
fn a_key_spanning_lines_still_gives_a_one_line_error() {
    // Found by fuzzing: a plain-scalar key folded over several lines.
    let e = err(
        "version: 1\nalbum: {title: T}\nchain:\n  eq:\n    - {type: peak, fre\n\n\n  S: 1, freq_hz: 100}\ntracks: []\n",
    );
    assert!(!e.to_string().contains('\n'), "{e}");
    assert!(e.message.contains("unknown key"), "{e}");
}

#[test]
fn titles_become_safe_file_names() {
    assert_eq!(sanitize_title("AC/DC: Live?"), "AC_DC_ Live_");
    assert_eq!(sanitize_title("  ..hidden. "), "hidden");
    assert_eq!(sanitize_title("///"), "___");
    assert_eq!(sanitize_title(""), "Untitled");
    assert_eq!(sanitize_title("evil\u{202E}vaw.exe"), "evilvaw.exe");
    let long = "é".repeat(300);
    let cut = sanitize_title(&long);
    assert!(cut.len() <= MAX_TITLE_BYTES && cut.chars().all(|c| c == 'é'), "{}", cut.len());
    assert_eq!(printable("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
}

/// The README's table of ranges, as `limits::ALL` makes it.
fn ranges_table() -> String {
    let mut t = String::from("| key | value | range |\n|:--|:--|:--|\n");
    for l in limits::ALL {
        t.push_str(&format!("| `{}` | {} | {} to {} |\n", l.key, l.what, l.lo, l.hi));
    }
    t
}

#[test]
fn the_readme_lists_every_range_from_the_one_table() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table = ranges_table();
    assert!(
        readme.contains(&table),
        "README.md's table of ranges is out of step with manifest::limits; it should read:\n{table}"
    );
}

#[test]
fn release_metadata_is_read_and_checked_where_it_is_written() {
    let a = parse_str(
        "version: 1\nalbum: {title: T, artist: A, date: 2026-03-20, upc: \"036000291452\", label: L, genre: G, copyright: C}\n\
         deliverables:\n  - {name: cd, format: flac, compression: 8, bit_depth: 16, file_name: \"{number:02} {artist} - {title}\"}\n\
         tracks:\n  - {title: One, mix: a.wav, isrc: gb-abc-24-00012, artist: B, composer: K}\n  - {title: Two, mix: b.wav}\n",
    )
    .unwrap();
    assert_eq!(a.meta.upc.as_deref(), Some("036000291452"));
    assert_eq!(a.meta.date.as_deref(), Some("2026-03-20"));
    assert_eq!(a.tracks[0].meta.isrc.as_deref(), Some("GBABC2400012"));
    assert_eq!(a.deliverables[0].container, Container::Flac { level: 8 });
    assert_eq!(a.file_name(&a.tracks[0], &a.deliverables[0]), "01 B - One.flac");
    assert_eq!(a.file_name(&a.tracks[1], &a.deliverables[0]), "02 A - Two.flac");
    // A year written as a number, and a barcode written as one.
    let a = parse_str("version: 1\nalbum: {title: T, date: 2026, upc: 4006381333931}\ntracks:\n  - {title: A, mix: a.wav}\n").unwrap();
    assert_eq!((a.meta.date.as_deref(), a.meta.upc.as_deref()), (Some("2026"), Some("4006381333931")));

    let cases: &[(&str, &str, (usize, usize), &str)] = &[
        (
            "album: {title: T, upc: \"036000291453\"}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "album.upc",
            (2, 19),
            "should be 2, not 3",
        ),
        (
            "album: {title: T, date: 2026-02-30}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "album.date",
            (2, 19),
            "not a date",
        ),
        (
            "album: {title: T}\ntracks:\n  - {title: A, mix: a.wav, isrc: GB-AB-24-00012}\n",
            "tracks[0].isrc",
            (4, 28),
            "not an ISRC",
        ),
        (
            "album: {title: T}\ntracks:\n  - {title: A, mix: a.wav, isrc: GBABC2400012}\n  - {title: B, mix: b.wav, isrc: GB-ABC-24-00012}\n",
            "tracks[1].isrc",
            (5, 28),
            "track 1's too",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: m, format: flac, compression: 9}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[0].compression",
            (4, 29),
            "0 (fastest) to 8",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: m, compression: 5}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[0].compression",
            (4, 15),
            "a FLAC setting; this deliverable is WAV",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: m, format: flac, bit_depth: 32}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[0].bit_depth",
            (4, 29),
            "FLAC stores integers",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: m, file_name: \"{artist} - {titel}\"}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[0].file_name",
            (4, 15),
            "`{titel}` is unknown",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: m, file_name: \"{title}\"}\ntracks:\n  - {title: A, mix: a.wav}\n  - {title: a, mix: b.wav}\n",
            "deliverables[0].file_name",
            (4, 15),
            "tracks 1 and 2 would both be written as `m/a.wav`",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: w}\n  - {name: m, format: mp3, sample_rate: 44100, bitrate_kbps: 300}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[1].bitrate_kbps",
            (5, 48),
            "one of [32, 40",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: w}\n  - {name: m, format: mp3, sample_rate: 96000}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[1].sample_rate",
            (5, 28),
            "32000, 44100 or 48000",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: w}\n  - {name: m, format: mp3, sample_rate: 44100, bitrate_kbps: 320, quality: 2}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[1].quality",
            (5, 67),
            "not both",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: w}\n  - {name: m, format: mp3, sample_rate: 44100, bit_depth: 16}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[1].bit_depth",
            (5, 48),
            "not a setting of a lossy codec",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: m, format: mp3, sample_rate: 44100}\n  - {name: w}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[0].format",
            (4, 15),
            "put a WAV or FLAC deliverable first",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: w}\n  - {name: o, format: ogg, quality: 11}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[1].quality",
            (5, 28),
            "0 to 10 (best)",
        ),
        (
            "album: {title: T}\ndeliverables:\n  - {name: w}\n  - {name: o, format: ogg, bitrate_kbps: 320}\ntracks:\n  - {title: A, mix: a.wav}\n",
            "deliverables[1].bitrate_kbps",
            (5, 28),
            "this deliverable is Ogg Vorbis",
        ),
    ];
    for (text, path, pos, words) in cases {
        let e = err(&format!("version: 1\n{text}"));
        assert_eq!(&e.path, path, "{e}");
        assert_eq!((e.line, e.column), *pos, "{e}");
        assert!(e.message.contains(words), "{e}");
    }
}

#[test]
fn a_sequence_resolves_gaps_trims_and_fades_track_over_album() {
    let a = parse_str(
        "version: 1\nalbum: {title: T}\nsequence: {gap_s: 1.5, trim: {threshold_db: -55}}\ntracks:\n  - {title: One, mix: one.wav}\n  - {title: Two, mix: two.wav, gap_s: 0, trim: false}\n  - {title: Three, mix: three.wav, trim: true, fade_out_ms: 3000, fade_curve: exponential, start_s: 0.5}\n",
    )
    .unwrap();
    let [one, two, three] = [&a.tracks[0], &a.tracks[1], &a.tracks[2]];
    assert_eq!((one.gap_s, two.gap_s, three.gap_s), (1.5, 0.0, 1.5));
    assert_eq!(one.edit.trim, Some(Trim { threshold_db: -55.0, keep_s: 0.01 }));
    assert_eq!(two.edit.trim, None);
    assert!(two.edit.is_none());
    assert_eq!(
        three.edit.trim,
        Some(Trim { threshold_db: -60.0, keep_s: 0.01 }),
        "the track's own `trim: true`"
    );
    assert_eq!(
        (three.edit.fade_out_s, three.edit.start_s, three.edit.curve),
        (3.0, 0.5, FadeCurve::Exponential)
    );
    assert_eq!(a.programmes(), vec![0..2, 2..3], "tracks one and two join without a gap");
}

#[test]
fn sequence_mistakes_are_located_and_said_in_mastering_terms() {
    let cases: [(&str, &str); 5] = [
        (
            "version: 1\nalbum: {title: T}\ntracks:\n  - {title: One, mix: one.wav, start_s: 5, end_s: 4}\n",
            "before it starts",
        ),
        (
            "version: 1\nalbum: {title: T}\ntracks:\n  - {title: One, mix: one.wav, trim: yes please}\n",
            "expected `true`, `false`",
        ),
        (
            "version: 1\nalbum: {title: T}\ndeliverables: [{name: m}, {name: x, format: mp3, sample_rate: 44100, layout: album}]\ntracks:\n  - {title: One, mix: one.wav}\n",
            "an album image (`layout: album`) is lossless",
        ),
        (
            "version: 1\nalbum: {title: T}\ndeliverables: [{name: x, sample_rate: 32000, layout: album}]\ntracks:\n  - {title: One, mix: one.wav}\n",
            "1/75 s frames",
        ),
        (
            "version: 1\nalbum: {title: T}\ntracks:\n  - {title: One, mix: one.wav}\n  - {title: Two, mix: two.wav, gap_s: 0, offset_lu: -2}\n",
            "track 2 runs into track 1 without a gap",
        ),
    ];
    for (text, words) in cases {
        let e = err(text);
        assert!(e.to_string().contains(words), "{e}");
        assert!(e.line > 0 && !e.to_string().contains('\n'), "{e}");
    }
}

#[test]
fn a_misspelled_key_check_id_or_preset_is_answered_with_the_likely_one() {
    for (text, hint) in [
        (
            "version: 1\nalbum: {title: T}\ntracks:\n  - {title: One, mix: one.wav, ofset_lu: 1}\n",
            "did you mean `offset_lu`?",
        ),
        (
            "version: 1\nalbum: {title: T}\ntracks:\n  - {title: One, mix: one.wav}\nqc: {fail_on: [master.truepeak]}\n",
            "did you mean `master.true_peak`?",
        ),
        (
            "version: 1\nalbum: {title: T}\ntarget: {preset: streeming}\ntracks:\n  - {title: One, mix: one.wav}\n",
            "did you mean `streaming`?",
        ),
    ] {
        let e = err(text).to_string();
        assert!(e.contains(hint), "{e}");
    }
}

#[test]
fn a_value_of_the_wrong_type_is_said_in_plain_words_with_its_unit() {
    let e = err(
        "version: 1\nalbum: {title: T}\ntarget: {loudness_lufs: loud}\ntracks:\n  - {title: One, mix: one.wav}\n",
    );
    assert!(
        e.to_string()
            .ends_with("target.loudness_lufs: a number in LUFS is expected here, not the text \"loud\""),
        "{e}"
    );
    let e = err(
        "version: 1\nalbum: {title: T}\ndeliverables: [{name: m, bit_depth: -3}]\ntracks:\n  - {title: One, mix: one.wav}\n",
    );
    assert!(e.to_string().contains("a whole number of bits (0 or more) is expected here, not `-3`"), "{e}");
    assert!(!e.to_string().contains("u32"), "{e}");
}
