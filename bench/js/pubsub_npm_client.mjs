// The npm salesforce-pubsub-api-client against pubsub-bench-emulator (preloaded events, TLS).
//
//   node pubsub_npm_client.mjs ENDPOINT INSTANCE_URL TENANT_ID TOKEN TOPIC EVENTS
//
// Connects, subscribes from the earliest event with the client's maximum batch (no count: it
// requests 100 events, its MAX_EVENT_BATCH_SIZE, and 100 more each time a batch is in), counts
// EVENTS events (decoded by the client from Avro), then prints one JSON line: events, seconds
// from the first to the last event, events/s, CPU seconds of this process (user + system, from
// just before subscribing to the last event) and peak RSS.
import PubSubApiClient from "salesforce-pubsub-api-client";
import { report } from "./report.mjs";

const [endpoint, instanceUrl, organizationId, accessToken, topic, total] = [
  ...process.argv.slice(2, 7),
  Number(process.argv[7]),
];

// The client logs through console by default; stdout carries the result line only.
const quiet = { debug() {}, info() {}, warn: console.error, error: console.error };

const client = new PubSubApiClient(
  {
    authType: "user-supplied",
    accessToken,
    instanceUrl,
    organizationId,
    pubSubEndpoint: endpoint,
    // The emulator's certificate is self-signed, generated at start; this client takes no CA file.
    rejectUnauthorizedSsl: false,
  },
  quiet,
);

try {
  await client.connect();
} catch (error) {
  console.error("connect failed", error);
  process.exit(1);
}

let seen = 0;
let first = 0n;
let sink = 0;
const cpuStart = process.cpuUsage();

client.subscribeFromEarliestEvent(topic, (subscription, type, data) => {
  if (type === "event") {
    if (seen === 0) first = process.hrtime.bigint();
    seen += 1;
    // What an application does at the least: look at the event.
    sink += data.payload ? 1 : 0;
    if (seen === total) {
      const seconds = Number(process.hrtime.bigint() - first) / 1e9;
      report("npm salesforce-pubsub-api-client", seen, seconds, cpuStart);
      client.close();
      process.exit(sink === seen ? 0 : 2);
    }
  } else if (type === "error") {
    console.error("subscription error", data);
    process.exit(1);
  } else if (type === "end") {
    console.error(`the stream ended after ${seen} events`);
    process.exit(1);
  }
});
