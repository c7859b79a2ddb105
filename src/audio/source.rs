//! A track's audio as a stream of stereo blocks: a premaster file (mono
//! becomes dual mono) or its stems mixed down, decoded a block at a time,
//! through the track's edit (top, tail, fades) when it has one.

use std::path::Path;

use super::SourceFormat;
use super::decode::Reader;
use super::stems::{StemFacts, StemInput, StemMixer};
use crate::dsp::edit::Plan;
use crate::error::Result;

/// Frames per block read from a mix.
pub const BLOCK: usize = 1 << 15;

/// A track's audio being decoded, through its edit when it has one.
pub struct Source {
    input: Input,
    /// The kept span and its fades, and the premaster frames read so far.
    edit: Option<(Plan, u64)>,
}

enum Input {
    Mix { reader: Reader, buf: Vec<Vec<f32>> },
    Stems(StemMixer),
}

impl Source {
    pub fn mix(path: &Path) -> Result<Source> {
        Ok(Source { input: Input::Mix { reader: Reader::open(path)?, buf: Vec::new() }, edit: None })
    }

    pub fn stems(inputs: &[StemInput], min_clip_run: usize) -> Result<Source> {
        Ok(Source { input: Input::Stems(StemMixer::open(inputs, min_clip_run)?), edit: None })
    }

    /// The same stream, topped, tailed and faded as `plan` says.
    pub fn edited(self, plan: Plan) -> Source {
        Source { edit: Some((plan, 0)), ..self }
    }

    /// The stream's format as decoded (a stems track: the first stem's, stereo).
    pub fn format(&self) -> &SourceFormat {
        match &self.input {
            Input::Mix { reader, .. } => reader.format(),
            Input::Stems(m) => m.format(),
        }
    }

    /// Replaces `out` with the next stereo block; returns its frames (0 at the end).
    pub fn read(&mut self, out: &mut [Vec<f32>; 2]) -> Result<usize> {
        loop {
            let n = self.read_input(out)?;
            let Some((plan, at)) = &mut self.edit else { return Ok(n) };
            // Read to the end even past the kept span: a stems track's facts
            // are of whole stems.
            if n == 0 {
                return Ok(0);
            }
            let [l, r] = out;
            let kept = plan.apply(*at, &mut [l.as_mut_slice(), r.as_mut_slice()]);
            *at += n as u64;
            for c in out.iter_mut() {
                c.truncate(kept.end);
                c.drain(..kept.start);
            }
            if !kept.is_empty() {
                return Ok(kept.len());
            }
        }
    }

    fn read_input(&mut self, out: &mut [Vec<f32>; 2]) -> Result<usize> {
        match &mut self.input {
            Input::Mix { reader, buf } => {
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
            Input::Stems(m) => m.read(out),
        }
    }

    /// For a stems track: what each stem brought, and the sum's peak (dBFS).
    pub fn finish(self) -> Option<(Vec<StemFacts>, f64)> {
        match self.input {
            Input::Mix { .. } => None,
            Input::Stems(m) => Some(m.finish()),
        }
    }
}
