//! Decode and analyze arbitrary bytes as a file: an error that names the
//! file, or finite measurements; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.wav");
    std::fs::write(&path, data).unwrap();
    match lathe::audio::decode::decode(&path) {
        Err(e) => assert!(e.to_string().contains("input.wav")),
        Ok((audio, _)) => {
            if audio.frames() > 0 && audio.frames() < 2_000_000 {
                let (m, _) = lathe::dsp::loudness::measure(&audio.channels, audio.sample_rate).unwrap();
                assert!(!m.true_peak_dbtp.is_nan());
                let s = lathe::dsp::scan::scan(&audio.channels, 3);
                assert!(s.dc.is_finite());
            }
        }
    }
});
