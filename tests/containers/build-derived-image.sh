#!/usr/bin/env bash
# Build localhost/preventcare-NAME:test from DIR/Containerfile, FROM the Debian 12 test image
# (built first when missing). The tag follows the Containerfile's content and the base
# image's id, so editing either builds a fresh image; an existing one is reused.
#   tests/containers/build-derived-image.sh NAME DIR "what the build installs, how long"
set -euo pipefail

name=$1 dir=$(cd "$2" && pwd) what=$3
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
repo=localhost/preventcare-$name

if ! podman image exists localhost/preventcare-debian12:test; then
  "$here/build-image.sh"
fi
base_id=$(podman image inspect --format '{{.Id}}' localhost/preventcare-debian12:test)
built="$repo:$( (cat "$dir/Containerfile"; echo "$base_id") | sha256sum | cut -c1-12)"

if podman image exists "$built"; then
  podman tag "$built" "$repo:test"
  echo "$name image $built already built"
  exit 0
fi

echo "building $built ($what)..."
log=$(mktemp "/var/tmp/preventcare-$name-build.XXXXXX")
trap 'rm -f "$log"' EXIT
# Host network: the build's apt-get reaches the mirror the machine itself uses.
podman build --network host -f "$dir/Containerfile" -t "$built" "$dir" >"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  exit 1
}
podman tag "$built" "$repo:test"
echo "built $built (alias $repo:test)"
