#!/usr/bin/env bash
# Build localhost/preventcare-console:test (the surveillance console's packages), cached by content.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../build-derived-image.sh" console "$here" \
  "apt-get install of Zabbix 6.0, PostgreSQL, Apache and Postfix, about 60 s"
