//! RBJ-cookbook biquads ("Cookbook formulae for audio EQ biquad filter
//! coefficients", R. Bristow-Johnson), designed and run in f64.

use crate::dsp::math;
use std::f64::consts::PI;

/// The filter shapes of the cookbook that a mastering EQ uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Highpass,
    Lowpass,
    LowShelf,
    HighShelf,
    Peak,
    Notch,
}

/// Normalised coefficients (a0 = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefficients {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

impl Coefficients {
    /// Cookbook design. `q` is the filter Q; for shelves it is the shelf Q
    /// (0.7071 = shelf slope 1). `gain_db` is used by shelves and peaks only.
    pub fn design(shape: Shape, freq_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let w0 = 2.0 * PI * freq_hz / sample_rate;
        let (sin_w0, cos_w0) = math::sin_cos(w0);
        let alpha = sin_w0 / (2.0 * q);
        let a = math::powf(10f64, gain_db / 40.0);
        let (b0, b1, b2, a0, a1, a2) = match shape {
            Shape::Lowpass => {
                let b1 = 1.0 - cos_w0;
                (b1 / 2.0, b1, b1 / 2.0, 1.0 + alpha, -2.0 * cos_w0, 1.0 - alpha)
            }
            Shape::Highpass => {
                let b1 = -(1.0 + cos_w0);
                (-b1 / 2.0, b1, -b1 / 2.0, 1.0 + alpha, -2.0 * cos_w0, 1.0 - alpha)
            }
            Shape::Peak => (
                1.0 + alpha * a,
                -2.0 * cos_w0,
                1.0 - alpha * a,
                1.0 + alpha / a,
                -2.0 * cos_w0,
                1.0 - alpha / a,
            ),
            Shape::Notch => (1.0, -2.0 * cos_w0, 1.0, 1.0 + alpha, -2.0 * cos_w0, 1.0 - alpha),
            Shape::LowShelf => {
                let k = 2.0 * a.sqrt() * alpha;
                (
                    a * ((a + 1.0) - (a - 1.0) * cos_w0 + k),
                    2.0 * a * ((a - 1.0) - (a + 1.0) * cos_w0),
                    a * ((a + 1.0) - (a - 1.0) * cos_w0 - k),
                    (a + 1.0) + (a - 1.0) * cos_w0 + k,
                    -2.0 * ((a - 1.0) + (a + 1.0) * cos_w0),
                    (a + 1.0) + (a - 1.0) * cos_w0 - k,
                )
            }
            Shape::HighShelf => {
                let k = 2.0 * a.sqrt() * alpha;
                (
                    a * ((a + 1.0) + (a - 1.0) * cos_w0 + k),
                    -2.0 * a * ((a - 1.0) + (a + 1.0) * cos_w0),
                    a * ((a + 1.0) + (a - 1.0) * cos_w0 - k),
                    (a + 1.0) - (a - 1.0) * cos_w0 + k,
                    2.0 * ((a - 1.0) - (a + 1.0) * cos_w0),
                    (a + 1.0) - (a - 1.0) * cos_w0 - k,
                )
            }
        };
        Coefficients { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0 }
    }
}

/// One biquad section with f64 state (transposed direct form II).
#[derive(Debug, Clone, Copy)]
pub struct Biquad {
    c: Coefficients,
    s1: f64,
    s2: f64,
}

/// Two biquads run side by side, lane by lane: [`Biquad::tick`] for each,
/// in a form that vectorizes.
pub struct Biquad2 {
    b0: [f64; 2],
    b1: [f64; 2],
    b2: [f64; 2],
    a1: [f64; 2],
    a2: [f64; 2],
    s1: [f64; 2],
    s2: [f64; 2],
}

impl Biquad2 {
    pub fn new([l, r]: &[Biquad; 2]) -> Self {
        let pair = |f: fn(&Coefficients) -> f64| [f(&l.c), f(&r.c)];
        Biquad2 {
            b0: pair(|c| c.b0),
            b1: pair(|c| c.b1),
            b2: pair(|c| c.b2),
            a1: pair(|c| c.a1),
            a2: pair(|c| c.a2),
            s1: [l.s1, r.s1],
            s2: [l.s2, r.s2],
        }
    }

    #[inline(always)]
    pub fn tick(&mut self, x: [f64; 2]) -> [f64; 2] {
        let mut y = [0f64; 2];
        for k in 0..2 {
            y[k] = self.b0[k] * x[k] + self.s1[k];
            self.s1[k] = self.b1[k] * x[k] - self.a1[k] * y[k] + self.s2[k];
            self.s2[k] = self.b2[k] * x[k] - self.a2[k] * y[k];
        }
        y
    }

    /// Hands the state back to the two biquads.
    pub fn store(&self, [l, r]: &mut [Biquad; 2]) {
        (l.s1, l.s2, r.s1, r.s2) = (self.s1[0], self.s2[0], self.s1[1], self.s2[1]);
    }
}

impl Biquad {
    pub fn new(c: Coefficients) -> Self {
        Biquad { c, s1: 0.0, s2: 0.0 }
    }

    #[inline(always)]
    pub fn tick(&mut self, x: f64) -> f64 {
        let c = &self.c;
        let y = c.b0 * x + self.s1;
        self.s1 = c.b1 * x - c.a1 * y + self.s2;
        self.s2 = c.b2 * x - c.a2 * y;
        y
    }
}
