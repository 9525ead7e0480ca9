#!/usr/bin/env bash
# Builds the .deb from this build's binaries (deploy/debian/build-deb.sh, as ./dev package does
# from the release build), installs it with dpkg into a temporary root, runs the installed
# binaries, then removes and purges it.
#   debian_package.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC="$1" BUILD="$2"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

deb="$(DEB_COMPRESSION=gzip bash "$SRC/deploy/debian/build-deb.sh" "$BUILD" "$WORK/out")"
[ -f "$deb" ] || fail "no package written"
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

info="$(dpkg-deb --info "$deb")"
echo "$info" | grep -q '^ Package: orch$' || fail "control has no Package: orch"
echo "$info" | grep -q '^ Depends: .*libcaf-core0.17' || fail "Depends lacks CAF: $info"
echo "$info" | grep -q '^ Depends: .*libpqxx' || fail "Depends lacks libpqxx: $info"
[ "$(dpkg-deb --field "$deb" Architecture)" = "$(dpkg --print-architecture)" ] || fail "architecture"

# Everything an operator needs, where Debian users look for it.
contents="$(dpkg-deb --contents "$deb" | awk '{print $6}')"
for path in ./usr/bin/orchestrator ./usr/bin/orchctl ./usr/share/bash-completion/completions/orchctl ./lib/systemd/system/orchestrator.service \
  ./etc/orch/orchestrator.env ./usr/share/orch/prometheus/rules.yml \
  ./usr/share/orch/prometheus/prometheus.yml ./usr/share/doc/orch/README.md \
  ./usr/share/doc/orch/copyright; do
  echo "$contents" | grep -qx "$path" || fail "$path missing from the package"
done
want_dashboards=$(find "$SRC/deploy/grafana/dashboards" -name '*.json' | wc -l)
got_dashboards=$(echo "$contents" | grep -c '^./usr/share/orch/grafana/dashboards/.*\.json$' || true)
[ "$want_dashboards" -gt 0 ] && [ "$got_dashboards" = "$want_dashboards" ] \
  || fail "$got_dashboards of $want_dashboards dashboards packaged"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/orch/orchestrator.env \
  || fail "orchestrator.env is not a conffile"
for script in postinst prerm postrm; do
  dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$script" | sh -n || fail "$script is not valid sh"
done
env_mode="$(dpkg-deb --contents "$deb" | awk '$6 == "./etc/orch/orchestrator.env" {print $1}')"
[ "$env_mode" = "-rw-r-----" ] || fail "orchestrator.env is $env_mode, should not be world-readable"

# Install into a root of its own: dpkg's database lives there too. The maintainer scripts run
# without chroot and, seeing DPKG_ROOT, leave this machine's users and systemd alone.
root="$WORK/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg_root() {
  dpkg --root="$root" --log=/dev/null --force-script-chrootless --force-depends \
    --force-not-root --force-unsafe-io "$@"
}
dpkg_root -i "$deb" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "dpkg -i"; }
dpkg_root -s orch | grep -q '^Status: install ok installed' || fail "not installed"

# A coverage build's binary writes its profile on exit: not into the build tree's.
export GCOV_PREFIX="$WORK/gcov"
version="$("$root/usr/bin/orchestrator" version)"
want_version="$(dpkg-deb --field "$deb" Version)"
[ "$version" = "orchestrator $want_version" ] || fail "orchestrator version printed '$version'"
"$root/usr/bin/orchestrator" help | grep -q 'serve' || fail "orchestrator help does not list serve"
[ "$("$root/usr/bin/orchctl" version)" = "orchctl $want_version" ] || fail "orchctl version"
"$root/usr/bin/orchctl" help | grep -q 'deploy' || fail "orchctl help does not list deploy"

# The unit starts what the package installed, with the configuration it installed.
unit="$root/lib/systemd/system/orchestrator.service"
for exe in $(sed -n 's/^ExecStart\(Pre\)\?=\([^ ]*\).*/\2/p' "$unit"); do
  [ -x "$root$exe" ] || fail "the unit runs $exe, which the package does not install"
done
envfile="$(sed -n 's/^EnvironmentFile=-\?//p' "$unit")"
[ -f "$root$envfile" ] || fail "the unit reads $envfile, which the package does not install"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --root="$root" orchestrator.service 2>&1 | grep -v 'User=\|Group=' \
    | grep -i 'error\|invalid' && fail "systemd-analyze finds the unit wrong"
fi

# Remove keeps the edited configuration; purge takes it.
echo "# edited" >> "$root/etc/orch/orchestrator.env"
dpkg_root -r orch >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log"; fail "dpkg -r"; }
[ ! -e "$root/usr/bin/orchestrator" ] && [ ! -e "$root/usr/bin/orchctl" ] || fail "dpkg -r left a binary"
grep -q '^# edited' "$root/etc/orch/orchestrator.env" || fail "dpkg -r lost the configuration"
dpkg_root -P orch >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg -P"; }
[ ! -e "$root/etc/orch/orchestrator.env" ] || fail "dpkg -P left the configuration"
echo "ok: installed, ran '$version', removed and purged in $root"
