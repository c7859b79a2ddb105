//! Phase 4: the report, built from what the phases handed on (no audio is
//! read here).

use std::path::PathBuf;

use super::album::{AlbumPlan, loudest};
use super::analyze::Analysis;
use super::display_path;
use super::image::Image;
use super::master::Mastered;
use super::sequence;
use super::tonal::TrackMatch;
use crate::audio::mp3::Mp3Mode;
use crate::audio::stems::StemFacts;
use crate::dsp::dither::DitherKind;
use crate::dsp::loudness::BlockEnergies;
use crate::dsp::tonal;
use crate::error::Result;
use crate::manifest::{Album, AlbumAnchor, Container, Mode, SampleFormat, Track};
use crate::qc::album::HeldBackFacts;
use crate::qc::master::{GainBound, Target};
use crate::qc::{self, Check, Severity, Thresholds};
use crate::report::*;

/// The album's own checks: rates, loudness (album mode), spread, the Red Book.
fn album_checks(
    album: &Album,
    analyses: &[Analysis],
    mastered: &[Mastered],
    plan: &AlbumPlan,
    deliverables: &[DeliverableReport],
    spreads: &Spreads,
    images: &[Image],
) -> Vec<Check> {
    let th = &album.qc.thresholds;
    let mut checks = Vec::new();
    let rates: Vec<u32> = analyses.iter().map(|a| a.format.sample_rate).collect();
    checks.extend(qc::album::sample_rates(&rates));
    if album.target.mode == Mode::Album {
        checks.extend(album_loudness_checks(album, analyses, mastered, plan, deliverables, th));
    }
    checks.push(qc::album::spread(&spreads.loudness, album.target.mode == Mode::Album, th));
    checks.push(qc::album::tonal_spread(spreads.tonal_db, spreads.tonal_worst, th));
    checks.extend(sequence::red_book(album, images));
    qc::apply_fail_on(&mut checks, &album.qc.fail_on);
    checks
}

/// How far apart the album's masters sit: in loudness (offsets taken out),
/// and in tonal balance (the mean distance, and the track furthest).
struct Spreads {
    loudness: qc::album::Spread,
    tonal_db: f64,
    tonal_worst: (usize, f64),
}

/// The album's tonal spread: each master's tonal distance to the masters'
/// mean spectrum (weighted by their energy in it), averaged; and the track
/// furthest from it.
fn tonal_spread(mastered: &[Mastered]) -> (f64, (usize, f64)) {
    let power = |s: &crate::dsp::spectrum::Spectrum| -> f64 {
        s.levels_db.iter().filter(|l| l.is_finite()).map(|l| 10f64.powf(l / 10.0)).sum()
    };
    let weighted: Vec<_> = mastered
        .iter()
        .map(|m| (&m.spectrum, power(&m.spectrum) * m.outputs[0].measurement.duration_s))
        .collect();
    let own = tonal::mean_spectrum(&weighted);
    let d: Vec<f64> = mastered.iter().map(|m| tonal::distance_db(&m.spectrum, &own)).collect();
    let worst = d.iter().cloned().enumerate().fold((0, 0.0), |w, x| if x.1 > w.1 { x } else { w });
    (d.iter().sum::<f64>() / d.len().max(1) as f64, worst)
}

/// The report of a run, from what the phases handed on.
pub(super) fn build(
    album: &Album,
    paths: &[Vec<PathBuf>],
    analyses: &[Analysis],
    mastered: &[Mastered],
    plan: &AlbumPlan,
    images: &[Image],
    matches: &[Option<TrackMatch>],
) -> Result<Report> {
    let album_gain = (album.target.mode == Mode::Album).then_some(plan.gain_db);
    let tracks: Vec<TrackReport> = album
        .tracks
        .iter()
        .zip(analyses)
        .zip(mastered)
        .zip(paths)
        .zip(matches)
        .map(|((((track, an), m), tpaths), tm)| {
            track_report(album, track, an, m, tpaths, album_gain, tm.as_ref())
        })
        .collect();

    let deliverables = deliverable_reports(album, mastered)?;
    let firsts: Vec<&BlockEnergies> = mastered.iter().map(|m| &m.outputs[0].energies).collect();
    let (album_lufs, album_lra) =
        (BlockEnergies::pooled_integrated(&firsts), BlockEnergies::pooled_lra(&firsts));
    let spread = qc::album::Spread::of(
        &tracks.iter().map(|t| t.master.integrated_lufs).collect::<Vec<_>>(),
        &album.tracks.iter().map(|t| t.offset_lu).collect::<Vec<_>>(),
    );
    let (tonal_db, tonal_worst) = tonal_spread(mastered);
    let spreads = Spreads { loudness: spread, tonal_db, tonal_worst };
    let album_checks = album_checks(album, analyses, mastered, plan, &deliverables, &spreads, images);

    let is_album = album.target.mode == Mode::Album;
    let mut report = Report {
        schema_version: 1,
        lathe_version: env!("CARGO_PKG_VERSION"),
        passed: true,
        album: AlbumReport {
            title: album.title.clone(),
            artist: album.artist.clone(),
            mode: album.target.mode,
            preset: album.target.preset.clone(),
            target_lufs: album.target.loudness_lufs,
            ceiling_dbtp: album.target.true_peak_dbtp,
            integrated_lufs: album_lufs,
            lra_lu: album_lra,
            true_peak_dbtp: deliverables.iter().map(|d| d.true_peak_dbtp).fold(f64::NEG_INFINITY, f64::max),
            loudness_spread_lu: spreads.loudness.lu,
            tonal_spread_db: spreads.tonal_db,
            premaster_integrated_lufs: plan.pooled_premaster_lufs,
            album_anchor: is_album.then_some(album.target.album_anchor),
            album_gain_db: album_gain,
            held_back_by: plan.held_back.map(|h| HeldBackReport {
                track: h.track + 1,
                title: album.tracks[h.track].title.clone(),
                by_lu: h.by_lu,
            }),
            album_passes: plan.passes,
            deliverables,
        },
        tracks,
        sequence: sequence::entries(album, analyses, mastered),
        images: sequence::images(images),
        checks: album_checks,
    };
    report.passed = report.worst() != Some(Severity::Fail);
    Ok(report)
}

/// `album.loudness` for each deliverable: the pooled album, or for the
/// `loudest` anchor the loudest track, against the target.
fn album_loudness_checks(
    album: &Album,
    analyses: &[Analysis],
    mastered: &[Mastered],
    plan: &AlbumPlan,
    deliverables: &[DeliverableReport],
    th: &Thresholds,
) -> Vec<Check> {
    let held = plan.held_back.map(|h| {
        let t = &album.tracks[h.track];
        HeldBackFacts {
            number: t.number,
            title: &t.title,
            wanted_lufs: analyses[h.track].measurement.integrated_lufs + plan.gain_db + h.by_lu + t.offset_lu,
            reached_lufs: mastered[h.track].outputs[0].measurement.integrated_lufs,
            by_lu: h.by_lu,
        }
    });
    let target = album.target.loudness_lufs;
    // The loudest track as planned carries the `loudest` anchor: its level
    // (offset included) is the one put on the target.
    let pre: Vec<f64> = analyses.iter().map(|a| a.measurement.integrated_lufs).collect();
    let offsets: Vec<f64> = album.tracks.iter().map(|t| t.offset_lu).collect();
    let (k, _) = loudest(&pre, &offsets);
    let loudest_track = format!("its loudest track ({} `{}`)", album.tracks[k].number, album.tracks[k].title);
    // A lossy deliverable is judged against the lossless master it is made
    // from, track by track (`master.codec`), not against the target.
    deliverables
        .iter()
        .enumerate()
        .filter(|&(i, _)| !album.deliverables[i].container.is_lossy())
        .filter_map(|(i, d)| match album.target.album_anchor {
            AlbumAnchor::Pooled => {
                qc::album::loudness(&d.name, "the album", d.integrated_lufs, target, held.as_ref(), th)
            }
            AlbumAnchor::Loudest => {
                let lufs = mastered[k].outputs[i].measurement.integrated_lufs;
                qc::album::loudness(&d.name, &loudest_track, lufs, target, held.as_ref(), th)
            }
        })
        .collect()
}

fn track_report(
    album: &Album,
    track: &Track,
    an: &Analysis,
    m: &Mastered,
    paths: &[PathBuf],
    album_gain: Option<f64>,
    matched: Option<&TrackMatch>,
) -> TrackReport {
    let primary = &m.outputs[0].measurement;
    let pm = &an.measurement;
    let lim = &m.limiter;
    TrackReport {
        index: track.number,
        title: track.title.clone(),
        kind: track.kind(),
        premaster: premaster_report(album, track, an),
        master: master_report(track, an, m, album_gain),
        outputs: output_reports(album, m, paths),
        checks: track_checks(album, track, an, m),
        chain: track.chain.clone(),
        tonal: matched.map(|tm| TonalReport {
            reference: tm.reference_name.clone(),
            amount: tm.settings.amount,
            max_db: tm.settings.max_db,
            smoothing_oct: tm.settings.smoothing_oct,
            distance_before_db: tonal::distance_db(&an.spectrum, &tm.reference),
            distance_after_db: tonal::distance_db(&m.spectrum, &tm.reference),
            correction_hz: tonal::grid(),
            correction_mid_db: tm.correction.mid_db.clone(),
            correction_side_db: tm.correction.side_db.clone(),
        }),
        stems: an.stems.as_ref().map(|facts| facts.iter().map(|f| stem_report(album, f)).collect()),
        plots: TrackPlots {
            premaster_short_term_lufs: pm.short_term_lufs.clone(),
            master_short_term_lufs: primary.short_term_lufs.clone(),
            limiter_gain_reduction_db: lim.gain_reduction_db.clone(),
            premaster_spectrum: an.spectrum.clone(),
            master_spectrum: m.spectrum.clone(),
            reference_spectrum: matched.map(|tm| tm.reference.clone()),
        },
    }
}

/// The premaster's checks, then each written master's, then the dynamics.
fn track_checks(album: &Album, track: &Track, an: &Analysis, m: &Mastered) -> Vec<Check> {
    let th = &album.qc.thresholds;
    let bound = GainBound {
        bound: m.bound,
        needed: m.needed,
        budget: track.chain.limiter.budget,
        max_gain_db: album.target.max_gain_db,
    };
    let mut checks = an.checks.clone();
    for (d, o) in album.deliverables.iter().zip(&m.outputs) {
        let meas = &o.measurement;
        if let Some(c) = &o.codec {
            let master = m.outputs[0].measurement.integrated_lufs;
            let ceiling = album.target.true_peak_dbtp;
            checks.extend(qc::master::codec(
                &d.name,
                meas.integrated_lufs,
                master,
                meas.true_peak_dbtp,
                ceiling,
                c,
            ));
            checks.extend(qc::master::clipping(&d.name, o.full_scale_samples));
            continue;
        }
        // A track of a gapless programme: the programme is what met the target.
        let name = match m.programme {
            Some((a, b)) => format!("{} (tracks {a}–{b}, mastered as one gapless programme)", d.name),
            None => d.name.clone(),
        };
        let target = Target {
            name: &name,
            loudness_lufs: m.target_lufs,
            tolerance_lu: th.get(qc::Threshold::LoudnessToleranceLu),
            ceiling_dbtp: album.target.true_peak_dbtp,
        };
        checks.extend(qc::master::on_target(
            o.programme_lufs.unwrap_or(meas.integrated_lufs),
            meas.true_peak_dbtp,
            &target,
            Some(&bound),
        ));
        checks.extend(qc::master::clipping(&d.name, o.full_scale_samples));
    }
    let (pre, master) = (an.measurement.lra_lu, m.outputs[0].measurement.lra_lu);
    checks.extend(qc::master::dynamics(pre, master, m.limiter.max_gain_reduction_db, th));
    qc::apply_fail_on(&mut checks, &album.qc.fail_on);
    checks
}

fn output_reports(album: &Album, m: &Mastered, paths: &[PathBuf]) -> Vec<OutputReport> {
    (album.deliverables.iter().zip(&m.outputs).zip(paths))
        .map(|((d, o), path)| {
            let meas = &o.measurement;
            OutputReport {
                deliverable: d.name.clone(),
                path: path.display().to_string(),
                format: d.container.extension(),
                sample_rate: o.sample_rate,
                bit_depth: d.format.bits(),
                integrated_lufs: meas.integrated_lufs,
                true_peak_dbtp: meas.true_peak_dbtp,
                sample_peak_dbfs: meas.sample_peak_dbfs,
                lra_lu: meas.lra_lu,
                momentary_max_lufs: meas.momentary_max_lufs,
                short_term_max_lufs: meas.short_term_max_lufs,
                duration_s: meas.duration_s,
                frames: (meas.duration_s * o.sample_rate as f64).round() as usize,
                tags: Default::default(),
                codec: o.codec.clone(),
            }
        })
        .collect()
}

fn premaster_report(album: &Album, track: &Track, an: &Analysis) -> PremasterReport {
    let pm = &an.measurement;
    PremasterReport {
        path: track.inputs().iter().map(|p| display_path(album, p)).collect::<Vec<_>>().join(", "),
        codec: an.format.codec.clone(),
        integrated_lufs: pm.integrated_lufs,
        true_peak_dbtp: pm.true_peak_dbtp,
        sample_peak_dbfs: pm.sample_peak_dbfs,
        lra_lu: pm.lra_lu,
        plr_db: pm.plr_db(),
        momentary_max_lufs: pm.momentary_max_lufs,
        short_term_max_lufs: pm.short_term_max_lufs,
        sample_rate: an.format.sample_rate,
        bit_depth: an.format.bit_depth,
        channels: an.format.channels,
        duration_s: pm.duration_s,
    }
}

fn master_report(track: &Track, an: &Analysis, m: &Mastered, album_gain: Option<f64>) -> MasterReport {
    let primary = &m.outputs[0].measurement;
    let (lim, budget) = (&m.limiter, track.chain.limiter.budget);
    MasterReport {
        target_lufs: m.target_lufs,
        integrated_lufs: primary.integrated_lufs,
        short_of_target_lu: (m.target_lufs - m.outputs[0].programme_lufs.unwrap_or(primary.integrated_lufs))
            .max(0.0),
        programme: m.programme.map(|(first, last)| ProgrammeReport {
            tracks: [first, last],
            integrated_lufs: m.outputs[0].programme_lufs.unwrap_or(primary.integrated_lufs),
        }),
        limited_by: m.bound,
        true_peak_dbtp: primary.true_peak_dbtp,
        lra_lu: primary.lra_lu,
        lra_loss_lu: an.measurement.lra_lu - primary.lra_lu,
        gain_db: m.gain_db,
        trim_db: album_gain.map(|g| m.gain_db - g),
        max_limiting_db: lim.max_gain_reduction_db,
        sustained_limiting_db: lim.sustained_gain_reduction_db,
        mean_limiting_db: lim.mean_gain_reduction_db,
        limiting_seconds_over_1db: lim.seconds_over_1db,
        limiting_seconds_over_3db: lim.seconds_over_3db,
        limiting_seconds_over_6db: lim.seconds_over_6db,
        limiting_budget: BudgetReport { sustained_db: budget.sustained_db, peak_db: budget.peak_db },
        needed: m.needed.map(|n| NeededReport {
            gain_db: n.gain_db,
            sustained_limiting_db: n.sustained_db,
            max_limiting_db: n.peak_db,
        }),
        compressor_max_gain_reduction_db: m.compressor.map(|c| c.max_gain_reduction_db),
        compressor_mean_gain_reduction_db: m.compressor.map(|c| c.mean_gain_reduction_db),
        passes: m.passes,
    }
}

/// Album figures per deliverable: pooled loudness and highest true peak.
fn deliverable_reports(album: &Album, mastered: &[Mastered]) -> Result<Vec<DeliverableReport>> {
    album
        .deliverables
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let lufs = BlockEnergies::pooled_integrated(
                &mastered.iter().map(|m| &m.outputs[i].energies).collect::<Vec<_>>(),
            );
            let tp = mastered
                .iter()
                .map(|m| m.outputs[i].measurement.true_peak_dbtp)
                .fold(f64::NEG_INFINITY, f64::max);
            let (compression, bitrate_kbps, vbr_quality) = match d.container {
                Container::Wav => (None, None, None),
                Container::Flac { level } => (Some(level), None, None),
                Container::Mp3(Mp3Mode::Cbr(kbps)) => (None, Some(kbps), None),
                Container::Mp3(Mp3Mode::Vbr(q)) | Container::Ogg { quality: q } => (None, None, Some(q)),
            };
            Ok(DeliverableReport {
                name: d.name.clone(),
                format: d.container.extension(),
                compression,
                bitrate_kbps,
                vbr_quality,
                sample_rate: d.sample_rate,
                bit_depth: d.format.bits(),
                dither: match (d.format, d.dither) {
                    (SampleFormat::Float32, _) | (_, DitherKind::None) => "none",
                    (_, DitherKind::Tpdf) => "tpdf",
                    (_, DitherKind::Shaped) => "shaped",
                },
                integrated_lufs: lufs,
                true_peak_dbtp: tp,
            })
        })
        .collect()
}

fn stem_report(album: &Album, f: &StemFacts) -> StemReport {
    StemReport {
        name: f.name.clone(),
        file: display_path(album, &f.file),
        gain_db: f.mix.gain_db,
        pan: f.mix.pan,
        mute: f.mix.mute,
        polarity: if f.mix.inverted { "inverted" } else { "normal" },
        eq_bands: f.mix.eq.len(),
        channels: f.channels,
        frames: f.frames,
        integrated_lufs: f.mixed_lufs,
        file_peak_dbfs: f.file_peak_dbfs,
        share_pct: f.share_pct,
    }
}
