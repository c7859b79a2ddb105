//! The premaster brief: at least 16-bit / 44.1 kHz, peaks between −10 and
//! −3 dBFS, nothing on the mix bus, and a signal that is actually there.

use super::{Check, CheckId, Severity, Threshold as T, Thresholds};
use crate::audio::SourceFormat;
use crate::dsp::gain_to_db;
use crate::dsp::loudness::Measurement;
use crate::dsp::scan::SampleScan;

/// `m:ss.sss`.
fn timestamp(seconds: f64) -> String {
    let m = (seconds / 60.0).floor();
    format!("{}:{:06.3}", m as u64, seconds - m * 60.0)
}

/// Every premaster check of one premaster (stems checks aside).
pub fn checks(fmt: &SourceFormat, m: &Measurement, scan: &SampleScan, th: &Thresholds) -> Vec<Check> {
    let mut out = format_checks(fmt, th);
    out.extend(length(m.duration_s));
    if scan.leading_silence_frames >= scan.frames || !m.integrated_lufs.is_finite() {
        out.push(CheckId::PremasterSilence.found(
            "is silent (nothing above the −70 LUFS gate): check the export, nothing was printed".into(),
            m.sample_peak_dbfs,
            None,
        ));
        return out;
    }
    out.extend(headroom(m.sample_peak_dbfs, th));
    out.extend(clipping(scan, fmt.sample_rate));
    out.extend(bus_limiting(m, scan, th));
    out.extend(dc_and_phase(fmt, scan, th));
    out.extend(silence(scan, fmt.sample_rate, th));
    out.extend(mono(fmt.channels));
    out
}

/// The checks that stop a track before mastering: it cannot be measured.
pub fn is_unmasterable(c: &Check) -> bool {
    c.severity == Severity::Fail && matches!(c.id, CheckId::PremasterSilence | CheckId::PremasterTooShort)
}

fn format_checks(fmt: &SourceFormat, th: &Thresholds) -> Vec<Check> {
    let mut out = Vec::new();
    let rate = fmt.sample_rate;
    let min_rate = th.get(T::SampleRateMinHz);
    if (rate as f64) < min_rate {
        out.push(CheckId::PremasterSampleRate.found(
            format!("exported at {:.1} kHz; ask for at least {:.1} kHz (export at the session's rate, no conversion)", rate as f64 / 1000.0, min_rate / 1000.0),
            rate as f64,
            Some(min_rate),
        ));
    }
    let min_bits = th.get(T::BitDepthMinBits);
    if let Some(bits) = fmt.bit_depth.filter(|_| !fmt.float)
        && (bits as f64) < min_bits
    {
        out.push(CheckId::PremasterBitDepth.found(
            format!("exported at {bits}-bit; ask for at least {min_bits:.0}-bit (24-bit or 32-bit float preferred)"),
            bits as f64,
            Some(min_bits),
        ));
    }
    out
}

fn length(duration: f64) -> Option<Check> {
    if duration < 0.4 {
        Some(CheckId::PremasterTooShort.found(
            format!("lasts {duration:.3} s, shorter than one 400 ms loudness block: it cannot be measured or mastered"),
            duration,
            Some(0.4),
        ))
    } else if duration < 3.0 {
        Some(CheckId::PremasterTooShort.found_as(
            Severity::Warn,
            format!("lasts {duration:.2} s; loudness range needs at least 3 s and is not meaningful"),
            duration,
            Some(3.0),
        ))
    } else {
        None
    }
}

fn headroom(peak: f64, th: &Thresholds) -> Option<Check> {
    let (hi, lo) = (th.get(T::HeadroomMaxPeakDbfs), th.get(T::HeadroomMinPeakDbfs));
    if peak > hi {
        Some(CheckId::PremasterHeadroom.found(
            format!("peaks reach {peak:.1} dBFS; leave {:.0}–{:.0} dB of headroom for mastering (pull the master fader down, don't limit)", -hi, -lo),
            peak,
            Some(hi),
        ))
    } else if peak < lo {
        Some(CheckId::PremasterHeadroom.found(
            format!("peaks only reach {peak:.1} dBFS; a premaster peaking between {lo:.0} and {hi:.0} dBFS keeps the noise floor out of the way"),
            peak,
            Some(lo),
        ))
    } else {
        None
    }
}

fn clipping(scan: &SampleScan, rate: u32) -> Option<Check> {
    let n = scan.clip_run_count;
    (n > 0).then(|| {
        let times: Vec<String> =
            scan.clip_runs.iter().take(5).map(|(s, _)| timestamp(*s as f64 / rate as f64)).collect();
        let more = if n > 5 { format!(" and {} more", n - 5) } else { String::new() };
        CheckId::PremasterClipping.found(
            format!(
                "clipped: {n} run{} of consecutive full-scale samples, at {}{more}; re-export with the master fader lower",
                if n == 1 { "" } else { "s" },
                times.join(", ")
            ),
            n as f64,
            Some(0.0),
        )
    })
}

fn bus_limiting(m: &Measurement, scan: &SampleScan, th: &Thresholds) -> Option<Check> {
    let plr = m.plr_db();
    let min_plr = th.get(T::BusLimitingMinPlrDb);
    (plr < min_plr && scan.peak_density > th.get(T::BusLimitingMaxPeakDensity)).then(|| {
        CheckId::PremasterBusLimiting.found(
            format!(
                "sounds limited or heavily compressed on the mix bus: peak-to-loudness ratio {plr:.1} dB and flat-topped peaks ({:.2}% of samples within 0.1 dB of the peak); bypass bus processing and re-export",
                scan.peak_density * 100.0
            ),
            plr,
            Some(min_plr),
        )
    })
}

fn dc_and_phase(fmt: &SourceFormat, scan: &SampleScan, th: &Thresholds) -> Vec<Check> {
    let mut out = Vec::new();
    let dc_db = gain_to_db(scan.dc);
    let max_dc = th.get(T::DcOffsetMaxDbfs);
    if dc_db > max_dc {
        out.push(CheckId::PremasterDcOffset.found(
            format!("carries a DC offset of {dc_db:.1} dBFS; it wastes headroom (lathe's 20 Hz high-pass removes it)"),
            dc_db,
            Some(max_dc),
        ));
    }
    let min_corr = th.get(T::PhaseMinCorrelation);
    if fmt.channels == 2 && scan.correlation < min_corr {
        out.push(CheckId::PremasterPhase.found(
            format!(
                "left and right are out of phase (correlation {:.2}); folded to mono it loses {:.1} dB: check for a polarity flip or an over-wide stereo effect",
                scan.correlation, -scan.mono_loss_db
            ),
            scan.correlation,
            Some(min_corr),
        ));
    }
    out
}

fn silence(scan: &SampleScan, rate: u32, th: &Thresholds) -> Option<Check> {
    let max_sil = th.get(T::SilenceMaxS);
    let (lead, trail) =
        (scan.leading_silence_frames as f64 / rate as f64, scan.trailing_silence_frames as f64 / rate as f64);
    (lead > max_sil || trail > max_sil).then(|| {
        CheckId::PremasterSilence.found_as(
            Severity::Info,
            format!("{lead:.1} s of silence before the music and {trail:.1} s after; trim or keep as intended spacing"),
            lead.max(trail),
            Some(max_sil),
        )
    })
}

/// `premaster.mono`: a one-channel premaster is measured as dual mono.
fn mono(channels: usize) -> Option<Check> {
    (channels == 1).then(|| {
        CheckId::PremasterMono.found(
            "mono premaster: measured and mastered as dual mono (the EBU convention for a mono signal on two speakers; it reads 3 LU louder than one channel alone), and written as two identical channels".into(),
            1.0,
            None,
        )
    })
}
