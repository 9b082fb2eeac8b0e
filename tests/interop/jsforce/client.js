// jsforce streaming against the sfstream emulator, for the interoperability test
// (tests/tests/jsforce_interop.rs).
//
//   node client.js LOGIN_URL MODE CHANNEL[=REPLAY_ID] ...
//
// Logs in with jsforce's OAuth 2 password flow at LOGIN_URL (the emulator's default
// credentials), then subscribes to every CHANNEL:
//
//   MODE topic    conn.streaming.topic(CHANNEL).subscribe(listener): what most jsforce code
//                 does (new events only; jsforce shares one faye client per kind of channel)
//   MODE replay   one faye client per channel from conn.streaming.createClient with
//                 StreamingExtension.Replay(CHANNEL, REPLAY_ID) (-1 when no id is given), the
//                 documented way to resume; it replays from the last event it received after
//                 a re-handshake
//
// Prints one JSON line on stdout per thing that happens:
//   {"event":"login","instanceUrl":…}
//   {"event":"subscribed","channel":…}      {"event":"subscribe_failed","channel":…,"error":…}
//   {"event":"message","channel":…,"replayId":…}
//   {"event":"handshake","successful":…}    (replay mode: every /meta/handshake reply)
//   {"event":"fatal","error":…}
// Exits when its standard input closes (the test holds it open), or on SIGTERM / SIGINT.
'use strict';

const jsforce = require('jsforce');
const { StreamingExtension } = require('jsforce/api/streaming');

function print(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

const [loginUrl, mode, ...specs] = process.argv.slice(2);
if (!loginUrl || !['topic', 'replay'].includes(mode) || specs.length === 0) {
  process.stderr.write('usage: node client.js LOGIN_URL topic|replay CHANNEL[=REPLAY_ID] ...\n');
  process.exit(2);
}

function listener(channel) {
  return (message) => {
    const replayId = message && message.event ? message.event.replayId : undefined;
    print({ event: 'message', channel, replayId });
  };
}

function watch(channel, subscription) {
  subscription.then(
    () => print({ event: 'subscribed', channel }),
    (error) => print({ event: 'subscribe_failed', channel, error: String(error && error.message) }),
  );
}

const handshakeLog = {
  incoming(message, callback) {
    if (message.channel === '/meta/handshake') {
      print({ event: 'handshake', successful: message.successful === true });
    }
    callback(message);
  },
};

async function main() {
  const conn = new jsforce.Connection({
    oauth2: {
      loginUrl,
      clientId: 'emulator-client-id',
      clientSecret: 'emulator-client-secret',
    },
    version: '64.0',
  });
  await conn.login('user@example.com', 'passwordTOKEN');
  print({ event: 'login', instanceUrl: conn.instanceUrl });
  for (const spec of specs) {
    const [channel, replay] = spec.split('=');
    if (mode === 'topic') {
      watch(channel, conn.streaming.topic(channel).subscribe(listener(channel)));
    } else {
      const replayId = replay === undefined ? -1 : Number(replay);
      const client = conn.streaming.createClient([
        handshakeLog,
        new StreamingExtension.Replay(channel, replayId),
      ]);
      watch(channel, client.subscribe(channel, listener(channel)));
    }
  }
}

main().catch((error) => {
  print({ event: 'fatal', error: String(error && error.stack ? error.stack : error) });
  process.exit(1);
});

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
