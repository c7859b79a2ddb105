use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use lathe::pipeline::{self, MasterOptions};
use lathe::qc::{self, Severity};
use lathe::report::{ReportFormat, text};
use lathe::{Error, Progress, manifest};
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

mod cli;
use cli::{Cli, Command};

/// mimalloc keeps freed track-sized buffers for the next pass and track,
/// where glibc returns them to the kernel and faults them in again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `lathe master`: the run, the summary table, where everything went, and
/// (on GitHub Actions) the checks as annotations on the manifest.
fn master(
    album: &Path,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    quiet: bool,
    report: Vec<ReportFormat>,
) -> Result<u8, Error> {
    let album = manifest::load(album)?;
    let jobs = cli::jobs(jobs, album.tracks.len())?;
    let progress = Progress::new(quiet);
    let opts = MasterOptions { out_dir: out, jobs, reports: cli::unique(report) };
    let (report, out) = pipeline::master(&album, &opts, &progress)?;
    print!("{}", text::summary_table(&report));
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let lines: Vec<usize> = album.tracks.iter().map(|t| t.line).collect();
        print!("{}", lathe::report::github::annotations(&report, &album.manifest, &lines, album.line));
    }
    for d in &album.deliverables {
        println!("masters: {}", out.join(&d.name).display());
    }
    for i in &report.images {
        println!("image:   {} (CUE sheet {})", out.join(&i.path).display(), out.join(&i.cue_path).display());
    }
    for f in &opts.reports {
        println!("report:  {}", out.join(f.exporter().file_name()).display());
    }
    println!("QC: {}", if report.passed { "passed" } else { "FAILED" });
    Ok(if report.passed { 0 } else { 1 })
}

fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Master { album, out, jobs, quiet, report } => master(&album, out, jobs, quiet, report),
        Command::Check { album, out, jobs, quiet, report } => {
            let album = manifest::load(&album)?;
            let jobs = cli::jobs(jobs, album.tracks.len())?;
            let analyses = pipeline::analyze(&album, jobs, &Progress::new(quiet))?;
            let opts = MasterOptions { out_dir: out, jobs, reports: cli::unique(report) };
            pipeline::preflight(&album, &pipeline::out_dir(&album, &opts), &opts.reports)?;
            let mut failed = false;
            for (t, a) in album.tracks.iter().zip(&analyses) {
                let mut checks = a.checks.clone();
                qc::apply_fail_on(&mut checks, &album.qc.fail_on);
                failed |= checks.iter().any(|c| c.severity == Severity::Fail);
                print!("{}", text::check_track(t, &a.measurement, a.format.sample_rate, &checks));
            }
            println!("check: {}", if failed { "FAILED" } else { "passed" });
            Ok(failed as u8)
        }
        Command::Init { dir, preset, force } => {
            let (path, tracks) = lathe::init(&dir, &preset, force)?;
            println!(
                "wrote {} ({tracks} tracks) and its schema for editors, {}; check it with: lathe check {}",
                path.display(),
                lathe::SCHEMA_FILE,
                path.display()
            );
            Ok(0)
        }
        Command::Schema { preset } => {
            let schema = if preset {
                lathe::manifest::json_schema::preset()
            } else {
                lathe::manifest::json_schema::manifest()
            };
            println!("{schema:#}");
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "lathe", &mut std::io::stdout());
            Ok(0)
        }
        Command::Manpage => {
            let man = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            man.render(&mut std::io::stdout())
                .map_err(|e| lathe::Error::Usage(format!("writing the man page: {e}")))?;
            Ok(0)
        }
        Command::Analyze { files, json, target, mode, premaster } => {
            let target =
                target.as_deref().map(|t| lathe::load_target(t, mode.map(Into::into))).transpose()?;
            let report = lathe::analyze_files(&files, target, premaster)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report).expect("report serializes"));
            } else {
                print!("{}", text::analyze_table(&report));
            }
            Ok(if report.passed { 0 } else { 1 })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // SIGINT, SIGTERM, SIGHUP: remove the run's staging folder (a commit
    // under way finishes first) and exit 128 + the signal's number.
    if let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                lathe::pipeline::abandon_live_staging();
                eprintln!(
                    "lathe: stopped by signal {sig}; the output folder holds the previous run, untouched"
                );
                std::process::exit(128 + sig);
            }
        });
    }
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("lathe: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
