"""The Windows agent's preflight refuses, on the controller, an artifact that cannot work.

The role's preflight runs here for real (ansible-playbook, the role's own tasks) with a
host that says it is Windows: its assertions need no Windows host. Nothing is installed.
"""

from __future__ import annotations

import json

import pytest
from ansible_cli import ROOT, run_playbook

GOOD = {
    "url": "https://deploy.martin.example/windows_exporter-0.31.3-amd64.msi",
    "version": "0.31.3",
    "checksum": "5f1c6c3a0b8e9d7f4a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f",
    "product_id": "{1B0E5F6A-3C2D-4E8F-9A7B-6C5D4E3F2A1B}",
}


def _play(tmp_path, exporter):
    play = [
        {
            "name": "Preflight of the Windows agent",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {
                "ansible_os_family": "Windows",
                "preventcare_contract": {"monitor_host": "localhost"},
                "monitor_agent_windows_exporter": exporter,
                "monitor_agent_windows_allowed_sources": ["10.10.2.5"],
            },
            "tasks": [
                {
                    "name": "Run the role's preflight",
                    "ansible.builtin.include_role": {
                        "name": str(ROOT / "roles" / "monitor_agent"),
                        "tasks_from": "preflight.yml",
                    },
                }
            ],
        }
    ]
    path = tmp_path / "play.yml"
    path.write_text(json.dumps(play), encoding="utf-8")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {}}}}), encoding="utf-8")
    return run_playbook(inventory, path, tmp_path)


@pytest.mark.req("SET-01")
def test_a_real_artifact_passes(tmp_path):
    code, output = _play(tmp_path, GOOD)
    assert code == 0, output


@pytest.mark.req("SET-01")
@pytest.mark.parametrize(
    ("change", "words"),
    [
        pytest.param(
            {"checksum": "0" * 64, "product_id": "{00000000-0000-0000-0000-000000000000}"},
            "placeholders",
            id="example-placeholders",
        ),
        pytest.param(
            {"product_id": "{00000000-0000-0000-0000-000000000000}"},
            "placeholders",
            id="zero-product-id",
        ),
        pytest.param({"version": "0.30.5"}, "0.30.6 or later", id="too-old"),
        pytest.param({"url": "file:///C:/deploy/x.msi"}, "exactly one source", id="file-url"),
        pytest.param({"controller_file": "files/x.msi"}, "exactly one source", id="two-sources"),
    ],
)
def test_an_unusable_artifact_is_refused_before_the_server(tmp_path, change, words):
    code, output = _play(tmp_path, {**GOOD, **change})
    assert code != 0
    assert words in " ".join(output.split())
    assert "Traceback" not in output


@pytest.mark.req("SET-01")
def test_a_controller_file_must_exist_on_the_controller(tmp_path):
    exporter = {k: v for k, v in GOOD.items() if k != "url"}
    code, output = _play(tmp_path, {**exporter, "controller_file": str(tmp_path / "none.msi")})
    assert code != 0
    assert "which is not a file" in " ".join(output.split())
    (tmp_path / "real.msi").write_bytes(b"MSI")
    code, output = _play(tmp_path, {**exporter, "controller_file": str(tmp_path / "real.msi")})
    assert code == 0, output
