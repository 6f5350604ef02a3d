#!/usr/bin/env bash
# Build admit's WebAssembly test policies (Kubewarden waPC guests, wasm32-wasip1)
# and write tests/policies/<id>.wasm next to their sources.
#
#   tests/policies/build.sh            build all three, update the committed .wasm files
#   tests/policies/build.sh --check    rebuild into a temp dir; exit 1 if a committed .wasm is stale
#   tests/policies/build.sh --install  apt-install Debian's Rust toolchain first if no wasm toolchain is found
#
# Toolchain, in order of preference:
#   1. rustup, when `rustup target list --installed` has wasm32-wasip1;
#   2. Debian's rustc-web/cargo-web (/usr/bin/{rustc,cargo}) building std from rust-web-src with
#      -Zbuild-std (RUSTC_BOOTSTRAP=1), linking against wasi-libc in /usr/lib/wasm32-wasi.
# Force one with ADMIT_POLICY_TOOLCHAIN=rustup|debian.
#
# The output is byte-for-byte reproducible for a given toolchain: paths are remapped and (Debian)
# panic locations are dropped. Different compilers give different bytes, so the toolchain that
# built the committed files is recorded in toolchain.txt and --check names it on a mismatch.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POLICIES=(privileged require-labels pull-policy)
TARGET=wasm32-wasip1
DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src lld-22 wasi-libc)
SECTION=io.kubewarden.metadata

mode=build
install=0
for arg in "$@"; do
    case "$arg" in
        --check) mode=check ;;
        --install) install=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build.sh: unknown argument: $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

die() {
    echo "build.sh: $*" >&2
    exit 1
}

# --- toolchain ----------------------------------------------------------------------------------

have_rustup_target() {
    command -v rustup >/dev/null 2>&1 &&
        (cd "$HERE" && rustup target list --installed 2>/dev/null) | grep -qx "$TARGET"
}

debian_sysroot() {
    /usr/bin/rustc --print sysroot 2>/dev/null
}

have_debian_toolchain() {
    [[ -x /usr/bin/rustc && -x /usr/bin/cargo && -e /usr/bin/rust-lld && -f /usr/lib/wasm32-wasi/libc.a ]] &&
        [[ -d "$(debian_sysroot)/lib/rustlib/src/rust/library/std" ]]
}

install_debian_toolchain() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "--install needs root or sudo to run apt-get"
        sudo=(sudo)
    fi
    echo "build.sh: installing ${DEBIAN_PACKAGES[*]}" >&2
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y "${DEBIAN_PACKAGES[@]}"
}

toolchain="${ADMIT_POLICY_TOOLCHAIN:-}"
if [[ -z "$toolchain" ]]; then
    if have_rustup_target; then
        toolchain=rustup
    elif have_debian_toolchain; then
        toolchain=debian
    elif [[ $install -eq 1 ]]; then
        install_debian_toolchain
        have_debian_toolchain || die "Debian toolchain still incomplete after apt-get install"
        toolchain=debian
    else
        die "no wasm32-wasip1 toolchain found.
  With rustup:  rustup target add $TARGET
  On Debian:    apt-get install -y ${DEBIAN_PACKAGES[*]}   (or rerun with --install)"
    fi
fi

# Flags shared by both toolchains: strip machine-specific paths from the output.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rustflags=("--remap-path-prefix=$cargo_home=/cargo")
cargo_home_real="$(cd "$cargo_home" 2>/dev/null && pwd -P || echo "$cargo_home")"
[[ "$cargo_home_real" == "$cargo_home" ]] || rustflags+=("--remap-path-prefix=$cargo_home_real=/cargo")
rustflags+=("--remap-path-prefix=$HERE=/admit/tests/policies")
case "$toolchain" in
    rustup)
        cargo=(cargo)
        rustc_version="$(cd "$HERE" && rustc -V)"
        extra_env=()
        cargo_flags=()
        ;;
    debian)
        have_debian_toolchain || die "Debian toolchain incomplete; install: apt-get install -y ${DEBIAN_PACKAGES[*]}"
        rust_src="$(debian_sysroot)/lib/rustlib/src/rust"
        cargo=(/usr/bin/cargo)
        rustc_version="$(/usr/bin/rustc -V)"
        # The rustup shims in ~/.cargo/bin would shadow Debian's tools: put /usr/bin first.
        extra_env=(PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1)
        cargo_flags=(-Zbuild-std=std,panic_abort)
        rustflags=(
            -L native=/usr/lib/wasm32-wasi
            "--remap-path-prefix=$rust_src=/rust"
            "${rustflags[@]}"
            -Zlocation-detail=none
        )
        ;;
    *) die "ADMIT_POLICY_TOOLCHAIN must be rustup or debian, not '$toolchain'" ;;
esac
toolchain_line="$toolchain $rustc_version"

# --- build --------------------------------------------------------------------------------------

# build_one <policy id> <target dir> <extra remap (target dir)>; prints the path of the built module.
build_one() {
    local id="$1" target_dir="$2"
    local flags=("${rustflags[@]}" "--remap-path-prefix=$target_dir=/target")
    local encoded
    encoded="$(printf '%s\x1f' "${flags[@]}")"
    encoded="${encoded%$'\x1f'}"
    (
        cd "$HERE/$id"
        env -u RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS \
            -u RUSTC_WRAPPER -u CARGO_BUILD_RUSTC_WRAPPER -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET \
            ${extra_env[@]+"${extra_env[@]}"} CARGO_ENCODED_RUSTFLAGS="$encoded" \
            "${cargo[@]}" build --quiet --release --locked --target "$TARGET" \
            --target-dir "$target_dir" ${cargo_flags[@]+"${cargo_flags[@]}"} >&2
    ) || die "cargo build failed for $id (toolchain: $toolchain_line)"
    local out="$target_dir/$TARGET/release/${id//-/_}.wasm"
    [[ -f "$out" ]] || die "cargo did not produce $out"
    LC_ALL=C grep -qaF "$SECTION" "$out" || die "$out has no $SECTION custom section"
    echo "$out"
}

sha() { { sha256sum "$1" 2>/dev/null || shasum -a 256 "$1"; } | cut -d' ' -f1; }
size() { wc -c <"$1" | tr -d ' '; }

start=$SECONDS
echo "build.sh: toolchain: $toolchain_line" >&2

if [[ $mode == build ]]; then
    for id in "${POLICIES[@]}"; do
        out="$(build_one "$id" "$HERE/$id/target")"
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
        # One shared target dir: std and the dependencies are built once for all three.
        out="$(build_one "$id" "$tmp/target")"
        committed="$HERE/$id.wasm"
        if [[ -f "$committed" ]] && cmp -s "$out" "$committed"; then
            printf '%-20s %8d bytes  up to date\n' "$id.wasm" "$(size "$out")"
        else
            printf '%-20s %8d bytes  STALE (rebuilt sha256:%s, committed %s)\n' "$id.wasm" "$(size "$out")" \
                "$(sha "$out")" "$([[ -f $committed ]] && echo "sha256:$(sha "$committed")" || echo missing)"
            stale+=("tests/policies/$id.wasm")
        fi
    done
    echo "build.sh: checked ${#POLICIES[@]} policies in $((SECONDS - start)) s" >&2
    if [[ ${#stale[@]} -gt 0 ]]; then
        echo "build.sh: stale: ${stale[*]} differs from a rebuild of its sources." >&2
        echo "build.sh: run tests/policies/build.sh and commit the .wasm files." >&2
        recorded="$(cat "$HERE/toolchain.txt" 2>/dev/null || echo unknown)"
        if [[ "$recorded" != "$toolchain_line" ]]; then
            # Bytes are only reproducible with the same compiler. When Debian moves rustc-web on,
            # the sources still built, which is all this machine can verify: warn, don't fail.
            echo "build.sh: warning: committed files were built with '$recorded', this check used '$toolchain_line';" >&2
            echo "build.sh: the sources build, but the bytes cannot be compared. Rebuild and commit with this toolchain." >&2
            exit 0
        fi
        exit 1
    fi
fi
