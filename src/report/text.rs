//! The tables lathe prints on a terminal: `master`'s summary, `check`'s
//! findings and `analyze`'s readings.

use super::{Report, TrackReport};
use crate::analyze::AnalyzeReport;
use crate::dsp::biquad::Shape;
use crate::dsp::eq::BandChannel;
use crate::dsp::loudness::Measurement;
use crate::manifest::{Mode, Track, printable};
use crate::qc::Check;

/// A figure for a table: `-inf` for silence instead of a number.
pub fn num(x: f64, prec: usize) -> String {
    if x.is_finite() { format!("{x:.prec$}") } else { "-inf".into() }
}

/// Mode as the manifest spells it.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Album => "album",
        Mode::Track => "track",
    }
}

/// One track's row of the summary, its figures formatted once for every
/// table that shows them (stdout, `report.md`, `report.html`).
pub struct SummaryRow {
    pub premaster_lufs: String,
    pub premaster_dbtp: String,
    /// The gain into the limiter; in album mode the album's, the same on
    /// every row, and the track's own part of it in `trim_db`.
    pub gain_db: String,
    pub trim_db: Option<String>,
    pub master_lufs: String,
    pub target_lufs: String,
    pub master_dbtp: String,
    pub lra_in: String,
    pub lra_out: String,
    pub limiting_peak_db: String,
    pub limiting_sustained_db: String,
    /// The worst severity among the track's checks.
    pub qc: Option<crate::qc::Severity>,
}

impl SummaryRow {
    pub fn of(t: &TrackReport) -> SummaryRow {
        SummaryRow {
            premaster_lufs: num(t.premaster.integrated_lufs, 1),
            premaster_dbtp: num(t.premaster.true_peak_dbtp, 1),
            gain_db: format!("{:+.1}", t.master.gain_db - t.master.trim_db.unwrap_or(0.0)),
            trim_db: t.master.trim_db.map(|d| format!("{d:+.1}")),
            master_lufs: num(t.master.integrated_lufs, 2),
            target_lufs: format!("{:.1}", t.master.target_lufs),
            master_dbtp: num(t.master.true_peak_dbtp, 2),
            lra_in: num(t.premaster.lra_lu, 1),
            lra_out: num(t.master.lra_lu, 1),
            limiting_peak_db: format!("{:.1}", t.master.max_limiting_db),
            limiting_sustained_db: format!("{:.1}", t.master.sustained_limiting_db),
            qc: t.checks.iter().map(|c| c.severity).max(),
        }
    }

    /// The gain cells' headers, short (a terminal's) and long (a report
    /// file's): the gain, or in album mode the album's gain and the
    /// track's own trim.
    pub fn gain_headers(report: &Report) -> &'static [(&'static str, &'static str)] {
        if report.tracks.iter().any(|t| t.master.trim_db.is_some()) {
            &[("gain", "Album gain dB"), ("trim", "Trim dB")]
        } else {
            &[("gain", "Gain dB")]
        }
    }

    /// The gain cells, as many as [`SummaryRow::gain_headers`].
    pub fn gain_cells(&self) -> Vec<&str> {
        std::iter::once(self.gain_db.as_str()).chain(self.trim_db.as_deref()).collect()
    }

    /// The QC cell as a word: `ok`, `warn` or `FAIL`.
    pub fn qc_label(&self) -> &'static str {
        self.qc.map_or("ok", |s| s.label())
    }
}

/// The per-track summary table printed on stdout.
pub fn summary_table(report: &Report) -> String {
    let title_w = report.tracks.iter().map(|t| t.title.chars().count()).max().unwrap_or(5).clamp(5, 40);
    let mut s = String::new();
    let gains = |cells: &[&str]| cells.iter().map(|c| format!("  {c:>6}")).collect::<String>();
    s.push_str(&format!(
        "{:>2}  {:<title_w$}  {:>9} {:>7}{}  {:>9} {:>7} {:>7}  {:>15}  {:>6}\n",
        "#",
        "Title",
        "pre LUFS",
        "dBTP",
        gains(&SummaryRow::gain_headers(report).iter().map(|h| h.0).collect::<Vec<_>>()),
        "LUFS",
        "target",
        "dBTP",
        "limit pk / sus",
        "QC"
    ));
    for t in &report.tracks {
        let title: String = printable(&t.title).chars().take(title_w).collect();
        let row = SummaryRow::of(t);
        s.push_str(&format!(
            "{:>2}  {:<title_w$}  {:>9} {:>7}{}  {:>9} {:>7} {:>7}  {:>5} / {:>4} dB  {:>6}\n",
            t.index,
            title,
            row.premaster_lufs,
            row.premaster_dbtp,
            gains(&row.gain_cells()),
            row.master_lufs,
            row.target_lufs,
            row.master_dbtp,
            row.limiting_peak_db,
            row.limiting_sustained_db,
            row.qc_label()
        ));
        if t.master.short_of_target_lu > 0.1 {
            let of = match &t.master.programme {
                Some(p) => format!(" (tracks {}–{}, one gapless programme)", p.tracks[0], p.tracks[1]),
                None => String::new(),
            };
            s.push_str(&format!(
                "    {:.1} LU short of its target{of}: held by {}\n",
                t.master.short_of_target_lu,
                t.master.limited_by.describe()
            ));
        }
    }
    let a = &report.album;
    let gain = a.album_gain_db.map_or(String::new(), |g| {
        format!(": one gain of {g:+.2} dB, and each track's trim (its offset_lu, and what its chain takes or adds)")
    });
    s.push_str(&format!(
        "album: {} LUFS (target {:.1}), true peak {} dBTP (ceiling {:.1}), spread {:.1} LU (offsets taken out), {} mode{gain}\n",
        num(a.integrated_lufs, 2),
        a.target_lufs,
        num(a.true_peak_dbtp, 2),
        a.ceiling_dbtp,
        a.loudness_spread_lu,
        mode_name(a.mode)
    ));
    if let Some(h) = &a.held_back_by {
        s.push_str(&format!(
            "album: {:.1} LU under its target: track {} ({}) cannot take more gain within its limiting budget (see album.loudness)\n",
            h.by_lu,
            h.track,
            printable(&h.title)
        ));
    }
    s
}

/// The readable table of `lathe analyze` without `--json`.
pub fn analyze_table(r: &AnalyzeReport) -> String {
    let mut s = format!(
        "{:>8} {:>6} {:>7} {:>7} {:>7} {:>6} {:>7} {:>9}  file\n",
        "LUFS", "LRA", "dBTP", "dBFS", "M max", "PLR", "rate", "bits/ch"
    );
    for f in &r.files {
        s.push_str(&format!(
            "{:>8} {:>6} {:>7} {:>7} {:>7} {:>6} {:>7} {:>9}  {}\n",
            num(f.integrated_lufs, 2),
            num(f.lra_lu, 1),
            num(f.true_peak_dbtp, 2),
            num(f.sample_peak_dbfs, 2),
            num(f.momentary_max_lufs, 1),
            num(f.plr_db, 1),
            f.sample_rate,
            format!("{}/{}", f.bit_depth.map_or("-".into(), |b| b.to_string()), f.channels),
            f.path
        ));
        for c in &f.checks {
            s.push_str(&format!("         {:>4} {}: {}\n", c.severity.label(), c.id, c.message));
        }
    }
    if r.files.len() > 1 {
        s.push_str(&format!(
            "album (pooled): {} LUFS, LRA {} LU\n",
            num(r.album.integrated_lufs, 2),
            num(r.album.lra_lu, 1)
        ));
    }
    for c in &r.checks {
        s.push_str(&format!("{:>4} {}: {}\n", c.severity.label(), c.id, c.message));
    }
    if let Some(t) = &r.target {
        let held = match t.mode {
            crate::manifest::Mode::Album => "the album's pooled loudness and every file's ceiling",
            crate::manifest::Mode::Track => "every file's loudness and ceiling",
        };
        s.push_str(&format!(
            "target {}: {:.1} LUFS ±{} LU, ceiling {:.1} dBTP, on {held}: {}\n",
            t.name,
            t.loudness_lufs,
            t.tolerance_lu,
            t.true_peak_dbtp,
            if r.passed { "passed" } else { "FAILED" }
        ));
    }
    s
}

/// `lathe check`'s lines for one track: its readings, then every finding.
pub fn check_track(t: &Track, m: &Measurement, sample_rate: u32, checks: &[Check]) -> String {
    let mut s = format!(
        "{:02} {}: {:.1} LUFS, {:.1} dBTP, peak {:.1} dBFS, LRA {:.1} LU, {} Hz\n",
        t.number,
        printable(&t.title),
        m.integrated_lufs,
        m.true_peak_dbtp,
        m.sample_peak_dbfs,
        m.lra_lu,
        sample_rate
    );
    for c in checks {
        s.push_str(&format!("   {:>4} {}: {}\n", c.severity.label(), c.id, c.message));
    }
    s
}

/// A chain's settings in words, a stage a line, for a report to show what
/// a track was mastered with: every key merged and defaulted.
pub fn chain_stages(chain: &crate::dsp::chain::Chain, ceiling_dbtp: f64) -> Vec<String> {
    let bands: Vec<String> = chain
        .eq
        .iter()
        .map(|b| {
            let (name, gain) = match b.shape {
                Shape::Highpass => ("high-pass", false),
                Shape::Lowpass => ("low-pass", false),
                Shape::Notch => ("notch", false),
                Shape::LowShelf => ("low shelf", true),
                Shape::HighShelf => ("high shelf", true),
                Shape::Peak => ("peak", true),
            };
            let gain = if gain { format!(" {:+.1} dB", b.gain_db) } else { String::new() };
            let on = match b.channel {
                BandChannel::Stereo => "",
                BandChannel::Mid => " on the mid",
                BandChannel::Side => " on the side",
            };
            format!("{name} {} Hz{gain} Q {:.2}{on}", num(b.freq_hz, 0), b.q)
        })
        .collect();
    let mut stages = vec![format!("EQ: {}", if bands.is_empty() { "none".into() } else { bands.join("; ") })];
    stages.push(match &chain.compressor {
        Some(c) => format!(
            "compressor: threshold {:.1} dB, ratio {:.2}:1, attack {} ms, release {} ms, knee {:.1} dB, makeup {:+.1} dB{}",
            c.threshold_db,
            c.ratio,
            num(c.attack_ms, 1),
            num(c.release_ms, 0),
            c.knee_db,
            c.makeup_db,
            c.sidechain_hpf_hz.map(|f| format!(", side-chain high-pass {f:.0} Hz")).unwrap_or_default()
        ),
        None => "compressor: none".into(),
    });
    stages.push(format!(
        "width {:.2}{}",
        chain.width.width,
        chain.width.mono_below_hz.map(|f| format!(", mono below {f:.0} Hz")).unwrap_or_default()
    ));
    let l = &chain.limiter;
    stages.push(format!(
        "limiter: ceiling {ceiling_dbtp:.1} dBTP, lookahead {} ms, release {} ms, hold {} ms; budget {:.1} dB sustained, {:.1} dB peak",
        num(l.lookahead_ms, 1),
        num(l.release_ms, 0),
        num(l.hold_ms, 0),
        l.budget.sustained_db,
        l.budget.peak_db
    ));
    stages
}

/// The match EQ's settings in words, the first stage of a matched chain.
pub fn match_stage(m: &super::TonalReport) -> String {
    format!(
        "match EQ: toward {}, amount {:.2}, within ±{:.1} dB, smoothed over {:.2} octave (linear phase, mid and side)",
        m.reference, m.amount, m.max_db, m.smoothing_oct
    )
}
