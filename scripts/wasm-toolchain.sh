# Sourced by the policy build scripts: find a Rust toolchain that can build wasm32-wasip1 and
# set up reproducible flags for it.
#
# Preference: rustup with the wasm32-wasip1 target installed; else Debian's rustc-web/cargo-web
# building std from rust-web-src with -Zbuild-std (RUSTC_BOOTSTRAP=1), linking wasi-libc. Force
# one with ADMIT_POLICY_TOOLCHAIN=rustup|debian.
#
# After `wasm_toolchain_select INSTALL REMAP_DIR REMAP_AS`, use `wasm_cargo DIR TARGET_DIR ARGS...`
# and read `$toolchain_line`. Output is byte-for-byte reproducible for a given toolchain: paths
# are remapped and, with Debian's toolchain, panic locations are dropped.

# The default target; a caller may run `TARGET=wasm32-unknown-unknown wasm_cargo ...` for a
# guest that is not a WASI module (the OPA ABI stand-ins of tests/policies/rego-guest).
TARGET=wasm32-wasip1
DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src lld-22 wasi-libc)
SECTION=io.kubewarden.metadata

die() {
    echo "${0##*/}: $*" >&2
    exit 1
}

have_rustup_target() {
    command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
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
    echo "${0##*/}: installing ${DEBIAN_PACKAGES[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${DEBIAN_PACKAGES[@]}" >&2
}

# wasm_toolchain_select INSTALL(0|1) REMAP_DIR REMAP_AS
wasm_toolchain_select() {
    local install="$1" remap_dir="$2" remap_as="$3"
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

    # Strip machine-specific paths from the output.
    local cargo_home="${CARGO_HOME:-$HOME/.cargo}" cargo_home_real
    rustflags=("--remap-path-prefix=$cargo_home=/cargo")
    cargo_home_real="$(cd "$cargo_home" 2>/dev/null && pwd -P || echo "$cargo_home")"
    [[ "$cargo_home_real" == "$cargo_home" ]] || rustflags+=("--remap-path-prefix=$cargo_home_real=/cargo")
    rustflags+=("--remap-path-prefix=$remap_dir=$remap_as")
    case "$toolchain" in
        rustup)
            cargo=(cargo)
            rustc_version="$(rustc -V)"
            extra_env=()
            cargo_flags=()
            ;;
        debian)
            have_debian_toolchain || die "Debian toolchain incomplete; install: apt-get install -y ${DEBIAN_PACKAGES[*]}"
            local rust_src
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
}

# wasm_cargo DIR TARGET_DIR CARGO_BUILD_ARGS...: `cargo build --release` for $TARGET in DIR.
wasm_cargo() {
    local dir="$1" target_dir="$2"
    shift 2
    local flags=("${rustflags[@]}" "--remap-path-prefix=$target_dir=/target")
    local encoded
    encoded="$(printf '%s\x1f' "${flags[@]}")"
    encoded="${encoded%$'\x1f'}"
    (
        cd "$dir"
        env -u RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS \
            -u CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS \
            -u RUSTC_WRAPPER -u CARGO_BUILD_RUSTC_WRAPPER -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET \
            ${extra_env[@]+"${extra_env[@]}"} CARGO_ENCODED_RUSTFLAGS="$encoded" \
            "${cargo[@]}" build --quiet --release --locked --target "$TARGET" \
            --target-dir "$target_dir" ${cargo_flags[@]+"${cargo_flags[@]}"} "$@" >&2
    )
}

# wasm_output TARGET_DIR CRATE_NAME: the module cargo built for a crate.
wasm_output() {
    local out="$1/$TARGET/release/${2//-/_}.wasm"
    [[ -f "$out" ]] || die "cargo did not produce $out"
    LC_ALL=C grep -qaF "$SECTION" "$out" || die "$out has no $SECTION custom section"
    echo "$out"
}

sha() { { sha256sum "$1" 2>/dev/null || shasum -a 256 "$1"; } | cut -d' ' -f1; }
size() { wc -c <"$1" | tr -d ' '; }

# compare_or_report BUILT COMMITTED NAME: print the verdict; return 1 when stale.
compare_or_report() {
    local out="$1" committed="$2" name="$3"
    if [[ -f "$committed" ]] && cmp -s "$out" "$committed"; then
        printf '%-28s %8d bytes  up to date\n' "$name" "$(size "$out")"
    else
        printf '%-28s %8d bytes  STALE (rebuilt sha256:%s, committed %s)\n' "$name" "$(size "$out")" \
            "$(sha "$out")" "$([[ -f $committed ]] && echo "sha256:$(sha "$committed")" || echo missing)"
        return 1
    fi
}

# finish_check RECORDED_TOOLCHAIN_FILE STALE...: exit status of a --check run.
finish_check() {
    local recorded_file="$1"
    shift
    [[ $# -eq 0 ]] && return 0
    echo "${0##*/}: stale: $* differ from a rebuild of their sources." >&2
    local recorded
    recorded="$(cat "$recorded_file" 2>/dev/null || echo unknown)"
    if [[ "$recorded" != "$toolchain_line" ]]; then
        # Bytes are only reproducible with the same compiler. When Debian moves rustc-web on,
        # the sources still built, which is all this machine can verify: warn, don't fail.
        echo "${0##*/}: warning: committed files were built with '$recorded', this check used '$toolchain_line';" >&2
        echo "${0##*/}: the sources build, but the bytes cannot be compared. Rebuild and commit with this toolchain." >&2
        return 0
    fi
    echo "${0##*/}: rebuild and commit the .wasm files." >&2
    exit 1
}
