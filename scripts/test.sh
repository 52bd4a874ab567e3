#!/usr/bin/env bash
# Set up, then run every check CI runs: lint, unit and integration tests, molecule.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# shellcheck disable=SC1091
source .venv/bin/activate
export CONTAINERS_CONF="$PWD/tests/containers/containers.conf"
# The project's ansible.cfg, whichever directory a tool runs from.
export ANSIBLE_CONFIG="$PWD/ansible.cfg"

step() { printf '\n==> %s\n' "$*"; }

step "building the test host image (cached)"
tests/containers/build-image.sh
# Derived images of the scenarios that converge the set-up day (cached by content hash),
# and the surveillance console's (molecule/console).
tests/containers/postfix/build-image.sh
tests/containers/sensors/build-image.sh
tests/containers/console/build-image.sh

step "lint: yamllint"
yamllint --strict .
step "lint: ruff"
ruff check .
ruff format --check .
step "lint: ansible-lint (production profile)"
ansible-lint --offline -q

step "pytest"
pytest

for scenario in molecule/*/molecule.yml; do
  name=$(basename "$(dirname "$scenario")")
  # A scenario that needs something this machine lacks (molecule/windows: a Windows host)
  # lists its variables in requires-env; without them it is reported NOT RUN, never passed.
  missing=""
  if [[ -f "molecule/$name/requires-env" ]]; then
    while read -r var; do
      [[ -z "$var" || "$var" == \#* ]] && continue
      [[ -n "${!var:-}" ]] || missing="$missing $var"
    done <"molecule/$name/requires-env"
  fi
  if [[ -n "$missing" ]]; then
    step "molecule test -s $name: NOT RUN, nothing was tested (unset:$missing; see molecule/$name/molecule.yml)"
    continue
  fi
  step "molecule test -s $name"
  molecule test -s "$name"
done
