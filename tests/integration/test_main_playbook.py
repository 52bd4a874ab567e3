"""The main job as a user runs it: ansible-playbook on an inventory, reports on disk."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from ansible_cli import run_playbook

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


def _inventory(tmp_path: Path, extra_hosts: dict | None = None, contract_edit=None) -> Path:
    """A copy of the demo inventory, optionally with more hosts or an edited contract."""
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "demo", inv)
    if extra_hosts:
        hosts = yaml.safe_load((inv / "hosts.yml").read_text())
        hosts["all"]["hosts"].update(extra_hosts)
        (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    if contract_edit:
        path = inv / "group_vars" / "all" / "preventcare.yml"
        path.write_text(contract_edit(path.read_text()))
    return inv


def _run(inv: Path, tmp_path: Path, playbook: str = "playbooks/main.yml"):
    return run_playbook(inv, playbook, tmp_path)


def _report_dir(tmp_path: Path) -> Path:
    runs = sorted((tmp_path / "reports" / "demo").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def test_demo_run_writes_a_facts_summary_of_this_machine(tmp_path):
    code, out = _run(_inventory(tmp_path), tmp_path)
    assert code == 0, out
    report = json.loads((_report_dir(tmp_path) / "facts.json").read_text())
    assert report["client"]["id"] == "demo"
    (row,) = report["hosts"]
    assert row["host"] == "localhost"
    assert row["status"] == "OK"
    assert row["vcpus"] == os.cpu_count()
    markdown = (_report_dir(tmp_path) / "facts.md").read_text()
    assert "résumé des serveurs" in markdown  # the contract's language is French
    assert "| localhost | OK |" in markdown


def test_an_unreachable_server_is_reported_not_dropped(tmp_path):
    # Port 9 (discard) is closed on loopback: the SSH connection is refused at once.
    unreachable = {
        "srv-down": {
            "ansible_host": "127.0.0.1",
            "ansible_port": 9,
            "ansible_connection": "ssh",
            "preventcare_site": "local",
        }
    }
    _, out = _run(_inventory(tmp_path, unreachable), tmp_path)
    assert "srv-down" in out
    rows = {
        r["host"]: r
        for r in json.loads((_report_dir(tmp_path) / "facts.json").read_text())["hosts"]
    }
    assert rows["srv-down"]["status"] == "UNREACHABLE"
    assert rows["localhost"]["status"] == "OK"


def test_bad_contract_stops_the_run_before_any_host_is_touched(tmp_path):
    def break_contract(text: str) -> str:
        return text.replace("port: 2525", "port: 70000").replace(
            "surveillance_mailbox:", "survelliance_mailbox:"
        )

    code, out = _run(_inventory(tmp_path, contract_edit=break_contract), tmp_path)
    assert code != 0
    assert "preventcare.smtp_relay.port" in out
    assert "did you mean 'surveillance_mailbox'?" in out
    assert "Gather the facts the summary needs" not in out  # no host play started
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "preventcare:\n  client: [unclosed\n", "preventcare.yml, line 3", id="malformed-yaml"
        ),
        pytest.param("", "preventcare", id="empty-file"),
    ],
)
def test_unreadable_contract_gives_a_message_not_a_traceback(tmp_path, content, expected):
    inv = _inventory(tmp_path, contract_edit=lambda _text: content)
    code, out = _run(inv, tmp_path)
    assert code != 0
    assert expected in out
    assert "Gather the facts the summary needs" not in out
