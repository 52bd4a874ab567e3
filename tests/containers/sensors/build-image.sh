#!/usr/bin/env bash
# Build localhost/preventcare-sensors:test FROM the Debian 12 test image (built first when
# missing). The tag follows the Containerfile's content and the base image's id, so editing
# either builds a fresh image; an existing one is reused.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/../containers.conf}"
repo=localhost/preventcare-sensors

if ! podman image exists localhost/preventcare-debian12:test; then
  "$here/../build-image.sh"
fi
base_id=$(podman image inspect --format '{{.Id}}' localhost/preventcare-debian12:test)
built="$repo:$( (cat "$here/Containerfile"; echo "$base_id") | sha256sum | cut -c1-12)"

if podman image exists "$built"; then
  podman tag "$built" "$repo:test"
  echo "sensors image $built already built"
  exit 0
fi

echo "building $built (apt-get install of the set-up day packages, about 90 s)..."
log=$(mktemp /var/tmp/preventcare-sensors-build.XXXXXX)
trap 'rm -f "$log"' EXIT
# Host network: the build's apt-get reaches the mirror the machine itself uses.
podman build --network host -f "$here/Containerfile" -t "$built" "$here" >"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  exit 1
}
podman tag "$built" "$repo:test"
echo "built $built (alias $repo:test)"
