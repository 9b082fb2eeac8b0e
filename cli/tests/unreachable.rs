//! A server that cannot be reached: exit 5 with a message naming the server, at startup and when
//! the server goes away while streaming (with --give-up-after).

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Emu, EmuCli, assert_clean_failure, run, sfstream};

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn an_unreachable_login_url_exits_5_after_give_up_after() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let started = Instant::now();
    let out = run(
        sfstream()
            .env("SF_LOGIN_URL", &url)
            .env("SF_CLIENT_ID", "id")
            .env("SF_CLIENT_SECRET", "secret")
            .env("SF_USERNAME", "u@example.com")
            .env("SF_PASSWORD", "pw")
            .args(["listen", "--give-up-after", "1s", "/event/X__e"]),
        Duration::from_secs(20),
    );
    let elapsed = started.elapsed();
    let err = assert_clean_failure(&out, 5);
    assert!(
        err.contains("could not reach") && err.contains(&url),
        "{err}"
    );
    assert!(
        err.contains("reconnecting in"),
        "retries are reported:\n{err}"
    );
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unreachable_instance_with_a_ready_token_exits_5() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = run(
        sfstream()
            .env("SF_ACCESS_TOKEN", "token")
            .env("SF_INSTANCE_URL", &url)
            .args(["listen", "--give-up-after", "500ms", "/event/X__e"]),
        Duration::from_secs(20),
    );
    let err = assert_clean_failure(&out, 5);
    assert!(err.contains(&url), "{err}");
}

#[test]
fn a_server_that_goes_away_while_streaming_exits_5() {
    let emu = Emu::start();
    let mut child = emu
        .listen()
        .args(["--give-up-after", "1s", "/event/Order__e"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until it listens, then take the server away.
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains("listening on") {
        assert!(Instant::now() < deadline, "never listened:\n{seen}");
        let mut line = String::new();
        if err.read_line(&mut line).expect("read") == 0 {
            panic!("stderr ended:\n{seen}");
        }
        seen.push_str(&line);
    }
    drop(emu);
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = common::wait_status(&mut child, Duration::from_secs(20));
    let rest = rest.join().expect("stderr");
    assert_eq!(status.code(), Some(5), "{seen}{rest}");
    assert!(rest.contains("could not reach"), "{rest}");
}
