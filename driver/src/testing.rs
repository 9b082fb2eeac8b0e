//! Testing an application without a server: a [`Replay`] serves the real client's requests from
//! a transcript (recorded with the `record` setting, or written by hand), so the application's
//! own code meets the messages, reconnections and errors of the recording, deterministically.
//!
//! The client runs as usual (its runtime's clock and timers, the core's decisions); only HTTP is
//! replaced. Each request the client makes is checked against the next request of the
//! transcript (its kind; a control request's channels, subscriptions and replay map) and
//! answered with the recorded response, in the recorded order. Requests the session asked for
//! together (with no response recorded between them) may be made in any order, as the runtime's
//! tasks run them: each is matched to the first one of the group it fits. A response waits until its
//! request and every request recorded before it were made, and every earlier response was
//! served. A request the transcript has no response for (the long poll pending at the end)
//! stays pending. A request that differs from the recording is never answered: the client
//! then sees the outage the server's silence would cause, and [`Replay::verify`] names the
//! difference.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_channel::oneshot;
use futures_util::future::{self, BoxFuture, FutureExt};
use http::{Request, Response};
use sfstream_core::transcript::{
    ExpectRequest, Reply, Step, Transcript, TranscriptError, request_kind, transport_error,
};
use sfstream_core::{Config, TransportError};

type Outcome = Result<Response<Vec<u8>>, TransportError>;

/// A transcript serving a client's requests. Clones share one replay. See the [module
/// docs](self).
#[derive(Clone)]
pub struct Replay {
    config: Config,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("Replay")
            .field("requests_made", &st.made.iter().filter(|m| **m).count())
            .field("requests_recorded", &st.sends.len())
            .field("responses_served", &st.next_response)
            .finish_non_exhaustive()
    }
}

enum Answer {
    Reply(Reply),
    Fail(String),
}

struct Planned {
    name: String,
    answer: Answer,
    /// How many requests the transcript made before this response.
    after_sends: usize,
}

struct State {
    sends: Vec<(String, ExpectRequest)>,
    /// For each recorded request, how many responses were recorded before it: requests with
    /// the same number were asked for together and may be made in any order.
    group: Vec<usize>,
    /// Which recorded requests the client has made.
    made: Vec<bool>,
    responses: Vec<Planned>,
    /// The first recorded request not made yet.
    next_send: usize,
    next_response: usize,
    /// Requests made and not answered yet: their body and where the answer goes.
    waiting: BTreeMap<String, (Vec<u8>, oneshot::Sender<Outcome>)>,
    problems: Vec<String>,
}

impl Replay {
    /// A replay of a transcript's JSON text.
    pub fn from_json(text: &str) -> Result<Self, TranscriptError> {
        Self::new(&Transcript::from_json(text)?)
    }

    /// A replay of a transcript. Fails if its configuration is not one a client can use.
    pub fn new(transcript: &Transcript) -> Result<Self, TranscriptError> {
        let setup = |reason: String| TranscriptError {
            step: usize::MAX,
            reason,
        };
        let config = transcript.config.to_config().map_err(setup)?;
        let mut sends = Vec::new();
        let mut group = Vec::new();
        let mut responses: Vec<Planned> = Vec::new();
        // Replies without `to` answer the oldest request without an answer, as in the player.
        let mut unanswered: Vec<String> = Vec::new();
        let take = |to: &Option<String>, unanswered: &mut Vec<String>, step: usize| {
            let found = match to {
                Some(name) => unanswered.iter().position(|n| n == name),
                None => (!unanswered.is_empty()).then_some(0),
            };
            found.map(|i| unanswered.remove(i)).ok_or(TranscriptError {
                step,
                reason: "a response to no request".into(),
            })
        };
        for (i, step) in transcript.steps.iter().enumerate() {
            match step {
                Step::Send(expect) => {
                    let name = expect.name.clone().unwrap_or_else(|| format!("#{i}"));
                    unanswered.push(name.clone());
                    sends.push((name, expect.clone()));
                    group.push(responses.len());
                }
                Step::Reply(reply) | Step::Arrive(reply) => responses.push(Planned {
                    name: take(&reply.to, &mut unanswered, i)?,
                    answer: Answer::Reply(reply.clone()),
                    after_sends: sends.len(),
                }),
                Step::Fail { to, error } => {
                    transport_error(error).map_err(|reason| TranscriptError { step: i, reason })?;
                    responses.push(Planned {
                        name: take(to, &mut unanswered, i)?,
                        answer: Answer::Fail(error.clone()),
                        after_sends: sends.len(),
                    });
                }
                _ => {}
            }
        }
        Ok(Self {
            config,
            state: Arc::new(Mutex::new(State {
                made: vec![false; sends.len()],
                sends,
                group,
                responses,
                next_send: 0,
                next_response: 0,
                waiting: BTreeMap::new(),
                problems: Vec::new(),
            })),
        })
    }

    /// The client configuration of the transcript (with its seed, so backoff repeats).
    #[must_use]
    pub fn config(&self) -> Config {
        self.config.clone()
    }

    /// `Ok` when every request the client made matched the recording and every recorded
    /// request was made; otherwise what differed, or what was not made.
    pub fn verify(&self) -> Result<(), String> {
        let st = self.lock();
        if let Some(first) = st.problems.first() {
            return Err(first.clone());
        }
        if st.next_send < st.sends.len() {
            let (name, expect) = &st.sends[st.next_send];
            return Err(format!(
                "the client made {} of the {} recorded requests; the next one recorded is a {} \
                 request ({name})",
                st.next_send,
                st.sends.len(),
                expect.kind.as_deref().unwrap_or("any")
            ));
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves one request: the client's `Runtime::send`, replaced.
    pub(crate) fn send(&self, request: Request<Vec<u8>>) -> BoxFuture<'static, Outcome> {
        let mut st = self.lock();
        let kind = request_kind(&request);
        let Some((first_name, first_expect)) = st.sends.get(st.next_send).cloned() else {
            let problem = format!(
                "the client made a {} request after the last one recorded",
                kind.as_str()
            );
            st.problems.push(problem);
            return future::pending().boxed();
        };
        // The first request of the group not made yet that this one fits.
        let group = st.group[st.next_send];
        let fits = (st.next_send..st.sends.len())
            .take_while(|&i| st.group[i] == group)
            .find(|&i| !st.made[i] && st.sends[i].1.check(kind, &request).is_ok());
        let Some(index) = fits else {
            let difference = first_expect
                .check(kind, &request)
                .err()
                .unwrap_or_else(|| "it was made out of the recorded order".into());
            let problem = format!("request {} ({first_name}): {difference}", st.next_send + 1);
            tracing::warn!(%problem, "the client's request differs from the recording");
            st.problems.push(problem);
            return future::pending().boxed();
        };
        st.made[index] = true;
        while st.made.get(st.next_send).copied().unwrap_or(false) {
            st.next_send += 1;
        }
        let name = st.sends[index].0.clone();
        let (tx, rx) = oneshot::channel();
        st.waiting.insert(name, (request.into_body(), tx));
        st.serve();
        rx.map(|answer| {
            answer.unwrap_or_else(|_| Err(TransportError::Other("the replay ended".into())))
        })
        .boxed()
    }
}

impl State {
    /// Answers, in the recorded order, every response whose turn has come.
    fn serve(&mut self) {
        while let Some(next) = self.responses.get(self.next_response) {
            if self.next_send < next.after_sends || !self.waiting.contains_key(&next.name) {
                return;
            }
            let Some((sent, tx)) = self.waiting.remove(&next.name) else {
                return;
            };
            let outcome = match &next.answer {
                Answer::Reply(reply) => reply
                    .response(&sent)
                    .map_err(|e| TransportError::Other(format!("the recorded reply: {e}"))),
                Answer::Fail(error) => {
                    Err(transport_error(error).unwrap_or_else(TransportError::Other))
                }
            };
            // The client may have given up on the request (closed, say): nothing to do.
            let _ = tx.send(outcome);
            self.next_response += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_TOGETHER: &str = r#"{
      "config": {"access_token": "tok", "instance_url": "https://example.my.salesforce.com"},
      "steps": [
        {"send": {"kind": "connect", "as": "c1"}},
        {"send": {"kind": "control", "as": "s1", "json": [{"subscription": "/event/A__e"}]}},
        {"reply": {"to": "s1", "body": [{"channel": "/meta/subscribe", "subscription": "/event/A__e", "successful": true}]}},
        {"reply": {"to": "c1", "body": [{"channel": "/meta/connect", "successful": true}]}},
        {"send": {"kind": "disconnect", "as": "bye"}}
      ]
    }"#;

    fn post(body: &str) -> Request<Vec<u8>> {
        Request::post("https://example.my.salesforce.com/cometd/66.0")
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    const CONNECT: &str =
        r#"[{"channel":"/meta/connect","clientId":"c","connectionType":"long-polling"}]"#;
    const SUBSCRIBE: &str =
        r#"[{"channel":"/meta/subscribe","clientId":"c","subscription":"/event/A__e"}]"#;
    const DISCONNECT: &str = r#"[{"channel":"/meta/disconnect","clientId":"c"}]"#;

    /// Two requests the session asked for together reach the runtime in either order: both
    /// are matched and answered.
    #[test]
    fn requests_asked_for_together_may_be_made_in_either_order() {
        let replay = Replay::from_json(TWO_TOGETHER).unwrap();
        let subscribed = replay.send(post(SUBSCRIBE));
        let connected = replay.send(post(CONNECT));
        let subscribed = futures_util::FutureExt::now_or_never(subscribed)
            .unwrap()
            .unwrap();
        let connected = futures_util::FutureExt::now_or_never(connected)
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(subscribed.body()).contains("/meta/subscribe"));
        assert!(String::from_utf8_lossy(connected.body()).contains("/meta/connect"));
        let _pending = replay.send(post(DISCONNECT));
        replay.verify().unwrap();
    }

    /// A request from a later group made early is a difference, named by `verify`.
    #[test]
    fn a_request_from_a_later_group_is_a_difference() {
        let replay = Replay::from_json(TWO_TOGETHER).unwrap();
        let _pending = replay.send(post(DISCONNECT));
        let problem = replay.verify().unwrap_err();
        assert!(problem.starts_with("request 1 (c1)"), "{problem}");
    }
}
