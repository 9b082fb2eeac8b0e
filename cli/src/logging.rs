//! Status lines on stderr: the session events `listen` reads from its client
//! (`session_status.rs`: authentication, handshakes, subscriptions, retries), the driver's own
//! tracing events otherwise (`bridge`), and the CLI's own, as short human lines or as JSON
//! objects.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::args::{LogArgs, LogFormat};
use crate::diagnosis;
use crate::exit::Failure;
use crate::session_status;

/// Set while a command prints its client's session events itself: the driver's log lines of
/// the same events are not printed then.
static SESSION_EVENTS_PRINTED: AtomicBool = AtomicBool::new(false);

/// From now on the session events come from the client's stream (`session_status.rs`), not
/// from the driver's log lines.
pub(crate) fn session_events_printed() {
    SESSION_EVENTS_PRINTED.store(true, Ordering::Relaxed);
}

/// The modules whose log lines are the driver's record of the session events (the Streaming
/// API's and the Pub/Sub API's).
const DRIVER_EVENTS: [&str; 2] = ["sfstream_driver::shared", "sfstream_driver::pubsub::shared"];

/// Installs the stderr logger. `RUST_LOG`, when set, decides the levels; otherwise sfstream's
/// crates log at info (moved by `-v` / `-q`) and everything else at warn.
pub(crate) fn init(args: &LogArgs) -> Result<(), Failure> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec).map_err(|e| {
            Failure::config(format!("RUST_LOG={spec:?} is not a valid filter: {e}"))
        })?,
        _ => {
            let level = match i16::from(args.verbose) - i16::from(args.quiet) {
                i16::MIN..=-3 => "off",
                -2 => "error",
                -1 => "warn",
                0 => "info",
                1 => "debug",
                _ => "trace",
            };
            let others = if args.quiet > 0 { level } else { "warn" };
            EnvFilter::new(format!("{others},sfstream={level}"))
        }
    };
    tracing_subscriber::registry()
        .with(
            StatusLayer {
                format: args.log_format,
            }
            .with_filter(filter),
        )
        .try_init()
        .map_err(|e| Failure::other(format!("cannot install the logger: {e}")))
}

/// Prints a failure on stderr in the chosen format, whatever the log filter says.
pub(crate) fn report_failure(format: LogFormat, failure: &Failure) {
    let line = match format {
        LogFormat::Human => format!("sfstream: error: {}", failure.message),
        LogFormat::Json => ordered_json(&[
            ("time", Value::String(now_rfc3339())),
            ("level", Value::String("error".into())),
            ("target", Value::String("sfstream".into())),
            ("message", Value::String(failure.message.clone())),
            ("exit_code", Value::from(failure.exit as u8)),
        ]),
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

struct StatusLayer {
    format: LogFormat,
}

impl<S: Subscriber> Layer<S> for StatusLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if DRIVER_EVENTS.contains(&meta.target()) && SESSION_EVENTS_PRINTED.load(Ordering::Relaxed)
        {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = match self.format {
            LogFormat::Human => match human_line(meta.target(), *meta.level(), &fields) {
                Some(l) => l,
                None => return,
            },
            LogFormat::Json => json_line(meta.target(), *meta.level(), fields),
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// An event's message and fields, in order.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(&'static str, Value)>,
}

impl Fields {
    fn text(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name(), Value::String(text)));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .push((field.name(), Value::String(value.to_owned())));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name(), Value::from(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name(), Value::from(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name(), Value::from(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name(), Value::from(value)));
    }
}

fn json_line(target: &str, level: Level, f: Fields) -> String {
    let hint = f
        .text("transport")
        .and_then(|t| diagnosis::recognise(&t))
        .map(|m| ("hint", Value::String(m.explanation().to_owned())));
    let mut pairs = vec![
        ("time", Value::String(now_rfc3339())),
        ("level", Value::String(level.as_str().to_ascii_lowercase())),
        ("target", Value::String(target.to_owned())),
        ("message", Value::String(f.message)),
    ];
    pairs.extend(f.fields);
    pairs.extend(hint);
    ordered_json(&pairs)
}

/// A JSON object with its keys in the given order (a later duplicate key is dropped).
fn ordered_json(pairs: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in pairs {
        if seen.contains(k) {
            continue;
        }
        seen.push(k);
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&Value::String((*k).to_owned()).to_string());
        out.push(':');
        out.push_str(&v.to_string());
    }
    out.push('}');
    out
}

/// `New` → `-1 (new events)`, `All` → `-2 (all retained events)`, `Id(5)` → `replay id 5`.
fn replay_words(debug: &str) -> String {
    match debug {
        "New" => "-1 (new events)".to_owned(),
        "All" => "-2 (all retained events)".to_owned(),
        other => match other.strip_prefix("Id(").and_then(|s| s.strip_suffix(')')) {
            Some(id) => format!("replay id {id}"),
            None => other.to_owned(),
        },
    }
}

/// The human line of an event; `None` to print nothing.
fn human_line(target: &str, level: Level, f: &Fields) -> Option<String> {
    let get = |name: &str| f.text(name).unwrap_or_default();
    let text = if target.starts_with("sfstream_driver") || target == session_status::TARGET {
        match f.message.as_str() {
            "authenticated" => {
                let org = get("org_id");
                if org.is_empty() {
                    format!("authenticated: {}", get("instance_url"))
                } else {
                    format!("authenticated: {} (org {org})", get("instance_url"))
                }
            }
            "handshake done" if get("reconnect") == "true" => format!(
                "handshake done (client id {}): a new session, every channel resumes",
                get("client_id")
            ),
            "handshake done" => format!("handshake done (client id {})", get("client_id")),
            "session lost" => format!("session lost: {}", get("reason")),
            "re-fetching after a broken long poll" => format!(
                "a long poll to {} broke after the server may have sent events ({}); fetching \
                 them again after {}",
                get("channel"),
                get("error"),
                replay_words(&get("from"))
            ),
            "re-fetching events set aside for memory" => format!(
                "fetching {} events of {} set aside for memory again, after {}",
                get("dropped"),
                get("channel"),
                replay_words(&get("from"))
            ),
            "connection lost" => {
                let ms: f64 = get("for_ms").parse().unwrap_or(0.0);
                format!(
                    "lost connection with the server for {:.1}s; still retrying",
                    ms / 1000.0
                )
            }
            "connection restored" => "connection restored".to_owned(),
            "subscribed" => format!(
                "subscribed {} from {}",
                get("channel"),
                replay_words(&get("replay_from"))
            ),
            "subscription failed" => {
                format!(
                    "subscription to {} failed: {}",
                    get("channel"),
                    get("error")
                )
            }
            "unsubscribed" => format!("unsubscribed {}", get("channel")),
            "retrying" => {
                let ms: f64 = get("after_ms").parse().unwrap_or(0.0);
                format!(
                    "reconnecting in {:.1}s: {}",
                    ms / 1000.0,
                    explained(&get("reason"), &get("transport"))
                )
            }
            "stream problem" => get("error"),
            "stored replay id rejected; using the fallback" => format!(
                "the stored replay id of {} was rejected ({}); replaying from {} instead{}",
                get("channel"),
                get("error"),
                replay_words(&get("using")),
                if get("gap") == "true" {
                    ": events published before now that were not received are skipped"
                } else {
                    ""
                }
            ),
            "session ended" => {
                if get("reason") == "Closed" {
                    "disconnected".to_owned()
                } else {
                    // The reason is reported as the run's error.
                    return None;
                }
            }
            "saving replay ids failed" => format!("saving replay ids failed: {}", get("error")),
            _ => generic(f),
        }
    } else {
        generic(f)
    };
    let prefix = match level {
        Level::ERROR => "error: ",
        Level::WARN => "warning: ",
        Level::INFO => "",
        Level::DEBUG => "debug: ",
        Level::TRACE => "trace: ",
    };
    Some(format!("sfstream: {prefix}{text}"))
}

/// A failure's text, led by what it means when its transport kind is a recognised
/// configuration mistake.
fn explained(reason: &str, transport: &str) -> String {
    match diagnosis::recognise(transport) {
        Some(mistake) => format!("{} (the error: {reason})", mistake.explanation()),
        None => reason.to_owned(),
    }
}

/// `message key=value …`.
fn generic(f: &Fields) -> String {
    let mut s = f.message.clone();
    for (k, v) in &f.fields {
        let v = match v {
            Value::String(t) if t.contains(' ') || t.is_empty() => format!("{t:?}"),
            Value::String(t) => t.clone(),
            other => other.to_string(),
        };
        let _ = write!(s, " {k}={v}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(message: &str, kv: &[(&'static str, &str)]) -> Fields {
        Fields {
            message: message.to_owned(),
            fields: kv
                .iter()
                .map(|(k, v)| (*k, Value::String((*v).to_owned())))
                .collect(),
        }
    }

    #[test]
    fn driver_events_read_well() {
        let f = fields(
            "subscribed",
            &[("channel", "/event/X__e"), ("replay_from", "New")],
        );
        assert_eq!(
            human_line("sfstream_driver::driver", Level::INFO, &f).as_deref(),
            Some("sfstream: subscribed /event/X__e from -1 (new events)")
        );
        let f = Fields {
            message: "retrying".into(),
            fields: vec![
                ("after_ms", Value::from(1200u64)),
                ("reason", Value::String("boom".into())),
            ],
        };
        assert_eq!(
            human_line("sfstream_driver::driver", Level::WARN, &f).as_deref(),
            Some("sfstream: warning: reconnecting in 1.2s: boom")
        );
        // The explanation comes from the transport kind, not from the text.
        let f = Fields {
            message: "retrying".into(),
            fields: vec![
                ("after_ms", Value::from(1200u64)),
                ("reason", Value::String("token request failed: odd".into())),
                ("transport", Value::String("not_tls".into())),
            ],
        };
        let line = human_line("sfstream_driver::driver", Level::WARN, &f).unwrap_or_default();
        assert!(line.contains("does not speak TLS"), "{line}");
        let v: Value = serde_json::from_str(&json_line("t", Level::WARN, f)).expect("json");
        assert!(
            v["hint"]
                .as_str()
                .unwrap_or_default()
                .contains("does not speak TLS"),
            "{v}"
        );
        let f = fields("listening", &[("channels", "a b")]);
        assert_eq!(
            human_line("sfstream::listen", Level::INFO, &f).as_deref(),
            Some("sfstream: listening channels=\"a b\"")
        );
    }

    #[test]
    fn session_events_read_well() {
        let f = fields(
            "handshake done",
            &[("client_id", "abc"), ("reconnect", "true")],
        );
        assert_eq!(
            human_line(session_status::TARGET, Level::INFO, &f).as_deref(),
            Some("sfstream: handshake done (client id abc): a new session, every channel resumes")
        );
        let f = fields(
            "stored replay id rejected; using the fallback",
            &[
                ("channel", "/event/X__e"),
                ("error", "400::bad"),
                ("using", "New"),
                ("gap", "true"),
            ],
        );
        let line = human_line(session_status::TARGET, Level::WARN, &f).unwrap_or_default();
        assert!(
            line.starts_with(
                "sfstream: warning: the stored replay id of /event/X__e was rejected (400::bad); \
                 replaying from -1 (new events) instead: "
            ) && line.contains("skipped"),
            "{line}"
        );
        let f = fields("connection lost", &[("for_ms", "2500")]);
        assert_eq!(
            human_line(session_status::TARGET, Level::WARN, &f).as_deref(),
            Some("sfstream: warning: lost connection with the server for 2.5s; still retrying")
        );
    }

    #[test]
    fn json_lines_carry_fields() {
        let f = fields("connected", &[("x", "1")]);
        let v: Value = serde_json::from_str(&json_line("t", Level::INFO, f)).expect("json");
        assert_eq!(v["message"], "connected");
        assert_eq!(v["level"], "info");
        assert_eq!(v["x"], "1");
    }
}
