"""playbooks/prerequisites.yml as a user runs it: bad input, an unreachable server, the report."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from ansible_cli import run_playbook

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
CONTRACT = Path("group_vars") / "all" / "preventcare.yml"


def inventory(tmp_path, edit=None, extra_hosts=None):
    """A copy of the demo inventory, its contract edited as a mapping."""
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "demo", inv)
    if edit:
        document = yaml.safe_load((inv / CONTRACT).read_text("utf-8"))
        edit(document["preventcare"])
        (inv / CONTRACT).write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    if extra_hosts:
        hosts = yaml.safe_load((inv / "hosts.yml").read_text("utf-8"))
        hosts["all"]["hosts"].update(extra_hosts)
        (inv / "hosts.yml").write_text(yaml.safe_dump(hosts), "utf-8")
    return inv


def run(tmp_path, inv, playbook="playbooks/prerequisites.yml"):
    return run_playbook(inv, playbook, tmp_path)


# Runs on the controller (set_fact): not an execution on the host.
HAND_OVER = "TASK [Hand this server's evidence to the judge]"


def gather_play_lines(output, host):
    """Outcome lines of one host for the tasks of the gathering play that run on the host."""
    play = output.split("PLAY [Gather the prerequisite evidence from every Linux server]")[1]
    play = play.split("PLAY [")[0]
    tasks = [t for t in play.split("TASK [")[1:] if not ("TASK [" + t).startswith(HAND_OVER)]
    pattern = rf"^(ok|changed|fatal|failed): \[{re.escape(host)}\]"
    return [line for task in tasks for line in re.findall(pattern, task, re.MULTILINE)]


@pytest.mark.req("PRE-01")
@pytest.mark.req("PRE-02")
@pytest.mark.req("PRE-08")
def test_run_reports_every_host_then_fails_on_blocking_results(tmp_path):
    def unresolvable_relay(contract):
        contract["smtp_relay"]["host"] = "relay.invalid"  # RFC 6761: never resolves

    down = {
        "srv-down": {
            # Port 9 (discard) is closed on loopback: SSH is refused at once.
            "ansible_host": "127.0.0.1",
            "ansible_port": 9,
            "ansible_connection": "ssh",
            "preventcare_site": "local",
            "preventcare_roles": ["demo"],
        }
    }
    code, output = run(tmp_path, inventory(tmp_path, unresolvable_relay, down))
    assert code != 0
    # One module execution on the Linux host: the evidence and the SMTP dialogue together.
    assert gather_play_lines(output, "localhost") == ["ok"]
    # A Linux-only inventory runs no Windows task, not even a skipped one.
    windows_play = output.split("PLAY [Gather the prerequisite evidence from every Windows server]")
    assert "skipping: no hosts matched" in windows_play[1].split("PLAY [")[0]
    (report_dir,) = (tmp_path / "reports" / "demo").iterdir()
    report = json.loads((report_dir / "prerequisites.json").read_text("utf-8"))
    assert {p.name for p in report_dir.iterdir()} >= {
        "prerequisites.json",
        "prerequisites.html",
        "prerequisites.md",
    }
    results = [r for section in report["hosts"] for r in section["results"]]
    by = {(r["host"], r["requirement"], r["check"]): r for r in results}
    smtp = by[("localhost", "PRE-01", "smtp_relay")]
    assert (smtp["status"], smtp["evidence"]["failure_class"]) == ("FAIL", "dns")
    assert "relay.invalid" in smtp["hint"]
    assert by[("localhost", "PRE-08", "admin_access")]["status"] == "PASS"
    assert by[("contract", "PRE-02", "public_ip")]["status"] == "FAIL"  # none declared
    unreachable = [r for r in results if r["host"] == "srv-down"]
    assert [r["requirement"] for r in unreachable] == [
        "PRE-01",
        "PRE-02",
        "PRE-03",
        "PRE-05",
        "PRE-06",
        "PRE-08",
    ]
    assert {r["status"] for r in unreachable} == {"UNREACHABLE"}
    # The summary is printed, then the run stops with what blocks and where the report is.
    assert "srv-down" in output.split("TASK [Show the summary]")[1]
    assert "blocking prerequisite(s) failed" in output
    assert "localhost PRE-01 FAIL" in output
    assert "srv-down PRE-01 UNREACHABLE" in output
    assert str(report_dir / "prerequisites.html") in output


@pytest.mark.req("PRE-01")
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda c: c["smtp_relay"].update(port=70000),
            ["preventcare.smtp_relay.port", "70000 is above the maximum 65535"],
            id="port-out-of-range",
        ),
        pytest.param(
            lambda c: c.pop("smtp_relay"),
            ["preventcare.smtp_relay", "missing required key 'smtp_relay'"],
            id="relay-missing",
        ),
    ],
)
def test_bad_relay_in_the_contract_stops_before_any_host(tmp_path, edit, expected):
    code, output = run(tmp_path, inventory(tmp_path, edit))
    assert code != 0
    for text in expected:
        assert text in output
    assert "PLAY [Gather the prerequisite evidence" not in output
    assert not (tmp_path / "reports").exists()


@pytest.mark.req("PRE-02")
def test_public_ip_filter_through_a_playbook(tmp_path):
    playbook = tmp_path / "filter.yml"
    playbook.write_text(
        "---\n"
        "- name: Use the PRE-02 filter\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: Check addresses\n"
        "      ansible.builtin.assert:\n"
        "        that:\n"
        "          - (\"203.0.113.7\" | preventcare_public_ipv4).category == 'documentation'\n"
        "          - (\"100.64.3.4\" | preventcare_public_ipv4).category == 'cgnat'\n"
        '          - ("81.250.12.34" | preventcare_public_ipv4).public\n'
    )
    code, output = run(tmp_path, ROOT / "inventories" / "demo", playbook)
    assert code == 0, output
    assert "All assertions passed" in output
