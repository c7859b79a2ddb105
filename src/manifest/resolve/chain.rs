//! `chain` (album-wide, and per track over it): EQ bands, compressor,
//! width, limiter and its budget.

use super::Resolver;
use crate::dsp::biquad::Shape;
use crate::dsp::compressor::CompressorSettings;
use crate::dsp::eq::Band;
use crate::dsp::limiter::Budget;
use crate::dsp::stereo::WidthSettings;
use crate::dsp::tonal::MatchSettings;
use crate::error::ManifestError;
use crate::manifest::defaults;
use crate::manifest::limits::{self as lim};
use crate::manifest::schema::{RawBand, RawChain, RawCompressor, RawLimiter, RawMatch};
use crate::manifest::{Chain, Limiter, MatchReference, TonalMatch};

impl RawChain {
    /// The DSP's default chain, as keys a preset or manifest merges over.
    pub(crate) fn defaults() -> RawChain {
        let d = Chain::default();
        RawChain {
            eq: Some(
                d.eq.iter()
                    .map(|b| RawBand {
                        kind: b.shape,
                        freq_hz: b.freq_hz,
                        gain_db: None,
                        q: Some(b.q),
                        channel: Some(b.channel),
                    })
                    .collect(),
            ),
            ..RawChain::default()
        }
    }
}

impl Resolver<'_> {
    pub(super) fn tonal_match(&self, chain_path: &str, raw: &RawMatch) -> Result<TonalMatch, ManifestError> {
        let key = format!("{chain_path}.match");
        let p = |k: &str| format!("{key}.{k}");
        let reference = match raw.reference.trim() {
            "" => return Err(self.src.error(&p("reference"), "give a reference track's path, or `album`")),
            "album" => MatchReference::Album,
            path => MatchReference::File(self.root.join(path)),
        };
        let settings = MatchSettings {
            amount: self.within(
                &lim::MATCH_AMOUNT,
                &p("amount"),
                raw.amount.unwrap_or(defaults::MATCH_AMOUNT),
            )?,
            max_db: self.within(
                &lim::MATCH_MAX,
                &p("max_db"),
                raw.max_db.unwrap_or(defaults::MATCH_MAX_DB),
            )?,
            smoothing_oct: self.within(
                &lim::MATCH_SMOOTHING,
                &p("smoothing_oct"),
                raw.smoothing_oct.unwrap_or(defaults::MATCH_SMOOTHING_OCT),
            )?,
        };
        Ok(TonalMatch { reference, settings, key })
    }

    pub(super) fn bands(&self, path: &str, raw: &[RawBand]) -> Result<Vec<Band>, ManifestError> {
        let default_q = Chain::default().eq[0].q;
        raw.iter()
            .enumerate()
            .map(|(i, b)| {
                let p = |k: &str| format!("{path}[{i}].{k}");
                let freq_hz = self.within(&lim::EQ_FREQ, &p("freq_hz"), b.freq_hz)?;
                let q = self.within(&lim::EQ_Q, &p("q"), b.q.unwrap_or(default_q))?;
                let gain_db = self.within(&lim::EQ_GAIN, &p("gain_db"), b.gain_db.unwrap_or(0.0))?;
                if b.gain_db.is_some() && matches!(b.kind, Shape::Highpass | Shape::Lowpass | Shape::Notch) {
                    return Err(self
                        .src
                        .error(&p("gain_db"), "high-pass, low-pass and notch bands take no gain"));
                }
                Ok(Band { shape: b.kind, freq_hz, gain_db, q, channel: b.channel.unwrap_or_default() })
            })
            .collect()
    }

    pub(super) fn chain(&self, path: &str, raw: &RawChain) -> Result<Chain, ManifestError> {
        let p = |k: &str| format!("{path}.{k}");
        let d = Chain::default();
        Ok(Chain {
            eq: self.bands(&p("eq"), raw.eq.as_deref().unwrap_or(&[]))?,
            compressor: raw.compressor.as_ref().map(|c| self.compressor(&p("compressor"), c)).transpose()?,
            width: WidthSettings {
                width: self.within(&lim::WIDTH, &p("width"), raw.width.unwrap_or(d.width.width))?,
                mono_below_hz: raw
                    .mono_below_hz
                    .map(|f| self.within(&lim::MONO_BELOW, &p("mono_below_hz"), f))
                    .transpose()?,
            },
            limiter: self.limiter(&p("limiter"), &raw.limiter.clone().unwrap_or_default())?,
        })
    }

    fn compressor(&self, path: &str, c: &RawCompressor) -> Result<CompressorSettings, ManifestError> {
        let d = CompressorSettings::default();
        let p = |k: &str| format!("{path}.{k}");
        Ok(CompressorSettings {
            threshold_db: self.within(
                &lim::COMP_THRESHOLD,
                &p("threshold_db"),
                c.threshold_db.unwrap_or(d.threshold_db),
            )?,
            ratio: self.within(&lim::COMP_RATIO, &p("ratio"), c.ratio.unwrap_or(d.ratio))?,
            attack_ms: self.within(&lim::COMP_ATTACK, &p("attack_ms"), c.attack_ms.unwrap_or(d.attack_ms))?,
            release_ms: self.within(
                &lim::COMP_RELEASE,
                &p("release_ms"),
                c.release_ms.unwrap_or(d.release_ms),
            )?,
            knee_db: self.within(&lim::COMP_KNEE, &p("knee_db"), c.knee_db.unwrap_or(d.knee_db))?,
            makeup_db: self.within(&lim::COMP_MAKEUP, &p("makeup_db"), c.makeup_db.unwrap_or(0.0))?,
            sidechain_hpf_hz: c
                .sidechain_hpf_hz
                .map(|f| self.within(&lim::COMP_SIDECHAIN_HPF, &p("sidechain_hpf_hz"), f))
                .transpose()?,
        })
    }

    fn limiter(&self, path: &str, l: &RawLimiter) -> Result<Limiter, ManifestError> {
        let d = Limiter::default();
        let p = |k: &str| format!("{path}.{k}");
        let b = l.budget.clone().unwrap_or_default();
        let budget = Budget {
            sustained_db: self.within(
                &lim::BUDGET_SUSTAINED,
                &p("budget.sustained_db"),
                b.sustained_db.unwrap_or(d.budget.sustained_db),
            )?,
            peak_db: self.within(
                &lim::BUDGET_PEAK,
                &p("budget.peak_db"),
                b.peak_db.unwrap_or(d.budget.peak_db),
            )?,
        };
        if budget.peak_db < budget.sustained_db {
            return Err(self.src.error(
                &p("budget.peak_db"),
                format!(
                    "the peak budget ({} dB) is below the sustained budget ({} dB); a peak always takes at least the sustained gain reduction",
                    budget.peak_db, budget.sustained_db
                ),
            ));
        }
        Ok(Limiter {
            lookahead_ms: self.within(
                &lim::LOOKAHEAD,
                &p("lookahead_ms"),
                l.lookahead_ms.unwrap_or(d.lookahead_ms),
            )?,
            release_ms: self.within(
                &lim::LIMITER_RELEASE,
                &p("release_ms"),
                l.release_ms.unwrap_or(d.release_ms),
            )?,
            hold_ms: self.within(&lim::HOLD, &p("hold_ms"), l.hold_ms.unwrap_or(d.hold_ms))?,
            budget,
        })
    }
}
