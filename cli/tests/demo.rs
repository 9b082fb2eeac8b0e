//! `sfstream demo` runs to the end and its summary says nothing was lost.

mod common;

use std::time::Duration;

use common::{run, sfstream, text};

/// The number in the summary row that starts with `label`.
fn row(summary: &str, label: &str) -> u64 {
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` row in:\n{summary}"));
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"))
}

#[test]
fn the_demo_loses_nothing() {
    let out = run(sfstream().arg("demo"), Duration::from_secs(120));
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    let summary = stdout
        .split("\nSummary\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary:\n{stdout}"));
    let published = row(summary, "published");
    assert_eq!(
        published,
        4 * 4 * 12,
        "four channels, four phases, 12 events"
    );
    assert_eq!(row(summary, "received"), published);
    assert_eq!(row(summary, "lost"), 0);
    assert_eq!(row(summary, "restarts"), 2);
    assert!(row(summary, "handshakes") >= 4, "{summary}");
    // The story shows the dropped session being survived.
    assert!(stdout.contains("403::Unknown client"), "{stdout}");
    assert!(
        stdout.contains("from replay id"),
        "resumed from the store:\n{stdout}"
    );
}
