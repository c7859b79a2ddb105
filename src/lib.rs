//! lathe: batch album mastering from a YAML manifest.
// Unsafe code is denied everywhere; the one exception is the runtime-checked
// AVX2 dispatch of the true-peak detector (`dsp::oversample`).
#![deny(unsafe_code)]

pub mod album;
pub mod analyze;
pub mod audio;
pub mod dsp;
pub mod error;
pub mod loudness;
pub mod manifest;
pub mod pipeline;
pub mod progress;
pub mod qc;
pub mod render;
pub mod stems;

pub use error::{Error, Result};
