#!/usr/bin/env bash
# Pub/Sub side by side: installs the other clients, builds the benchmarks, and runs every client
# against one Pub/Sub emulator (TLS) with the same preloaded events (bench/pubsub_compare.py
# prints the table).
#
#   bench/pubsub-compare.sh [pubsub_compare.py options, e.g. --events 200000 --repeat 5]
#
# - the npm salesforce-pubsub-api-client: pinned by bench/js/package-lock.json, installed into
#   bench/js/node_modules.
# - aiosfpubsub (PyPI): in bench/.venv, from bench/python/requirements-pubsub.txt.
# - sfstream: `pubsub-throughput` (tokio), built in release mode from this crate.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r python/requirements-pubsub.txt
(cd js && npm ci --no-audit --no-fund --loglevel=error)
cargo build --release --quiet --bin pubsub-bench-emulator --bin pubsub-throughput
python3 pubsub_compare.py "$@"
