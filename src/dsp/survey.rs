//! Everything phase 1 and `lathe analyze` measure of a signal, fed a block
//! at a time: loudness and its readings, true peak, the sample scan, the
//! long-term spectrum.

use super::loudness::{BlockEnergies, Measurement, Meter};
use super::peaks::TruePeakMeter;
use super::scan::{SampleScan, Scanner};
use super::spectrum::{Spectrum, SpectrumStream};
use crate::error::Result;

/// What a survey found.
pub struct Findings {
    pub measurement: Measurement,
    pub energies: BlockEnergies,
    pub scan: SampleScan,
    pub spectrum: Spectrum,
}

/// The measurements of one signal, made as it streams by.
pub struct Survey {
    meter: Meter,
    true_peak: TruePeakMeter,
    scanner: Scanner,
    spectrum: SpectrumStream,
}

impl Survey {
    pub fn new(channels: usize, sample_rate: u32, min_clip_run: usize) -> Self {
        Survey {
            meter: Meter::new(channels, sample_rate),
            true_peak: TruePeakMeter::new(channels),
            scanner: Scanner::new(channels, min_clip_run),
            spectrum: SpectrumStream::new(channels, sample_rate),
        }
    }

    /// Feeds a block (one slice per channel): the meter on one thread, the rest beside it.
    pub fn feed(&mut self, block: &[&[f32]]) -> Result<()> {
        self.feed_with(block, |meter| meter.feed(block))
    }

    /// [`feed`](Self::feed), with a second stereo signal's block energies
    /// measured beside the meter's in the same loop (the premaster after the
    /// chain's pre-gain stages, which the render starts from).
    pub fn feed_beside(
        &mut self,
        block: [&[f32]; 2],
        other: &mut BlockEnergies,
        post: [&[f32]; 2],
    ) -> Result<()> {
        self.feed_with(&block, |meter| meter.feed_beside(block, other, post))
    }

    fn feed_with(
        &mut self,
        block: &[&[f32]],
        meter_feed: impl FnOnce(&mut Meter) -> Result<()> + Send,
    ) -> Result<()> {
        let Survey { meter, true_peak, scanner, spectrum } = self;
        let (fed, ()) = rayon::join(
            || meter_feed(meter),
            || {
                true_peak.feed(block);
                scanner.feed(block);
                spectrum.feed(block);
            },
        );
        fed
    }

    pub fn finish(self) -> Result<Findings> {
        let measurement = self.meter.measurement(self.true_peak.finish())?;
        Ok(Findings {
            measurement,
            energies: self.meter.into_energies(),
            scan: self.scanner.finish(),
            spectrum: self.spectrum.finish(),
        })
    }
}
