#!/usr/bin/env bash
# What a policy from a registry costs once it is locked and stored: the same module checked
# from a local file and from `registry://` (through admit.lock and the module store), warm, on
# fixtures/manifests, side by side. The registry is stopped before the timed runs, so any
# network use would fail them. Also times the first contact, `admit lock` with an empty store.
# Prints a Markdown table for BENCHMARKS.md.
#
#   scripts/bench-registry.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADMIT=${ADMIT:-$ROOT/target/release/admit}
REGISTRY=$(command -v docker-registry || echo /usr/bin/docker-registry)
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ -x "$REGISTRY" ] || { echo "needs docker-registry (apt-get install docker-registry)" >&2; exit 1; }

work=$(mktemp -d)
registry_pid=
trap 'kill "$registry_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s/storage}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$work" "$port" >"$work/registry.yml"
"$REGISTRY" serve "$work/registry.yml" >/dev/null 2>&1 &
registry_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
"$ROOT/scripts/push-policy.py" "127.0.0.1:$port" policies/privileged v1 "$ROOT/tests/policies/privileged.wasm" >/dev/null

mkdir -p "$work/local" "$work/remote"
cp "$ROOT/tests/policies/privileged.wasm" "$work/local/privileged.wasm"
printf 'policies:\n  - module: privileged.wasm\n' >"$work/local/admit.yaml"
printf 'insecure_sources: ["127.0.0.1:%s"]\n' "$port" >"$work/remote/sources.yaml"
printf 'registry: {sources: sources.yaml}\npolicies:\n  - module: registry://127.0.0.1:%s/policies/privileged:v1\n' \
    "$port" >"$work/remote/admit.yaml"
export ADMIT_CACHE_DIR="$work/cache"
# The first contact: resolve the tag, download and store the module, write admit.lock.
hyperfine --warmup 2 --runs 20 -N --export-markdown "$work/first.md" \
    --prepare "rm -rf $work/cache/registry $work/remote/admit.lock" \
    -n "admit lock (resolve, download 161 KiB from localhost, store, write admit.lock)" \
    "$ADMIT lock --config $work/remote/admit.yaml" >/dev/null
(cd "$work/remote" && "$ADMIT" lock >/dev/null)
kill "$registry_pid"
wait "$registry_pid" 2>/dev/null || true

# The checks exit 1 (the fixtures hold privileged containers): -i. Each run also fails loudly
# if the registry run needed the network: its report would hold an error instead.
manifests="$ROOT/fixtures/manifests"
"$ADMIT" check --config "$work/remote/admit.yaml" --format json "$manifests" >"$work/first.json" || true
grep -q '"errors": 0' "$work/first.json" ||
    { echo "the registry run did not run from the store:" >&2; cat "$work/first.json" >&2; exit 1; }
hyperfine --warmup 3 --runs 30 -N -i --export-markdown "$work/table.md" \
    -n "local file" "$ADMIT check --config $work/local/admit.yaml --format json $manifests" \
    -n "registry:// (locked, stored, registry down)" "$ADMIT check --config $work/remote/admit.yaml --format json $manifests" \
    >/dev/null
cat "$work/table.md"
tail -n +3 "$work/first.md"
