//! The release's identifiers and dates, checked as a distributor checks
//! them: a UPC-A or EAN-13 barcode with its check digit, an ISRC in its
//! ISO 3901 shape, a release date that exists.

/// A UPC-A (12 digits) or EAN-13 (13 digits) barcode, its check digit
/// verified (GS1: weights 3 and 1 alternating from the digit before it).
/// Returns the digits.
pub fn barcode(text: &str) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 12 | 13) {
        return Err(format!(
            "`{text}` is not a barcode: a UPC-A has 12 digits and an EAN-13 has 13 (quote it, so a leading 0 is kept)"
        ));
    }
    let values: Vec<u32> = digits.bytes().map(|b| (b - b'0') as u32).collect();
    let (body, check) = values.split_at(values.len() - 1);
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { 3 * d } else { *d }).sum();
    let want = (10 - sum % 10) % 10;
    if check[0] != want {
        return Err(format!(
            "barcode `{text}` fails its check digit: the last digit should be {want}, not {} (a typo in the number?)",
            check[0]
        ));
    }
    Ok(digits)
}

/// An ISRC, `CC-XXX-YY-NNNNN` (country, registrant, year, designation),
/// with or without the hyphens. Returns its 12 characters, upper case, as
/// tags store it.
pub fn isrc(text: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "`{text}` is not an ISRC: it is CC-XXX-YY-NNNNN, a 2-letter country code, a 3-character registrant code, 2 digits of year and 5 digits (e.g. GB-ABC-24-00012)"
        )
    };
    let upper = text.trim().to_ascii_uppercase();
    let code: String = if upper.contains('-') {
        let parts: Vec<&str> = upper.split('-').collect();
        if parts.iter().map(|p| p.len()).collect::<Vec<_>>() != [2, 3, 2, 5] {
            return Err(bad());
        }
        parts.concat()
    } else {
        upper
    };
    let c: Vec<char> = code.chars().collect();
    let ok = c.len() == 12
        && c[..2].iter().all(|c| c.is_ascii_uppercase())
        && c[2..5].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && c[5..].iter().all(|c| c.is_ascii_digit());
    if ok { Ok(code) } else { Err(bad()) }
}

/// A release date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a date that exists.
pub fn date(text: &str) -> Result<String, String> {
    let bad = || format!("`{text}` is not a date: write YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2026-03-20)");
    let parts: Vec<&str> = text.trim().split('-').collect();
    let num = |s: &str, len: usize| {
        (s.len() == len && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse::<u32>().ok()).flatten()
    };
    let year = parts.first().and_then(|y| num(y, 4)).filter(|y| *y >= 1000).ok_or_else(bad)?;
    if let Some(m) = parts.get(1) {
        let month = num(m, 2).filter(|m| (1..=12).contains(m)).ok_or_else(bad)?;
        if let Some(d) = parts.get(2) {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let days =
                [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1];
            num(d, 2).filter(|d| (1..=days).contains(d)).ok_or_else(bad)?;
        }
    }
    if parts.len() > 3 {
        return Err(bad());
    }
    Ok(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcodes_are_checked_by_their_check_digit() {
        // Published examples: a UPC-A and an EAN-13.
        assert_eq!(barcode("036000291452").unwrap(), "036000291452");
        assert_eq!(barcode("4006381333931").unwrap(), "4006381333931");
        assert_eq!(barcode("4 006381 333931").unwrap(), "4006381333931");
        let e = barcode("036000291453").unwrap_err();
        assert!(e.contains("should be 2, not 3"), "{e}");
        assert!(barcode("36000291452").unwrap_err().contains("12 digits"));
        assert!(barcode("03600029145X").is_err());
    }

    #[test]
    fn isrcs_have_their_shape() {
        assert_eq!(isrc("GB-ABC-24-00012").unwrap(), "GBABC2400012");
        assert_eq!(isrc("usrc17607839").unwrap(), "USRC17607839");
        for bad in ["GB-ABC-24-0012", "G1ABC2400012", "GBABC24000X2", "GBABC240001", "GB-AB-C24-00012", ""] {
            assert!(isrc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_exist() {
        for ok in ["2026", "2026-03", "2024-02-29", "1999-12-31"] {
            assert_eq!(date(ok).unwrap(), ok);
        }
        for bad in ["26", "2026-13", "2023-02-29", "2026-04-31", "2026-1-5", "2026-03-20-1", "soon"] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }
}
