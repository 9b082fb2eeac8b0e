//! The inputs of the Pub/Sub session: what the adapter reports about each gRPC call, and the
//! passing of time. Each input is read by the call's bookkeeping (`call.rs`) and what it brought
//! goes to the call's owner: a topic's stream, the schema cache, or the publisher.

use std::time::Instant;

use http::{HeaderMap, StatusCode};

use crate::transmit::TransportError;

use super::PubSubSession;
use super::call::CallId;
use super::calls::{Arrived, CallEnd, Route};

impl PubSubSession {
    /// Reports the response head of a call (`:status` and headers; for an immediate error or a
    /// trailers-only answer, the whole outcome).
    pub fn handle_headers(
        &mut self,
        call: CallId,
        status: StatusCode,
        headers: &HeaderMap,
        now: Instant,
    ) {
        self.tick(now);
        let arrived = self.calls.on_headers(call, status, headers, now);
        self.route(arrived, now);
        self.drive(now);
    }

    /// Reports bytes of a call's response body (a DATA frame, or any part of the body: messages
    /// may be cut anywhere).
    pub fn handle_data(&mut self, call: CallId, chunk: &[u8], now: Instant) {
        self.tick(now);
        let arrived = self.calls.on_data(call, chunk, now);
        self.route(arrived, now);
        self.drive(now);
    }

    /// Reports the trailers that end a call (`grpc-status`, `grpc-message`, `error-code`,
    /// `rpc-id`). A body that ended without trailers is reported with an empty map (read as an
    /// error: the call ended without a status).
    pub fn handle_trailers(&mut self, call: CallId, trailers: &HeaderMap, now: Instant) {
        self.tick(now);
        let arrived = self.calls.on_trailers(call, trailers, now);
        self.route(arrived, now);
        self.drive(now);
    }

    /// Reports that a call's HTTP/2 stream was reset (`RST_STREAM`, or `GOAWAY` for a stream the
    /// server did not process) with this HTTP/2 error code, before its trailers.
    pub fn handle_reset(&mut self, call: CallId, h2_error_code: u32, now: Instant) {
        self.tick(now);
        let arrived = self.calls.on_reset(call, h2_error_code);
        self.route(arrived, now);
        self.drive(now);
    }

    /// Reports that a call failed below gRPC: the connection could not be made, broke, or the
    /// adapter gave up at the call's deadline.
    pub fn handle_call_error(&mut self, call: CallId, error: TransportError, now: Instant) {
        self.tick(now);
        let arrived = self.calls.on_error(call, &error);
        self.route(arrived, now);
        self.drive(now);
    }

    /// Advances time: token requests and unary calls past their deadline fail, silent streams
    /// trip the watchdog, waits end. Calls at any time are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        self.auth_timeout(now);
        for end in self.calls.expire(now) {
            self.on_call_end(end, now);
        }
        self.check_watchdog(now);
        self.check_publish_watchdog(now);
        self.check_idle(now);
        self.drive(now);
    }

    fn route(&mut self, arrived: Arrived, now: Instant) {
        let Some((call, route)) = arrived.route else {
            return;
        };
        if arrived.accepted {
            if let Some(generation) = self.calls.generation(call) {
                self.auth.healthy(generation);
            }
            if let Route::Subscribe(topic) = &route {
                self.on_subscribe_accepted(topic, call);
            }
        }
        for message in arrived.messages {
            match &route {
                Route::Subscribe(topic) => self.on_fetch_response(topic, call, message, now),
                Route::PublishStream(topic) => self.on_publish_stream_message(topic, call, message),
                // A unary call's reply is used when the call ends with OK.
                Route::Schema(_) | Route::Topic(_) | Route::Publish(_) => {}
            }
        }
        if let Some(end) = arrived.end {
            self.on_call_end(end, now);
        }
    }

    fn on_call_end(&mut self, end: CallEnd, now: Instant) {
        match end.route.clone() {
            Route::Subscribe(topic) => self.on_subscribe_end(&topic, end, now),
            Route::Schema(schema_id) => self.on_schema_end(schema_id, end, now),
            Route::Topic(topic) => self.on_topic_end(topic, end, now),
            Route::Publish(_) => self.on_publish_end(end, now),
            Route::PublishStream(topic) => self.on_publish_stream_end(&topic, end, now),
        }
    }
}
