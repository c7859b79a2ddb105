//! lathe: batch album mastering from a YAML manifest.
//!
//! The public surface is what the `lathe` binary, the benchmarks and the
//! integration tests use: the manifest, the pipeline's phases, the DSP
//! stages and the audio I/O they are built from, the checks and the report.
//! How the modules fit together: `ARCHITECTURE.md`.
// Unsafe code is denied everywhere; the one exception is the runtime-checked
// AVX2 dispatch of the true-peak detector (`dsp::oversample`).
#![deny(unsafe_code)]

mod analyze;
pub mod audio;
pub mod dsp;
mod error;
mod init;
pub mod manifest;
pub mod pipeline;
mod progress;
pub mod qc;
mod render;
pub mod report;

pub use analyze::{AnalyzeReport, DeliveryTarget, FileReport, analyze_files, load_target};
pub use error::{Error, ManifestError, Result};
pub use init::{SCHEMA_FILE, init};
pub use progress::Progress;
