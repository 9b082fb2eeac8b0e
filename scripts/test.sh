#!/usr/bin/env bash
# Runs every test of the workspace: installs what the tests need (the faye server for the
# interoperability test, from the npm registry), then the Rust test suites.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tests/interop/faye/package-lock.json ]; then
  npm ci --prefix tests/interop/faye --no-audit --no-fund --loglevel=error
fi
# What users build: no `rsa`, one version each of the crates that must not be duplicated.
./scripts/check-deps.sh
cargo test --workspace --all-targets
cargo test --workspace --doc
# The async-std runtime's `surf` feature (unmaintained upstream; kept because the design names it).
cargo test -p sfstream-async-std --no-default-features --features surf
cargo test -p sfstream-tests --features surf --test async_std surf::
cargo test -p sfstream-tests --features surf --test redirects --test trace_logs async_std_surf
