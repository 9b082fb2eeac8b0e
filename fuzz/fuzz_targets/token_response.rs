//! Token-response parsing: an arbitrary body with a status chosen by the first two bytes.
//! Nothing may panic; a parsed token's derived values must be computable.
#![no_main]

use http::StatusCode;
use libfuzzer_sys::fuzz_target;
use sfstream_core::oauth::parse_token_response;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let code = 100 + u16::from_be_bytes([data[0], data[1]]) % 500;
    let Ok(status) = StatusCode::from_u16(code) else {
        return;
    };
    match parse_token_response(status, &data[2..]) {
        Ok(token) => {
            let _ = token.org_id();
            let _ = token.user_id();
            let header = token.authorization_header();
            assert!(header.is_sensitive());
            let _ = format!("{token:?}");
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.hint();
            let _ = e.is_transient();
            let _ = format!("{e:?}");
        }
    }
});
