//! Fault injection: queued faults taken by the next calls or stream responses they apply to, and
//! a seeded chaos mode.

use std::collections::VecDeque;

use crate::util::{self, Rng};

/// A failure to inject. Each fault applies at one moment: the start of a call, the next response
/// of an open `Subscribe` / `ManagedSubscribe` stream, or the start of a `CUSTOM` replay.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// An infrastructure reset: `UNAVAILABLE` without `error-code`. On a subscription stream it
    /// replaces the next response (events stay undelivered); on other calls it fails the call.
    Unavailable,
    /// The next response with events of a subscription stream counts its events delivered
    /// (credits, statistics, the stream's position) but never reaches the client, and the stream
    /// ends with `UNAVAILABLE`. The client must resume by replay id to get them.
    CutAfterDelivery,
    /// From its next response on, a subscription stream sends nothing at all (no events, no
    /// keepalive) and never closes, like a half-open connection. Only the client can end it.
    Stall,
    /// The next response of a subscription stream is replaced by `RESOURCE_EXHAUSTED` with
    /// `…subscription.limit.exceeded` and Salesforce's message.
    DeliveryLimitExceeded,
    /// The next call fails `UNAUTHENTICATED` with `…service.auth.error`, as if its token had
    /// expired since the previous call.
    TokenExpired,
    /// The next `Subscribe` with `CUSTOM` fails `…replayid.corrupted` even if its id is valid.
    CorruptedReplayId,
    /// The next `Subscribe` with `CUSTOM` starts this many retained events before the given id,
    /// so the client sees events again (at-least-once delivery across reconnects).
    DuplicateDelivery {
        /// How many events come again.
        events: u32,
    },
    /// The next call fails with this gRPC status code (2–16), Salesforce `error-code` suffix
    /// (after `sfdc.platform.eventbus.grpc.`; none for an infrastructure error) and message.
    Status {
        /// The gRPC status code.
        code: i32,
        /// The `error-code` suffix, e.g. `service.unavailable`.
        error_code: Option<String>,
        /// The status message (an `rpcId:` suffix is added when `error_code` is set).
        message: String,
    },
}

impl Fault {
    /// The name used in statistics and by the HTTP control API.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::CutAfterDelivery => "cut_after_delivery",
            Self::Stall => "stall",
            Self::DeliveryLimitExceeded => "delivery_limit_exceeded",
            Self::TokenExpired => "token_expired",
            Self::CorruptedReplayId => "corrupted_replay_id",
            Self::DuplicateDelivery { .. } => "duplicate_delivery",
            Self::Status { .. } => "status",
        }
    }
}

/// Which calls a queued fault may hit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultTarget {
    /// Whichever call it applies to comes first (the default).
    #[default]
    Any,
    /// `Subscribe`.
    Subscribe,
    /// `ManagedSubscribe`.
    ManagedSubscribe,
    /// `Publish` and `PublishStream`.
    Publish,
    /// `GetTopic` and `GetSchema`.
    Unary,
}

/// The RPC a moment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Subscribe,
    ManagedSubscribe,
    Publish,
    PublishStream,
    GetTopic,
    GetSchema,
}

impl Method {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Subscribe => "Subscribe",
            Self::ManagedSubscribe => "ManagedSubscribe",
            Self::Publish => "Publish",
            Self::PublishStream => "PublishStream",
            Self::GetTopic => "GetTopic",
            Self::GetSchema => "GetSchema",
        }
    }

    fn subscription(self) -> bool {
        matches!(self, Self::Subscribe | Self::ManagedSubscribe)
    }

    fn hit_by(self, target: FaultTarget) -> bool {
        match target {
            FaultTarget::Any => true,
            FaultTarget::Subscribe => self == Self::Subscribe,
            FaultTarget::ManagedSubscribe => self == Self::ManagedSubscribe,
            FaultTarget::Publish => matches!(self, Self::Publish | Self::PublishStream),
            FaultTarget::Unary => matches!(self, Self::GetTopic | Self::GetSchema),
        }
    }
}

/// When a fault may strike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Moment {
    CallStart,
    /// A subscription stream is about to send a response (with or without events).
    Response {
        events: bool,
    },
    /// A `Subscribe` starts from a `CUSTOM` replay id.
    CustomReplay,
}

fn applies(fault: &Fault, method: Method, moment: Moment) -> bool {
    let stream = method.subscription();
    match fault {
        Fault::Unavailable if stream => matches!(moment, Moment::Response { .. }),
        Fault::Unavailable | Fault::TokenExpired | Fault::Status { .. } => {
            moment == Moment::CallStart
        }
        Fault::CutAfterDelivery => stream && moment == Moment::Response { events: true },
        Fault::Stall | Fault::DeliveryLimitExceeded => {
            stream && matches!(moment, Moment::Response { .. })
        }
        Fault::CorruptedReplayId | Fault::DuplicateDelivery { .. } => {
            method == Method::Subscribe && moment == Moment::CustomReplay
        }
    }
}

#[derive(Debug)]
struct Pending {
    fault: Fault,
    target: FaultTarget,
    remaining: u32,
}

#[derive(Debug)]
struct Chaos {
    rate: f64,
    rng: Rng,
}

/// Queued faults and the chaos generator.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queue: VecDeque<Pending>,
    chaos: Option<Chaos>,
}

impl Faults {
    pub(crate) fn push(&mut self, target: FaultTarget, n: u32, fault: Fault) {
        if n > 0 {
            self.queue.push_back(Pending {
                fault,
                target,
                remaining: n,
            });
        }
    }

    pub(crate) fn clear(&mut self) {
        self.queue.clear();
    }

    #[cfg(test)]
    fn queued(&self) -> usize {
        self.queue.iter().map(|p| p.remaining as usize).sum()
    }

    pub(crate) fn start_chaos(&mut self, rate: f64, seed: u64) {
        self.chaos = (rate > 0.0).then(|| Chaos {
            rate,
            rng: util::rng_from_seed(seed),
        });
    }

    pub(crate) fn stop_chaos(&mut self) {
        self.chaos = None;
    }

    /// The fault for this moment, if any: the first queued one that applies, else chaos.
    pub(crate) fn take(&mut self, method: Method, moment: Moment) -> Option<Fault> {
        let position = self
            .queue
            .iter()
            .position(|p| method.hit_by(p.target) && applies(&p.fault, method, moment));
        if let Some(i) = position {
            let fault = self.queue[i].fault.clone();
            self.queue[i].remaining -= 1;
            if self.queue[i].remaining == 0 {
                self.queue.remove(i);
            }
            return Some(fault);
        }
        let chaos = self.chaos.as_mut()?;
        if util::unit(&mut chaos.rng) >= chaos.rate {
            return None;
        }
        // Chaos draws only faults a correct client recovers from without loss: no corrupted
        // replay id and no delivery limit, which end in a fallback or a stop.
        let choices: &[Fault] = match moment {
            Moment::CallStart if method.subscription() => &[Fault::TokenExpired],
            Moment::CallStart => &[Fault::TokenExpired, Fault::Unavailable],
            Moment::Response { events: true } => {
                &[Fault::Unavailable, Fault::CutAfterDelivery, Fault::Stall]
            }
            Moment::Response { events: false } => &[Fault::Unavailable, Fault::Stall],
            Moment::CustomReplay => {
                let events = 1 + u32::try_from(util::below(&mut chaos.rng, 3)).unwrap_or(0);
                return Some(Fault::DuplicateDelivery { events });
            }
        };
        let pick = util::below(&mut chaos.rng, choices.len() as u64) as usize;
        choices.get(pick).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_wait_for_a_moment_they_apply_to() {
        let mut f = Faults::default();
        f.push(FaultTarget::Any, 1, Fault::CutAfterDelivery);
        f.push(FaultTarget::Publish, 2, Fault::Unavailable);
        assert_eq!(f.take(Method::Subscribe, Moment::CallStart), None);
        assert_eq!(
            f.take(Method::Subscribe, Moment::Response { events: false }),
            None
        );
        assert_eq!(
            f.take(Method::Subscribe, Moment::Response { events: true }),
            Some(Fault::CutAfterDelivery)
        );
        assert_eq!(f.take(Method::GetTopic, Moment::CallStart), None);
        assert_eq!(
            f.take(Method::Publish, Moment::CallStart),
            Some(Fault::Unavailable)
        );
        assert_eq!(
            f.take(Method::PublishStream, Moment::CallStart),
            Some(Fault::Unavailable)
        );
        assert_eq!(f.queued(), 0);
    }

    #[test]
    fn chaos_is_reproducible_and_close_to_its_rate() {
        let run = || {
            let mut f = Faults::default();
            f.start_chaos(0.25, 9);
            (0..4000)
                .map(|_| f.take(Method::Subscribe, Moment::Response { events: true }))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let hits = a.iter().filter(|x| x.is_some()).count();
        assert!((800..1200).contains(&hits), "{hits}");
    }
}
