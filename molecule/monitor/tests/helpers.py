"""What the monitor tests share: the project's data and the monitor host's HTTP APIs."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

import podman_lab  # noqa: E402

EXAMPLE = ROOT / "inventories" / "example"
LINUX_HOSTS = ("mon01", "srv-lin01", "srv-lin02")
WINDOWS_HOSTS = ("srv-ad01", "srv-app01")
PROMETHEUS = "http://127.0.0.1:9090"
ALERTMANAGER = "http://127.0.0.1:9093"
BLACKBOX = "http://127.0.0.1:9115"


def container(name: str) -> str:
    """Testinfra spec of the container that plays inventory host `name` (molecule.yml)."""
    return f"podman://pcmon-{name}"


_FETCH = (
    "import sys, urllib.request; "
    "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=15).read().decode())"
)


def contract() -> dict:
    """The example contract the scenario converges (raw, before validation)."""
    text = (EXAMPLE / "group_vars" / "all" / "preventcare.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["preventcare"]


def vault() -> dict:
    """The example's clear-text vault (dummy secrets)."""
    text = (EXAMPLE / "group_vars" / "all" / "vault.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def thresholds() -> dict:
    """The booklet's table, data/thresholds.yml."""
    return yaml.safe_load((ROOT / "data" / "thresholds.yml").read_text(encoding="utf-8"))


def fetch(host, url: str) -> str:
    """GET a URL from inside the monitor host (its APIs answer on loopback only)."""
    return host.check_output(f"python3 -c {shlex.quote(_FETCH)} {shlex.quote(url)}")


def api(host, url: str):
    """GET a JSON API from inside the monitor host."""
    return json.loads(fetch(host, url))


def wait_for(probe, timeout: float = 90, step: float = 3):
    """Call probe() until it returns something truthy; return the last value."""
    return podman_lab.wait_for(probe, timeout, step)
