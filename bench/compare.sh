#!/usr/bin/env bash
# Side by side: installs the other clients, builds the benchmarks, and runs every client against
# one emulator with the same events (bench/compare.py prints the table).
#
#   bench/compare.sh [compare.py options, e.g. --events 200000 --repeat 3]
#
# - aiosfstream: the maintained fork `aiosfstream-ng` (on `aiocometd-ng`) in bench/.venv. The
#   original aiosfstream 0.5 / aiocometd 0.4.5 (2019) do not run on Python >= 3.10 (they pass
#   the removed `loop` argument to asyncio), and this machine has Python 3.11.
# - jsforce, and the CometD JavaScript client (`cometd` + `cometd-nodejs-client`): npm, pinned
#   by bench/js/package-lock.json, installed into bench/js/node_modules.
# - sfstream: `throughput` for each runtime, built in release mode from this crate.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r python/requirements.txt
(cd js && npm ci --no-audit --no-fund --loglevel=error)
cargo build --release --quiet --bins
python3 compare.py "$@"
