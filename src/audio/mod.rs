//! Audio files in and out, and sample-rate conversion.

pub(crate) mod cue;
pub mod decode;
pub(crate) mod encode;
pub(crate) mod flac;
pub(crate) mod mp3;
pub(crate) mod ogg;
pub mod resample;
mod riff64;
pub(crate) mod source;
pub(crate) mod spill;
pub(crate) mod stems;
pub(crate) mod tags;

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::Path;

use crate::dsp::Stereo;
use crate::error::{Error, Result};

/// Creates `path` for writing, exclusively (never through a link at its
/// name, never over a file), buffered by `capacity` bytes: every master and
/// scratch file lathe writes starts here.
pub(crate) fn create_new(path: &Path, capacity: usize) -> Result<BufWriter<File>> {
    let file =
        OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| Error::output(path, e))?;
    Ok(BufWriter::with_capacity(capacity, file))
}

/// Planar float audio: one `Vec<f32>` per channel, full scale ±1.0.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, |c| c.len())
    }

    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / self.sample_rate as f64
    }

    /// The same audio as a stereo pair: mono becomes dual mono.
    pub fn into_stereo(self) -> Stereo {
        Stereo::from_channels(self.channels)
    }
}

/// How a file stores its samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceFormat {
    /// Container and codec, e.g. `wav/pcm`, `flac`.
    pub codec: String,
    pub sample_rate: u32,
    pub channels: usize,
    /// Bits per sample for PCM and lossless formats; `None` for lossy codecs.
    pub bit_depth: Option<u32>,
    /// True when samples are stored as floating point.
    pub float: bool,
}
