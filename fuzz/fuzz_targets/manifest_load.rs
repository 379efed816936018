//! Loading any bytes as porter.yaml returns a manifest or diagnostics,
//! never a panic, and every diagnostic renders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(errors) = porter::manifest::load_str("porter.yaml", text.to_string()) {
        assert!(!errors.diagnostics.is_empty());
        let _ = errors.to_string();
    }
});
