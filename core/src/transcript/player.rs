//! The player: steps applied to a session.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::*;
use crate::transmit::{RequestId, Transmit};
use crate::{Event, Received, Session};

/// Replays transcripts. `Debug` shows no request body (a token request's holds credentials).
pub struct Player {
    session: Session,
    pub(super) start: Instant,
    pub(super) now: Instant,
    sent: VecDeque<Transmit>,
    unanswered: Vec<(Option<String>, RequestId, Vec<u8>)>,
    fresh_events: VecDeque<Event>,
    /// Responses that arrived and wait to be handed over, by request name.
    arrived: BTreeMap<String, Received>,
    pub(super) outcome: Outcome,
}

impl fmt::Debug for Player {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unanswered: Vec<(Option<&str>, RequestId)> = self
            .unanswered
            .iter()
            .map(|(name, id, _)| (name.as_deref(), *id))
            .collect();
        f.debug_struct("Player")
            .field("session", &self.session)
            .field("elapsed", &(self.now - self.start))
            .field("sent", &self.sent)
            .field("unanswered", &unanswered)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl Player {
    /// Sets up the session of a transcript, subscribes and opens it.
    pub fn new(t: &Transcript, start: Instant) -> Result<Self, TranscriptError> {
        let config = t.config.to_config().map_err(setup)?;
        let wall = SystemTime::UNIX_EPOCH
            + t.config
                .wall_clock_ms
                .map_or(Duration::from_secs(1_700_000_000), Duration::from_millis);
        let mut session = Session::new(config, start, wall).map_err(|e| setup(e.to_string()))?;
        for s in &t.subscribe {
            let from = s
                .replay
                .as_ref()
                .map(replay_from)
                .transpose()
                .map_err(setup)?;
            session
                .subscribe(&s.channel, from, start)
                .map_err(|e| setup(e.to_string()))?;
        }
        if let Some(stored) = &t.stored {
            session
                .resume_from_store(stored.clone(), t.stored_default)
                .map_err(|e| setup(e.to_string()))?;
        }
        session.open(start).map_err(|e| setup(e.to_string()))?;
        let mut p = Self {
            session,
            start,
            now: start,
            sent: VecDeque::new(),
            unanswered: Vec::new(),
            fresh_events: VecDeque::new(),
            arrived: BTreeMap::new(),
            outcome: Outcome::default(),
        };
        p.collect();
        Ok(p)
    }

    /// The session being driven.
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    pub(super) fn collect(&mut self) {
        while let Some(t) = self.session.poll_transmit() {
            self.sent.push_back(t);
        }
        while let Some(id) = self.session.poll_cancel() {
            self.unanswered.retain(|(_, r, _)| *r != id);
            self.sent.retain(|t| t.id != id);
        }
        while let Some(e) = self.session.poll_event() {
            self.fresh_events.push_back(e.clone());
            self.outcome.events.push(e);
        }
    }

    pub(super) fn take(&mut self, to: Option<&str>) -> Result<(RequestId, Vec<u8>), String> {
        let pos = match to {
            Some(name) => self
                .unanswered
                .iter()
                .position(|(n, _, _)| n.as_deref() == Some(name))
                .ok_or_else(|| format!("no unanswered request named {name:?}"))?,
            None if self.unanswered.is_empty() => return Err("no unanswered request".into()),
            None => 0,
        };
        let (_, id, body) = self.unanswered.remove(pos);
        Ok((id, body))
    }

    /// Runs one step.
    pub fn step(&mut self, step: &Step) -> Result<(), String> {
        match step {
            Step::Send(expect) => {
                let t = self
                    .sent
                    .pop_front()
                    .ok_or_else(|| "expected a request, but the session sent none".to_owned())?;
                check_request(&t, expect, self.now)?;
                self.unanswered
                    .push((expect.name.clone(), t.id, t.request.body().clone()));
            }
            Step::NoSend(_) => {
                if let Some(t) = self.sent.front() {
                    return Err(format!(
                        "expected no request, but the session sent a {} request",
                        t.kind.as_str()
                    ));
                }
            }
            Step::Reply(reply) => {
                let (id, sent) = self.take(reply.to.as_deref())?;
                let response = build_response(reply, &sent)?;
                self.session.handle_response(id, response, self.now);
            }
            Step::Fail { to, error } => {
                let (id, _) = self.take(to.as_deref())?;
                let error = transport_error(error)?;
                self.session.handle_transport_error(id, error, self.now);
            }
            Step::AdvanceMs(ms) => {
                self.now += Duration::from_millis(*ms);
                self.session.handle_timeout(self.now);
            }
            Step::ClockNs(ns) => {
                self.now = self.now.max(self.start + Duration::from_nanos(*ns));
            }
            Step::Timeout(_) => self.session.handle_timeout(self.now),
            Step::Arrive(reply) => {
                let name = reply
                    .to
                    .clone()
                    .ok_or("arrive needs `to`, the request's name")?;
                let (id, sent) = self.take(Some(&name))?;
                let response = build_response(reply, &sent)?;
                if let Some(arrived) = self.session.handle_arrived(id, response, self.now) {
                    self.arrived.insert(name, arrived.decode());
                }
            }
            Step::HandOver(name) => {
                let received = self
                    .arrived
                    .remove(name)
                    .ok_or_else(|| format!("no response of {name:?} arrived to hand over"))?;
                self.session.handle_received(received, self.now);
            }
            Step::Event(want) => {
                let ty = want.get("type").and_then(Value::as_str).unwrap_or_default();
                loop {
                    let Some(e) = self.fresh_events.pop_front() else {
                        return Err(format!(
                            "expected a {ty:?} event matching {want}, none came"
                        ));
                    };
                    if event_matches(&e, want) {
                        break;
                    }
                }
            }
            Step::NoEvent(ty) => {
                if let Some(e) = self.fresh_events.iter().find(|e| event_type(e) == ty) {
                    return Err(format!(
                        "expected no {ty:?} event, got {}",
                        event_summary(e)
                    ));
                }
            }
            Step::Message(want) => {
                let m = self
                    .session
                    .poll_message()
                    .ok_or_else(|| format!("expected a message matching {want}, none waits"))?;
                check_message(&m, want)?;
                self.outcome.messages.push(m);
            }
            Step::NoMessage(_) => {
                if self.session.pending() > 0 {
                    return Err(format!(
                        "expected no message, {} wait",
                        self.session.pending()
                    ));
                }
            }
            Step::Commit(v) => {
                let channel = v.get("channel").and_then(Value::as_str).unwrap_or_default();
                let id = v
                    .get("replay_id")
                    .and_then(Value::as_i64)
                    .ok_or("commit needs replay_id")?;
                self.session
                    .commit(channel, id)
                    .map_err(|e| e.to_string())?;
            }
            Step::Subscribe(s) => {
                let from = s.replay.as_ref().map(replay_from).transpose()?;
                self.session
                    .subscribe(&s.channel, from, self.now)
                    .map_err(|e| e.to_string())?;
            }
            Step::Unsubscribe(c) => self
                .session
                .unsubscribe(c, self.now)
                .map_err(|e| e.to_string())?,
            Step::Close(_) => self.session.close(self.now),
        }
        self.collect();
        Ok(())
    }
}
