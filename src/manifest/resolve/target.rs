//! `target`: loudness, ceiling, mode, anchor, maximum gain, tolerance.

use super::Resolver;
use crate::error::ManifestError;
use crate::manifest::schema::{RawPreset, RawTarget};
use crate::manifest::{Target, defaults, limits};

impl Resolver<'_> {
    pub(super) fn target(&self, raw: &RawTarget, preset: &RawPreset) -> Result<Target, ManifestError> {
        let t = raw.over(&preset.target);
        let ceiling = t.true_peak_dbtp.unwrap_or(defaults::TRUE_PEAK_DBTP);
        if !(ceiling.is_finite() && ceiling <= 0.0) {
            return Err(self.src.error(
                "target.true_peak_dbtp",
                format!("the true-peak ceiling must be at or below 0 dBTP (got {ceiling})"),
            ));
        }
        Ok(Target {
            preset: raw.preset.clone(),
            loudness_lufs: self.within(
                &limits::LOUDNESS,
                "target.loudness_lufs",
                t.loudness_lufs.unwrap_or(defaults::LOUDNESS_LUFS),
            )?,
            true_peak_dbtp: self.within(&limits::TRUE_PEAK, "target.true_peak_dbtp", ceiling)?,
            mode: t.mode.unwrap_or(defaults::MODE),
            album_anchor: t.album_anchor.unwrap_or(defaults::ALBUM_ANCHOR),
            max_gain_db: self.within(
                &limits::MAX_GAIN,
                "target.max_gain_db",
                t.max_gain_db.unwrap_or(defaults::MAX_GAIN_DB),
            )?,
            tolerance_lu: self.within(
                &limits::TOLERANCE,
                "target.tolerance_lu",
                t.tolerance_lu.unwrap_or(defaults::TOLERANCE_LU),
            )?,
        })
    }
}
