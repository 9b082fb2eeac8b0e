"""aiosfstream against the sfstream emulator, for the interoperability test
(tests/tests/aiosfstream_interop.rs).

    .venv/bin/python client.py LOGIN_URL CHANNEL ...

Logs in with aiosfstream's password authenticator at LOGIN_URL (the emulator's default
credentials), subscribes to every CHANNEL (new events only, then replay from the last received
id after a re-handshake: aiosfstream's replay storage is a dict) and prints one JSON line on
stdout per thing that happens:

    {"event": "subscribed", "channel": ...}
    {"event": "message", "channel": ..., "replayId": ...}
    {"event": "fatal", "error": ...}

Exits when its standard input closes (the test holds it open).

aiosfstream 0.5.0 (on aiocometd 0.4.5) was written before Python 3.10 removed the `loop`
argument of asyncio's primitives; the shim below drops that argument (the running loop is the
one it meant) and changes nothing else.
"""

import asyncio
import functools
import json
import os
import sys


def _without_loop(f):
    @functools.wraps(f)
    def call(*args, **kwargs):
        kwargs.pop("loop", None)
        return f(*args, **kwargs)

    return call


for _name in ("Semaphore", "Queue", "Event", "Lock", "Condition", "sleep", "wait_for",
              "wait", "gather", "ensure_future", "shield", "as_completed"):
    _orig = getattr(asyncio, _name)
    if isinstance(_orig, type):
        setattr(asyncio, _name, type(_name, (_orig,), {"__init__": _without_loop(_orig.__init__)}))
    else:
        setattr(asyncio, _name, _without_loop(_orig))

from aiosfstream import Client, PasswordAuthenticator  # noqa: E402 (after the shim)


def emit(line):
    print(json.dumps(line), flush=True)


class EmulatorLogin(PasswordAuthenticator):
    """The password flow at the emulator instead of login.salesforce.com."""

    def __init__(self, login_url):
        super().__init__(consumer_key="emulator-client-id",
                         consumer_secret="emulator-client-secret",
                         username="user@example.com", password="passwordTOKEN")
        self._login_url = login_url

    @property
    def _token_url(self):
        return self._login_url + "/services/oauth2/token"


async def stream(login_url, channels):
    async with Client(EmulatorLogin(login_url), replay={}) as client:
        for channel in channels:
            await client.subscribe(channel)
            emit({"event": "subscribed", "channel": channel})
        async for message in client:
            event = message.get("data", {}).get("event", {})
            emit({"event": "message", "channel": message.get("channel"),
                  "replayId": event.get("replayId")})


async def main(login_url, channels):
    streaming = asyncio.ensure_future(stream(login_url, channels))
    stdin_closed = asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    done, _ = await asyncio.wait([streaming, stdin_closed], return_when=asyncio.FIRST_COMPLETED)
    if streaming in done:
        error = streaming.exception()
        emit({"event": "fatal", "error": repr(error)})
        sys.exit(1)
    # Standard input closed: the test is done with this client. Leave at once; cancelling
    # aiocometd's tasks would only print their cancellation tracebacks.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.stderr.write("usage: client.py LOGIN_URL CHANNEL ...\n")
        sys.exit(2)
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except Exception as error:  # anything else the client raises is the test's failure
        emit({"event": "fatal", "error": repr(error)})
        sys.exit(1)
