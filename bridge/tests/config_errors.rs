//! Configuration mistakes are refused before anything starts, each naming the key and the fix;
//! secrets written inline are refused, and never echoed.

use std::path::Path;

fn error(text: &str) -> sfstream_bridge::ConfigError {
    sfstream_bridge::config::parse(text, "bridge.toml", Path::new("/nonexistent"))
        .expect_err("the configuration must be refused")
}

const NATS: &str = "[nats]\nservers = [\"nats://127.0.0.1:4222\"]\n";

fn connection(extra: &str) -> String {
    format!(
        "{NATS}\n[[connection]]\nname = \"acme\"\norg_id = \"00D000000000001\"\nauth = \"access_token\"\n\
         login_url = \"https://acme.my.salesforce.com\"\naccess_token_file = \"/etc/hostname\"\n{extra}\n\
         [[connection.channel]]\nname = \"/event/Order__e\"\n"
    )
}

#[test]
fn inline_secrets_are_refused_without_echoing_them() {
    let text = connection("password = \"hunter2-do-not-print\"");
    let e = error(&text);
    assert_eq!(e.key, "connection[0].password");
    assert!(
        e.message.contains("password_env") && e.message.contains("password_file"),
        "{e}"
    );
    assert!(!e.to_string().contains("hunter2"), "{e}");
    let e = error(&format!("{NATS}token = \"s3cret\"\n"));
    assert_eq!(e.key, "nats.token");
    assert!(!e.to_string().contains("s3cret"));
}

#[test]
fn missing_and_wrong_values_name_the_key_and_the_fix() {
    let e = error("[stream]\nreplicas = 3\n");
    assert_eq!(e.key, "nats");
    assert!(e.message.contains("servers"), "{e}");

    let e = error(NATS);
    assert_eq!(e.key, "connection");

    let e = error(&connection("").replace("00D000000000001", "001000000000001"));
    assert_eq!(e.key, "connection[0].org_id");
    assert!(e.message.contains("00D"), "{e}");

    let e = error(&connection("").replace("/event/Order__e", "/event/Order.e"));
    assert_eq!(e.key, "connection[0].channel[0].name");

    for bad in ["0", "10001"] {
        let e =
            error(&connection("").replace("[nats]\n", &format!("[nats]\nmax_in_flight = {bad}\n")));
        assert_eq!(e.key, "nats.max_in_flight");
        assert!(e.message.contains("from 1"), "{e}");
    }

    let e = error(&connection("").replace("auth = \"access_token\"", "auth = \"magic\""));
    assert_eq!(e.key, "connection[0].auth");
    assert!(e.message.contains("refresh_token"), "{e}");

    let e = error(&format!(
        "{}\n[stream]\nretention = \"workqueue\"\n",
        connection("")
    ));
    assert_eq!(e.key, "stream.retention");
    assert!(e.message.contains("limits"), "{e}");

    let e = error(&format!(
        "{}\n[stream]\nduplicate_window = \"10s\"\n",
        connection("")
    ));
    assert_eq!(e.key, "stream.duplicate_window");
    assert!(e.message.contains("at least"), "{e}");

    let e = error(&format!(
        "{}\n[bridge]\nlease_ttl = \"soon\"\n",
        connection("")
    ));
    assert_eq!(e.key, "bridge.lease_ttl");

    let e = error(&format!("{}\n[stream]\nreplicas = 7\n", connection("")));
    assert_eq!(e.key, "stream.replicas");
}

#[test]
fn secrets_that_cannot_be_read_are_named() {
    let e = error(&connection("").replace("/etc/hostname", "/nonexistent/token"));
    assert_eq!(e.key, "connection[0].access_token_file");
    assert!(e.message.contains("/nonexistent/token"), "{e}");
    let e = error(&connection("").replace(
        "access_token_file = \"/etc/hostname\"",
        "access_token_env = \"SFSTREAM_BRIDGE_TEST_UNSET_VARIABLE\"",
    ));
    assert_eq!(e.key, "connection[0].access_token_env");
    assert!(
        e.message.contains("SFSTREAM_BRIDGE_TEST_UNSET_VARIABLE") && e.message.contains("not set"),
        "{e}"
    );
}

#[test]
fn duplicates_and_unknown_keys_are_refused() {
    let twice = format!(
        "{}\n[[connection]]\nname = \"acme\"\norg_id = \"00D000000000002\"\nauth = \"access_token\"\n\
         login_url = \"https://b.my.salesforce.com\"\naccess_token_file = \"/etc/hostname\"\n\
         [[connection.channel]]\nname = \"/event/A__e\"\n",
        connection("")
    );
    let e = error(&twice);
    assert_eq!(e.key, "connection[1].name");
    let e = error(&format!("{NATS}serverz = 1\n"));
    assert!(e.message.contains("serverz"), "{e}");
}

/// No event lost comes first: without `max_in_flight` every publish is fenced, and pipelining
/// is what a configuration asks for.
#[test]
fn every_publish_is_fenced_unless_pipelining_is_asked_for() {
    let parse = |text: &str| {
        sfstream_bridge::config::parse(text, "bridge.toml", Path::new("/")).expect("valid")
    };
    assert_eq!(parse(&connection("")).nats.max_in_flight, 1);
    let asked = connection("").replace("[nats]\n", "[nats]\nmax_in_flight = 128\n");
    assert_eq!(parse(&asked).nats.max_in_flight, 128);
}

#[test]
fn a_good_configuration_reads_back() {
    let text = format!(
        "[bridge]\nlease_ttl = \"10s\"\n{}\n[stream]\nreplicas = 3\nmax_age = \"7d\"\n",
        connection("")
    );
    let config =
        sfstream_bridge::config::parse(&text, "bridge.toml", Path::new("/")).expect("valid");
    assert_eq!(config.stream.replicas, 3);
    assert_eq!(config.stream.subjects(), "salesforce.>");
    assert_eq!(config.replica.lease_ttl, std::time::Duration::from_secs(10));
    assert_eq!(config.connections[0].channels[0].name, "/event/Order__e");
    // Secrets show as *** in Debug.
    let debug = format!("{config:?}");
    let token = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    assert!(
        token.trim().is_empty() || !debug.contains(token.trim()) || debug.contains("***"),
        "{debug}"
    );
}
