"""The contract check through its entry points: the CLI and the action in a real playbook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "bin" / "preventcare-contract"
FIXTURES = ROOT / "tests" / "fixtures" / "contracts"
EXAMPLE = ROOT / "inventories" / "example"
SECRET = "Tr3s-S3cret-Password"


def _cli(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CLI), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


# ------------------------------------------------------------------ the CLI


@pytest.mark.parametrize(
    ("inventory", "expected"),
    [
        ("example", "contract OK: Boulangeries Martin SARL (4 hosts)"),
        ("demo", "contract OK: Démo PreventCare (1 host)"),
    ],
)
def test_cli_accepts_the_shipped_contracts(inventory, expected):
    result = _cli(ROOT / "inventories" / inventory)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_cli_reports_malformed_yaml_without_traceback(tmp_path):
    inventory = tmp_path / "inv"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "group_vars" / "all" / "preventcare.yml").write_text(
        "---\npreventcare:\n  client: [unclosed\n  sites: []\n"
    )
    result = _cli(inventory)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "malformed YAML" in output
    assert "line 4, column" in output
    assert "Traceback" not in output


def test_cli_lists_every_problem_and_checks_inventory_hosts(tmp_path):
    inventory = tmp_path / "inv"
    shutil.copytree(EXAMPLE, inventory)
    contract = inventory / "group_vars" / "all" / "preventcare.yml"
    contract.write_text(
        contract.read_text().replace("monitor_host: mon01", "monitor_host: mon02")
        + "  smtp_rellay: {}\n"
    )
    result = _cli(contract)
    assert result.returncode == 1
    assert "preventcare.monitor_host: 'mon02' is not a host of the inventory" in result.stderr
    assert "did you mean 'smtp_relay'?" in result.stderr
    assert "has 2 problems" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_usage_errors_exit_2(tmp_path):
    assert _cli().returncode == 2
    missing = _cli(tmp_path / "nowhere")
    assert missing.returncode == 2
    assert "no such file or folder" in missing.stderr
    empty_dir = _cli(tmp_path)
    assert empty_dir.returncode == 1
    assert "cannot read the file: No such file or directory" in empty_dir.stderr


# ------------------------------------------------------------------ through ansible-playbook


def _ansible_playbook(tmp_path: Path, inventory: Path, playbook: str):
    (tmp_path / "play.yml").write_text(textwrap.dedent(playbook))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    # The project's configuration, as a user runs it; temporary files and facts here.
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_LOCAL_TEMP"] = str(tmp_path / "ansible-tmp")
    env["ANSIBLE_CACHE_PLUGIN_CONNECTION"] = str(tmp_path / "facts")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
    binary = Path(sys.executable).parent / "ansible-playbook"
    command = [str(binary if binary.exists() else shutil.which("ansible-playbook"))]
    return subprocess.run(
        [*command, "-v", "-i", str(inventory), str(tmp_path / "play.yml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


PLAYBOOK = """\
    ---
    - name: Check the contract
      hosts: all
      gather_facts: false
      tasks:
        - name: Validate the client contract
          preventcare_validate_contract:
          run_once: true
    """


def test_action_plugin_accepts_the_example_contract(tmp_path):
    inventory = tmp_path / "inv"
    shutil.copytree(EXAMPLE, inventory)
    result = _ansible_playbook(tmp_path, inventory, PLAYBOOK)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "contract OK: Boulangeries Martin SARL (4 hosts)" in output
    assert '"password": "********"' in output
    assert '"validate_certs": true' in output
    assert "example-not-a-secret" not in output


def test_action_plugin_fails_with_every_problem_and_no_traceback(tmp_path):
    inventory = tmp_path / "inv"
    shutil.copytree(EXAMPLE, inventory)
    group_all = inventory / "group_vars" / "all"
    vault = (group_all / "vault.yml").read_text()
    (group_all / "vault.yml").write_text(
        vault.replace("vault_preventcare_smtp_password: example-not-a-secret",
                      f"vault_preventcare_smtp_password: {SECRET}")
    )  # fmt: skip
    contract = group_all / "preventcare.yml"
    text = contract.read_text()
    for old, new in [
        ("port: 587", 'port: "25x"'),
        ("security_box: basic", "security_box: premium"),
        ("monitor_host: mon01", "monitor_host: mon09"),
        ("value: 97", "value: 120"),
    ]:
        text = text.replace(old, new)
    contract.write_text(text + "  survelliance_mailbox: x@y.example\n")
    playbook = """\
        ---
        - name: Check the contract
          hosts: all
          gather_facts: false
          tasks:
            - name: Validate the client contract
              preventcare_validate_contract:
              run_once: true
              ignore_errors: true
            - name: Validate a contract whose password comes from an absent vault
              preventcare_validate_contract:
                contract: "{{ preventcare }}"
              vars:
                vault_preventcare_smtp_password: "{{ vault_not_loaded }}"
              run_once: true
        """
    result = _ansible_playbook(tmp_path, inventory, playbook)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert SECRET not in output
    assert "has 6 problems" in output
    for line in [
        "preventcare.smtp_relay.port: expected integer, got string '25x'",
        "preventcare.services: PRE-09: the security box is 'premium'",
        "preventcare.services: PRE-09: 'security_basic' does not match the 'premium' security box",
        "preventcare.monitor_host: 'mon09' is not a host of the inventory",
        "preventcare.thresholds.MON-SYS-05.value: 120 % is outside 0-100",
        "preventcare.survelliance_mailbox: unknown key 'survelliance_mailbox'",
        "preventcare.smtp_relay.auth.password: refers to an undefined variable "
        "('vault_not_loaded' is undefined) — give the vault password: "
        "--ask-vault-pass / --vault-id",
    ]:
        assert line in output


def test_action_plugin_names_the_file_when_the_contract_is_missing(tmp_path):
    inventory = tmp_path / "inv"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text("---\nall:\n  hosts:\n    h1:\n")
    result = _ansible_playbook(tmp_path, inventory, PLAYBOOK)
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "the variable 'preventcare' is not defined" in output
    assert f"Define it in {inventory}/group_vars/all/preventcare.yml" in output
    assert "Traceback" not in output
