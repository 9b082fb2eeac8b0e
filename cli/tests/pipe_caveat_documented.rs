//! The pipe caveat is documented where users look: events left unread in a pipe when its reader
//! exits (`| head -1`) were written, and their ids are stored.

mod common;

use std::time::Duration;

use common::{run, sfstream, text};

#[test]
fn listen_help_states_the_pipe_caveat() {
    let out = run(
        sfstream().args(["listen", "--help"]),
        Duration::from_secs(10),
    );
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(help.contains("| head -1"), "{help}");
    assert!(
        help.contains("lines still unread in a pipe when its reader exits"),
        "{help}"
    );
    assert!(help.contains("their ids are stored"), "{help}");
}

#[test]
fn the_readme_states_the_pipe_caveat() {
    for readme in ["README.md", "../README.md"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(readme);
        let text = std::fs::read_to_string(&path).expect("the README");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains("| head -1") && text.contains("unread in a pipe"),
            "{}",
            path.display()
        );
    }
}
