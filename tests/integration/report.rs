//! The report files: Markdown and JSON snapshots of a fixed fixture, the HTML
//! page parsed strictly, and the sample album's page rendered in Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use lathe::dsp::spectrum::{Spectrum, band_centres};
use lathe::manifest::Mode;
use lathe::qc::{Check, CheckId, Severity};
use lathe::report::*;

use crate::util::*;

fn check(id: &str, severity: Severity, message: &str) -> Check {
    let id: CheckId = id.parse().expect("a known check id");
    Check { id, severity, message: message.into(), value: None, threshold: None }
}

fn spectrum(tilt: f64, level: f64) -> Spectrum {
    let centres = band_centres();
    let levels_db = centres.iter().map(|f| level - tilt * (f / 100.0).log2().abs()).collect();
    Spectrum { centres_hz: centres, levels_db }
}

/// A fixed report: `tracks` tracks of `seconds` each, the second one a stems
/// track with a failed and a warned check.
fn fixture(tracks: usize, seconds: f64) -> Report {
    let readings = (seconds * 10.0) as usize;
    let series = |base: f64, depth: f64| -> Vec<f32> {
        (0..readings)
            .map(|k| if k < 29 { f32::NEG_INFINITY } else { (base + depth * (k as f64 / 70.0).sin()) as f32 })
            .collect()
    };
    let tracks: Vec<TrackReport> = (1..=tracks)
        .map(|i| {
            let pre = -20.0 - i as f64 * 0.5;
            let stems = i == 2;
            let mut checks = vec![check(
                "premaster.headroom",
                Severity::Warn,
                "peaks reach -1.4 dBFS; leave 3–10 dB of headroom for mastering",
            )];
            if stems {
                checks.push(check(
                    "master.true_peak",
                    Severity::Fail,
                    "cd: true peak -0.92 dBTP is over the -1.0 dBTP ceiling",
                ));
            }
            let mut chain = lathe::manifest::Chain::default();
            if stems {
                chain.compressor = Some(lathe::dsp::compressor::CompressorSettings::default());
            }
            TrackReport {
                chain,
                tonal: None,
                index: i,
                title: if i == 1 { "Night Drive | Edit".into() } else { format!("Track <{i}> & Co") },
                kind: if stems { "stems" } else { "mix" },
                premaster: PremasterReport {
                    path: format!("mixes/{i:02}.wav"),
                    codec: "pcm_s24le".into(),
                    integrated_lufs: pre,
                    true_peak_dbtp: -4.5,
                    sample_peak_dbfs: -4.6,
                    lra_lu: 8.0,
                    plr_db: pre.abs() - 4.5,
                    momentary_max_lufs: pre + 6.0,
                    short_term_max_lufs: pre + 4.0,
                    sample_rate: 48000,
                    bit_depth: Some(24),
                    channels: 2,
                    duration_s: seconds,
                },
                master: MasterReport {
                    target_lufs: -14.0,
                    integrated_lufs: -14.01,
                    short_of_target_lu: 0.0,
                    programme: None,
                    limited_by: lathe::pipeline::Bound::Target,
                    true_peak_dbtp: if stems { -0.92 } else { -1.1 },
                    lra_lu: 7.2,
                    lra_loss_lu: 0.8,
                    gain_db: -14.0 - pre,
                    trim_db: Some(-14.0 - pre - 7.2),
                    max_limiting_db: 3.2,
                    sustained_limiting_db: 0.9,
                    mean_limiting_db: 0.41,
                    limiting_seconds_over_1db: 12.5,
                    limiting_seconds_over_3db: 0.4,
                    limiting_seconds_over_6db: 0.0,
                    limiting_budget: BudgetReport { sustained_db: 1.5, peak_db: 6.0 },
                    needed: None,
                    compressor_max_gain_reduction_db: stems.then_some(4.0),
                    compressor_mean_gain_reduction_db: stems.then_some(1.5),
                    passes: 2,
                },
                outputs: vec![OutputReport {
                    deliverable: "cd".into(),
                    path: format!("cd/{i:02} - Track.wav"),
                    format: "wav",
                    sample_rate: 44100,
                    bit_depth: 16,
                    integrated_lufs: -14.01,
                    true_peak_dbtp: if stems { -0.92 } else { -1.1 },
                    sample_peak_dbfs: -1.3,
                    lra_lu: 7.2,
                    momentary_max_lufs: -9.5,
                    short_term_max_lufs: -11.2,
                    duration_s: seconds,
                    frames: (seconds * 44100.0) as usize,
                    tags: [("INAM".to_string(), "Track".to_string())].into(),
                    codec: None,
                }],
                checks,
                stems: stems.then(|| {
                    vec![StemReport {
                        name: "vocals".into(),
                        file: "stems/02/vocals.wav".into(),
                        gain_db: 1.5,
                        pan: 0.0,
                        mute: false,
                        polarity: "normal",
                        eq_bands: 1,
                        channels: 2,
                        frames: (seconds * 48000.0) as u64,
                        integrated_lufs: -24.0,
                        file_peak_dbfs: -6.0,
                        share_pct: 40.0,
                    }]
                }),
                plots: TrackPlots {
                    premaster_short_term_lufs: series(pre, 4.0).into(),
                    master_short_term_lufs: series(-14.0, 3.0).into(),
                    limiter_gain_reduction_db: (0..readings)
                        .map(|k| (3.2 * (k as f64 / 13.0).sin()).max(0.0) as f32)
                        .collect::<Vec<f32>>()
                        .into(),
                    premaster_spectrum: spectrum(3.0, -25.0),
                    master_spectrum: spectrum(3.0, -19.0),
                    reference_spectrum: None,
                },
            }
        })
        .collect();
    Report {
        schema_version: 1,
        lathe_version: "test",
        passed: false,
        album: AlbumReport {
            title: "Night Drive".into(),
            artist: Some("The Examples".into()),
            mode: Mode::Album,
            preset: Some("streaming".into()),
            target_lufs: -14.0,
            ceiling_dbtp: -1.0,
            integrated_lufs: -14.01,
            lra_lu: 8.3,
            true_peak_dbtp: -0.92,
            tonal_spread_db: 1.25,
            loudness_spread_lu: 0.4,
            premaster_integrated_lufs: -21.2,
            album_anchor: Some(lathe::manifest::AlbumAnchor::Pooled),
            album_gain_db: Some(7.2),
            held_back_by: None,
            album_passes: 1,
            deliverables: vec![DeliverableReport {
                name: "cd".into(),
                format: "wav",
                compression: None,
                bitrate_kbps: None,
                vbr_quality: None,
                sample_rate: Some(44100),
                bit_depth: 16,
                dither: "tpdf",
                integrated_lufs: -14.01,
                true_peak_dbtp: -0.92,
            }],
        },
        sequence: sequence(&tracks, seconds),
        images: vec![image(tracks.len(), seconds)],
        tracks,
        checks: vec![check("album.sample_rate_mix", Severity::Info, "premasters come at 44100, 48000 Hz")],
    }
}

/// Tracks of `seconds` each with 2 s gaps, the first trimmed, the last faded out.
fn sequence(tracks: &[TrackReport], seconds: f64) -> Vec<SequenceEntry> {
    (tracks.iter().enumerate())
        .map(|(k, t)| SequenceEntry {
            index: t.index,
            gap_s: 2.0,
            start_s: k as f64 * (seconds + 2.0),
            duration_s: seconds,
            edit: (k == 0 || k + 1 == tracks.len()).then_some(EditReport {
                start_s: if k == 0 { 1.25 } else { 0.0 },
                end_s: seconds + if k == 0 { 1.25 } else { 0.0 },
                premaster_duration_s: seconds + 3.0,
                trimmed: k == 0,
                fade_in_s: 0.0,
                fade_out_s: if k == 0 { 0.0 } else { 3.0 },
                fade_curve: lathe::dsp::edit::FadeCurve::EqualPower,
            }),
        })
        .collect()
}

/// A CD image of the sequence with its sheet.
fn image(tracks: usize, seconds: f64) -> ImageReport {
    let frames = (seconds * 75.0) as u64;
    let entries: Vec<CueEntry> = (0..tracks as u64)
        .map(|k| CueEntry {
            index: k as usize + 1,
            pregap: (k == 0).then(|| "00:02:00".into()),
            index00: (k > 0).then(|| {
                format!(
                    "{:02}:{:02}:00",
                    (k * (frames + 150) - 150) / 4500,
                    (k * (frames + 150) - 150) / 75 % 60
                )
            }),
            index01: format!("{:02}:{:02}:00", k * (frames + 150) / 4500, k * (frames + 150) / 75 % 60),
            start_frame: k * (frames + 150) * 588,
            frames: frames * 588,
        })
        .collect();
    ImageReport {
        deliverable: "cd".into(),
        path: "cd/Night Drive.wav".into(),
        cue_path: "cd/Night Drive.cue".into(),
        sample_rate: 44_100,
        cd: true,
        frames: (tracks as u64 * (frames + 150) - 150) * 588,
        duration_s: tracks as f64 * (seconds + 2.0) - 2.0,
        tracks: entries,
        cue: "CATALOG 0036000291452\r\nTITLE \"Night Drive\"\r\nFILE \"Night Drive.wav\" WAVE\r\n  TRACK 01 AUDIO\r\n    TITLE \"Night Drive | Edit\"\r\n    PREGAP 00:02:00\r\n    INDEX 01 00:00:00\r\n".into(),
    }
}

fn render(format: ReportFormat, report: &Report) -> String {
    format.exporter().render(report)
}

#[test]
fn markdown_report_matches_its_snapshot() {
    insta::assert_snapshot!("report.md", render(ReportFormat::Markdown, &fixture(3, 60.0)));
}

#[test]
fn json_report_matches_its_snapshot() {
    insta::assert_snapshot!("report.json", render(ReportFormat::Json, &fixture(2, 10.0)));
}

/// Parses `html` strictly and checks it is self-contained and carries
/// `album-loudness`, `album-peak` and a loudness, limiter and spectrum plot per track.
fn assert_self_contained_with_plots(html: &str, tracks: usize) {
    let doc = roxmltree::Document::parse_with_options(
        html,
        roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
    )
    .unwrap_or_else(|e| panic!("report.html does not parse: {e}"));
    for node in doc.descendants().filter(|n| n.is_element()) {
        let tag = node.tag_name().name();
        assert!(
            !["script", "link", "img", "iframe", "object", "embed", "image", "use", "base"].contains(&tag),
            "external or scripted element <{tag}>"
        );
        for a in node.attributes() {
            assert!(!["src", "srcset", "action"].contains(&a.name()), "<{tag} {}>", a.name());
            if a.name() == "href" {
                assert!(a.value().starts_with('#'), "link out of the page: {}", a.value());
            }
            assert!(!a.name().starts_with("on"), "event handler <{tag} {}>", a.name());
        }
        if tag == "style" {
            let css = node.text().unwrap_or("");
            assert!(
                !css.contains("url(") && !css.contains("@import") && !css.contains("@font-face"),
                "CSS fetches"
            );
        }
    }
    let plots = |scope: roxmltree::Node| -> Vec<String> {
        scope
            .descendants()
            .filter(|n| n.tag_name().name() == "svg")
            .filter_map(|n| n.attribute("data-plot").map(String::from))
            .collect()
    };
    let sections: Vec<_> = doc.descendants().filter(|n| n.tag_name().name() == "section").collect();
    let album = sections.iter().find(|s| s.attribute("class") == Some("album")).expect("album section");
    assert_eq!(plots(*album), ["album-loudness", "album-peak"]);
    let track_sections: Vec<_> = sections.iter().filter(|s| s.attribute("class") == Some("track")).collect();
    assert_eq!(track_sections.len(), tracks);
    for (i, s) in track_sections.iter().enumerate() {
        assert_eq!(s.attribute("id"), Some(format!("track-{}", i + 1).as_str()));
        assert_eq!(plots(**s), ["loudness", "limiter", "spectrum"], "track {}", i + 1);
        for svg in s.descendants().filter(|n| n.tag_name().name() == "svg") {
            let drawn = svg
                .descendants()
                .filter(|n| matches!(n.tag_name().name(), "path" | "circle"))
                .filter(|n| n.attribute("d").is_none_or(|d| d.len() > 20))
                .count();
            assert!(drawn > 0, "track {}: the {:?} plot is empty", i + 1, svg.attribute("data-plot"));
        }
    }
}

#[test]
fn html_report_parses_holds_no_external_reference_and_plots_every_track() {
    let html = render(ReportFormat::Html, &fixture(3, 60.0));
    assert_self_contained_with_plots(&html, 3);
    // Titles are escaped, checks are in words.
    assert!(html.contains("Track &lt;2&gt; &amp; Co"));
    assert!(html.contains("true peak -0.92 dBTP is over the -1.0 dBTP ceiling"));
    // Album mode: the album's gain on every row, and each track's trim.
    assert!(html.contains("<th>album gain dB</th><th>trim dB</th>"), "gain headers");
    assert_eq!(html.matches("<td>+7.2</td><td>-0.7</td>").count(), 1, "track 1: +7.2 album, -0.7 trim");
    // Each track's chain, in words; the second has its compressor.
    assert_eq!(html.matches("<li>EQ: high-pass 20 Hz Q 0.71</li>").count(), 3);
    assert_eq!(html.matches("<li>compressor: threshold -18.0 dB, ratio 2.00:1").count(), 1);
    // Every figure cell is filled (the master's max short-term was blank).
    for figures in html.split("<h3>Figures</h3>").skip(1) {
        let table = &figures[..figures.find("</table>").unwrap()];
        assert!(!table.contains("<td></td>"), "an empty cell: {table}");
    }
    // Reference lines are named in the legend row (y=16), never on the plot.
    let labels: Vec<&str> = html.match_indices("class=\"ref-label").map(|(i, _)| &html[i..i + 80]).collect();
    assert!(!labels.is_empty());
    for l in labels {
        assert!(l.contains(" y=\"16\""), "{l}");
    }
}

#[test]
fn html_report_of_a_long_album_stays_small() {
    let html = render(ReportFormat::Html, &fixture(20, 8.0 * 60.0));
    assert_self_contained_with_plots(&html, 20);
    assert!(html.len() < 5 << 20, "{} bytes for 20 tracks of 8 minutes", html.len());
}

/// The sample album mastered once, with every report format.
pub fn mastered_sample() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-sample");
        let _ = std::fs::remove_dir_all(&dir);
        let (tmp, manifest) = album_with("report", &sample_manifest());
        let o = run(&["master", manifest.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--quiet"]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        drop(tmp);
        dir
    })
}

#[test]
fn the_sample_album_gets_all_three_reports() {
    let out = mastered_sample();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_self_contained_with_plots(&html, 5);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for title in ["Night Drive", "Slow Bloom", "Underpass", "Hot Wire", "Lanterns"] {
        assert!(md.contains(&format!("| {title} |")), "report.md has a row for {title}");
        assert!(html.contains(title));
    }
    assert!(out.join("report.json").is_file());
}

#[test]
fn the_summary_table_is_printed_whatever_the_report_format() {
    let (tmp, manifest) = album_with("md-only", &sample_manifest());
    let out = tmp.path().join("out");
    let o = run(&[
        "master",
        manifest.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--report",
        "md",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for title in ["Night Drive", "Slow Bloom", "Underpass", "Hot Wire", "Lanterns"] {
        assert!(text.contains(title), "{text}");
    }
    assert!(out.join("report.md").is_file());
    assert!(!out.join("report.json").exists() && !out.join("report.html").exists());

    let o = run(&["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--report", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown report format `pdf`"), "{}", stderr(&o));
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
    })
}

/// Renders `page` headless to a PNG; returns the image and every console message Chromium logged.
fn screenshot(browser: &Path, page: &Path, png: &Path) -> (png::OutputInfo, Vec<u8>, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1100,3600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(o.status.success(), "chromium failed: {}", stderr(&o));
    let console = stderr(&o).lines().filter(|l| l.contains("CONSOLE")).map(String::from).collect();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info, buf, console)
}

#[test]
fn the_sample_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI must install chromium (see .ci/run)");
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();

    // The console check catches an error when there is one.
    let bad = tmp.path().join("bad.html");
    std::fs::write(&bad, "<html><body><script>console.error('planted')</script>x</body></html>").unwrap();
    let (_, _, console) = screenshot(&browser, &bad, &tmp.path().join("bad.png"));
    assert!(console.iter().any(|l| l.contains("planted")), "console messages are not captured: {console:?}");

    let page = mastered_sample().join("report.html");
    let png = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    let (info, pixels, console) = screenshot(&browser, &page, &png);
    assert!(console.is_empty(), "console messages: {console:?}");
    assert_eq!((info.width, info.height), (1100, 3600));
    let step = info.line_size / info.width as usize;
    let mut colours = std::collections::HashSet::new();
    let mut ink = 0usize;
    for px in pixels.chunks(step) {
        colours.insert(px[..3].to_vec());
        // Anything clearly darker than the page's light background.
        if px[..3].iter().map(|&c| c as u32).sum::<u32>() < 3 * 200 {
            ink += 1;
        }
    }
    let share = ink as f64 / (info.width * info.height) as f64;
    assert!(colours.len() > 50, "{} colours: a blank page", colours.len());
    assert!(share > 0.01, "{:.2}% of the page is drawn", share * 100.0);
    // The plots' colours are there: premaster grey-blue, master blue, limiter red.
    for (name, rgb) in [("master", [0x1f, 0x6f, 0xeb]), ("limiter", [0xb4, 0x23, 0x18])] {
        assert!(colours.contains(rgb.as_slice()), "no {name} colour {rgb:02x?} on the page");
    }
}
