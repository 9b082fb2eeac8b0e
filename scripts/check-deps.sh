#!/usr/bin/env bash
# Dependency rules for what users build: the default build of each runtime crate, of the
# async-io runtime's HTTP client and of the CLI, normal dependencies on this platform.
# - No `rsa`: RUSTSEC-2023-0071 (timing side channel, no fixed release). JWT signing and the
#   emulator's verification use ring, which rustls already brings.
# - One version of each crate named in SINGLE: two versions in one build mean two majors
#   (cargo unifies compatible ones), i.e. duplicate code, and for the crypto stack two
#   implementations to audit.
# - The NATS client of the bridge (async-nats, and nkeys for NATS's nkey authentication) brings
#   its own base64 0.22 and rand 0.8 / 0.10 (rand_core 0.6 / 0.10, getrandom 0.4): small
#   pure-Rust helpers, not a second crypto stack. They are allowed through those two crates
#   only, and only in the versions listed in NATS_ALLOWED; the crypto stack (ring, rustls,
#   rustls-webpki, the hashes) stays single even there.
set -euo pipefail
cd "$(dirname "$0")/.."

CRATES=(sfstream-tokio sfstream-blocking sfstream-async-std sfstream-http-async-io sfstream-cli sfstream-bridge)
SINGLE=(base64 rand_core ring rustls rustls-webpki getrandom digest sha2 hmac)
STRICT=(ring rustls rustls-webpki digest sha2 hmac)
NATS_CLIENT=(async-nats nkeys)
NATS_ALLOWED=(base64@0.22 rand_core@0.6 rand_core@0.10 getrandom@0.4)
FORBIDDEN=(rsa)

failed=0
for crate in "${CRATES[@]}"; do
  everything=$(cargo tree --quiet -p "$crate" -e normal --prefix none --format '{p}' | sed 's/ (.*//' | sort -u)
  prune=()
  for c in "${NATS_CLIENT[@]}"; do
    if grep -q "^$c v" <<<"$everything"; then prune+=(--prune "$c"); fi
  done
  packages=$(cargo tree --quiet -p "$crate" -e normal --prefix none --format '{p}' ${prune[@]+"${prune[@]}"} | sed 's/ (.*//' | sort -u)
  for name in "${STRICT[@]}"; do
    versions=$(grep "^$name v" <<<"$everything" | awk '{print $2}' || true)
    if [ "$(grep -c . <<<"$versions")" -gt 1 ]; then
      echo "check-deps: $crate's default build has several versions of \`$name\` (crypto stack):" $versions >&2
      failed=1
    fi
  done
  for line in $(comm -13 <(echo "$packages") <(echo "$everything") | awk '{print $1"@"$2}'); do
    name=${line%@*}
    version=${line#*@v}
    case " ${SINGLE[*]} " in *" $name "*) ;; *) continue ;; esac
    # Only a second version counts.
    if [ "$(grep -c "^$name v" <<<"$everything")" -le 1 ]; then continue; fi
    allowed=0
    for a in "${NATS_ALLOWED[@]}"; do
      if [ "${a%@*}" = "$name" ] && [[ "$version" == "${a#*@}"* ]]; then allowed=1; fi
    done
    if [ "$allowed" -eq 0 ]; then
      echo "check-deps: $crate: the NATS client brings $name $version, not in NATS_ALLOWED" >&2
      failed=1
    fi
  done
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
echo "check-deps: no rsa; one version each of ${SINGLE[*]} in ${CRATES[*]} (the NATS client: ${NATS_ALLOWED[*]} besides)"
