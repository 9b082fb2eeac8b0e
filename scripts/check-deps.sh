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
# - The CLI's `sfstream emulator` serves the Pub/Sub API through the Pub/Sub emulator crate
#   (tonic's gRPC server, rcgen's certificates, apache-avro), test tooling that no runtime crate
#   depends on. tonic and rcgen's `pem` bring base64 0.22 and apache-avro's rand brings
#   getrandom 0.3: allowed through that crate only, in the versions in EMULATOR_ALLOWED, with
#   the crypto stack single there too.
set -euo pipefail
cd "$(dirname "$0")/.."

CRATES=(sfstream-tokio sfstream-blocking sfstream-async-std sfstream-http-async-io sfstream-cli sfstream-bridge)
SINGLE=(base64 rand_core ring rustls rustls-webpki getrandom digest sha2 hmac)
STRICT=(ring rustls rustls-webpki digest sha2 hmac)
NATS_CLIENT=(async-nats nkeys)
NATS_ALLOWED=(base64@0.22 rand_core@0.6 rand_core@0.10 getrandom@0.4)
EMULATOR=(sfstream-emulator-pubsub)
EMULATOR_ALLOWED=(base64@0.22 getrandom@0.3)
FORBIDDEN=(rsa)

# allows NAME VERSION ALLOWED…: whether NAME@VERSION matches one of ALLOWED (name@version-prefix).
allows() {
  local name=$1 version=$2 a
  shift 2
  for a in "$@"; do
    if [ "${a%@*}" = "$name" ] && [[ "$version" == "${a#*@}"* ]]; then return 0; fi
  done
  return 1
}

emulator_own=$(cargo tree --quiet -p "${EMULATOR[0]}" -e normal --prefix none --format '{p}' | sed 's/ (.*//' | sort -u)

failed=0
for crate in "${CRATES[@]}"; do
  everything=$(cargo tree --quiet -p "$crate" -e normal --prefix none --format '{p}' | sed 's/ (.*//' | sort -u)
  tree() {
    cargo tree --quiet -p "$crate" -e normal --prefix none --format '{p}' "$@" | sed 's/ (.*//' | sort -u
  }
  prune_nats=()
  for c in "${NATS_CLIENT[@]}"; do
    if grep -q "^$c v" <<<"$everything"; then prune_nats+=(--prune "$c"); fi
  done
  prune_emulator=()
  for c in "${EMULATOR[@]}"; do
    if grep -q "^$c v" <<<"$everything"; then prune_emulator+=(--prune "$c"); fi
  done
  packages=$(tree ${prune_nats[@]+"${prune_nats[@]}"} ${prune_emulator[@]+"${prune_emulator[@]}"})
  # What each group brings besides the rest.
  with_nats=$(tree ${prune_emulator[@]+"${prune_emulator[@]}"})
  with_emulator=$(tree ${prune_nats[@]+"${prune_nats[@]}"})
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
    # Every group that brings it must allow it.
    if grep -q "^$name v$version\$" <<<"$with_nats" \
      && ! allows "$name" "$version" "${NATS_ALLOWED[@]}"; then
      echo "check-deps: $crate: the NATS client brings $name $version, not in NATS_ALLOWED" >&2
      failed=1
    fi
    if grep -q "^$name v$version\$" <<<"$with_emulator" \
      && ! allows "$name" "$version" "${EMULATOR_ALLOWED[@]}"; then
      echo "check-deps: $crate: the Pub/Sub emulator brings $name $version, not in EMULATOR_ALLOWED" >&2
      failed=1
    fi
  done
  for name in "${FORBIDDEN[@]}"; do
    for version in $(grep "^$name v" <<<"$everything" | awk '{print $2}' || true); do
      echo "check-deps: $crate's default build depends on \`$name\`, through:" >&2
      cargo tree --quiet -p "$crate" -e normal -i "$name@${version#v}" >&2
      failed=1
    done
  done
  for name in "${SINGLE[@]}"; do
    versions=$(grep "^$name v" <<<"$packages" | awk '{print $2}' || true)
    # A feature the emulator turns on in a crate others share stays on when the emulator is
    # pruned (apache-avro's rand turns on rand_core 0.9's getrandom 0.3): an allowed version the
    # emulator's own build has is the emulator's.
    if [ ${#prune_emulator[@]} -gt 0 ]; then
      versions=$(for version in $versions; do
        if grep -q "^$name $version\$" <<<"$emulator_own" \
          && allows "$name" "${version#v}" "${EMULATOR_ALLOWED[@]}"; then continue; fi
        echo "$version"
      done)
    fi
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
echo "check-deps: no rsa; one version each of ${SINGLE[*]} in ${CRATES[*]} (besides: the NATS client ${NATS_ALLOWED[*]}; the CLI's Pub/Sub emulator ${EMULATOR_ALLOWED[*]})"
