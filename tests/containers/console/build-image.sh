#!/usr/bin/env bash
# Build the console scenario's test images from the project's Debian 12 systemd image:
# - localhost/preventcare-console: the surveillance console's Debian packages (Zabbix 6.0
#   server and front end, PostgreSQL, Apache with mod_php, Postfix, zabbix_sender);
# - localhost/preventcare-site: the site's (Prometheus, Alertmanager, exporters, Postfix).
# Pre-installed so that each molecule run does not download and unpack some 150 packages.
# The roles still install them themselves (apt finds them present): on a real host nothing
# is pre-installed. Cached: a tag follows this script, its Containerfile and the base image.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/../containers.conf}"
"$here/../build-image.sh" >/dev/null
base=localhost/preventcare-debian12:test
build() {
  local repo=$1 file=$2 key built
  key=$({ cat "$0" "$here/$file"; podman image inspect --format '{{.Id}}' "$base"; } |
    sha256sum | cut -c1-12)
  built="$repo:$key"
  if podman image exists "$built"; then
    podman tag "$built" "$repo:test"
    echo "test image $built already built"
    return
  fi
  echo "building $built from $base (about a minute)..."
  podman build --quiet --build-arg "BASE=$base" -t "$built" -f "$here/$file" "$here" >/dev/null
  podman tag "$built" "$repo:test"
  echo "built $built (alias $repo:test)"
}

build localhost/preventcare-console Containerfile
build localhost/preventcare-site Containerfile.site
