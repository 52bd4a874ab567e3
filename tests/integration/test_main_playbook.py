"""The main job as a user runs it: the compliance run on an inventory, the visit sheet on disk."""

from __future__ import annotations

import json
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


def _run(inv: Path, tmp_path: Path, playbook: str = "playbooks/main.yml", *extra):
    return run_playbook(inv, playbook, tmp_path, *extra)


def _report_dir(tmp_path: Path) -> Path:
    runs = sorted((tmp_path / "reports" / "demo").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.req("VIS-04")
def test_demo_run_writes_a_visit_sheet_of_this_machine(tmp_path):
    code, out = _run(
        _inventory(tmp_path),
        tmp_path,
        "playbooks/main.yml",
        "-e",
        "preventcare_compliance_fail_on_findings=false",
    )
    assert code == 0, out
    folder = _report_dir(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "visit.html",
        "visit.json",
        "visit.md",
        "visit.xml",
    ]
    sheet = json.loads((folder / "visit.json").read_text())
    assert sheet["kind"] == "visit"
    assert sheet["client"]["id"] == "demo"
    (section,) = sheet["hosts"]
    assert section["host"] == "localhost"
    checks = {r["check"] for r in section["results"]}
    assert {"tools.agent", "services.required", "updates.security", "performance.disks"} <= checks
    # The demo has no site Prometheus: the anomalies section says so, the rest is produced.
    anomalies = sheet["visit"]["anomalies"]
    assert anomalies["available"] is False
    assert anomalies["reason"]
    attention = sum(sheet["counts"][s] for s in ("FAIL", "WARN", "UNREACHABLE"))
    # The run ends by saying where the sheet is and how many items need attention.
    assert f"{folder / 'visit.html'}: {attention} item(s) need attention" in " ".join(out.split())
    assert (
        "Anomalies since the last visit" in (folder / "visit.md").read_text()
        or "Anomalies depuis" in (folder / "visit.md").read_text()
    )


@pytest.mark.req("VIS-04")
def test_without_the_demo_switch_a_fail_fails_the_run_after_the_sheet_is_written(tmp_path):
    code, out = _run(_inventory(tmp_path), tmp_path, "playbooks/compliance.yml")
    sheet = json.loads((_report_dir(tmp_path) / "visit.json").read_text())
    assert (code != 0) == (sheet["counts"]["FAIL"] > 0), out


@pytest.mark.req("VIS-03")
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
    sheet = json.loads((_report_dir(tmp_path) / "visit.json").read_text())
    hosts = {h["host"]: h for h in sheet["hosts"]}
    down = [r for r in hosts["srv-down"]["results"] if r["check"] != "dossier.drift"]
    assert down and {r["status"] for r in down} == {"UNREACHABLE"}
    assert hosts["localhost"]["status"] != "UNREACHABLE"


def test_bad_contract_stops_the_run_before_any_host_is_touched(tmp_path):
    def break_contract(text: str) -> str:
        return text.replace("port: 2525", "port: 70000").replace(
            "surveillance_mailbox:", "survelliance_mailbox:"
        )

    code, out = _run(_inventory(tmp_path, contract_edit=break_contract), tmp_path)
    assert code != 0
    assert "preventcare.smtp_relay.port" in out
    assert "did you mean 'surveillance_mailbox'?" in out
    assert "Gather the compliance facts" not in out  # no host play started
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
    assert "Gather the compliance facts" not in out
