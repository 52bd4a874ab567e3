"""A real Alertmanager (Debian's binary) on loopback, with the monitor_site role's configuration.

render() renders the role's alertmanager.yml and e-mail templates from a contract
(tests/integration/playbooks/render_alertmanager.yml): the very files the role installs.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.preventcare_contract import normalise_contract
from ansible.module_utils.preventcare_contract_file import load_contract_file
from ansible_cli import run
from required_tools import require

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "group_vars" / "all" / "preventcare.yml"
PLAYBOOK = Path(__file__).parent / "playbooks" / "render_alertmanager.yml"
GROUP_WAIT = 10  # monitor_site_group_wait


def example_contract():
    """The example inventory's contract, validated and normalised."""
    data, problems = load_contract_file(EXAMPLE)
    assert problems == []
    return normalise_contract(data)


def render(tmp_path, name, contract):
    """The rendered alertmanager.yml (as a mapping) and the folder holding it."""
    out = tmp_path / f"render-{name}"
    out.mkdir()
    extra = out / "vars.json"
    extra.write_text(json.dumps({"preventcare_contract": contract, "out_dir": str(out)}))
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts"),
    }
    code, _, output = run("ansible-playbook", PLAYBOOK, "-e", f"@{extra}", env=env)
    assert code == 0, output
    config = yaml.safe_load((out / "alertmanager.yml").read_text(encoding="utf-8"))
    return config, out


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Alertmanager:
    """Debian's Alertmanager on loopback, single-site, with a rendered configuration."""

    def __init__(self, config, folder: Path):
        # The role installs the e-mail templates under /etc; here they sit beside the config.
        config["templates"] = [str(folder / "preventcare.tmpl")]
        (folder / "alertmanager.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        binary = require("prometheus-alertmanager", "this test runs a real Alertmanager")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'alertmanager.yml'}",
                f"--storage.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(folder / "alertmanager.log").open("w"),
            env={**os.environ, "TZ": "UTC"},
        )
        self.log = folder / "alertmanager.log"
        deadline = time.monotonic() + 30
        while not self._ready():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                pytest.fail(f"Alertmanager did not start: {self.log.read_text()[-1500:]}")
            time.sleep(0.3)

    def _ready(self):
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def push(self, labels, annotations):
        body = json.dumps(
            [
                {
                    "labels": labels,
                    "annotations": annotations,
                    "startsAt": datetime.datetime.now(datetime.UTC).isoformat(),
                }
            ]
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200

    def alerts(self):
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=5) as answer:
            return json.load(answer)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def metrics(self):
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as answer:
            return answer.read().decode()
