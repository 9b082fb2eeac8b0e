// The CometD JavaScript client (npm `cometd` + `cometd-nodejs-client`) against the emulator.
//
//   node cometd_client.mjs BASE_URL CHANNEL EVENTS
//
// Handshakes, subscribes, prints READY, counts EVENTS messages on CHANNEL, then prints one JSON
// line: events, seconds from the first to the last event, events/s, CPU seconds of this process
// (user + system, from READY to the last event) and peak RSS.
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import { report } from "./report.mjs";

adapt();

const [base, channel, total] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const cometd = new CometD();
cometd.configure({
  url: `${base}/cometd/64.0`,
  // Salesforce (and the emulator) serve one URL: no /handshake, /connect suffixes.
  appendMessageTypeToURL: false,
  requestHeaders: { Authorization: "Bearer emulator-access-token" },
  logLevel: "warn",
});

let seen = 0;
let first = 0n;
let cpuStart = process.cpuUsage();

function onMessage(message) {
  if (seen === 0) first = process.hrtime.bigint();
  seen += 1;
  if (seen === total) {
    const seconds = Number(process.hrtime.bigint() - first) / 1e9;
    report("cometd-js", seen, seconds, cpuStart);
    cometd.disconnect(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000);
  }
}

cometd.handshake((reply) => {
  if (!reply.successful) {
    console.error("handshake failed", JSON.stringify(reply));
    process.exit(1);
  }
  cometd.subscribe(channel, onMessage, (sub) => {
    if (!sub.successful) {
      console.error("subscribe failed", JSON.stringify(sub));
      process.exit(1);
    }
    cpuStart = process.cpuUsage();
    console.log("READY");
  });
});
