#!/usr/bin/env bash
# Build localhost/preventcare-sensors:test (the set-up day's packages), cached by content.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../build-derived-image.sh" sensors "$here" \
  "apt-get install of the set-up day packages, about 90 s"
