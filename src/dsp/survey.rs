//! Everything phase 1 and `lathe analyze` measure of a signal, fed a block
//! at a time: loudness and its readings, true peak, the sample scan, the
//! long-term spectrum and a fingerprint of every sample's bits.

use super::loudness::{BlockEnergies, Measurement, Meter};
use super::peaks::TruePeakMeter;
use super::scan::{SampleScan, Scanner};
use super::spectrum::{Spectrum, SpectrumStream};
use crate::error::Result;

/// A fingerprint of samples fed in blocks (every bit of every sample counts,
/// and how the blocks fall does not).
#[derive(Debug, Clone)]
pub struct Fingerprint(Vec<u64>);

impl Fingerprint {
    pub fn new(channels: usize) -> Self {
        Fingerprint((0..channels as u64).map(|c| 0xcbf2_9ce4_8422_2325u64 ^ c).collect())
    }

    pub fn feed<C: AsRef<[f32]>>(&mut self, block: &[C]) {
        for (h, c) in self.0.iter_mut().zip(block) {
            for v in c.as_ref() {
                *h = (*h ^ v.to_bits() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
            }
        }
    }

    pub fn finish(&self, frames: u64) -> u64 {
        self.0.iter().fold(frames, |a, &h| (a ^ h).wrapping_mul(0x0000_0100_0000_01b3))
    }
}

/// What a survey found.
pub struct Findings {
    pub measurement: Measurement,
    pub energies: BlockEnergies,
    pub scan: SampleScan,
    pub spectrum: Spectrum,
    pub fingerprint: u64,
}

/// The measurements of one signal, made as it streams by.
pub struct Survey {
    meter: Meter,
    true_peak: TruePeakMeter,
    scanner: Scanner,
    spectrum: SpectrumStream,
    fingerprint: Fingerprint,
    frames: u64,
}

impl Survey {
    pub fn new(channels: usize, sample_rate: u32, min_clip_run: usize) -> Self {
        Survey {
            meter: Meter::new(channels, sample_rate),
            true_peak: TruePeakMeter::new(channels),
            scanner: Scanner::new(channels, min_clip_run),
            spectrum: SpectrumStream::new(channels, sample_rate),
            fingerprint: Fingerprint::new(channels),
            frames: 0,
        }
    }

    /// Feeds a block (one slice per channel): the meter on one thread, the rest beside it.
    pub fn feed(&mut self, block: &[&[f32]]) -> Result<()> {
        let Survey { meter, true_peak, scanner, spectrum, fingerprint, .. } = self;
        let (fed, ()) = rayon::join(
            || meter.feed(block),
            || {
                true_peak.feed(block);
                scanner.feed(block);
                spectrum.feed(block);
                fingerprint.feed(block);
            },
        );
        self.frames += block.first().map_or(0, |c| c.len()) as u64;
        fed
    }

    pub fn finish(self) -> Result<Findings> {
        let measurement = self.meter.measurement(self.true_peak.finish())?;
        Ok(Findings {
            measurement,
            energies: self.meter.into_energies(),
            scan: self.scanner.finish(),
            spectrum: self.spectrum.finish(),
            fingerprint: self.fingerprint.finish(self.frames),
        })
    }
}
