//! Stem mix-down: each stem's gain, polarity, EQ and pan, summed in f64
//! into the track's stereo buffer.
//!
//! Pan law (constant power, unity at centre):
//! left × √2·cos((pan+1)·π/4), right × √2·sin((pan+1)·π/4); applied to both
//! channels of a stereo stem (a balance control) and to a mono stem before it
//! becomes stereo.

use crate::dsp::db_to_gain;
use crate::dsp::eq::{Band, Eq};

/// Mixing settings of one stem.
#[derive(Debug, Clone, PartialEq)]
pub struct StemMix {
    pub gain_db: f64,
    pub pan: f64,
    pub mute: bool,
    pub inverted: bool,
    pub eq: Vec<Band>,
}

/// Left and right gains of the pan law.
pub fn pan_gains(pan: f64) -> (f64, f64) {
    let a = (pan + 1.0) * std::f64::consts::FRAC_PI_4;
    (std::f64::consts::SQRT_2 * a.cos(), std::f64::consts::SQRT_2 * a.sin())
}

/// Adds one stem (mono or stereo planar) into the f64 accumulator `sum`
/// (stereo, at least as long as the stem).
pub fn add_stem(sum: &mut [Vec<f64>; 2], stem: &[Vec<f32>], mix: &StemMix, sample_rate: u32) {
    if mix.mute {
        return;
    }
    let mut ch: Vec<Vec<f32>> =
        if stem.len() == 1 { vec![stem[0].clone(), stem[0].clone()] } else { stem.to_vec() };
    if !mix.eq.is_empty() {
        let eq = Eq::new(&mix.eq, sample_rate);
        let (l, r) = ch.split_at_mut(1);
        eq.process(&mut l[0], &mut r[0]);
    }
    let g = db_to_gain(mix.gain_db) * if mix.inverted { -1.0 } else { 1.0 };
    let (gl, gr) = pan_gains(mix.pan);
    for (acc, (src, pg)) in sum.iter_mut().zip(ch.iter().zip([gl, gr])) {
        for (a, &s) in acc.iter_mut().zip(src) {
            *a += s as f64 * g * pg;
        }
    }
}
