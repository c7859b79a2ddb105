//! Every check lathe can report: its id as the manifest and the report spell
//! it, its usual severity, and what it looks at. Adding a check starts here.

use serde::{Serialize, Serializer};

use super::Severity;

/// A check, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    PremasterSampleRate,
    PremasterBitDepth,
    PremasterHeadroom,
    PremasterClipping,
    PremasterBusLimiting,
    PremasterDcOffset,
    PremasterPhase,
    PremasterSilence,
    PremasterTooShort,
    PremasterMono,
    StemsLengthMismatch,
    StemsSilent,
    StemsClipping,
    StemsSumOver,
    MasterLoudness,
    MasterTruePeak,
    MasterClipping,
    MasterDynamics,
    MasterCodec,
    AlbumSampleRateMix,
    AlbumLoudness,
    AlbumLoudnessSpread,
    AlbumTonalSpread,
    AlbumRedBook,
}

use CheckId::*;
use Severity::{Fail, Info, Warn};

/// Id, usual severity (a check may report another: a miss that has a
/// reason is a warning), and what the check looks at.
const TABLE: [(CheckId, &str, Severity, &str); 24] = [
    (
        PremasterSampleRate,
        "premaster.sample_rate",
        Warn,
        "the premaster's sample rate, against the brief's minimum",
    ),
    (
        PremasterBitDepth,
        "premaster.bit_depth",
        Warn,
        "the premaster's integer bit depth, against the brief's minimum",
    ),
    (
        PremasterHeadroom,
        "premaster.headroom",
        Warn,
        "the premaster's sample peak, against the brief's headroom window",
    ),
    (
        PremasterClipping,
        "premaster.clipping",
        Warn,
        "runs of identical full-scale samples (flat tops) in the premaster",
    ),
    (
        PremasterBusLimiting,
        "premaster.bus_limiting",
        Warn,
        "a low peak-to-loudness ratio with flat-topped peaks: a limiter on the mix bus",
    ),
    (PremasterDcOffset, "premaster.dc_offset", Warn, "the premaster's DC offset"),
    (
        PremasterPhase,
        "premaster.phase",
        Warn,
        "left-right correlation: a polarity flip or an over-wide stereo effect",
    ),
    (
        PremasterSilence,
        "premaster.silence",
        Fail,
        "a silent premaster (fails), or long silence before or after the music (info)",
    ),
    (
        PremasterTooShort,
        "premaster.too_short",
        Fail,
        "a premaster shorter than one loudness block (fails) or than 3 s (warns)",
    ),
    (PremasterMono, "premaster.mono", Info, "a one-channel premaster, mastered as dual mono"),
    (StemsLengthMismatch, "stems.length_mismatch", Warn, "stems of one track with different lengths"),
    (StemsSilent, "stems.silent", Warn, "a stem that is not muted but holds nothing"),
    (StemsClipping, "stems.clipping", Warn, "flat-topped runs in a stem file"),
    (StemsSumOver, "stems.sum_over", Info, "summed stems peaking over full scale (fine in floating point)"),
    (
        MasterLoudness,
        "master.loudness",
        Fail,
        "a master's integrated loudness against its target (warns when a bound held the gain)",
    ),
    (MasterTruePeak, "master.true_peak", Fail, "a master's true peak against the ceiling"),
    (MasterClipping, "master.clipping", Fail, "samples at full scale in a written master"),
    (MasterDynamics, "master.dynamics", Warn, "loudness range lost in mastering, and heavy peak limiting"),
    (
        MasterCodec,
        "master.codec",
        Info,
        "a lossy deliverable, decoded: the codec's overs taken off, its loudness against the lossless master's",
    ),
    (AlbumSampleRateMix, "album.sample_rate_mix", Info, "premasters of one album at different sample rates"),
    (
        AlbumLoudness,
        "album.loudness",
        Fail,
        "album mode: the album's loudness against the target (warns when a track held it back)",
    ),
    (AlbumLoudnessSpread, "album.loudness_spread", Warn, "how far apart the masters sit, offsets removed"),
    (
        AlbumTonalSpread,
        "album.tonal_spread",
        Warn,
        "how far the masters' tonal balances sit, on average, from the album's own",
    ),
    (
        AlbumRedBook,
        "album.red_book",
        Fail,
        "a CD image (44.1 kHz, 16-bit, `layout: album`) against the Red Book: at most 99 tracks, each at least 4 s, at most 79:57 in all",
    ),
];

impl CheckId {
    /// Every check, in the order the table gives them.
    pub fn all() -> impl Iterator<Item = CheckId> {
        TABLE.iter().map(|row| row.0)
    }

    fn row(self) -> &'static (CheckId, &'static str, Severity, &'static str) {
        let row = &TABLE[self as usize];
        debug_assert_eq!(row.0, self, "TABLE is in declaration order");
        row
    }

    /// `premaster.headroom`.
    pub fn as_str(self) -> &'static str {
        self.row().1
    }

    /// The severity the check reports unless its finding says otherwise.
    pub fn severity(self) -> Severity {
        self.row().2
    }

    /// What the check looks at, in one line.
    pub fn about(self) -> &'static str {
        self.row().3
    }

    /// `premaster.headroom` → `premaster`.
    pub fn family(self) -> &'static str {
        self.as_str().split('.').next().expect("ids are family.name")
    }
}

impl std::str::FromStr for CheckId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        TABLE.iter().find(|row| row.1 == s).map(|row| row.0).ok_or(())
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_declaration_order_and_ids_round_trip() {
        for (i, id) in CheckId::all().enumerate() {
            assert_eq!(id as usize, i);
            assert_eq!(id.as_str().parse::<CheckId>(), Ok(id));
            assert!(["premaster", "stems", "master", "album"].contains(&id.family()), "{id}");
        }
        assert_eq!(CheckId::all().count(), TABLE.len());
        assert!("premaster.headroomx".parse::<CheckId>().is_err());
    }
}
