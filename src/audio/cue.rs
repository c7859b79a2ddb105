//! CUE sheets: one image file, its tracks' positions in CD frames (1/75 s),
//! and the disc's and tracks' text, as CD authoring tools read them.

/// Frames (1/75 s) as the sheet writes them: `mm:ss:ff`.
pub fn msf(frames: u64) -> String {
    format!("{:02}:{:02}:{:02}", frames / (75 * 60), frames / 75 % 60, frames % 75)
}

/// A CUE sheet of one image file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CueSheet {
    /// The disc's catalog number (EAN-13 digits).
    pub catalog: Option<String>,
    pub title: String,
    pub performer: Option<String>,
    /// `REM DATE` and `REM GENRE`, as rippers and taggers read them.
    pub date: Option<String>,
    pub genre: Option<String>,
    /// The image's file name, beside the sheet.
    pub file: String,
    pub tracks: Vec<CueTrack>,
}

/// One track: its text, and where it is, in frames (1/75 s) of the image.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CueTrack {
    pub title: String,
    pub performer: Option<String>,
    pub songwriter: Option<String>,
    pub isrc: Option<String>,
    /// Silence the recorder generates before the track (not in the file): the first track's pregap.
    pub pregap: u64,
    /// INDEX 00: where the gap before the track starts, when it has one in the file.
    pub index00: Option<u64>,
    /// INDEX 01: where the track starts.
    pub index01: u64,
}

/// A CUE string: quoted, its quotes made apostrophes (the format has no escape).
fn quoted(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c == '"' {
                '\''
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!("\"{clean}\"")
}

impl CueSheet {
    /// The sheet's text, CRLF line ends (what Windows authoring tools expect; others accept it).
    pub fn render(&self) -> String {
        let mut lines = Vec::new();
        if let Some(d) = &self.date {
            lines.push(format!("REM DATE {d}"));
        }
        if let Some(g) = &self.genre {
            lines.push(format!("REM GENRE {}", quoted(g)));
        }
        if let Some(c) = &self.catalog {
            lines.push(format!("CATALOG {c}"));
        }
        if let Some(p) = &self.performer {
            lines.push(format!("PERFORMER {}", quoted(p)));
        }
        lines.push(format!("TITLE {}", quoted(&self.title)));
        lines.push(format!("FILE {} WAVE", quoted(&self.file)));
        for (i, t) in self.tracks.iter().enumerate() {
            lines.push(format!("  TRACK {:02} AUDIO", i + 1));
            lines.push(format!("    TITLE {}", quoted(&t.title)));
            if let Some(p) = &t.performer {
                lines.push(format!("    PERFORMER {}", quoted(p)));
            }
            if let Some(s) = &t.songwriter {
                lines.push(format!("    SONGWRITER {}", quoted(s)));
            }
            if let Some(isrc) = &t.isrc {
                lines.push(format!("    ISRC {isrc}"));
            }
            if t.pregap > 0 {
                lines.push(format!("    PREGAP {}", msf(t.pregap)));
            }
            if let Some(at) = t.index00 {
                lines.push(format!("    INDEX 00 {}", msf(at)));
            }
            lines.push(format!("    INDEX 01 {}", msf(t.index01)));
        }
        lines.iter().map(|l| format!("{l}\r\n")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_minutes_seconds_and_frames() {
        assert_eq!(msf(0), "00:00:00");
        assert_eq!(msf(74), "00:00:74");
        assert_eq!(msf(75 * 61 + 3), "01:01:03");
        assert_eq!(msf(75 * 60 * 79 + 75 * 57), "79:57:00");
    }

    #[test]
    fn a_sheet_lists_the_disc_then_each_track_with_its_indices() {
        let sheet = CueSheet {
            catalog: Some("0036000291452".into()),
            title: "Night \"Drive\"".into(),
            performer: Some("The Examples".into()),
            file: "Night Drive.wav".into(),
            tracks: vec![
                CueTrack { title: "A".into(), pregap: 150, index01: 0, ..CueTrack::default() },
                CueTrack {
                    title: "B".into(),
                    isrc: Some("GBEXA2600002".into()),
                    index00: Some(1000),
                    index01: 1150,
                    ..CueTrack::default()
                },
            ],
            ..CueSheet::default()
        };
        let text = sheet.render();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "CATALOG 0036000291452");
        assert_eq!(lines[2], "TITLE \"Night 'Drive'\"");
        assert_eq!(lines[3], "FILE \"Night Drive.wav\" WAVE");
        assert!(text.contains("    PREGAP 00:02:00\r\n    INDEX 01 00:00:00\r\n"));
        assert!(text.contains("    ISRC GBEXA2600002\r\n    INDEX 00 00:13:25\r\n    INDEX 01 00:15:25\r\n"));
    }
}
