//! `report.html`: one self-contained page (inline CSS and SVG, no scripts,
//! fonts or links) that a mastering engineer reads on a laptop or on paper:
//! the album against its target and its sequence (timeline, edits, CUE
//! sheets), then per track the loudness over time, where the limiter
//! worked, the spectrum before and after, the figures and every check in
//! words; then the deliverables.
//!
//! The page is well-formed XML as well as HTML, so tests can parse it strictly.

use std::fmt::Write;

mod charts;
mod timeline;

use super::Exporter;
use super::svg::esc;
use crate::qc::{Check, Severity};
use crate::report::text::{SummaryRow, chain_stages, match_stage, mode_name, num};
use crate::report::{MasterReport, Report, StemReport, TrackReport};
use charts::{album_charts, track_charts};

pub struct HtmlExporter;

/// Points per time series: enough for a 760-pixel-wide plot, and a
/// 20-track album stays far under a megabyte.
pub(super) const MAX_POINTS: usize = 500;

const STYLE: &str = r#"
:root { --ink: #1d2430; --muted: #5b6575; --rule: #d9dee6; --bg: #f6f7f9; --card: #fff;
        --pre: #9aa3b0; --master: #1f6feb; --target: #d97706; --ceiling: #c2410c; --gr: #b42318;
        --ok: #067647; --warn: #b54708; --fail: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 19px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 18px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.sub { color: var(--muted); margin: 0 0 14px; }
.held { border-left: 3px solid var(--warn); padding: 4px 10px; background: #fffaf0; }
section { background: var(--card); border: 1px solid var(--rule); border-radius: 8px; padding: 18px 20px; margin: 18px 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--rule); text-align: right; white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
table.tracks th { white-space: normal; }
td.l, th.l { text-align: left; white-space: normal; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; vertical-align: middle; }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); } .badge.fail { background: var(--fail); } .badge.info { background: var(--muted); }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px 18px; margin: 12px 0; }
.figures div { border-left: 3px solid var(--rule); padding-left: 8px; }
.figures b { display: block; font-size: 17px; font-variant-numeric: tabular-nums; }
.figures span { color: var(--muted); font-size: 12px; }
ul.checks { list-style: none; padding: 0; margin: 0; }
ul.checks li { padding: 3px 0 3px 10px; border-left: 3px solid var(--rule); margin: 4px 0; }
ul.checks li.fail { border-color: var(--fail); } ul.checks li.warn { border-color: var(--warn); } ul.checks li.info { border-color: var(--muted); }
ul.checks code { color: var(--muted); font-size: 12px; }
svg.plot { width: 100%; height: auto; display: block; margin: 6px 0; }
svg .track { fill: var(--master); fill-opacity: .18; stroke: var(--master); stroke-width: 1; }
pre.cue { background: var(--bg); padding: 8px 10px; font-size: 12px; overflow-x: auto; }
svg .frame { fill: none; stroke: #aab2bf; stroke-width: 1; }
svg .grid { stroke: #edf0f4; stroke-width: 1; }
svg .tick, svg .legend, svg .ref-label { font-size: 11px; fill: var(--muted); font-family: inherit; }
svg .axis { font-size: 11px; fill: var(--ink); font-family: inherit; }
svg .line { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
svg .line.pre { stroke: var(--pre); } svg .line.master { stroke: var(--master); }
svg .line.reference { stroke: var(--target); stroke-dasharray: 6 3; } svg .key.reference { fill: var(--target); }
svg .line.side { stroke: var(--gr); } svg .key.side { fill: var(--gr); }
svg .area.gr { fill: var(--gr); fill-opacity: .35; stroke: var(--gr); stroke-width: 1; }
svg .dot.pre { fill: var(--pre); } svg .dot.master { fill: var(--master); }
svg .dash.target { stroke: var(--target); stroke-width: 2.5; }
svg .ref { stroke-width: 1.2; stroke-dasharray: 5 4; }
svg .ref.target { stroke: var(--target); } svg .ref.ceiling { stroke: var(--ceiling); }
svg .ref-label.target { fill: var(--target); } svg .ref-label.ceiling { fill: var(--ceiling); }
svg .key.pre { fill: var(--pre); } svg .key.master { fill: var(--master); } svg .key.gr { fill: var(--gr); fill-opacity: .6; }
svg .key.target { fill: var(--target); } svg .key.ceiling { fill: var(--ceiling); }
.plots { display: grid; grid-template-columns: 1fr; gap: 4px; }
a { color: var(--master); }
footer { color: var(--muted); font-size: 12px; text-align: center; }
@media print {
  body { background: #fff; font-size: 11px; }
  main { max-width: none; padding: 0; }
  section { border: none; border-top: 1px solid var(--rule); border-radius: 0; padding: 10px 0; break-inside: avoid; }
  section.track { break-before: page; }
  a { color: inherit; text-decoration: none; }
}
"#;

fn severity_class(s: Option<Severity>) -> &'static str {
    match s {
        None => "ok",
        Some(Severity::Info) => "info",
        Some(Severity::Warn) => "warn",
        Some(Severity::Fail) => "fail",
    }
}

fn badge(s: Option<Severity>) -> String {
    let label = match s {
        None | Some(Severity::Info) => "ok",
        Some(Severity::Warn) => "warnings",
        Some(Severity::Fail) => "failed",
    };
    format!(r#"<span class="badge {}">{label}</span>"#, severity_class(s))
}

fn figure(s: &mut String, value: String, label: &str) {
    let _ = write!(s, "<div><b>{}</b><span>{}</span></div>", esc(&value), esc(label));
}

/// The label of the reached loudness: on target, or what stopped it short.
fn reached_label(m: &MasterReport) -> String {
    if m.short_of_target_lu <= 0.1 {
        "reached".into()
    } else {
        format!("reached: held by {}", m.limited_by.describe())
    }
}

fn checks_list(s: &mut String, checks: &[Check]) {
    if checks.is_empty() {
        s.push_str(r#"<p class="sub">Every check passed.</p>"#);
        return;
    }
    let mut sorted: Vec<&Check> = checks.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.severity));
    s.push_str(r#"<ul class="checks">"#);
    for c in sorted {
        let _ = write!(
            s,
            r#"<li class="{}"><b>{}</b> {} <code>{}</code></li>"#,
            severity_class(Some(c.severity)),
            c.severity.label(),
            esc(&c.message),
            esc(c.id.as_str())
        );
    }
    s.push_str("</ul>");
}

fn track_section(s: &mut String, t: &TrackReport, ceiling_dbtp: f64) {
    let worst = t.checks.iter().map(|c| c.severity).max();
    let _ = write!(
        s,
        r#"<section class="track" id="track-{}"><h2>{:02} · {} {}</h2>"#,
        t.index,
        t.index,
        esc(&t.title),
        badge(worst)
    );
    let _ = write!(
        s,
        r#"<p class="sub">{} from <code>{}</code> · {} · {} Hz{} · {} · {}</p>"#,
        if t.kind == "stems" { "Stem master" } else { "Stereo master" },
        esc(&t.premaster.path),
        esc(&t.premaster.codec),
        t.premaster.sample_rate,
        t.premaster.bit_depth.map(|b| format!(", {b}-bit")).unwrap_or_default(),
        if t.premaster.channels == 1 {
            "1 ch, measured as dual mono".to_string()
        } else {
            format!("{} ch", t.premaster.channels)
        },
        clock(t.premaster.duration_s)
    );
    s.push_str(r#"<div class="plots">"#);
    track_charts(s, t);
    s.push_str("</div>");
    figures_table(s, t);
    figures(s, t);
    chain_list(s, t, ceiling_dbtp);
    if let Some(stems) = &t.stems {
        stems_table(s, stems);
    }
    outputs_table(s, t);
    s.push_str("<h3>Checks</h3>");
    checks_list(s, &t.checks);
    s.push_str("</section>");
}

/// The premaster's and the master's readings side by side.
fn figures_table(s: &mut String, t: &TrackReport) {
    let (p, m) = (&t.premaster, &t.master);
    s.push_str(r#"<h3>Figures</h3><table><tr><th class="l"></th><th>integrated LUFS</th><th>true peak dBTP</th><th>sample peak dBFS</th><th>LRA LU</th><th>PLR dB</th><th>max short-term LUFS</th></tr>"#);
    let primary = t.outputs.first();
    let _ = write!(
        s,
        r#"<tr><td class="l">premaster</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
        num(p.integrated_lufs, 2),
        num(p.true_peak_dbtp, 2),
        num(p.sample_peak_dbfs, 2),
        num(p.lra_lu, 1),
        num(p.plr_db, 1),
        num(p.short_term_max_lufs, 1)
    );
    let _ = write!(
        s,
        r#"<tr><td class="l">master</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>"#,
        num(m.integrated_lufs, 2),
        num(m.true_peak_dbtp, 2),
        primary.map_or("".into(), |o| num(o.sample_peak_dbfs, 2)),
        num(m.lra_lu, 1),
        num(m.true_peak_dbtp - m.integrated_lufs, 1),
        primary.map_or("".into(), |o| num(o.short_term_max_lufs, 1))
    );
}

/// What mastering did: target, gain, limiting, dynamics.
fn figures(s: &mut String, t: &TrackReport) {
    let (p, m) = (&t.premaster, &t.master);
    s.push_str(r#"<div class="figures">"#);
    figure(s, format!("{:.1} LUFS", m.target_lufs), "target");
    figure(s, format!("{} LUFS", num(m.integrated_lufs, 2)), &reached_label(m));
    match m.trim_db {
        Some(trim) => figure(
            s,
            format!("{:+.2} {:+.2} dB", m.gain_db - trim, trim),
            "gain into the limiter: the album's, and this track's trim",
        ),
        None => figure(s, format!("{:+.2} dB", m.gain_db), "gain into the limiter"),
    }
    figure(
        s,
        format!("{:.1} / {:.1} dB", m.max_limiting_db, m.sustained_limiting_db),
        &format!(
            "limiting peak / sustained (budget {:.1} / {:.1})",
            m.limiting_budget.peak_db, m.limiting_budget.sustained_db
        ),
    );
    figure(
        s,
        format!(
            "{:.1} / {:.1} / {:.1} s",
            m.limiting_seconds_over_1db, m.limiting_seconds_over_3db, m.limiting_seconds_over_6db
        ),
        "limiting over 1 / 3 / 6 dB",
    );
    figure(s, format!("{} → {} LU", num(p.lra_lu, 1), num(m.lra_lu, 1)), "loudness range before → after");
    if let (Some(max), Some(mean)) = (m.compressor_max_gain_reduction_db, m.compressor_mean_gain_reduction_db)
    {
        figure(s, format!("{max:.1} / {mean:.1} dB"), "compressor max / mean");
    }
    if let Some(tonal) = &t.tonal {
        figure(
            s,
            format!("{:.1} → {:.1} dB", tonal.distance_before_db, tonal.distance_after_db),
            &format!("tonal distance to the reference ({}), before → after", tonal.reference),
        );
    }
    figure(s, m.passes.to_string(), "render passes");
    s.push_str("</div>");
}

/// `Album gain dB` as a table header here: `album gain dB`.
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_lowercase().chain(c).collect())
}

/// The chain the track was mastered with.
fn chain_list(s: &mut String, t: &TrackReport, ceiling_dbtp: f64) {
    s.push_str(r#"<h3>Chain</h3><ul class="chain">"#);
    if let Some(m) = &t.tonal {
        let _ = write!(s, "<li>{}</li>", esc(&match_stage(m)));
    }
    for stage in chain_stages(&t.chain, ceiling_dbtp) {
        let _ = write!(s, "<li>{}</li>", esc(&stage));
    }
    s.push_str("</ul>");
}

fn stems_table(s: &mut String, stems: &[StemReport]) {
    {
        s.push_str(r#"<h3>Stems</h3><table><tr><th class="l">stem</th><th class="l">file</th><th>gain dB</th><th>pan</th><th>polarity</th><th>EQ bands</th><th>in the mix LUFS</th><th>file peak dBFS</th><th>share %</th></tr>"#);
        for st in stems {
            let _ = write!(
                s,
                r#"<tr><td class="l">{}{}</td><td class="l"><code>{}</code></td><td>{:+.1}</td><td>{:+.2}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td></tr>"#,
                esc(&st.name),
                if st.mute { " (muted)" } else { "" },
                esc(&st.file),
                st.gain_db,
                st.pan,
                st.polarity,
                st.eq_bands,
                num(st.integrated_lufs, 1),
                num(st.file_peak_dbfs, 1),
                st.share_pct
            );
        }
        s.push_str("</table>");
    }
}

fn outputs_table(s: &mut String, t: &TrackReport) {
    s.push_str(r#"<h3>Written files</h3><table><tr><th class="l">deliverable</th><th class="l">path</th><th>format</th><th>LUFS</th><th>dBTP</th><th>sample peak dBFS</th><th>LRA LU</th><th>length</th></tr>"#);
    for o in &t.outputs {
        let _ = write!(
            s,
            r#"<tr><td class="l">{}</td><td class="l"><code>{}</code></td><td>{} Hz, {}-bit</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&o.deliverable),
            esc(&o.path),
            o.sample_rate,
            o.bit_depth,
            num(o.integrated_lufs, 2),
            num(o.true_peak_dbtp, 2),
            num(o.sample_peak_dbfs, 2),
            num(o.lra_lu, 1),
            clock(o.duration_s)
        );
    }
    s.push_str("</table>");
}

/// `m:ss.s`
fn clock(seconds: f64) -> String {
    format!("{}:{:04.1}", (seconds / 60.0) as u64, seconds % 60.0)
}

impl Exporter for HtmlExporter {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, r: &Report) -> String {
        let a = &r.album;
        let mut s = String::with_capacity(64 * 1024 * (1 + r.tracks.len()));
        let _ = write!(
            s,
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>{} · lathe QC report</title><style>{STYLE}</style></head><body><main>"#,
            esc(&a.title)
        );
        let worst = r.worst();
        let _ = write!(
            s,
            r#"<header><h1>{} {}</h1><p class="sub">{}{} mode{} · {} tracks · lathe {}</p></header>"#,
            esc(&a.title),
            if r.passed { badge(worst) } else { badge(Some(Severity::Fail)) },
            a.artist.as_deref().map(|x| format!("{} · ", esc(x))).unwrap_or_default(),
            mode_name(a.mode),
            a.preset.as_deref().map(|p| format!(" (preset {})", esc(p))).unwrap_or_default(),
            r.tracks.len(),
            esc(r.lathe_version)
        );

        album_section(&mut s, r);
        timeline::sequence_section(&mut s, r);
        for t in &r.tracks {
            track_section(&mut s, t, r.album.ceiling_dbtp);
        }
        deliverables_section(&mut s, r);
        s.push_str(
            "<footer>Loudness per ITU-R BS.1770-4 / EBU R128; true peak 4× oversampled on the written files.</footer></main></body></html>\n",
        );
        s
    }
}

/// The album against its target, its charts, the tracks at a glance.
fn album_section(s: &mut String, r: &Report) {
    let a = &r.album;
    {
        s.push_str(r#"<section class="album"><h2>Album</h2><div class="figures">"#);
        figure(s, format!("{:.1} LUFS", a.target_lufs), "target");
        figure(s, format!("{:.1} dBTP", a.ceiling_dbtp), "ceiling");
        figure(s, format!("{} LUFS", num(a.integrated_lufs, 2)), "album loudness (pooled)");
        figure(s, format!("{} dBTP", num(a.true_peak_dbtp, 2)), "highest true peak");
        figure(s, format!("{} LU", num(a.lra_lu, 1)), "album loudness range");
        figure(s, format!("{:.1} LU", a.loudness_spread_lu), "track spread, offsets taken out");
        figure(s, format!("{:.1} dB", a.tonal_spread_db), "tonal spread (from the album's own balance)");
        figure(s, format!("{} LUFS", num(a.premaster_integrated_lufs, 2)), "premasters (pooled)");
        if let Some(g) = a.album_gain_db {
            figure(s, format!("{g:+.2} dB"), "album gain");
        }
        s.push_str("</div>");
        if let Some(h) = &a.held_back_by {
            let _ = write!(
                s,
                r##"<p class="held">The album sits {:.1} LU under what its anchor asks: track {} <a href="#track-{}">{}</a> cannot take more gain within its limiting budget, and the album keeps its tracks' relative levels. The album checks below say what to do.</p>"##,
                h.by_lu,
                h.track,
                h.track,
                esc(&h.title)
            );
        }
        album_charts(s, r);
        let gains: String =
            SummaryRow::gain_headers(r).iter().map(|h| format!("<th>{}</th>", lower_first(h.1))).collect();
        let _ = write!(
            s,
            r#"<h3>Tracks</h3><table class="tracks"><tr><th>#</th><th class="l">title</th><th>pre LUFS</th><th>dBTP</th>{gains}<th>master LUFS</th><th>target</th><th>dBTP</th><th>LRA in / out</th><th>limiting pk / sus</th><th class="l">QC</th></tr>"#
        );
        for t in &r.tracks {
            let row = SummaryRow::of(t);
            let _ = write!(
                s,
                r##"<tr><td>{}</td><td class="l"><a href="#track-{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{} / {}</td><td class="l">{}</td></tr>"##,
                t.index,
                t.index,
                esc(&t.title),
                row.premaster_lufs,
                row.premaster_dbtp,
                row.gain_cells().join("</td><td>"),
                row.master_lufs,
                row.target_lufs,
                row.master_dbtp,
                row.lra_in,
                row.lra_out,
                row.limiting_peak_db,
                row.limiting_sustained_db,
                badge(row.qc)
            );
        }
        s.push_str("</table><h3>Album checks</h3>");
        checks_list(s, &r.checks);
        s.push_str("</section>");
    }
}

fn deliverables_section(s: &mut String, r: &Report) {
    {
        s.push_str(r#"<section class="deliverables"><h2>Deliverables</h2><table><tr><th class="l">name</th><th class="l">folder</th><th>format</th><th>rate</th><th>bits</th><th class="l">dither</th><th>album LUFS</th><th>highest dBTP</th></tr>"#);
        for d in &r.album.deliverables {
            let _ = write!(
                s,
                r#"<tr><td class="l">{}</td><td class="l"><code>{}/</code></td><td>{}</td><td>{}</td><td>{}</td><td class="l">{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&d.name),
                esc(&d.name),
                esc(&d.format_label()),
                d.rate_label(),
                d.bits_label(),
                d.dither,
                num(d.integrated_lufs, 2),
                num(d.true_peak_dbtp, 2)
            );
        }
        s.push_str("</table></section>");
    }
}
