//! The report page's charts: the album's loudness against its target, and
//! per track the loudness over time, the limiter's work and the spectrum.

use super::MAX_POINTS;
use crate::dsp::spectrum::Spectrum;
use crate::report::export::svg::{Axis, Chart, Mark, Reduce, decimate};
use crate::report::{Report, TrackReport};

/// A loudness axis that holds `values` (finite ones), in 6 dB steps at least 24 dB tall.
fn loudness_axis(values: impl Iterator<Item = f64>, label: &str) -> Axis {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (-30.0, 0.0) };
    let top = ((hi + 1.0) / 3.0).ceil() * 3.0;
    let bottom = (((lo - 1.0) / 3.0).floor() * 3.0).min(top - 24.0).max(top - 60.0);
    Axis::linear(bottom, top, 6, label, |v| format!("{v:.0}"))
}

pub(super) fn album_charts(s: &mut String, r: &Report) {
    let x = Axis {
        min: 0.5,
        max: r.tracks.len() as f64 + 0.5,
        log: false,
        ticks: r.tracks.iter().map(|t| (t.index as f64, t.index.to_string())).collect(),
        label: "track".into(),
    };
    s.push_str(&album_loudness(r, x.clone()).to_svg());
    s.push_str(&album_peak(r, x).to_svg());
}

/// One (track number, value) point per track.
fn per_track(r: &Report, f: impl Fn(&TrackReport) -> f64) -> Vec<(f64, f64)> {
    r.tracks.iter().map(|t| (t.index as f64, f(t))).collect()
}

/// Each track's loudness, premaster and master, against its target and the album's.
fn album_loudness(r: &Report, x: Axis) -> Chart {
    let a = &r.album;
    let pre = per_track(r, |t| t.premaster.integrated_lufs);
    let master = per_track(r, |t| t.master.integrated_lufs);
    let targets = per_track(r, |t| t.master.target_lufs);
    let y = loudness_axis(
        pre.iter().chain(&master).chain(&targets).map(|p| p.1).chain([a.target_lufs]),
        "integrated (LUFS)",
    );
    Chart {
        kind: "album-loudness",
        title: format!("Track loudness against the {:.1} LUFS target", a.target_lufs),
        x,
        y,
        marks: vec![
            Mark::HLine {
                class: "target",
                y: a.target_lufs,
                label: format!("album target {:.1}", a.target_lufs),
            },
            Mark::Dashes { class: "target", half_width: 0.3, points: targets },
            Mark::Dots { class: "pre", points: pre },
            Mark::Dots { class: "master", points: master },
        ],
        legend: vec![
            ("pre", "premaster".into()),
            ("master", "master".into()),
            ("target", "track target".into()),
        ],
    }
}

/// Each track's true peak, premaster and master, against the ceiling.
fn album_peak(r: &Report, x: Axis) -> Chart {
    let a = &r.album;
    let pre = per_track(r, |t| t.premaster.true_peak_dbtp);
    let master = per_track(r, |t| t.master.true_peak_dbtp);
    let vals: Vec<f64> = pre.iter().chain(&master).map(|p| p.1).filter(|v| v.is_finite()).collect();
    let lo = vals.iter().cloned().fold(a.ceiling_dbtp, f64::min);
    let hi = vals.iter().cloned().fold(a.ceiling_dbtp, f64::max);
    let y = Axis::linear(
        ((lo - 1.0) / 2.0).floor() * 2.0,
        ((hi + 0.5) / 2.0).ceil() * 2.0,
        5,
        "true peak (dBTP)",
        |v| format!("{v:.0}"),
    );
    Chart {
        kind: "album-peak",
        title: format!("Track true peak against the {:.1} dBTP ceiling", a.ceiling_dbtp),
        x,
        y,
        marks: vec![
            Mark::HLine {
                class: "ceiling",
                y: a.ceiling_dbtp,
                label: format!("ceiling {:.1}", a.ceiling_dbtp),
            },
            Mark::Dots { class: "pre", points: pre },
            Mark::Dots { class: "master", points: master },
        ],
        legend: vec![("pre", "premaster".into()), ("master", "master".into())],
    }
}

pub(super) fn track_charts(s: &mut String, t: &TrackReport) {
    let p = &t.plots;
    let pre = decimate(
        &p.premaster_short_term_lufs,
        p.premaster_short_term_lufs.hop_s(),
        MAX_POINTS,
        Reduce::PowerMean,
    );
    let master =
        decimate(&p.master_short_term_lufs, p.master_short_term_lufs.hop_s(), MAX_POINTS, Reduce::PowerMean);
    let seconds = t.premaster.duration_s.max(t.master_duration_s());
    let y = loudness_axis(
        pre.iter().chain(&master).map(|p| p.1).chain([t.master.target_lufs]),
        "short-term (LUFS)",
    );
    let chart = Chart {
        kind: "loudness",
        title: format!("{}: short-term loudness, premaster and master", t.title),
        x: Axis::time(seconds),
        y,
        marks: vec![
            Mark::HLine {
                class: "target",
                y: t.master.target_lufs,
                label: format!("target {:.1}", t.master.target_lufs),
            },
            Mark::Line { class: "pre", points: pre },
            Mark::Line { class: "master", points: master },
        ],
        legend: vec![("pre", "premaster".into()), ("master", "master".into())],
    };
    s.push_str(&chart.to_svg());

    let gr =
        decimate(&p.limiter_gain_reduction_db, p.limiter_gain_reduction_db.hop_s(), MAX_POINTS, Reduce::Max);
    let max = gr.iter().map(|p| p.1).fold(0.0, f64::max);
    let depth = [1.0, 2.0, 3.0, 6.0, 10.0, 20.0, 40.0].into_iter().find(|d| *d >= max + 0.05).unwrap_or(60.0);
    let chart = Chart {
        kind: "limiter",
        title: format!(
            "{}: limiter gain reduction (peak {:.1} dB, sustained {:.1} dB)",
            t.title, t.master.max_limiting_db, t.master.sustained_limiting_db
        ),
        x: Axis::time(seconds),
        y: Axis::linear(-depth, 0.0, 4, "gain reduction (dB)", |v| format!("{v:.1}")),
        marks: vec![Mark::Area {
            class: "gr",
            base: 0.0,
            points: gr.into_iter().map(|(x, v)| (x, -v)).collect(),
        }],
        legend: vec![("gr", "limiter gain reduction".into())],
    };
    s.push_str(&chart.to_svg());
    s.push_str(&spectrum_chart(t).to_svg());
    if let Some(c) = correction_chart(t) {
        s.push_str(&c.to_svg());
    }
}

/// The long-term spectra of the premaster and the master at matched loudness.
fn spectrum_chart(t: &TrackReport) -> Chart {
    let p = &t.plots;
    let (pre, master) = (
        normalized_bands(&p.premaster_spectrum, t.premaster.integrated_lufs),
        normalized_bands(&p.master_spectrum, t.master.integrated_lufs),
    );
    // A match's reference, level with the master over the span a
    // distance is taken on.
    let reference = p.reference_spectrum.as_ref().map(|r| {
        let mean = |b: &[(f64, f64)]| {
            let v: Vec<f64> = b
                .iter()
                .filter(|(f, l)| crate::dsp::tonal::in_span(*f) && l.is_finite())
                .map(|p| p.1)
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let raw = normalized_bands(r, 0.0);
        let shift = mean(&master) - mean(&raw);
        raw.into_iter().map(|(f, l)| (f, l + shift)).collect::<Vec<_>>()
    });
    let hi = pre.iter().chain(&master).map(|p| p.1).filter(|v| v.is_finite()).fold(-48.0, f64::max);
    let top = (hi / 6.0).ceil() * 6.0;
    let mut marks =
        vec![Mark::Line { class: "pre", points: pre }, Mark::Line { class: "master", points: master }];
    let mut legend = vec![("pre", "premaster".into()), ("master", "master".into())];
    if let (Some(points), Some(tonal)) = (reference, &t.tonal) {
        marks.push(Mark::Line { class: "reference", points });
        legend.push(("reference", format!("reference ({})", tonal.reference)));
    }
    Chart {
        kind: "spectrum",
        title: format!(
            "{}: long-term spectrum in 1/3 octaves at matched loudness, premaster and master (the gap is the EQ)",
            t.title
        ),
        x: Axis::frequency(),
        y: Axis::linear(top - 60.0, top, 5, "band level re. loudness (dB)", |v| format!("{v:.0}")),
        marks,
        legend,
    }
}

/// A matched track's correction, mid and side, as the match EQ applied it.
pub(super) fn correction_chart(t: &TrackReport) -> Option<Chart> {
    let tonal = t.tonal.as_ref()?;
    let curve = |c: &[f64]| -> Vec<(f64, f64)> {
        tonal.correction_hz.iter().cloned().zip(c.iter().cloned()).collect()
    };
    let lim =
        tonal.correction_mid_db.iter().chain(&tonal.correction_side_db).fold(3.0f64, |m, v| m.max(v.abs()));
    let lim = (lim / 3.0).ceil() * 3.0;
    Some(Chart {
        kind: "correction",
        title: format!("{}: the match EQ toward {}, mid and side", t.title, tonal.reference),
        x: Axis::frequency(),
        y: Axis::linear(-lim, lim, 5, "correction (dB)", |v| format!("{v:+.0}")),
        marks: vec![
            Mark::HLine { class: "target", y: 0.0, label: "0 dB".into() },
            Mark::Line { class: "master", points: curve(&tonal.correction_mid_db) },
            Mark::Line { class: "side", points: curve(&tonal.correction_side_db) },
        ],
        legend: vec![("master", "mid".into()), ("side", "side".into())],
    })
}

/// A spectrum's bands relative to the file's integrated loudness: the
/// premaster and the master then sit level for level, whatever the gain
/// between them, and what differs is the balance (the EQ, and what the
/// compressor and limiter did to it).
fn normalized_bands(sp: &Spectrum, integrated_lufs: f64) -> Vec<(f64, f64)> {
    let shift = if integrated_lufs.is_finite() { integrated_lufs } else { 0.0 };
    sp.centres_hz.iter().zip(&sp.levels_db).map(|(&f, &l)| (f, l - shift)).collect()
}

impl TrackReport {
    fn master_duration_s(&self) -> f64 {
        self.outputs.first().map_or(0.0, |o| o.duration_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectra_at_matched_loudness_differ_only_by_the_balance() {
        // The same balance 6 dB louder, and one band 2 dB up (an EQ).
        let pre = Spectrum { centres_hz: vec![100.0, 1000.0, 10000.0], levels_db: vec![-30.0, -24.0, -36.0] };
        let master = Spectrum { centres_hz: pre.centres_hz.clone(), levels_db: vec![-24.0, -18.0, -28.0] };
        let (p, m) = (normalized_bands(&pre, -20.0), normalized_bands(&master, -14.0));
        let gap: Vec<f64> = p.iter().zip(&m).map(|(a, b)| b.1 - a.1).collect();
        assert_eq!(gap, [0.0, 0.0, 2.0]);
        // Silence has no loudness to match: the bands stay as measured.
        assert_eq!(normalized_bands(&pre, f64::NEG_INFINITY)[0].1, -30.0);
    }
}
