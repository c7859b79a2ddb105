//! Signal processing. Nothing here knows about files, YAML or threads:
//! settings and samples in, samples (and stats) out.

pub mod biquad;
pub mod compressor;
pub mod dither;
pub mod eq;
pub mod kweight;
pub mod limiter;
pub mod oversample;
pub mod spectrum;
pub mod stereo;

/// dB to linear amplitude gain.
#[inline]
pub fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Linear amplitude to dB (−∞ for 0).
#[inline]
pub fn gain_to_db(gain: f64) -> f64 {
    20.0 * gain.log10()
}

/// Multiplies every channel by a gain given in dB.
pub fn apply_gain_db(channels: &mut [Vec<f32>], db: f64) {
    let g = db_to_gain(db);
    for ch in channels {
        for s in ch.iter_mut() {
            *s = (*s as f64 * g) as f32;
        }
    }
}
