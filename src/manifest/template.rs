//! A deliverable's file-name template: `{number:02} - {title}` unless the
//! manifest says otherwise, e.g. `{number:02} {artist} - {title}`. The
//! container's extension is added; the name is made safe for every file
//! system, whatever the titles hold.

use super::names::sanitize_title;

/// The template when a deliverable names none: `01 - Night Drive.wav`.
pub const DEFAULT: &str = crate::audio::encode::DEFAULT_FILE_NAME;

/// The fields a template may name.
pub const FIELDS: [&str; 6] = ["number", "title", "artist", "album", "isrc", "year"];

/// What a track's file name is made from.
pub struct Fields<'a> {
    pub number: usize,
    pub title: &'a str,
    pub artist: &'a str,
    pub album: &'a str,
    pub isrc: &'a str,
    pub year: &'a str,
}

enum Part<'a> {
    Text(&'a str),
    /// A field, and the width its number is padded to with zeros.
    Field(&'a str, usize),
}

fn parse(template: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            Some(i) if rest.as_bytes()[i] == b'}' => {
                return Err(format!("file name template `{template}` has a `}}` with no `{{` before it"));
            }
            Some(i) => {
                parts.push(Part::Text(&rest[..i]));
                let close = rest[i..]
                    .find('}')
                    .ok_or_else(|| format!("file name template `{template}` has an unclosed `{{`"))?;
                let inner = &rest[i + 1..i + close];
                let (name, width) = match inner.split_once(':') {
                    None => (inner, 0),
                    Some(("number", w))
                        if w.len() == 2 && w.starts_with('0') && w.as_bytes()[1].is_ascii_digit() =>
                    {
                        ("number", (w.as_bytes()[1] - b'0') as usize)
                    }
                    Some(_) => {
                        return Err(format!(
                            "file name template field `{{{inner}}}`: only `number` takes a width, as `{{number:02}}`"
                        ));
                    }
                };
                if !FIELDS.contains(&name) {
                    return Err(format!(
                        "file name template field `{{{name}}}` is unknown; the fields are {}",
                        FIELDS.map(|f| format!("{{{f}}}")).join(", ")
                    ));
                }
                parts.push(Part::Field(name, width));
                rest = &rest[i + close + 1..];
            }
            None => {
                parts.push(Part::Text(rest));
                rest = "";
            }
        }
    }
    for p in &parts {
        if let Part::Text(t) = p
            && t.chars().any(|c| c.is_control() || "/\\:*?\"<>|".contains(c))
        {
            return Err(format!(
                "file name template `{template}` holds a character file systems refuse (one of / \\ : * ? \" < > | or a control)"
            ));
        }
    }
    if !parts.iter().any(|p| matches!(p, Part::Field(..))) {
        return Err(format!(
            "file name template `{template}` names no field: every track would get the same name"
        ));
    }
    Ok(parts)
}

/// Checks a template as the manifest gives it.
pub fn validate(template: &str) -> Result<(), String> {
    parse(template).map(|_| ())
}

/// The file name (without extension) a validated template gives a track.
pub fn render(template: &str, f: &Fields) -> String {
    let parts = parse(template).unwrap_or_else(|_| parse(DEFAULT).expect("the default is valid"));
    let mut name = String::new();
    for p in parts {
        match p {
            Part::Text(t) => name.push_str(t),
            Part::Field("number", w) => name.push_str(&format!("{:0w$}", f.number)),
            Part::Field(field, _) => name.push_str(match field {
                "title" => f.title,
                "artist" => f.artist,
                "album" => f.album,
                "isrc" => f.isrc,
                _ => f.year,
            }),
        }
    }
    sanitize_title(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields<'static> {
        Fields {
            number: 3,
            title: "Under/pass",
            artist: "The Examples",
            album: "Night",
            isrc: "",
            year: "2026",
        }
    }

    #[test]
    fn templates_render_safe_names() {
        assert_eq!(render(DEFAULT, &fields()), "03 - Under_pass");
        assert_eq!(render("{number:02} {artist} - {title}", &fields()), "03 The Examples - Under_pass");
        assert_eq!(render("{year} {album} {number}", &fields()), "2026 Night 3");
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        assert!(validate("{numbr} - {title}").unwrap_err().contains("{numbr}` is unknown"));
        assert!(validate("{title:02}").unwrap_err().contains("only `number` takes a width"));
        assert!(validate("{number").unwrap_err().contains("unclosed"));
        assert!(validate("a/{title}").unwrap_err().contains("refuse"));
        assert!(validate("master").unwrap_err().contains("names no field"));
        assert!(validate("title}").is_err());
    }
}
