//! The album as a sequence, for the report: each track's place, gap and
//! edit; each album image's CUE positions; and the Red Book's rules on a
//! CD image.

use super::analyze::Analysis;
use super::image::Image;
use super::master::Mastered;
use crate::audio::cue::msf;
use crate::manifest::Album;
use crate::qc::{self, Check};
use crate::report::{CueEntry, EditReport, ImageReport, SequenceEntry};

/// Each track's place on the album, in seconds of the first deliverable.
pub(super) fn entries(album: &Album, analyses: &[Analysis], mastered: &[Mastered]) -> Vec<SequenceEntry> {
    let mut at = 0.0;
    let mut out = Vec::with_capacity(album.tracks.len());
    for (k, ((t, a), m)) in album.tracks.iter().zip(analyses).zip(mastered).enumerate() {
        let duration_s = m.outputs[0].measurement.duration_s;
        if k > 0 {
            at += t.gap_s;
        }
        let edit = a.edited.map(|e| {
            let rate = e.sample_rate as f64;
            EditReport {
                start_s: e.plan.start as f64 / rate,
                end_s: e.plan.start as f64 / rate + a.measurement.duration_s,
                // Unscanned (an edit from the start only): the kept span runs to the end.
                premaster_duration_s: match e.frames {
                    0 => e.plan.start as f64 / rate + a.measurement.duration_s,
                    n => n as f64 / rate,
                },
                trimmed: t.edit.trim.is_some(),
                fade_in_s: e.plan.fade_in as f64 / rate,
                fade_out_s: e.plan.fade_out as f64 / rate,
                fade_curve: e.plan.curve,
            }
        });
        out.push(SequenceEntry { index: t.number, gap_s: t.gap_s, start_s: at, duration_s, edit });
        at += duration_s;
    }
    out
}

/// What the report says of each album image.
pub(super) fn images(images: &[Image]) -> Vec<ImageReport> {
    images
        .iter()
        .map(|i| ImageReport {
            deliverable: i.deliverable.clone(),
            path: i.path.display().to_string(),
            cue_path: i.cue_path.display().to_string(),
            sample_rate: i.sample_rate,
            cd: i.cd,
            frames: i.frames,
            duration_s: i.frames as f64 / i.sample_rate as f64,
            tracks: (i.places.iter().zip(&i.sheet.tracks).enumerate())
                .map(|(k, (p, t))| CueEntry {
                    index: k + 1,
                    pregap: (t.pregap > 0).then(|| msf(t.pregap)),
                    index00: t.index00.map(msf),
                    index01: msf(t.index01),
                    start_frame: p.start,
                    frames: p.frames,
                })
                .collect(),
            cue: i.sheet.render(),
        })
        .collect()
}

/// `album.red_book` for every CD image.
pub(super) fn red_book(album: &Album, images: &[Image]) -> Vec<Check> {
    let mut found = Vec::new();
    for i in images.iter().filter(|i| i.cd) {
        let rate = i.sample_rate as f64;
        let tracks: Vec<(usize, &str, f64)> = (album.tracks.iter().zip(&i.places))
            .map(|(t, p)| (t.number, t.title.as_str(), p.frames as f64 / rate))
            .collect();
        let pregap = i.sheet.tracks.first().map_or(0, |t| t.pregap) as f64 / 75.0;
        found.extend(qc::album::red_book(
            &format!("CD image `{}`", i.deliverable),
            &tracks,
            pregap + i.frames as f64 / rate,
        ));
    }
    found
}
