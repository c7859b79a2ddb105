//! The sustained limiting budget, solved on the limiter's gain curves alone
//! (nothing is applied or measured): the most gain whose sustained gain
//! reduction stays within the budget.

use super::branch::{Branch, curve_work};
use crate::dsp::limiter::LimiterSettings;

/// How far under the sustained budget a capped track may land (dB): the
/// budget is met from below, within this.
pub(super) const BUDGET_TOLERANCE_DB: f64 = 0.1;
/// Most gain-curve evaluations when solving for the sustained budget.
const MAX_BUDGET_STEPS: usize = 12;

/// The most gain (at most `above`, where the sustained limiting is
/// `sustained_above`, over budget) whose sustained limiting is within the
/// budget, found on gain curves alone: the result's sustained limiting is in
/// `[budget - BUDGET_TOLERANCE_DB, budget]`, or the largest gain found within
/// budget when the curve is too steep to land in that window.
pub(super) fn sustained_cap(
    branches: &mut [Branch],
    lim: &LimiterSettings,
    budget_db: f64,
    above: f64,
    sustained_above: f64,
) -> crate::error::Result<f64> {
    // Sustained limiting grows at most 1 dB per dB of gain, so stepping down
    // by the excess lands at or over the aim: the secant then closes in.
    let aim = (budget_db - BUDGET_TOLERANCE_DB / 2.0).max(0.0);
    let (mut hi, mut s_hi) = (above, sustained_above);
    let mut lo: Option<(f64, f64)> = None;
    let mut g = above - (sustained_above - aim).max(BUDGET_TOLERANCE_DB);
    for _ in 0..MAX_BUDGET_STEPS {
        let s = curve_work(branches, lim, g)?.sustained_db;
        if s <= budget_db && s >= budget_db - BUDGET_TOLERANCE_DB {
            return Ok(g);
        }
        if s > budget_db {
            (hi, s_hi) = (g, s);
        } else {
            lo = Some((g, s));
        }
        g = match lo {
            // Regula falsi inside the bracket, kept off its ends.
            Some((gl, sl)) if s_hi > sl => {
                let t = ((aim - sl) / (s_hi - sl)).clamp(0.1, 0.9);
                gl + t * (hi - gl)
            }
            Some((gl, _)) => (gl + hi) / 2.0,
            None => g - (s - aim).max(BUDGET_TOLERANCE_DB),
        };
        if lo.is_some_and(|(gl, _)| hi - gl < 0.01) {
            break;
        }
    }
    Ok(lo.map_or(g, |(gl, _)| gl))
}
