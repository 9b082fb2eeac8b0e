use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sfstream_core::oauth::AuthError;
use sfstream_core::{ErrorKind, TransportError};
use sfstream_store::StoreError;

use super::{CloseTimedOut, Error};

fn refused() -> sfstream_core::Error {
    sfstream_core::Error::Auth(AuthError::Rejected {
        status: 400,
        error: "invalid_grant".into(),
        description: "authentication failure".into(),
    })
}

#[test]
fn the_sessions_closed_error_says_who_closed_it() {
    let by_user = Error::from(sfstream_core::Error::Closed { cause: None });
    assert!(matches!(by_user, Error::Closed));
    assert_eq!(by_user.kind(), ErrorKind::ClosedByUser);
    assert!(by_user.is_closed() && by_user.closed_cause().is_none());

    let by_failure = Error::from(sfstream_core::Error::Closed {
        cause: Some(Box::new(refused())),
    });
    assert_eq!(by_failure.kind(), ErrorKind::ClosedByFailure);
    assert!(by_failure.is_closed());
    let cause = by_failure.closed_cause().expect("the cause");
    assert_eq!(cause.kind(), ErrorKind::Authentication);
    assert!(
        by_failure.to_string().contains("invalid_grant"),
        "{by_failure}"
    );

    let other = Error::from(sfstream_core::Error::InvalidOperation("x".into()));
    assert!(!other.is_closed());
    assert!(matches!(other, Error::Stream(_)));
}

/// Every variant of the client's own errors: kind, fatality, retryability, channel.
#[test]
fn every_client_error_maps_to_a_kind() {
    let timed_out = Error::CloseTimedOut(Arc::new(CloseTimedOut {
        bound: Duration::from_millis(50),
        disconnected: false,
        unsaved: BTreeMap::from([("/topic/A".to_owned(), 7)]),
        pending: 2,
    }));
    let cases = [
        (
            Error::Stream(sfstream_core::Error::AlreadySubscribed {
                channel: "/topic/A".into(),
            }),
            ErrorKind::AlreadySubscribed,
            false,
            false,
            Some("/topic/A"),
        ),
        (
            Error::from(refused()),
            ErrorKind::Authentication,
            true,
            false,
            None,
        ),
        (
            Error::Stream(sfstream_core::Error::Transport {
                request: sfstream_core::RequestKind::Connect,
                error: TransportError::NotTls("x".into()),
            }),
            ErrorKind::Transport,
            false,
            true,
            None,
        ),
        (
            Error::from(StoreError::other("disk full")),
            ErrorKind::Store,
            false,
            false,
            None,
        ),
        (Error::Closed, ErrorKind::ClosedByUser, true, false, None),
        (
            Error::closed(Some(&Error::from(refused()))),
            ErrorKind::ClosedByFailure,
            true,
            false,
            None,
        ),
        (Error::NotOpen, ErrorKind::NotOpen, false, false, None),
        (
            timed_out.clone(),
            ErrorKind::CloseTimedOut,
            true,
            false,
            None,
        ),
    ];
    for (error, kind, fatal, retryable, channel) in cases {
        assert_eq!(error.kind(), kind, "{error:?}");
        assert_eq!(error.is_fatal(), fatal, "is_fatal of {error:?}");
        assert_eq!(error.is_retryable(), retryable, "is_retryable of {error:?}");
        assert_eq!(error.channel(), channel, "channel of {error:?}");
    }
    let text = timed_out.to_string();
    for part in ["50ms", "not acknowledged", "/topic/A 7", "2 received"] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
}

#[test]
fn a_transport_error_exposes_its_kind() {
    let e = Error::Stream(sfstream_core::Error::Transport {
        request: sfstream_core::RequestKind::Token,
        error: TransportError::NotTls("corrupt message".into()),
    });
    assert_eq!(
        e.transport().map(TransportError::kind),
        Some(sfstream_core::TransportErrorKind::NotTls)
    );
    assert!(Error::Closed.transport().is_none());
}
