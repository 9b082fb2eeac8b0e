//! The transcript reader: arbitrary text parsed as a transcript and played. A transcript that does
//! not parse, or does not play through, is an error value; nothing may panic or hang.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use sfstream_core::transcript::Transcript;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Transcript::from_json(text) {
        match t.play(Instant::now()) {
            Ok(outcome) => {
                let _ = format!("{:?}", outcome.events.len());
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
