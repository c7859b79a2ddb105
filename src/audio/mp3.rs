//! Writing MP3 masters a block at a time with LAME (`mp3lame-encoder`,
//! which builds LAME 3.100 from its vendored source): CBR at a bit rate,
//! or VBR at a quality. The encoder takes the limiter's float samples (no
//! dither: the codec requantizes). A LAME/Info frame leads the stream, so
//! decoders trim the encoder's delay and padding (gapless playback).

use std::fs;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use mp3lame_encoder::{Bitrate, Builder, DualPcm, Encoder, FlushGap, Quality};

use crate::error::{Error, Result};

/// How an MP3 deliverable spends its bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mp3Mode {
    /// Constant bit rate, in kbit/s.
    Cbr(u16),
    /// Variable bit rate at LAME's quality 0 (best, about 245 kbit/s) to 9.
    Vbr(u8),
}

/// The bit rates of MPEG-1 Layer III the encoder takes, kbit/s.
pub const BITRATES: [u16; 13] = [32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
/// The sample rates an MPEG-1 Layer III stream can have.
pub const SAMPLE_RATES: [u32; 3] = [32000, 44100, 48000];

fn bitrate(kbps: u16) -> Option<Bitrate> {
    Some(match kbps {
        32 => Bitrate::Kbps32,
        40 => Bitrate::Kbps40,
        48 => Bitrate::Kbps48,
        64 => Bitrate::Kbps64,
        80 => Bitrate::Kbps80,
        96 => Bitrate::Kbps96,
        112 => Bitrate::Kbps112,
        128 => Bitrate::Kbps128,
        160 => Bitrate::Kbps160,
        192 => Bitrate::Kbps192,
        224 => Bitrate::Kbps224,
        256 => Bitrate::Kbps256,
        320 => Bitrate::Kbps320,
        _ => return None,
    })
}

fn quality(q: u8) -> Quality {
    match q {
        0 => Quality::Best,
        1 => Quality::SecondBest,
        2 => Quality::NearBest,
        3 => Quality::VeryNice,
        4 => Quality::Nice,
        5 => Quality::Good,
        6 => Quality::Decent,
        7 => Quality::Ok,
        8 => Quality::SecondWorst,
        _ => Quality::Worst,
    }
}

/// An MP3 master written a block at a time.
pub struct Mp3Stream {
    path: PathBuf,
    out: BufWriter<fs::File>,
    encoder: Encoder,
    bytes: Vec<u8>,
}

impl Mp3Stream {
    /// Creates `path` (which must not exist): stereo at `sample_rate`, one of [`SAMPLE_RATES`].
    pub fn create(path: &Path, sample_rate: u32, mode: Mp3Mode) -> Result<Mp3Stream> {
        let lame = |what: &str, e: &dyn std::fmt::Display| {
            Error::Render(format!("{}: the MP3 encoder refused {what}: {e}", path.display()))
        };
        let mut b = Builder::new().ok_or_else(|| lame("to start", &"out of memory"))?;
        b.set_num_channels(2).map_err(|e| lame("two channels", &e))?;
        b.set_sample_rate(sample_rate).map_err(|e| lame("the sample rate", &e))?;
        // LAME's own recommendation for its algorithm quality: near best, at a sane speed.
        b.set_quality(Quality::NearBest).map_err(|e| lame("the quality", &e))?;
        match mode {
            Mp3Mode::Cbr(kbps) => {
                let rate = bitrate(kbps).ok_or_else(|| lame("the bit rate", &kbps))?;
                b.set_brate(rate).map_err(|e| lame("the bit rate", &e))?;
            }
            Mp3Mode::Vbr(q) => {
                b.set_vbr_mode(mp3lame_encoder::VbrMode::Mtrh).map_err(|e| lame("VBR", &e))?;
                b.set_vbr_quality(quality(q)).map_err(|e| lame("the VBR quality", &e))?;
            }
        }
        b.set_to_write_vbr_tag(true).map_err(|e| lame("the LAME tag", &e))?;
        let encoder = b.build().map_err(|e| lame("its settings", &e))?;
        Ok(Mp3Stream {
            path: path.to_path_buf(),
            out: super::create_new(path, 1 << 20)?,
            encoder,
            bytes: Vec::new(),
        })
    }

    fn encode_error(&self, e: impl std::fmt::Display) -> Error {
        Error::Render(format!("{}: MP3 encoder: {e}", self.path.display()))
    }

    /// Appends a block of stereo float samples (full scale ±1).
    pub fn write(&mut self, block: &[&[f32]]) -> Result<()> {
        let (left, right) = (block[0], block[1]);
        for start in (0..left.len()).step_by(1 << 14) {
            let end = (start + (1 << 14)).min(left.len());
            self.bytes.clear();
            // LAME's bound on what a call writes: 1.25 bytes a sample and 7200.
            self.bytes.reserve((end - start) * 5 / 4 + 7200);
            let pcm = DualPcm { left: &left[start..end], right: &right[start..end] };
            self.encoder.encode_to_vec(pcm, &mut self.bytes).map_err(|e| self.encode_error(e))?;
            self.out.write_all(&self.bytes).map_err(|e| Error::output(&self.path, e))?;
        }
        Ok(())
    }

    /// Flushes the encoder, writes the LAME tag over the stream's first
    /// frame (reserved for it), and with `sync` syncs the file to disk.
    pub fn finish(mut self, sync: bool) -> Result<()> {
        self.bytes.clear();
        self.bytes.reserve(7200);
        self.encoder.flush_to_vec::<FlushGap>(&mut self.bytes).map_err(|e| self.encode_error(e))?;
        self.out.write_all(&self.bytes).map_err(|e| Error::output(&self.path, e))?;
        let mut tag = Vec::with_capacity(self.encoder.lame_tag_size());
        self.encoder.lame_tag_encode_to_vec(&mut tag);
        let io = |e| Error::output(&self.path, e);
        let mut file = self.out.into_inner().map_err(|e| e.into_error()).map_err(io)?;
        if !tag.is_empty() {
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            file.write_all(&tag).map_err(io)?;
        }
        if sync { file.sync_all().map_err(io) } else { Ok(()) }
    }
}
