// A faye Bayeux server for sfstream's interoperability test (tests/tests/faye_interop.rs).
//
//   node server.js [PORT]      PORT 0 (the default) picks a free one
//
// Listens on 127.0.0.1 and prints one JSON line on stdout once it does: {"port": N}.
// Exits when its standard input closes (the test holds it open), or on SIGTERM / SIGINT.
//
//   POST /bayeux                           the Bayeux endpoint (faye's NodeAdapter)
//   POST /publish?channel=/chat/x&n=5      publishes n messages {"seq": i, "text": "message i"}
//                                          (i = 1..n, in order) through faye's own server-side
//                                          client, answers {"published": n} once faye accepted
//                                          them all
//   GET  /log                              what faye reported, in order: [{"event": "handshake",
//                                          "clientId": …}, {"event": "subscribe", "clientId": …,
//                                          "channel": …}, … "unsubscribe", "disconnect"]
'use strict';

const http = require('http');
const faye = require('faye');

const port = Number(process.argv[2] || 0);
// A short long-poll hold (seconds) keeps the test fast; faye advertises it as advice.timeout.
const bayeux = new faye.NodeAdapter({ mount: '/bayeux', timeout: 2 });
const publisher = bayeux.getClient();
const log = [];

bayeux.on('handshake', (clientId) => log.push({ event: 'handshake', clientId }));
bayeux.on('subscribe', (clientId, channel) => log.push({ event: 'subscribe', clientId, channel }));
bayeux.on('unsubscribe', (clientId, channel) =>
  log.push({ event: 'unsubscribe', clientId, channel }));
bayeux.on('disconnect', (clientId) => log.push({ event: 'disconnect', clientId }));

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'POST' && url.pathname === '/publish') {
    const channel = url.searchParams.get('channel');
    const n = Number(url.searchParams.get('n') || 1);
    if (!channel || !Number.isInteger(n) || n < 1 || n > 10000) {
      answer(res, 400, { error: 'give ?channel=/some/channel&n=COUNT (1..10000)' });
      return;
    }
    // One after the other: faye's server-side client sends the first message of a burst after
    // its own handshake, so publishing all at once would deliver message 1 last.
    (async () => {
      for (let i = 1; i <= n; i += 1) {
        await publisher.publish(channel, { seq: i, text: `message ${i}` });
      }
    })().then(
      () => answer(res, 200, { published: n }),
      (error) => answer(res, 500, { error: String(error && error.message ? error.message : error) }),
    );
    return;
  }
  if (req.method === 'GET' && url.pathname === '/log') {
    answer(res, 200, log);
    return;
  }
  answer(res, 404, { error: `no route ${req.method} ${url.pathname}` });
});

bayeux.attach(server);

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

function stop() {
  server.close();
  process.exit(0);
}
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
