"""aiosfpubsub (PyPI) against pubsub-bench-emulator (preloaded events, TLS).

    python aiosfpubsub_client.py ENDPOINT INSTANCE_URL TENANT_ID TOKEN TOPIC EVENTS CERT

Subscribes from the earliest event with the maximum credit (num_requested=100), decodes each
event as the package's README does (`get_schema_json`, then `decode`), counts EVENTS events and
prints one JSON line with the fields every client of bench/pubsub_compare.py prints.

Pointing it at the emulator takes two changes, both outside the measured path:
- aiosfpubsub logs in with SOAP username/password only (the emulator serves OAuth): the
  `accesstoken`/`instanceurl`/`tenantid` metadata that `auth()` would set is set directly.
- It trusts certifi's CA bundle only: `_default_channel_credentials` is replaced by one that
  trusts the emulator's generated certificate (CERT).

How it requests events is its own: `fetch_req_stream` sends a FetchRequest of `num_requested`
every 5 seconds, whatever arrived, so with the API's maximum of 100 it is paced at 100 events
per 5 s. The result line says so (`paced_by`).
"""
import asyncio
import json
import resource
import sys
import time

import grpc
from aiosfpubsub import Client


def peak_rss_bytes():
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Done(Exception):
    """Raised from the callback to end the subscription."""


def main():
    endpoint, instance_url, tenant_id, token, topic, total, cert = sys.argv[1:8]
    total = int(total)
    host, port = endpoint.rsplit(":", 1)
    with open(cert, "rb") as f:
        roots = f.read()
    Client._default_channel_credentials = staticmethod(  # noqa: SLF001
        lambda: grpc.ssl_channel_credentials(roots))
    client = Client(url=instance_url, username="", password="", grpc_host=host,
                    grpc_port=int(port))
    client.metadata = (("accesstoken", token), ("instanceurl", instance_url),
                       ("tenantid", tenant_id))
    state = {"seen": 0, "first": None, "sink": 0}
    cpu0 = cpu_seconds()

    def callback(event, c):
        for evt in event.events:
            if state["first"] is None:
                state["first"] = time.monotonic()
            schema = c.get_schema_json(evt.event.schema_id)
            decoded = c.decode(schema, evt.event.payload)
            state["sink"] += 1 if decoded else 0
            state["seen"] += 1
            if state["seen"] == total:
                raise Done()

    try:
        asyncio.run(client.subscribe(topic=topic, replay_type="EARLIEST", replay_id=None,
                                     num_requested=100, callback=callback))
    except Done:
        pass
    last = time.monotonic()
    seconds = last - (state["first"] or last)
    cpu = cpu_seconds() - cpu0
    print(json.dumps({
        "client": "aiosfpubsub",
        "events": state["seen"],
        "seconds": seconds,
        "events_per_sec": state["seen"] / seconds if seconds else 0,
        "cpu_seconds": cpu,
        "cpu_us_per_event": cpu * 1e6 / max(state["seen"], 1),
        "peak_rss_bytes": peak_rss_bytes(),
        "paced_by": "a FetchRequest of 100 every 5 s (fetch_req_stream)",
    }), flush=True)


if __name__ == "__main__":
    main()
