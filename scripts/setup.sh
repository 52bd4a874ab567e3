#!/usr/bin/env bash
# Set up everything the project needs on a Debian 12 machine: the system packages
# (when run as root), and the Python toolchain in .venv from the hashed lock.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: podman + runc + debootstrap for the test hosts, promtool/amtool
# (prometheus, prometheus-alertmanager) for the rule tests, cpio for the backup manager's tests.
# netavark + aardvark-dns give podman's user-defined networks their DNS; they are only
# recommended by podman, so they are named here. chromium: pages a person reads (visit sheet,
# technical document, console) are looked at in a real headless browser. graphviz draws the
# network diagram; WeasyPrint needs Pango and a font; poppler-utils checks the PDF.
packages=(podman runc netavark aardvark-dns iptables debootstrap iproute2 ca-certificates cpio
  prometheus prometheus-alertmanager chromium graphviz libpango-1.0-0 libpangoft2-1.0-0
  fonts-dejavu-core poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} — install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "==> installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # policy-rc.d keeps the distribution's services (prometheus, ...) from starting on this machine.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

lock_sum=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ "$(cat .venv/.lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
  echo "==> creating .venv from requirements.lock"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  if [ ! -x .venv/bin/uv ]; then
    # Bootstrap uv at the lock's version, then let it install the lock with hashes.
    uv_pin=$(grep -E '^uv==' requirements.lock | cut -d' ' -f1)
    .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip >/dev/null
    .venv/bin/python -m pip install -q --disable-pip-version-check "$uv_pin"
  fi
  # --compile-bytecode, as pip does: uv leaves it out, and where PYTHONDONTWRITEBYTECODE is
  # set (these machines set it) every ansible process would compile its imports again,
  # about 1 s of CPU per ansible-playbook run.
  .venv/bin/uv pip sync -q --compile-bytecode --python .venv/bin/python --require-hashes \
    requirements.lock
  echo "$lock_sum" >.venv/.lock-sha256
fi
