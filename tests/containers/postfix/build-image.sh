#!/usr/bin/env bash
# Build localhost/preventcare-postfix:test (the Postfix lab relay), cached by content.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../build-derived-image.sh" postfix "$here" "apt-get install postfix, about 20 s"
