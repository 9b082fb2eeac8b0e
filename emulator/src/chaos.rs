//! Chaos mode: per CometD request, with a given probability, a fault drawn from a weighted mix
//! by a seeded generator. The mix covers request-level faults (statuses, resets, delays,
//! malformed JSON, too busy, handshake denial), session-level ones (a revoked token, a dropped
//! session with either advice, a pushed `/meta/disconnect` of either kind, a load-balancer
//! reroute) and broken responses that lose events.

use std::time::Duration;

use crate::broken::Broken;
use crate::faults::Fault;
use crate::util::{self, Rng};

/// A fault chaos mode can inject. Names (see [`name`](Self::name)) are the control API's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChaosKind {
    /// HTTP 503.
    Status503,
    /// HTTP 500.
    Status500,
    /// A TCP reset without an answer.
    Reset,
    /// A delay of up to the chaos `max_delay`, then normal processing.
    Delay,
    /// A 200 with truncated JSON.
    MalformedJson,
    /// `401::Authentication invalid` with failure reason `503::Server is too busy…`.
    ServerTooBusy,
    /// `403::Handshake denied` for the concurrent-client limit (requests with a handshake).
    DenyHandshakeConcurrentLimit,
    /// The request's access token is revoked (and, by default, the sessions it opened end).
    RevokeToken,
    /// The requesting session ends; `403::Unknown client` with `reconnect: handshake`.
    DropSessionHandshake,
    /// The requesting session ends; `403::Unknown client` with `reconnect: none`.
    DropSessionNone,
    /// A pushed `/meta/disconnect` with `403::Unknown client`; the session ends.
    PushDisconnectUnknownClient,
    /// A pushed `/meta/disconnect` with `401::Authentication invalid`; the session ends and the
    /// request's token is revoked.
    PushDisconnectAuthenticationInvalid,
    /// The load balancer loses the session's affinity: `403::Unknown client`, new cookies.
    Reroute,
    /// The connect's events are taken, then the response is cut after half its body.
    CutAfterDelivery,
    /// The connect's events are taken, then the connection is reset.
    ResetAfterDelivery,
    /// The connect's events are taken, then the response is held (the chaos `hold`) and reset.
    HoldAfterDelivery,
}

impl ChaosKind {
    /// Every kind, in the order draws walk them.
    pub const ALL: [Self; 16] = [
        Self::Status503,
        Self::Status500,
        Self::Reset,
        Self::Delay,
        Self::MalformedJson,
        Self::ServerTooBusy,
        Self::DenyHandshakeConcurrentLimit,
        Self::RevokeToken,
        Self::DropSessionHandshake,
        Self::DropSessionNone,
        Self::PushDisconnectUnknownClient,
        Self::PushDisconnectAuthenticationInvalid,
        Self::Reroute,
        Self::CutAfterDelivery,
        Self::ResetAfterDelivery,
        Self::HoldAfterDelivery,
    ];

    /// The kind's name in the control API and in `faults_by_kind`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Status503 => "status_503",
            Self::Status500 => "status_500",
            Self::Reset => "reset",
            Self::Delay => "delay",
            Self::MalformedJson => "malformed_json",
            Self::ServerTooBusy => "server_too_busy",
            Self::DenyHandshakeConcurrentLimit => "deny_handshake_concurrent_limit",
            Self::RevokeToken => "revoke_token",
            Self::DropSessionHandshake => "drop_session_handshake",
            Self::DropSessionNone => "drop_session_none",
            Self::PushDisconnectUnknownClient => "push_disconnect_unknown_client",
            Self::PushDisconnectAuthenticationInvalid => "push_disconnect_authentication_invalid",
            Self::Reroute => "reroute",
            Self::CutAfterDelivery => "cut_after_delivery",
            Self::ResetAfterDelivery => "reset_after_delivery",
            Self::HoldAfterDelivery => "hold_after_delivery",
        }
    }

    /// The kind with this [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// Where the kind can apply.
    fn applies(self, request: &RequestShape) -> bool {
        match self {
            Self::DenyHandshakeConcurrentLimit => request.has_handshake,
            Self::RevokeToken
            | Self::DropSessionHandshake
            | Self::DropSessionNone
            | Self::PushDisconnectUnknownClient
            | Self::PushDisconnectAuthenticationInvalid
            | Self::Reroute => request.has_session,
            Self::CutAfterDelivery | Self::ResetAfterDelivery | Self::HoldAfterDelivery => {
                request.has_connect
            }
            _ => true,
        }
    }
}

/// The relative weights of the kinds chaos draws from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChaosMix {
    weights: [u32; ChaosKind::ALL.len()],
}

impl Default for ChaosMix {
    /// [`ChaosMix::transport`].
    fn default() -> Self {
        Self::transport()
    }
}

impl ChaosMix {
    /// No kind at all (build a mix with [`with`](Self::with)).
    pub fn none() -> Self {
        Self {
            weights: [0; ChaosKind::ALL.len()],
        }
    }

    /// The request-level kinds, each weight 1: HTTP 503 and 500, reset, delay, malformed JSON,
    /// too busy, concurrent-limit denial. What [`Control::chaos`](crate::Control::chaos) uses.
    pub fn transport() -> Self {
        let mut mix = Self::none();
        for kind in &ChaosKind::ALL[..=ChaosKind::DenyHandshakeConcurrentLimit.index()] {
            mix.weights[kind.index()] = 1;
        }
        mix
    }

    /// Every kind, each weight 1: what Salesforce can do to a client, including the faults that
    /// end sessions and the broken responses that lose events.
    pub fn all() -> Self {
        Self {
            weights: [1; ChaosKind::ALL.len()],
        }
    }

    /// The mix with `kind` at `weight` (0 leaves it out).
    #[must_use]
    pub fn with(mut self, kind: ChaosKind, weight: u32) -> Self {
        self.weights[kind.index()] = weight;
        self
    }

    /// The weight of `kind`.
    pub fn weight(&self, kind: ChaosKind) -> u32 {
        self.weights[kind.index()]
    }
}

/// Chaos settings: a rate, a seed, a mix and the durations of delays and holds.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ChaosConfig {
    /// The probability, 0 to 1, that a CometD request gets a fault (0 stops chaos).
    pub rate: f64,
    /// Seeds the generator that decides which requests get which fault.
    pub seed: u64,
    /// The kinds and their weights.
    pub mix: ChaosMix,
    /// The longest injected delay (a delay is drawn from 0 to this).
    pub max_delay: Duration,
    /// How long `hold_after_delivery` holds; `None`: twice the long-poll timeout.
    pub hold: Option<Duration>,
}

impl ChaosConfig {
    /// `rate` and `seed` with the transport mix, a longest delay of
    /// [`DEFAULT_CHAOS_MAX_DELAY`](crate::DEFAULT_CHAOS_MAX_DELAY) and the default hold.
    pub fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate,
            seed,
            mix: ChaosMix::transport(),
            max_delay: crate::control::DEFAULT_CHAOS_MAX_DELAY,
            hold: None,
        }
    }

    /// With this mix.
    #[must_use]
    pub fn mix(mut self, mix: ChaosMix) -> Self {
        self.mix = mix;
        self
    }

    /// With this longest delay.
    #[must_use]
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// With this hold for `hold_after_delivery`.
    #[must_use]
    pub fn hold(mut self, hold: Duration) -> Self {
        self.hold = Some(hold);
        self
    }
}

/// What a request looks like to chaos.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RequestShape {
    pub(crate) has_handshake: bool,
    pub(crate) has_connect: bool,
    /// The request names a live session.
    pub(crate) has_session: bool,
}

/// A fault that changes the requesting session's fate before the request is processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionFault {
    RevokeToken,
    DropHandshake,
    DropNone,
    PushDisconnectUnknownClient,
    PushDisconnectAuthenticationInvalid,
    Reroute,
}

/// What chaos drew for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drawn {
    /// A request-level fault, handled like a queued one.
    Request(Fault),
    /// A change to the requesting session.
    Session(SessionFault),
    /// A broken response, if a connect of the request delivers events.
    Broken(Broken),
}

/// The running chaos generator.
#[derive(Debug)]
pub(crate) struct Chaos {
    rate: f64,
    rng: Rng,
    mix: ChaosMix,
    max_delay: Duration,
    hold: Duration,
}

impl Chaos {
    /// `None` when the rate is 0; `hold` is the resolved hold duration.
    pub(crate) fn new(config: &ChaosConfig, hold: Duration) -> Option<Self> {
        (config.rate > 0.0).then(|| Self {
            rate: config.rate,
            rng: util::rng_from_seed(config.seed),
            mix: config.mix.clone(),
            max_delay: config.max_delay,
            hold,
        })
    }

    /// Draws for one CometD request: first whether it is hit, then a kind among those that can
    /// apply to it, by weight.
    pub(crate) fn draw(&mut self, request: &RequestShape) -> Option<(ChaosKind, Drawn)> {
        if util::unit(&mut self.rng) >= self.rate {
            return None;
        }
        let applicable = || {
            ChaosKind::ALL
                .into_iter()
                .filter(|k| k.applies(request))
                .map(|k| (k, u64::from(self.mix.weight(k))))
        };
        let total: u64 = applicable().map(|(_, w)| w).sum();
        if total == 0 {
            return None;
        }
        let mut pick = util::below(&mut self.rng, total);
        let kind = applicable()
            .find(|(_, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .map(|(k, _)| k)?;
        let drawn = match kind {
            ChaosKind::Status503 => Drawn::Request(Fault::Status(503)),
            ChaosKind::Status500 => Drawn::Request(Fault::Status(500)),
            ChaosKind::Reset => Drawn::Request(Fault::Reset),
            ChaosKind::Delay => {
                let max = u64::try_from(self.max_delay.as_millis()).unwrap_or(u64::MAX);
                let ms = util::below(&mut self.rng, max.saturating_add(1));
                Drawn::Request(Fault::Delay(Duration::from_millis(ms)))
            }
            ChaosKind::MalformedJson => Drawn::Request(Fault::MalformedJson),
            ChaosKind::ServerTooBusy => Drawn::Request(Fault::ServerTooBusy),
            ChaosKind::DenyHandshakeConcurrentLimit => {
                Drawn::Request(Fault::DenyHandshakeConcurrentLimit)
            }
            ChaosKind::RevokeToken => Drawn::Session(SessionFault::RevokeToken),
            ChaosKind::DropSessionHandshake => Drawn::Session(SessionFault::DropHandshake),
            ChaosKind::DropSessionNone => Drawn::Session(SessionFault::DropNone),
            ChaosKind::PushDisconnectUnknownClient => {
                Drawn::Session(SessionFault::PushDisconnectUnknownClient)
            }
            ChaosKind::PushDisconnectAuthenticationInvalid => {
                Drawn::Session(SessionFault::PushDisconnectAuthenticationInvalid)
            }
            ChaosKind::Reroute => Drawn::Session(SessionFault::Reroute),
            ChaosKind::CutAfterDelivery => Drawn::Broken(Broken::Cut),
            ChaosKind::ResetAfterDelivery => Drawn::Broken(Broken::Reset),
            ChaosKind::HoldAfterDelivery => Drawn::Broken(Broken::Hold(self.hold)),
        };
        Some((kind, drawn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mix: ChaosMix, shape: RequestShape) -> Vec<Option<ChaosKind>> {
        let config = ChaosConfig::new(0.5, 21).mix(mix);
        let mut chaos = Chaos::new(&config, Duration::from_secs(1)).expect("rate > 0");
        (0..2000)
            .map(|_| chaos.draw(&shape).map(|(k, _)| k))
            .collect()
    }

    #[test]
    fn draws_follow_the_mix_and_what_applies() {
        let plain = RequestShape::default();
        let all = RequestShape {
            has_handshake: true,
            has_connect: true,
            has_session: true,
        };
        let a = run(ChaosMix::all(), all);
        assert_eq!(a, run(ChaosMix::all(), all), "seeded");
        for kind in ChaosKind::ALL {
            let n = a.iter().filter(|k| **k == Some(kind)).count();
            // 1000 hits over 16 kinds: about 62 each.
            assert!((25..110).contains(&n), "{kind:?}: {n}");
        }
        // A plain request (no handshake, connect or session) only gets request-level faults.
        let p = run(ChaosMix::all(), plain);
        assert!(
            p.iter()
                .flatten()
                .all(|k| k.index() <= ChaosKind::ServerTooBusy.index())
        );
        // Weights: reroute only.
        let r = run(ChaosMix::none().with(ChaosKind::Reroute, 3), all);
        assert!(r.iter().flatten().all(|k| *k == ChaosKind::Reroute));
        assert!(r.iter().flatten().count() > 800);
        // Nothing applicable: nothing drawn.
        assert!(
            run(ChaosMix::none().with(ChaosKind::Reroute, 1), plain)
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn names_round_trip() {
        for kind in ChaosKind::ALL {
            assert_eq!(ChaosKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ChaosKind::from_name("gremlins"), None);
    }
}
