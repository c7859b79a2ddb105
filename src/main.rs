use std::process::ExitCode;

use clap::Parser;
use lathe::pipeline::{self, MasterOptions};
use lathe::progress::Progress;
use lathe::qc::checks::Severity;
use lathe::qc::report::summary_table;
use lathe::{Error, analyze, manifest};
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

mod cli;
use cli::{Cli, Command};

/// mimalloc keeps freed track-sized buffers for the next pass and track,
/// where glibc returns them to the kernel and faults them in again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Master { album, out, jobs, quiet, report } => {
            let album = manifest::load(&album)?;
            let jobs = cli::jobs(jobs, album.tracks.len())?;
            let progress = Progress::new(quiet);
            let opts = MasterOptions { out_dir: out, jobs, reports: cli::unique(report) };
            let (report, out) = pipeline::master(&album, &opts, &progress)?;
            print!("{}", summary_table(&report));
            for d in &album.deliverables {
                println!("masters: {}", out.join(&d.name).display());
            }
            for f in &opts.reports {
                println!("report:  {}", out.join(f.exporter().file_name()).display());
            }
            println!("QC: {}", if report.passed { "passed" } else { "FAILED" });
            Ok(if report.passed { 0 } else { 1 })
        }
        Command::Check { album, out, jobs, quiet, report } => {
            let album = manifest::load(&album)?;
            let jobs = cli::jobs(jobs, album.tracks.len())?;
            let analyses = pipeline::analyze(&album, jobs, &Progress::new(quiet))?;
            let opts = MasterOptions { out_dir: out, jobs, reports: cli::unique(report) };
            pipeline::preflight(&album, &pipeline::out_dir(&album, &opts), &opts.reports, &analyses)?;
            let mut failed = false;
            for (t, a) in album.tracks.iter().zip(&analyses) {
                let m = &a.measurement;
                println!(
                    "{:02} {}: {:.1} LUFS, {:.1} dBTP, peak {:.1} dBFS, LRA {:.1} LU, {} Hz",
                    t.number,
                    lathe::manifest::printable(&t.title),
                    m.integrated_lufs,
                    m.true_peak_dbtp,
                    m.sample_peak_dbfs,
                    m.lra_lu,
                    a.format.sample_rate
                );
                let mut checks = a.checks.clone();
                lathe::qc::checks::apply_fail_on(&mut checks, &album.qc.fail_on);
                for c in &checks {
                    failed |= c.severity == Severity::Fail;
                    println!("   {:>4} {}: {}", c.severity.label(), c.id, c.message);
                }
            }
            println!("check: {}", if failed { "FAILED" } else { "passed" });
            Ok(failed as u8)
        }
        Command::Analyze { files, json, target } => {
            let target = target.as_deref().map(analyze::load_target).transpose()?;
            let report = analyze::analyze(&files, target)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report).expect("report serializes"));
            } else {
                print!("{}", analyze::table(&report));
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
                lathe::pipeline::commit::abandon_live_staging();
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
