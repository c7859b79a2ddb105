//! Checks of a stems track: lengths, silent and clipped stems, a hot sum.

use super::{Check, CheckId};
use crate::audio::stems::StemFacts;

pub fn checks(facts: &[StemFacts], sum_peak_dbfs: f64, rate: u32) -> Vec<Check> {
    let mut out = Vec::new();
    // The first longest and first shortest stem, in manifest order.
    let long = facts.iter().reduce(|a, b| if b.frames > a.frames { b } else { a });
    let short = facts.iter().reduce(|a, b| if b.frames < a.frames { b } else { a });
    if let (Some(long), Some(short)) = (long, short)
        && long.frames != short.frames
    {
        let diff = (long.frames - short.frames) as f64 / rate as f64;
        out.push(CheckId::StemsLengthMismatch.found(
            format!(
                "stem `{}` is {diff:.3} s shorter than `{}`; padded with silence (stems from one session should share a start and length)",
                short.name, long.name
            ),
            diff,
            Some(0.0),
        ));
    }
    for f in facts.iter().filter(|f| !f.mix.mute) {
        if f.file_peak_dbfs < -90.0 {
            out.push(CheckId::StemsSilent.found(
                format!(
                    "stem `{}` is silent: check the export (mute it in the manifest if that is intended)",
                    f.name
                ),
                f.file_peak_dbfs,
                Some(-90.0),
            ));
        }
        if f.clip_runs > 0 {
            out.push(CheckId::StemsClipping.found(
                format!(
                    "stem `{}` is clipped ({} runs of full-scale samples); re-export it with headroom",
                    f.name, f.clip_runs
                ),
                f.clip_runs as f64,
                Some(0.0),
            ));
        }
    }
    if sum_peak_dbfs > 0.0 {
        out.push(CheckId::StemsSumOver.found(
            format!("the summed stems peak at {sum_peak_dbfs:+.1} dBFS; fine in floating point, the master gain brings it down"),
            sum_peak_dbfs,
            Some(0.0),
        ));
    }
    out
}
