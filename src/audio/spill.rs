//! Spill files: a render's intermediate signals (the pre-gain premaster at
//! each output rate, its peak envelope) written once and read back a block
//! at a time by every pass, so memory holds blocks, never a track. Frames
//! are stored interleaved as little-endian `f32`, in the run's staging
//! folder (so a crash leaves them where the next run clears them); a spill
//! is removed when dropped.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const BUFFER_BYTES: usize = 1 << 20;

/// A spill being written.
pub struct SpillWriter {
    spill: Spill,
    out: BufWriter<File>,
    bytes: Vec<u8>,
}

/// A finished spill: `frames` frames of `channels` channels.
pub struct Spill {
    path: PathBuf,
    channels: usize,
    frames: usize,
}

impl SpillWriter {
    /// Creates a new spill file at `path` (which must not exist).
    pub fn create(path: &Path, channels: usize) -> Result<SpillWriter> {
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::output(path, e))?;
        Ok(SpillWriter {
            spill: Spill { path: path.to_path_buf(), channels, frames: 0 },
            out: BufWriter::with_capacity(BUFFER_BYTES, file),
            bytes: Vec::new(),
        })
    }

    /// Appends a block (one slice per channel, of equal length).
    pub fn write(&mut self, block: &[&[f32]]) -> Result<()> {
        let frames = block.first().map_or(0, |c| c.len());
        self.bytes.clear();
        self.bytes.reserve(frames * 4 * block.len());
        for i in 0..frames {
            for c in block {
                self.bytes.extend_from_slice(&c[i].to_le_bytes());
            }
        }
        self.out.write_all(&self.bytes).map_err(|e| Error::output(&self.spill.path, e))?;
        self.spill.frames += frames;
        Ok(())
    }

    pub fn finish(self) -> Result<Spill> {
        let SpillWriter { spill, out, .. } = self;
        out.into_inner().map_err(|e| Error::output(&spill.path, e.into_error()))?;
        Ok(spill)
    }
}

impl Spill {
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Reads the spill from its start.
    pub fn reader(&self) -> Result<SpillReader<'_>> {
        let file = File::open(&self.path).map_err(|e| Error::output(&self.path, e))?;
        Ok(SpillReader {
            spill: self,
            input: BufReader::with_capacity(BUFFER_BYTES, file),
            left: self.frames,
            bytes: Vec::new(),
        })
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A spill read a block at a time.
pub struct SpillReader<'a> {
    spill: &'a Spill,
    input: BufReader<File>,
    left: usize,
    bytes: Vec<u8>,
}

impl SpillReader<'_> {
    /// Replaces `out` (one vector per channel) with up to `max` next frames; returns how many.
    pub fn read(&mut self, out: &mut [Vec<f32>], max: usize) -> Result<usize> {
        let n = max.min(self.left);
        let ch = self.spill.channels;
        self.bytes.resize(n * ch * 4, 0);
        self.input.read_exact(&mut self.bytes).map_err(|e| Error::output(&self.spill.path, e))?;
        for (c, o) in out.iter_mut().enumerate().take(ch) {
            o.clear();
            o.extend(
                self.bytes
                    .chunks_exact(4 * ch)
                    .map(|f| f32::from_le_bytes(f[4 * c..4 * c + 4].try_into().expect("4 bytes"))),
            );
        }
        self.left -= n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_was_written_in_any_blocks_and_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let x: Vec<Vec<f32>> =
            (0..2).map(|c| (0..10_007).map(|i| (i * (c + 3)) as f32 * 1e-4).collect()).collect();
        let mut w = SpillWriter::create(&path, 2).unwrap();
        for s in (0..10_007).step_by(999) {
            let e = (s + 999).min(10_007);
            w.write(&[&x[0][s..e], &x[1][s..e]]).unwrap();
        }
        let spill = w.finish().unwrap();
        assert_eq!(spill.frames(), 10_007);
        let mut r = spill.reader().unwrap();
        let (mut got, mut block) = (vec![Vec::new(), Vec::new()], vec![Vec::new(), Vec::new()]);
        while r.read(&mut block, 4096).unwrap() > 0 {
            for (g, b) in got.iter_mut().zip(&block) {
                g.extend_from_slice(b);
            }
        }
        assert_eq!(got, x);
        drop(r);
        drop(spill);
        assert!(!path.exists());
    }
}
