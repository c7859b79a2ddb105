//! `qc`: check ids whose warnings fail the run, and threshold overrides,
//! each key known and each value within its range.

use super::Resolver;
use crate::error::ManifestError;
use crate::manifest::QcConfig;
use crate::manifest::names::did_you_mean;
use crate::manifest::schema::RawQc;
use crate::qc::{CheckId, Threshold, Thresholds};

impl Resolver<'_> {
    pub(super) fn qc(&self, raw: Option<&RawQc>, preset: Option<&RawQc>) -> Result<QcConfig, ManifestError> {
        let (raw, preset) = (raw.cloned().unwrap_or_default(), preset.cloned().unwrap_or_default());
        let mut fail_on = Vec::new();
        for (i, id) in raw.fail_on.or(preset.fail_on).unwrap_or_default().iter().enumerate() {
            let known = id.parse::<CheckId>().map_err(|()| {
                let ids: Vec<&str> = CheckId::all().map(CheckId::as_str).collect();
                self.src.error(
                    &format!("qc.fail_on[{i}]"),
                    format!(
                        "unknown check id `{id}`;{} known ids: {}",
                        did_you_mean(id, ids.iter().copied()),
                        ids.join(", ")
                    ),
                )
            })?;
            fail_on.push(known);
        }
        // The preset's overrides, then the manifest's over them.
        let mut thresholds = Thresholds::default();
        for (key, value) in
            preset.thresholds.unwrap_or_default().into_iter().chain(raw.thresholds.unwrap_or_default())
        {
            let path = format!("qc.thresholds.{key}");
            let t = Threshold::from_key(&key).ok_or_else(|| {
                let keys: Vec<&str> = Threshold::all().map(Threshold::key).collect();
                self.src.error(
                    &path,
                    format!(
                        "unknown threshold `{key}`;{} known thresholds: {}",
                        did_you_mean(&key, keys.iter().copied()),
                        keys.join(", ")
                    ),
                )
            })?;
            thresholds.set(t, value).map_err(|m| self.src.error(&path, m))?;
        }
        thresholds.consistent().map_err(|(t, m)| self.src.error(&format!("qc.thresholds.{}", t.key()), m))?;
        Ok(QcConfig { fail_on, thresholds })
    }
}
