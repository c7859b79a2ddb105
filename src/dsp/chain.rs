//! The mastering chain's settings, every stage's in one place, with the
//! defaults a track gets when the manifest says nothing: EQ (a 20 Hz
//! high-pass), compressor (off), width (unchanged), then gain into the
//! limiter. The stages before the gain run here ([`Chain::pre_gain`]); the
//! gain and the limiter are solved by the renderer.

use std::f64::consts::FRAC_1_SQRT_2;

use super::Stereo;
use super::biquad::Shape;
use super::compressor::{self, CompressorSettings, CompressorStats};
use super::eq::{Band, BandChannel, Eq};
use super::limiter::{Budget, LimiterSettings};
use super::stereo::{self, WidthSettings};

/// The default EQ's one band: DC and subsonics out.
pub const HIGHPASS_HZ: f64 = 20.0;

/// The limiter's timing and budget; the ceiling comes from the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limiter {
    pub lookahead_ms: f64,
    pub release_ms: f64,
    pub hold_ms: f64,
    /// How much the limiter may work: the gain solver stops at it.
    pub budget: Budget,
}

impl Limiter {
    /// Its settings under `ceiling_dbtp`.
    pub fn settings(&self, ceiling_dbtp: f64) -> LimiterSettings {
        LimiterSettings {
            ceiling_dbtp,
            lookahead_ms: self.lookahead_ms,
            release_ms: self.release_ms,
            hold_ms: self.hold_ms,
        }
    }
}

impl Default for Limiter {
    fn default() -> Self {
        let d = LimiterSettings::default();
        Limiter {
            lookahead_ms: d.lookahead_ms,
            release_ms: d.release_ms,
            hold_ms: d.hold_ms,
            budget: Budget::DEFAULT,
        }
    }
}

/// A track's mastering chain, all keys merged and defaulted.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub eq: Vec<Band>,
    pub compressor: Option<CompressorSettings>,
    pub width: WidthSettings,
    pub limiter: Limiter,
}

impl Default for Chain {
    fn default() -> Self {
        Chain {
            eq: vec![Band {
                shape: Shape::Highpass,
                freq_hz: HIGHPASS_HZ,
                gain_db: 0.0,
                q: FRAC_1_SQRT_2,
                channel: BandChannel::Stereo,
            }],
            compressor: None,
            width: WidthSettings { width: 1.0, mono_below_hz: None },
            limiter: Limiter::default(),
        }
    }
}

impl Chain {
    /// Runs the stages before the gain, in place: EQ, compressor, width.
    pub fn pre_gain(&self, sample_rate: u32, audio: &mut Stereo) -> Option<CompressorStats> {
        let [left, right] = &mut audio.0;
        let mut eq = Eq::new(&self.eq, sample_rate);
        if !eq.is_empty() {
            eq.process(left, right);
        }
        let stats = self.compressor.as_ref().map(|c| compressor::process(c, sample_rate, left, right));
        stereo::process(&self.width, sample_rate, left, right);
        stats
    }
}
