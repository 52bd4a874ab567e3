"""The set-up day refuses a wrong contract before it touches any server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from ansible_cli import ROOT, run_playbook

CONTRACT = Path("group_vars") / "all" / "preventcare.yml"


def _inventory(tmp_path: Path, edit) -> Path:
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "example", inv)
    document = yaml.safe_load((inv / CONTRACT).read_text("utf-8"))
    edit(document["preventcare"])
    (inv / CONTRACT).write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    return inv


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda c: c["thresholds"].update({"MON-SYS-05": {"value": 120}}),
            "preventcare.thresholds.MON-SYS-05.value: 120 % is outside 0-100",
            marks=pytest.mark.req("MON-SYS-05"),
            id="override-120-percent",
        ),
        pytest.param(
            lambda c: c["thresholds"].update({"MON-SYS-01": {"duration": "twenty minutes"}}),
            "preventcare.thresholds.MON-SYS-01.duration: 'twenty minutes' is not a Prometheus",
            marks=pytest.mark.req("MON-SYS-01"),
            id="duration-in-words",
        ),
        pytest.param(
            lambda c: c["backup"][1].update({"retention_days": 0}),
            "preventcare.backup[1].retention_days: 0 is below the minimum 1",
            marks=pytest.mark.req("SET-03"),
            id="retention-0",
        ),
        pytest.param(
            lambda c: c["backup"][1].update({"schedule": "tous les soirs"}),
            "preventcare.backup[1].schedule: 'tous les soirs' is not a time of day",
            marks=pytest.mark.req("MON-BK-01"),
            id="schedule-not-a-time",
        ),
        pytest.param(
            lambda c: c["artifacts"]["trend_micro_agent"].pop("checksum"),
            "preventcare.artifacts.trend_micro_agent.checksum: missing required key 'checksum'",
            marks=pytest.mark.req("SET-06"),
            id="artifact-without-checksum",
        ),
        pytest.param(
            lambda c: c.pop("smtp_relay"),
            "preventcare.smtp_relay: missing required key 'smtp_relay'",
            marks=pytest.mark.req("ALR-01"),
            id="relay-missing",
        ),
        pytest.param(
            lambda c: c.update(
                waivers=[{"requirement": "PRE-02", "author": "Julien Roche", "date": "2026-12-01"}]
            ),
            "preventcare.waivers[0].reason: missing required key 'reason'",
            marks=pytest.mark.req("PRE-04"),
            id="waiver-without-reason",
        ),
        pytest.param(
            lambda c: c["client"].update(users=60),
            "preventcare.client.setup_duration_days: SET-05: from 50 users (60 here)",
            marks=pytest.mark.req("SET-05"),
            id="60-users-no-duration",
        ),
    ],
)
def test_site_day_stops_on_a_bad_contract_before_any_host(tmp_path, edit, expected):
    code, output = run_playbook(_inventory(tmp_path, edit), "playbooks/site_day.yml", tmp_path)
    assert code != 0
    assert expected in output
    # The example's servers do not exist: reaching any of them would show as UNREACHABLE.
    assert "UNREACHABLE" not in output
    assert "PLAY [Record each Linux server" not in output
    assert "PLAY [Gather the prerequisite evidence" not in output
    assert "Traceback" not in output
