//! Checks of a written master: loudness against its target (with the reason
//! when a bound held it short), true peak against the ceiling, full-scale
//! samples, and how much of the premaster's movement it kept. `lathe
//! analyze --target` grades delivered files with the same [`on_target`].

use super::{Check, CheckId, Severity, Threshold as T, Thresholds};
use crate::dsp::limiter::Budget;
use crate::render::{Bound, Needed};

/// What a file is held against.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// Names the target in messages: a deliverable, or a preset.
    pub name: &'a str,
    pub loudness_lufs: f64,
    pub tolerance_lu: f64,
    pub ceiling_dbtp: f64,
}

/// What stopped a track's gain, for `master.loudness`.
#[derive(Debug, Clone, Copy)]
pub struct GainBound {
    pub bound: Bound,
    pub needed: Option<Needed>,
    pub budget: Budget,
    pub max_gain_db: f64,
}

/// Why a master that stopped at a bound is short, and the remedy, in the
/// words of the engineer who would fix it.
fn shortfall_reason(target_lufs: f64, b: &GainBound) -> String {
    let n = b.needed;
    match b.bound {
        Bound::SustainedBudget => format!(
            "{target_lufs:.1} LUFS would need about {} of sustained limiting, the budget is {:.1} dB. Raise chain.limiter.budget.sustained_db, add glue compression (chain.compressor) so the limiter has less to do, or lower the target",
            n.map_or("more".into(), |n| format!("{:.1} dB", n.sustained_db)),
            b.budget.sustained_db
        ),
        Bound::PeakBudget => format!(
            "{target_lufs:.1} LUFS would need about {} of limiting on the loudest peak, the budget is {:.1} dB. Raise chain.limiter.budget.peak_db, tame the transients with a fast compressor (chain.compressor), or lower the target",
            n.map_or("more".into(), |n| format!("{:.1} dB", n.peak_db)),
            b.budget.peak_db
        ),
        Bound::MaxGain => format!(
            "{target_lufs:.1} LUFS would need {} of gain, past the {:+.1} dB maximum (target.max_gain_db). The premaster is very quiet: check its export level, or raise target.max_gain_db",
            n.map_or("more".into(), |n| format!("about {:+.1} dB", n.gain_db)),
            b.max_gain_db
        ),
        Bound::Target => "it missed its target".into(),
    }
}

/// `master.loudness` and `master.true_peak` of one file. With `bound` (what
/// stopped the track's gain), a master short of its target because of its
/// limiting budget or the maximum gain is a warning that says why; any
/// other miss fails.
pub fn on_target(lufs: f64, true_peak_dbtp: f64, t: &Target, bound: Option<&GainBound>) -> Vec<Check> {
    let mut out = Vec::new();
    let (target, tol) = (t.loudness_lufs, t.tolerance_lu);
    let dev = lufs - target;
    match bound {
        Some(b) if dev < -tol && b.bound != Bound::Target => out.push(CheckId::MasterLoudness.found_as(
            Severity::Warn,
            format!(
                "{}: reaches {lufs:.1} LUFS, {:.1} LU short of its {target:.1} LUFS target: {}",
                t.name,
                -dev,
                shortfall_reason(target, b)
            ),
            lufs,
            Some(target),
        )),
        _ if dev.is_nan() || dev.abs() > tol => out.push(CheckId::MasterLoudness.found(
            format!(
                "{}: {lufs:.2} LUFS, {dev:+.2} LU from its target of {target:.1} LUFS (tolerance ±{tol} LU)",
                t.name
            ),
            lufs,
            Some(target),
        )),
        _ => {}
    }
    if true_peak_dbtp > t.ceiling_dbtp {
        out.push(CheckId::MasterTruePeak.found(
            format!(
                "{}: true peak {true_peak_dbtp:.2} dBTP is over the {:.1} dBTP ceiling",
                t.name, t.ceiling_dbtp
            ),
            true_peak_dbtp,
            Some(t.ceiling_dbtp),
        ));
    }
    out
}

/// How far a lossy deliverable, decoded, may sit from the loudness of the
/// lossless master it was made from (LU) before `master.codec` warns.
pub const CODEC_LOUDNESS_TOLERANCE_LU: f64 = 0.25;

/// A lossy deliverable, decoded, against the lossless master it was made
/// from: `master.true_peak` when the decoded file is over the ceiling;
/// `master.codec` naming the overs the encoder added and what taking them
/// off cost, a warning past [`CODEC_LOUDNESS_TOLERANCE_LU`].
pub fn codec(
    name: &str,
    lufs: f64,
    master_lufs: f64,
    true_peak_dbtp: f64,
    ceiling_dbtp: f64,
    c: &CodecFinding,
) -> Vec<Check> {
    let mut out = Vec::new();
    if true_peak_dbtp > ceiling_dbtp {
        out.push(CheckId::MasterTruePeak.found(
            format!("{name}: decoded, its true peak {true_peak_dbtp:.2} dBTP is over the {ceiling_dbtp:.1} dBTP ceiling"),
            true_peak_dbtp,
            Some(ceiling_dbtp),
        ));
    }
    let dev = lufs - master_lufs;
    let severity = if dev.abs() > CODEC_LOUDNESS_TOLERANCE_LU { Severity::Warn } else { Severity::Info };
    let worst = c.overs_dbtp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if worst.is_finite() || severity == Severity::Warn {
        let overs = if worst.is_finite() {
            format!(
                "the encoder took it to {worst:+.2} dBTP, over the {ceiling_dbtp:.1} dBTP ceiling; with its limiter {:.2} dB lower ({} encodes) it decodes to {true_peak_dbtp:.2} dBTP",
                c.ceiling_lowered_db, c.passes
            )
        } else {
            format!("it decodes to {true_peak_dbtp:.2} dBTP")
        };
        out.push(CheckId::MasterCodec.found_as(
            severity,
            format!("{name}: {overs}, {dev:+.2} LU from the lossless master (within ±{CODEC_LOUDNESS_TOLERANCE_LU} LU is expected)"),
            dev,
            Some(CODEC_LOUDNESS_TOLERANCE_LU),
        ));
    }
    out
}

/// What the encodes of a lossy deliverable found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CodecFinding {
    /// Encodes until the decoded file held the ceiling.
    pub passes: usize,
    /// How far under the ceiling its limiter ran (dB).
    pub ceiling_lowered_db: f64,
    /// The decoded true peak of each encode that went over (dBTP).
    pub overs_dbtp: Vec<f64>,
}

/// `master.clipping`: samples at integer full scale in a written file.
pub fn clipping(deliverable: &str, full_scale_samples: usize) -> Option<Check> {
    (full_scale_samples > 0).then(|| {
        CheckId::MasterClipping.found(
            format!("{deliverable}: {full_scale_samples} samples at full scale in the written file"),
            full_scale_samples as f64,
            Some(0.0),
        )
    })
}

/// `master.dynamics`: how much of the premaster's movement the master kept.
pub fn dynamics(premaster_lra: f64, master_lra: f64, max_limiting_db: f64, th: &Thresholds) -> Option<Check> {
    let max_loss = th.get(T::DynamicsMaxLraLossLu);
    let max_lim = th.get(T::DynamicsMaxLimitingDb);
    let loss = premaster_lra - master_lra;
    if loss > max_loss {
        Some(CheckId::MasterDynamics.found(
            format!(
                "loudness range fell from {premaster_lra:.1} to {master_lra:.1} LU ({loss:.1} LU lost): the master is squashed; lower the target or ease the compressor"
            ),
            loss,
            Some(max_loss),
        ))
    } else if max_limiting_db > max_lim + 0.05 {
        Some(CheckId::MasterDynamics.found(
            format!(
                "the limiter takes up to {max_limiting_db:.1} dB off the peaks; expect audible crunch on transients"
            ),
            max_limiting_db,
            Some(max_lim),
        ))
    } else {
        None
    }
}
