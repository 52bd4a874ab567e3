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
step "building the console test image (cached)"
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
  step "molecule test -s $name"
  molecule test -s "$name"
done
