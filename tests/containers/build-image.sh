#!/usr/bin/env bash
# Build the Debian 12 systemd image the test hosts boot from, with debootstrap.
# The mirror is read from this machine's own apt configuration: no host name of a
# package registry is written in the repository. Skipped when the image exists.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
# The tag follows this script's content, so editing it builds a fresh image.
# Scenarios and tests use the stable alias :test.
repo=localhost/preventcare-debian12
built="$repo:$(sha256sum "$0" | cut -c1-12)"

if podman image exists "$built"; then
  podman tag "$built" "$repo:test"
  echo "test image $built already built"
  exit 0
fi

# First URI of the deb822 or one-line apt source that serves a given suite.
apt_uri() {
  local suite=$1
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk -v s="$suite" '
      /^[[:space:]]*$/ { if (u != "" && ok) { print u; exit } u=""; ok=0; next }
      /^URIs:/ { u=$2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok=1 }
      END { if (u != "" && ok) print u }' "$f"
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v s="$suite" '$1 == "deb" && $3 == s { print $2 }' || true
}

mirror=$(apt_uri bookworm | head -n 1)
security=$(apt_uri bookworm-security | head -n 1)
if [ -z "$mirror" ]; then
  echo "no apt source for bookworm found in /etc/apt: cannot choose a Debian mirror" >&2
  exit 1
fi

work=$(mktemp -d /var/tmp/preventcare-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "debootstrap bookworm from the machine's configured mirror (about a minute)..."
debootstrap --variant=minbase \
  --include=python3,python3-apt,systemd,systemd-sysv,dbus,sudo,iproute2,ca-certificates,procps \
  bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

{
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
  if [ -n "$security" ]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
  fi
} >"$rootfs/etc/apt/sources.list.d/debian.sources"
rm -f "$rootfs/etc/apt/sources.list"

# Units that only make sense on real hardware or consoles slow the boot down.
for unit in getty@tty1.service console-getty.service systemd-udevd.service \
  systemd-udev-trigger.service systemd-modules-load.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
echo "preventcare-test" >"$rootfs/etc/hostname"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | podman import --quiet --change 'CMD ["/sbin/init"]' - "$built" >/dev/null
podman tag "$built" "$repo:test"
echo "built $built (alias $repo:test)"
