//! Integration tests: the `lathe` binary end to end, one test binary.

mod util;

/// The independent measurements of the unit tests (16x reference true peak,
/// test signals), shared with this suite: one file, no code of lathe's.
#[allow(dead_code)]
#[path = "../../src/testutil.rs"]
mod oracle;

mod cli;
mod faults;
mod judgment;
mod master;
mod properties;
mod reliability;
mod report;
mod stems;
