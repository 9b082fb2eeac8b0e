//! Hands checkpoints to the replay store, in order, off the async threads, coalescing bursts.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use sfstream_store::{ReplayStore, StoreError};

use crate::Runtime;

/// One change to the store.
#[derive(Debug)]
pub(crate) enum StoreOp {
    Save(String, i64),
    Remove(String),
    /// A Pub/Sub topic's replay id (bytes).
    SaveTopic(String, Vec<u8>),
    RemoveTopic(String),
    /// Completes when everything sent before it is stored.
    Flush(oneshot::Sender<()>),
}

/// What one batch stored: the channels' and the topics' ids.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    pub(crate) channels: Vec<(String, i64)>,
    pub(crate) topics: Vec<(String, Vec<u8>)>,
}

/// Runs until the sender side is dropped. Each batch's outcome is reported through `done`: the
/// ids it stored, or the error.
pub(crate) async fn run<R: Runtime>(
    runtime: R,
    store: Arc<dyn ReplayStore>,
    mut ops: mpsc::UnboundedReceiver<StoreOp>,
    done: impl Fn(Result<Stored, StoreError>) + Send + Sync + 'static,
) {
    while let Some(first) = ops.next().await {
        // Take everything already queued: a burst of checkpoints becomes one write.
        let mut batch = vec![first];
        while let Ok(op) = ops.try_recv() {
            batch.push(op);
        }
        let mut saves: BTreeMap<String, i64> = BTreeMap::new();
        let mut removes: Vec<String> = Vec::new();
        let mut topic_saves: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut topic_removes: Vec<String> = Vec::new();
        let mut flushes = Vec::new();
        for op in batch {
            match op {
                StoreOp::Save(channel, id) => {
                    removes.retain(|c| *c != channel);
                    saves.insert(channel, id);
                }
                StoreOp::Remove(channel) => {
                    saves.remove(&channel);
                    removes.push(channel);
                }
                StoreOp::SaveTopic(topic, id) => {
                    topic_removes.retain(|t| *t != topic);
                    topic_saves.insert(topic, id);
                }
                StoreOp::RemoveTopic(topic) => {
                    topic_saves.remove(&topic);
                    topic_removes.push(topic);
                }
                StoreOp::Flush(done) => flushes.push(done),
            }
        }
        let changes = saves.len() + removes.len() + topic_saves.len() + topic_removes.len();
        if changes > 0 {
            let store = store.clone();
            let saves: Vec<(String, i64)> = saves.into_iter().collect();
            let to_save = saves.clone();
            let topic_saves: Vec<(String, Vec<u8>)> = topic_saves.into_iter().collect();
            let topics_to_save = topic_saves.clone();
            let outcome = on_blocking_pool(&runtime, move || {
                let mut outcome = Ok(());
                for channel in &removes {
                    outcome = outcome.and_then(|()| store.remove(channel));
                }
                if !to_save.is_empty() {
                    outcome = outcome.and_then(|()| store.save_many(&to_save));
                }
                for topic in &topic_removes {
                    outcome = outcome.and_then(|()| store.remove_topic(topic));
                }
                if !topics_to_save.is_empty() {
                    outcome = outcome.and_then(|()| store.save_topics(&topics_to_save));
                }
                outcome
            })
            .await;
            match outcome {
                Ok(()) => done(Ok(Stored {
                    channels: saves,
                    topics: topic_saves,
                })),
                Err(e) => {
                    tracing::error!(error = %e, "saving replay ids failed");
                    done(Err(e));
                }
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Runs a store call on the runtime's blocking pool (store calls block on files) and returns its
/// answer; an error if the pool dropped the call unanswered.
pub(crate) async fn on_blocking_pool<R: Runtime, T: Send + 'static>(
    runtime: &R,
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = oneshot::channel();
    runtime
        .spawn_blocking(Box::new(move || {
            let _ = tx.send(call());
        }))
        .await;
    rx.await
        .unwrap_or_else(|_| Err(StoreError::other("the store task ended without an answer")))
}
