//! Writes deterministic test music for lathe: the sample album's premasters
//! and stems, or a long album for benchmarks.
//!
//! ```text
//! lathe-synth sample-album DIR          # DIR/mixes/*.wav, DIR/stems/05/*.wav
//! lathe-synth album DIR TRACKS SECONDS  # DIR/NN.wav + DIR/album.yaml, for benchmarks
//! lathe-synth stems DIR COUNT SECONDS   # one track of COUNT 48 kHz stems + DIR/album.yaml
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use lathe_synth::{write_long_album, write_sample_album, write_stems_track};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["sample-album", dir] => write_sample_album(&PathBuf::from(dir)),
        ["album", dir, tracks, seconds] => match (tracks.parse(), seconds.parse()) {
            (Ok(t), Ok(s)) => write_long_album(&PathBuf::from(dir), t, s),
            _ => Err("TRACKS and SECONDS must be numbers".into()),
        },
        ["stems", dir, count, seconds] => match (count.parse(), seconds.parse()) {
            (Ok(c), Ok(s)) => write_stems_track(&PathBuf::from(dir), c, s),
            _ => Err("COUNT and SECONDS must be numbers".into()),
        },
        _ => {
            Err("usage: lathe-synth sample-album DIR | album DIR TRACKS SECONDS | stems DIR COUNT SECONDS"
                .into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lathe-synth: error: {e}");
            ExitCode::from(2)
        }
    }
}
