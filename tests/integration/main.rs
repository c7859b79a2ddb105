//! Integration tests: the `lathe` binary end to end, one test binary.

mod util;

mod cli;
mod master;
mod properties;
mod reliability;
mod report;
mod stems;
