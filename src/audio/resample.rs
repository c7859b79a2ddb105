//! Sample-rate conversion with rubato's synchronous FFT resampler: a
//! band-limited (windowed-sinc) interpolation applied in the frequency domain,
//! with the resampler's delay trimmed so output stays sample-aligned with input.

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler};

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
    let mut out = vec![Vec::new(); channels.len()];
    let mut s = Stream::new(channels.len(), from, to)?;
    let views: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    s.feed(&views, &mut out)?;
    s.finish(&mut out)?;
    Ok(out)
}

/// The resampler fed a block at a time: the same chunks, delay trim and
/// flush as rubato's whole-clip `process_all`, so the output is the same
/// samples, with memory of one chunk.
pub struct Stream {
    rs: Fft<f32>,
    from: u32,
    to: u32,
    /// Input not yet resampled (less than a chunk, or exactly one at the end).
    pending: Vec<Vec<f32>>,
    chunk_out: Vec<Vec<f32>>,
    /// Output frames still to drop: the resampler's delay.
    trim: usize,
    frames_in: usize,
    frames_out: usize,
}

impl Stream {
    pub fn new(channels: usize, from: u32, to: u32) -> Result<Self> {
        let rs = Fft::<f32>::new(from as usize, to as usize, CHUNK, channels, FixedSync::Input)
            .map_err(|e| error(from, to, &e))?;
        Ok(Stream {
            trim: rs.output_delay(),
            chunk_out: vec![vec![0f32; rs.output_frames_max()]; channels],
            rs,
            from,
            to,
            pending: vec![Vec::with_capacity(2 * CHUNK); channels],
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Resamples the next input frames, appending what is ready to `out`.
    pub fn feed(&mut self, block: &[&[f32]], out: &mut [Vec<f32>]) -> Result<()> {
        let mut at = 0;
        let len = block.first().map_or(0, |c| c.len());
        while at < len {
            let take = (2 * CHUNK - self.pending[0].len()).min(len - at);
            for (p, b) in self.pending.iter_mut().zip(block) {
                p.extend_from_slice(&b[at..at + take]);
            }
            at += take;
            // A chunk is resampled once more input follows it: the last one,
            // even when whole, is the flush's (as in `process_all`).
            let mut used = 0;
            while self.pending[0].len() - used > CHUNK {
                used += self.chunk(used, None, out)?;
            }
            for p in &mut self.pending {
                p.drain(..used);
            }
        }
        self.frames_in += len;
        Ok(())
    }

    /// Resamples one chunk from `pending[offset..]`; returns the input frames used.
    fn chunk(&mut self, offset: usize, partial: Option<usize>, out: &mut [Vec<f32>]) -> Result<usize> {
        let (from, to) = (self.from, self.to);
        let n_ch = self.pending.len();
        let input = SequentialSliceOfVecs::new(&self.pending, n_ch, self.pending[0].len())
            .map_err(|e| error(from, to, &e))?;
        let max = self.chunk_out[0].len();
        let mut output = SequentialSliceOfVecs::new_mut(&mut self.chunk_out, n_ch, max)
            .map_err(|e| error(from, to, &e))?;
        let indexing = Indexing {
            input_offset: offset,
            output_offset: 0,
            active_channels_mask: None,
            partial_len: partial,
        };
        let (used, produced) = self
            .rs
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| error(from, to, &e))?;
        let skip = self.trim.min(produced);
        self.trim -= skip;
        for (o, c) in out.iter_mut().zip(&self.chunk_out) {
            o.extend_from_slice(&c[skip..produced]);
        }
        self.frames_out += produced - skip;
        Ok(used)
    }

    /// Flushes the last chunk and the resampler's delay: the output then
    /// holds exactly [`output_len`] frames in all.
    pub fn finish(mut self, out: &mut [Vec<f32>]) -> Result<()> {
        let want = output_len(self.frames_in, self.from, self.to);
        let expected = (self.rs.resample_ratio() * self.frames_in as f64).ceil() as usize;
        let start: Vec<usize> = out.iter().map(|o| o.len()).collect();
        let before = self.frames_out;
        let rest = self.pending[0].len();
        if rest > 0 {
            self.chunk(0, Some(rest), out)?;
        }
        for p in &mut self.pending {
            p.clear();
        }
        while self.frames_out < expected {
            self.chunk(0, Some(0), out)?;
        }
        // Exactly `want` frames in all: cut what the flush overshot.
        let keep = want.saturating_sub(before);
        for (o, s) in out.iter_mut().zip(start) {
            o.truncate(s + keep);
            o.resize(s + keep, 0.0);
        }
        Ok(())
    }
}

fn error(from: u32, to: u32, e: &dyn std::fmt::Display) -> Error {
    Error::Render(format!("resampling {from} Hz to {to} Hz: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::{db, sine, tone_amplitude};

    fn through(freq: f64, from: u32, to: u32) -> f64 {
        let x = sine(freq, 0.5, 0.0, 1.0, from);
        let y = resample(&[x], from, to).unwrap().remove(0);
        // Measure away from the edges.
        let n = y.len();
        db(tone_amplitude(&y[n / 4..3 * n / 4], freq, to) / 0.5)
    }

    #[test]
    fn keeps_length_and_alignment() {
        let mut x = vec![0f32; 48000];
        x[24000] = 1.0;
        let y = resample(&[x], 48000, 44100).unwrap().remove(0);
        assert_eq!(y.len(), 44100);
        let peak = y.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0;
        assert!((peak as i64 - 22050).abs() <= 1, "impulse moved to {peak}");
        assert_eq!(output_len(48000 * 60 + 1, 48000, 44100), 2_646_001);
    }

    #[test]
    fn passband_is_flat_to_20khz_at_44k1() {
        for f in [100.0, 1000.0, 5000.0, 10000.0, 15000.0, 18000.0, 19000.0, 20000.0] {
            let g = through(f, 48000, 44100);
            assert!(g.abs() <= 0.1, "{f} Hz: {g:.3} dB");
        }
    }

    #[test]
    fn aliasing_is_below_minus_100_db() {
        // 23 kHz cannot exist at 44.1 kHz: it would fold to 21.1 kHz.
        let x = sine(23000.0, 0.5, 0.0, 1.0, 48000);
        let y = resample(&[x], 48000, 44100).unwrap().remove(0);
        let n = y.len();
        let alias = db(tone_amplitude(&y[n / 4..3 * n / 4], 44100.0 - 23000.0, 44100) / 0.5);
        assert!(alias <= -100.0, "alias at 21.1 kHz: {alias:.1} dB");
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn blocks_of_any_length_give_the_samples_of_the_whole() {
        let song = lathe_synth::Song { seconds: 2.0, ..lathe_synth::sample_album_songs()[2].clone() };
        let x = lathe_synth::render(&song, 48000).to_vec();
        let whole = resample(&x, 48000, 44100).unwrap();
        assert_eq!(whole[0].len(), output_len(x[0].len(), 48000, 44100));
        for len in [1000, 4096, 4097, 65536] {
            let mut s = Stream::new(2, 48000, 44100).unwrap();
            let mut out = vec![Vec::new(), Vec::new()];
            for start in (0..x[0].len()).step_by(len) {
                let end = (start + len).min(x[0].len());
                s.feed(&[&x[0][start..end], &x[1][start..end]], &mut out).unwrap();
            }
            s.finish(&mut out).unwrap();
            assert_eq!(out, whole, "blocks of {len}");
        }
    }
}
