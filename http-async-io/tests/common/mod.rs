//! What the test files share: a client without proxies, proxy settings from a given
//! environment, and a response body as text.
#![allow(dead_code, reason = "each test file uses a part of it")]

use std::collections::HashMap;

use sfstream_driver::TransportError;
use sfstream_http_async_io::{Client, Proxies};

/// A bound on response bodies that no test reaches unless it means to.
pub(crate) const MAX: usize = 1 << 20;

/// A client that goes direct and trusts the platform's verifier.
pub(crate) fn direct() -> Client {
    Client::builder().proxies(Proxies::none()).build()
}

/// The proxy settings that these variables give.
pub(crate) fn env(vars: &[(&str, &str)]) -> Proxies {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Proxies::from_vars(|name| vars.get(name).cloned())
}

/// The body of a response that must have come.
pub(crate) fn body(response: Result<http::Response<Vec<u8>>, TransportError>) -> String {
    String::from_utf8(response.expect("a response").into_body()).expect("UTF-8")
}
