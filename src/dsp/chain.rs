//! The mastering chain's settings, every stage's in one place, with the
//! defaults a track gets when the manifest says nothing: EQ (a 20 Hz
//! high-pass), compressor (off), width (unchanged), then gain into the
//! limiter. The stages before the gain run here ([`Chain::pre_gain`]); the
//! gain and the limiter are solved by the renderer.

use std::f64::consts::FRAC_1_SQRT_2;

use super::Stereo;
use super::biquad::Shape;
use super::compressor::{Compressor, CompressorSettings, CompressorStats};
use super::eq::{Band, BandChannel, Eq};
use super::limiter::{Budget, LimiterSettings};
use super::stereo::{Width, WidthSettings};

/// The default EQ's one band: DC and subsonics out.
pub const HIGHPASS_HZ: f64 = 20.0;

/// The limiter's timing and budget; the ceiling comes from the target.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
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

/// A track's mastering chain, all keys merged and defaulted; serialized
/// with the manifest's keys (`width` and `mono_below_hz` at its level).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Chain {
    pub eq: Vec<Band>,
    pub compressor: Option<CompressorSettings>,
    #[serde(flatten)]
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
        let mut stages = PreGain::new(self, sample_rate);
        let [left, right] = &mut audio.0;
        stages.process(left, right);
        stages.compressor_stats()
    }
}

/// The stages before the gain (EQ, compressor, width) with their state,
/// fed a stereo pair a block at a time.
pub struct PreGain {
    eq: Eq,
    compressor: Option<Compressor>,
    width: Width,
}

impl PreGain {
    pub fn new(chain: &Chain, sample_rate: u32) -> Self {
        PreGain {
            eq: Eq::new(&chain.eq, sample_rate),
            compressor: chain.compressor.as_ref().map(|c| Compressor::new(c, sample_rate)),
            width: Width::new(&chain.width, sample_rate),
        }
    }

    /// The pair's next frames, in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if !self.eq.is_empty() {
            self.eq.process(left, right);
        }
        if let Some(c) = self.compressor.as_mut() {
            c.process(left, right);
        }
        self.width.process(left, right);
    }

    /// What the compressor did, when the chain has one.
    pub fn compressor_stats(&self) -> Option<CompressorStats> {
        self.compressor.as_ref().map(Compressor::stats)
    }
}
