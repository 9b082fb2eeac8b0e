//! The builder: the driver's, with `build` giving the blocking [`Client`].

use sfstream_driver::Error;

use crate::{Blocking, Client};

/// Configures a blocking [`Client`]: the knobs and defaults of every sfstream runtime (see
/// [`sfstream_driver::ClientBuilder`]).
///
/// Defaults: new events only (`-1`) for channels without a stored id, no replay fallback,
/// automatic commit, 10 s connection timeout, 100 pending messages, an in-memory store.
#[derive(Clone, Debug)]
pub struct ClientBuilder(sfstream_driver::ClientBuilder<Blocking>);

impl From<sfstream_driver::ClientBuilder<Blocking>> for ClientBuilder {
    /// Wraps a driver builder, for a [`Blocking`] runtime of your own (a custom ureq agent).
    fn from(builder: sfstream_driver::ClientBuilder<Blocking>) -> Self {
        Self(builder)
    }
}

impl ClientBuilder {
    // The constructors (without a runtime: each makes a `Blocking`) and every setting of the
    // driver's builder, each handing its arguments to the driver's method of the same name.
    sfstream_driver::client_builder_api!(wrap Blocking);

    /// Checks the configuration and builds the client (not yet open).
    pub fn build(self) -> Result<Client, Error> {
        self.0.build().map(Client::from)
    }
}
