//! One deliverable's lane in a pass (its quantizers, block energies and
//! file), what the pass hands on of it, and the accepted file read back and
//! measured: the report's figures are those of the file on disk.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::BLOCK;
use crate::audio::decode::Reader;
use crate::audio::encode::{Container, MasterFile, SampleFormat};
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
    /// One file per track of the programme.
    pub(super) paths: Vec<PathBuf>,
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
    pub(super) file: PartedFile,
    pub(super) lossy: bool,
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

    pub(super) fn candidate(mut self, sample_rate: u32, powers: Rc<Vec<f64>>) -> Result<Candidate> {
        // What the files still promise after the last block is digital
        // silence: an album image's last track padded to its frame grid.
        let pad = self.file.frames_left();
        if pad > 0 {
            let zeros = vec![0.0f32; pad as usize];
            self.energies.feed(&[&zeros, &zeros]);
            self.file.write(&[&zeros, &zeros])?;
        }
        // Synced once accepted (`Candidate::measure`): a rejected pass's file is replaced.
        let paths = self.file.finish()?;
        let lufs = self.energies.integrated();
        Ok(Candidate { lufs, lossy: self.lossy, sample_rate, paths, energies: self.energies, powers })
    }
}

impl Candidate {
    /// Reads the written files back and measures each fully: the figures are
    /// what a reader of the file sees. With `spectra`, each one's long-term
    /// spectrum too.
    pub(super) fn measure(self, mut spectra: Option<&mut Vec<Spectrum>>) -> Result<Vec<Written>> {
        // The pass measured a lone file's very samples' block energies as
        // it wrote them; a track of a programme, or a lossy file (which
        // decodes to other samples), is measured afresh.
        let mut reference = (self.paths.len() == 1 && !self.lossy).then_some(self.energies);
        let mut written = Vec::with_capacity(self.paths.len());
        for path in &self.paths {
            let mut spectrum = spectra.is_some().then_some(None);
            written.push(measure_file(path, self.sample_rate, reference.take(), spectrum.as_mut())?);
            if let (Some(all), Some(Some(s))) = (spectra.as_mut(), spectrum) {
                all.push(s);
            }
        }
        Ok(written)
    }
}

/// One written file read back and measured, its block energies taken from
/// `reference` when the pass measured these very samples.
fn measure_file(
    path: &Path,
    rate: u32,
    reference: Option<BlockEnergies>,
    spectrum: Option<&mut Option<Spectrum>>,
) -> Result<Written> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(|e| Error::output(path, e))?;
    let mut reader = Reader::open(path)?;
    let meter = match reference {
        Some(energies) => Meter::with_reference_from(energies, 2, rate)?,
        None => Meter::with_reference(2, rate)?,
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

/// A deliverable's files in a pass: one per track of the programme, each
/// created when the stream reaches it and finished when it is full.
pub(super) struct PartedFile {
    parts: Vec<(PathBuf, u64)>,
    at: usize,
    left: u64,
    file: MasterFile,
    sample_rate: u32,
    format: SampleFormat,
    container: Container,
}

impl PartedFile {
    /// `parts`: each file and its frames. An earlier pass's files are replaced.
    pub(super) fn create(
        parts: Vec<(PathBuf, u64)>,
        sample_rate: u32,
        format: SampleFormat,
        container: Container,
    ) -> Result<PartedFile> {
        for (p, _) in &parts {
            let _ = std::fs::remove_file(p); // only the render's own files
        }
        let file = MasterFile::create(&parts[0].0, sample_rate, 2, format, container, parts[0].1)?;
        let left = parts[0].1;
        Ok(PartedFile { parts, at: 0, left, file, sample_rate, format, container })
    }

    fn next(&mut self) -> Result<()> {
        self.at += 1;
        let (path, frames) = &self.parts[self.at];
        let next = MasterFile::create(path, self.sample_rate, 2, self.format, self.container, *frames)?;
        std::mem::replace(&mut self.file, next).finish(false)?;
        self.left = *frames;
        Ok(())
    }

    /// Frames the files promise that are not written yet.
    fn frames_left(&self) -> u64 {
        self.left + self.parts[self.at + 1..].iter().map(|(_, n)| n).sum::<u64>()
    }

    pub(super) fn write(&mut self, block: &[&[f32]]) -> Result<()> {
        let n = block[0].len();
        let mut from = 0;
        while from < n {
            if self.left == 0 {
                self.next()?;
            }
            let k = ((n - from) as u64).min(self.left) as usize;
            self.file.write(&[&block[0][from..from + k], &block[1][from..from + k]])?;
            (from, self.left) = (from + k, self.left - k as u64);
        }
        Ok(())
    }

    /// Finishes the last file; the files, in order.
    fn finish(mut self) -> Result<Vec<PathBuf>> {
        while self.at + 1 < self.parts.len() {
            self.next()?;
        }
        self.file.finish(false)?;
        Ok(self.parts.into_iter().map(|(p, _)| p).collect())
    }
}
