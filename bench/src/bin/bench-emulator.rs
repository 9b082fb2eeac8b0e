//! The emulator as the benchmarks run it: a separate process, so that the client process's CPU
//! time and RSS are its own. Prints one JSON line with the base URL, then serves until killed
//! (or until its standard input closes, so it never outlives the script that started it).
//!
//! ```sh
//! target/release/bench-emulator [--max-batch 1000] [--max-retained-events 1100000] \
//!     [--long-poll-timeout-ms 110000] [--port 0]
//! ```
//!
//! Unlike the emulator's own binary this one can raise `max_retained_events`, which the
//! slow-consumer run needs (1 million retained events to re-fetch by replay).
#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "a command-line tool prints its address"
)]

use std::io::Read;
use std::time::Duration;

use sfstream_emulator::Emulator;

fn main() -> Result<(), String> {
    let mut builder = Emulator::builder();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value: u64 = args
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or(format!("{flag} needs a number"))?;
        let size = usize::try_from(value).map_err(|_| format!("{flag}: too large"))?;
        builder = match flag.as_str() {
            "--max-batch" => builder.max_batch(size),
            "--max-retained-events" => builder.max_retained_events(size),
            "--long-poll-timeout-ms" => builder.long_poll_timeout(Duration::from_millis(value)),
            "--port" => builder.port(u16::try_from(value).map_err(|_| "--port: out of range")?),
            other => return Err(format!("unknown flag {other}")),
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let emulator = runtime
        .block_on(builder.start())
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::json!({ "base_url": emulator.base_url(), "pid": std::process::id() })
    );
    // Serve until standard input closes (the parent exited or closed the pipe).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    runtime.block_on(emulator.shutdown());
    Ok(())
}
