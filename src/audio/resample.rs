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
