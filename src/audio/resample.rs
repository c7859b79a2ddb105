//! Sample-rate conversion with rubato's synchronous FFT resampler: a
//! band-limited (windowed-sinc) interpolation applied in the frequency domain,
//! with the resampler's delay trimmed so output stays sample-aligned with input.

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

use crate::error::{Error, Result};

/// Input chunk, in frames: long FFT blocks give a steep anti-aliasing filter.
const CHUNK: usize = 4096;

/// Number of output frames for `frames` input frames: the same duration, rounded.
pub fn output_len(frames: usize, from: u32, to: u32) -> usize {
    ((frames as u128 * to as u128 + from as u128 / 2) / from as u128) as usize
}

/// Converts planar audio from `from` Hz to `to` Hz. Returns exactly
/// [`output_len`] frames per channel, aligned with the input.
pub fn resample(channels: &[Vec<f32>], from: u32, to: u32) -> Result<Vec<Vec<f32>>> {
    if from == to {
        return Ok(channels.to_vec());
    }
    let n_ch = channels.len();
    let frames = channels.first().map_or(0, |c| c.len());
    let err = |e: &dyn std::fmt::Display| Error::Render(format!("resampling {from} Hz to {to} Hz: {e}"));
    let mut rs =
        Fft::<f32>::new(from as usize, to as usize, CHUNK, n_ch, FixedSync::Input).map_err(|e| err(&e))?;
    let needed = rs.process_all_needed_output_len(frames);
    let mut out = vec![vec![0f32; needed]; n_ch];
    let input = SequentialSliceOfVecs::new(channels, n_ch, frames).map_err(|e| err(&e))?;
    let mut output = SequentialSliceOfVecs::new_mut(&mut out, n_ch, needed).map_err(|e| err(&e))?;
    let (_, produced) = rs.process_all_into_buffer(&input, &mut output, frames, None).map_err(|e| err(&e))?;
    let want = output_len(frames, from, to);
    for ch in &mut out {
        ch.truncate(produced.min(want));
        ch.resize(want, 0.0);
    }
    Ok(out)
}
