// The result line every competitor client prints: the same fields as `throughput` prints.
import { readFileSync } from "node:fs";

function peakRssBytes() {
  const status = readFileSync("/proc/self/status", "utf8");
  const line = status.split("\n").find((l) => l.startsWith("VmHWM:"));
  return line ? Number(line.split(/\s+/)[1]) * 1024 : null;
}

export function report(client, events, seconds, cpuStart) {
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    JSON.stringify({
      client,
      events,
      seconds,
      events_per_sec: events / seconds,
      cpu_seconds: cpuSeconds,
      cpu_us_per_event: (cpuSeconds * 1e6) / events,
      peak_rss_bytes: peakRssBytes(),
    }),
  );
}
