"""The visit checklist's judgements (VIS-03) on the facts of docs/compliance-facts.md.

Linux facts are shaped as preventcare_evidence returns them; the Windows facts here are the
same shape as preventcare_windows_compliance builds from the script's output (the script's
own fixtures are tested in test_windows_compliance.py).
"""

from __future__ import annotations

import calendar
import copy
import json
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_compliance import HOST_ITEMS, evaluate
from ansible.module_utils.preventcare_dossier import dossier_entry
from ansible.module_utils.preventcare_windows_compliance import compliance_facts

NOW = calendar.timegm((2026, 12, 1, 12, 0, 0))
HOUR = 3600

CONTRACT = {
    "client": {"id": "martin", "name": "Martin", "users": 5},
    "language": "en",
    "monitor_host": "mon01",
    "backup": [{"host": "srv01", "name": "daily", "software": "cpio_tar"}],
    "antivirus": {"linux_tool": "none"},
    "options": {"security_box": "basic"},
}

LINUX_UNITS = [
    "prometheus-node-exporter.service",
    "preventcare-hardware.timer",
    "preventcare-eventlog.timer",
    "preventcare-backup@daily.timer",
    "prometheus.service",
    "prometheus-alertmanager.service",
    "prometheus-blackbox-exporter.service",
    "ssh.service",
    "cron.service",
    "systemd-journald.service",
]


def running():
    return {"present": True, "active": True, "enabled": True}


def linux_facts(**changes):
    facts = {
        "platform": "linux",
        "units": {u: running() for u in LINUX_UNITS},
        "packages": {
            "prometheus-node-exporter": "1.5.0-1+b6",
            "prometheus": "2.42.0+ds-5+b5",
            "prometheus-alertmanager": "0.25.0-2",
        },
        "metrics": [
            {
                "name": "preventcare_backup_last_status",
                "labels": {"backup_job": "daily"},
                "value": 0,
            },
            {
                "name": "preventcare_backup_last_end_timestamp_seconds",
                "labels": {"backup_job": "daily"},
                "value": NOW - 5 * HOUR,
            },
            {
                "name": "preventcare_hardware_collector_last_run_timestamp_seconds",
                "labels": {},
                "value": NOW - 60,
            },
            {
                "name": "preventcare_eventlog_collector_last_run_timestamp_seconds",
                "labels": {},
                "value": NOW - 60,
            },
            {
                "name": "preventcare_hardware_ok",
                "labels": {"component": "psu", "device": "not_applicable"},
                "value": None,
            },
        ],
        "directory": {"role": "standalone", "domain": None, "joined": False, "errors": []},
        "admins": [{"name": "root", "uid0": True, "empty_password": False}],
        "password_policy": {"min_length": 12, "max_age_days": 180},
        "raid": [],
        "bonds": [],
        "ups": {"tool": None, "units": []},
        "boot_time": "2026-11-01T00:00:00Z",
        "uptime_seconds": 30 * 86400,
        "reboots": ["2026-11-01T00:00:00Z"],
        "load": {"load15": 0.4, "cpus": 2},
        "memory": {"total_bytes": 8 << 30, "available_bytes": 4 << 30},
        "filesystems": [{"mount": "/", "size_bytes": 100 << 30, "free_bytes": 50 << 30}],
        "updates": {
            "pending": 0,
            "pending_security": 0,
            "last_install": "2026-11-28T10:00:00Z",
            "reboot_required": False,
        },
        "antivirus": {"product": None, "running": None, "signature_age_days": None},
        "dossier": dossier_entry(addresses=["10.0.0.5"], services=["ssh"], shares=["smb:Data"]),
        "errors": [],
    }
    for key, value in changes.items():
        facts[key] = value
    return facts


def judge(hosts, **kw):
    args = {
        "contract": CONTRACT,
        "site": {"available": True, "episodes": [], "heartbeat": {"ok": True}},
        "period_from": "2026-06-01T00:00:00Z",
        "monitor_host": "mon01",
        "now": NOW,
    }
    args.update(kw)
    return evaluate(hosts, **args)


def item(results, host, check):
    found = [r for r in results if r["host"] == host and r["check"] == check]
    assert len(found) == 1, f"{host} {check}: {[r['check'] for r in results if r['host'] == host]}"
    return found[0]


@pytest.mark.req("VIS-03")
def test_a_healthy_server_passes_every_item_that_applies():
    results = judge({"srv01": {"platform": "linux", "facts": linux_facts()}})
    statuses = {r["check"]: r["status"] for r in results}
    assert statuses["tools.agent"] == "PASS"
    assert statuses["tools.backup_manager"] == "PASS"
    assert statuses["tools.site"] == "NOT_APPLICABLE"
    assert statuses["tools.heartbeat"] == "NOT_APPLICABLE"
    assert statuses["services.required"] == "PASS"
    assert statuses["backups.daily"] == "PASS"
    assert statuses["updates.security"] == "PASS"
    assert statuses["redundancy.power"] == "NOT_APPLICABLE"
    assert statuses["perimeter.security_box"] == "DECLARED"
    assert statuses["perimeter.ups"] == "DECLARED"
    assert "FAIL" not in statuses.values()
    assert all(r["requirement"] == "VIS-03" and not r["blocking"] for r in results)
    assert all(r["hint"] == "" for r in results if r["status"] == "PASS")


@pytest.mark.req("VIS-03")
def test_a_stopped_or_absent_tool_fails_with_the_stage_to_rerun():
    facts = linux_facts()
    facts["units"]["prometheus-node-exporter.service"]["active"] = False
    facts["units"]["preventcare-eventlog.timer"] = {"present": False, "active": False}
    facts["packages"]["prometheus-node-exporter"] = "1.3.1-1"
    results = judge({"srv01": {"platform": "linux", "facts": facts}})
    agent = item(results, "srv01", "tools.agent")
    assert agent["status"] == "FAIL"
    assert "prometheus-node-exporter.service stopped" in agent["title"]
    assert "1.3.1-1 older than 1.5.0" in agent["title"]
    assert "--tags monitor_agent --limit srv01" in agent["hint"]
    assert item(results, "srv01", "tools.eventlog")["evidence"]["problems"] == [
        "preventcare-eventlog.timer absent"
    ]


@pytest.mark.req("VIS-03")
@pytest.mark.req("MON-SYS-08")
def test_a_required_service_stopped_fails():
    facts = linux_facts()
    facts["units"]["cron.service"]["active"] = False
    result = item(
        judge({"srv01": {"platform": "linux", "facts": facts}}), "srv01", "services.required"
    )
    assert result["status"] == "FAIL"
    assert result["evidence"]["not_running"] == ["cron.service"]


@pytest.mark.req("VIS-03")
def test_a_collector_that_stopped_writing_fails_even_when_its_timer_runs():
    facts = linux_facts()
    for m in facts["metrics"]:
        if m["name"].startswith("preventcare_hardware_collector"):
            m["value"] = NOW - 3 * HOUR
    result = item(
        judge({"srv01": {"platform": "linux", "facts": facts}}), "srv01", "tools.hardware_notifier"
    )
    assert result["status"] == "FAIL"
    assert "not written for 30 min" in result["title"]


@pytest.mark.req("VIS-03")
@pytest.mark.req("MON-BK-03")
@pytest.mark.parametrize(
    ("status", "age_hours", "expected", "key"),
    [
        (0, 5, "PASS", "succeeded"),
        (1, 5, "FAIL", "did not succeed: failed"),
        (0, 30, "FAIL", "30.0 h old"),
        (None, None, "FAIL", "was ever received"),
    ],
)
def test_backup_age_and_result(status, age_hours, expected, key):
    facts = linux_facts()
    facts["metrics"] = [
        m for m in facts["metrics"] if not m["name"].startswith("preventcare_backup")
    ]
    if status is not None:
        facts["metrics"] += [
            {
                "name": "preventcare_backup_last_status",
                "labels": {"backup_job": "daily"},
                "value": status,
            },
            {
                "name": "preventcare_backup_last_end_timestamp_seconds",
                "labels": {"backup_job": "daily"},
                "value": NOW - age_hours * HOUR,
            },
        ]
    result = item(judge({"srv01": {"platform": "linux", "facts": facts}}), "srv01", "backups.daily")
    assert result["status"] == expected
    assert key in result["title"]


@pytest.mark.req("VIS-03")
@pytest.mark.req("VIS-02")
def test_backup_failures_since_the_last_visit_come_from_the_alert_episodes():
    episode = {"host": "srv01", "alert": "BackupFailed", "start": "2026-10-01T22:00:00Z"}
    site = {"available": True, "episodes": [episode], "heartbeat": {"ok": True}}
    facts = linux_facts()
    results = judge({"srv01": {"platform": "linux", "facts": facts}}, site=site)
    assert item(results, "srv01", "backups.failures")["status"] == "WARN"
    unavailable = judge(
        {"srv01": {"platform": "linux", "facts": facts}},
        site={"available": False, "reason": "connection refused"},
    )
    result = item(unavailable, "srv01", "backups.failures")
    assert result["status"] == "WARN"
    assert "connection refused" in result["title"]


@pytest.mark.req("VIS-03")
def test_security_updates_pending_warn_and_overdue_fail():
    facts = linux_facts()
    facts["updates"] = dict(facts["updates"], pending_security=3)
    results = judge({"srv01": {"platform": "linux", "facts": facts}})
    assert item(results, "srv01", "updates.security")["status"] == "WARN"
    facts["updates"]["last_install"] = "2026-09-01T00:00:00Z"
    results = judge({"srv01": {"platform": "linux", "facts": facts}})
    overdue = item(results, "srv01", "updates.security")
    assert overdue["status"] == "FAIL"
    assert "none installed for 92 days" in overdue["title"]


@pytest.mark.req("VIS-03")
def test_redundancy_raid_bond_and_power():
    facts = linux_facts(
        raid=[{"name": "md0", "healthy": False, "detail": "degraded [1/2] [U_]"}],
        bonds=[{"name": "bond0", "members": 2, "up": 1}],
    )
    facts["metrics"] = [m for m in facts["metrics"] if m["name"] != "preventcare_hardware_ok"] + [
        {
            "name": "preventcare_hardware_ok",
            "labels": {"component": "psu", "device": "PS1"},
            "value": 1,
        },
        {
            "name": "preventcare_hardware_ok",
            "labels": {"component": "psu", "device": "PS2"},
            "value": 0,
        },
    ]
    results = judge({"srv01": {"platform": "linux", "facts": facts}})
    assert "md0: degraded [1/2] [U_]" in item(results, "srv01", "redundancy.raid")["title"]
    assert item(results, "srv01", "redundancy.bonding")["status"] == "FAIL"
    power = item(results, "srv01", "redundancy.power")
    assert power["status"] == "FAIL"
    assert "PS2" in power["title"]


@pytest.mark.req("VIS-03")
def test_access_control_findings():
    facts = linux_facts(
        admins=[
            {"name": "root", "uid0": True, "empty_password": False},
            {"name": "toor", "uid0": True, "empty_password": False},
        ],
        password_policy={"min_length": 6, "max_age_days": None},
        directory={"role": "member", "domain": "corp.example", "joined": True, "errors": []},
    )
    results = judge({"srv01": {"platform": "linux", "facts": facts}})
    assert item(results, "srv01", "access.admins")["status"] == "FAIL"
    assert "toor" in item(results, "srv01", "access.admins")["title"]
    assert item(results, "srv01", "access.password_policy")["status"] == "WARN"
    assert item(results, "srv01", "access.directory")["status"] == "PASS"


@pytest.mark.req("VIS-03")
def test_a_domain_controller_with_replication_errors_fails_by_event_id():
    facts = linux_facts(
        platform="windows",
        units={"windows_exporter": running(), "ntrtscan": running(), "tmlisten": running()},
        packages={"windows_exporter": "0.31.3"},
        directory={
            "role": "domain_controller",
            "domain": "corp.example",
            "joined": True,
            "errors": [{"id": 2042, "count": 3}, {"id": 1311, "count": 0}],
        },
    )
    results = judge({"dc01": {"platform": "windows", "facts": facts}})
    directory = item(results, "dc01", "access.directory")
    assert directory["status"] == "FAIL"
    assert "2042 (3)" in directory["title"]
    assert "1311" not in directory["title"]
    assert item(results, "dc01", "tools.agent")["status"] == "PASS"


@pytest.mark.req("VIS-03")
def test_disk_space_now_and_trend_from_prometheus():
    facts = linux_facts(
        filesystems=[
            {"mount": "/", "size_bytes": 100, "free_bytes": 5},
            {"mount": "/srv", "size_bytes": 100, "free_bytes": 60},
        ]
    )
    site = {
        "available": True,
        "episodes": [],
        "heartbeat": {"ok": True},
        "disk_trends": [{"host": "srv01", "mount": "/srv", "days_until_full": 20}],
    }
    disks = item(
        judge({"srv01": {"platform": "linux", "facts": facts}}, site=site),
        "srv01",
        "performance.disks",
    )
    assert disks["status"] == "FAIL"
    assert "/ 5.0 %" in disks["title"]
    facts["filesystems"][0]["free_bytes"] = 50
    soon = item(
        judge({"srv01": {"platform": "linux", "facts": facts}}, site=site),
        "srv01",
        "performance.disks",
    )
    assert soon["status"] == "WARN"
    assert "/srv 20 d" in soon["title"]


@pytest.mark.req("VIS-03")
@pytest.mark.req("MON-TEL-01")
def test_the_heartbeat_is_judged_on_the_monitor_host():
    hosts = {"mon01": {"platform": "linux", "facts": linux_facts()}}
    ok = judge(hosts, site={"available": True, "heartbeat": {"ok": True, "last_success": "x"}})
    assert item(ok, "mon01", "tools.heartbeat")["status"] == "PASS"
    assert item(ok, "mon01", "tools.site")["status"] == "PASS"
    failed = judge(hosts, site={"available": True, "heartbeat": {"ok": False}})
    assert item(failed, "mon01", "tools.heartbeat")["status"] == "FAIL"
    unknown = judge(hosts, site={"available": False, "reason": "timed out"})
    assert "timed out" in item(unknown, "mon01", "tools.heartbeat")["title"]


@pytest.mark.req("VIS-03")
@pytest.mark.req("VIS-04")
def test_an_unreachable_server_has_every_item_unreachable():
    results = judge(
        {"srv02": {"platform": "linux", "failed": {"unreachable": True, "msg": "ssh: no route"}}}
    )
    assert [
        r["check"] for r in results if r["host"] == "srv02" and r["check"] != "dossier.drift"
    ] == list(HOST_ITEMS)
    assert {r["status"] for r in results if r["check"] != "dossier.drift"} == {"UNREACHABLE"}
    assert "ssh: no route" in results[0]["hint"]


@pytest.mark.req("VIS-03")
def test_dossier_drift_item_by_item_and_servers_added_or_removed():
    before = {
        "srv01": dossier_entry(
            addresses=["10.0.0.5"], services=["ssh"], shares=["smb:Data", "smb:Compta"]
        ),
        "old01": dossier_entry(addresses=["10.0.0.9"]),
    }
    technical = {
        "document": {"hosts": before},
        "path": "reports/martin/R1/technical.json",
        "run": "R1",
    }
    hosts = {
        "srv01": {"platform": "linux", "facts": linux_facts()},
        "new01": {"platform": "linux", "facts": linux_facts()},
    }
    results = judge(hosts, technical=technical)
    srv = item(results, "srv01", "dossier.drift")
    assert srv["status"] == "WARN"
    assert srv["evidence"]["changes"] == [
        {"host": "srv01", "kind": "share", "change": "removed", "value": "smb:Compta"}
    ]
    assert "server" in item(results, "old01", "dossier.drift")["title"]
    assert item(results, "new01", "dossier.drift")["evidence"]["changes"][0]["change"] == "added"
    same = judge(
        {"srv01": hosts["srv01"]},
        technical={
            "document": {"hosts": {"srv01": copy.deepcopy(linux_facts()["dossier"])}},
            "run": "R1",
        },
    )
    assert item(same, "srv01", "dossier.drift")["status"] == "PASS"
    assert (
        item(judge({"srv01": hosts["srv01"]}), "srv01", "dossier.drift")["status"]
        == "NOT_APPLICABLE"
    )


@pytest.mark.req("VIS-03")
def test_french_texts_for_the_same_findings():
    contract = dict(CONTRACT, language="fr")
    facts = linux_facts()
    facts["units"]["cron.service"]["active"] = False
    result = item(
        judge({"srv01": {"platform": "linux", "facts": facts}}, contract=contract),
        "srv01",
        "services.required",
    )
    assert result["title"].startswith("Des services nécessaires au système ne tournent pas")
    assert "Démarrez-les" in result["hint"]


@pytest.mark.req("VIS-03")
def test_a_section_that_failed_to_read_is_a_warning_not_a_crash():
    facts = linux_facts(
        admins=None, errors=[{"section": "admins", "error": "PermissionError: shadow"}]
    )
    results = judge({"srv01": {"platform": "linux", "facts": facts}})
    assert item(results, "srv01", "access.admins")["status"] == "WARN"
    assert "PermissionError" in item(results, "srv01", "collection")["title"]


WINDOWS_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "windows" / "compliance"


@pytest.mark.req("VIS-03")
@pytest.mark.parametrize("case", ["member_healthy", "dc_replication_errors", "unhealthy"])
def test_windows_servers_get_the_same_verdicts_in_english_and_french(case):
    verdicts = {}
    for lang in ("en", "fr"):
        raw = json.loads((WINDOWS_FIXTURES / f"{case}_{lang}.json").read_text(encoding="utf-8"))
        facts = compliance_facts(raw)
        results = judge({"srv-win": {"platform": "windows", "facts": facts}})
        verdicts[lang] = {r["check"]: r["status"] for r in results}
    assert verdicts["en"] == verdicts["fr"]
    statuses = verdicts["en"]
    if case == "dc_replication_errors":
        assert statuses["access.directory"] == "FAIL"
    if case == "unhealthy":
        assert "FAIL" in statuses.values()
        assert statuses["redundancy.raid"] == "FAIL"
    if case == "member_healthy":
        assert statuses["access.directory"] == "PASS"
        assert statuses["tools.agent"] == "PASS", statuses
