//! Taking messages in batches: wait for the first, then take what else is waiting, up to a
//! bound, without waiting again. Commit the batch (or a prefix) after processing it.

use futures_util::stream::{self, Stream};
use sfstream_core::Batch;

use super::Client;
use crate::{Error, Runtime};

impl<R: Runtime> Client<R> {
    /// Waits for the next message, then takes every other message already waiting, up to `max`
    /// in all (a `max` of 0 counts as 1): the batch is never empty. An error comes as
    /// [`receive`](Self::receive) gives it: only once the messages before it were taken (a
    /// batch ends where an error waits; the next call returns it).
    ///
    /// Cancellation-safe: dropping the future never loses a message.
    ///
    /// ```no_run
    /// # async fn run<R: sfstream_driver::Runtime>(client: sfstream_driver::Client<R>)
    /// # -> Result<(), sfstream_driver::Error> {
    /// // Under the manual commit policy: process, then commit what was processed.
    /// loop {
    ///     let batch = client.receive_batch(500).await?;
    ///     for message in &batch {
    ///         // write message.payload_json() somewhere durable
    /// #       let _ = message;
    ///     }
    ///     client.commit(&batch)?;
    /// }
    /// # }
    /// ```
    pub async fn receive_batch(&self, max: usize) -> Result<Batch, Error> {
        let first = self.receive().await?;
        let mut messages = Vec::with_capacity(max.clamp(1, 1024));
        messages.push(first);
        self.take_waiting(&mut messages, max);
        Ok(Batch::new(messages))
    }

    /// The messages waiting now, up to `max` (`None` when none waits; the client is neither
    /// closed nor reporting an error): [`try_receive`](Self::try_receive) for batches.
    pub fn try_receive_batch(&self, max: usize) -> Option<Result<Batch, Error>> {
        let first = match self.try_receive()? {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        let mut messages = vec![first];
        self.take_waiting(&mut messages, max);
        Some(Ok(Batch::new(messages)))
    }

    /// Batches of up to `max` messages as a stream ([`receive_batch`](Self::receive_batch)
    /// repeated); it ends when the client is closed and drained. Errors (connection lost, a
    /// failed automatic resubscription) are items; the stream goes on after them.
    pub fn batches(
        &self,
        max: usize,
    ) -> impl Stream<Item = Result<Batch, Error>> + Send + Unpin + 'static {
        Box::pin(stream::unfold(self.clone(), move |client| async move {
            match client.receive_batch(max).await {
                Err(Error::Closed) => None,
                other => Some((other, client)),
            }
        }))
    }

    /// Moves the messages waiting into `messages`, until it holds `max`; errors stay for the
    /// next call.
    fn take_waiting(&self, messages: &mut Vec<sfstream_core::Message>, max: usize) {
        if messages.len() >= max {
            return;
        }
        let mut st = self.shared.lock();
        let before = messages.len();
        while messages.len() < max {
            match st.session.poll_message() {
                Some(m) => messages.push(m),
                None => break,
            }
        }
        if messages.len() > before {
            self.after_taking(&mut st);
        }
    }
}
