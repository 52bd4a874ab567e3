"""A bad contract stops a real playbook before any host is contacted (issue 11, DESIGN).

The inventory's hosts point at an address nobody answers (TEST-NET-1) over SSH and WinRM: a
play that reached them would print ESTABLISH lines at -vvv and count them in the recap.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example"
PLAYBOOK = ROOT / "playbooks" / "prerequisites.yml"
NOBODY = "192.0.2.1"


def _inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "inv"
    shutil.copytree(EXAMPLE, inventory)
    hosts = inventory / "hosts.yml"
    hosts.write_text(re.sub(r"ansible_host: [0-9.]+", f"ansible_host: {NOBODY}", hosts.read_text()))
    return inventory


def _run(tmp_path: Path, inventory: Path, *extra: str, playbook=PLAYBOOK) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
        ANSIBLE_CACHE_PLUGIN_CONNECTION=str(tmp_path / "facts"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_TIMEOUT="3",
    )
    binary = Path(sys.executable).parent / "ansible-playbook"
    command = [str(binary if binary.exists() else shutil.which("ansible-playbook"))]
    result = subprocess.run(
        [*command, "-vvv", "-i", str(inventory), str(playbook), *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def _assert_no_host_touched(output: str):
    assert "ESTABLISH" not in output
    assert NOBODY not in output.rsplit("PLAY RECAP", maxsplit=1)[-1]
    for host in ("srv-ad01", "srv-app01", "srv-lin01", "mon01"):
        assert not re.search(rf"^{host}\s+:", output, re.MULTILINE), host
    assert "Traceback" not in output


def _edit(path: Path, *pairs):
    text = path.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)


@pytest.mark.req("PRE-02")
@pytest.mark.req("SET-05")
@pytest.mark.req("SEC-01")
def test_every_class_of_bad_contract_stops_the_playbook_before_any_host(tmp_path):
    inventory = _inventory(tmp_path)
    contract = inventory / "group_vars" / "all" / "preventcare.yml"
    _edit(
        contract,
        ("users: 18", "users: 60"),
        ("timezone: Europe/Paris", "timezone: CET"),
        ("public_ip: 80.10.20.30", "public_ip: 100.64.1.1"),
        ("email: paul.girard@martin.example", "email: claire.martin@martin.example"),
        ("subnets: [10.10.2.0/24]", "subnets: [10.10.0.0/16]"),
        ('password: "{{ vault_preventcare_smtp_password }}"', "password: Canary-Cl3ar-1"),
        ("sender: preventcare@martin.example", 'sender: "preventcare@martin.example\\n"'),
    )
    _edit(
        inventory / "hosts.yml",
        (
            "preventcare_site: villeurbanne\n          preventcare_roles: [accounting]",
            "preventcare_site: paris\n          preventcare_roles: [accounting]",
        ),
        (
            "    monitor:\n      hosts:\n        mon01:",
            "    monitor:\n      hosts:\n        mon01:\n        srv-lin01:\n"
            "          ansible_host: 192.0.2.2",
        ),
        (
            'ansible_password: "{{ vault_preventcare_winrm_password | default(omit) }}"',
            "ansible_password: Canary-Cl3ar-2",
        ),
    )
    code, output = _run(tmp_path, inventory)
    assert code == 2, output
    _assert_no_host_touched(output)
    for expected in (
        "preventcare.client.setup_duration_days: SET-05: from 50 users",
        "preventcare.timezone: 'CET' is a legacy alias",
        "preventcare.public_ip: '100.64.1.1' is not a public address (cgnat range)",
        "preventcare.contacts[1].email: the same e-mail address as contacts[0]",
        "preventcare.sites[1].subnets[0]: 10.10.0.0/16 overlaps 10.10.1.0/24",
        "preventcare.smtp_relay.auth.password: a secret written in clear text",
        "preventcare.smtp_relay.sender: contains a newline at the end",
        "inventory host 'srv-lin01': preventcare_site: 'paris' is not a site of the contract",
        "inventory host 'srv-lin01': defined more than once with different addresses",
        "hosts.yml: windows.vars: ansible_password: a connection password",
    ):
        assert expected in output
    assert "has 10 problems" in output
    assert "Canary-Cl3ar" not in output


def test_a_contract_of_comments_only_stops_the_playbook(tmp_path):
    inventory = _inventory(tmp_path)
    (inventory / "group_vars" / "all" / "preventcare.yml").write_text("---\n# preventcare:\n")
    code, output = _run(tmp_path, inventory)
    assert code != 0
    _assert_no_host_touched(output)
    assert "contract OK" not in output
    assert "the file is empty (it holds no variables, only comments or blank lines)" in output


@pytest.mark.req("SEC-01")
def test_a_vault_file_without_a_vault_password_is_named(tmp_path):
    inventory = _inventory(tmp_path)
    vault = inventory / "group_vars" / "all" / "vault.yml"
    password = tmp_path / "vault-pass"
    password.write_text("pcs-test-vault-password\n")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-vault"),
            "encrypt",
            str(vault),
            "--vault-password-file",
            str(password),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
    )
    code, output = _run(tmp_path, inventory)
    assert code != 0
    _assert_no_host_touched(output)
    assert f"{vault}: this file is encrypted with ansible-vault and no vault password" in output
    assert "--ask-vault-pass / --vault-id" in output
    # With the password the same inventory passes the contract.
    code, output = _run(
        tmp_path,
        inventory,
        "--vault-password-file",
        str(password),
        playbook=ROOT / "playbooks" / "validate_contract.yml",
    )
    assert code == 0, output
    assert "contract OK: Boulangeries Martin SARL (4 hosts)" in output
