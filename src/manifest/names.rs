//! Titles made safe: for file names on every common file system, and for a
//! terminal or a Markdown line.

/// Bidirectional controls: they make a file name read differently from
/// what it is (`U+202E` turns `evil\u{202E}vaw.exe` into `evilexe.wav`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The most bytes of a title in a file name (`NN - ` and `.wav` around it
/// keep the name well under the 255 bytes file systems allow).
pub(super) const MAX_TITLE_BYTES: usize = 200;

/// Replaces characters that are unsafe in file names on common file
/// systems, drops bidirectional controls, and cuts the result to
/// [`MAX_TITLE_BYTES`] on a character boundary.
pub fn sanitize_title(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .filter(|&c| !is_bidi_control(c))
        .map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim().trim_end_matches(['.', ' ']).trim_start_matches('.');
    let mut end = trimmed.len().min(MAX_TITLE_BYTES);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let short = trimmed[..end].trim_end_matches(['.', ' ']);
    if short.is_empty() { "Untitled".into() } else { short.to_string() }
}

/// Text for a terminal table or a Markdown line: control characters escaped.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect()
}

/// The candidate a misspelled `word` most likely meant, if one is close:
/// " did you mean `x`?" to append to an error, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    best.map_or(String::new(), |(_, c)| format!(" did you mean `{c}`?"))
}

#[cfg(test)]
mod suggest_tests {
    use super::did_you_mean;

    #[test]
    fn a_near_miss_is_suggested_and_a_stranger_is_not() {
        assert_eq!(did_you_mean("ofset_lu", ["title", "offset_lu", "mix"]), " did you mean `offset_lu`?");
        assert_eq!(
            did_you_mean("master.truepeak", ["master.true_peak", "master.loudness"]),
            " did you mean `master.true_peak`?"
        );
        assert_eq!(did_you_mean("zzz", ["title", "offset_lu"]), "");
    }
}
