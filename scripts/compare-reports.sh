#!/usr/bin/env bash
# Writes every report admit gives on ../shared/corpus and fixtures/, in every format, into a
# folder; run it with two builds of admit and diff the folders to show a change kept the
# output byte-identical:
#   scripts/compare-reports.sh OLD_ADMIT /tmp/before
#   scripts/compare-reports.sh target/release/admit /tmp/after
#   diff -r /tmp/before /tmp/after
# The elapsed time in the summary line is the only part that differs between two runs of the
# same build, so it is masked.
set -uo pipefail
# A copy named `admit`, so that usage lines read the same whichever build is run.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cp "$1" "$bin/admit"
admit=$bin/admit
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${ADMIT_CORPUS:-$root/../shared/corpus}
rm -rf "$out" && mkdir -p "$out"
mask() { sed -E 's/\([0-9]+\.[0-9]+ s\)/(T s)/g; s/"(duration|elapsed|seconds)[A-Za-z_]*": *[0-9.e+-]+/"\1": T/g; s/time="[0-9.]+"/time="T"/g; s/timestamp="[^"]*"/timestamp="T"/g'; }
run() { # name, dir, args...
  local name=$1 dir=$2; shift 2
  (cd "$dir" && "$admit" "$@" >"$out/$name.out" 2>"$out/$name.err"; echo "exit $?" >>"$out/$name.out")
  mask <"$out/$name.out" >"$out/$name.tmp" && mv "$out/$name.tmp" "$out/$name.out"
  mask <"$out/$name.err" >"$out/$name.tmp" && mv "$out/$name.tmp" "$out/$name.err"
}
formats="human concise json sarif junit github"
for format in $formats; do
  run "corpus.$format" "$corpus/.." check corpus --no-cache --color never --format "$format"
  run "corpus-restricted.$format" "$corpus/.." check corpus --no-cache --color never --format "$format" --policy restricted
  run "manifests.$format" "$root" check fixtures/manifests --no-cache --color never --format "$format"
  run "fixtures.$format" "$root" check fixtures --no-cache --color never --format "$format"
  run "suppressions-audit.$format" "$root" check fixtures --no-cache --color never --format "$format" --no-suppressions
done
for dir in "$root"/fixtures/policies/*/; do
  id=$(basename "$dir")
  for file in "$dir"*.yaml; do
    for format in human json; do
      run "policy.$id.$(basename "$file" .yaml).$format" "$root" check "fixtures/policies/$id/$(basename "$file")" --no-cache --color never --format "$format" --policy "$id"
    done
  done
  run "explain.$id" "$root" explain "$id"
done
run policies "$root" policies
run stdin "$root" check - --no-cache --color never --stdin-filename web.yaml <"$root/fixtures/manifests/web.yaml"
echo "reports written to $out: $(ls "$out" | wc -l) files"
