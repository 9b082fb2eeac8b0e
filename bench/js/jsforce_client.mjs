// jsforce (its streaming API, on the faye client) against the emulator.
//
//   node jsforce_client.mjs BASE_URL CHANNEL EVENTS
//
// Subscribes, prints READY once the subscription is confirmed, counts EVENTS messages, then
// prints one JSON line like the other clients.
import jsforce from "jsforce";
import { report } from "./report.mjs";

const [base, channel, total] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const conn = new jsforce.Connection({
  instanceUrl: base,
  accessToken: "emulator-access-token",
  version: "64.0",
});

let seen = 0;
let first = 0n;
let cpuStart = process.cpuUsage();

const subscription = conn.streaming.topic(channel).subscribe(() => {
  if (seen === 0) first = process.hrtime.bigint();
  seen += 1;
  if (seen === total) {
    const seconds = Number(process.hrtime.bigint() - first) / 1e9;
    report("jsforce", seen, seconds, cpuStart);
    process.exit(0);
  }
});
subscription.then(
  () => {
    cpuStart = process.cpuUsage();
    console.log("READY");
  },
  (error) => {
    console.error("subscribe failed", error && (error.message || JSON.stringify(error)));
    process.exit(1);
  },
);
