"""VIS-03: the site's Prometheus keeps the time between two visits, with a size cap.

The monitor_site role's /etc/default/prometheus is rendered by a real playbook from the example
inventory (its groups and hostvars) and a contract; its arguments are then given to Debian's
real Prometheus, which must accept them and report them in /api/v1/status/flags.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_calendar import days_between_visits
from ansible.module_utils.preventcare_contract import normalise_contract
from ansible.module_utils.preventcare_contract_file import load_contract_file
from ansible_cli import run
from required_tools import require
from test_site_history import _free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example"
PLAYBOOK = Path(__file__).parent / "playbooks" / "render_prometheus_defaults.yml"


def render(tmp_path, edit=None, extra=None):
    data, problems = load_contract_file(EXAMPLE / "group_vars" / "all" / "preventcare.yml")
    assert problems == []
    contract = normalise_contract(data)
    if edit:
        edit(contract)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({"preventcare_contract": contract, "out_dir": str(out),
                                     **(extra or {})}))  # fmt: skip
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
    }
    code, _, output = run("ansible-playbook", "-i", EXAMPLE / "hosts.yml", PLAYBOOK,
                          "-e", f"@{variables}", env=env)  # fmt: skip
    assert code == 0, output
    text = (out / "prometheus").read_text(encoding="utf-8")
    args = next(line for line in text.splitlines() if line.startswith("ARGS="))
    flags = dict(
        arg.removeprefix("--").split("=", 1)
        for arg in shlex.split(args)[0].removeprefix("ARGS=").split()
    )
    return flags, json.loads((out / "servers.json").read_text(encoding="utf-8"))


@pytest.mark.req("VIS-03")
@pytest.mark.req("VIS-01")
def test_retention_covers_the_gap_between_two_visits_with_a_margin(tmp_path):
    flags, servers = render(tmp_path)
    # The example's servers; mon01 (preventcare_roles: [monitor]) is the provider's appliance.
    assert servers == ["srv-ad01", "srv-app01", "srv-lin01"]
    # 3 servers: 2 + 2 visits a year, 92 days apart, plus a month.
    assert days_between_visits(3) == 92
    assert flags["storage.tsdb.retention.time"] == "122d"
    # (3 servers x 12 MB + 20 MB of the site's own) x 122 days x 1.5 = 10.2 GB, rounded up.
    assert flags["storage.tsdb.retention.size"] == "11GB"


@pytest.mark.req("VIS-03")
def test_the_contract_retention_and_the_role_cap_win(tmp_path):
    def edit(contract):
        contract.setdefault("monitoring", {})["retention"] = "400d"

    flags, _ = render(tmp_path, edit, {"monitor_site_retention_size": ""})
    assert flags["storage.tsdb.retention.time"] == "400d"
    assert "storage.tsdb.retention.size" not in flags


@pytest.mark.req("VIS-03")
def test_real_prometheus_runs_with_the_rendered_retention(tmp_path):
    flags, _ = render(tmp_path)
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text("scrape_configs: []\n", encoding="utf-8")
    process = subprocess.Popen(
        [require("prometheus", "the rendered flags are given to a real Prometheus"),
         f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--storage.tsdb.retention.time={flags['storage.tsdb.retention.time']}",
         f"--storage.tsdb.retention.size={flags['storage.tsdb.retention.size']}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/v1/status/flags"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    live = json.load(answer)["data"]
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "Prometheus did not start"
                time.sleep(0.3)
        assert live["storage.tsdb.retention.time"] == "122d"
        # Prometheus's units are powers of 1024: 11GB is 11 GiB.
        assert live["storage.tsdb.retention.size"] == "11GiB"
    finally:
        process.terminate()
        process.wait(timeout=20)
