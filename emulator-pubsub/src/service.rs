//! The `eventbus.v1.PubSub` service: each method authenticates, then hands over to its module.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, Streaming};

use crate::calls;
use crate::faults::Method;
use crate::proto::pub_sub_server::PubSub;
use crate::proto::{
    FetchRequest, FetchResponse, ManagedFetchRequest, ManagedFetchResponse, PublishRequest,
    PublishResponse, SchemaInfo, SchemaRequest, TopicInfo, TopicRequest,
};
use crate::schema::TopicKind;
use crate::state::Shared;
use crate::status;
use crate::{managed, publish, subscribe};

/// Responses a stream may queue before the sender waits for the client to read.
const STREAM_BUFFER: usize = 4;

pub(crate) struct Service {
    pub(crate) shared: Arc<Shared>,
}

type Stream<T> = ReceiverStream<Result<T, Status>>;

#[tonic::async_trait]
impl PubSub for Service {
    type SubscribeStream = Stream<FetchResponse>;
    type PublishStreamStream = Stream<PublishResponse>;
    type ManagedSubscribeStream = Stream<ManagedFetchResponse>;

    async fn subscribe(
        &self,
        request: Request<Streaming<FetchRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let rpc_id = calls::begin(&self.shared, Method::Subscribe, request.metadata())?;
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(subscribe::serve(
            Arc::clone(&self.shared),
            rpc_id,
            request.into_inner(),
            tx,
        ));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_schema(
        &self,
        request: Request<SchemaRequest>,
    ) -> Result<Response<SchemaInfo>, Status> {
        let rpc_id = calls::begin(&self.shared, Method::GetSchema, request.metadata())?;
        let id = request.into_inner().schema_id;
        let id = id.trim();
        if id.is_empty() {
            return Err(calls::fail(
                &self.shared,
                status::salesforce(
                    Code::InvalidArgument,
                    "schema.validation.failed",
                    "The schema id is blank.",
                    &rpc_id,
                ),
            ));
        }
        let json = self.shared.lock().schemas.get(id).cloned();
        match json {
            Some(schema_json) => Ok(Response::new(SchemaInfo {
                schema_json,
                schema_id: id.to_owned(),
                rpc_id,
            })),
            None => Err(calls::fail(
                &self.shared,
                status::salesforce(
                    Code::NotFound,
                    "schema.meta.permission",
                    &format!("The schema {id} doesn't exist or you don't have access to it."),
                    &rpc_id,
                ),
            )),
        }
    }

    async fn get_topic(
        &self,
        request: Request<TopicRequest>,
    ) -> Result<Response<TopicInfo>, Status> {
        let rpc_id = calls::begin(&self.shared, Method::GetTopic, request.metadata())?;
        let name = request.into_inner().topic_name;
        let name = name.trim();
        if name.is_empty() {
            return Err(calls::fail(
                &self.shared,
                status::salesforce(
                    Code::InvalidArgument,
                    "topic.validation.empty",
                    "The topic name is blank.",
                    &rpc_id,
                ),
            ));
        }
        let info = self.shared.lock().topics.get(name).map(|t| TopicInfo {
            topic_name: name.to_owned(),
            tenant_guid: self.shared.settings.org_id.clone(),
            can_publish: t.kind == TopicKind::PlatformEvent,
            can_subscribe: true,
            schema_id: t.schema.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
            rpc_id: rpc_id.clone(),
        });
        info.map(Response::new).ok_or_else(|| {
            calls::fail(
                &self.shared,
                status::topic_not_found(
                    &rpc_id,
                    name,
                    self.shared.settings.not_found_as_permission_denied,
                ),
            )
        })
    }

    async fn publish(
        &self,
        request: Request<PublishRequest>,
    ) -> Result<Response<PublishResponse>, Status> {
        let rpc_id = calls::begin(&self.shared, Method::Publish, request.metadata())?;
        publish::unary(&self.shared, &rpc_id, request.into_inner())
            .map(Response::new)
            .map_err(|s| calls::fail(&self.shared, s))
    }

    async fn publish_stream(
        &self,
        request: Request<Streaming<PublishRequest>>,
    ) -> Result<Response<Self::PublishStreamStream>, Status> {
        let rpc_id = calls::begin(&self.shared, Method::PublishStream, request.metadata())?;
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(publish::stream(
            Arc::clone(&self.shared),
            rpc_id,
            request.into_inner(),
            tx,
        ));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn managed_subscribe(
        &self,
        request: Request<Streaming<ManagedFetchRequest>>,
    ) -> Result<Response<Self::ManagedSubscribeStream>, Status> {
        let rpc_id = calls::begin(&self.shared, Method::ManagedSubscribe, request.metadata())?;
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(managed::serve(
            Arc::clone(&self.shared),
            rpc_id,
            request.into_inner(),
            tx,
        ));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
