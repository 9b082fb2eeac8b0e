#!/usr/bin/env bash
# Every crate meant for users can be published to crates.io: the metadata crates.io and docs.rs
# need (description, license, repository, readme, keywords, categories, docs.rs settings), a
# version on every path dependency (Cargo refuses path-only dependencies when publishing), and a
# package whose file list Cargo can build. Offline: no registry is asked (`cargo publish
# --dry-run` needs the index, and fails for a crate whose sfstream dependencies are not on
# crates.io yet; the README's "Depend on it" gives the order to publish them in).
set -euo pipefail
cd "$(dirname "$0")/.."

# The crates users depend on or install; everything else in the workspace is `publish = false`.
PUBLISHED="sfstream-core sfstream-store sfstream-driver sfstream-tokio sfstream-async-std
sfstream-blocking sfstream-http-async-io sfstream-emulator sfstream-emulator-pubsub
sfstream-bridge sfstream-cli"

cargo metadata --no-deps --format-version 1 --offline |
  PUBLISHED="$PUBLISHED" python3 -c '
import json, os, re, sys

# The crates.io categories these crates use (https://crates.io/category_slugs); add a slug here
# only if crates.io lists it.
CATEGORIES = {
    "api-bindings", "asynchronous", "network-programming", "filesystem",
    "web-programming::http-client", "development-tools::testing", "command-line-utilities",
}
expected = set(os.environ["PUBLISHED"].split())
meta = json.load(sys.stdin)
problems = []
published = set()
for p in meta["packages"]:
    name = p["name"]
    if p["publish"] == []:
        continue
    published.add(name)
    def bad(what):
        problems.append(f"{name}: {what}")
    for field in ("description", "license", "repository"):
        if not (p.get(field) or "").strip():
            bad(f"no `{field}`")
    readme = p.get("readme")
    if not readme:
        bad("no `readme`")
    elif not os.path.isfile(os.path.join(os.path.dirname(p["manifest_path"]), readme)):
        bad(f"readme {readme} does not exist")
    keywords = p.get("keywords") or []
    if not 1 <= len(keywords) <= 5:
        bad(f"{len(keywords)} keywords (crates.io takes 1 to 5)")
    for k in keywords:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+-]{0,19}", k):
            bad(f"keyword {k!r} is not one crates.io accepts")
    categories = p.get("categories") or []
    if not categories:
        bad("no `categories`")
    for c in categories:
        if c not in CATEGORIES:
            bad(f"category {c!r} is not a known crates.io slug")
    if "rs" not in ((p.get("metadata") or {}).get("docs") or {}):
        bad("no [package.metadata.docs.rs]")
    for d in p["dependencies"]:
        if d.get("path") and d["kind"] != "dev" and d["req"] == "*":
            dep = d["name"]
            bad(f"path dependency {dep} has no version (crates.io needs one)")
if published != expected:
    problems.append(
        f"published crates {sorted(published)} differ from the list in scripts/check-publish.sh "
        f"{sorted(expected)}: set `publish = false` or add the crate to the list"
    )
for p in problems:
    print("check-publish:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
'

for crate in $PUBLISHED; do
  if ! out=$(cargo package --list --offline --allow-dirty -p "$crate" 2>&1); then
    echo "check-publish: cargo package --list -p $crate failed:" >&2
    echo "$out" >&2
    exit 1
  fi
  grep -qx 'Cargo.toml' <<<"$out" || { echo "check-publish: $crate: no Cargo.toml in its package" >&2; exit 1; }
done
echo "check-publish: every published crate has its metadata and packages"
