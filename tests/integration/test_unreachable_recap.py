"""An unreachable server counts unreachable=1 in the PLAY RECAP, after the report is written.

Run through ansible-runner, as AWX runs a job: its stats (the recap AWX reads) must list the
server among the unreachable ("dark") hosts, and the report must keep its UNREACHABLE items.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import ansible_runner
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "demo", inventory)
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text("utf-8"))
    hosts["all"]["hosts"]["srv-down"] = {
        # Port 9 (discard) is closed on loopback: SSH is refused at once.
        "ansible_host": "127.0.0.1",
        "ansible_port": 9,
        "ansible_connection": "ssh",
        "preventcare_site": "local",
        "preventcare_roles": ["demo"],
    }
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts), "utf-8")
    return inventory


@pytest.mark.req("PRE-01")
def test_an_unreachable_server_is_unreachable_in_the_recap_and_the_runner_stats(tmp_path):
    inventory = _inventory(tmp_path)
    reports = tmp_path / "reports"
    (tmp_path / "runner").mkdir()
    runner = ansible_runner.run(
        private_data_dir=str(tmp_path / "runner"),
        project_dir=str(ROOT),
        playbook=str(ROOT / "playbooks" / "prerequisites.yml"),
        inventory=str(inventory),
        extravars={"preventcare_reports_root": str(reports)},
        envvars={
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts"),
            "ANSIBLE_NOCOLOR": "1",
        },
        quiet=True,
        timeout=300,
    )
    output = runner.stdout.read()
    assert "Traceback" not in output
    # The report was written first, with the server's UNREACHABLE items.
    (report,) = reports.rglob("prerequisites.json")
    document = json.loads(report.read_text("utf-8"))
    down = next(h for h in document["hosts"] if h["host"] == "srv-down")
    assert {r["status"] for r in down["results"]} == {"UNREACHABLE"}
    assert output.index("TASK [Write the prerequisites report]") < output.index(
        "TASK [Count this server as unreachable, as the report does]"
    )
    # The recap, as a person and AWX read it.
    recap = output.split("PLAY RECAP")[-1]
    line = re.search(r"^srv-down\s+:.*$", recap, re.MULTILINE).group(0)
    assert re.search(r"\bunreachable=1\b", line), line
    assert re.search(r"^localhost\s+:.*\bunreachable=0\b", recap, re.MULTILINE), recap
    assert "srv-down" in runner.stats["dark"]
    assert "localhost" not in runner.stats["dark"]
    # The blocking failures still stop the run with their message.
    assert "blocking prerequisite(s) failed" in output
    assert runner.rc == 4  # Ansible's exit code for a run with unreachable hosts
    assert runner.status == "failed"
