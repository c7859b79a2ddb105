//! A track's audio as a stream of stereo blocks: a premaster file (mono
//! becomes dual mono) or its stems mixed down, decoded a block at a time.

use std::path::Path;

use super::SourceFormat;
use super::decode::Reader;
use super::stems::{StemFacts, StemInput, StemMixer};
use crate::error::Result;

/// Frames per block read from a mix.
pub const BLOCK: usize = 1 << 15;

/// A track's audio being decoded.
pub enum Source {
    Mix { reader: Reader, buf: Vec<Vec<f32>> },
    Stems(StemMixer),
}

impl Source {
    pub fn mix(path: &Path) -> Result<Source> {
        Ok(Source::Mix { reader: Reader::open(path)?, buf: Vec::new() })
    }

    pub fn stems(inputs: &[StemInput], min_clip_run: usize) -> Result<Source> {
        Ok(Source::Stems(StemMixer::open(inputs, min_clip_run)?))
    }

    /// The stream's format as decoded (a stems track: the first stem's, stereo).
    pub fn format(&self) -> &SourceFormat {
        match self {
            Source::Mix { reader, .. } => reader.format(),
            Source::Stems(m) => m.format(),
        }
    }

    /// Replaces `out` with the next stereo block; returns its frames (0 at the end).
    pub fn read(&mut self, out: &mut [Vec<f32>; 2]) -> Result<usize> {
        match self {
            Source::Mix { reader, buf } => {
                buf.iter_mut().for_each(Vec::clear);
                let n = reader.read(buf, BLOCK)?;
                let [l, r] = out;
                l.clear();
                r.clear();
                if n > 0 {
                    l.extend_from_slice(&buf[0]);
                    r.extend_from_slice(buf.get(1).unwrap_or(&buf[0]));
                }
                Ok(n)
            }
            Source::Stems(m) => m.read(out),
        }
    }

    /// For a stems track: what each stem brought, and the sum's peak (dBFS).
    pub fn finish(self) -> Option<(Vec<StemFacts>, f64)> {
        match self {
            Source::Mix { .. } => None,
            Source::Stems(m) => Some(m.finish()),
        }
    }
}
