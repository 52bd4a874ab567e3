"""What the site's tests share: the scenario's contract and the monitor host's HTTP APIs."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

import podman_lab  # noqa: E402

# The scenario's inventory: the example contract with a real relay (molecule.yml).
INVENTORY = Path(__file__).resolve().parents[1] / "inventory"
LINUX_HOSTS = ("mon01", "srv-lin01", "srv-lin02")
WINDOWS_HOSTS = ("srv-ad01", "srv-app01")
PROMETHEUS = "http://127.0.0.1:9090"
ALERTMANAGER = "http://127.0.0.1:9093"
BLACKBOX = "http://127.0.0.1:9115"


def container(name: str) -> str:
    """Testinfra spec of the container that plays inventory host `name` (molecule.yml)."""
    return f"podman://pcd-{name}"


# GET argv[1] with basic auth argv[2]:argv[3] (empty: none), trusting the CA file argv[4]
# (empty: the system's); prints the body, or "HTTP <code>" / "ERROR <reason>" on failure.
_FETCH = """
import base64, ssl, sys, urllib.error, urllib.request
url, user, password, ca = (sys.argv[1:] + ["", "", ""])[:4]
request = urllib.request.Request(url)
if user:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", "Basic " + token)
context = ssl.create_default_context(cafile=ca or None)
try:
    sys.stdout.write(urllib.request.urlopen(request, timeout=15, context=context).read().decode())
except urllib.error.HTTPError as exc:
    sys.stdout.write(f"HTTP {exc.code}")
except (urllib.error.URLError, OSError) as exc:
    sys.stdout.write(f"ERROR {getattr(exc, 'reason', exc)}")
"""
# Where monitor_agent puts the site CA on every Linux server.
SITE_CA = "/etc/prometheus/preventcare-tls/ca.pem"


def contract() -> dict:
    """The contract the scenario converges (raw, before validation)."""
    text = (INVENTORY / "group_vars" / "all" / "preventcare.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["preventcare"]


def vault() -> dict:
    """The scenario's clear-text vault (dummy secrets)."""
    text = (INVENTORY / "group_vars" / "all" / "vault.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def thresholds() -> dict:
    """The booklet's table, data/thresholds.yml."""
    return yaml.safe_load((ROOT / "data" / "thresholds.yml").read_text(encoding="utf-8"))


def web_credentials() -> tuple[str, str]:
    """The user and password that Prometheus, Alertmanager and blackbox ask for (SEC-03)."""
    return contract()["monitoring"]["web_auth"]["username"], vault()[
        "vault_preventcare_web_password"
    ]


def exporter_credentials() -> tuple[str, str]:
    """The user and password the exporters ask for (SEC-03)."""
    user = contract()["monitoring"]["exporter_auth"]["username"]
    return user, vault()["vault_preventcare_exporter_password"]


def get(host, url: str, credentials=None, ca: str = "") -> str:
    """GET a URL from inside a container: the body, or "HTTP <code>" / "ERROR <reason>"."""
    user, password = credentials or ("", "")
    arguments = " ".join(shlex.quote(a) for a in (url, user, password, ca))
    return host.check_output(f"python3 -c {shlex.quote(_FETCH)} {arguments}")


def fetch(host, url: str) -> str:
    """GET a URL of the stack from inside the monitor host (loopback only), as its user."""
    body = get(host, url, web_credentials())
    assert not body.startswith(("HTTP ", "ERROR ")), f"{url}: {body}"
    return body


def api(host, url: str):
    """GET a JSON API from inside the monitor host."""
    return json.loads(fetch(host, url))


def wait_for(probe, timeout: float = 90, step: float = 3):
    """Call probe() until it returns something truthy; return the last value."""
    return podman_lab.wait_for(probe, timeout, step)
