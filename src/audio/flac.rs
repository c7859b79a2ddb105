//! Writing FLAC masters a block at a time with `flacenc` (pure Rust): the
//! same integer samples the WAV writer stores, so a FLAC deliverable
//! decodes to exactly the samples of a WAV one at the same rate and depth.
//!
//! The stream header (STREAMINFO: lengths, frame sizes, the MD5 of the
//! samples) is known only at the end, so its bytes are reserved first and
//! written last, in place. Tags are added afterwards (`audio::tags`).

use std::fs;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr, Stream, StreamInfo};
use flacenc::error::{Verified, Verify};
use flacenc::source::{Context, Fill, FrameBuf};

use crate::error::{Error, Result};

/// The compression levels, as libFLAC numbers them (0 fastest, 8 smallest).
pub const LEVELS: std::ops::RangeInclusive<u8> = 0..=8;
/// The default level (libFLAC's).
pub const DEFAULT_LEVEL: u8 = 5;

/// `fLaC` and the STREAMINFO block (its header and 34 bytes).
const HEADER_BYTES: usize = 4 + 4 + 34;

/// The encoder's settings for a libFLAC-style level: block size, fixed
/// predictors only at 0-2, then linear prediction of growing order.
fn config(level: u8) -> Result<Verified<flacenc::config::Encoder>> {
    let mut c = flacenc::config::Encoder::default();
    c.multithread = false; // tracks already run in parallel
    c.block_size = if level <= 1 { 1152 } else { 4096 };
    let sub = &mut c.subframe_coding;
    sub.use_lpc = level >= 3;
    sub.fixed.max_order = if level == 0 { 2 } else { 4 };
    sub.qlpc.lpc_order = match level {
        0..=5 => 8,
        6 => 10,
        _ => 12,
    };
    c.stereo_coding.use_midside = level >= 1;
    c.stereo_coding.use_leftside = level >= 1;
    c.stereo_coding.use_rightside = level >= 1;
    c.into_verified().map_err(|(_, e)| Error::Render(format!("FLAC encoder settings: {e}")))
}

/// A FLAC master written a block at a time.
pub struct FlacStream {
    path: PathBuf,
    out: BufWriter<fs::File>,
    config: Verified<flacenc::config::Encoder>,
    info: StreamInfo,
    frame: FrameBuf,
    context: Context,
    bits: u32,
    channels: usize,
    /// Interleaved integer samples not yet a whole frame.
    pending: Vec<i32>,
    frames: u64,
    sink: ByteSink,
}

impl FlacStream {
    /// Creates `path` (which must not exist) for `bits`-bit integer samples.
    pub fn create(
        path: &Path,
        sample_rate: u32,
        channels: usize,
        bits: u32,
        level: u8,
    ) -> Result<FlacStream> {
        let config = config(level)?;
        let invalid = |e: flacenc::error::VerifyError| Error::Render(format!("{}: {e}", path.display()));
        let info = StreamInfo::new(sample_rate as usize, channels, bits as usize).map_err(invalid)?;
        let frame = FrameBuf::with_size(channels, config.block_size).map_err(invalid)?;
        let mut out = super::create_new(path, 1 << 20)?;
        out.write_all(&[0u8; HEADER_BYTES]).map_err(|e| Error::output(path, e))?;
        Ok(FlacStream {
            path: path.to_path_buf(),
            out,
            config,
            info,
            frame,
            context: Context::new(bits as usize, channels),
            bits,
            channels,
            pending: Vec::new(),
            frames: 0,
            sink: ByteSink::new(),
        })
    }

    /// Appends a block: one slice per channel, samples on the format's integer grid.
    pub fn write(&mut self, block: &[&[f32]]) -> Result<()> {
        let frames = block.first().map_or(0, |c| c.len());
        let scale = (1u32 << (self.bits - 1)) as f32;
        self.pending.reserve(frames * self.channels);
        for i in 0..frames {
            for ch in block {
                self.pending.push((ch[i] * scale) as i32); // exact: the sample is on the integer grid
            }
        }
        let whole = self.config.block_size * self.channels;
        let mut at = 0;
        while self.pending.len() - at >= whole {
            self.encode(at..at + whole)?;
            at += whole;
        }
        self.pending.drain(..at);
        Ok(())
    }

    fn encode(&mut self, range: std::ops::Range<usize>) -> Result<()> {
        let samples = &self.pending[range];
        let n = samples.len() / self.channels;
        if n != self.frame.size() {
            self.frame.resize(n);
        }
        let fill = |e: flacenc::error::SourceError| Error::Render(format!("{}: {e}", self.path.display()));
        self.frame.fill_interleaved(samples).map_err(fill)?;
        self.context.fill_interleaved(samples).map_err(fill)?;
        let number = self.context.current_frame_number().unwrap_or(0);
        let frame = flacenc::encode_fixed_size_frame(&self.config, &self.frame, number, &self.info)
            .map_err(|e| Error::Render(format!("{}: FLAC encoder: {e}", self.path.display())))?;
        self.info.update_frame_info(&frame);
        self.sink.clear();
        frame.write(&mut self.sink).map_err(|e| Error::Render(format!("FLAC frame: {e:?}")))?;
        self.out.write_all(self.sink.as_slice()).map_err(|e| Error::output(&self.path, e))?;
        self.frames += n as u64;
        Ok(())
    }

    /// Encodes what is left, writes the final header, flushes, and with
    /// `sync` syncs the file to disk.
    pub fn finish(mut self, sync: bool) -> Result<()> {
        if !self.pending.is_empty() {
            let all = 0..self.pending.len();
            self.encode(all)?;
        }
        let block = self.config.block_size.min(self.frames.max(16) as usize);
        self.info
            .set_block_sizes(block, block)
            .map_err(|e| Error::Render(format!("{}: {e}", self.path.display())))?;
        self.info.set_md5_digest(&self.context.md5_digest());
        self.info.set_total_samples(self.frames as usize);
        let mut sink = ByteSink::new();
        Stream::with_stream_info(self.info.clone())
            .write(&mut sink)
            .map_err(|e| Error::Render(format!("FLAC header: {e:?}")))?;
        let header = sink.as_slice();
        debug_assert_eq!(header.len(), HEADER_BYTES);
        let io = |e| Error::output(&self.path, e);
        let mut file = self.out.into_inner().map_err(|e| e.into_error()).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(header).map_err(io)?;
        if sync { file.sync_all().map_err(io) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples on the 16- or 24-bit grid, a sweep with noise.
    fn grid(frames: usize, bits: u32) -> [Vec<f32>; 2] {
        let scale = (1u32 << (bits - 1)) as f32;
        let mut state = 9u32;
        let mut out = [Vec::new(), Vec::new()];
        for i in 0..frames {
            for (c, o) in out.iter_mut().enumerate() {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let v = 0.5 * ((i as f32 * (0.01 + c as f32 * 0.003)).sin()) + (state >> 24) as f32 / 4096.0;
                o.push((v.clamp(-1.0, 1.0 - 1.0 / scale) * scale).round() / scale);
            }
        }
        out
    }

    #[test]
    fn decodes_to_exactly_the_samples_written_at_every_level() {
        for (bits, level, frames) in [(16, 0, 1000), (24, 5, 50_000), (16, 8, 4096 * 3), (24, 2, 17)] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.flac");
            let x = grid(frames, bits);
            let mut w = FlacStream::create(&path, 44100, 2, bits, level).unwrap();
            for chunk in (0..frames).collect::<Vec<_>>().chunks(7000) {
                let r = chunk[0]..chunk[chunk.len() - 1] + 1;
                w.write(&[&x[0][r.clone()], &x[1][r]]).unwrap();
            }
            w.finish(true).unwrap();
            let (audio, format) = crate::audio::decode::decode(&path).unwrap();
            assert_eq!(audio.sample_rate, 44100);
            assert_eq!(format.bit_depth, Some(bits), "{bits}-bit");
            for (got, want) in audio.channels.iter().zip(&x) {
                assert_eq!(got.len(), want.len(), "{bits}-bit level {level}");
                assert!(
                    got.iter().zip(want).all(|(a, b)| a == b),
                    "{bits}-bit level {level}: samples differ"
                );
            }
        }
    }
}
