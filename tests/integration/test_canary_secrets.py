"""SEC-01 / SEC-02: canary values in every secret and contact field never come out.

validate_contract.yml and prerequisites.yml run at -vvv with ANSIBLE_LOG_PATH set against a
real systemd container (podman connection) and a Windows host that cannot be reached; the
SMTP relay is a real aiosmtpd with STARTTLS and AUTH, so the password really travels. Then
stdout, the log, the reports, the fact cache and every file of the container are searched
for each canary, in plain text and in base64.
"""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_cli import run
from podman_lab import podman
from smtp_servers import make_tls_material, start_smtp_server

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/preventcare-debian12:test"
HOST = "pcs-canary-srv"

SECRETS = {
    "vault_preventcare_smtp_password": "CanarySmtpPw-7f3a9c",
    "vault_preventcare_winrm_password": "CanaryWinrmPw-2b8e41",
    "vault_preventcare_remote_write_password": "CanaryRemoteWritePw-5d0c77",
    "vault_preventcare_exporter_password": "CanaryExporterPw-91aa3e",
    "vault_preventcare_web_password": "CanaryWebPw-c4d2f0",
}
CONTACTS = [
    {"name": "Canaryname Alphonse", "email": "canary.alphonse@canary-client.example",
     "phone": "+33 9 71 23 45 67", "side": "client", "role": "Gérante"},
    {"name": "Canaryname Bertille", "email": "canary.bertille@canary-provider.example",
     "phone": "+33 9 72 34 56 78", "side": "provider", "role": "Ingénieur"},
]  # fmt: skip
DECLARED_BY = "Canaryname Clotaire"


def _canaries() -> list[str]:
    plain = [*SECRETS.values(), DECLARED_BY]
    for contact in CONTACTS:
        plain += [contact["name"], contact["email"], contact["phone"]]
    return plain


def _forms(values) -> list[str]:
    """Each canary and its base64 form (as a transcript or a config file would carry it)."""
    forms = []
    for value in values:
        forms += [value, base64.b64encode(value.encode()).decode()]
    return forms


@pytest.fixture
def canary_host():
    name = f"pcs-canary-{os.getpid()}"
    podman("rm", "-f", "-t", "0", name, check=False)
    # Host network: the container reaches the aiosmtpd relay on the controller's loopback.
    podman(
        "run", "-d", "--name", name, "--systemd=always", "--network", "host", IMAGE, "/sbin/init"
    )
    try:
        yield name
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)


def _inventory(tmp_path: Path, container: str, relay, ca_path: Path) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "example", inventory)
    hosts = {
        "all": {
            "children": {
                "windows": {
                    "hosts": {
                        # Port 9 on loopback: the WinRM connection is refused at once.
                        "srv-win-down": {"ansible_host": "127.0.0.1", "preventcare_site": "lyon"}
                    },
                    "vars": {
                        "ansible_connection": "winrm",
                        "ansible_port": 9,
                        "ansible_winrm_transport": "ntlm",
                        "ansible_user": "MARTIN\\preventcare",
                        "ansible_password": "{{ vault_preventcare_winrm_password }}",
                    },
                },
                "linux": {
                    "hosts": {
                        HOST: {
                            "ansible_connection": "containers.podman.podman",
                            "ansible_host": container,
                            "ansible_python_interpreter": "/usr/bin/python3",
                            "preventcare_site": "villeurbanne",
                            "preventcare_roles": ["monitor"],
                        }
                    }
                },
            }
        }
    }
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts), "utf-8")
    contract_file = inventory / "group_vars" / "all" / "preventcare.yml"
    document = yaml.safe_load(contract_file.read_text("utf-8"))
    contract = document["preventcare"]
    contract["contacts"] = CONTACTS
    contract["attestations"]["server_room_phone"]["declared_by"] = DECLARED_BY
    contract["monitor_host"] = HOST
    contract["backup"] = []
    contract["smtp_relay"].update(
        host=relay.host, port=relay.port, tls="starttls", ca_path=str(ca_path)
    )
    contract["smtp_relay"]["auth"]["username"] = "preventcare"
    contract["monitoring"]["remote_write"] = [
        {
            "url": "https://metrics.canary.invalid/api/v1/push",
            "basic_auth": {
                "username": "site",
                "password": "{{ vault_preventcare_remote_write_password }}",
            },
        }
    ]
    contract["monitoring"]["exporter_auth"] = {
        "username": "prometheus",
        "password": "{{ vault_preventcare_exporter_password }}",
    }
    contract["monitoring"]["web_auth"] = {
        "username": "preventcare",
        "password": "{{ vault_preventcare_web_password }}",
    }
    contract_file.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    vault = inventory / "group_vars" / "all" / "vault.yml"
    vault.write_text(yaml.safe_dump(SECRETS), "utf-8")
    (tmp_path / "vault-pass").write_text("pcs-canary-vault\n")
    code, _, output = run(
        "ansible-vault", "encrypt", vault, "--vault-password-file", tmp_path / "vault-pass"
    )
    assert code == 0, output
    return inventory


def _files_with(root: Path, forms) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            found += [f"{path}: {form}" for form in forms if form in text]
    return found


@pytest.mark.req("SEC-01")
@pytest.mark.req("SEC-02")
def test_no_canary_in_any_output_at_vvv(tmp_path, canary_host):
    material = make_tls_material(tmp_path / "tls")
    relay = start_smtp_server(
        starttls=material,
        require_starttls=True,
        credentials=("preventcare", SECRETS["vault_preventcare_smtp_password"]),
    )
    try:
        inventory = _inventory(tmp_path, canary_host, relay, material.ca_path)
        (tmp_path / "log").mkdir()
        log = tmp_path / "log" / "ansible.log"
        env = {
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_LOG_PATH": str(log),
            "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        }
        common = ["-vvv", "-i", inventory, "--vault-password-file", tmp_path / "vault-pass"]
        outputs = []
        for playbook in ("validate_contract.yml", "prerequisites.yml"):
            _code, _, output = run(
                "ansible-playbook",
                *common,
                ROOT / "playbooks" / playbook,
                "-e",
                f"preventcare_reports_root={tmp_path / 'reports'}",
                "-e",
                "preventcare_prerequisites_send_test_message=true",
                env=env,
                timeout=400,
            )
            outputs.append(output)
    finally:
        relay.controller.stop()

    # The run really happened: the relay authenticated the server and got its message, the
    # Windows host was tried, and the report was written.
    assert relay.messages, outputs[1]
    assert "srv-win-down" in outputs[1]
    reports = list((tmp_path / "reports").rglob("prerequisites.json"))
    assert len(reports) == 1, outputs[1]
    assert "contract OK" in outputs[0]

    forms = _forms(_canaries())
    named = dict(zip(("validate_contract.yml", "prerequisites.yml"), outputs, strict=True))
    leaks = [
        f"stdout of {name}: {form}" for name, out in named.items() for form in forms if form in out
    ]
    leaks += _files_with(log.parent, forms) if log.exists() else ["no log written"]
    leaks += _files_with(tmp_path / "reports", forms)
    leaks += _files_with(tmp_path / "facts", forms) if (tmp_path / "facts").exists() else []
    on_host = podman(
        "exec", canary_host, "grep", "-rlaF", *[x for f in forms for x in ("-e", f)],
        "/", "--exclude-dir=proc", "--exclude-dir=sys", "--exclude-dir=dev",
        check=False, timeout=300,
    )  # fmt: skip
    assert on_host.returncode in (0, 1), on_host.stderr
    leaks += [f"{canary_host}:{line}" for line in on_host.stdout.split()]
    assert leaks == []
    # The log is the owner's only (Ansible creates it 0644).
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    # The roles, not the people, stand in the report.
    text = reports[0].read_text("utf-8")
    assert "Canaryname" not in text


def test_the_guard_keeps_the_log_file_private(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    log.chmod(0o644)
    code, _, output = run(
        "ansible-playbook",
        "-i",
        ROOT / "inventories" / "demo",
        ROOT / "playbooks" / "validate_contract.yml",
        env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_LOG_PATH": str(log)},
    )
    assert code == 0, output
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert subprocess.run(["test", "-s", str(log)], check=False).returncode == 0
