//! Names on the NATS side: subjects, message ids, header names, key-value keys.
//!
//! An event of org `00D…` on channel `/event/Order__e` goes to subject
//! `<prefix>.00D….event.Order__e` with message id `00D…:/event/Order__e:<replay id>`: the same
//! event always gets the same id, whichever replica sends it and however often.

/// The message id header JetStream deduplicates on.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// The channel of the event (`/event/Order__e`).
pub const CHANNEL: &str = "Sfstream-Channel";
/// The org id.
pub const ORG_ID: &str = "Sfstream-Org-Id";
/// The replay id of the event; also how a channel's position is read back.
pub const REPLAY_ID: &str = "Sfstream-Replay-Id";
/// `pushtopic`, `platform_event`, `change_event`, `generic`.
pub const EVENT_KIND: &str = "Sfstream-Event-Kind";
/// The event's creation time (RFC 3339), when it has one.
pub const CREATED_DATE: &str = "Sfstream-Created-Date";

/// The subject tokens of a channel: `/event/Order__e` → `event.Order__e`. `None` for a name
/// that cannot be a subject (empty segments, wildcards, filters, spaces, dots).
#[must_use]
pub fn channel_tokens(channel: &str) -> Option<String> {
    let rest = channel.strip_prefix('/')?;
    let mut tokens = Vec::new();
    for segment in rest.split('/') {
        if !is_token(segment) {
            return None;
        }
        tokens.push(segment);
    }
    (tokens.len() >= 2).then(|| tokens.join("."))
}

/// The subject of a channel's events.
#[must_use]
pub fn event_subject(prefix: &str, org_id: &str, channel: &str) -> Option<String> {
    Some(format!("{prefix}.{org_id}.{}", channel_tokens(channel)?))
}

/// The message id of one event.
#[must_use]
pub fn msg_id(org_id: &str, channel: &str, replay_id: i64) -> String {
    format!("{org_id}:{channel}:{replay_id}")
}

/// One subject token: letters, digits, `_` and `-`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A subject of plain tokens (no wildcards).
#[must_use]
pub fn is_subject(s: &str) -> bool {
    s.split('.').all(is_token)
}

/// A key the key-value store takes as it is (no dots, so a key is one subject token).
#[must_use]
pub fn is_kv_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'='))
}

/// The key of a channel's position in the positions bucket: `<org id>_<channel tokens with
/// '_' for '.'>`, unambiguous because org ids have no `_` and the key keeps its `.`-free shape.
#[must_use]
pub fn position_key(org_id: &str, channel: &str) -> Option<String> {
    let tokens = channel_tokens(channel)?;
    // `=` separates tokens: channel segments never hold one.
    Some(format!("{org_id}={}", tokens.replace('.', "=")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_become_tokens() {
        assert_eq!(
            channel_tokens("/event/Order__e").as_deref(),
            Some("event.Order__e")
        );
        assert_eq!(
            channel_tokens("/data/AccountChangeEvent").as_deref(),
            Some("data.AccountChangeEvent")
        );
        assert_eq!(
            channel_tokens("/u/notifications/x-1").as_deref(),
            Some("u.notifications.x-1")
        );
        for bad in [
            "",
            "/",
            "event/X",
            "/event",
            "/event/",
            "/event/a.b",
            "/event/*",
            "/topic/X?a=1",
            "/event/a b",
        ] {
            assert_eq!(channel_tokens(bad), None, "{bad}");
        }
        assert_eq!(
            event_subject("sf", "00D000000000001", "/event/Order__e").as_deref(),
            Some("sf.00D000000000001.event.Order__e")
        );
        assert_eq!(msg_id("00D1", "/event/A__e", 7), "00D1:/event/A__e:7");
        assert_eq!(
            position_key("00D1", "/event/A__e").as_deref(),
            Some("00D1=event=A__e")
        );
    }
}
