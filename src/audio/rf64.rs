//! Reading RF64 (EBU Tech 3306) premasters: WAV past 4 GiB, as lathe itself
//! writes them and broadcast tools do.
//!
//! An RF64 file is a RIFF WAVE file whose 32-bit sizes are `0xFFFFFFFF` and
//! whose real sizes are in a `ds64` chunk after `WAVE`. symphonia's WAV
//! reader already reads a RIFF stream with those sizes to its end (as ffmpeg
//! writes to a pipe) and skips chunks it does not know, such as `ds64`. So
//! the file is shown to it as RIFF (`RF64` read as `RIFF`) and cut at the end
//! of the data chunk the `ds64` sizes, so that chunks after the samples are
//! never read as audio.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// The bytes an RF64 file starts with, and its form.
const RF64: &[u8; 4] = b"RF64";
const WAVE: &[u8; 4] = b"WAVE";

/// An RF64 file read as the RIFF stream symphonia understands.
pub struct Rf64Source {
    file: File,
    pos: u64,
    /// Where the samples end: nothing past it is read.
    end: u64,
}

impl Rf64Source {
    /// `Ok(None)` when the file is not RF64; an error when it says it is
    /// but its `ds64` sizes are missing or do not fit the file.
    pub fn open(mut file: File) -> io::Result<Result<Rf64Source, File>> {
        let mut head = [0u8; 12];
        let is_rf64 = file.read_exact(&mut head).is_ok() && &head[0..4] == RF64 && &head[8..12] == WAVE;
        file.seek(SeekFrom::Start(0))?;
        if !is_rf64 {
            return Ok(Err(file));
        }
        let end = data_end(&mut file)?;
        file.seek(SeekFrom::Start(0))?;
        Ok(Ok(Rf64Source { file, pos: 0, end }))
    }
}

fn damaged(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("RF64 file {what}"))
}

/// The offset just past the last sample: the data chunk's start plus the
/// data size the `ds64` chunk gives.
fn data_end(file: &mut File) -> io::Result<u64> {
    let file_len = file.metadata()?.len();
    file.seek(SeekFrom::Start(12))?;
    let mut chunk = [0u8; 8];
    file.read_exact(&mut chunk).map_err(|_| damaged("ends before its ds64 chunk"))?;
    if &chunk[0..4] != b"ds64" || u32::from_le_bytes(chunk[4..8].try_into().unwrap()) < 24 {
        return Err(damaged("has no ds64 chunk after WAVE"));
    }
    let ds64_len = u32::from_le_bytes(chunk[4..8].try_into().unwrap()) as u64;
    let mut sizes = [0u8; 16];
    file.read_exact(&mut sizes)?;
    let data_size = u64::from_le_bytes(sizes[8..16].try_into().unwrap());
    // Walk the chunks after ds64 to the data chunk.
    let mut at = 12 + 8 + ds64_len + (ds64_len & 1);
    loop {
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut chunk).map_err(|_| damaged("has no data chunk"))?;
        let len = u32::from_le_bytes(chunk[4..8].try_into().unwrap()) as u64;
        if &chunk[0..4] == b"data" {
            let end = at + 8 + data_size;
            if end > file_len {
                return Err(damaged("is shorter than its ds64 data size (truncated?)"));
            }
            return Ok(end);
        }
        at += 8 + len + (len & 1);
    }
}

impl Read for Rf64Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.end.saturating_sub(self.pos).min(buf.len() as u64) as usize;
        let n = self.file.read(&mut buf[..room])?;
        // The marker as RIFF: bytes 0..4 of the file.
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.pos + i as u64;
            if at >= 4 {
                break;
            }
            *b = b"RIFF"[at as usize];
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Rf64Source {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => {
                self.end.checked_add_signed(d).ok_or_else(|| damaged("seek before its start"))?
            }
            SeekFrom::Current(d) => {
                self.pos.checked_add_signed(d).ok_or_else(|| damaged("seek before its start"))?
            }
        };
        self.pos = self.file.seek(SeekFrom::Start(target))?;
        Ok(self.pos)
    }
}

impl symphonia::core::io::MediaSource for Rf64Source {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.end)
    }
}
