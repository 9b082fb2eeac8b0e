//! Fault injection: queued faults for the next requests, and a seeded chaos mode.

use std::collections::VecDeque;
use std::time::Duration;

use crate::chaos::{Chaos, ChaosConfig, ChaosKind, Drawn, RequestShape};

/// A failure to inject into a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this HTTP status and a short text body, without processing the request.
    Status(u16),
    /// Close the TCP connection (with a reset) without answering.
    Reset,
    /// Hold the request this long, then process it normally.
    Delay(Duration),
    /// Answer 200 with a truncated JSON body, without processing the request.
    MalformedJson,
    /// Deny handshakes with `403::Handshake denied` and the concurrent-client failure reason.
    /// Only consumed by requests that contain a `/meta/handshake`.
    DenyHandshakeConcurrentLimit,
    /// Answer every message with `401::Authentication invalid` and the failure reason
    /// `503::Server is too busy.  Please try your request again later.` (handshakes get
    /// `403::Handshake denied` with that reason). Sessions survive.
    ServerTooBusy,
    /// A broken response that loses events: the next `/meta/connect` response that carries at
    /// least one event takes its events (they count as delivered to that session and leave its
    /// queue), sends HTTP 200 headers with the full `Content-Length` and about half of the body,
    /// then resets the connection. A connect answered without events does not consume it.
    CutAfterDelivery,
    /// Like [`CutAfterDelivery`](Self::CutAfterDelivery), but the connection is reset before
    /// anything of the response is written.
    ResetAfterDelivery,
    /// Like [`CutAfterDelivery`](Self::CutAfterDelivery), but the response is held this long
    /// (choose longer than the client's deadline), then the connection is reset without an
    /// answer.
    HoldAfterDelivery(Duration),
}

impl Fault {
    /// The name the fault is counted under in `faults_by_kind`: its control-API kind, with the
    /// code for statuses (`status_503`).
    pub(crate) fn counter_name(self) -> String {
        match self {
            Self::Status(code) => format!("status_{code}"),
            Self::Reset => "reset".into(),
            Self::Delay(_) => "delay".into(),
            Self::MalformedJson => "malformed_json".into(),
            Self::DenyHandshakeConcurrentLimit => "deny_handshake_concurrent_limit".into(),
            Self::ServerTooBusy => "server_too_busy".into(),
            Self::CutAfterDelivery => "cut_after_delivery".into(),
            Self::ResetAfterDelivery => "reset_after_delivery".into(),
            Self::HoldAfterDelivery(_) => "hold_after_delivery".into(),
        }
    }

    /// Whether this fault breaks the response of a connect that delivers events, rather than
    /// applying to the next request as a whole.
    pub fn is_broken_response(self) -> bool {
        matches!(
            self,
            Self::CutAfterDelivery | Self::ResetAfterDelivery | Self::HoldAfterDelivery(_)
        )
    }
}

/// Which endpoint a queued fault applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultTarget {
    /// `POST /cometd/{version}` (the default).
    #[default]
    CometD,
    /// `POST /services/oauth2/token`.
    Token,
    /// Whichever of the two is requested first.
    Any,
}

/// The `reconnect` advice given to clients whose sessions are dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropAdvice {
    /// `{"interval":0,"reconnect":"handshake"}`, what current Salesforce sends.
    #[default]
    Handshake,
    /// `{"interval":0,"reconnect":"none"}`, seen in older logs; clients must re-handshake anyway.
    None,
}

/// The connect reply that comes with a server-pushed `/meta/disconnect`: Salesforce's logs show
/// both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushedDisconnect {
    /// `403::Unknown client` with `{"interval":0,"reconnect":"none"}` (infrastructure
    /// auto-scaling, documented since API 64.0).
    #[default]
    UnknownClient,
    /// `401::Authentication invalid` with `{"interval":0,"reconnect":"none"}`; every access
    /// token is revoked as well, so the client must authenticate again.
    AuthenticationInvalid,
}

/// The endpoint a request went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    CometD,
    Token,
}

#[derive(Debug)]
struct Pending {
    fault: Fault,
    target: FaultTarget,
    remaining: u32,
}

/// Queued faults and the chaos generator.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queue: VecDeque<Pending>,
    chaos: Option<Chaos>,
}

fn applies(fault: Fault, endpoint: Endpoint, has_handshake: bool) -> bool {
    match fault {
        Fault::DenyHandshakeConcurrentLimit => endpoint == Endpoint::CometD && has_handshake,
        Fault::ServerTooBusy => endpoint == Endpoint::CometD,
        Fault::Status(_) | Fault::Reset | Fault::Delay(_) | Fault::MalformedJson => true,
        // Consumed by a connect response with events, never by a request as it arrives.
        Fault::CutAfterDelivery | Fault::ResetAfterDelivery | Fault::HoldAfterDelivery(_) => false,
    }
}

impl Faults {
    /// Queues `fault` for the next `n` matching requests.
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

    /// Starts chaos mode (a rate of 0 stops it); `hold` is the resolved hold duration.
    pub(crate) fn start_chaos(&mut self, config: &ChaosConfig, hold: Duration) {
        self.chaos = Chaos::new(config, hold);
    }

    pub(crate) fn stop_chaos(&mut self) {
        self.chaos = None;
    }

    /// The broken-response fault for a `/meta/connect` response that is about to deliver events,
    /// if one is queued (for CometD or any endpoint). Chaos does not draw these here.
    pub(crate) fn take_broken(&mut self) -> Option<Fault> {
        let i = self.queue.iter().position(|p| {
            p.fault.is_broken_response()
                && matches!(p.target, FaultTarget::CometD | FaultTarget::Any)
        })?;
        let fault = self.queue[i].fault;
        self.queue[i].remaining -= 1;
        if self.queue[i].remaining == 0 {
            self.queue.remove(i);
        }
        Some(fault)
    }

    /// The fault for a request to `endpoint`, if any, and the name it is counted under: queued
    /// faults first, then chaos (CometD requests only).
    pub(crate) fn take(
        &mut self,
        endpoint: Endpoint,
        request: &RequestShape,
    ) -> Option<(String, Drawn)> {
        let position = self.queue.iter().position(|p| {
            let target_ok = match p.target {
                FaultTarget::CometD => endpoint == Endpoint::CometD,
                FaultTarget::Token => endpoint == Endpoint::Token,
                FaultTarget::Any => true,
            };
            target_ok && applies(p.fault, endpoint, request.has_handshake)
        });
        if let Some(i) = position {
            let fault = self.queue[i].fault;
            self.queue[i].remaining -= 1;
            if self.queue[i].remaining == 0 {
                self.queue.remove(i);
            }
            return Some((fault.counter_name(), Drawn::Request(fault)));
        }
        if endpoint != Endpoint::CometD {
            return None;
        }
        let (kind, drawn): (ChaosKind, Drawn) = self.chaos.as_mut()?.draw(request)?;
        Some((kind.name().to_owned(), drawn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(has_handshake: bool) -> RequestShape {
        RequestShape {
            has_handshake,
            ..RequestShape::default()
        }
    }

    impl Faults {
        fn take_fault(&mut self, endpoint: Endpoint, has_handshake: bool) -> Option<Fault> {
            match self.take(endpoint, &shape(has_handshake))? {
                (_, Drawn::Request(fault)) => Some(fault),
                other => panic!("not a request fault: {other:?}"),
            }
        }
    }

    #[test]
    fn queued_faults_are_consumed_in_order_and_by_target() {
        let mut f = Faults::default();
        f.push(FaultTarget::CometD, 2, Fault::Status(502));
        f.push(FaultTarget::Token, 1, Fault::Reset);
        f.push(FaultTarget::CometD, 1, Fault::DenyHandshakeConcurrentLimit);
        assert_eq!(f.take_fault(Endpoint::Token, false), Some(Fault::Reset));
        assert_eq!(f.take_fault(Endpoint::Token, false), None);
        assert_eq!(
            f.take_fault(Endpoint::CometD, false),
            Some(Fault::Status(502))
        );
        assert_eq!(
            f.take_fault(Endpoint::CometD, false),
            Some(Fault::Status(502))
        );
        // The handshake denial waits for a request that carries a handshake.
        assert_eq!(f.take_fault(Endpoint::CometD, false), None);
        assert_eq!(
            f.take_fault(Endpoint::CometD, true),
            Some(Fault::DenyHandshakeConcurrentLimit)
        );
    }

    #[test]
    fn broken_response_faults_wait_for_a_delivery() {
        let mut f = Faults::default();
        f.push(FaultTarget::CometD, 2, Fault::CutAfterDelivery);
        f.push(FaultTarget::Token, 1, Fault::ResetAfterDelivery);
        f.push(FaultTarget::CometD, 1, Fault::Status(500));
        f.push(
            FaultTarget::Any,
            1,
            Fault::HoldAfterDelivery(Duration::from_secs(1)),
        );
        // Requests as they arrive pass the broken-response faults by.
        assert_eq!(
            f.take_fault(Endpoint::CometD, true),
            Some(Fault::Status(500))
        );
        assert_eq!(f.take_fault(Endpoint::CometD, false), None);
        assert_eq!(f.take_fault(Endpoint::Token, false), None);
        assert_eq!(f.take_broken(), Some(Fault::CutAfterDelivery));
        assert_eq!(f.take_broken(), Some(Fault::CutAfterDelivery));
        // A token-targeted one never breaks a connect.
        assert_eq!(
            f.take_broken(),
            Some(Fault::HoldAfterDelivery(Duration::from_secs(1)))
        );
        assert_eq!(f.take_broken(), None);
    }

    #[test]
    fn chaos_is_reproducible_and_close_to_its_rate() {
        let run = || {
            let mut f = Faults::default();
            let config = ChaosConfig::new(0.25, 9).max_delay(Duration::from_millis(10));
            f.start_chaos(&config, Duration::from_secs(1));
            (0..4000)
                .map(|_| f.take_fault(Endpoint::CometD, false))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let hits = a.iter().filter(|x| x.is_some()).count();
        assert!((800..1200).contains(&hits), "{hits}");
    }
}
