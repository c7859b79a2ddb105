//! Integration tests: the `lathe` binary end to end, one test binary.

mod util;

/// The independent measurements the unit tests use too (16x reference true
/// peak, test signals): a crate with no code of lathe's.
use lathe_oracle as oracle;

mod ci;
mod cli;
mod faults;
mod house;
mod judgment;
mod master;
mod properties;
mod release;
mod reliability;
mod report;
mod sequence;
mod stems;
mod tonal;
mod tonal_music;
