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

/// A scratch file: created new, read back buffered, removed when dropped.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn create(path: &Path) -> Result<(Scratch, BufWriter<File>)> {
        Ok((Scratch { path: path.to_path_buf() }, super::create_new(path, BUFFER_BYTES)?))
    }

    fn open(&self) -> Result<BufReader<File>> {
        let file = File::open(&self.path).map_err(|e| self.error(e))?;
        Ok(BufReader::with_capacity(BUFFER_BYTES, file))
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::output(&self.path, e)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A spill being written.
pub struct SpillWriter {
    spill: Spill,
    out: BufWriter<File>,
    bytes: Vec<u8>,
}

/// A finished spill: `frames` frames of `channels` channels.
pub struct Spill {
    file: Scratch,
    channels: usize,
    frames: usize,
}

impl SpillWriter {
    /// Creates a new spill file at `path` (which must not exist).
    pub fn create(path: &Path, channels: usize) -> Result<SpillWriter> {
        let (file, out) = Scratch::create(path)?;
        Ok(SpillWriter { spill: Spill { file, channels, frames: 0 }, out, bytes: Vec::new() })
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
        self.out.write_all(&self.bytes).map_err(|e| self.spill.file.error(e))?;
        self.spill.frames += frames;
        Ok(())
    }

    pub fn finish(self) -> Result<Spill> {
        let SpillWriter { spill, out, .. } = self;
        out.into_inner().map_err(|e| spill.file.error(e.into_error()))?;
        Ok(spill)
    }
}

impl Spill {
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Reads the spill from its start.
    pub fn reader(&self) -> Result<SpillReader<'_>> {
        Ok(SpillReader { spill: self, input: self.file.open()?, left: self.frames, bytes: Vec::new() })
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
        self.input.read_exact(&mut self.bytes).map_err(|e| self.spill.file.error(e))?;
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

/// A run of a sparse spill: frames at zero, or frames of values.
pub enum Run<'a> {
    Zeros(usize),
    Values(&'a [f32]),
}

/// A one-channel spill that stores only values above a floor: runs of
/// zeros (anything at or under the floor) and the values between them, as
/// `[zeros: u32][count: u32][count × f32]` segments. The limiter's peak
/// envelope is mostly under its floor, where the limiter never reads it.
pub struct SparseWriter {
    file: Scratch,
    out: BufWriter<File>,
    /// Values at or under it are stored as zeros; `None`: only zeros (+0.0) are.
    floor: Option<f32>,
    zeros: u32,
    values: Vec<f32>,
    frames: usize,
}

/// A finished sparse spill.
pub struct Sparse {
    file: Scratch,
    frames: usize,
}

/// Values per segment, at most.
const SEGMENT: usize = 4096;

impl SparseWriter {
    pub fn create(path: &Path, floor: f32) -> Result<SparseWriter> {
        Self::with_floor(path, Some(floor))
    }

    /// A sparse spill that keeps every value exactly: runs of +0.0 are
    /// stored as runs (a gain curve at rest), everything else as it is.
    pub fn create_exact(path: &Path) -> Result<SparseWriter> {
        Self::with_floor(path, None)
    }

    fn with_floor(path: &Path, floor: Option<f32>) -> Result<SparseWriter> {
        let (file, out) = Scratch::create(path)?;
        Ok(SparseWriter { file, out, floor, zeros: 0, values: Vec::with_capacity(SEGMENT), frames: 0 })
    }

    pub fn write(&mut self, x: &[f32]) -> Result<()> {
        for &v in x {
            let zero = match self.floor {
                Some(floor) => v <= floor,
                None => v.to_bits() == 0,
            };
            if zero {
                if !self.values.is_empty() || self.zeros == u32::MAX {
                    self.segment()?;
                }
                self.zeros += 1;
            } else {
                self.values.push(v);
                if self.values.len() == SEGMENT {
                    self.segment()?;
                }
            }
        }
        self.frames += x.len();
        Ok(())
    }

    fn segment(&mut self) -> Result<()> {
        let mut bytes = Vec::with_capacity(8 + 4 * self.values.len());
        bytes.extend_from_slice(&self.zeros.to_le_bytes());
        bytes.extend_from_slice(&(self.values.len() as u32).to_le_bytes());
        for v in &self.values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.out.write_all(&bytes).map_err(|e| self.file.error(e))?;
        (self.zeros, self.values) = (0, Vec::with_capacity(SEGMENT));
        Ok(())
    }

    pub fn finish(mut self) -> Result<Sparse> {
        if self.zeros > 0 || !self.values.is_empty() {
            self.segment()?;
        }
        let SparseWriter { file, out, frames, .. } = self;
        out.into_inner().map_err(|e| file.error(e.into_error()))?;
        Ok(Sparse { file, frames })
    }
}

impl Sparse {
    pub fn reader(&self) -> Result<SparseReader<'_>> {
        Ok(SparseReader {
            spill: self,
            input: self.file.open()?,
            zeros: 0,
            values: Vec::new(),
            at: 0,
            left: self.frames,
        })
    }
}

/// A sparse spill read as runs.
pub struct SparseReader<'a> {
    spill: &'a Sparse,
    input: BufReader<File>,
    /// The segment being read: zeros still to hand out, then its values from `at`.
    zeros: usize,
    values: Vec<f32>,
    at: usize,
    left: usize,
}

impl SparseReader<'_> {
    /// Hands the next `frames` frames (or what is left) to `f` as runs; returns how many.
    pub fn read(&mut self, frames: usize, mut f: impl FnMut(Run)) -> Result<usize> {
        let want = frames.min(self.left);
        let mut done = 0;
        while done < want {
            if self.zeros == 0 && self.at == self.values.len() {
                self.next_segment()?;
            }
            let z = self.zeros.min(want - done);
            if z > 0 {
                f(Run::Zeros(z));
                (self.zeros, done) = (self.zeros - z, done + z);
                continue;
            }
            let n = (self.values.len() - self.at).min(want - done);
            f(Run::Values(&self.values[self.at..self.at + n]));
            (self.at, done) = (self.at + n, done + n);
        }
        self.left -= want;
        Ok(want)
    }

    fn next_segment(&mut self) -> Result<()> {
        let file = &self.spill.file;
        let mut head = [0u8; 8];
        self.input.read_exact(&mut head).map_err(|e| file.error(e))?;
        self.zeros = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let n = u32::from_le_bytes(head[4..].try_into().expect("4 bytes")) as usize;
        let mut bytes = vec![0u8; 4 * n];
        self.input.read_exact(&mut bytes).map_err(|e| file.error(e))?;
        self.values.clear();
        self.values.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))));
        self.at = 0;
        Ok(())
    }
}

#[cfg(test)]
mod sparse_tests {
    use super::*;

    #[test]
    fn a_sparse_spill_gives_back_the_values_over_its_floor_and_zeros_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let x: Vec<f32> =
            (0..50_000).map(|i| if (i / 700) % 5 == 0 { 0.5 + (i % 7) as f32 } else { 0.1 }).collect();
        let mut w = SparseWriter::create(&dir.path().join("e"), 0.2).unwrap();
        for c in x.chunks(3001) {
            w.write(c).unwrap();
        }
        let s = w.finish().unwrap();
        let mut r = s.reader().unwrap();
        let mut got = Vec::new();
        while r
            .read(4096, |run| match run {
                Run::Zeros(n) => got.resize(got.len() + n, 0.0),
                Run::Values(v) => got.extend_from_slice(v),
            })
            .unwrap()
            > 0
        {}
        let want: Vec<f32> = x.iter().map(|&v| if v <= 0.2 { 0.0 } else { v }).collect();
        assert_eq!(got, want);
    }
}
