//! Predicting what a pass would measure, from gain curves alone, so the
//! solver renders where the target is rather than searching for it.
//!
//! A limiter costs loudness where it works. The cost at a gain is read off
//! the curve at that gain (made from the spilled envelope, with nothing
//! applied or measured): each 100 ms block keeps about the curve's mean power
//! gain of its energy. The prediction scales a measured programme's block
//! energies by that, and gates them as the meter does:
//!
//! - before the first pass, the premaster's own energies, raised by the gain;
//! - after a pass, that pass's measured energies, scaled by the change of
//!   gain and by the ratio of the two curves' block powers, so what the
//!   block mean misses (the gain dips exactly where the energy is) mostly
//!   cancels.

use std::rc::Rc;

use super::lane::Candidate;
use crate::dsp::loudness::BlockEnergies;
use crate::dsp::math;

/// A programme measured at a gain, per deliverable: its block energies and
/// the power its curve kept in each block (empty: no curve).
pub(super) struct Basis {
    gain_db: f64,
    parts: Vec<(Rc<BlockEnergies>, Rc<Vec<f64>>)>,
}

impl Basis {
    /// The premaster after the chain, before any gain, for `n` deliverables.
    pub(super) fn premaster(energies: BlockEnergies, n: usize) -> Basis {
        let e = Rc::new(energies);
        Basis { gain_db: 0.0, parts: (0..n).map(|_| (e.clone(), Rc::new(Vec::new()))).collect() }
    }

    /// A measured pass at `gain_db`.
    pub(super) fn from_pass(gain_db: f64, candidates: Vec<Candidate>) -> Basis {
        Basis { gain_db, parts: candidates.into_iter().map(|c| (Rc::new(c.energies), c.powers)).collect() }
    }

    /// The mean loudness of the deliverables at `gain_db`, where the curves
    /// keep `powers` (per deliverable, per block).
    pub(super) fn loudness(&self, gain_db: f64, powers: &[Rc<Vec<f64>>]) -> f64 {
        let g = math::powf(10f64, (gain_db - self.gain_db) / 10.0);
        let sum: f64 = (self.parts.iter().zip(powers))
            .map(|((e, base), now)| {
                e.integrated_scaled(|k| {
                    g * now.get(k).copied().unwrap_or(1.0) / base.get(k).copied().unwrap_or(1.0)
                })
            })
            .sum();
        sum / self.parts.len() as f64
    }
}
