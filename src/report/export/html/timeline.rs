//! The album as a sequence: a timeline of its tracks, gaps and fades, a
//! table of where each track sits and what its edit kept, and each album
//! image's CUE sheet as written.

use std::fmt::Write;

use super::clock;
use crate::dsp::edit::FadeCurve;
use crate::report::export::svg::esc;
use crate::report::{ImageReport, Report, SequenceEntry};

const W: f64 = 760.0;
const H: f64 = 64.0;
const PAD: f64 = 8.0;

/// The timeline: a bar per track (faded ends drawn as ramps), gaps as space.
fn timeline_svg(seq: &[SequenceEntry]) -> String {
    let pregap = seq.first().map_or(0.0, |e| e.gap_s);
    let total = pregap + seq.last().map_or(0.0, |e| e.start_s + e.duration_s);
    let x = |t: f64| PAD + (pregap + t) / total.max(1e-9) * (W - 2.0 * PAD);
    let (top, bottom) = (14.0, H - 18.0);
    let mut s = format!(
        r#"<svg class="plot timeline" viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg" role="img"><title>The album's sequence</title>"#
    );
    if pregap > 0.0 {
        let _ = write!(s, r#"<text class="tick" x="{PAD}" y="10">pregap {pregap:.1} s</text>"#);
    }
    for e in seq {
        let (a, b) = (x(e.start_s), x(e.start_s + e.duration_s));
        let (fi, fo) = e.edit.as_ref().map_or((0.0, 0.0), |d| (d.fade_in_s, d.fade_out_s));
        let (ai, bo) =
            (x(e.start_s + fi.min(e.duration_s)), x(e.start_s + e.duration_s - fo.min(e.duration_s)));
        // The bar's outline: full height between the fades, ramps over them.
        let _ = write!(
            s,
            r#"<polygon class="track" points="{a:.1},{bottom:.1} {ai:.1},{top:.1} {bo:.1},{top:.1} {b:.1},{bottom:.1}"/>"#
        );
        let _ = write!(
            s,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="tick" x="{a:.1}" y="{:.1}">{}</text>"#,
            (a + b) / 2.0,
            (top + bottom) / 2.0 + 4.0,
            e.index,
            H - 4.0,
            clock(e.start_s)
        );
    }
    s.push_str("</svg>");
    s
}

fn curve_name(c: FadeCurve) -> &'static str {
    match c {
        FadeCurve::Linear => "linear",
        FadeCurve::EqualPower => "equal-power",
        FadeCurve::Exponential => "exponential",
    }
}

fn image_section(s: &mut String, i: &ImageReport) {
    let _ = write!(
        s,
        r#"<h3>Image <code>{}</code> ({})</h3><p>{} Hz{}, {} in all.</p><table><tr><th>#</th><th>pregap</th><th>INDEX 00</th><th>INDEX 01</th><th>samples</th></tr>"#,
        esc(&i.path),
        esc(&i.cue_path),
        i.sample_rate,
        if i.cd { ", a CD image (held to the Red Book)" } else { "" },
        clock(i.duration_s)
    );
    for t in &i.tracks {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t.index,
            t.pregap.as_deref().unwrap_or(""),
            t.index00.as_deref().unwrap_or(""),
            t.index01,
            t.frames
        );
    }
    let _ = write!(s, r#"</table><pre class="cue">{}</pre>"#, esc(&i.cue.replace("\r\n", "\n")));
}

/// The sequence section: the timeline, each track's place and edit, the images.
pub(super) fn sequence_section(s: &mut String, r: &Report) {
    if r.sequence.is_empty() {
        return;
    }
    s.push_str(r#"<section class="sequence"><h2>Sequence</h2>"#);
    s.push_str(&timeline_svg(&r.sequence));
    s.push_str(r#"<table><tr><th>#</th><th class="l">title</th><th>gap</th><th>starts</th><th>length</th><th class="l">edit</th></tr>"#);
    for (e, t) in r.sequence.iter().zip(&r.tracks) {
        let edit = e.edit.as_ref().map_or(String::from("as delivered"), |d| {
            let mut parts = vec![format!(
                "kept {:.3}–{:.3} s of {:.3} s{}",
                d.start_s,
                d.end_s,
                d.premaster_duration_s,
                if d.trimmed { " (trimmed)" } else { "" }
            )];
            if d.fade_in_s > 0.0 {
                parts.push(format!("fade in {:.2} s", d.fade_in_s));
            }
            if d.fade_out_s > 0.0 {
                parts.push(format!("fade out {:.2} s", d.fade_out_s));
            }
            if d.fade_in_s > 0.0 || d.fade_out_s > 0.0 {
                parts.push(curve_name(d.fade_curve).to_string());
            }
            parts.join(", ")
        });
        let _ = write!(
            s,
            r#"<tr><td>{}</td><td class="l">{}</td><td>{:.2} s</td><td>{}</td><td>{}</td><td class="l">{}</td></tr>"#,
            e.index,
            esc(&t.title),
            e.gap_s,
            clock(e.start_s),
            clock(e.duration_s),
            esc(&edit)
        );
    }
    s.push_str("</table>");
    for i in &r.images {
        image_section(s, i);
    }
    s.push_str("</section>");
}
