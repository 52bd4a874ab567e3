"""The preventcare_report action run by a real ansible-playbook: files on disk, secrets masked."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_cli import run

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
RUN_ID = "20261126T064847Z"
SMTP_PASSWORD = "Tr0ub4dor&3-vault-only"
WINRM_PASSWORD = "W1nRM-only-in-the-vault"
CONTACT = {
    "name": "Claire Martin",
    "side": "client",
    "role": "Gérante",
    "email": "claire.martin@martin.example",
    "phone": "+33 4 72 00 00 01",
}


def _result(host, requirement, check, status, *, blocking=True, evidence=None, hint=""):
    return {
        "host": host,
        "requirement": requirement,
        "check": check,
        "status": status,
        "blocking": blocking,
        "title": f"{check} on {host}",
        "evidence": evidence or {},
        "hint": hint,
    }


RESULTS = [
    _result(
        "srv-lin01",
        "PRE-01",
        "smtp_relay",
        "FAIL",
        # A relay that quotes the bad credentials back: the report must not.
        evidence={"reply": f"535 5.7.8 bad credentials {SMTP_PASSWORD}"},
        hint=f"check the password {SMTP_PASSWORD} in the vault",
    ),
    _result("srv-lin01", "PRE-02", "static_addressing", "PASS"),
    _result(
        "srv-ad01",
        "PRE-01",
        "smtp_relay",
        "UNREACHABLE",
        evidence={"msg": f"ntlm: the server rejected {WINRM_PASSWORD}"},
    ),
    _result(
        "contract",
        "PRE-07",
        "server_room_phone",
        "DECLARED",
        blocking=False,
        evidence={"declared_by": CONTACT["name"], "date": "2026-10-12"},
    ),
]

PLAYBOOK = """\
---
- name: Write a report as playbooks/prerequisites.yml does
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the prerequisites report
      preventcare_write_report:
        kind: prerequisites
        results: "{{ results }}"
        contract: "{{ preventcare_contract }}"
        run_id: "@RUN_ID@"
        dest: "{{ reports_root }}"
        formats: "{{ formats | default(['json', 'html', 'md', 'junit']) }}"
      register: report

    - name: Show what the action returned
      ansible.builtin.debug:
        var: report

    - name: Print the console table
      ansible.builtin.debug:
        msg: "{{ report.table }}"
""".replace("@RUN_ID@", RUN_ID)


def _project(tmp_path, results=RESULTS):
    """A playbook, an inventory with a WinRM password and vars holding the SMTP password."""
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    contract = {
        "client": {"id": "martin", "name": "Boulangeries Martin SARL"},
        "language": "en",
        "contacts": [CONTACT],
        "smtp_relay": {"auth": {"username": "preventcare@martin.example"}},
    }
    masked = json.loads(json.dumps(contract))
    masked["smtp_relay"]["auth"]["password"] = "********"
    contract["smtp_relay"]["auth"]["password"] = "{{ vault_preventcare_smtp_password }}"
    inventory = {
        "all": {
            "hosts": {
                "localhost": {"ansible_connection": "local"},
                "srv-ad01": {"ansible_connection": "winrm", "ansible_password": WINRM_PASSWORD},
            },
            "vars": {
                "vault_preventcare_smtp_password": SMTP_PASSWORD,
                "preventcare": contract,
                "preventcare_contract": masked,
                "results": results,
                "reports_root": str(tmp_path / "reports"),
            },
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory, allow_unicode=True))


def _run(tmp_path, *extra):
    # The project's configuration, as a user runs it; temporary files and facts here.
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts"),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
    }
    code, _, output = run(
        "ansible-playbook", "-i", "hosts.yml", "site.yml", *extra, cwd=tmp_path, env=env
    )
    return code, output


@pytest.mark.req("SEC-01")
@pytest.mark.req("SEC-02")
def test_playbook_writes_every_format_atomically_without_secrets_or_contacts(tmp_path):
    _project(tmp_path)
    code, output = _run(tmp_path)
    assert code == 0, output
    folder = tmp_path / "reports" / "martin" / RUN_ID
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "prerequisites.html",
        "prerequisites.json",
        "prerequisites.md",
        "prerequisites.xml",
    ]  # no temporary file left behind
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path.name
        text = path.read_text()
        for forbidden in (SMTP_PASSWORD, WINRM_PASSWORD, CONTACT["name"], CONTACT["email"]):
            assert forbidden not in text, (path.name, forbidden)
    for forbidden in (SMTP_PASSWORD, WINRM_PASSWORD):
        assert forbidden not in output

    document = json.loads((folder / "prerequisites.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert document["counts"]["FAIL"] == 1
    assert document["hosts"][0]["results"][0]["evidence"]["declared_by"] == "[Gérante]"
    smtp = document["hosts"][1]["results"][0]
    assert smtp["evidence"]["reply"] == "535 5.7.8 bad credentials ********"
    assert ET.parse(folder / "prerequisites.xml").getroot().get("tests") == "4"

    # What the playbook gets back: files, counts, blocking failures and the table.
    shown = output[output.index('"report": {') + len('"report": ') :]
    returned = json.loads(shown.split("\n}\n")[0])
    assert returned["changed"] is True
    assert returned["files"] == {
        fmt: str(folder / f"prerequisites.{ext}")
        for fmt, ext in (("json", "json"), ("html", "html"), ("md", "md"), ("junit", "xml"))
    }
    assert returned["counts"] == document["counts"]
    assert [(b["host"], b["status"]) for b in returned["blocking_failures"]] == [
        ("srv-lin01", "FAIL"),
        ("srv-ad01", "UNREACHABLE"),
    ]
    assert returned["table"][0].split() == ["Host", "PRE-01", "PRE-02", "PRE-07"]
    assert "srv-ad01   UNRCH   -       -" in output


@pytest.mark.req("SEC-01")
def test_an_inline_vault_password_in_the_contract_is_masked_too(tmp_path):
    """The contract may hold the password as an inline !vault value instead of a vault_* var."""
    secret = "Inline-V4ult-only-secret"
    leaked = [{**RESULTS[1], "hint": f"the relay rejected {secret}"}]
    _project(tmp_path, results=leaked)
    (tmp_path / "vault-pass").write_text("test-vault-password\n")
    ciphertext = VaultLib([("default", VaultSecret(b"test-vault-password"))]).encrypt(secret)
    block = "\n".join("              " + line for line in ciphertext.decode().splitlines())
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "localhost.yml").write_text(
        "preventcare:\n"
        "  smtp_relay:\n"
        "    auth:\n"
        "      username: preventcare@martin.example\n"
        f"      password: !vault |\n{block}\n"
    )
    code, output = _run(tmp_path, "--vault-password-file", str(tmp_path / "vault-pass"))
    assert code == 0, output
    folder = tmp_path / "reports" / "martin" / RUN_ID
    for path in folder.iterdir():
        assert secret not in path.read_text(), path.name
    assert secret not in output
    document = json.loads((folder / "prerequisites.json").read_text())
    assert document["hosts"][0]["results"][0]["hint"] == "the relay rejected ********"


def test_a_second_run_with_the_same_id_gets_its_own_folder(tmp_path):
    _project(tmp_path)
    assert _run(tmp_path)[0] == 0
    _project(tmp_path, results=RESULTS[1:2])
    code, output = _run(tmp_path, "-e", '{"formats": ["json"]}')
    assert code == 0, output
    first = json.loads((tmp_path / "reports/martin" / RUN_ID / "prerequisites.json").read_text())
    assert sum(first["counts"].values()) == len(RESULTS)  # the first report is kept
    (second,) = (tmp_path / "reports/martin").glob(f"{RUN_ID}-*/prerequisites.json")
    document = json.loads(second.read_text())
    assert document["run_id"] == second.parent.name
    assert document["counts"]["PASS"] == 1
    assert sum(document["counts"].values()) == 1


def test_two_concurrent_runs_in_the_same_second_lose_no_report(tmp_path):
    """Two ansible-playbook processes write with the same run id at the same moment."""
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts"),
        "ANSIBLE_NOCOLOR": "1",
    }
    _project(tmp_path)
    command = [str(ANSIBLE_PLAYBOOK), "-i", "hosts.yml", "site.yml"]
    runs = [
        subprocess.Popen(
            command, cwd=tmp_path, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    folders = sorted((tmp_path / "reports" / "martin").iterdir())
    assert len(folders) == 2
    assert folders[0].name == RUN_ID
    for folder in folders:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o750
        assert len(list(folder.glob("prerequisites.*"))) == 4
    for path in (tmp_path / "reports", tmp_path / "reports" / "martin"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o750


def test_check_mode_writes_nothing(tmp_path):
    _project(tmp_path)
    code, output = _run(tmp_path, "--check")
    assert code == 0, output
    assert not (tmp_path / "reports").exists()
    assert "would go to" in output
    # Nothing was written, so the recap says so.
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0\b", output), output


@pytest.mark.parametrize(
    ("results", "extra", "message"),
    [
        pytest.param(
            [{**RESULTS[1], "status": "OK"}],
            [],
            "results[0] (host srv-lin01).status is 'OK', expected one of PASS",
            id="bad-status",
        ),
        pytest.param(
            RESULTS,
            ["-e", '{"formats": ["pdf"]}'],
            "formats pdf unknown: choose among json, html, md, junit",
            id="bad-format",
        ),
    ],
)
def test_bad_input_fails_with_a_clear_message(tmp_path, results, extra, message):
    _project(tmp_path, results=results)
    code, output = _run(tmp_path, *extra)
    assert code != 0
    assert message in output
    assert "Traceback" not in output
    assert not (tmp_path / "reports").exists()


def test_unwritable_destination_is_a_clear_error(tmp_path):
    _project(tmp_path)
    (tmp_path / "reports").write_text("a file where the folder should be")
    code, output = _run(tmp_path)
    assert code != 0
    assert "cannot write the report under" in output
    assert "preventcare_reports_root" in output
    assert "Traceback" not in output
