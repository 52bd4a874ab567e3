#!/usr/bin/env bash
# Build the console test image: the project's Debian 12 systemd image with the Debian
# packages of the surveillance console (Zabbix 6.0 server and front end, PostgreSQL,
# Apache with mod_php, Postfix, zabbix_sender) already installed, so that each molecule
# run does not download and unpack about 120 packages. The role still installs them
# itself (apt finds them present): on a real console host nothing is pre-installed.
# Cached: the tag follows this script, the Containerfile and the base image's ID.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/../containers.conf}"
"$here/../build-image.sh" >/dev/null
base=localhost/preventcare-debian12:test
repo=localhost/preventcare-console
key=$({ cat "$0" "$here/Containerfile"; podman image inspect --format '{{.Id}}' "$base"; } |
  sha256sum | cut -c1-12)
built="$repo:$key"

if podman image exists "$built"; then
  podman tag "$built" "$repo:test"
  echo "console test image $built already built"
  exit 0
fi
echo "building $built from $base (Zabbix, PostgreSQL, Apache, Postfix: about a minute)..."
podman build --quiet --build-arg "BASE=$base" -t "$built" -f "$here/Containerfile" "$here" >/dev/null
podman tag "$built" "$repo:test"
echo "built $built (alias $repo:test)"
