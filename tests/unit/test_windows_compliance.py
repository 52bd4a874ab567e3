"""VIS-03 on Windows: the compliance facts built from compliance_evidence.ps1's output.

The fixtures under tests/fixtures/windows/compliance/ were built from Microsoft's
documentation (README.md there), not captured live: no Windows host exists here. Each case
exists in an English and a French locale; they differ only in display strings, and the
facts must be identical.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.preventcare_scrape import parse_samples
from ansible.module_utils.preventcare_windows_compliance import (
    FACT_KEYS,
    compliance_facts,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "windows" / "compliance"
SCRIPT = ROOT / "scripts" / "windows" / "compliance_evidence.ps1"
DOC = ROOT / "docs" / "compliance-facts.md"
CASES = ("member_healthy", "dc_replication_errors", "unhealthy")

pytestmark = pytest.mark.req("VIS-03")


def raw(case, lang="en"):
    return json.loads((FIXTURES / f"{case}_{lang}.json").read_text(encoding="utf-8"))


def facts(case, lang="en"):
    return compliance_facts(raw(case, lang))


def with_result(case, **changes):
    """A fixture of `case` with parts of its script result replaced."""
    data = raw(case)
    data["result"].update(copy.deepcopy(changes))
    return data


def sections(result):
    return {e["section"] for e in result["errors"]}


# ---------------------------------------------------------------- locales


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("case", CASES)
def test_english_and_french_outputs_give_identical_facts(case):
    english, french = raw(case, "en"), raw(case, "fr")
    # The French fixture really is French: its display strings differ...
    differing = set(_strings(french["result"])) - set(_strings(english["result"]))
    assert differing, "the French fixture holds no French display string"
    assert any(
        re.search(r"[éèàô\u2019]|Mise à jour|Administrat|Classe|Introuvable", s) for s in differing
    )
    # ...and the facts, read from codes, SIDs, IDs and dates only, do not - but for what is
    # shown to people and never judged: the accounts' own names, localised when Windows or
    # the domain was installed (Administrateur, Admins du domaine; the judge reads SIDs), and
    # an error's message (its section and HResult are the same).
    en_facts, fr_facts = compliance_facts(english), compliance_facts(french)
    for got in (en_facts, fr_facts):
        got["names"] = [a.pop("name") for a in got["admins"]]
        got["errors"] = [
            (e["section"], re.findall(r"0x[0-9A-F]{8}", e["error"])) for e in got["errors"]
        ]
    en_names, fr_names = en_facts.pop("names"), fr_facts.pop("names")
    assert en_facts == fr_facts
    assert len(en_names) == len(fr_names) and en_names != fr_names


# ---------------------------------------------------------------- the shape


def _body(name, text):
    """The text of a top-level key of the documented YAML block, comments removed."""
    block = re.search(r"```yaml\n(.*?)```", text, re.S)[1]
    lines = [line.split("#", 1)[0] for line in block.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}:"))
    body = [lines[start][len(name) + 1 :]]
    for line in lines[start + 1 :]:
        if re.match(r"^[a-z_0-9]+:", line):
            break
        body.append(line)
    return "\n".join(body)


def _documented_keys(name, text):
    """The keys of one level below a top-level key (the shallowest `key:` in its body)."""
    found, depth = {}, 0
    body = _body(name, text)
    for match in re.finditer(r"[\[{]|[\]}]|(?<![<\w])([a-z_0-9]+):", body):
        token = match[0]
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth -= 1
        else:
            found.setdefault(depth, set()).add(match[1])
    return found[min(found)] if found else set()


def test_facts_have_exactly_the_documented_shape():
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)[1]
    top = re.findall(r"^([a-z_0-9]+):", block, re.M)
    assert tuple(top) == FACT_KEYS
    healthy, dc, unhealthy = (facts(c) for c in CASES)
    assert set(healthy) == set(top)
    assert healthy["platform"] == "windows"
    for name in (
        "directory",
        "password_policy",
        "ups",
        "load",
        "memory",
        "updates",
        "antivirus",
        "dossier",
    ):
        assert set(healthy[name]) == _documented_keys(name, text), name
    for name in ("metrics", "admins", "raid", "bonds", "filesystems"):
        rows = healthy[name] + unhealthy[name]
        assert rows, name
        assert all(set(row) == _documented_keys(name, text) for row in rows), name
    assert all(set(u) == _documented_keys("units", text) for u in healthy["units"].values())
    assert all(set(e) == {"id", "count"} for e in dc["directory"]["errors"])
    assert all(set(u) == {"name", "status"} for u in unhealthy["ups"]["units"])
    failed = compliance_facts({"failed": True, "msg": "boom"})
    assert all(set(e) == _documented_keys("errors", text) for e in failed["errors"])


def test_every_key_the_fixtures_hold_is_written_by_the_script():
    """The fixtures follow the script: no field the script does not write."""
    script = SCRIPT.read_text(encoding="utf-8")
    parts = set(re.findall(r"Get-Part '([a-z_]+)'", script))
    result_block = script[script.index("$result = [ordered]@{") :]
    result_keys = set(re.findall(r"^\s{4}([a-z_]+)\s+=", result_block, re.M))
    assert parts <= result_keys  # a failed part's name is the key left null

    def keys(value, inside_labels=False):
        if isinstance(value, dict):
            for key, item in value.items():
                if not inside_labels:
                    yield key
                yield from keys(item)
        elif isinstance(value, list):
            for item in value:
                yield from keys(item)

    for case in CASES:
        for lang in ("en", "fr"):
            result = raw(case, lang)["result"]
            assert set(result) == result_keys, (case, lang)
            unknown = {k for k in keys(result) if not re.search(rf"\b{re.escape(k)}\b", script)}
            assert not unknown, (case, lang, unknown)


# ---------------------------------------------------------------- the three servers


def test_a_healthy_member_server():
    got = facts("member_healthy")
    assert got["collected_at"] == "2026-12-01T07:30:00Z"
    assert got["errors"] == []
    assert got["units"]["windows_exporter"] == {"present": True, "active": True, "enabled": True}
    assert got["packages"] == {"windows_exporter": "0.31.0", "Trend Micro*": "14.0.12345"}
    assert got["directory"] == {
        "role": "member",
        "domain": "martin.local",
        "joined": True,
        "errors": None,  # not a domain controller: no Directory Service log to read
        "tool": None,
    }
    assert [a["sid"].rsplit("-", 1)[1] for a in got["admins"]] == ["500", "1001", "512"]
    assert [a["enabled"] for a in got["admins"]] == [False, True, None]
    assert all(a["uid0"] is False and a["empty_password"] is None for a in got["admins"])
    assert got["password_policy"] == {"min_length": 12, "max_age_days": 42}
    assert got["raid"] == []  # no storage space; the healthy physical disk is no finding
    assert got["bonds"] == [{"name": "TEAM-LAN", "members": 2, "up": 2}]
    assert got["ups"] == {"tool": None, "units": []}
    assert got["boot_time"] == "2026-11-12T05:02:41Z"
    assert got["uptime_seconds"] == pytest.approx(19 * 86400 + 2 * 3600 + 27 * 60 + 19)
    assert got["reboots"] == ["2026-08-14T04:31:55Z", "2026-11-12T05:03:10Z"]
    assert got["load"] == {"load15": None, "cpus": 8}
    assert got["memory"] == {"total_bytes": 33408312 * 1024, "available_bytes": 19876544 * 1024}
    assert got["filesystems"][0] == {
        "mount": "C:",
        "size_bytes": 126696288256,
        "free_bytes": 61513728000,
    }
    # The definition update of 2026-11-30 is not an installation of the month's updates;
    # the .NET update of 2026-11-12 failed (ResultCode 4).
    assert got["updates"] == {
        "pending": 0,
        "pending_security": 0,
        "last_install": "2026-11-12T04:58:12Z",
        "reboot_required": False,  # PendingFileRenameOperations alone is not counted
    }
    assert got["antivirus"] == {
        "product": "trend_micro",
        "running": True,
        "signature_age_days": None,
    }
    # Only preventcare_* samples, with their labels and values.
    assert {(m["name"], m["labels"].get("component"), m["value"]) for m in got["metrics"]} >= {
        ("preventcare_backup_last_status", None, 0.0),
        ("preventcare_hardware_ok", "disk", 1.0),
    }
    assert got["dossier"]["addresses"] == ["192.168.10.20"]  # loopback, link-local left out
    assert got["dossier"]["shares"] == ["smb:Commun", "smb:Compta", "smb:Scans"]
    # Per-user service copies (a new suffix at each logon) are no dossier service.
    assert "CDPUserSvc" in got["dossier"]["services"]
    assert not any(
        "_" in s and s.startswith(("CDPUserSvc_", "OneSyncSvc_"))
        for s in got["dossier"]["services"]
    )


def test_a_domain_controller_with_replication_errors():
    got = facts("dc_replication_errors")
    assert got["directory"]["role"] == "domain_controller"
    assert got["directory"]["errors"] == [
        {"id": 1311, "count": 4},
        {"id": 1865, "count": 4},
        {"id": 2042, "count": 1},
        {"id": 2087, "count": 12},
    ]
    # Get-ADDefaultDomainPasswordPolicy on a DC; Enabled read for users, not groups.
    assert got["password_policy"] == {"min_length": 7, "max_age_days": 42}
    assert [(a["sid"].rsplit("-", 1)[1], a["enabled"]) for a in got["admins"]] == [
        ("500", True),
        ("512", None),
        ("519", None),
    ]
    # Two versions installed: the highest one is reported.
    assert got["packages"] == {"windows_exporter": "0.31.0"}
    # The teaming part failed on the server: unknown, with the script's error and HResult.
    assert got["bonds"] is None
    assert any(e["section"] == "bonds" and "0x80041002" in e["error"] for e in got["errors"]), got[
        "errors"
    ]
    assert got["reboots"][-1] == "2026-11-30T22:40:31Z" and len(got["reboots"]) == 3
    assert [m["name"] for m in got["metrics"]] == ["preventcare_eventlog_errors_total"]


def test_an_unhealthy_server():
    got = facts("unhealthy")
    assert got["units"]["windows_exporter"] == {"present": True, "active": False, "enabled": True}
    assert got["units"]["ntrtscan"] == {"present": False, "active": False, "enabled": False}
    assert got["packages"]["Trend Micro*"] is None
    raid = {r["name"]: r for r in got["raid"]}
    assert raid["Donnees"]["healthy"] is False
    assert (
        "HealthStatus 1" in raid["Donnees"]["detail"] and "3 Degraded" in raid["Donnees"]["detail"]
    )
    assert raid["physical disk ATA ST4000NM0035 ZC9X8Y7W"]["healthy"] is False
    assert len(raid) == 2  # the healthy disk of the pool is no finding
    assert got["bonds"] == [{"name": "TEAM-LAN", "members": 2, "up": 1}]
    assert got["ups"] == {
        "tool": "win32_battery",
        "units": [{"name": "APC Back-UPS RS 900G", "status": "OB"}],
    }
    assert got["updates"] == {
        "pending": 3,  # the optional (BrowseOnly) preview aside
        "pending_security": 2,  # by category ID, not by the localised category name
        "last_install": "2026-08-13T02:10:44Z",
        "reboot_required": True,
    }
    assert got["antivirus"]["product"] == "defender"
    assert got["antivirus"]["running"] is True
    assert got["antivirus"]["signature_age_days"] == pytest.approx(21.06, abs=0.01)
    assert {
        m["labels"].get("device"): m["value"]
        for m in got["metrics"]
        if m["name"] == "preventcare_hardware_ok"
    }["disk1"] == 0.0
    assert got["filesystems"][0]["free_bytes"] == 3221225472
    assert got["dossier"]["shares"] == ["smb:Commun", "smb:Scans"]
    assert len(got["reboots"]) == 3


# ---------------------------------------------------------------- mappings


@pytest.mark.parametrize(
    ("code", "role"),
    [
        (0, "standalone"),
        (1, "member"),
        (2, "standalone"),
        (3, "member"),
        (4, "domain_controller"),
        (5, "domain_controller"),
    ],
)
def test_domain_role_codes(code, role):
    system = dict(
        raw("member_healthy")["result"]["system"], DomainRole=code, PartOfDomain=code not in (0, 2)
    )
    if code in (0, 2):
        system["Domain"] = "WORKGROUP"
    got = compliance_facts(with_result("member_healthy", system=system))["directory"]
    assert got["role"] == role
    # A workgroup name is no domain.
    assert got["domain"] == (None if code in (0, 2) else "martin.local")
    assert got["joined"] is (code not in (0, 2))


def test_a_domain_controller_whose_events_were_not_searched_is_an_error():
    system = dict(raw("member_healthy")["result"]["system"], DomainRole=4)
    got = compliance_facts(with_result("member_healthy", system=system))
    assert got["directory"]["role"] == "domain_controller"
    assert got["directory"]["errors"] is None
    assert "directory" in sections(got)


def test_a_domain_controller_without_replication_errors_has_an_empty_list():
    events = dict(
        raw("dc_replication_errors")["result"]["directory_events"],
        counts=[{"Id": 2042, "Count": 0}],
    )
    assert (
        compliance_facts(with_result("dc_replication_errors", directory_events=events))[
            "directory"
        ]["errors"]
        == []
    )


@pytest.mark.parametrize(
    ("status", "start", "expected"),
    [
        (4, 2, {"present": True, "active": True, "enabled": True}),
        (1, 2, {"present": True, "active": False, "enabled": True}),
        (4, 3, {"present": True, "active": True, "enabled": False}),  # Manual
        (1, 4, {"present": True, "active": False, "enabled": False}),  # Disabled
        (2, 2, {"present": True, "active": False, "enabled": True}),  # StartPending
        (
            {"Value": 4, "String": "Running"},
            {"Value": 2, "String": "Automatic"},
            {"present": True, "active": True, "enabled": True},
        ),
    ],
)
def test_service_states_are_read_by_enum_number(status, start, expected):
    services = raw("member_healthy")["result"]["services"]
    services["asked"] = [{"Name": "WINRM", "Status": status, "StartType": start}]
    got = compliance_facts(with_result("member_healthy", services=services))["units"]
    assert got["WinRM"] == expected  # the name is matched whatever its case


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (1, "OB"),
        (2, "OL"),
        (3, "OL"),
        (4, "LB"),
        (5, "LB"),
        (6, "OL CHRG"),
        (9, "OL CHRG LB"),
        (11, "OL"),
        (10, "BatteryStatus 10"),
    ],
)
def test_battery_status_becomes_nut_words(code, words):
    ups = {"batteries": [{"DeviceID": "UPS", "Name": "UPS", "BatteryStatus": code}]}
    assert compliance_facts(with_result("member_healthy", ups=ups))["ups"]["units"] == [
        {"name": "UPS", "status": words}
    ]


@pytest.mark.parametrize(
    ("mode", "reason", "up"),
    [(0, 0, 1), (1, 0, 1), (4096, 0, 0), (0, 3, 0), (0, 1, 0)],
)
def test_team_members_up_by_mode_and_failure_reason(mode, reason, up):
    teaming = {
        "teams": [{"Name": "T", "Status": 0, "TeamingMode": 1}],
        "members": [
            {
                "Name": "NIC1",
                "Team": "T",
                "AdministrativeMode": 0,
                "OperationalMode": mode,
                "FailureReason": reason,
            },
            {
                "Name": "NIC9",
                "Team": "OTHER",
                "AdministrativeMode": 0,
                "OperationalMode": 0,
                "FailureReason": 0,
            },
        ],
    }
    assert compliance_facts(with_result("member_healthy", teaming=teaming))["bonds"] == [
        {"name": "T", "members": 1, "up": up}
    ]


@pytest.mark.parametrize(
    ("health", "states", "healthy"),
    [
        (0, [2], True),
        (0, [2, 11], False),
        (1, [3], False),
        (2, [6], False),
        (5, [0], False),
        (0, [], False),
    ],
)
def test_virtual_disk_health(health, states, healthy):
    storage = {
        "virtual_disks": [
            {
                "FriendlyName": "Pool",
                "ResiliencySettingName": "Parity",
                "HealthStatus": health,
                "OperationalStatus": states,
            }
        ],
        "physical_disks": [],
    }
    got = compliance_facts(with_result("member_healthy", storage=storage))["raid"]
    assert [r["healthy"] for r in got] == [healthy]
    assert got[0]["detail"].startswith(f"Parity; HealthStatus {health}")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            ["MinimumPasswordLength = 8", "MaximumPasswordAge = 90"],
            {"min_length": 8, "max_age_days": 90},
        ),
        (
            ["MinimumPasswordLength = 0", "MaximumPasswordAge = -1"],
            {"min_length": 0, "max_age_days": None},
        ),
        (["MaximumPasswordAge = 0"], {"min_length": None, "max_age_days": None}),
        ([], {"min_length": None, "max_age_days": None}),
    ],
)
def test_secedit_password_policy(policy, expected):
    part = {"source": "secedit", "system_access": policy}
    assert (
        compliance_facts(with_result("member_healthy", password_policy=part))["password_policy"]
        == expected
    )


def test_a_domain_policy_whose_passwords_never_expire():
    part = {
        "source": "Get-ADDefaultDomainPasswordPolicy",
        "MinPasswordLength": 14,
        "MaxPasswordAgeDays": 0.0,
    }
    got = compliance_facts(with_result("dc_replication_errors", password_policy=part))
    assert got["password_policy"] == {"min_length": 14, "max_age_days": None}


def test_last_install_ignores_uninstallations_failures_and_definition_updates():
    history = {
        "total": 4,
        "entries": [
            {
                "date": "2026-11-30T00:00:00Z",
                "operation": 1,
                "result_code": 2,
                "categories": ["e0789628-ce08-4437-be74-2495b842f43b"],
            },
            {"date": "2026-11-29T00:00:00Z", "operation": 2, "result_code": 2, "categories": []},
            {"date": "2026-11-28T00:00:00Z", "operation": 1, "result_code": 4, "categories": []},
            {
                "date": "2026-11-01T10:00:00+01:00",
                "operation": 1,
                "result_code": 2,
                "categories": [],
            },
        ],
    }
    got = compliance_facts(with_result("member_healthy", update_history=history))["updates"]
    assert got["last_install"] == "2026-11-01T09:00:00Z"
    empty = compliance_facts(
        with_result("member_healthy", update_history={"total": 0, "entries": []})
    )
    assert empty["updates"]["last_install"] is None


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            {
                "system_information": False,
                "windows_update_key": False,
                "cbs_key": False,
                "pending_file_rename": True,
            },
            False,
        ),
        (
            {
                "system_information": False,
                "windows_update_key": True,
                "cbs_key": False,
                "pending_file_rename": False,
            },
            True,
        ),
        (
            {
                "system_information": None,
                "windows_update_key": None,
                "cbs_key": None,
                "pending_file_rename": None,
            },
            None,
        ),
    ],
)
def test_reboot_required(flags, expected):
    got = compliance_facts(with_result("member_healthy", reboot_required=flags))["updates"]
    assert got["reboot_required"] is expected


def test_a_failed_update_search_leaves_the_counts_unknown():
    pending = {
        "criteria": "x",
        "updates": [],
        "error": {"message": "Exception from HRESULT", "hresult": "0x8024402C"},
    }
    got = compliance_facts(with_result("member_healthy", pending_updates=pending))
    assert got["updates"]["pending"] is None and got["updates"]["pending_security"] is None
    assert got["updates"]["last_install"] == "2026-11-12T04:58:12Z"
    assert any("0x8024402C" in e["error"] for e in got["errors"] if e["section"] == "updates")


def test_antivirus_agent_with_one_service_stopped_is_not_running():
    antivirus = raw("member_healthy")["result"]["antivirus"]
    antivirus["services"] = [
        {"Name": "ntrtscan", "Status": 1, "StartType": 2},
        {"Name": "tmlisten", "Status": 4, "StartType": 2},
    ]
    got = compliance_facts(with_result("member_healthy", antivirus=antivirus))["antivirus"]
    assert got == {"product": "trend_micro", "running": False, "signature_age_days": None}


def test_no_antivirus_at_all():
    antivirus = raw("member_healthy")["result"]["antivirus"]
    antivirus["services"] = []
    got = compliance_facts(with_result("member_healthy", antivirus=antivirus))["antivirus"]
    assert got == {"product": None, "running": False, "signature_age_days": None}


def test_defender_never_updated_falls_back_on_the_signature_age():
    antivirus = raw("unhealthy")["result"]["antivirus"]
    antivirus["defender"].update(
        AntivirusSignatureLastUpdated="1601-01-01T00:00:00Z", AntivirusSignatureAge=65535
    )
    got = compliance_facts(with_result("unhealthy", antivirus=antivirus))["antivirus"]
    assert got["signature_age_days"] == 65535.0


def test_prometheus_samples_come_from_the_one_reader():
    unreadable = []
    samples = parse_samples(
        '# HELP x y\nm{a="q\\"x",b="z"} 1.5\nn NaN\nbroken{a="b"} yes\n\nplain 2 1700000000000\n',
        unreadable,
    )
    assert [(s["name"], s["labels"]) for s in samples] == [
        ("m", {"a": 'q"x', "b": "z"}),
        ("n", {}),
        ("plain", {}),
    ]
    assert samples[0]["value"] == 1.5 and samples[2]["value"] == 2.0
    assert unreadable == ['line 4: broken{a="b"} yes']


def test_an_unreadable_textfile_line_is_an_error_the_rest_is_kept():
    textfiles = raw("member_healthy")["result"]["textfiles"]
    textfiles["files"][0]["text"] += 'preventcare_backup_last_status{backup_job="x"} oops\n'
    textfiles["files"].append({"name": "huge.prom", "size": 5000000, "text": None})
    got = compliance_facts(with_result("member_healthy", textfiles=textfiles))
    assert len(got["metrics"]) == 6
    messages = [e["error"] for e in got["errors"] if e["section"] == "metrics"]
    assert any("oops" in m for m in messages) and any("huge.prom" in m for m in messages)


def test_a_missing_textfile_folder_is_unknown_not_empty():
    textfiles = {"dir": "C:\\nowhere", "exists": False, "files": []}
    got = compliance_facts(with_result("member_healthy", textfiles=textfiles))
    assert got["metrics"] is None
    assert any("C:\\nowhere" in e["error"] for e in got["errors"] if e["section"] == "metrics")


# ------------------------------------------------ bad input: errors, never exceptions


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (None, "got NoneType"),
        ("text", "got str"),
        ({}, "no compliance evidence"),
        ({"skipped": True}, "did not run"),
        (
            {"unreachable": True, "msg": "ntlm: the specified credentials were rejected"},
            "unreachable: ntlm",
        ),
        (
            {
                "failed": True,
                "error": [
                    {
                        "exception": {"message": "Access is denied"},
                        "fully_qualified_error_id": "UnauthorizedAccess",
                    }
                ],
            },
            "Access is denied (UnauthorizedAccess)",
        ),
        ({"failed": True, "msg": "Ansible requires PowerShell v5.1"}, "PowerShell v5.1"),
        ({"changed": False, "result": {"platform": "windows"}}, "no compliance evidence"),
    ],
)
def test_no_evidence_gives_every_fact_unknown_and_the_reason(given, words):
    got = compliance_facts(given)
    assert set(got) == set(FACT_KEYS)
    assert got["platform"] == "windows"
    assert all(got[k] is None for k in FACT_KEYS if k not in ("platform", "errors"))
    assert len(got["errors"]) == 1 and got["errors"][0]["section"] == "script"
    assert words in got["errors"][0]["error"]


def test_the_script_object_itself_is_accepted():
    assert compliance_facts(raw("unhealthy")["result"]) == facts("unhealthy")


MALFORMED = [
    (
        "system",
        {"DomainRole": "five", "PartOfDomain": True},
        ("directory", "load", "memory", "boot_time"),
    ),
    (
        "system",
        {
            "DomainRole": 9,
            "PartOfDomain": True,
            "NumberOfLogicalProcessors": 2,
            "LastBootUpTime": "x",
        },
        ("directory", "boot_time"),
    ),
    ("system", "a string", ("directory", "load", "memory", "boot_time")),
    ("services", {"names": ["a"], "asked": [{"Name": 5}]}, ("units",)),
    ("packages", {"names": [1], "found": []}, ("packages",)),
    ("textfiles", {"dir": "C:\\x", "exists": "yes", "files": []}, ("metrics",)),
    ("admins", {"members": [{"Name": None}]}, ("admins",)),
    ("password_policy", {"source": "net accounts"}, ("password_policy",)),
    (
        "password_policy",
        {"source": "secedit", "system_access": ["MinimumPasswordLength = eight"]},
        ("password_policy",),
    ),
    ("storage", {"virtual_disks": [{"FriendlyName": "V", "HealthStatus": "Sain"}]}, ("raid",)),
    (
        "teaming",
        {"teams": [{"Name": "T"}], "members": [{"Team": "T", "OperationalMode": None}]},
        ("bonds",),
    ),
    ("ups", {"batteries": [{"BatteryStatus": "Charging"}]}, ("ups",)),
    ("reboots", {"times": ["30/11/2026 07:12"]}, ("reboots",)),
    (
        "filesystems",
        {"logical_disks": [{"DeviceID": "C:", "Size": "big", "FreeSpace": 1}]},
        ("filesystems",),
    ),
    (
        "update_history",
        {"entries": [{"operation": 1, "result_code": 2, "date": "mardi"}]},
        ("updates.last_install",),
    ),
    ("reboot_required", {"cbs_key": "Vrai"}, ("updates.reboot_required",)),
    (
        "pending_updates",
        {"updates": [{"categories": "x", "browse_only": False}, 3]},
        ("updates.pending",),
    ),
    (
        "antivirus",
        {"names": ["ntrtscan"], "services": [{"Name": "ntrtscan", "Status": "En cours"}]},
        ("antivirus",),
    ),
    ("shares", {"names": [{"Name": "x"}]}, ("dossier",)),
    ("collected_at", "01/12/2026 08:30:00", ("collected_at",)),
]


@pytest.mark.parametrize(
    ("part", "value", "fields"), MALFORMED, ids=[f"{m[0]}-{i}" for i, m in enumerate(MALFORMED)]
)
def test_a_malformed_part_leaves_its_fields_unknown_with_an_error(part, value, fields):
    got = compliance_facts(with_result("member_healthy", **{part: value}))
    for field in fields:
        name, _, sub = field.partition(".")
        assert (got[name][sub] if sub else got[name]) is None, field
    assert {f.partition(".")[0] for f in fields} <= sections(got), got["errors"]
    # The other fields are still read.
    assert got["packages"] is not None or part == "packages"
    assert got["units"] is not None or part == "services"
    if fields[0].startswith("updates."):  # the other update facts are still read
        assert got["updates"]["pending"] is not None or part == "pending_updates"


def test_a_missing_part_is_an_error_too():
    data = raw("member_healthy")
    del data["result"]["storage"]
    got = compliance_facts(data)
    assert got["raid"] is None
    assert any(
        "'storage' is missing" in e["error"] for e in got["errors"] if e["section"] == "raid"
    )


def test_a_part_the_script_could_not_read_names_every_field_it_feeds():
    data = raw("member_healthy")
    data["result"]["system"] = None
    data["result"]["errors"] = [
        {"section": "system", "error": "Accès refusé", "hresult": "0x80070005"}
    ]
    got = compliance_facts(data)
    for field in ("directory", "boot_time", "load", "memory"):
        assert got[field] is None
        assert any(e["section"] == field and "0x80070005" in e["error"] for e in got["errors"])
    assert got["uptime_seconds"] is None
    assert got["units"] is not None


def test_a_failed_share_listing_leaves_no_partial_dossier():
    """A dossier without its shares would read as every share removed."""
    data = raw("member_healthy")
    data["result"]["shares"] = None
    data["result"]["errors"] = [
        {"section": "shares", "error": "The service has not been started.", "hresult": "0x80070426"}
    ]
    got = compliance_facts(data)
    assert got["dossier"] is None
    assert "dossier" in sections(got)


def test_no_variable_of_the_script_shadows_one_of_its_parameters():
    """PowerShell names are case-insensitive: `$services = ...` would overwrite `$Services`."""
    script = SCRIPT.read_text(encoding="utf-8")
    header, body = script.split("\n)\n", 1)
    params = {p.lower() for p in re.findall(r"\]\$(\w+)", header[header.index("param(") :])}
    assert {"services", "packages", "since", "textfiledir", "antivirusservices"} <= params
    assigned = {v.lower() for v in re.findall(r"\$(\w+)\s*=(?!=)", body)} - {"null"}
    loops = {v.lower() for v in re.findall(r"foreach \(\$(\w+) in", body)}
    assert not (assigned | loops) & params


def test_the_task_file_passes_only_parameters_the_script_has():
    tasks = yaml.safe_load((ROOT / "playbooks" / "tasks" / "compliance_windows.yml").read_text())
    run = next(t for t in tasks if "ansible.windows.win_powershell" in t)
    module = run["ansible.windows.win_powershell"]
    assert module["path"].endswith("/scripts/windows/compliance_evidence.ps1")
    script = SCRIPT.read_text(encoding="utf-8")
    header = script.split("\n)\n", 1)[0]
    params = set(re.findall(r"\]\$(\w+)", header[header.index("param(") :]))
    assert set(module["parameters"]) <= params
    assert run["register"] and run["changed_when"] is False and run["check_mode"] is False
    assert tasks[-1]["ansible.builtin.set_fact"] == {
        "preventcare_compliance_raw": "{{ " + run["register"] + " }}"
    }


def test_the_script_defaults_agree_with_the_roles_that_install_what_it_reads():
    """One truth: the textfile folder and the agent's services are the roles' defaults."""
    script = SCRIPT.read_text(encoding="utf-8")
    agent = yaml.safe_load((ROOT / "roles" / "antivirus" / "defaults" / "main.yml").read_text())
    services = re.search(r"default\((\[[^\]]*\])\)", agent["antivirus_windows_services"])[1]
    assert f"$AntivirusServices = @({services[1:-1]})" in script
    agent_defaults = yaml.safe_load(
        (ROOT / "roles" / "monitor_agent" / "defaults" / "main.yml").read_text()
    )
    folder = agent_defaults["monitor_agent_windows_textfile_dir"]
    assert f"$TextfileDir = '{folder}'" in script


def test_the_update_search_writes_what_pending_updates_ps1_writes():
    """The search is repeated in the one compliance script (one remote execution), with the
    same output, read by the same controller code (preventcare_windows.classify_updates)."""
    pending = (ROOT / "scripts" / "windows" / "pending_updates.ps1").read_text(encoding="utf-8")
    script = SCRIPT.read_text(encoding="utf-8")
    for key in ("id", "title", "kb", "msrc_severity", "browse_only", "categories"):
        for text in (pending, script):
            assert re.search(rf"^\s+{key}\s+=", text, re.M), key
    for text in (pending, script):
        assert "IsInstalled=0 and IsHidden=0 and Type='Software'" in text
        assert re.search(r"id\s+=\s+\[string\]\$category\.CategoryID", text)
