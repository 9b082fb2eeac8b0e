//! Keeps an HTTP client's dumps of the raw exchange out of the application's logs.
//!
//! Some HTTP clients log every byte they send and receive at TRACE (ureq-proto as hex rows,
//! isahc through curl's verbose output, async-h1 as a `Debug` of the request): the
//! `Authorization` header, the token request's form, the token response. An application that
//! turns TRACE on for everything (an ordinary `tracing` subscriber, which also receives the `log`
//! records of such clients) would write them to its logs. A runtime adapter runs each exchange
//! under [`WireLogFilter::dispatch`], which passes every event on to the application's
//! subscriber except those of the HTTP client crates it names.
//!
//! Only `tracing` subscribers are covered: an application that reads the `log` records of these
//! crates with a `log` logger of its own (env_logger, say) must filter their targets itself.

use std::sync::OnceLock;

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::{Interest, NoSubscriber, Subscriber};
use tracing::{Dispatch, Event, Metadata, dispatcher, level_filters::LevelFilter};

/// Drops the events and spans of some crates (by target), passing everything else on.
#[derive(Debug)]
pub struct WireLogFilter {
    /// Crate names: a target is dropped if it is one of these or starts with one and `::`.
    crates: &'static [&'static str],
    dispatch: OnceLock<Dispatch>,
}

impl WireLogFilter {
    /// A filter dropping what the `crates` (by target, such as `ureq_proto`) log.
    #[must_use]
    pub const fn new(crates: &'static [&'static str]) -> Self {
        Self {
            crates,
            dispatch: OnceLock::new(),
        }
    }

    /// The dispatcher to run an HTTP exchange under (`tracing::dispatcher::with_default`, or
    /// `WithSubscriber::with_subscriber` for a future): the current one, minus the named crates.
    ///
    /// Exchanges run on the runtime's own threads, whose current dispatcher is the global
    /// default; that can be set only once, so the filter over it is made once, the first time an
    /// exchange finds a subscriber, and kept. Until then there is nothing to filter.
    pub fn dispatch(&'static self) -> Dispatch {
        if let Some(d) = self.dispatch.get() {
            return d.clone();
        }
        let current = dispatcher::get_default(Dispatch::clone);
        if current.is::<NoSubscriber>() || current.is::<Filtered>() {
            return current;
        }
        self.dispatch
            .get_or_init(|| {
                Dispatch::new(Filtered {
                    crates: self.crates,
                    inner: current,
                    max_level: LevelFilter::current(),
                })
            })
            .clone()
    }
}

/// The subscriber behind [`WireLogFilter::dispatch`].
struct Filtered {
    crates: &'static [&'static str],
    inner: Dispatch,
    /// The most verbose level enabled when the filter was made: the inner subscriber's, as it was
    /// the only one (`Dispatch` does not tell its subscriber's hint). Should the application
    /// raise its level later, the highest hint of all subscribers still applies.
    max_level: LevelFilter,
}

impl Filtered {
    fn drops(&self, metadata: &Metadata<'_>) -> bool {
        let target = metadata.target();
        self.crates.iter().any(|c| {
            target
                .strip_prefix(c)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
    }
}

impl Subscriber for Filtered {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.drops(metadata) {
            Interest::never()
        } else {
            self.inner.register_callsite(metadata)
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !self.drops(metadata) && self.inner.enabled(metadata)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows);
    }

    fn event_enabled(&self, event: &Event<'_>) -> bool {
        !self.drops(event.metadata())
    }

    fn event(&self, event: &Event<'_>) {
        self.inner.event(event);
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Records the targets of the events it sees.
    #[derive(Clone, Default)]
    struct Targets(Arc<Mutex<Vec<String>>>);

    impl Subscriber for Targets {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut seen = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            seen.push(event.metadata().target().to_owned());
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn drops_the_named_crates_and_passes_the_rest() {
        static FILTER: WireLogFilter = WireLogFilter::new(&["wire_crate"]);
        let seen = Targets::default();
        // A thread of its own: its current dispatcher stands in for the global default.
        let recorder = Dispatch::new(seen.clone());
        std::thread::spawn(move || {
            dispatcher::with_default(&recorder, || {
                let filtered = FILTER.dispatch();
                dispatcher::with_default(&filtered, || {
                    tracing::trace!(target: "wire_crate::util", "raw bytes");
                    tracing::trace!(target: "wire_crate", "raw bytes");
                    tracing::trace!(target: "wire_crate_other", "kept");
                    tracing::info!(target: "app", "kept");
                });
            });
        })
        .join()
        .expect("the thread");
        let seen = seen
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        assert_eq!(*seen, vec!["wire_crate_other".to_owned(), "app".to_owned()]);
    }
}
