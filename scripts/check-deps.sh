#!/usr/bin/env bash
# Dependency rules for what users build: each runtime crate's (and the CLI's) default build, normal
# dependencies on this platform.
# - No `rsa`: RUSTSEC-2023-0071 (timing side channel, no fixed release). JWT signing and the
#   emulator's verification use ring, which rustls already brings.
# - One version of each crate named in SINGLE: two versions in one build mean two majors
#   (cargo unifies compatible ones), i.e. duplicate code, and for the crypto stack two
#   implementations to audit.
set -euo pipefail
cd "$(dirname "$0")/.."

CRATES=(sfstream-tokio sfstream-blocking sfstream-async-std sfstream-cli)
SINGLE=(base64 rand_core ring rustls rustls-webpki getrandom digest sha2 hmac)
FORBIDDEN=(rsa)

failed=0
for crate in "${CRATES[@]}"; do
  packages=$(cargo tree --quiet -p "$crate" -e normal --prefix none --format '{p}' | sed 's/ (.*//' | sort -u)
  for name in "${FORBIDDEN[@]}"; do
    for version in $(grep "^$name v" <<<"$packages" | awk '{print $2}' || true); do
      echo "check-deps: $crate's default build depends on \`$name\`, through:" >&2
      cargo tree --quiet -p "$crate" -e normal -i "$name@${version#v}" >&2
      failed=1
    done
  done
  for name in "${SINGLE[@]}"; do
    versions=$(grep "^$name v" <<<"$packages" | awk '{print $2}' || true)
    if [ "$(grep -c . <<<"$versions")" -gt 1 ]; then
      echo "check-deps: $crate's default build has several versions of \`$name\`:" $versions >&2
      for version in $versions; do
        cargo tree --quiet -p "$crate" -e normal -i "$name@${version#v}" >&2
      done
      failed=1
    fi
  done
done
if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "check-deps: no rsa; one version each of ${SINGLE[*]} in ${CRATES[*]}"
