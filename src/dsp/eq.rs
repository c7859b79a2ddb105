//! The mastering EQ: a cascade of RBJ biquads, each on the stereo pair, the
//! mid (L+R)/2 or the side (L-R)/2.

use super::biquad::{Biquad, Coefficients, Shape};

/// Which part of the stereo image a band works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandChannel {
    #[default]
    Stereo,
    Mid,
    Side,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub shape: Shape,
    pub freq_hz: f64,
    pub gain_db: f64,
    pub q: f64,
    pub channel: BandChannel,
}

/// A configured EQ for one sample rate.
#[derive(Debug, Clone)]
pub struct Eq {
    bands: Vec<(Coefficients, BandChannel)>,
}

impl Eq {
    pub fn new(bands: &[Band], sample_rate: u32) -> Self {
        let fs = sample_rate as f64;
        Eq {
            bands: bands
                .iter()
                .map(|b| (Coefficients::design(b.shape, b.freq_hz, b.q, b.gain_db, fs), b.channel))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    /// The cascade's magnitude response in dB at `freq_hz` for a band channel.
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: u32, channel: BandChannel) -> f64 {
        self.bands
            .iter()
            .filter(|(_, ch)| *ch == channel)
            .map(|(c, _)| c.magnitude_db(freq_hz, sample_rate as f64))
            .sum()
    }

    /// Filters a stereo pair in place. Bands run in order; runs of mid/side
    /// bands share one M/S conversion.
    pub fn process(&self, left: &mut [f32], right: &mut [f32]) {
        let mut i = 0;
        while i < self.bands.len() {
            let (coeffs, channel) = self.bands[i];
            match channel {
                BandChannel::Stereo => {
                    Biquad::new(coeffs).process(left);
                    Biquad::new(coeffs).process(right);
                    i += 1;
                }
                BandChannel::Mid | BandChannel::Side => {
                    let end = self.bands[i..]
                        .iter()
                        .position(|(_, ch)| *ch == BandChannel::Stereo)
                        .map_or(self.bands.len(), |p| i + p);
                    let run = &self.bands[i..end];
                    let mut mids: Vec<Biquad> = run
                        .iter()
                        .filter(|(_, ch)| *ch == BandChannel::Mid)
                        .map(|(c, _)| Biquad::new(*c))
                        .collect();
                    let mut sides: Vec<Biquad> = run
                        .iter()
                        .filter(|(_, ch)| *ch == BandChannel::Side)
                        .map(|(c, _)| Biquad::new(*c))
                        .collect();
                    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                        let mut m = (*l as f64 + *r as f64) * 0.5;
                        let mut s = (*l as f64 - *r as f64) * 0.5;
                        for f in &mut mids {
                            m = f.tick(m);
                        }
                        for f in &mut sides {
                            s = f.tick(s);
                        }
                        *l = (m + s) as f32;
                        *r = (m - s) as f32;
                    }
                    i = end;
                }
            }
        }
    }
}
