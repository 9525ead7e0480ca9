#!/usr/bin/env bash
# Builds the Debian package of orch from binaries already built:
#   deploy/debian/build-deb.sh BUILD_DIR OUT_DIR [VERSION]
# BUILD_DIR is a CMake build directory (./dev package uses build/release); the package is
# written to OUT_DIR/orch_<version>_<arch>.deb and its path printed. Needs dpkg-dev (for
# dpkg-shlibdeps, which derives Depends from the binaries' shared libraries); no root.
# DEB_COMPRESSION=gzip trades size for speed (tests); the default is xz.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR OUT_DIR [VERSION]" >&2; exit 2; }
[ $# -ge 2 ] || usage
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(cd "$1" && pwd)"
mkdir -p "$2"
OUT="$(cd "$2" && pwd)"
VERSION="${3:-$(sed -n 's/^project(orch VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")}"
[ -n "$VERSION" ] || { echo "build-deb: no version in CMakeLists.txt" >&2; exit 1; }
ARCH="$(dpkg --print-architecture)"

# The binaries the package ships, from the build tree.
declare -A BINARIES=(
  [orchestrator]="apps/orchestrator/orchestrator"
  [orchctl]="apps/orchctl/orchctl"
)
for name in "${!BINARIES[@]}"; do
  [ -x "$BUILD/${BINARIES[$name]}" ] || { echo "build-deb: $BUILD/${BINARIES[$name]} not built" >&2; exit 1; }
done

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/orch"

install -d "$PKG/DEBIAN" "$PKG/usr/bin" "$PKG/lib/systemd/system" "$PKG/etc/orch" \
  "$PKG/usr/share/orch/prometheus" "$PKG/usr/share/orch/grafana" "$PKG/usr/share/doc/orch/docs"
for name in "${!BINARIES[@]}"; do
  install -m 0755 "$BUILD/${BINARIES[$name]}" "$PKG/usr/bin/$name"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$PKG/usr/bin/$name"
done
install -m 0644 "$ROOT/deploy/systemd/orchestrator.service" "$PKG/lib/systemd/system/"
install -D -m 0644 "$ROOT/apps/orchctl/orchctl.bash-completion" \
  "$PKG/usr/share/bash-completion/completions/orchctl"
install -m 0640 "$ROOT/deploy/debian/orchestrator.env" "$PKG/etc/orch/orchestrator.env"
install -m 0644 "$ROOT/deploy/prometheus/prometheus.yml" "$ROOT/deploy/prometheus/rules.yml" \
  "$PKG/usr/share/orch/prometheus/"
cp -r "$ROOT/deploy/grafana/dashboards" "$ROOT/deploy/grafana/provisioning" "$PKG/usr/share/orch/grafana/"
install -m 0644 "$ROOT/README.md" "$PKG/usr/share/doc/orch/"
install -m 0644 "$ROOT"/docs/*.md "$PKG/usr/share/doc/orch/docs/"
cat > "$PKG/usr/share/doc/orch/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: orch
Files: *
Copyright: the orch authors
License: see the project's repository
COPYRIGHT
find "$PKG/usr/share" -type d -exec chmod 0755 {} + && find "$PKG/usr/share" -type f -exec chmod 0644 {} +

# Depends: the shared libraries the binaries link, as Debian packages.
mkdir -p "$STAGE/shlibs/debian"
printf 'Source: orch\n\nPackage: orch\nArchitecture: any\n' > "$STAGE/shlibs/debian/control"
shlib_args=()
for name in "${!BINARIES[@]}"; do shlib_args+=("-e$PKG/usr/bin/$name"); done
SHLIBS="$(cd "$STAGE/shlibs" && dpkg-shlibdeps -O "${shlib_args[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$SHLIBS" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

cat > "$PKG/DEBIAN/control" <<CONTROL
Package: orch
Version: $VERSION
Architecture: $ARCH
Maintainer: orch maintainers <orch@localhost>
Section: admin
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
Depends: $SHLIBS, adduser, ca-certificates
Recommends: postgresql (>= 15) | postgresql-client
Suggests: ansible-core, python3-ansible-runner, prometheus
Description: actor-model infrastructure orchestrator for OpenStack
 Deploys, updates, scales, configures (Ansible) and deletes VMs, networks and
 volumes on OpenStack through one REST API, crash-safe: every cloud effect is
 preceded by an intent committed to PostgreSQL and reconciled by tag.
 .
 The package holds the orchestrator service (systemd unit orchestrator.service,
 settings in /etc/orch/orchestrator.env), the orchctl command line with its bash
 completion, Prometheus rules and Grafana dashboards under /usr/share/orch.
CONTROL
echo /etc/orch/orchestrator.env > "$PKG/DEBIAN/conffiles"
install -m 0755 "$ROOT/deploy/debian/postinst" "$ROOT/deploy/debian/prerm" "$ROOT/deploy/debian/postrm" "$PKG/DEBIAN/"
(cd "$PKG" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' \
  | sort -z | xargs -0 md5sum > DEBIAN/md5sums)

DEB="$OUT/orch_${VERSION}_${ARCH}.deb"
compression=(-Zxz)
[ "${DEB_COMPRESSION:-xz}" = gzip ] && compression=(-Zgzip -z1)
dpkg-deb --root-owner-group "${compression[@]}" --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
