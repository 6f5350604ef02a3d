#!/usr/bin/env bash
# Build admit's WebAssembly test policies (Kubewarden waPC and WASI guests for wasm32-wasip1, and OPA
# ABI stand-ins for wasm32-unknown-unknown) and write tests/policies/<id>.wasm next to their
# sources.
#
#   tests/policies/build.sh [ID...]    build all (or only IDs), update the committed .wasm files
#   tests/policies/build.sh --check    rebuild into a temp dir; exit 1 if a committed .wasm is stale
#   tests/policies/build.sh --install  apt-install Debian's Rust toolchain first if no wasm toolchain is found
#
# The toolchain logic is shared with policies/build.sh: see scripts/wasm-toolchain.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../scripts/wasm-toolchain.sh
source "$HERE/../../scripts/wasm-toolchain.sh"
POLICIES=(privileged require-labels pull-policy noop wasi-policy opa-labels gatekeeper-labels hostile context-aware typed-workloads)
# Policies that are not a crate of their own name: id -> "crate-dir target cargo-args...".
# The other policies are the crate of their id, built for wasm32-wasip1.
declare -A VARIANTS=(
    [opa-labels]="rego-guest wasm32-unknown-unknown --features opa"
    [gatekeeper-labels]="rego-guest wasm32-unknown-unknown --features gatekeeper"
)

# build_one ID TARGET_DIR: build policy ID; prints the path of the module cargo produced.
build_one() {
    local id="$1" target_dir="$2" crate="$1" target=wasm32-wasip1 args=()
    if [[ -n "${VARIANTS[$id]:-}" ]]; then
        read -r crate target args_line <<<"${VARIANTS[$id]}"
        read -r -a args <<<"$args_line"
    fi
    [[ -n "$target_dir" ]] || target_dir="$HERE/$crate/target"
    TARGET="$target" wasm_cargo "$HERE/$crate" "$target_dir" ${args[@]+"${args[@]}"} || die "cargo build failed for $id"
    TARGET="$target" wasm_output "$target_dir" "$crate"
}

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
if [[ ${#only[@]} -gt 0 ]]; then
    for id in "${only[@]}"; do
        [[ " ${POLICIES[*]} " == *" $id "* ]] || die "no test policy $id (known: ${POLICIES[*]})"
    done
    POLICIES=("${only[@]}")
fi

wasm_toolchain_select "$install" "$HERE" /admit/tests/policies
start=$SECONDS
echo "build.sh: toolchain: $toolchain_line" >&2

if [[ $mode == build ]]; then
    for id in "${POLICIES[@]}"; do
        out="$(build_one "$id" "")"
        cp "$out" "$HERE/$id.wasm"
        chmod 644 "$HERE/$id.wasm"
        printf '%-20s %8d bytes  sha256:%s\n' "$id.wasm" "$(size "$HERE/$id.wasm")" "$(sha "$HERE/$id.wasm")"
    done
    echo "$toolchain_line" >"$HERE/toolchain.txt"
    echo "build.sh: built ${#POLICIES[@]} policies in $((SECONDS - start)) s" >&2
else
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/admit-policies.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    stale=()
    for id in "${POLICIES[@]}"; do
        # One shared target dir: std and the dependencies are built once for all of them.
        out="$(build_one "$id" "$tmp/target")"
        compare_or_report "$out" "$HERE/$id.wasm" "$id.wasm" || stale+=("tests/policies/$id.wasm")
    done
    echo "build.sh: checked ${#POLICIES[@]} policies in $((SECONDS - start)) s" >&2
    finish_check "$HERE/toolchain.txt" ${stale[@]+"${stale[@]}"}
fi
