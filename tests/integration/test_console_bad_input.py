"""playbooks/console.yml refuses a wrong provider inventory before it touches the console."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from ansible_cli import ROOT, run_playbook

PROVIDER = Path("group_vars") / "all" / "provider.yml"


def _inventory(tmp_path: Path, edit) -> Path:
    """A copy of inventories/provider beside a copy of the example client, edited."""
    shutil.copytree(ROOT / "inventories" / "example", tmp_path / "example")
    inv = tmp_path / "provider"
    shutil.copytree(ROOT / "inventories" / "provider", inv)
    document = yaml.safe_load((inv / PROVIDER).read_text("utf-8"))
    edit(document["preventcare_provider"])
    (inv / PROVIDER).write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    return inv


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda p: p["clients"].append({"inventory": "../durand"}),
            "preventcare_provider.clients[1].inventory: the client inventory '../durand' "
            "does not exist",
            marks=pytest.mark.req("ALR-01"),
            id="missing-client-inventory",
        ),
        pytest.param(
            lambda p: p["teams"]["level1"].pop("email"),
            "preventcare_provider.teams.level1.email: missing required key 'email'",
            marks=pytest.mark.req("ALR-02"),
            id="team-without-email",
        ),
        pytest.param(
            lambda p: p["heartbeat"].update({"grace": "dix minutes"}),
            "preventcare_provider.heartbeat.grace: 'dix minutes' is not a duration",
            marks=pytest.mark.req("MON-TEL-01"),
            id="grace-not-a-duration",
        ),
    ],
)
def test_console_stops_on_a_bad_provider_inventory_before_any_host(tmp_path, edit, expected):
    code, output = run_playbook(_inventory(tmp_path, edit), "playbooks/console.yml", tmp_path)
    assert code != 0
    assert expected in output
    assert "Fix every line above: nothing was changed on the console." in output
    # The console host (192.0.2.20, TEST-NET) does not exist: reaching it would be UNREACHABLE.
    assert "UNREACHABLE" not in output
    assert "PLAY [Install and configure the surveillance console]" not in output
