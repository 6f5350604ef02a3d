#!/usr/bin/env bash
# Run admit's cargo-fuzz targets (fuzz/), one at a time, each for SECONDS (default 600).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain (or RUSTC_BOOTSTRAP=1
# with stable). Uses no sanitizer: the code under test is safe Rust, and ASan's runtime is not
# everywhere. Crashes land in fuzz/artifacts/TARGET/; copy each to fuzz/regressions/TARGET/
# and add a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(load_documents build_request policy_response)
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q nightly; then toolchain=(+nightly); else export RUSTC_BOOTSTRAP=1; fi
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  # Seeds and earlier crashes are read as extra corpora; new inputs go to fuzz/corpus only.
  extra=()
  for dir in "fuzz/seeds/$target" "fuzz/regressions/$target"; do [ -d "$dir" ] && extra+=("$dir"); done
  # The manifests under fixtures/ seed the two targets that read YAML.
  [ "$target" != policy_response ] && extra+=(fixtures/manifests)
  nice -n 10 cargo "${toolchain[@]}" fuzz run --sanitizer none "$target" "fuzz/corpus/$target" "${extra[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 -timeout=10
done
