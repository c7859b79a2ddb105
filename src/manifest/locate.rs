//! Errors that point at the manifest: where a key path
//! (`tracks[1].stems[0].gain_db`) stands in a YAML document, so that errors
//! found after parsing still give a line and column, and serde_yaml_ng's
//! own errors turned into the same located form.

use std::collections::HashMap;
use std::path::Path;

use saphyr_parser::{Event, Parser};
use serde::de::DeserializeOwned;

use crate::error::ManifestError;

/// Positions (1-based line, 1-based column) of every node in the document, by key path.
pub struct Locator {
    positions: HashMap<String, (usize, usize)>,
}

impl Locator {
    pub fn new(text: &str) -> Self {
        let mut positions = HashMap::new();
        // Stop at the first parse error: the parser repeats it forever.
        let mut events = Parser::new_from_str(text)
            .map_while(|e| e.ok())
            .fuse()
            .map(|(ev, span)| (ev, (span.start.line(), span.start.col() + 1)));
        // Skip to the root node.
        let mut first = None;
        for (ev, pos) in events.by_ref() {
            if matches!(ev, Event::MappingStart(..) | Event::SequenceStart(..) | Event::Scalar(..)) {
                first = Some((ev, pos));
                break;
            }
        }
        if let Some((ev, pos)) = first {
            walk(ev, pos, String::new(), &mut events, &mut positions);
        }
        Locator { positions }
    }

    /// The position of `path`, or of its nearest located ancestor.
    pub fn find(&self, path: &str) -> (usize, usize) {
        let mut p = path.to_string();
        loop {
            if let Some(&pos) = self.positions.get(&p) {
                return pos;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return self.positions.get("").copied().unwrap_or((1, 1)),
            }
        }
    }
}

fn walk<'a>(
    ev: Event<'a>,
    pos: (usize, usize),
    path: String,
    events: &mut impl Iterator<Item = (Event<'a>, (usize, usize))>,
    out: &mut HashMap<String, (usize, usize)>,
) {
    out.insert(path.clone(), pos);
    match ev {
        Event::MappingStart(..) => {
            while let Some((key, kpos)) = events.next() {
                let name = match key {
                    Event::MappingEnd => return,
                    Event::Scalar(s, ..) => s.to_string(),
                    _ => String::from("?"),
                };
                let child = if path.is_empty() { name } else { format!("{path}.{name}") };
                // The key's own position is the most useful place to point at.
                let Some((value, vpos)) = events.next() else { return };
                walk(value, vpos, child.clone(), events, out);
                out.insert(child, kpos);
            }
        }
        Event::SequenceStart(..) => {
            let mut i = 0;
            while let Some((item, ipos)) = events.next() {
                if matches!(item, Event::SequenceEnd) {
                    return;
                }
                walk(item, ipos, format!("{path}[{i}]"), events, out);
                i += 1;
            }
        }
        _ => {}
    }
}

/// Makes text from the manifest safe for a one-line error: control characters
/// (a key can span lines in YAML) are escaped, and very long text is cut.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 300 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A YAML text being read, for locating errors.
pub(crate) struct Source<'a> {
    pub file: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    /// The line `path` is written on (1-based).
    pub fn line(&self, path: &str) -> usize {
        Locator::new(self.text).find(path).0
    }

    pub fn error(&self, path: &str, message: impl Into<String>) -> ManifestError {
        let (line, column) = Locator::new(self.text).find(path);
        ManifestError {
            file: self.file.to_path_buf(),
            line,
            column,
            path: one_line(path),
            message: one_line(&message.into()),
        }
    }
}

/// The unit a key's name gives its value (`loudness_lufs`: LUFS), for errors.
fn unit_of(path: &str) -> &'static str {
    let key = path.rsplit('.').next().unwrap_or(path);
    let units = [
        ("_dbtp", " in dBTP"),
        ("_dbfs", " in dBFS"),
        ("_lufs", " in LUFS"),
        ("_db", " in dB"),
        ("_lu", " in LU"),
        ("_ms", " in milliseconds"),
        ("_hz", " in Hz"),
        ("_kbps", " in kbit/s"),
        ("_s", " in seconds"),
        ("sample_rate", " in Hz"),
        ("bit_depth", " of bits"),
    ];
    units.iter().find(|(suffix, _)| key.ends_with(suffix)).map_or("", |(_, unit)| unit)
}

/// serde's "invalid type: string \"loud\", expected f64" in plain words,
/// with the unit the key's name gives: "a number in LUFS is expected here,
/// not the text `loud`".
fn plain_type_error(message: &str, path: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid type: ").or_else(|| message.strip_prefix("invalid value: "))?;
    let (found, expected) = rest.rsplit_once(", expected ")?;
    let unit = unit_of(path);
    let wanted = match expected {
        "f64" | "f32" => format!("a number{unit}"),
        "u8" | "u16" | "u32" | "u64" | "usize" => format!("a whole number{unit} (0 or more)"),
        "a boolean" => "`true` or `false`".to_string(),
        "a string" => "text".to_string(),
        _ => return None,
    };
    let found = if let Some(text) = found.strip_prefix("string ") {
        format!("the text {text}")
    } else if let Some(v) = found.strip_prefix("integer ").or_else(|| found.strip_prefix("floating point ")) {
        v.to_string()
    } else if let Some(v) = found.strip_prefix("boolean ") {
        v.to_string()
    } else {
        format!("a {found}")
    };
    Some(format!("{wanted} is expected here, not {found}"))
}

/// Deserializes with serde_yaml_ng, turning its error into a located one.
pub(crate) fn parse_yaml<T: DeserializeOwned>(src: &Source) -> Result<T, ManifestError> {
    serde_yaml_ng::from_str::<T>(src.text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let mut text = e.to_string();
        if let Some(i) = text.rfind(" at line ") {
            text.truncate(i);
        }
        // serde_yaml_ng says "path: message"; the key path goes in its own field.
        let (mut path, mut message) = match text.split_once(": ") {
            Some((p, m)) if !p.contains(' ') => (p.to_string(), m.to_string()),
            _ => (String::new(), text.clone()),
        };
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some((key, expected)) = rest.split_once('`')
        {
            path = if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
            let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let hint = super::names::did_you_mean(key, known.iter().copied());
            message =
                format!("unknown key `{key}`;{hint}{}", expected.replacen(", expected", " expected", 1));
        }
        if message.starts_with("missing field") {
            message = message.replacen("missing field", "missing key", 1);
        }
        if let Some(plain) = plain_type_error(&message, &path) {
            message = plain;
        }
        ManifestError {
            file: src.file.to_path_buf(),
            line,
            column,
            path: one_line(&path),
            message: one_line(&message),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_items() {
        let l = Locator::new("version: 1\ntracks:\n  - title: a\n    mix: x\n  - {title: b, mix: y}\n");
        assert_eq!(l.find("tracks[0].mix"), (4, 5));
        assert_eq!(l.find("tracks[1].mix"), (5, 16));
        assert_eq!(l.find("tracks[1].nope"), (5, 5), "an unknown key falls back to its parent");
    }

    #[test]
    fn stops_on_broken_yaml() {
        // Found by fuzzing: after an error the parser repeats it forever.
        for text in ["a: [", "- {b: ", "k: 'open", "a:\n  - b\n c: d\n", "\t- x"] {
            let _ = Locator::new(text).find("a.b");
        }
    }
}
