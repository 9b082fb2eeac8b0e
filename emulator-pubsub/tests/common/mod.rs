//! The test harness: a started emulator and a tonic client over real loopback HTTP/2.
#![allow(dead_code, reason = "each test file uses a part of the harness")]
#![allow(unreachable_pub, reason = "a module shared by test crates")]

use std::time::Duration;

use bytes::Bytes;
use sfstream_emulator_pubsub::proto::pub_sub_client::PubSubClient;
use sfstream_emulator_pubsub::proto::{
    ConsumerEvent, FetchRequest, FetchResponse, ManagedFetchRequest, ManagedFetchResponse,
    PublishRequest, PublishResponse, ReplayPreset,
};
use sfstream_emulator_pubsub::{PubSubEmulator, PubSubEmulatorBuilder};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Request, Status, Streaming};

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(5);

pub type Client = PubSubClient<Channel>;

pub async fn start(builder: PubSubEmulatorBuilder) -> (PubSubEmulator, Client) {
    let emulator = builder.start().await.expect("emulator starts");
    let client = client(&emulator).await;
    (emulator, client)
}

pub async fn client(emulator: &PubSubEmulator) -> Client {
    let channel = Channel::from_shared(emulator.url().to_owned())
        .expect("valid url")
        .connect()
        .await
        .expect("connects");
    PubSubClient::new(channel).max_decoding_message_size(64 * 1024 * 1024)
}

/// A request with the emulator's default credentials.
pub fn auth<T>(emulator: &PubSubEmulator, message: T) -> Request<T> {
    with_credentials(
        message,
        emulator.access_token(),
        emulator.url(),
        emulator.org_id(),
    )
}

pub fn with_credentials<T>(
    message: T,
    token: &str,
    instance_url: &str,
    tenant: &str,
) -> Request<T> {
    let mut request = Request::new(message);
    let md = request.metadata_mut();
    md.insert("accesstoken", token.parse().expect("ascii"));
    md.insert("instanceurl", instance_url.parse().expect("ascii"));
    md.insert("tenantid", tenant.parse().expect("ascii"));
    request
}

pub fn error_code(status: &Status) -> Option<String> {
    status
        .metadata()
        .get("error-code")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub fn rpc_id(status: &Status) -> Option<String> {
    status
        .metadata()
        .get("rpc-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Asserts a Salesforce-generated error: code, `error-code` suffix, `rpc-id` trailer and the
/// `rpcId:` message suffix.
pub fn assert_salesforce_error(status: &Status, code: tonic::Code, suffix: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(
        error_code(status).as_deref(),
        Some(format!("sfdc.platform.eventbus.grpc.{suffix}").as_str()),
        "{status:?}"
    );
    let id = rpc_id(status).expect("rpc-id trailer");
    assert!(
        status.message().ends_with(&format!("rpcId: {id}")),
        "{:?}",
        status.message()
    );
}

/// One bidirectional call: requests go in through `tx`, responses come out of `rx`.
pub struct Bidi<Req, Resp> {
    pub tx: mpsc::Sender<Req>,
    pub rx: Streaming<Resp>,
}

impl<Req, Resp> Bidi<Req, Resp> {
    pub async fn send(&self, request: Req) {
        self.tx.send(request).await.expect("stream open");
    }

    /// The next message, `Ok(None)` at a clean end, `Err` on an error status; panics after
    /// [`WAIT`].
    pub async fn next(&mut self) -> Result<Option<Resp>, Status> {
        tokio::time::timeout(WAIT, self.rx.message())
            .await
            .expect("a response or the end within the wait")
    }

    /// The next message, which must be one.
    pub async fn message(&mut self) -> Resp {
        self.next().await.expect("no error").expect("not the end")
    }

    /// The error status that ends the stream.
    pub async fn error(&mut self) -> Status {
        loop {
            match self.next().await {
                Err(status) => return status,
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the stream ended without an error"),
            }
        }
    }

    /// Asserts that nothing at all arrives for `d`.
    pub async fn assert_quiet(&mut self, d: Duration) {
        if let Ok(got) = tokio::time::timeout(d, self.rx.message()).await {
            panic!("expected silence, got {:?}", got.map(|m| m.is_some()));
        }
    }
}

pub type Subscription = Bidi<FetchRequest, FetchResponse>;

pub fn fetch(topic: &str, preset: ReplayPreset, replay: Option<&[u8]>, n: i32) -> FetchRequest {
    FetchRequest {
        topic_name: topic.to_owned(),
        replay_preset: preset.into(),
        replay_id: replay.map(Bytes::copy_from_slice).unwrap_or_default(),
        num_requested: n,
        auth_refresh: String::new(),
    }
}

pub fn more(n: i32) -> FetchRequest {
    FetchRequest {
        num_requested: n,
        ..FetchRequest::default()
    }
}

pub async fn subscribe(
    client: &mut Client,
    emulator: &PubSubEmulator,
    first: FetchRequest,
) -> Result<Subscription, Status> {
    let (tx, rx) = mpsc::channel(16);
    tx.send(first).await.expect("send first");
    let response = client
        .subscribe(auth(emulator, ReceiverStream::new(rx)))
        .await?;
    Ok(Bidi {
        tx,
        rx: response.into_inner(),
    })
}

pub async fn managed(
    client: &mut Client,
    emulator: &PubSubEmulator,
    first: ManagedFetchRequest,
) -> Result<Bidi<ManagedFetchRequest, ManagedFetchResponse>, Status> {
    let (tx, rx) = mpsc::channel(16);
    tx.send(first).await.expect("send first");
    let response = client
        .managed_subscribe(auth(emulator, ReceiverStream::new(rx)))
        .await?;
    Ok(Bidi {
        tx,
        rx: response.into_inner(),
    })
}

pub async fn publish_stream(
    client: &mut Client,
    emulator: &PubSubEmulator,
) -> Result<Bidi<PublishRequest, PublishResponse>, Status> {
    let (tx, rx) = mpsc::channel(16);
    let response = client
        .publish_stream(auth(emulator, ReceiverStream::new(rx)))
        .await?;
    Ok(Bidi {
        tx,
        rx: response.into_inner(),
    })
}

/// Reads responses until `n` events arrived (skipping keepalives); checks the credit arithmetic
/// of every response on the way against `owed` (what the stream is owed before).
pub async fn events(sub: &mut Subscription, n: usize) -> Vec<ConsumerEvent> {
    let mut out = Vec::new();
    while out.len() < n {
        let response = sub.message().await;
        out.extend(response.events);
    }
    assert_eq!(out.len(), n, "more events than expected");
    out
}

pub fn replay_u64(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes.try_into().expect("8 bytes"))
}
