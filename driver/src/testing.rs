//! Testing an application without a server: a [`Replay`] serves the real client's requests from
//! a transcript (recorded with the `record` setting, or written by hand), so the application's
//! own code meets the messages, reconnections and errors of the recording, deterministically.
//!
//! The client runs as usual (its runtime's clock and timers, the core's decisions); only HTTP is
//! replaced. Each request the client makes is checked against the next request of the
//! transcript (its kind; a control request's channels, subscriptions and replay map) and
//! answered with the recorded response, in the recorded order: a response waits until its
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
            .field("requests_made", &st.next_send)
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
    responses: Vec<Planned>,
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
        let mut responses = Vec::new();
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
                sends,
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
        let Some((name, expect)) = st.sends.get(st.next_send).cloned() else {
            let problem = format!(
                "the client made a {} request after the last one recorded",
                kind.as_str()
            );
            st.problems.push(problem);
            return future::pending().boxed();
        };
        if let Err(difference) = expect.check(kind, &request) {
            let problem = format!("request {} ({name}): {difference}", st.next_send + 1);
            tracing::warn!(%problem, "the client's request differs from the recording");
            st.problems.push(problem);
            return future::pending().boxed();
        }
        st.next_send += 1;
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
