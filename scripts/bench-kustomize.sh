#!/usr/bin/env bash
# The cost of checking a Kustomize tree as rendered: 50 overlay roots over one base of 5
# Deployments, each root with a namespace, an `images:` override, a strategic-merge patch file
# and an inline JSON 6902 patch. Prints a Markdown table for BENCHMARKS.md.
#
#   scripts/bench-kustomize.sh [ROOTS]     (default 50)
#
# Times, with hyperfine (warm module cache, --format json, recommended built-ins):
#   - Kustomize alone: `kubectl kustomize` of every root, one after another;
#   - admit rendering every root, mapping every finding back (result cache emptied before each
#     run, so each run evaluates every object);
#   - the same with the result cache warm (nothing changed since the last run);
#   - admit --no-render: the same files checked one by one, patches left out.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADMIT=${ADMIT:-$ROOT/target/release/admit}
roots=${1:-50}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
command -v kubectl >/dev/null || command -v kustomize >/dev/null ||
    { echo "needs kubectl or kustomize on PATH" >&2; exit 1; }

tree=$(mktemp -d)
cache=$(mktemp -d)
trap 'rm -rf "$tree" "$cache"' EXIT
mkdir -p "$tree/base"
resources=""
for d in $(seq 1 5); do
    cat >"$tree/base/app$d.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app$d
spec:
  selector:
    matchLabels: {app: app$d}
  template:
    metadata:
      labels: {app: app$d}
    spec:
      containers:
      - name: main
        image: registry.example.com/app$d:1.0.$d
        resources:
          limits: {memory: 128Mi}
EOF
    resources+="- app$d.yaml"$'\n'
done
printf 'resources:\n%s' "$resources" >"$tree/base/kustomization.yaml"
for r in $(seq 1 "$roots"); do
    o="$tree/overlays/env$r"
    mkdir -p "$o"
    cat >"$o/kustomization.yaml" <<EOF
resources:
- ../../base
namespace: env$r
images:
- name: registry.example.com/app1
  newTag: "2.$r"
patches:
- path: secure.yaml
- target: {kind: Deployment, name: app2}
  patch: |-
    - op: add
      path: /spec/template/spec/hostNetwork
      value: true
EOF
    cat >"$o/secure.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app3
spec:
  template:
    spec:
      containers:
      - name: main
        securityContext:
          privileged: true
EOF
done

render=$(command -v kustomize >/dev/null && echo "kustomize build" || echo "kubectl kustomize")
export ADMIT_CACHE_DIR=$cache
"$ADMIT" check "$tree" --isolated --format json >/dev/null || true  # compile the built-ins once
cd "$tree"
# Renderings are kept in $cache/renders and results in $cache/results: removed before each
# run that must render or evaluate.
cold="rm -rf $cache/results $cache/renders"
hyperfine -N --warmup 1 --runs 5 --export-markdown "$tree/results.md" \
    -n "Kustomize alone ($roots roots, one by one)" --prepare true \
    "bash -c 'for r in overlays/*; do $render \$r >/dev/null; done'" \
    -n "admit check: render $roots roots, evaluate, map findings" --prepare "$cold" \
    "$ADMIT check . --isolated --format json --fail-on never" \
    -n "admit check: renderings kept, evaluate, map" --prepare "rm -rf $cache/results" \
    "$ADMIT check . --isolated --format json --fail-on never" \
    -n "admit check: renderings and results kept (nothing changed)" --prepare true \
    "$ADMIT check . --isolated --format json --fail-on never" \
    -n "admit check --no-render (files one by one)" --prepare "$cold" \
    "$ADMIT check . --isolated --format json --fail-on never --no-render" >&2
cat "$tree/results.md"
echo
echo "Findings: $("$ADMIT" check . --isolated --format json | jq '.findings | length') rendered and mapped, $("$ADMIT" check . --isolated --format json --no-render | jq '.findings | length') with --no-render."
