//! Small SVG charts for the HTML report, written by hand: a frame, ticks,
//! lines, filled areas, dots and reference lines. Colours come from CSS
//! classes, so the page's stylesheet (screen or print) decides them.
//!
//! The output is well-formed XML and self-contained (no fonts, scripts or
//! links), so it can sit inline in an HTML page.

use std::fmt::Write;

/// One axis: its range, its ticks and their labels.
#[derive(Debug, Clone)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    /// Logarithmic (frequency) instead of linear.
    pub log: bool,
    pub ticks: Vec<(f64, String)>,
    pub label: String,
}

impl Axis {
    /// A linear axis with about `count` round ticks, labelled by `fmt`.
    pub fn linear(min: f64, max: f64, count: usize, label: &str, fmt: impl Fn(f64) -> String) -> Axis {
        let ticks = nice_ticks(min, max, count).into_iter().map(|v| (v, fmt(v))).collect();
        Axis { min, max, log: false, ticks, label: label.into() }
    }

    /// A time axis in seconds, labelled `m:ss`.
    pub fn time(seconds: f64) -> Axis {
        let max = seconds.max(1.0);
        let step = [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0]
            .into_iter()
            .find(|s| max / s <= 10.0)
            .unwrap_or(1800.0);
        let ticks = (0..=(max / step) as usize)
            .map(|k| {
                let t = k as f64 * step;
                (t, format!("{}:{:02}", (t / 60.0) as u64, (t % 60.0).round() as u64))
            })
            .collect();
        Axis { min: 0.0, max, log: false, ticks, label: "time (m:ss)".into() }
    }

    /// The audible band, 20 Hz … 20 kHz, on a log scale.
    pub fn frequency() -> Axis {
        let ticks = [(20.0, "20"), (50.0, "50"), (100.0, "100"), (200.0, "200"), (500.0, "500")]
            .into_iter()
            .chain([(1e3, "1k"), (2e3, "2k"), (5e3, "5k"), (1e4, "10k"), (2e4, "20k")])
            .map(|(v, s)| (v, s.to_string()))
            .collect();
        Axis { min: 20.0, max: 20000.0, log: true, ticks, label: "frequency (Hz)".into() }
    }

    fn unit(&self, v: f64) -> f64 {
        let u = if self.log {
            (v.ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        };
        u.clamp(0.0, 1.0)
    }
}

/// Round tick values (1, 2, 5 × 10^k steps) covering `[min, max]`.
pub fn nice_ticks(min: f64, max: f64, count: usize) -> Vec<f64> {
    let span = (max - min).abs().max(1e-9);
    let raw = span / count.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (min / step).ceil() as i64;
    let last = (max / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// What a chart draws, each with the CSS class that colours it.
#[derive(Debug, Clone)]
pub enum Mark {
    /// A polyline; non-finite values break it.
    Line { class: &'static str, points: Vec<(f64, f64)> },
    /// A polyline filled down to `y = base`.
    Area { class: &'static str, base: f64, points: Vec<(f64, f64)> },
    /// A dot per point.
    Dots { class: &'static str, points: Vec<(f64, f64)> },
    /// A short horizontal dash per point (a per-item target).
    Dashes { class: &'static str, half_width: f64, points: Vec<(f64, f64)> },
    /// A horizontal reference line across the chart, labelled in the legend
    /// (never on the plot, where a curve may run along it).
    HLine { class: &'static str, y: f64, label: String },
}

/// A chart: two axes, marks and a legend.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Names the plot in the page (`data-plot`), e.g. `loudness`.
    pub kind: &'static str,
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub marks: Vec<Mark>,
    /// (CSS class, label) per legend entry.
    pub legend: Vec<(&'static str, String)>,
}

const W: f64 = 760.0;
const H: f64 = 230.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 40.0;

/// XML text escaping for element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

impl Chart {
    fn px(&self, x: f64) -> f64 {
        LEFT + self.x.unit(x) * (W - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        let y = if y.is_finite() { y } else { self.y.min };
        TOP + (1.0 - self.y.unit(y)) * (H - TOP - BOTTOM)
    }

    /// Path data for a polyline, broken at non-finite values.
    fn path(&self, points: &[(f64, f64)]) -> String {
        let mut d = String::new();
        let mut pen_down = false;
        for &(x, y) in points {
            if !y.is_finite() || y < self.y.min - (self.y.max - self.y.min) {
                pen_down = false;
                continue;
            }
            let _ = write!(d, "{}{:.1},{:.1}", if pen_down { "L" } else { "M" }, self.px(x), self.py(y));
            pen_down = true;
        }
        d
    }

    pub fn to_svg(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-plot="{}" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
            self.kind,
            esc(&self.title)
        );
        let _ = write!(s, "<title>{}</title>", esc(&self.title));
        self.frame(&mut s);
        for mark in &self.marks {
            self.mark(&mut s, mark);
        }
        self.legend(&mut s);
        s.push_str("</svg>");
        s
    }

    /// The grid, the ticks and their labels, the frame and the axis labels.
    fn frame(&self, s: &mut String) {
        let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
        for (v, label) in &self.y.ticks {
            let y = self.py(*v);
            let _ = write!(
                s,
                r#"<line class="grid" x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                x0 - 5.0,
                y + 3.5,
                esc(label)
            );
        }
        for (v, label) in &self.x.ticks {
            let x = self.px(*v);
            let _ = write!(
                s,
                r#"<line class="grid" x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                y1 + 14.0,
                esc(label)
            );
        }
        let _ =
            write!(s, r#"<rect class="frame" x="{x0}" y="{y0}" width="{}" height="{}"/>"#, x1 - x0, y1 - y0);
        let _ = write!(
            s,
            r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            (x0 + x1) / 2.0,
            H - 6.0,
            esc(&self.x.label)
        );
        let _ = write!(
            s,
            r#"<text class="axis" transform="translate(13 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            (y0 + y1) / 2.0,
            esc(&self.y.label)
        );
    }

    fn mark(&self, s: &mut String, mark: &Mark) {
        match mark {
            Mark::Line { class, points } => {
                let _ = write!(s, r#"<path class="line {class}" d="{}"/>"#, self.path(points));
            }
            Mark::Area { class, base, points } => {
                if let (Some(first), Some(last)) = (points.first(), points.last()) {
                    let b = self.py(*base);
                    let _ = write!(
                        s,
                        r#"<path class="area {class}" d="M{:.1},{b:.1}{}L{:.1},{b:.1}Z"/>"#,
                        self.px(first.0),
                        self.path(points).replacen('M', "L", 1),
                        self.px(last.0)
                    );
                }
            }
            Mark::Dots { class, points } => {
                for &(x, y) in points.iter().filter(|p| p.1.is_finite()) {
                    let _ = write!(
                        s,
                        r#"<circle class="dot {class}" cx="{:.1}" cy="{:.1}" r="4"/>"#,
                        self.px(x),
                        self.py(y)
                    );
                }
            }
            Mark::Dashes { class, half_width, points } => {
                for &(x, y) in points.iter().filter(|p| p.1.is_finite()) {
                    let _ = write!(
                        s,
                        r#"<line class="dash {class}" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
                        self.px(x - half_width),
                        self.py(y),
                        self.px(x + half_width),
                        self.py(y)
                    );
                }
            }
            Mark::HLine { class, y, .. } => {
                let (x0, x1, py) = (LEFT, W - RIGHT, self.py(*y));
                let _ =
                    write!(s, r#"<line class="ref {class}" x1="{x0}" y1="{py:.1}" x2="{x1}" y2="{py:.1}"/>"#);
            }
        }
    }

    /// The legend, along the top: the series, then each reference line
    /// with its label.
    fn legend(&self, s: &mut String) {
        let mut lx = LEFT;
        for (class, label) in &self.legend {
            let _ = write!(
                s,
                r#"<rect class="key {class}" x="{lx:.1}" y="8" width="14" height="8"/><text class="legend" x="{:.1}" y="16">{}</text>"#,
                lx + 18.0,
                esc(label)
            );
            lx += 30.0 + 6.5 * label.chars().count() as f64;
        }
        for mark in &self.marks {
            if let Mark::HLine { class, label, .. } = mark {
                let _ = write!(
                    s,
                    r#"<line class="ref {class}" x1="{lx:.1}" y1="12" x2="{:.1}" y2="12"/><text class="ref-label {class}" x="{:.1}" y="16">{}</text>"#,
                    lx + 14.0,
                    lx + 18.0,
                    esc(label)
                );
                lx += 30.0 + 6.5 * label.chars().count() as f64;
            }
        }
    }
}

pub use crate::dsp::series::Reduce;

/// Time series of readings every `hop_s` seconds as at most `max_points`
/// (time, value) points, bucketed and reduced.
pub fn decimate(values: &[f32], hop_s: f64, max_points: usize, reduce: Reduce) -> Vec<(f64, f64)> {
    let bucket = values.len().div_ceil(max_points.max(1)).max(1);
    values
        .chunks(bucket)
        .enumerate()
        .map(|(k, c)| {
            let t = (k * bucket) as f64 * hop_s + (c.len() as f64 - 1.0) * hop_s / 2.0 + hop_s;
            let v = match reduce {
                Reduce::Max => c.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64)),
                Reduce::PowerMean => {
                    let finite: Vec<f64> = c.iter().filter(|v| v.is_finite()).map(|&v| v as f64).collect();
                    if finite.is_empty() {
                        f64::NEG_INFINITY
                    } else {
                        let p =
                            finite.iter().map(|l| 10f64.powf(l / 10.0)).sum::<f64>() / finite.len() as f64;
                        10.0 * p.log10()
                    }
                }
            };
            (t, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside_the_range() {
        let close =
            |a: Vec<f64>, b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9);
        // The step is the first of 1, 2, 5 × 10^k at least span / count.
        assert!(close(nice_ticks(-40.0, -6.0, 6), &[-40.0, -30.0, -20.0, -10.0]));
        assert!(close(nice_ticks(-40.0, -6.0, 7), &[-40.0, -35.0, -30.0, -25.0, -20.0, -15.0, -10.0]));
        assert!(close(nice_ticks(0.0, 1.0, 4), &[0.0, 0.5, 1.0]));
        assert!(close(nice_ticks(0.3, 0.95, 5), &[0.4, 0.6, 0.8]));
    }

    #[test]
    fn decimation_keeps_peaks_and_averages_energy() {
        let gr = [0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        let d = decimate(&gr, 0.1, 2, Reduce::Max);
        assert_eq!(d.iter().map(|p| p.1).collect::<Vec<_>>(), vec![3.0, 1.0]);
        // Two readings 10 dB apart: the energy mean is 7.4 dB above the lower one.
        let l = [-20.0, -10.0, f32::NEG_INFINITY, f32::NEG_INFINITY];
        let d = decimate(&l, 0.1, 2, Reduce::PowerMean);
        assert!((d[0].1 - (-20.0 + 10.0 * (5.5f64).log10())).abs() < 1e-6);
        assert_eq!(d[1].1, f64::NEG_INFINITY);
        assert!(decimate(&vec![0.0; 100_000], 0.1, 600, Reduce::Max).len() <= 600);
    }

    #[test]
    fn lines_break_at_silence_and_stay_in_the_frame() {
        let chart = Chart {
            kind: "t",
            title: "a <b> & c".into(),
            x: Axis::time(10.0),
            y: Axis::linear(-40.0, 0.0, 4, "LUFS", |v| format!("{v}")),
            marks: vec![Mark::Line {
                class: "a",
                points: vec![(0.0, -10.0), (1.0, f64::NEG_INFINITY), (2.0, -20.0), (3.0, 50.0)],
            }],
            legend: vec![],
        };
        let svg = chart.to_svg();
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        let d = svg.split("class=\"line a\" d=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(d.matches('M').count(), 2, "{d}");
        // 50 is clamped to the top of the frame.
        assert!(d.ends_with(&format!(",{TOP:.1}")), "{d}");
    }
}
