#!/usr/bin/env bash
# Set up, then run the main job on the demo inventory (this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# shellcheck disable=SC1091
source .venv/bin/activate
exec ansible-playbook playbooks/main.yml "$@"
