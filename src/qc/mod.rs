//! Quality control: the premaster brief a mastering engineer gives clients,
//! and what a master must meet. Each check measures one thing, compares it
//! with a threshold, and says what it found in the words an engineer would
//! use. Ids ([`CheckId`]) and thresholds ([`Threshold`]) are types, each
//! listed once with its defaults; one module per family of checks.

pub(crate) mod album;
mod id;
pub(crate) mod master;
pub(crate) mod premaster;
pub(crate) mod stems;
#[cfg(test)]
mod tests;
mod thresholds;

use serde::Serialize;

pub use id::CheckId;
pub use thresholds::{Threshold, Thresholds};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Fail,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "FAIL",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub severity: Severity,
    pub message: String,
    /// The measured value, in the unit the message gives.
    pub value: Option<f64>,
    pub threshold: Option<f64>,
}

impl CheckId {
    /// A finding of this check at its usual severity.
    pub(crate) fn found(self, message: String, value: f64, threshold: Option<f64>) -> Check {
        self.found_as(self.severity(), message, value, threshold)
    }

    /// A finding of this check at `severity`.
    pub(crate) fn found_as(
        self,
        severity: Severity,
        message: String,
        value: f64,
        threshold: Option<f64>,
    ) -> Check {
        Check { id: self, severity, message, value: value.is_finite().then_some(value), threshold }
    }
}

/// Promotes warnings of the listed ids to failures (a CI job's strictness).
pub fn apply_fail_on(checks: &mut [Check], fail_on: &[CheckId]) {
    for c in checks {
        if c.severity == Severity::Warn && fail_on.contains(&c.id) {
            c.severity = Severity::Fail;
        }
    }
}
