// The npm salesforce-pubsub-api-client against the sfstream Pub/Sub emulator, driven by
// tests/tests/pubsub_npm_interop.rs. It prints what happens as JSON lines on stdout:
//   node client.mjs ENDPOINT INSTANCE_URL TENANT_ID TOKEN subscribe TOPIC[=REPLAY_ID]…
//     subscribes (after the replay id when given, else to new events) and prints
//     {"event":"subscribed","channel"} at the stream's first keepalive, then
//     {"event":"message","channel","replayId","payload"} per event, until stdin closes.
//   node client.mjs ENDPOINT INSTANCE_URL TENANT_ID TOKEN publish TOPIC JSON_PAYLOAD…
//     publishes each payload (Avro-encoded by the client with the topic's schema) and prints
//     {"event":"published","channel","replayId","correlationKey"} per event, then exits.
// Any failure prints {"event":"fatal","error"}.
import PubSubApiClient from 'salesforce-pubsub-api-client';

const [endpoint, instanceUrl, organizationId, accessToken, mode, ...rest] = process.argv.slice(2);

// Longs beyond 2^53 (a change event's commitNumber) decode to BigInt, which JSON has no
// number for: they are printed as decimal strings.
function print(line) {
  const json = JSON.stringify(line, (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value);
  process.stdout.write(`${json}\n`);
}

function fatal(error) {
  print({ event: 'fatal', error: String(error?.stack ?? error), cause: String(error?.cause ?? '') });
  process.exit(1);
}

// The client logs through console by default; stdout carries the JSON lines only.
const quiet = { debug() {}, info() {}, warn: console.error, error: console.error };

const client = new PubSubApiClient(
  {
    authType: 'user-supplied',
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
  fatal(error);
}

if (mode === 'subscribe') {
  for (const spec of rest) {
    const [topic, replayId] = spec.split('=');
    let announced = false;
    const callback = (subscription, type, data) => {
      if (type === 'event') {
        print({ event: 'message', channel: topic, replayId: data.replayId, payload: data.payload });
      } else if (type === 'grpcKeepAlive' && !announced) {
        announced = true;
        print({ event: 'subscribed', channel: topic });
      } else if (type === 'error') {
        fatal(data);
      } else if (type === 'end') {
        fatal(new Error(`the stream of ${topic} ended`));
      }
    };
    if (replayId === undefined) {
      client.subscribe(topic, callback);
    } else {
      client.subscribeFromReplayId(topic, callback, null, Number(replayId));
    }
  }
  process.stdin.resume();
  process.stdin.on('end', () => {
    client.close();
    process.exit(0);
  });
} else if (mode === 'publish') {
  const [topic, ...payloads] = rest;
  try {
    for (const json of payloads) {
      const result = await client.publish(topic, JSON.parse(json));
      print({
        event: 'published',
        channel: topic,
        replayId: result.replayId,
        correlationKey: result.correlationKey,
      });
    }
  } catch (error) {
    fatal(error);
  }
  client.close();
  process.exit(0);
} else {
  fatal(new Error(`unknown mode ${mode}: use subscribe or publish`));
}
