//! Command-line flags, parsed by clap and turned into validated settings.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use lathe::report::ReportFormat;

#[derive(Debug, Parser)]
#[command(
    name = "lathe",
    version,
    about = "Batch album mastering: loudness-matched, true-peak-limited masters and a QC report"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Master every track of an album manifest and write the QC report.
    Master {
        /// The album manifest (YAML).
        album: PathBuf,
        /// Output folder [default: masters/ beside the manifest].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Tracks rendered in parallel [default: number of cores].
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
        /// Report files to write: json, html, md, junit (comma-separated).
        #[arg(long, value_name = "FORMATS", value_delimiter = ',', default_value = "json,html,md")]
        report: Vec<ReportFormat>,
    },
    /// Validate a manifest, decode every input, run the premaster checks and
    /// every validation `master` runs before writing; renders and writes nothing.
    Check {
        album: PathBuf,
        /// The output folder `master` would write [default: masters/ beside the manifest].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        #[arg(long)]
        quiet: bool,
        /// The report files `master` would write.
        #[arg(long, value_name = "FORMATS", value_delimiter = ',', default_value = "json,html,md")]
        report: Vec<ReportFormat>,
    },
    /// Measure loudness, true peak and premaster checks of audio files.
    Analyze {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit 1 when the files miss this preset's loudness (± its tolerance) or ceiling.
        #[arg(long, value_name = "PRESET_OR_YAML")]
        target: Option<String>,
        /// With --target: hold the album's pooled loudness (album) or each
        /// file's (track) to it; every file's ceiling either way [default:
        /// the preset's mode, else album].
        #[arg(long, value_enum, requires = "target")]
        mode: Option<GateMode>,
        /// Judge the files as premasters, against the premaster brief
        /// (headroom, bus limiting, rate and depth) [default: as masters].
        #[arg(long)]
        premaster: bool,
    },
    /// Write DIR/album.yaml from a folder of premasters (and sub-folders of
    /// stems), commented, for you to edit.
    Init {
        dir: PathBuf,
        /// The target preset the manifest starts from.
        #[arg(long, default_value = "streaming")]
        preset: String,
        /// Write over an existing album.yaml.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of album.yaml, for editors (yaml-language-server
    /// completes and checks a manifest with it) and CI.
    Schema {
        /// The schema of a preset file instead.
        #[arg(long)]
        preset: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), as `make` installs it in target/man/lathe.1.
    #[command(hide = true)]
    Manpage,
}

/// `analyze --mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GateMode {
    Album,
    Track,
}

impl From<GateMode> for lathe::manifest::Mode {
    fn from(m: GateMode) -> Self {
        match m {
            GateMode::Album => lathe::manifest::Mode::Album,
            GateMode::Track => lathe::manifest::Mode::Track,
        }
    }
}

/// `--jobs`, validated: at least 1, default the number of cores, and never
/// more threads than can run: tracks, and cores.
pub fn jobs(flag: Option<usize>, tracks: usize) -> Result<usize, lathe::Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match flag {
        Some(0) => Err(lathe::Error::Usage("--jobs must be at least 1".into())),
        Some(n) => Ok(n.min(cores).min(tracks.max(1))),
        None => Ok(cores.min(tracks.max(1))),
    }
}

/// Each item once, in the order first given (`--report json,md,json`).
pub fn unique<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
