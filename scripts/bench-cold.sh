#!/usr/bin/env bash
# Issue #21's targets, two admit binaries side by side in one run: cold start with the
# built-ins, cold start with a large outside policy (wall, CPU, peak memory), warm pre-commit,
# throughput on 10,000 objects, and binary size. Prints a Markdown table.
#
#   OLD=path/to/old/admit scripts/bench-cold.sh [NEW]
#
# NEW defaults to target/release/admit (built by the caller). Needs the corpora of
# scripts/make-corpus.sh (target/bench-corpus) and ../shared/corpus; installs hyperfine, jq and
# GNU time from Debian when missing. Caches and a copy of the 10k corpus live under
# $BENCH_TMP (default /dev/shm, so that disk writeback does not time the runs). About 4 minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NEW="${1:-$ROOT/target/release/admit}"
OLD="${OLD:?set OLD to the admit binary to compare with}"
TMP="${BENCH_TMP:-/dev/shm}/admit-bench-cold"
CORPUS="$ROOT/target/bench-corpus"
SHARED="$ROOT/../shared/corpus"
DEPLOYMENT="$CORPUS/one-deployment.yaml"
LARGE="$ROOT/tests/policies/typed-workloads.wasm"

die() { echo "bench-cold.sh: $*" >&2; exit 1; }
for tool in hyperfine jq; do
    command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool"; } >&2
done
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; } >&2
[[ -f $DEPLOYMENT && -d $CORPUS/10k ]] || die "no corpora: run scripts/make-corpus.sh"
[[ -d $SHARED ]] || die "no ../shared/corpus"
[[ -x $OLD && -x $NEW ]] || die "OLD and NEW must be executables"

rm -rf "$TMP" && mkdir -p "$TMP"
cp -r "$CORPUS/10k" "$TMP/10k"
check() { echo "$1 check $2 --isolated --format json --cache-dir $TMP/$3 ${4:-}"; }

# median (min-max), in ms, of command N of a hyperfine export
ms() { jq -r ".results[$2] | \"\(.median * 1000 | round) ms (\(.min * 1000 | round)-\(.max * 1000 | round))\"" "$1"; }

row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
echo "| target | measure | old | new |"
echo "| --- | --- | ---: | ---: |"

# 1. Cold, built-ins: an empty cache directory before every run.
hyperfine -N -i --runs 10 --export-json "$TMP/cold.json" \
    --prepare "rm -rf $TMP/old-cold $TMP/new-cold" \
    "$(check "$OLD" "$DEPLOYMENT" old-cold)" "$(check "$NEW" "$DEPLOYMENT" new-cold)" >&2
row "1. cold, built-ins" "one Deployment, recommended, empty cache (≤ 0.3 s)" "$(ms "$TMP/cold.json" 0)" "$(ms "$TMP/cold.json" 1)"
hyperfine -N -i --runs 10 --export-json "$TMP/corpus.json" \
    --prepare "rm -rf $TMP/old-corpus $TMP/new-corpus" \
    "$(check "$OLD" "$SHARED" old-corpus)" "$(check "$NEW" "$SHARED" new-corpus)" >&2
row "1. cold, built-ins" "../shared/corpus, recommended, empty cache (≤ 0.6 s)" "$(ms "$TMP/corpus.json" 0)" "$(ms "$TMP/corpus.json" 1)"

# 2. Cold, a large outside module: wall, CPU and peak memory, median of three.
large() { # BINARY NAME
    local runs=()
    for _ in 1 2 3; do
        rm -rf "$TMP/$2"
        /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" $(check "$1" "$DEPLOYMENT" "$2" "--policy $LARGE") >/dev/null || true
        runs+=("$(awk '{printf "%.2f s wall, %.2f s CPU, %d MB peak\n", $1, $2 + $3, $4 / 1024}' "$TMP/time")")
    done
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}
row "2. cold, outside module" "typed-workloads.wasm ($(($(wc -c <"$LARGE") / 1024)) KB), one Deployment, median of 3" "$(large "$OLD" old-large)" "$(large "$NEW" new-large)"

# 3. Warm pre-commit: compiled modules in place, no cached results.
"$OLD" check "$DEPLOYMENT" --isolated --cache-dir "$TMP/old-warm" >/dev/null 2>&1 || true
"$NEW" check "$DEPLOYMENT" --isolated --cache-dir "$TMP/new-warm" >/dev/null 2>&1 || true
hyperfine -N -i --warmup 3 --runs 40 --export-json "$TMP/warm.json" \
    --prepare "rm -rf $TMP/old-warm/results $TMP/new-warm/results" \
    "$(check "$OLD" "$DEPLOYMENT" old-warm)" "$(check "$NEW" "$DEPLOYMENT" new-warm)" >&2
row "3. warm pre-commit" "one Deployment, recommended, warm (≤ 20 ms)" "$(ms "$TMP/warm.json" 0)" "$(ms "$TMP/warm.json" 1)"

# 4. Throughput: 10k objects, warm modules, no cached results.
for b in old new; do
    bin=$OLD; [[ $b == new ]] && bin=$NEW
    $(check "$bin" "$TMP/10k" "$b-10k" --no-render) >"$TMP/$b-10k.json" || true
done
hyperfine -N -i --warmup 1 --runs 10 --export-json "$TMP/10k.json" \
    --prepare "rm -rf $TMP/old-10k/results $TMP/new-10k/results" \
    "$(check "$OLD" "$TMP/10k" old-10k --no-render)" "$(check "$NEW" "$TMP/10k" new-10k --no-render)" >&2
rate() { # JSON_REPORT INDEX
    jq -r --slurpfile h "$TMP/10k.json" \
        '.summary.evaluations as $e | $h[0].results['"$2"'] | "\($e / .median | round) evaluations/s (median \(.median * 1000 | round) ms)"' "$1"
}
row "4. throughput" "10k objects, recommended, warm (≥ 130k/s)" "$(rate "$TMP/old-10k.json" 0)" "$(rate "$TMP/new-10k.json" 1)"

# 5. Binary size.
size() { echo "$(( $(wc -c <"$1") / 1000000 )) MB"; }
row "5. binary" "release binary (≤ 40 MB)" "$(size "$OLD")" "$(size "$NEW")"
rm -rf "$TMP"
