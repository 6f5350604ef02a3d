#!/usr/bin/env bash
# Build admit's built-in policies (Kubewarden waPC guests, wasm32-wasip1) and write each module
# next to its source as policies/<id>/<id>.wasm, where the admit binary embeds it from, and the
# bundle of all of them that admit runs, policies/builtins/builtins.wasm (see its src/lib.rs).
#
#   policies/build.sh [ID...]    build every policy (or only IDs), update the committed modules
#   policies/build.sh --check    rebuild into a temp dir; exit 1 if a committed module is stale
#   policies/build.sh --install  apt-install Debian's Rust toolchain first if no wasm toolchain is found
#
# The toolchain logic is shared with tests/policies/build.sh: see scripts/wasm-toolchain.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../scripts/wasm-toolchain.sh
source "$HERE/../scripts/wasm-toolchain.sh"

mode=build
install=0
only=()
for arg in "$@"; do
    case "$arg" in
        --check) mode=check ;;
        --install) install=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        -*) die "unknown argument: $arg (try --help)" ;;
        *) only+=("$arg") ;;
    esac
done

# Every workspace member with a metadata.json is a policy; the kit is not.
policies=()
if [[ ${#only[@]} -gt 0 ]]; then
    for id in "${only[@]}"; do
        [[ -f "$HERE/$id/metadata.json" ]] || die "no policy $id (policies/$id/metadata.json)"
        policies+=("$id")
    done
else
    for dir in "$HERE"/*/; do
        [[ -f "$dir/metadata.json" && -f "$dir/Cargo.toml" ]] && policies+=("$(basename "$dir")")
    done
fi
[[ ${#policies[@]} -gt 0 ]] || die "no policies found under $HERE"

wasm_toolchain_select "$install" "$HERE" /admit/policies
start=$SECONDS
echo "build.sh: toolchain: $toolchain_line" >&2

if [[ $mode == build ]]; then
    target_dir="$HERE/target"
else
    target_dir="$(mktemp -d "${TMPDIR:-/tmp}/admit-builtins.XXXXXX")"
    trap 'rm -rf "$target_dir"' EXIT
fi
packages=()
for id in "${policies[@]}"; do packages+=(-p "$id"); done
# The bundle compiles every policy's source, so it is rebuilt whichever policies were asked for.
packages+=(-p builtins)
wasm_cargo "$HERE" "$target_dir" "${packages[@]}" || die "cargo build failed (toolchain: $toolchain_line)"

stale=()
# publish OUT COMMITTED: copy a built module over the committed one, or compare them in --check.
publish() {
    local out="$1" committed="$2" name
    name="$(basename "$committed")"
    if [[ $mode == build ]]; then
        cp "$out" "$committed"
        chmod 644 "$committed"
        printf '%-28s %8d bytes  sha256:%s\n' "$name" "$(size "$committed")" "$(sha "$committed")"
    else
        compare_or_report "$out" "$committed" "$name" || stale+=("policies/${committed#"$HERE/"}")
    fi
}
for id in "${policies[@]}"; do
    publish "$(wasm_output "$target_dir" "$id")" "$HERE/$id/$id.wasm"
done
# The bundle has no metadata section of its own, so wasm_output's check does not apply.
out="$target_dir/$TARGET/release/builtins.wasm"
[[ -f "$out" ]] || die "cargo did not produce $out"
publish "$out" "$HERE/builtins/builtins.wasm"

if [[ $mode == build ]]; then
    echo "$toolchain_line" >"$HERE/toolchain.txt"
    echo "build.sh: built ${#policies[@]} policies in $((SECONDS - start)) s" >&2
else
    echo "build.sh: checked ${#policies[@]} policies in $((SECONDS - start)) s" >&2
    finish_check "$HERE/toolchain.txt" ${stale[@]+"${stale[@]}"}
fi
