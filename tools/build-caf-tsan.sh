#!/usr/bin/env bash
# Builds Debian's CAF 0.17.6 (core and io only) with -fsanitize=thread into a cache directory
# for the `tsan` preset, and prints that directory. Debian's libcaf is not instrumented: TSan
# cannot see the atomics and locks of its mailboxes and scheduler, so every hand-over between
# actors looked like a race and had to be suppressed wholesale.
#
# Usage: tools/build-caf-tsan.sh [--print-dir]
#   --print-dir  print the cache directory and exit (nothing is built)
#   --print-key  print the key a valid cache's stamp holds and exit
#
# Idempotent: the cache directory holds a stamp keyed by the CAF version, the flags below and the
# compiler, written last, so an interrupted build or one with other flags is redone. The path
# itself stays fixed so that tools/cmake/FindCAF.cmake finds it without running this script.
# Runs as root on a fresh Debian 12 machine (CI) or through sudo: it enables deb-src, installs
# dpkg-dev and the build tools itself.
set -euo pipefail

CAF_VERSION=0.17.6
CAF_CFLAGS="-fsanitize=thread -g -O1 -fno-omit-frame-pointer"
# The cache key: a change of version, flags or compiler rebuilds the cache.
KEY="$(printf '%s|%s|%s' "$CAF_VERSION" "$CAF_CFLAGS" "$(g++ -dumpfullversion 2>/dev/null || echo none)" \
  | sha256sum | cut -c1-12)"
CACHE_DIR="${ORCH_CAF_TSAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/orch/caf-$CAF_VERSION-tsan}"
STAMP="$CACHE_DIR/.orch-build-stamp"
SRC_LIST=/etc/apt/sources.list.d/orch-deb-src.sources
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'build-caf-tsan: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

case "${1:-}" in
  --print-dir) echo "$CACHE_DIR"; exit 0 ;;
  --print-key) echo "$KEY"; exit 0 ;;
  "") ;;
  *) die "usage: tools/build-caf-tsan.sh [--print-dir|--print-key]" ;;
esac

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ]; then
  echo "$CACHE_DIR"
  exit 0
fi

# A deb-src entry for every deb entry of Debian's own sources (same URIs, suites, components
# and key), in a file of our own: the system's files stay untouched.
enable_deb_src() {
  if apt-cache showsrc actor-framework 2>/dev/null | grep -q '^Package: actor-framework'; then
    return 0
  fi
  local main=/etc/apt/sources.list.d/debian.sources
  [ -f "$main" ] || die "$main not found: cannot derive a deb-src entry"
  log "enabling Debian source packages ($SRC_LIST)"
  sed -e 's/^Types:.*/Types: deb-src/' "$main" | as_root tee "$SRC_LIST" >/dev/null
  as_root apt-get update -qq
}

install_tools() {
  local needed=(dpkg-dev patch xz-utils cmake ninja-build g++ ca-certificates) missing=() p
  for p in "${needed[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

install_tools
enable_deb_src

# libcaf-dev is built from the source package named here (actor-framework on Debian 12).
SRC_PKG="$(apt-cache showsrc libcaf-dev | sed -n 's/^Package: //p' | head -1)"
[ -n "$SRC_PKG" ] || die "no source package builds libcaf-dev"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/orch-caf-tsan.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
log "apt-get source $SRC_PKG (into $WORK)"
# apt-get source fetches the .dsc, the original tarball and Debian's tarball, checks them against
# the signed Sources index, unpacks and applies debian/patches (dpkg-source -x).
if (cd "$WORK" && apt-get source -qq "$SRC_PKG" >"$WORK/source.log" 2>&1); then
  SRC="$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name "$SRC_PKG-*" | head -1)"
else
  # Some mirrors (the snapshot this project is pinned to among them) no longer serve
  # actor-framework_0.17.6-2.1.debian.tar.xz (404) while the original tarball is still there
  # (checked against the .dsc below). Debian's patches then come from tools/caf-tsan/: they reproduce
  # every difference between the original headers and the ones libcaf-dev installs.
  ORIG="$(find "$WORK" -maxdepth 1 -name "${SRC_PKG}_${CAF_VERSION}.orig.tar.*" | head -1)"
  [ -n "$ORIG" ] || { cat "$WORK/source.log" >&2; die "apt-get source fetched no original tarball"; }
  DSC="$(find "$WORK" -maxdepth 1 -name "${SRC_PKG}_*.dsc" | head -1)"
  [ -n "$DSC" ] || die "apt-get source fetched no .dsc"
  WANT="$(awk -v f="$(basename "$ORIG")" '/^Checksums-Sha256:/ {s = 1; next} /^[^ ]/ {s = 0}
                                            s && $3 == f {print $1}' "$DSC")"
  [ -n "$WANT" ] && [ "$(sha256sum <"$ORIG" | cut -d' ' -f1)" = "$WANT" ] \
    || die "$(basename "$ORIG") does not match the SHA-256 in $(basename "$DSC")"
  log "Debian's patch tarball is not downloadable: unpacking $(basename "$ORIG") with tools/caf-tsan/*.patch"
  tar -xf "$ORIG" -C "$WORK"
  SRC="$WORK/$SRC_PKG-$CAF_VERSION"
  for p in "$HERE"/caf-tsan/*.patch; do
    patch -d "$SRC" -p1 -s <"$p" || die "patch $p does not apply"
  done
fi
[ -n "$SRC" ] && [ -d "$SRC" ] || die "apt-get source left no source tree in $WORK"
VERSION_LINE="$(grep -h '#define CAF_VERSION' "$SRC"/libcaf_core/caf/config.hpp || true)"
case "$VERSION_LINE" in
  *1706*) ;;
  *) die "source package $SRC_PKG is not CAF $CAF_VERSION ($VERSION_LINE)" ;;
esac

CCACHE="$(command -v ccache || true)"
log "configuring CAF $CAF_VERSION with $CAF_CFLAGS"
rm -rf "$CACHE_DIR"
# Only libcaf_core and libcaf_io: our code uses nothing else (tools/cmake/FindCAF.cmake).
cmake -S "$SRC" -B "$WORK/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_FLAGS="$CAF_CFLAGS" \
  -DCMAKE_C_FLAGS="$CAF_CFLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_INSTALL_PREFIX="$CACHE_DIR" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  ${CCACHE:+-DCMAKE_CXX_COMPILER_LAUNCHER="$CCACHE"} \
  -DCAF_NO_EXAMPLES=ON -DCAF_NO_TOOLS=ON -DCAF_NO_UNIT_TESTS=ON -DCAF_NO_OPENSSL=ON \
  -DCAF_NO_OPENCL=ON -DCAF_NO_PYTHON=ON -DCAF_NO_SUMMARY=ON -DCAF_NO_STATIC_LIBS=ON \
  -DCAF_BUILD_STATIC=OFF -DCAF_BUILD_STATIC_ONLY=OFF >"$WORK/configure.log" 2>&1 \
  || { cat "$WORK/configure.log" >&2; die "CMake configure of CAF failed"; }

log "building CAF (libcaf_core, libcaf_io): several minutes on 2 cores"
cmake --build "$WORK/build" >"$WORK/build.log" 2>&1 \
  || { tail -50 "$WORK/build.log" >&2; die "CAF build failed"; }
cmake --install "$WORK/build" >/dev/null
[ -f "$CACHE_DIR/include/caf/all.hpp" ] || die "install left no headers in $CACHE_DIR"
echo "$KEY" >"$STAMP"
log "instrumented CAF in $CACHE_DIR"
echo "$CACHE_DIR"
