"""The technical document's writer through ansible-playbook, for a Windows and Linux client.

No Windows host runs here: the Windows servers' facts are the fixtures of
tests/fixtures/windows/technical/ (built from the documented formats), handed to the action as
the registered win_powershell results would be; the Linux one is what
library/preventcare_dossier_facts.py returns on this machine, run for real. The writer's
outputs are real: WeasyPrint's PDF, Graphviz's SVG, the iCalendar file.
"""

from __future__ import annotations

import json
import subprocess

import icalendar
import pytest
import yaml
from ansible_cli import ROOT, run
from ansible_cli import run_module as run_ad_hoc
from browser import look

FIXTURES = ROOT / "tests" / "fixtures" / "windows" / "technical"
RUN_ID = "20261201T100000Z"
PLAYBOOK = """\
---
- name: Write the technical document as playbooks/site_day.yml does
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Validate the contract
      preventcare_validate_contract:
      register: validation

    - name: Write it
      preventcare_write_technical:
        hosts: "{{ technical_hosts }}"
        contract: "{{ validation.contract }}"
        run_id: "{{ run_id | default('@RUN_ID@') }}"
        dest: "{{ reports_root }}"
        today: "2026-12-01"
        prerequisites:
          report: null
          blocking:
            - {host: contract, requirement: PRE-02, check: public_ip, status: FAIL, title: x}
      register: written

    - name: Show it
      ansible.builtin.debug:
        var: written
""".replace("@RUN_ID@", RUN_ID)


def _project(tmp_path, language="en", users=18):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    source = ROOT / "inventories" / "example"
    contract = yaml.safe_load((source / "group_vars/all/preventcare.yml").read_text("utf-8"))
    contract["preventcare"]["language"] = language
    contract["preventcare"]["client"]["users"] = users
    contract["preventcare"]["client"]["contract_start"] = "2026-11-02"
    contract["preventcare"]["waivers"] = [
        {
            "requirement": "PRE-02",
            "check": "public_ip",
            "reason": "Fixed IP ordered, delivery on 2026-12-15",
            "author": "Julien Roche",
            "date": "2026-12-01",
        }
    ]
    (inventory / "group_vars/all/preventcare.yml").write_text(
        yaml.safe_dump(contract, allow_unicode=True), "utf-8"
    )
    (inventory / "group_vars/all/vault.yml").write_text(
        (source / "group_vars/all/vault.yml").read_text("utf-8"), "utf-8"
    )
    (inventory / "hosts.yml").write_text((source / "hosts.yml").read_text("utf-8"), "utf-8")
    code, facts, output = run_ad_hoc(
        "preventcare_dossier_facts", {"textfile_dir": str(tmp_path / "textfiles")}, tmp_path
    )
    assert code == 0, output
    hosts = [
        {
            "host": "srv-ad01",
            "platform": "windows",
            "site": "lyon",
            "roles": ["domain_controller", "file_server"],
            "gathered": json.loads((FIXTURES / "dc_en.json").read_text("utf-8")),
        },
        {
            "host": "srv-app01",
            "platform": "windows",
            "site": "lyon",
            "roles": ["database"],
            "gathered": json.loads((FIXTURES / "member_fr.json").read_text("utf-8")),
        },
        {
            "host": "srv-lin01",
            "platform": "linux",
            "site": "villeurbanne",
            "roles": ["accounting"],
            "gathered": facts,
        },
        {
            "host": "mon01",
            "platform": "linux",
            "site": "villeurbanne",
            "roles": ["monitor"],
            "gathered": {"unreachable": True, "msg": "ssh: connect to host 10.10.2.5: timed out"},
        },
    ]
    extra = {"technical_hosts": hosts, "reports_root": str(tmp_path / "reports")}
    (tmp_path / "extra.json").write_text(json.dumps(extra), "utf-8")
    (tmp_path / "site.yml").write_text(PLAYBOOK, "utf-8")
    return inventory


def _write(tmp_path, *extra, language="en", users=18):
    inventory = _project(tmp_path, language, users)
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts"),
    }
    code, _, output = run(
        "ansible-playbook",
        "-i",
        str(inventory),
        "site.yml",
        "-e",
        "@extra.json",
        *extra,
        cwd=tmp_path,
        env=env,
    )
    return code, output, tmp_path / "reports" / "martin" / RUN_ID


@pytest.mark.req("SET-04")
@pytest.mark.req("VIS-01")
def test_the_writer_gives_every_file_with_the_windows_servers_shaped_facts(tmp_path):
    code, output, folder = _write(tmp_path)
    assert code == 0, output
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "network.svg",
        "technical.html",
        "technical.json",
        "technical.md",
        "technical.pdf",
        "visit-plan.ics",
    ]
    document = json.loads((folder / "technical.json").read_text("utf-8"))
    servers = {s["host"]: s for s in document["servers"]}
    assert servers["srv-ad01"]["domain_role"] == "primary_domain_controller"
    assert servers["srv-app01"]["kind"] == "virtual"
    assert servers["mon01"]["errors"] == ["ssh: connect to host 10.10.2.5: timed out"]
    assert document["dossier"]["hosts"]["srv-ad01"]["shares"] == [
        "smb:Commun",
        "smb:Compta",
        "smb:NETLOGON",
        "smb:SYSVOL",
    ]
    # 3 servers (the monitor host alone is not one): 2 days, 4 visits
    assert document["sizing"]["days"] == 2 and document["sizing"]["servers"] == 3
    events = list(
        icalendar.Calendar.from_ical((folder / "visit-plan.ics").read_text()).walk("VEVENT")
    )
    assert len(events) == 4
    assert document["homologation"]["waived"][0]["waiver"]["author"] == "Julien Roche"
    text = subprocess.run(
        ["pdftotext", str(folder / "technical.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("Boulangeries Martin SARL", "srv-ad01", "srv-app01", "srv-lin01", "mon01"):
        assert name in text
    assert "Technical document" in text
    # the vault's SMTP password is nowhere (SEC-01)
    secret = (ROOT / "inventories/example/group_vars/all/vault.yml").read_text().split(": ")[-1]
    for path in folder.iterdir():
        if path.suffix != ".pdf":
            assert secret.strip() not in path.read_text("utf-8")


@pytest.mark.req("SET-04")
def test_the_french_document_reads_right_in_a_browser(tmp_path):
    code, output, folder = _write(tmp_path, language="fr")
    assert code == 0, output
    page = look(folder / "technical.html", tmp_path / "technical.png")
    for text in ("Document technique", "2. Serveurs", "Schéma du réseau", "Sauvegardes SQL"):
        assert text in page.text
    assert "primary_domain_controller" in page.text
    assert "Fixed IP ordered" in page.text


def test_check_mode_writes_nothing_and_says_where_it_would_go(tmp_path):
    code, output, folder = _write(tmp_path, "--check")
    assert code == 0, output
    assert not folder.exists()
    assert "would go to" in output


def test_a_later_identical_document_is_no_change_and_a_different_one_is(tmp_path):
    code, output, _ = _write(tmp_path)
    assert code == 0 and "changed=1" in output, output
    code, output, _ = _write(tmp_path, "-e", "run_id=20261201T110000Z")
    assert code == 0 and "changed=0" in output, output
    # the client's users change: the document says something else, so it is a change
    code, output, _ = _write(tmp_path, "-e", "run_id=20261201T120000Z", users=25)
    assert code == 0 and "changed=1" in output, output
