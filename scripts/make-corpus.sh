#!/usr/bin/env bash
# Build the benchmark corpora: about half real-world manifests, replicated, and half
# generated workloads, with an exact object count.
#
#   scripts/make-corpus.sh [DIR]     default DIR: target/bench-corpus
#
# Writes, under DIR:
#   1k/ 10k/ 100k/        each: real-001/ real-002/ ... (copies of ../shared/corpus, read in place,
#                         never copied into the repository) and generated/ (scripts/gen-workloads.py),
#                         together exactly 1,000 / 10,000 / 100,000 objects
#   one-deployment.yaml   a single realistic Deployment (the pre-commit case)
#
# Output is deterministic. A corpus whose inputs (sources, generator, seed, size) are unchanged is
# kept, not rebuilt. Object counts are admit's own (`summary.objects` of `--format json`), so they
# agree with what the benchmarks report.
#
# Environment:
#   ADMIT=PATH            the admit binary used to count objects (default target/release/admit)
#   CORPUS_SOURCE=DIR     the real-world corpus (default ../shared/corpus next to the repository)
#   SIZES="1000 10000"    which corpora to build (default "1000 10000 100000")
#   SEED=N                the generator's seed (default 5)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/target/bench-corpus}"
SOURCE="${CORPUS_SOURCE:-$ROOT/../shared/corpus}"
ADMIT="${ADMIT:-$ROOT/target/release/admit}"
SIZES="${SIZES:-1000 10000 100000}"
SEED="${SEED:-5}"
GENERATOR="$ROOT/scripts/gen-workloads.py"

die() {
    echo "make-corpus.sh: $*" >&2
    exit 1
}

case "${1:-}" in
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
esac
[[ -d "$SOURCE" ]] || die "the real-world corpus is missing: $SOURCE (set CORPUS_SOURCE)"
[[ -x "$ADMIT" ]] || die "no admit binary at $ADMIT: run \`cargo build --release\` first (or set ADMIT)"
command -v python3 >/dev/null || die "python3 is needed (apt-get install -y python3)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# Objects admit finds under a path. One narrow policy keeps evaluation out of the count, and
# --no-cache keeps the user's caches out of it. The real corpus has files that fail to load, so
# admit exits 2: only its report matters here.
count_objects() {
    local report
    report="$("$ADMIT" check "$1" --isolated --policy cluster-admin-binding --no-cache \
        --format json 2>/dev/null)" || true
    python3 -c 'import json, sys; print(json.load(sys.stdin)["summary"]["objects"])' <<<"$report" ||
        die "admit gave no JSON report for $1"
}

label() {
    case "$1" in
        *000000) echo "${1%000000}M" ;;
        *000) echo "${1%000}k" ;;
        *) echo "$1" ;;
    esac
}

# Everything a corpus depends on, so an unchanged one is not rebuilt.
inputs_digest() {
    {
        echo "seed=$SEED size=$1 real=$real_objects"
        sha256sum "$GENERATOR" "${BASH_SOURCE[0]}" | cut -d' ' -f1
        (cd "$SOURCE" && find . -type f -printf '%P %s\n' | LC_ALL=C sort)
    } | sha256sum | cut -d' ' -f1
}

python3 "$GENERATOR" --one-deployment "$OUT/one-deployment.yaml"

real_objects="$(count_objects "$SOURCE")"
[[ "$real_objects" -gt 0 ]] || die "admit found no objects in $SOURCE"

printf '| corpus | real copies | real objects | generated objects | objects (admit) | files | MB |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for size in $SIZES; do
    dir="$OUT/$(label "$size")"
    digest="$(inputs_digest "$size")"
    if [[ ! -f "$dir/.inputs" || "$(cat "$dir/.inputs")" != "$digest" ]]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        # About half the objects are real ones: round(size / 2 / objects per copy) copies.
        copies=$(((size + real_objects) / (2 * real_objects)))
        while ((copies * real_objects > size)); do copies=$((copies - 1)); done
        for ((i = 1; i <= copies; i++)); do
            cp -R "$SOURCE/." "$dir/$(printf 'real-%03d' "$i")"
            chmod -R u+w "$dir/$(printf 'real-%03d' "$i")"
        done
        generated=$((size - copies * real_objects))
        python3 "$GENERATOR" "$dir/generated" "$generated" --seed "$SEED" 2>/dev/null
        echo "$copies $generated" >"$dir/.layout"
        echo "$digest" >"$dir/.inputs"
    fi
    read -r copies generated <"$dir/.layout"
    objects="$(count_objects "$dir")"
    [[ "$objects" -eq "$size" ]] ||
        die "$dir has $objects objects, not $size (did the real corpus change? it counts $real_objects)"
    files="$(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | wc -l)"
    mb="$(du -sm "$dir" | cut -f1)"
    printf '| %s | %d | %d | %d | %d | %d | %d |\n' "$(label "$size")" "$copies" \
        $((copies * real_objects)) "$generated" "$objects" "$files" "$mb"
done
echo "make-corpus.sh: corpora in $OUT (one-deployment.yaml: 1 object)" >&2
