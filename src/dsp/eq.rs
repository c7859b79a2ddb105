//! The mastering EQ: a cascade of RBJ biquads, each on the stereo pair, the
//! mid (L+R)/2 or the side (L-R)/2.

use super::biquad::{Biquad, Biquad2, Coefficients, Shape};

/// Which part of the stereo image a band works on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum BandChannel {
    #[default]
    Stereo,
    Mid,
    Side,
}

/// One band, serialized as the manifest writes it (`type`, not `shape`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Band {
    #[serde(rename = "type")]
    pub shape: Shape,
    pub freq_hz: f64,
    pub gain_db: f64,
    pub q: f64,
    pub channel: BandChannel,
}

/// A configured EQ for one sample rate, with its filter state: feeding a
/// signal block by block gives the same result as feeding it whole.
#[derive(Debug, Clone)]
pub struct Eq {
    /// Each band with its filters: left and right, or mid (or side) in `[0]`.
    bands: Vec<(Coefficients, BandChannel, [Biquad; 2])>,
}

impl Eq {
    pub fn new(bands: &[Band], sample_rate: u32) -> Self {
        let fs = sample_rate as f64;
        Eq {
            bands: bands
                .iter()
                .map(|b| {
                    let c = Coefficients::design(b.shape, b.freq_hz, b.q, b.gain_db, fs);
                    (c, b.channel, [Biquad::new(c), Biquad::new(c)])
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    /// Filters a stereo pair in place. Bands run in order; runs of mid/side
    /// bands share one M/S conversion.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let mut i = 0;
        while i < self.bands.len() {
            if self.bands[i].1 == BandChannel::Stereo {
                // Both channels in the two lanes of one vector: the same
                // IEEE operations, in the same order, as one at a time.
                let mut pair = Biquad2::new(&self.bands[i].2);
                for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                    let [yl, yr] = pair.tick([*l as f64, *r as f64]);
                    (*l, *r) = (yl as f32, yr as f32);
                }
                pair.store(&mut self.bands[i].2);
                i += 1;
                continue;
            }
            let end = self.bands[i..]
                .iter()
                .position(|(_, ch, _)| *ch == BandChannel::Stereo)
                .map_or(self.bands.len(), |p| i + p);
            let run = &mut self.bands[i..end];
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let mut m = (*l as f64 + *r as f64) * 0.5;
                let mut s = (*l as f64 - *r as f64) * 0.5;
                for (_, ch, f) in run.iter_mut() {
                    if *ch == BandChannel::Mid {
                        m = f[0].tick(m);
                    } else {
                        s = f[0].tick(s);
                    }
                }
                *l = (m + s) as f32;
                *r = (m - s) as f32;
            }
            i = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::{Prototype, db, prototype_db, sine, tone_amplitude};

    /// The cookbook's analog prototypes, evaluated on the bilinear transform's
    /// warped frequency axis: an independent route to the digital response.
    fn analog_db(b: &Band, f: f64, fs: f64) -> f64 {
        let shape = match b.shape {
            Shape::Lowpass => Prototype::Lowpass,
            Shape::Highpass => Prototype::Highpass,
            Shape::Notch => Prototype::Notch,
            Shape::Peak => Prototype::Peak,
            Shape::LowShelf => Prototype::LowShelf,
            Shape::HighShelf => Prototype::HighShelf,
        };
        prototype_db(shape, b.freq_hz, b.gain_db, b.q, f, fs)
    }

    #[test]
    fn magnitude_response_matches_the_analytic_rbj_response_20hz_to_20khz() {
        let rate = 48000u32;
        let bands = [
            Band {
                shape: Shape::Highpass,
                freq_hz: 30.0,
                gain_db: 0.0,
                q: std::f64::consts::FRAC_1_SQRT_2,
                channel: BandChannel::Stereo,
            },
            Band {
                shape: Shape::Lowpass,
                freq_hz: 12000.0,
                gain_db: 0.0,
                q: std::f64::consts::FRAC_1_SQRT_2,
                channel: BandChannel::Stereo,
            },
            Band {
                shape: Shape::LowShelf,
                freq_hz: 120.0,
                gain_db: 3.0,
                q: std::f64::consts::FRAC_1_SQRT_2,
                channel: BandChannel::Stereo,
            },
            Band {
                shape: Shape::HighShelf,
                freq_hz: 8000.0,
                gain_db: -4.0,
                q: std::f64::consts::FRAC_1_SQRT_2,
                channel: BandChannel::Stereo,
            },
            Band { shape: Shape::Peak, freq_hz: 3000.0, gain_db: -6.0, q: 1.2, channel: BandChannel::Stereo },
            Band { shape: Shape::Notch, freq_hz: 1000.0, gain_db: 0.0, q: 4.0, channel: BandChannel::Stereo },
        ];
        let freqs: Vec<f64> = (0..=30).map(|i| 20.0 * 1000f64.powf(i as f64 / 30.0)).collect();
        for band in bands {
            let mut worst: f64 = 0.0;
            for &f in &freqs {
                // Skip the notch's own bin, where the response tends to -inf.
                if band.shape == Shape::Notch && (f / band.freq_hz).log2().abs() < 0.05 {
                    continue;
                }
                let x = sine(f, 0.5, 0.0, 3.0, rate);
                let (mut l, mut r) = (x.clone(), x.clone());
                Eq::new(&[band], rate).process(&mut l, &mut r);
                let settle = rate as usize * 2; // skip the filters' transient
                let measured = db(tone_amplitude(&l[settle..], f, rate) / 0.5);
                let expected = analog_db(&band, f, rate as f64);
                worst = worst.max((measured - expected).abs());
            }
            assert!(worst <= 0.05, "{:?}: worst deviation {worst:.4} dB", band.shape);
        }
    }

    #[test]
    fn block_by_block_equals_whole() {
        let rate = 48000;
        let bands = [
            Band { shape: Shape::Peak, freq_hz: 1000.0, gain_db: 4.0, q: 1.0, channel: BandChannel::Stereo },
            Band {
                shape: Shape::LowShelf,
                freq_hz: 200.0,
                gain_db: -3.0,
                q: std::f64::consts::FRAC_1_SQRT_2,
                channel: BandChannel::Side,
            },
        ];
        let x = sine(440.0, 0.5, 0.0, 0.5, rate);
        let y = sine(660.0, 0.4, 0.0, 0.5, rate);
        let (mut wl, mut wr) = (x.clone(), y.clone());
        Eq::new(&bands, rate).process(&mut wl, &mut wr);
        let (mut bl, mut br) = (x.clone(), y.clone());
        let mut eq = Eq::new(&bands, rate);
        for (cl, cr) in bl.chunks_mut(1000).zip(br.chunks_mut(1000)) {
            eq.process(cl, cr);
        }
        assert_eq!((wl, wr), (bl, br));
    }

    #[test]
    fn side_band_leaves_the_mid_untouched() {
        let rate = 48000;
        let side_hpf = || {
            let q = std::f64::consts::FRAC_1_SQRT_2;
            Eq::new(
                &[Band {
                    shape: Shape::Highpass,
                    freq_hz: 150.0,
                    gain_db: 0.0,
                    q,
                    channel: BandChannel::Side,
                }],
                rate,
            )
        };
        // 60 Hz in the side (L = -R) is cut; 60 Hz in the mid (L = R) passes.
        let x = sine(60.0, 0.5, 0.0, 2.0, rate);
        let (mut l, mut r) = (x.clone(), x.iter().map(|v| -v).collect::<Vec<_>>());
        side_hpf().process(&mut l, &mut r);
        let side_db = db(tone_amplitude(&l[rate as usize..], 60.0, rate) / 0.5);
        let (mut l2, mut r2) = (x.clone(), x.clone());
        side_hpf().process(&mut l2, &mut r2);
        let mid_db = db(tone_amplitude(&l2[rate as usize..], 60.0, rate) / 0.5);
        assert!(side_db < -12.0, "side at 60 Hz: {side_db:.2} dB");
        assert!(mid_db.abs() < 0.01, "mid at 60 Hz: {mid_db:.3} dB");
    }
}
