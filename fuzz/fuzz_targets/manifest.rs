//! The manifest parser on arbitrary text: it either validates or returns a
//! located error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = lathe::manifest::parse(std::path::Path::new("album.yaml"), text) {
            assert!(e.line >= 1 && e.column >= 1);
            assert!(!e.to_string().contains('\n'));
        }
    }
});
