"""aiosfstream (the maintained fork, aiosfstream-ng on aiocometd-ng) against the emulator.

    python aiosfstream_client.py BASE_URL CHANNEL EVENTS

Authenticates with the password flow at the emulator's token endpoint (aiosfstream hard-codes
login.salesforce.com, so the authenticator's token URL is overridden), subscribes, prints READY,
counts EVENTS messages, then prints one JSON line like the other clients.

The instance URL is rewritten from 127.0.0.1 to localhost: aiohttp keeps no cookies for IP
addresses, and Salesforce needs its BAYEUX_BROWSER cookie back (see `authenticate`).
"""
import asyncio
import json
import resource
import sys
import time

from aiosfstream_ng import Client, PasswordAuthenticator


class EmulatorAuthenticator(PasswordAuthenticator):
    """The password flow against `{base}/services/oauth2/token`."""

    def __init__(self, base: str) -> None:
        super().__init__(
            consumer_key="emulator-client-id",
            consumer_secret="emulator-client-secret",
            username="user@example.com",
            password="passwordTOKEN",
        )
        self._base = base

    @property
    def _token_url(self) -> str:
        return f"{self._base}/services/oauth2/token"

    async def authenticate(self) -> None:
        await super().authenticate()
        # aiohttp's default cookie jar refuses cookies from IP-address hosts, and the emulator
        # (listening on 127.0.0.1) names itself by address: the BAYEUX_BROWSER cookie of the
        # handshake would be dropped and every connect refused ("no BAYEUX_BROWSER cookie
        # present"). Against Salesforce the instance is a host name; use one here too.
        if self.instance_url:
            self.instance_url = self.instance_url.replace("//127.0.0.1:", "//localhost:")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


async def main(base: str, channel: str, total: int) -> None:
    # At most 10,000 prefetched messages (aiocometd then stops reading; it drops nothing).
    client = Client(EmulatorAuthenticator(base), max_pending_count=10_000)
    await client.open()
    await client.subscribe(channel)
    cpu_start = cpu_seconds()
    print("READY", flush=True)
    seen = 0
    first = 0.0
    async for _message in client:
        if seen == 0:
            first = time.perf_counter()
        seen += 1
        if seen == total:
            break
    seconds = time.perf_counter() - first
    cpu = cpu_seconds() - cpu_start
    print(
        json.dumps(
            {
                "client": "aiosfstream",
                "events": seen,
                "seconds": seconds,
                "events_per_sec": seen / seconds,
                "cpu_seconds": cpu,
                "cpu_us_per_event": cpu * 1e6 / seen,
                "peak_rss_bytes": peak_rss_bytes(),
            }
        ),
        flush=True,
    )
    await client.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
