//! Stereo width in mid/side: the side signal's gain, and bass to mono.

use super::biquad::{Biquad, Coefficients, Shape};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
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
    Width::new(settings, sample_rate).process(left, right);
}

/// The width stage's state, fed a stereo pair a block at a time.
pub struct Width {
    width: f64,
    identity: bool,
    hpf: Option<[Biquad; 2]>,
}

impl Width {
    pub fn new(settings: &WidthSettings, sample_rate: u32) -> Self {
        let hpf = settings.mono_below_hz.map(|f| {
            let c = Coefficients::design(
                Shape::Highpass,
                f,
                std::f64::consts::FRAC_1_SQRT_2,
                0.0,
                sample_rate as f64,
            );
            [Biquad::new(c), Biquad::new(c)]
        });
        Width { width: settings.width, identity: settings.is_identity(), hpf }
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.identity {
            return;
        }
        let w = self.width;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let m = (*l as f64 + *r as f64) * 0.5;
            let mut s = (*l as f64 - *r as f64) * 0.5 * w;
            if let Some(stages) = self.hpf.as_mut() {
                for st in stages {
                    s = st.tick(s);
                }
            }
            *l = (m + s) as f32;
            *r = (m - s) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::{db, rms, sine};

    fn mid_side_energy(l: &[f32], r: &[f32]) -> (f64, f64) {
        let m: Vec<f32> = l.iter().zip(r).map(|(a, b)| (a + b) * 0.5).collect();
        let s: Vec<f32> = l.iter().zip(r).map(|(a, b)| (a - b) * 0.5).collect();
        (rms(&m), rms(&s))
    }

    #[test]
    fn width_zero_is_mono_and_width_two_doubles_the_side() {
        let rate = 48000;
        let l0 = sine(440.0, 0.5, 0.0, 1.0, rate);
        let r0 = sine(660.0, 0.4, 1.0, 1.0, rate);
        let (mut l, mut r) = (l0.clone(), r0.clone());
        process(&WidthSettings { width: 0.0, mono_below_hz: None }, rate, &mut l, &mut r);
        assert!(l.iter().zip(&r).all(|(a, b)| a == b));

        let (m1, s1) = mid_side_energy(&l0, &r0);
        let (mut l, mut r) = (l0.clone(), r0.clone());
        process(&WidthSettings { width: 2.0, mono_below_hz: None }, rate, &mut l, &mut r);
        let (m2, s2) = mid_side_energy(&l, &r);
        let gain = db(s2 / m2) - db(s1 / m1);
        assert!((gain - 6.0206).abs() < 0.01, "side/mid rose by {gain:.4} dB");
    }

    #[test]
    fn mono_below_removes_side_bass_only() {
        let rate = 48000;
        let side_bass = sine(40.0, 0.5, 0.0, 2.0, rate);
        let side_high = sine(2000.0, 0.5, 0.0, 2.0, rate);
        let settings = WidthSettings { width: 1.0, mono_below_hz: Some(150.0) };
        let run = |x: &[f32]| {
            let (mut l, mut r) = (x.to_vec(), x.iter().map(|v| -v).collect::<Vec<_>>());
            process(&settings, rate, &mut l, &mut r);
            let (_, s) = mid_side_energy(&l[rate as usize..], &r[rate as usize..]);
            db(s / rms(&x[rate as usize..]))
        };
        assert!(run(&side_bass) < -20.0);
        assert!(run(&side_high).abs() < 0.1);
    }
}
