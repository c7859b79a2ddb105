//! `report.md`: the QC summary in Markdown, for a CI job to post (a pull
//! request comment, a job summary): the verdict, a row per track, every
//! failed and warned check, and the deliverables.

use std::fmt::Write;

use super::Exporter;
use crate::qc::Severity;
use crate::report::Report;
use crate::report::text::{SummaryRow, chain_stages, num};

pub struct MarkdownExporter;

/// Text safe inside a table cell or list item: Markdown and HTML
/// punctuation escaped, line breaks folded.
fn cell(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '|' | '<' | '>' | '*' | '_' | '`' | '[' | ']' | '#' => {
                o.push('\\');
                o.push(ch);
            }
            '\n' | '\r' => o.push(' '),
            c if c.is_control() => o.extend(c.escape_default()),
            c => o.push(c),
        }
    }
    o
}

impl Exporter for MarkdownExporter {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, r: &Report) -> String {
        let mut s = String::new();
        header(&mut s, r);
        tracks(&mut s, r);
        chains(&mut s, r);
        checks(&mut s, r);
        sequence(&mut s, r);
        deliverables(&mut s, r);
        let _ = writeln!(s, "\n<sub>lathe {}</sub>", r.lathe_version);
        s
    }
}

/// The title with the verdict, and the album's figures in one sentence.
fn header(s: &mut String, r: &Report) {
    let a = &r.album;
    let by = a.artist.as_deref().map(|x| format!(" by {}", cell(x))).unwrap_or_default();
    let _ = writeln!(s, "# {}{by}: QC {}\n", cell(&a.title), if r.passed { "passed" } else { "FAILED" });
    let _ = writeln!(
        s,
        "{} mode{}, target {:.1} LUFS, ceiling {:.1} dBTP. The album measures **{} LUFS** and **{} dBTP**, \
             LRA {} LU, track spread {:.1} LU with offsets taken out, tonal spread {:.1} dB (premasters: {} LUFS).\n",
        match a.mode {
            crate::manifest::Mode::Album => "Album",
            crate::manifest::Mode::Track => "Track",
        },
        a.preset.as_deref().map(|p| format!(" (preset `{p}`)")).unwrap_or_default(),
        a.target_lufs,
        a.ceiling_dbtp,
        num(a.integrated_lufs, 2),
        num(a.true_peak_dbtp, 2),
        num(a.lra_lu, 1),
        a.loudness_spread_lu,
        a.tonal_spread_db,
        num(a.premaster_integrated_lufs, 2),
    );
}

/// A row per track.
fn tracks(s: &mut String, r: &Report) {
    let headers = SummaryRow::gain_headers(r);
    let gains: String = headers.iter().map(|h| format!(" {} |", h.1)).collect();
    let _ = writeln!(
        s,
        "| # | Title | Premaster LUFS | Premaster dBTP |{gains} Master LUFS | Target | Master dBTP | LRA before → after | Limiting peak / sustained dB | QC |"
    );
    let _ = writeln!(s, "|--:|:--|--:|--:|{}--:|--:|--:|--:|--:|:--|", "--:|".repeat(headers.len()));
    for t in &r.tracks {
        let row = SummaryRow::of(t);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} → {} | {} / {} | {} |",
            t.index,
            cell(&t.title),
            row.premaster_lufs,
            row.premaster_dbtp,
            row.gain_cells().join(" | "),
            row.master_lufs,
            row.target_lufs,
            row.master_dbtp,
            row.lra_in,
            row.lra_out,
            row.limiting_peak_db,
            row.limiting_sustained_db,
            row.qc_label()
        );
    }
}

/// The chains the tracks were mastered with: one list for the tracks that
/// share a chain (usually all of them), one per other chain.
fn chains(s: &mut String, r: &Report) {
    let mut groups: Vec<(&crate::dsp::chain::Chain, Vec<usize>)> = Vec::new();
    for t in &r.tracks {
        match groups.iter_mut().find(|(c, _)| **c == t.chain) {
            Some((_, tracks)) => tracks.push(t.index),
            None => groups.push((&t.chain, vec![t.index])),
        }
    }
    s.push_str("\n## Chain\n");
    let matched: Vec<_> = r.tracks.iter().filter_map(|t| t.tonal.as_ref().map(|m| (t, m))).collect();
    if !matched.is_empty() {
        s.push_str("\n| # | Match EQ | Tonal distance before → after dB |\n|--:|:--|--:|\n");
        for (t, m) in matched {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} → {:.1} |",
                t.index,
                cell(&crate::report::text::match_stage(m)),
                m.distance_before_db,
                m.distance_after_db
            );
        }
    }
    for (chain, tracks) in groups {
        let whom = if tracks.len() == r.tracks.len() {
            "Every track".to_string()
        } else {
            let n: Vec<String> = tracks.iter().map(|i| i.to_string()).collect();
            format!("Track{} {}", if n.len() > 1 { "s" } else { "" }, n.join(", "))
        };
        let _ = writeln!(s, "\n{whom}:\n");
        for stage in chain_stages(chain, r.album.ceiling_dbtp) {
            let _ = writeln!(s, "- {}", cell(&stage));
        }
    }
}

/// Every failed check, then every warning, each with its track.
fn checks(s: &mut String, r: &Report) {
    for (severity, heading) in [(Severity::Fail, "Failed checks"), (Severity::Warn, "Warnings")] {
        let found: Vec<_> = r.all_checks().filter(|(_, c)| c.severity == severity).collect();
        if found.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n## {heading}\n");
        for (track, c) in found {
            let whom = track.map_or("Album".to_string(), |t| format!("{:02} {}", t.index, cell(&t.title)));
            let _ = writeln!(s, "- **{whom}** `{}`: {}", c.id, cell(&c.message));
        }
    }
}

/// The sequence (when a track is edited or an image is made): each track's
/// gap, start and length, and each image's CUE sheet.
fn sequence(s: &mut String, r: &Report) {
    if r.images.is_empty() && r.sequence.iter().all(|e| e.edit.is_none()) {
        return;
    }
    s.push_str("\n## Sequence\n\n| # | Gap s | Starts s | Length s | Edit |\n|--:|--:|--:|--:|:--|\n");
    for e in &r.sequence {
        let edit = e.edit.as_ref().map_or(String::from("as delivered"), |d| {
            format!(
                "{:.3}–{:.3} s{}{}{}",
                d.start_s,
                d.end_s,
                if d.trimmed { ", trimmed" } else { "" },
                if d.fade_in_s > 0.0 { format!(", fade in {:.2} s", d.fade_in_s) } else { String::new() },
                if d.fade_out_s > 0.0 { format!(", fade out {:.2} s", d.fade_out_s) } else { String::new() }
            )
        });
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.2} | {} |",
            e.index, e.gap_s, e.start_s, e.duration_s, edit
        );
    }
    for i in &r.images {
        let _ = write!(
            s,
            "\nImage `{}`, its sheet `{}`:\n\n```\n{}```\n",
            i.path,
            i.cue_path,
            i.cue.replace("\r\n", "\n")
        );
    }
}

/// A row per deliverable, with its album figures.
fn deliverables(s: &mut String, r: &Report) {
    let a = &r.album;
    s.push_str("\n## Deliverables\n\n| Name | Format | Rate | Bits | Dither | Album LUFS | Max dBTP |\n");
    s.push_str("|:--|:--|--:|--:|:--|--:|--:|\n");
    for d in &a.deliverables {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&d.name),
            d.format_label(),
            d.rate_label(),
            d.bits_label(),
            d.dither,
            num(d.integrated_lufs, 2),
            num(d.true_peak_dbtp, 2)
        );
    }
}
