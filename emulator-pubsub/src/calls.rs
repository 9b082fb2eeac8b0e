//! What every call does first: an rpc id, the call counter, call-start faults, authentication.

use tonic::metadata::MetadataMap;
use tonic::{Code, Status};

use crate::auth::{self, AuthOutcome};
use crate::faults::{Fault, Method, Moment};
use crate::state::Shared;
use crate::status;
use crate::util;

/// Starts a call: returns its rpc id, or the status that ends it.
pub(crate) fn begin(
    shared: &Shared,
    method: Method,
    metadata: &MetadataMap,
) -> Result<String, Status> {
    let mut st = shared.lock();
    let rpc_id = util::uuid(&mut st.rng);
    *st.stats.calls.entry(method.name().to_owned()).or_default() += 1;
    let fault = st.faults.take(method, Moment::CallStart);
    if let Some(f) = &fault {
        st.fault_fired(f.name());
    }
    drop(st);
    let result = match fault {
        Some(Fault::TokenExpired) => Err(status::auth_error(&rpc_id)),
        Some(Fault::Unavailable) => Err(status::reset()),
        Some(Fault::Status {
            code,
            error_code,
            message,
        }) => {
            // A fault always fails the call: OK (0) would not.
            let code = match Code::from_i32(code) {
                Code::Ok => Code::Unknown,
                other => other,
            };
            Err(match error_code {
                Some(suffix) => status::salesforce(code, &suffix, &message, &rpc_id),
                None => Status::new(code, message),
            })
        }
        _ => match auth::credentials(metadata) {
            None => Err(status::auth_headers_invalid(&rpc_id)),
            Some((token, url, tenant)) => match shared.check.check(&token, &url, &tenant) {
                AuthOutcome::Ok => Ok(rpc_id),
                AuthOutcome::Unauthenticated => Err(status::auth_error(&rpc_id)),
            },
        },
    };
    if result.is_err() {
        shared.lock().stats.totals.errors_sent += 1;
    }
    result
}

/// Counts an error sent and passes it on.
pub(crate) fn fail(shared: &Shared, status: Status) -> Status {
    shared.lock().stats.totals.errors_sent += 1;
    status
}
