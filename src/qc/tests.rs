//! The checks against signals made to trip them, and their messages.

use super::master::{GainBound, Target, clipping, dynamics, on_target};
use super::*;
use crate::audio::SourceFormat;
use crate::dsp::limiter::Budget;
use crate::dsp::scan::scan;
use crate::render::{Bound, Needed};
use lathe_oracle::sine;

const RATE: u32 = 48000;

fn fmt(rate: u32, bits: u32) -> SourceFormat {
    SourceFormat { codec: "pcm".into(), sample_rate: rate, channels: 2, bit_depth: Some(bits), float: false }
}

/// A premaster-like signal: a few tones at `peak_dbfs`, left and right slightly different.
fn music(peak_dbfs: f64, seconds: f64, rate: u32) -> Vec<Vec<f32>> {
    let a = 10f64.powf(peak_dbfs / 20.0) / 2.2;
    let l: Vec<f32> = sine(110.0, a, 0.0, seconds, rate)
        .iter()
        .zip(sine(440.0, a, 0.3, seconds, rate))
        .zip(sine(1250.0, a * 0.2, 0.1, seconds, rate))
        .map(|((x, y), z)| x + y + z)
        .collect();
    let r: Vec<f32> =
        l.iter().zip(sine(660.0, a * 0.2, 0.0, seconds, rate)).map(|(x, y)| x * 0.9 + y).collect();
    vec![l, r]
}

fn ids(f: &SourceFormat, x: &[Vec<f32>]) -> Vec<String> {
    let (m, _) = crate::dsp::loudness::measure(x, f.sample_rate).unwrap();
    let th = Thresholds::default();
    let s = scan(x, th.min_clip_run());
    premaster::checks(f, &m, &s, &th).into_iter().map(|c| c.id.to_string()).collect()
}

fn has(f: &SourceFormat, x: &[Vec<f32>], id: &str) -> bool {
    ids(f, x).iter().any(|i| i == id)
}

#[test]
fn a_good_premaster_raises_nothing() {
    let x = music(-6.0, 10.0, RATE);
    assert_eq!(ids(&fmt(RATE, 24), &x), Vec::<String>::new());
}

#[test]
fn sample_rate_and_bit_depth() {
    let x = music(-6.0, 5.0, 22050);
    assert!(has(&fmt(22050, 24), &x, "premaster.sample_rate"));
    assert!(!has(&fmt(44100, 24), &music(-6.0, 5.0, 44100), "premaster.sample_rate"));
    let x = music(-6.0, 5.0, RATE);
    assert!(has(&fmt(RATE, 8), &x, "premaster.bit_depth"));
    assert!(!has(&fmt(RATE, 16), &x, "premaster.bit_depth"));
}

#[test]
fn headroom_too_hot_and_too_quiet() {
    let f = fmt(RATE, 24);
    assert!(has(&f, &music(-1.0, 5.0, RATE), "premaster.headroom"));
    assert!(has(&f, &music(-14.0, 5.0, RATE), "premaster.headroom"));
    assert!(!has(&f, &music(-4.0, 5.0, RATE), "premaster.headroom"));
    let (m, _) = crate::dsp::loudness::measure(&music(-1.0, 5.0, RATE), RATE).unwrap();
    let s = scan(&music(-1.0, 5.0, RATE), 3);
    let c = premaster::checks(&f, &m, &s, &Thresholds::default());
    let msg = &c.iter().find(|c| c.id.as_str() == "premaster.headroom").unwrap().message;
    let peak = m.sample_peak_dbfs;
    assert!(msg.starts_with(&format!("peaks reach {peak:.1} dBFS; leave 3–10 dB of headroom")), "{msg}");
}

#[test]
fn clipping_counts_runs_of_full_scale_samples() {
    let f = fmt(RATE, 24);
    let mut x = music(-6.0, 5.0, RATE);
    x[0][1000..1010].fill(1.0);
    x[1][96000..96004].fill(-1.0);
    let th = Thresholds::default();
    let s = scan(&x, 3);
    assert_eq!(s.clip_run_count, 2);
    let (m, _) = crate::dsp::loudness::measure(&x, RATE).unwrap();
    let c = premaster::checks(&f, &m, &s, &th);
    let clip = c.iter().find(|c| c.id.as_str() == "premaster.clipping").unwrap();
    assert!(clip.message.contains("2 runs") && clip.message.contains("0:02.000"), "{}", clip.message);
    // Floating-point audio over full scale is loud, not clipped, unless it is flat.
    let hot: Vec<Vec<f32>> =
        music(-6.0, 5.0, RATE).iter().map(|c| c.iter().map(|v| v * 4.0).collect()).collect();
    assert_eq!(scan(&hot, 3).clip_run_count, 0);
    // Two isolated full-scale samples are not a run of three.
    let mut y = music(-6.0, 5.0, RATE);
    y[0][500] = 1.0;
    y[0][502] = 1.0;
    assert!(!has(&f, &y, "premaster.clipping"));
}

#[test]
fn bus_limiting_needs_low_plr_and_flat_tops() {
    let f = fmt(RATE, 24);
    // A square-ish wave: every peak at the same level, loud for its peak.
    let sq: Vec<f32> = sine(100.0, 1.0, 0.0, 5.0, RATE).iter().map(|v| (v * 4.0).clamp(-0.7, 0.7)).collect();
    assert!(has(&f, &[sq.clone(), sq], "premaster.bus_limiting"));
    assert!(!has(&f, &music(-4.0, 5.0, RATE), "premaster.bus_limiting"));
}

#[test]
fn dc_offset() {
    let f = fmt(RATE, 24);
    let mut x = music(-6.0, 5.0, RATE);
    x.iter_mut().for_each(|c| c.iter_mut().for_each(|v| *v += 0.01));
    assert!(has(&f, &x, "premaster.dc_offset"));
    assert!(!has(&f, &music(-6.0, 5.0, RATE), "premaster.dc_offset"));
}

#[test]
fn phase_flags_an_inverted_channel() {
    let f = fmt(RATE, 24);
    let mut x = music(-6.0, 5.0, RATE);
    x[1] = x[0].iter().map(|v| -v).collect();
    assert!(has(&f, &x, "premaster.phase"));
    assert!(!has(&f, &music(-6.0, 5.0, RATE), "premaster.phase"));
}

#[test]
fn silence_all_and_at_the_ends() {
    let f = fmt(RATE, 24);
    let silent = vec![vec![0f32; RATE as usize * 5]; 2];
    let c = ids(&f, &silent);
    assert!(c.contains(&"premaster.silence".to_string()));
    let mut x = music(-6.0, 10.0, RATE);
    x.iter_mut().for_each(|c| c[..RATE as usize * 3].fill(0.0));
    assert!(has(&f, &x, "premaster.silence"));
    assert!(!has(&f, &music(-6.0, 10.0, RATE), "premaster.silence"));
}

#[test]
fn too_short_for_a_block_and_for_lra() {
    let f = fmt(RATE, 24);
    let (m, _) = crate::dsp::loudness::measure(&music(-6.0, 0.3, RATE), RATE).unwrap();
    let s = scan(&music(-6.0, 0.3, RATE), 3);
    let c = premaster::checks(&f, &m, &s, &Thresholds::default());
    assert!(c.iter().any(|c| c.id.as_str() == "premaster.too_short" && c.severity == Severity::Fail));
    assert!(has(&f, &music(-6.0, 2.0, RATE), "premaster.too_short"));
    assert!(!has(&f, &music(-6.0, 4.0, RATE), "premaster.too_short"));
}

#[test]
fn album_sample_rate_mix() {
    assert!(album::sample_rates(&[44100, 48000]).is_some());
    assert!(album::sample_rates(&[48000, 48000]).is_none());
}

#[test]
fn master_checks() {
    let th = Thresholds::default();
    let t = Target { name: "d", loudness_lufs: -14.0, tolerance_lu: 0.1, ceiling_dbtp: -1.0 };
    let on = GainBound { bound: Bound::Target, needed: None, budget: Budget::DEFAULT, max_gain_db: 24.0 };
    let id = |c: &[Check]| c[0].id.as_str();
    assert!(on_target(-14.04, -1.02, &t, Some(&on)).is_empty());
    let c = &on_target(-14.2, -1.02, &t, Some(&on))[0];
    assert_eq!((c.id.as_str(), c.severity), ("master.loudness", Severity::Fail));
    assert_eq!(id(&on_target(-14.04, -0.9, &t, Some(&on))), "master.true_peak");
    assert_eq!(clipping("d", 3).unwrap().id, CheckId::MasterClipping);
    assert!(clipping("d", 0).is_none());
    assert_eq!(id(&on_target(f64::NEG_INFINITY, -1.02, &t, Some(&on))), "master.loudness");
    assert_eq!(id(&on_target(-14.2, -1.02, &t, None)), "master.loudness", "without a bound any miss fails");

    // Short of the target because of the budget: a warning that says why and what to do.
    let needed = Needed { gain_db: 9.0, sustained_db: 4.3, peak_db: 9.5 };
    let budget = GainBound { bound: Bound::SustainedBudget, needed: Some(needed), ..on };
    let c = &on_target(-15.8, -1.02, &t, Some(&budget))[0];
    assert_eq!(c.severity, Severity::Warn);
    assert!(c.message.starts_with("d: reaches -15.8 LUFS, 1.8 LU short of its -14.0 LUFS target: -14.0 LUFS would need about 4.3 dB of sustained limiting, the budget is 1.5 dB"), "{}", c.message);
    assert!(c.message.contains("glue compression"), "{}", c.message);
    let peak = GainBound { bound: Bound::PeakBudget, ..budget };
    assert!(
        on_target(-15.8, -1.02, &t, Some(&peak))[0]
            .message
            .contains("9.5 dB of limiting on the loudest peak, the budget is 6.0 dB")
    );
    let gain = GainBound { bound: Bound::MaxGain, ..budget };
    assert!(
        on_target(-15.8, -1.02, &t, Some(&gain))[0]
            .message
            .contains("about +9.0 dB of gain, past the +24.0 dB maximum")
    );
    // A bounded track over its target still fails: no bound makes a master too loud.
    assert_eq!(on_target(-13.5, -1.02, &t, Some(&budget))[0].severity, Severity::Fail);

    assert!(dynamics(10.0, 9.0, 2.0, &th).is_none());
    assert!(dynamics(10.0, 6.0, 2.0, &th).is_some());
    assert!(dynamics(10.0, 9.5, 8.0, &th).is_some());
    let spread = |lu: f64| album::Spread { lu, loudest: (0, -14.0), quietest: (1, -14.0 - lu) };
    assert_eq!(album::spread(&spread(8.0), true, &th).severity, Severity::Warn);
    assert_eq!(album::spread(&spread(2.0), true, &th).severity, Severity::Info);
    let warned = album::spread(&spread(8.0), true, &th);
    assert!(warned.message.contains("raise track 2 with `offset_lu`"), "{}", warned.message);
}

#[test]
fn fail_on_promotes_warnings_only() {
    let mut c = vec![
        CheckId::PremasterHeadroom.found("m".into(), 1.0, None),
        CheckId::PremasterSilence.found_as(Severity::Info, "m".into(), 1.0, None),
    ];
    apply_fail_on(&mut c, &[CheckId::PremasterHeadroom, CheckId::PremasterSilence]);
    assert_eq!(c[0].severity, Severity::Fail);
    assert_eq!(c[1].severity, Severity::Info);
}

#[test]
fn every_threshold_belongs_to_a_check() {
    let ids: Vec<&str> = CheckId::all().map(CheckId::as_str).collect();
    assert!(Threshold::all().all(|t| ids.iter().any(|id| t.key().starts_with(&format!("{id}.")))));
}

#[test]
fn spread_takes_each_tracks_offset_out() {
    // Track 2 sits 3 LU under by its offset: it counts at the album's level.
    let s = album::Spread::of(&[-14.0, -17.0, -14.5], &[0.0, -3.0, 0.0]);
    assert!((s.lu - 0.5).abs() < 1e-12, "{s:?}");
    assert_eq!((s.loudest.0, s.quietest.0), (0, 2));
    // Without the offset, the same masters are 3 LU apart; silence does not count.
    let s = album::Spread::of(&[-14.0, -17.0, f64::NEG_INFINITY], &[0.0, 0.0, 0.0]);
    assert_eq!((s.lu, s.quietest), (3.0, (1, -17.0)));
}
