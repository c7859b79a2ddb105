//! Stereo width in mid/side: the side signal's gain, and bass to mono.

use super::biquad::{Biquad, Coefficients, Shape};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WidthSettings {
    /// Side gain: 1.0 leaves the image unchanged, 0.0 folds to mono.
    pub width: f64,
    /// Below this frequency the side signal is removed (a 4th-order
    /// Linkwitz-Riley high-pass on the side), so the bass is mono.
    pub mono_below_hz: Option<f64>,
}

impl WidthSettings {
    pub fn is_identity(&self) -> bool {
        self.width == 1.0 && self.mono_below_hz.is_none()
    }
}

/// Applies width in place: M = (L+R)/2, S = (L-R)/2 · width, L = M+S, R = M-S.
pub fn process(settings: &WidthSettings, sample_rate: u32, left: &mut [f32], right: &mut [f32]) {
    if settings.is_identity() {
        return;
    }
    let mut hpf = settings.mono_below_hz.map(|f| {
        let c = Coefficients::design(
            Shape::Highpass,
            f,
            std::f64::consts::FRAC_1_SQRT_2,
            0.0,
            sample_rate as f64,
        );
        [Biquad::new(c), Biquad::new(c)]
    });
    let w = settings.width;
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let m = (*l as f64 + *r as f64) * 0.5;
        let mut s = (*l as f64 - *r as f64) * 0.5 * w;
        if let Some(stages) = hpf.as_mut() {
            for st in stages {
                s = st.tick(s);
            }
        }
        *l = (m + s) as f32;
        *r = (m - s) as f32;
    }
}
