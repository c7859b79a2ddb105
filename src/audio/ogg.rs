//! Writing Ogg Vorbis masters a block at a time with libvorbis (the aoTuV
//! and Lancer tuned build `vorbis_rs` compiles from its vendored source), at
//! a quality as `oggenc -q` numbers it (0 to 10). The stream's serial is
//! fixed, so a master is the same bytes on every run.

use std::fs;
use std::io::BufWriter;
use std::num::{NonZeroU8, NonZeroU32};
use std::path::{Path, PathBuf};

use vorbis_rs::{VorbisBitrateManagementStrategy, VorbisEncoder, VorbisEncoderBuilder};

use crate::error::{Error, Result};

/// `oggenc`'s quality scale.
pub const QUALITIES: std::ops::RangeInclusive<u8> = 0..=10;
/// The quality when a deliverable names none: about 192 kbit/s on stereo music.
pub const DEFAULT_QUALITY: u8 = 6;
/// The Ogg stream serial of every master (one stream a file).
const SERIAL: i32 = 0x6c61_7468;
/// Frames a call hands libvorbis (its documentation's "reasonable choice").
const CHUNK: usize = 1024;

/// An Ogg Vorbis master written a block at a time.
pub struct OggStream {
    path: PathBuf,
    encoder: VorbisEncoder<BufWriter<fs::File>>,
}

impl OggStream {
    /// Creates `path` (which must not exist): stereo at `sample_rate`, `quality` 0 to 10.
    pub fn create(path: &Path, sample_rate: u32, quality: u8) -> Result<OggStream> {
        let refused = |e: vorbis_rs::VorbisError| {
            Error::Render(format!("{}: the Vorbis encoder refused its settings: {e}", path.display()))
        };
        let rate = NonZeroU32::new(sample_rate).expect("a sample rate is positive");
        let channels = NonZeroU8::new(2).expect("two");
        let mut b =
            VorbisEncoderBuilder::new_with_serial(rate, channels, super::create_new(path, 1 << 20)?, SERIAL);
        b.bitrate_management_strategy(VorbisBitrateManagementStrategy::QualityVbr {
            target_quality: quality as f32 / 10.0,
        });
        let encoder = b.build().map_err(refused)?;
        Ok(OggStream { path: path.to_path_buf(), encoder })
    }

    fn error(&self, e: vorbis_rs::VorbisError) -> Error {
        encoder_error(&self.path, e)
    }

    /// Appends a block of stereo float samples (full scale ±1).
    pub fn write(&mut self, block: &[&[f32]]) -> Result<()> {
        let len = block.first().map_or(0, |c| c.len());
        for start in (0..len).step_by(CHUNK) {
            let end = (start + CHUNK).min(len);
            let chunk = [&block[0][start..end], &block[1][start..end]];
            self.encoder.encode_audio_block(chunk).map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Ends the stream, and with `sync` syncs the file to disk.
    pub fn finish(self, sync: bool) -> Result<()> {
        let path = self.path.clone();
        let out = self.encoder.finish().map_err(|e| encoder_error(&path, e))?;
        let file = out.into_inner().map_err(|e| Error::output(&path, e.into_error()))?;
        if sync { file.sync_all().map_err(|e| Error::output(&path, e)) } else { Ok(()) }
    }
}

/// An encoder error: an output error when it is the file's.
fn encoder_error(path: &Path, e: vorbis_rs::VorbisError) -> Error {
    match e {
        vorbis_rs::VorbisError::Io(io) => Error::output(path, io),
        e => Error::Render(format!("{}: Vorbis encoder: {e}", path.display())),
    }
}
