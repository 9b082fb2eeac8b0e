#!/usr/bin/env bash
# Runs every test of the workspace: installs what the tests need (pinned third-party software
# for the interoperability tests: the faye server, jsforce and salesforce-pubsub-api-client from
# the npm registry, aiosfstream from PyPI in a virtual environment; NATS servers for the bridge),
# then the Rust test suites.
# A failed install stops the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tests/interop/faye/package-lock.json ]; then
  npm ci --prefix tests/interop/faye --no-audit --no-fund --loglevel=error
fi
# What users build: no `rsa`, one version each of the crates that must not be duplicated.
./scripts/check-deps.sh
# Every crate meant for users has what crates.io and docs.rs need, and packages.
./scripts/check-publish.sh
# The bridge's tests run their own NATS servers: Debian's 2.9 and a pinned current release.
./scripts/install-nats.sh
npm ci --prefix tests/interop/jsforce --no-audit --no-fund --loglevel=error
npm ci --prefix tests/interop/pubsub-npm --no-audit --no-fund --loglevel=error
python3 -m venv tests/interop/aiosfstream/.venv
tests/interop/aiosfstream/.venv/bin/pip install --quiet --disable-pip-version-check \
  -r tests/interop/aiosfstream/requirements.txt
cargo test --workspace --all-targets
cargo test --workspace --doc
# The blocking crate's Pub/Sub API (feature `pubsub`, off by default): its tests (each declares
# `required-features`: the workspace run above has them only while another member turns the
# feature on) and its documentation's examples.
cargo test -p sfstream-blocking --features pubsub --test 'pubsub_*'
cargo test -p sfstream-blocking --features pubsub --doc
# The async-std runtime's `surf` feature (unmaintained upstream; kept because the design names it).
cargo test -p sfstream-async-std --no-default-features --features surf
cargo test -p sfstream-tests --features surf --test async_std surf::
cargo test -p sfstream-tests --features surf --test redirects --test trace_logs async_std_surf
