//! Reading a manifest or preset file, and screening its text before any
//! YAML parser sees it.

use std::path::Path;

use super::locate::Source;
use crate::error::{Error, ManifestError, file_kind};

/// The largest manifest or preset file lathe reads (bytes).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The deepest YAML nesting lathe reads (a real manifest needs about 6).
pub const MAX_DEPTH: usize = 32;

/// Reads a manifest or preset: a regular file of at most
/// [`MAX_MANIFEST_BYTES`], UTF-8 (a byte-order mark is dropped).
pub(crate) fn read_yaml_file(path: &Path) -> Result<String, Error> {
    use std::io::Read;
    if let Some(kind) = file_kind(path) {
        return Err(Error::Usage(format!("{}: is {kind}, not a YAML file", path.display())));
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::Usage(format!(
            "{}: larger than {} KiB; a manifest or preset is a short text file",
            path.display(),
            MAX_MANIFEST_BYTES >> 10
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Usage(format!("{}: not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))
    })?;
    Ok(text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text))
}

/// Refuses text YAML cannot hold as a manifest before any parser sees it:
/// tabs used for indentation, and nesting deeper than [`MAX_DEPTH`]
/// (counted in one pass, so 40,000 levels are refused at once).
pub(super) fn screen(src: &Source) -> Result<(), ManifestError> {
    let located = |line: usize, column: usize, message: String| ManifestError {
        file: src.file.to_path_buf(),
        line,
        column,
        path: String::new(),
        message,
    };
    let mut depth = 0usize;
    for (n, line) in src.text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(col) = line[..indent].find('\t') {
            return Err(located(
                n + 1,
                col + 1,
                "a tab character in the indentation; YAML indents with spaces only".into(),
            ));
        }
        let mut quote = None;
        for (i, c) in line.char_indices() {
            match (quote, c) {
                (None, '#') if i == 0 || line[..i].ends_with([' ', '\t']) => break,
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth + indent / 2 > MAX_DEPTH {
                return Err(located(
                    n + 1,
                    i + 1,
                    format!("nested more than {MAX_DEPTH} levels deep; a manifest needs a handful"),
                ));
            }
        }
    }
    Ok(())
}
