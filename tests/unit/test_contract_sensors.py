"""The contract's backup strategy, artifact sources and antivirus keys (SET-03, SET-06, MON-AV-01).

Every bad value is a contract error with its path and a hint, found before any host is touched.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.preventcare_contract import parse_schedule, validate_contract
from ansible.module_utils.preventcare_contract_file import inventory_hosts, load_contract_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example"
HOSTS = inventory_hosts(yaml.safe_load((EXAMPLE / "hosts.yml").read_text()))


def _example() -> dict:
    data, problems = load_contract_file(EXAMPLE / "group_vars" / "all" / "preventcare.yml")
    assert problems == []
    return copy.deepcopy(data)


def _problems(data) -> list[str]:
    return [str(p) for p in validate_contract(data, HOSTS)]


def _linux_job(data) -> dict:
    return next(job for job in data["backup"] if job["software"] == "cpio_tar")


def test_the_example_contract_is_valid_with_its_backup_artifacts_and_antivirus():
    assert _problems(_example()) == []


@pytest.mark.req("SET-03")
def test_a_retention_of_zero_is_a_contract_error():
    data = _example()
    _linux_job(data)["retention_days"] = 0
    assert _problems(data) == [
        "preventcare.backup[1].retention_days: 0 is below the minimum 1 — use a value of at least 1"
    ]


@pytest.mark.req("SET-03")
@pytest.mark.req("MON-BK-01")
@pytest.mark.parametrize(
    "schedule",
    ["tonight", "daily 25:00", "23h00", "every day at 23:00", "mon,mon 22:00", "lun 22:00"],
)
def test_a_schedule_that_is_not_a_time_is_a_contract_error(schedule):
    data = _example()
    _linux_job(data)["schedule"] = schedule
    problems = _problems(data)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"preventcare.backup[1].schedule: {schedule!r} is not a time of day"
    )
    assert "'mon,wed,fri 22:30'" in problems[0]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("23:00", (None, "23:00")),
        ("daily 7:05", (None, "07:05")),
        ("Mon,Wed,Fri 22:30", (["mon", "wed", "fri"], "22:30")),
        ("daily", None),
        (None, None),
    ],
)
def test_parse_schedule(text, parsed):
    assert parse_schedule(text) == parsed


@pytest.mark.req("SET-06")
def test_an_artifact_without_checksum_is_a_contract_error():
    data = _example()
    del data["artifacts"]["trend_micro_agent"]["checksum"]
    assert _problems(data) == [
        "preventcare.artifacts.trend_micro_agent.checksum: missing required key 'checksum': "
        "SHA-256 of the installer, 64 hex digits — add it; "
        "inventories/example/group_vars/all/preventcare.yml shows an example"
    ]


@pytest.mark.req("SET-06")
def test_an_artifact_with_a_short_checksum_or_an_unknown_name_is_refused():
    data = _example()
    data["artifacts"]["trend_micro_agent"]["checksum"] = "abc"
    data["artifacts"]["hp_event_notifier"] = dict(data["artifacts"]["trend_micro_agent"])
    problems = _problems(data)
    assert any(
        p.startswith("preventcare.artifacts.trend_micro_agent.checksum: 'abc' has the wrong form")
        for p in problems
    )
    assert any(
        p.startswith("preventcare.artifacts.hp_event_notifier: unknown key") for p in problems
    )


@pytest.mark.req("SET-03")
def test_a_linux_destination_must_be_a_path_and_a_wsb_target_a_drive_or_share():
    data = _example()
    _linux_job(data)["where"] = "USB disk"
    data["backup"][0]["where"] = "NAS Synology"
    problems = _problems(data)
    assert problems == [
        "preventcare.backup[0].where: 'NAS Synology' is not a Windows Server Backup target — "
        "give a drive letter (E:) or a UNC share (\\\\nas\\backup$\\srv01)",
        "preventcare.backup[1].where: 'USB disk' is not an absolute path on the Linux server — "
        "give the mount point of the backup disk or share (/mnt/backup) or the tape device "
        "(/dev/nst0); describe the medium in a YAML comment",
    ]


@pytest.mark.req("SET-03")
def test_two_jobs_of_one_server_need_their_own_names():
    data = _example()
    data["backup"].append(dict(_linux_job(data)))
    assert _problems(data) == [
        "preventcare.backup[2].name: srv-lin01 already has a backup job named 'daily' "
        "(backup[1]) — give each job of a server its own name: it labels its metrics and alerts"
    ]


def test_archiver_only_applies_to_the_linux_manager_and_arcserve_needs_its_installer():
    data = _example()
    data["backup"][0]["archiver"] = "tar"
    data["backup"][0]["software"] = "arcserve"
    problems = _problems(data)
    assert any(
        p.startswith("preventcare.backup[0].archiver: archiver applies to the Linux")
        for p in problems
    )
    assert any("arcserve needs the Arcserve agent installer" in p for p in problems)


@pytest.mark.req("MON-AV-01")
def test_the_protection_suite_needs_its_installer_and_a_bought_antivirus_is_watched():
    data = _example()
    del data["artifacts"]["trend_micro_agent"]
    assert _problems(data) == [
        "preventcare.antivirus.product: trend_micro needs the agent installer in the contract's "
        "artifacts — add artifacts.trend_micro_agent: {url, version, checksum, product_id}"
    ]
    data = _example()
    data["antivirus"]["product"] = "none"
    assert _problems(data)[0].startswith(
        "preventcare.antivirus.product: the antivirus was bought from the provider"
    )


@pytest.mark.req("MON-AV-01")
def test_the_antivirus_console_is_host_and_port():
    data = _example()
    data["antivirus"]["console"] = "https://wfrm-emea.trendmicro.com"
    assert _problems(data)[0].startswith("preventcare.antivirus.console: ")
