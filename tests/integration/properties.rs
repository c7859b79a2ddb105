//! Invariants of the DSP on arbitrary input (proptest).

use lathe::dsp::biquad::Shape;
use lathe::dsp::compressor::{self, CompressorSettings};
use lathe::dsp::eq::{Band, BandChannel, Eq};
use lathe::dsp::limiter::{self, LimiterSettings};
use proptest::prelude::*;

fn signal() -> impl Strategy<Value = Vec<f32>> {
    // Short programmes of arbitrary finite samples, up to +24 dBFS, sometimes with silence.
    prop::collection::vec(prop_oneof![Just(0.0f32), -16.0f32..16.0f32], 64..4096)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn limiter_output_never_exceeds_the_ceiling(x in signal(), ceiling in -12.0f64..-0.1, release in 5.0f64..500.0) {
        let settings = LimiterSettings { ceiling_dbtp: ceiling, release_ms: release, ..LimiterSettings::default() };
        let mut ch = vec![x.clone(), x.iter().map(|v| -0.5 * v).collect()];
        limiter::process(&settings, 48000, &mut ch);
        let tp = lathe::dsp::oversample::true_peak_dbtp(&ch);
        prop_assert!(tp <= ceiling + 1e-3, "true peak {tp} over ceiling {ceiling}");
        for (y, v) in ch[0].iter().zip(&x) {
            prop_assert!(y.is_finite() && y.abs() <= v.abs() + 1e-6);
        }
    }

    #[test]
    fn eq_and_compressor_keep_finite_input_finite(
        x in signal(),
        freq in 10.0f64..20000.0,
        gain in -24.0f64..24.0,
        q in 0.1f64..20.0,
        threshold in -60.0f64..0.0,
        ratio in 1.0f64..20.0,
    ) {
        let shapes = [Shape::Highpass, Shape::Lowpass, Shape::LowShelf, Shape::HighShelf, Shape::Peak, Shape::Notch];
        let bands: Vec<Band> = shapes
            .iter()
            .map(|&shape| Band { shape, freq_hz: freq, gain_db: gain, q, channel: BandChannel::Stereo })
            .collect();
        let (mut l, mut r) = (x.clone(), x.clone());
        Eq::new(&bands, 44100).process(&mut l, &mut r);
        prop_assert!(l.iter().chain(&r).all(|v| v.is_finite()));
        let c = CompressorSettings { threshold_db: threshold, ratio, ..CompressorSettings::default() };
        compressor::process(&c, 44100, &mut l, &mut r);
        prop_assert!(l.iter().chain(&r).all(|v| v.is_finite()));
    }
}
