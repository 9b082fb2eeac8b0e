//! Messages taken together, and what a commit of them means: for each channel, the newest replay
//! id among them (a channel's commit covers every earlier event of that channel).

use std::ops::Deref;

use super::Message;
use crate::Error;

/// Messages taken together, in the order they were received (channels interleaved).
///
/// Derefs to `[Message]`: iterate it, index it, or slice it. Commit it whole, or commit a
/// prefix (`&batch[..=i]`: everything up to message `i`, per channel) after processing part of
/// it.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    messages: Vec<Message>,
}

impl Batch {
    /// A batch of these messages.
    #[must_use]
    pub fn new(messages: Vec<Message>) -> Self {
        Self { messages }
    }

    /// The messages, owned.
    #[must_use]
    pub fn into_messages(self) -> Vec<Message> {
        self.messages
    }
}

impl Deref for Batch {
    type Target = [Message];

    fn deref(&self) -> &[Message] {
        &self.messages
    }
}

impl From<Vec<Message>> for Batch {
    fn from(messages: Vec<Message>) -> Self {
        Self::new(messages)
    }
}

impl IntoIterator for Batch {
    type Item = Message;
    type IntoIter = std::vec::IntoIter<Message>;

    fn into_iter(self) -> Self::IntoIter {
        self.messages.into_iter()
    }
}

impl<'a> IntoIterator for &'a Batch {
    type Item = &'a Message;
    type IntoIter = std::slice::Iter<'a, Message>;

    fn into_iter(self) -> Self::IntoIter {
        self.messages.iter()
    }
}

/// What a manual commit takes: one [`Message`] (it and every earlier message of its channel),
/// a [`Batch`], or a slice or `Vec` of messages (for each channel, its newest message among
/// them, and so every earlier one of that channel).
pub trait Committable: sealed::Sealed {
    /// For each channel, the replay id of its last message here (the newest received), in the
    /// order the channels first appear. Messages without a replay id (plain Bayeux) are left out; a single such
    /// message is an error, as there is nothing to commit.
    fn replay_positions(&self) -> Result<Vec<(&str, i64)>, Error>;
}

impl Committable for Message {
    fn replay_positions(&self) -> Result<Vec<(&str, i64)>, Error> {
        match self.replay_id() {
            Some(id) => Ok(vec![(self.channel(), id)]),
            None => Err(Error::InvalidOperation(format!(
                "the message on {} has no replay id to commit",
                self.channel()
            ))),
        }
    }
}

impl Committable for [Message] {
    fn replay_positions(&self) -> Result<Vec<(&str, i64)>, Error> {
        let mut positions: Vec<(&str, i64)> = Vec::new();
        for m in self {
            let Some(id) = m.replay_id() else { continue };
            // A handful of channels at most: a linear search beats a map.
            match positions.iter_mut().find(|(c, _)| *c == m.channel()) {
                Some(slot) => slot.1 = id,
                None => positions.push((m.channel(), id)),
            }
        }
        Ok(positions)
    }
}

impl Committable for Vec<Message> {
    fn replay_positions(&self) -> Result<Vec<(&str, i64)>, Error> {
        self.as_slice().replay_positions()
    }
}

impl Committable for Batch {
    fn replay_positions(&self) -> Result<Vec<(&str, i64)>, Error> {
        self.messages.replay_positions()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Message {}
    impl Sealed for [super::Message] {}
    impl Sealed for Vec<super::Message> {}
    impl Sealed for super::Batch {}
}
