#!/usr/bin/env bash
# Set up, then run the main job on the demo inventory (this machine): the compliance run,
# which ends by printing where the visit sheet is and how many items need attention. The
# command succeeds once the sheet is written: the FAILs in it are this machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# shellcheck disable=SC1091
source .venv/bin/activate
exec ansible-playbook playbooks/main.yml -e preventcare_compliance_fail_on_findings=false "$@"
