//! One deliverable's lane in a pass (its quantizers, block energies and
//! file), what the pass hands on of it, and the accepted file read back and
//! measured: the report's figures are those of the file on disk.

use std::path::PathBuf;
use std::rc::Rc;

use super::BLOCK;
use crate::audio::decode::Reader;
use crate::audio::encode::{MasterFile, SampleFormat};
use crate::dsp::dither::Quantizer;
use crate::dsp::loudness::{BlockEnergies, Measurement, Meter};
use crate::dsp::peaks::TruePeakMeter;
use crate::dsp::spectrum::{Spectrum, SpectrumStream};
use crate::error::{Error, Result};

/// One deliverable of a pass: its loudness, the file it was written to, and
/// what a prediction of other gains starts from (its block energies, and the
/// power its branch's curve kept in each block).
pub(super) struct Candidate {
    pub lufs: f64,
    /// Written through a lossy codec: measured on the decoded file alone.
    pub(super) lossy: bool,
    pub(super) sample_rate: u32,
    pub(super) path: PathBuf,
    pub energies: BlockEnergies,
    pub powers: Rc<Vec<f64>>,
}

/// One deliverable as written and measured.
pub struct Written {
    pub sample_rate: u32,
    pub measurement: Measurement,
    /// For album pooling.
    pub energies: BlockEnergies,
    /// Samples at integer full scale.
    pub full_scale_samples: usize,
}

/// One deliverable's quantizers, meter and file during a pass.
pub(super) struct Lane {
    pub(super) index: usize,
    pub(super) format: SampleFormat,
    pub(super) quantizers: Vec<Quantizer>,
    pub(super) energies: BlockEnergies,
    pub(super) file: MasterFile,
    pub(super) lossy: bool,
    pub(super) path: PathBuf,
    /// The block as this deliverable stores it.
    pub(super) samples: [Vec<f32>; 2],
}

impl Lane {
    pub(super) fn feed(&mut self, y: &[Vec<f32>; 2]) -> Result<()> {
        for (q, y) in self.samples.iter_mut().zip(y) {
            q.clear();
            q.extend_from_slice(y);
        }
        if self.format != SampleFormat::Float32 {
            for (q, quantizer) in self.samples.iter_mut().zip(&mut self.quantizers) {
                quantizer.process(q);
            }
        }
        let views = [self.samples[0].as_slice(), self.samples[1].as_slice()];
        self.energies.feed(&views);
        self.file.write(&views)
    }

    pub(super) fn candidate(self, sample_rate: u32, powers: Rc<Vec<f64>>) -> Result<Candidate> {
        // Synced once accepted (`Candidate::measure`): a rejected pass's file is replaced.
        self.file.finish(false)?;
        let lufs = self.energies.integrated();
        Ok(Candidate {
            lufs,
            lossy: self.lossy,
            sample_rate,
            path: self.path,
            energies: self.energies,
            powers,
        })
    }
}

impl Candidate {
    /// Reads the written file back and measures it fully: the figures are
    /// what a reader of the file sees. With `spectrum`, its long-term spectrum too.
    pub(super) fn measure(self, spectrum: Option<&mut Option<Spectrum>>) -> Result<Written> {
        let rate = self.sample_rate;
        std::fs::File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::output(&self.path, e))?;
        let mut reader = Reader::open(&self.path)?;
        // The pass measured these very samples' block energies as it wrote
        // them; a lossy file decodes to other samples, measured afresh.
        let meter = match self.lossy {
            false => Meter::with_reference_from(self.energies, 2, rate)?,
            true => Meter::with_reference(2, rate)?,
        };
        let (mut meter, mut true_peak) = (meter, TruePeakMeter::new(2));
        let mut stream = spectrum.is_some().then(|| SpectrumStream::new(2, rate));
        let max = match reader.format().bit_depth {
            Some(bits) if !reader.format().float => 1.0 - 1.0 / (1u64 << (bits - 1)) as f32, // the largest positive integer
            _ => 1.0,
        };
        let (mut full_scale, mut block) = (0, Vec::new());
        loop {
            block.iter_mut().for_each(Vec::clear);
            if reader.read(&mut block, BLOCK)? == 0 {
                break;
            }
            let views = [block[0].as_slice(), block[1].as_slice()];
            let (fed, ()) = rayon::join(
                || meter.feed(&views),
                || {
                    true_peak.feed(&views);
                    if let Some(s) = stream.as_mut() {
                        s.feed(&views);
                    }
                },
            );
            fed?;
            full_scale += views.iter().flat_map(|c| c.iter()).filter(|q| q.abs() >= max).count();
        }
        if let (Some(slot), Some(s)) = (spectrum, stream) {
            *slot = Some(s.finish());
        }
        let measurement = meter.measurement(true_peak.finish())?;
        Ok(Written {
            sample_rate: rate,
            measurement,
            energies: meter.into_energies(),
            full_scale_samples: full_scale,
        })
    }
}
