//! Signal processing. Nothing here knows about files, YAML or threads:
//! settings and samples in, samples (and stats) out.

pub mod biquad;
pub mod chain;
pub mod compressor;
pub mod dither;
pub mod edit;
pub mod eq;
pub mod fir;
pub(crate) mod kweight;
pub mod limiter;
pub mod loudness;
pub mod match_eq;
pub(crate) mod math;
pub mod oversample;
pub mod peaks;
pub mod scan;
pub mod series;
pub mod spectrum;
pub mod stereo;
pub mod survey;
pub mod tonal;

/// dB to linear amplitude gain.
#[inline]
pub fn db_to_gain(db: f64) -> f64 {
    // e^(dB·ln10/20) rather than 10^(dB/20): the same value to an ulp, and
    // `exp` costs a third of `pow` in the compressor's per-sample loop.
    math::exp(db * (std::f64::consts::LN_10 / 20.0))
}

/// Linear amplitude to dB (−∞ for 0).
#[inline]
pub fn gain_to_db(gain: f64) -> f64 {
    20.0 * math::log10(gain)
}

/// A stereo pair of planar channels, left then right, of equal length: what
/// the mastering chain works on (a mono premaster arrives as dual mono).
/// It reads as a slice of two channels wherever any channel count will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Stereo(pub [Vec<f32>; 2]);

impl Stereo {
    /// Left and right; a single channel becomes dual mono.
    pub fn from_channels(mut channels: Vec<Vec<f32>>) -> Stereo {
        let left = channels.remove(0);
        let right = if channels.is_empty() { left.clone() } else { channels.remove(0) };
        Stereo([left, right])
    }

    pub fn into_channels(self) -> Vec<Vec<f32>> {
        self.0.into()
    }
}

impl std::ops::Deref for Stereo {
    type Target = [Vec<f32>];

    fn deref(&self) -> &[Vec<f32>] {
        &self.0
    }
}
