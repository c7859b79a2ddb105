//! Writing masters: WAV through hound, into a new file (created
//! exclusively, so never through a link at its name), synced to disk before
//! it is reported written. The pipeline writes into its staging folder and
//! commits the whole run (`pipeline::commit`).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// How a deliverable stores samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Int16,
    Int24,
    Float32,
}

impl SampleFormat {
    pub fn bits(self) -> u32 {
        match self {
            SampleFormat::Int16 => 16,
            SampleFormat::Int24 => 24,
            SampleFormat::Float32 => 32,
        }
    }
}

/// One release format: a folder of masters at one rate and sample format.
#[derive(Debug, Clone, PartialEq)]
pub struct Deliverable {
    pub name: String,
    /// `None`: the premaster's rate.
    pub sample_rate: Option<u32>,
    pub format: SampleFormat,
    pub dither: crate::dsp::dither::DitherKind,
}

/// Samples ready for a file: integers already dithered and quantized, or floats.
#[derive(Debug, Clone, PartialEq)]
pub enum Pcm {
    /// `bits`-bit integers (16 or 24), each held as the float it stands for,
    /// `q / 2^(bits-1)`: exact in an `f32`, read by meters with no conversion.
    Int {
        bits: u32,
        channels: Vec<Vec<f32>>,
    },
    Float(Vec<Vec<f32>>),
}

impl Pcm {
    pub fn frames(&self) -> usize {
        self.channels().first().map_or(0, |c| c.len())
    }

    pub fn channel_count(&self) -> usize {
        self.channels().len()
    }

    pub fn bits(&self) -> u32 {
        match self {
            Pcm::Int { bits, .. } => *bits,
            Pcm::Float(_) => 32,
        }
    }

    /// The samples as floats, exactly as a reader of the file will see them.
    pub fn channels(&self) -> &[Vec<f32>] {
        match self {
            Pcm::Int { channels, .. } | Pcm::Float(channels) => channels,
        }
    }

    /// The sample buffers, for reuse.
    pub fn into_channels(self) -> Vec<Vec<f32>> {
        match self {
            Pcm::Int { channels, .. } | Pcm::Float(channels) => channels,
        }
    }

    /// Size of the WAV file this would make, in bytes.
    pub fn wav_size(&self) -> u64 {
        wav_bytes(self.frames() as u64, self.channel_count(), self.bits())
    }
}

/// Frames packed into bytes at a time when writing integer samples.
const PACK_FRAMES: usize = 8192;

/// WAV (RIFF) sizes are 32-bit.
pub const WAV_MAX_BYTES: u64 = u32::MAX as u64;

/// The size of a WAV file of `frames` frames: the one rule both the
/// preflight (before anything renders) and the writer hold against
/// [`WAV_MAX_BYTES`].
pub fn wav_bytes(frames: u64, channels: usize, bits: u32) -> u64 {
    44 + frames * channels as u64 * (bits as u64 / 8)
}

/// Writes `pcm` as a new WAV file at `path` (which must not exist), synced.
pub fn write_wav(path: &Path, sample_rate: u32, pcm: &Pcm) -> Result<()> {
    if pcm.wav_size() > WAV_MAX_BYTES {
        return Err(Error::Render(format!(
            "{}: the master would be {:.2} GiB, past the 4 GiB limit of a WAV file",
            path.display(),
            pcm.wav_size() as f64 / (1u64 << 30) as f64
        )));
    }
    let spec = hound::WavSpec {
        channels: pcm.channel_count() as u16,
        sample_rate,
        bits_per_sample: pcm.bits() as u16,
        sample_format: match pcm {
            Pcm::Int { .. } => hound::SampleFormat::Int,
            Pcm::Float(_) => hound::SampleFormat::Float,
        },
    };
    let hound_err = |e: hound::Error| match e {
        hound::Error::IoError(io) => Error::output(path, io),
        other => Error::Render(format!("{}: {other}", path.display())),
    };
    let file =
        fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| Error::output(path, e))?;
    match pcm {
        Pcm::Int { bits, channels } => {
            // hound writes the header; the samples are packed here a block at
            // a time (hound's per-sample writer costs more than the rest of
            // the write). The file is byte for byte what hound would write.
            let mut header = std::io::Cursor::new(Vec::new());
            hound::WavWriter::new(&mut header, spec).and_then(|w| w.finalize()).map_err(hound_err)?;
            let mut header = header.into_inner();
            let width = (*bits / 8) as usize;
            let data_bytes = pcm.frames() * channels.len() * width;
            let len = header.len();
            header[4..8].copy_from_slice(&((len - 8 + data_bytes) as u32).to_le_bytes());
            header[len - 4..].copy_from_slice(&(data_bytes as u32).to_le_bytes());
            let mut out = BufWriter::with_capacity(1 << 20, file);
            let io = |e| Error::output(path, e);
            out.write_all(&header).map_err(io)?;
            let mut bytes = Vec::with_capacity(PACK_FRAMES * channels.len() * width);
            for start in (0..pcm.frames()).step_by(PACK_FRAMES) {
                bytes.clear();
                let scale = (1u32 << (bits - 1)) as f32;
                for i in start..(start + PACK_FRAMES).min(pcm.frames()) {
                    for ch in channels {
                        let q = (ch[i] * scale) as i32; // exact: the sample is on the integer grid
                        bytes.extend_from_slice(&q.to_le_bytes()[..width]);
                    }
                }
                out.write_all(&bytes).map_err(io)?;
            }
            out.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all()).map_err(io)?;
        }
        Pcm::Float(channels) => {
            let sync = file.try_clone().map_err(|e| Error::output(path, e))?;
            let mut w =
                hound::WavWriter::new(BufWriter::with_capacity(1 << 20, file), spec).map_err(hound_err)?;
            for i in 0..pcm.frames() {
                for ch in channels {
                    w.write_sample(ch[i]).map_err(hound_err)?;
                }
            }
            w.finalize().map_err(hound_err)?;
            sync.sync_all().map_err(|e| Error::output(path, e))?;
        }
    }
    Ok(())
}
