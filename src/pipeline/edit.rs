//! A track's edit in frames, before phase 1 measures it: the manifest's
//! seconds at the premaster's rate, and, for a trim or an edit relative to
//! the end, the premaster's length and where its music starts and ends,
//! found by a first read of it (decoding only; the analysis reads it again
//! through the edit).

use crate::audio::source::Source;
use crate::dsp::edit::{CUT_FADE_S, Edges, Plan};
use crate::error::Result;
use crate::manifest::Edit;

/// What an edited premaster keeps, and of what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edited {
    pub plan: Plan,
    /// The premaster's own length, frames.
    pub frames: u64,
    pub sample_rate: u32,
}

/// Frames of `s` seconds at `rate`.
fn frames(s: f64, rate: u32) -> u64 {
    (s * rate as f64).round() as u64
}

/// True when the edit needs the premaster's length or edges first.
pub fn needs_scan(edit: &Edit) -> bool {
    edit.trim.is_some() || edit.end_s.is_some() || edit.fade_out_s > 0.0
}

/// Reads `source` to its end for its length and, with a trim, the edges of its music.
pub fn scan(mut source: Source, threshold_db: f64) -> Result<Edges> {
    let mut edges = Edges::new(threshold_db);
    let mut block = [Vec::new(), Vec::new()];
    while source.read(&mut block)? > 0 {
        edges.feed(&[&block[0], &block[1]]);
    }
    Ok(edges)
}

/// The plan for `edit` on a premaster at `rate`; `scanned` is its length
/// and edges when [`needs_scan`] (else the end is wherever it ends).
pub fn plan(edit: &Edit, rate: u32, scanned: Option<&Edges>) -> Edited {
    let len = scanned.map_or(u64::MAX, Edges::frames);
    let mut start = frames(edit.start_s, rate).min(len);
    let mut end = edit.end_s.map_or(len, |e| frames(e, rate).min(len));
    if let (Some(trim), Some((first, last))) = (edit.trim, scanned.and_then(Edges::music)) {
        let keep = frames(trim.keep_s, rate);
        start = start.max(first.saturating_sub(keep));
        end = end.min(last + 1 + keep).max(start);
    }
    let kept = end - start;
    let cut = frames(CUT_FADE_S, rate);
    let plan = Plan {
        start,
        end,
        fade_in: frames(edit.fade_in_s, rate).min(kept),
        fade_out: frames(edit.fade_out_s, rate).min(kept),
        curve: edit.curve,
        cut_in: if start > 0 { cut.min(kept) } else { 0 },
        cut_out: if end < len { cut.min(kept) } else { 0 },
    };
    Edited { plan, frames: if len == u64::MAX { 0 } else { len }, sample_rate: rate }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Trim;

    #[test]
    fn a_trim_keeps_the_music_and_its_margin_and_ramps_only_the_cuts() {
        let mut edges = Edges::new(-60.0);
        let mut l = vec![0.0f32; 48_000 * 4];
        l[48_000..48_000 * 3].iter_mut().for_each(|x| *x = 0.5);
        edges.feed(&[&l, &l]);
        let trim = Some(Trim { threshold_db: -60.0, keep_s: 0.01 });
        let e = plan(&Edit { trim, fade_out_s: 1.0, ..Edit::default() }, 48_000, Some(&edges));
        assert_eq!((e.plan.start, e.plan.end), (48_000 - 480, 48_000 * 3 + 480));
        assert_eq!((e.plan.cut_in, e.plan.cut_out, e.plan.fade_out), (240, 240, 48_000));
        assert_eq!(e.frames, 48_000 * 4);
        // Edit points only: no cut at the premaster's own end.
        let e = plan(&Edit { start_s: 0.5, ..Edit::default() }, 48_000, None);
        assert_eq!((e.plan.start, e.plan.cut_in, e.plan.cut_out), (24_000, 240, 0));
    }
}
