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

# The project's own Python (plugins, module_utils, the tests) compiled once for every process
# of the run, as the virtualenv is (scripts/setup.sh): nothing else writes bytecode here.
python -m compileall -q action_plugins bin filter_plugins library module_utils tests vars_plugins

step "lint: yamllint"
yamllint --strict .
step "lint: ruff"
ruff check .
ruff format --check .
step "lint: ansible-lint (production profile)"
ansible-lint --offline -q

# pytest and the molecule scenarios run in two lanes side by side: much of their time is
# spent waiting (systemd booting, alert timers, group_wait, Zabbix's pollers), not computing,
# and the lanes share nothing (their containers, networks, subnets and site CAs are each
# their own: tests/integration/site_lab.py keeps its labs' CA in the lab's folder).
# Each lane's lines are prefixed with its name; the run fails if either lane fails, once both
# have ended.
scenario() {
  local name=$1 missing="" var
  # A scenario that needs something this machine lacks (molecule/windows: a Windows host)
  # lists its variables in requires-env; without them it is reported NOT RUN, never passed.
  if [[ -f "molecule/$name/requires-env" ]]; then
    while read -r var; do
      [[ -z "$var" || "$var" == \#* ]] && continue
      [[ -n "${!var:-}" ]] || missing="$missing $var"
    done <"molecule/$name/requires-env"
  fi
  if [[ -n "$missing" ]]; then
    step "molecule test -s $name: NOT RUN, nothing was tested (unset:$missing; see molecule/$name/molecule.yml)"
    return 0
  fi
  step "molecule test -s $name"
  molecule test -s "$name"
}

# Every scenario under molecule/ runs in one lane or the other. The set-up day's site (the
# longest) and the two short ones in the second lane; pytest, then the console and any other
# scenario, in the first: the two lanes take about as long.
second_lane=(site foundation prerequisites)
first_lane=()
for scenario_file in molecule/*/molecule.yml; do
  name=$(basename "$(dirname "$scenario_file")")
  [[ " ${second_lane[*]} " == *" $name "* ]] || first_lane+=("$name")
done

lane_pytest() {
  step "pytest"
  # The slowest tests are listed at the end, so that a run growing longer says where.
  pytest --durations=15
  for name in "${first_lane[@]}"; do scenario "$name"; done
}
lane_molecule() {
  for name in "${second_lane[@]}"; do scenario "$name"; done
}

run_lane() {
  local name=$1 started=$SECONDS status
  shift
  # Not under `||` nor `if`: there bash would ignore the subshell's set -e, and a failing
  # pytest would let the lane go on and end with the status of its last command.
  set +e
  (set -euo pipefail; "$@") 2>&1 | sed -u "s/^/[$name] /"  # -u: each line as it completes
  status=${PIPESTATUS[0]}
  set -e
  printf '\n==> lane %s: %s after %d s\n' "$name" \
    "$([[ $status -eq 0 ]] && echo passed || echo "FAILED (exit $status)")" $((SECONDS - started))
  return "$status"
}

run_lane pytest lane_pytest &
pytest_lane=$!
run_lane molecule lane_molecule &
molecule_lane=$!
status=0
wait "$pytest_lane" || status=1
wait "$molecule_lane" || status=1
exit "$status"
