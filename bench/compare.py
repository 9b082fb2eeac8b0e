#!/usr/bin/env python3
"""Runs sfstream and other streaming clients against one emulator with the same events.

    python3 bench/compare.py [--events 200000] [--payload-bytes 500] [--batch 1000]
                             [--clients sfstream-tokio,aiosfstream,jsforce,cometd-js] [--repeat 1]

`bench/compare.sh` installs the other clients first and then runs this. Each client is started
in its own process, subscribes, and prints READY; then this script publishes `--events` events in
bulk (pre-serialised batches of `--batch`) and waits for the client's result line: events/s from
its first to its last event, CPU time per event, peak RSS. The table at the end gives each
figure and its ratio to the fastest non-sfstream client.

Standard library only: it runs with any Python 3.8+.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CHANNEL = "/event/Order__e"


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "target"))


def release_bin(name):
    return os.path.join(target_dir(), "release", name)


def client_commands(base, events):
    """The command of each known client, as run against `base` for `events` events."""
    node = os.environ.get("NODE", "node")
    python = os.path.join(HERE, ".venv", "bin", "python")
    throughput = release_bin("throughput")
    common = ["--emulator", base, "--events", str(events)]
    return {
        "sfstream-tokio": [throughput, "--runtime", "tokio"] + common,
        "sfstream-async-std": [throughput, "--runtime", "async-std"] + common,
        "sfstream-blocking": [throughput, "--runtime", "blocking"] + common,
        "aiosfstream": [python, os.path.join(HERE, "python", "aiosfstream_client.py"),
                        base, CHANNEL, str(events)],
        "jsforce": [node, os.path.join(HERE, "js", "jsforce_client.mjs"), base, CHANNEL,
                    str(events)],
        "cometd-js": [node, os.path.join(HERE, "js", "cometd_client.mjs"), base, CHANNEL,
                      str(events)],
    }


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.loads(resp.read())


def load():
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])


def start_emulator(batch):
    proc = subprocess.Popen([release_bin("bench-emulator"), "--max-batch", str(batch)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, json.loads(line)["base_url"]


def run_client(name, cmd, base, args):
    """Starts one client, publishes once it is READY, returns its result (a dict)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=HERE)
    stderr = []
    threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True).start()
    ready = False
    lines = []
    deadline = started + args.ready_timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.strip() == "READY":
            ready = True
            break
        lines.append(line)
    if not ready:
        proc.kill()
        proc.wait()
        return {"client": name, "error": "never READY: " + "".join(stderr + lines)[-2000:]}
    load_before = load()
    summary = post(base, "/_emulator/publish_bulk",
                   {"channel": CHANNEL, "count": args.events,
                    "payload_size": args.payload_bytes})
    result = {}
    timer = threading.Timer(args.timeout, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                result = json.loads(line)
    finally:
        timer.cancel()
        proc.wait()
    if not result:
        return {"client": name, "error": "no result (exit %s): %s"
                % (proc.returncode, "".join(stderr)[-2000:])}
    result["client"] = name
    result["load_before"] = load_before
    result["load_after"] = load()
    result["bulk"] = summary
    return result


def table(results, args):
    ok = [r for r in results if "error" not in r]
    others = [r for r in ok if not r["client"].startswith("sfstream")]
    best = max((r["events_per_sec"] for r in others), default=None)
    print()
    print("%d events of %d payload bytes, batches of %d, one emulator on this machine"
          % (args.events, args.payload_bytes, args.batch))
    head = "%-20s %12s %10s %12s %10s %14s  %s" % (
        "client", "events/s", "x fastest", "CPU us/ev", "peak RSS", "load", "")
    print(head)
    print("-" * len(head))
    for r in results:
        if "error" in r:
            print("%-20s %s" % (r["client"], "FAILED: " + r["error"].strip().splitlines()[-1]
                                if r["error"].strip() else "FAILED"))
            continue
        ratio = "%.2f" % (r["events_per_sec"] / best) if best else "-"
        print("%-20s %12.0f %10s %12.2f %9.1fM %14s" % (
            r["client"], r["events_per_sec"], ratio, r["cpu_us_per_event"],
            (r.get("peak_rss_bytes") or 0) / 1e6, r["load_before"]))
    if best:
        print("x fastest: events/s relative to the fastest other client (%.0f events/s)" % best)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--payload-bytes", type=int, default=500)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--clients", default="sfstream-tokio,sfstream-async-std,sfstream-blocking,"
                   "aiosfstream,jsforce,cometd-js")
    p.add_argument("--events-for", default="aiosfstream=50000",
                   help="fewer events for slow clients, NAME=N,… (their rate is steady)")
    p.add_argument("--repeat", type=int, default=1, help="runs per client; the best is kept")
    p.add_argument("--ready-timeout", type=float, default=60)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--json", help="also write every result to this file")
    p.add_argument("--wrap", default="",
                   help="a command to run each client under, e.g. "
                        "'valgrind --tool=callgrind --callgrind-out-file=cg.%%p'")
    args = p.parse_args()
    events_for = dict(kv.split("=") for kv in args.events_for.split(",") if kv)
    emulator, base = start_emulator(args.batch)
    results = []
    try:
        for name in [c for c in args.clients.split(",") if c]:
            events = int(events_for.get(name, args.events))
            cmds = client_commands(base, events)
            if name not in cmds:
                sys.exit("unknown client %s: %s" % (name, ", ".join(cmds)))
            best = None
            for _ in range(args.repeat):
                sub = argparse.Namespace(**vars(args))
                sub.events = events
                r = run_client(name, args.wrap.split() + cmds[name], base, sub)
                print(json.dumps(r), flush=True)
                if best is None or "error" in best or (
                        "error" not in r and r["events_per_sec"] > best["events_per_sec"]):
                    best = r
            results.append(best)
    finally:
        emulator.stdin.close()
        emulator.wait()
    table(results, args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
