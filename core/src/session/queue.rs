//! The messages waiting for the application, with the memory they take.

use std::collections::VecDeque;

use crate::message::Message;

/// Messages in arrival order, and an estimate of their size: the raw JSON plus the struct.
#[derive(Debug, Default)]
pub(super) struct Queue {
    messages: VecDeque<Message>,
    bytes: usize,
}

/// The memory one message takes, as counted against `Config::max_pending_bytes`.
pub(super) fn size_of(message: &Message) -> usize {
    message
        .raw_json()
        .len()
        .saturating_add(std::mem::size_of::<Message>())
}

impl Queue {
    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The memory the waiting messages take, in bytes.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn push(&mut self, message: Message) {
        self.bytes = self.bytes.saturating_add(size_of(&message));
        self.messages.push_back(message);
    }

    pub(super) fn pop(&mut self) -> Option<Message> {
        let message = self.messages.pop_front()?;
        self.bytes = self.bytes.saturating_sub(size_of(&message));
        Some(message)
    }

    /// Drops every waiting message of `channel`.
    pub(super) fn drop_channel(&mut self, channel: &str) {
        self.messages.retain(|m| m.channel() != channel);
        self.bytes = self.messages.iter().map(size_of).sum();
    }
}
