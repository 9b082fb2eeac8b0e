#!/usr/bin/env python3
"""Runs sfstream's Pub/Sub client and other Pub/Sub clients against one emulator.

    python3 bench/pubsub_compare.py [--events 200000] [--repeat 3] [--payload-bytes 0]
        [--clients sfstream-tokio,sfstream-tokio-raw,npm,aiosfpubsub]
        [--events-for aiosfpubsub=300] [--json FILE]

`bench/pubsub-compare.sh` installs the other clients first and then runs this. It starts one
`pubsub-bench-emulator` (TLS with a generated certificate; `--events` Platform Events preloaded
on /event/Order__e), then runs each client in its own process, in turn, `--repeat` rounds (a
round runs every client once, so that a slow minute of a shared machine hits them all): each
subscribes from the earliest event with the maximum credit (100 outstanding), takes its events
and prints one JSON line — events/s from its first to its last event, CPU time per event, peak
RSS. The table gives the median of each figure over the rounds, and events/s as a multiple of
the fastest other client's median.

Standard library only: it runs with any Python 3.8+.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))


def release_bin(name):
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "target"))
    return os.path.join(target, "release", name)


def load():
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])


def client_commands(emu, events):
    """The command of each known client, as run against the emulator `emu` for `events`."""
    node = os.environ.get("NODE", "node")
    python = os.path.join(HERE, ".venv", "bin", "python")
    ours = [release_bin("pubsub-throughput"), "--url", emu["url"], "--org", emu["org_id"],
            "--token", emu["access_token"], "--events", str(events)]
    others = [emu["endpoint"], emu["url"], emu["org_id"], emu["access_token"], emu["topic"],
              str(events)]
    return {
        "sfstream-tokio": ours,
        "sfstream-tokio-raw": ours + ["--decode", "none"],
        "npm": [node, os.path.join(HERE, "js", "pubsub_npm_client.mjs")] + others,
        "aiosfpubsub": [python, os.path.join(HERE, "python", "aiosfpubsub_client.py")] + others
        + [emu["cert"]],
    }


def start_emulator(events, payload_bytes, cert):
    proc = subprocess.Popen(
        [release_bin("pubsub-bench-emulator"), "--events", str(events), "--cert", cert,
         "--payload-bytes", str(payload_bytes)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        sys.exit("pubsub-bench-emulator did not start")
    return proc, json.loads(line)


def run_client(name, cmd, cert, timeout):
    """Runs one client to its end; its result line (a dict) or an error."""
    env = dict(os.environ)
    # sfstream trusts the emulator's certificate as an application would: the platform
    # verifier's trust store, named by SSL_CERT_FILE.
    env["SSL_CERT_FILE"] = cert
    env.pop("SSL_CERT_DIR", None)
    before = load()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=HERE, env=env)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        out, err = proc.communicate()
    finally:
        timer.cancel()
    result = None
    for line in out.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
    if result is None or proc.returncode != 0:
        return {"client": name, "error": "exit %s: %s" % (proc.returncode, (err or out)[-2000:])}
    result["client"] = name
    result["load_before"] = before
    result["load_after"] = load()
    return result


def summarise(name, runs):
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"client": name, "error": runs[-1]["error"] if runs else "not run"}
    return {
        "client": name,
        "runs": [round(r["events_per_sec"]) for r in ok],
        "failed": len(runs) - len(ok),
        "events": ok[0]["events"],
        "events_per_sec": statistics.median(r["events_per_sec"] for r in ok),
        "cpu_us_per_event": statistics.median(r["cpu_us_per_event"] for r in ok),
        "peak_rss_bytes": statistics.median(r.get("peak_rss_bytes") or 0 for r in ok),
        "loads": [r["load_before"].split()[0] for r in ok],
    }


def table(summaries, emu):
    others = [s for s in summaries if "error" not in s and not s["client"].startswith("sfstream")]
    best = max(others, key=lambda s: s["events_per_sec"], default=None)
    print()
    print("Pub/Sub: %d preloaded Platform Events, subscribe from EARLIEST, 100 outstanding; "
          "one emulator (TLS) on this machine; medians of the runs"
          % emu["events"])
    head = "%-20s %8s %11s %10s %10s %10s  %s" % (
        "client", "events", "events/s", "x fastest", "CPU us/ev", "peak RSS",
        "runs (events/s) / load 1-min before each")
    print(head)
    print("-" * len(head))
    for s in summaries:
        if "error" in s:
            last = s["error"].strip().splitlines()[-1] if s["error"].strip() else ""
            print("%-20s FAILED: %s" % (s["client"], last))
            continue
        ratio = "%.2f" % (s["events_per_sec"] / best["events_per_sec"]) if best else "-"
        print("%-20s %8d %11.0f %10s %10.2f %9.1fM  %s / %s%s" % (
            s["client"], s["events"], s["events_per_sec"], ratio, s["cpu_us_per_event"],
            s["peak_rss_bytes"] / 1e6, " ".join(str(r) for r in s["runs"]),
            " ".join(s["loads"]), " (%d failed)" % s["failed"] if s["failed"] else ""))
    if best:
        print("x fastest: events/s relative to the fastest other client (%s, %.0f events/s)"
              % (best["client"], best["events_per_sec"]))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--payload-bytes", type=int, default=0,
                   help="pad each event's order number to this many characters")
    p.add_argument("--clients", default="sfstream-tokio,sfstream-tokio-raw,npm,aiosfpubsub")
    p.add_argument("--events-for", default="aiosfpubsub=300",
                   help="fewer events for slow clients, NAME=N,… (aiosfpubsub asks for 100 "
                        "events every 5 s: 300 take 15 s)")
    p.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    p.add_argument("--timeout", type=float, default=900, help="seconds per client run")
    p.add_argument("--json", help="also write every run to this file")
    args = p.parse_args()
    events_for = dict(kv.split("=") for kv in args.events_for.split(",") if kv)
    clients = [c for c in args.clients.split(",") if c]
    tmp = tempfile.mkdtemp(prefix="pubsub-bench-")
    cert = os.path.join(tmp, "emulator.pem")
    emulator, emu = start_emulator(args.events, args.payload_bytes, cert)
    print("emulator: %s, %d events preloaded in %.1f s; load %s"
          % (emu["url"], emu["events"], emu["preload_seconds"], load()), flush=True)
    runs = {c: [] for c in clients}
    try:
        for _ in range(args.repeat):
            for name in clients:
                events = min(int(events_for.get(name, args.events)), args.events)
                cmds = client_commands(emu, events)
                if name not in cmds:
                    sys.exit("unknown client %s: %s" % (name, ", ".join(cmds)))
                r = run_client(name, cmds[name], cert, args.timeout)
                print(json.dumps(r), flush=True)
                runs[name].append(r)
    finally:
        emulator.stdin.close()
        emulator.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    summaries = [summarise(c, runs[c]) for c in clients]
    table(summaries, emu)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"emulator": emu, "runs": runs, "summaries": summaries}, f, indent=1)


if __name__ == "__main__":
    main()
