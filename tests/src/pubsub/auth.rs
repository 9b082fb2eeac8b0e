//! Re-authentication: when the server refuses the token (`UNAUTHENTICATED`: revoked, or expired
//! since the last call), the client fetches a new one from the token endpoint and opens its
//! streams again from where they stopped: nothing lost.

use std::time::Duration;

use sfstream_driver::{Credentials, ErrorKind, Secret};
use sfstream_emulator_pubsub::{Fault, FaultTarget};

use super::{ORDERS, PubSubEmu, PubSubFlavor, PubSubSetup, assert_nothing_more, ids, receive_n};

/// Two refusals in one session: every token revoked at the OAuth side, then a token the Pub/Sub
/// side calls expired. Each time the stream ends first (`UNAVAILABLE`), so that the client must
/// open it again with the token it has.
pub fn pubsub_reauth_on_unauthenticated(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start();
    let published = emu.publish(ORDERS, 120);
    let client = flavor.client(PubSubSetup::new(&emu).max_pending(20));
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let mut received = ids(&receive_n(&*client, 30));
    assert_eq!(client.stats().token_requests, 1, "{}", flavor.name());

    // Revoked: opening the stream again is refused until the client has a new token.
    assert!(emu.oauth.control.revoke_tokens() >= 1);
    emu.control
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::Unavailable);
    received.extend(ids(&receive_n(&*client, 40)));
    let after_revoke = client.stats();
    assert!(
        after_revoke.reauthentications >= 1 && after_revoke.token_requests >= 2,
        "{}: a new token after the revocation: {after_revoke:?}",
        flavor.name()
    );

    // Expired: the next `Subscribe` is refused once, whatever its token.
    emu.control
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::Unavailable);
    emu.control
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::TokenExpired);
    received.extend(ids(&receive_n(&*client, 50)));

    assert_eq!(
        received,
        published,
        "{}: every event once, in order, across both renewals",
        flavor.name()
    );
    assert_nothing_more(&*client);
    let stats = client.stats();
    assert!(
        stats.reauthentications > after_revoke.reauthentications
            && stats.token_requests > after_revoke.token_requests,
        "{}: a new token after the expiry: {stats:?}",
        flavor.name()
    );
    assert!(
        stats.streams_opened >= 3,
        "{}: new streams: {stats:?}",
        flavor.name()
    );
    assert_eq!(emu.faults_fired("token_expired"), 1, "{}", flavor.name());
    client.close().unwrap();
}

/// A refused login ends the session before it starts: `open` is that authentication error, and
/// every later call says the client closed because of it (never "closed by the application").
pub fn pubsub_refused_login_closes_by_failure(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start();
    let mut setup = PubSubSetup::new(&emu);
    if let Credentials::Password { password, .. } = &mut setup.config.credentials {
        *password = Secret::new("not-the-password");
    }
    let client = flavor.client(setup);
    client.subscribe(ORDERS).unwrap();
    let refused = client.open().unwrap_err();
    assert_eq!(
        refused.kind(),
        ErrorKind::Authentication,
        "{}: {refused}",
        flavor.name()
    );
    assert!(refused.is_fatal(), "{}: {refused}", flavor.name());
    assert!(
        !refused.to_string().contains("not-the-password"),
        "{refused}"
    );
    let after = client
        .receive_timeout(Duration::from_secs(5))
        .expect("an answer at once")
        .unwrap_err();
    assert_eq!(
        after.kind(),
        ErrorKind::ClosedByFailure,
        "{}: {after}",
        flavor.name()
    );
    let cause = after.closed_cause().expect("the failure that closed it");
    assert_eq!(cause.kind(), ErrorKind::Authentication, "{cause}");
    let subscribe = client.subscribe("/event/Other__e").unwrap_err();
    assert_eq!(subscribe.kind(), ErrorKind::ClosedByFailure, "{subscribe}");
}
