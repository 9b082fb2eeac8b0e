//! A login URL whose token endpoint answers 404 or an HTML page is a configuration mistake
//! (exit 2, naming the login URL setting), not an authentication refusal (exit 3).

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::Duration;

use common::{Emu, EmuCli, assert_clean_failure, run};

const LIMIT: Duration = Duration::from_secs(20);

fn is_a_config_mistake(err: &str) {
    assert!(
        err.contains("does not lead to a Salesforce token endpoint"),
        "{err}"
    );
    assert!(err.contains("SF_LOGIN_URL or --login-url"), "{err}");
    assert!(!err.contains("authentication refused"), "{err}");
}

#[test]
fn a_404_is_exit_2() {
    let emu = Emu::start();
    let out = run(
        emu.listen()
            .env("SF_LOGIN_URL", format!("{}/not-here", emu.base_url))
            .arg("/event/Order__e"),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    is_a_config_mistake(&err);
    assert!(err.contains("HTTP 404"), "{err}");
}

#[test]
fn an_html_page_is_exit_2() {
    // A web server that answers every request with a page, as a wrong URL often does.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
            let _ = stream.read(&mut [0u8; 8192]);
            let page = "<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    let emu = Emu::start();
    let out = run(
        emu.listen()
            .env("SF_LOGIN_URL", &url)
            .arg("/event/Order__e"),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    is_a_config_mistake(&err);
}
