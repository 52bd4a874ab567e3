"""filter_plugins/preventcare_prereq_filters.py: what the prerequisites playbook reports."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_contract import normalise_contract
from preventcare_prereq_filters import (
    FilterModule,
    preventcare_prerequisites,
    preventcare_prerequisites_collected,
    preventcare_public_ipv4,
    preventcare_remote_tool_probes,
    preventcare_remote_tool_services,
)

ROOT = Path(__file__).resolve().parents[2]
PREREQ = ROOT / "tests" / "fixtures" / "windows" / "prereq"
SMTP = ROOT / "tests" / "fixtures" / "windows" / "smtp"
EXAMPLE = ROOT / "inventories" / "example" / "group_vars" / "all" / "preventcare.yml"
TODAY = "2026-11-26"


def windows_part(name):
    return json.loads((PREREQ / name).read_text(encoding="utf-8"))["result"]


@pytest.fixture
def contract():
    return normalise_contract(yaml.safe_load(EXAMPLE.read_text("utf-8"))["preventcare"])


def linux_evidence(euid=0):
    return {
        "platform": "linux",
        "os": {"id": "debian", "version_id": "12", "python": "3.11.2"},
        "network": {
            "addresses": [
                {
                    "interface": "eth0",
                    "family": "inet",
                    "address": "10.10.2.20",
                    "prefixlen": 24,
                    "dynamic": False,
                    "valid_lifetime": None,
                }
            ],
            "sources": [],
        },
        "hardware": {
            "cpu_cores": 4,
            "memory_bytes": 8 * 1024**3,
            "mounts": [{"mount": "/", "size_bytes": 50 * 1024**3, "free_bytes": 40 * 1024**3}],
            "system_mount": "/",
            "dmi": {"sys_vendor": "QEMU"},
            "virtualization": {"vm": "kvm"},
        },
        "updates": {"manager": "apt", "security": 0, "lists_age_days": 1.0},
        "remote_assistance": {"tools": {"openssh": {"installed": True, "running": True}}},
        "privilege": {"uid": euid, "euid": euid, "user": "preventcare" if euid else "root"},
    }


SMTP_OK = {"changed": False, "status": "PASS", "failure_class": None, "hint": ""}


@pytest.fixture
def collected():
    """Each host's evidence as playbooks/prerequisites.yml hands it to the judge."""
    smtp_windows = json.loads((SMTP / "success_starttls_en.json").read_text())["result"]
    windows = {"platform": "windows", "errors": []}
    for name in (
        "os_2019_en.json",
        "network_static_en.json",
        "hardware_hyperv_vm_en.json",
        "remote_rdp_en.json",
    ):
        windows.update(windows_part(name))
    windows["privilege"] = {
        "user": "MARTIN\\preventcare",
        "whoami_groups_csv": (PREREQ / "whoami_groups_elevated_fr.csv").read_text("utf-8"),
    }
    hosts = {
        "srv-lin01": {
            "platform": "linux",
            "roles": ["accounting"],
            # The SMTP dialogue is held in the evidence module's execution.
            "evidence": {"changed": False, "evidence": linux_evidence(), "smtp": SMTP_OK},
        },
        "mon01": {
            "platform": "linux",
            "roles": ["monitor"],
            "evidence": {"failed": True, "msg": "Missing sudo password"},
            "evidence_plain": {"changed": False, "evidence": linux_evidence(1001), "smtp": SMTP_OK},
        },
        "srv-down": {
            "platform": "linux",
            "evidence": {
                "unreachable": True,
                "msg": "Failed to connect to the host via ssh: Connection refused",
            },
        },
        "srv-ad01": {
            "platform": "windows",
            "roles": ["domain_controller"],
            "evidence": {"changed": False, "result": windows},
            "smtp": {"changed": False, "result": smtp_windows},
            "win_updates": {"changed": False, "found_update_count": 0, "updates": {}},
        },
    }
    return {name: {"host": name, **value} for name, value in hosts.items()}


HOSTS = ["srv-ad01", "srv-lin01", "mon01", "srv-down"]


def of(collected, names=HOSTS):
    return [collected[name] for name in names]


@pytest.mark.req("PRE-01")
@pytest.mark.req("PRE-02")
@pytest.mark.req("PRE-08")
def test_whole_run(collected, contract):
    results = preventcare_prerequisites(of(collected), contract, today=TODAY)
    hosts = []
    for outcome in results:
        if outcome["host"] not in hosts:
            hosts.append(outcome["host"])
    # Contract first, then the hosts in the order they were handed over.
    assert hosts == ["contract", "srv-ad01", "srv-lin01", "mon01", "srv-down"]
    by = {(r["host"], r["requirement"], r["check"]): r for r in results}
    assert by[("srv-ad01", "PRE-08", "admin_access")]["status"] == "PASS"
    assert by[("srv-ad01", "PRE-01", "smtp_relay")]["status"] == "PASS"
    assert by[("srv-ad01", "PRE-05", "os_support")]["status"] == "PASS"
    assert by[("srv-lin01", "PRE-08", "admin_access")]["status"] == "PASS"
    # become refused on mon01: PRE-08 fails with the reason, the other checks still ran.
    refused = by[("mon01", "PRE-08", "admin_access")]
    assert refused["status"] == "FAIL"
    assert "Missing sudo password" in refused["title"]
    assert by[("mon01", "PRE-02", "static_addressing")]["status"] == "PASS"
    assert by[("mon01", "PRE-03", "hardware")]["evidence"]["roles"] == ["monitor"]
    down = [r for r in results if r["host"] == "srv-down"]
    assert [r["requirement"] for r in down] == [
        "PRE-01",
        "PRE-02",
        "PRE-03",
        "PRE-05",
        "PRE-06",
        "PRE-08",
    ]
    assert {r["status"] for r in down} == {"UNREACHABLE"}
    # The example contract's public IP is public (the contract refuses any other).
    assert by[("contract", "PRE-02", "public_ip")]["status"] == "PASS"
    json.dumps(results)
    assert "example-not-a-secret" not in json.dumps(results)


@pytest.mark.req("PRE-08")
def test_the_judge_reads_what_each_gathering_play_left_in_hostvars(collected, contract):
    """Linux: the registered results as they are; Windows: its hand-over; a host left out by
    --limit (nothing registered): not on the report."""
    hostvars = {
        "srv-ad01": {"__prerequisites_collected": collected["srv-ad01"]},
        "srv-lin01": {
            "preventcare_roles": ["accounting"],
            "__prerequisites_evidence": collected["srv-lin01"]["evidence"],
        },
        "mon01": {
            "preventcare_roles": ["monitor"],
            "__prerequisites_evidence": collected["mon01"]["evidence"],
            "__prerequisites_evidence_plain": collected["mon01"]["evidence_plain"],
        },
        "srv-down": {"__prerequisites_evidence": collected["srv-down"]["evidence"]},
        "srv-limited": {"preventcare_roles": ["file_server"]},
    }
    found = preventcare_prerequisites_collected([*HOSTS, "srv-limited"], hostvars)
    assert [h["host"] for h in found] == HOSTS
    assert found[2] == {
        "host": "mon01",
        "platform": "linux",
        "roles": ["monitor"],
        "evidence": collected["mon01"]["evidence"],
        "evidence_plain": collected["mon01"]["evidence_plain"],
    }
    by_hand = preventcare_prerequisites(of(collected), contract, today=TODAY)
    assert preventcare_prerequisites(found, contract, today=TODAY) == by_hand
    with pytest.raises(AnsibleFilterError, match="expects a list of hosts"):
        preventcare_prerequisites_collected("srv-lin01", hostvars)


@pytest.mark.req("PRE-03")
def test_hardware_overrides_from_the_playbook_variable(collected, contract):
    strict = {"min_cpu_cores": 16}
    results = preventcare_prerequisites(
        of(collected, ["srv-lin01"]), contract, hardware=strict, today=TODAY
    )
    hardware = next(r for r in results if r["check"] == "hardware")
    assert hardware["status"] == "FAIL"
    assert "4 CPU < 16" in hardware["title"]


@pytest.mark.req("PRE-03")
def test_hardware_overrides_from_the_contract(collected, contract):
    edited = copy.deepcopy(contract)
    edited["hardware_prerequisites"] = {"min_memory_mib": 65536}
    results = preventcare_prerequisites(of(collected, ["srv-lin01"]), edited, today=TODAY)
    hardware = next(r for r in results if r["check"] == "hardware")
    assert hardware["status"] == "FAIL"


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ({"status": 200, "content": "80.10.20.30\n"}, "PASS"),
        ({"status": 200, "content": "81.250.12.34"}, "FAIL"),
        ({"failed": True, "msg": "Status code was -1: Connection refused"}, "WARN"),
    ],
)
def test_egress_ip_from_the_uri_result(contract, outcome, status):
    results = preventcare_prerequisites(
        [],
        contract,
        egress_url="https://ip.check.example/",
        egress_result=outcome,
        today=TODAY,
    )
    egress = next(r for r in results if r["check"] == "egress_ip")
    assert egress["status"] == status


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda hs, c: preventcare_prerequisites("srv-lin01", c), "list of each host"),
        (lambda hs, c: preventcare_prerequisites({}, c), "list of each host"),
        (lambda hs, c: preventcare_prerequisites([{"host": "x"}], c), "with a platform"),
        (lambda hs, c: preventcare_prerequisites(hs, None), "validated contract"),
        (
            lambda hs, c: preventcare_prerequisites(hs, c, today="26/11/2026"),
            "today must be a date YYYY-MM-DD",
        ),
        (
            lambda hs, c: preventcare_prerequisites(hs, c, hardware="big"),
            "hardware overrides must be a mapping",
        ),
        (
            lambda hs, c: preventcare_prerequisites(hs, c, os_table="/nonexistent.yml"),
            "cannot read the table /nonexistent.yml",
        ),
        (lambda hs, c: preventcare_remote_tool_probes("openssh"), "a list of tool names"),
        (lambda hv, c: preventcare_public_ipv4(42), "expects an IPv4 address as text"),
    ],
)
def test_bad_input_raises_a_filter_error_naming_it(collected, contract, call, message):
    with pytest.raises(AnsibleFilterError, match=message):
        call(of(collected), contract)


def test_broken_os_table_names_the_entry(tmp_path, collected, contract):
    table = tmp_path / "os_support.yml"
    table.write_text(
        "---\nschema_version: 1\nentries:\n"
        "  - {name: Debian 12, family: linux, match: {id: debian, version: '12'},\n"
        "     end_of_support: '2028-13-45', source: https://wiki.debian.org/LTS}\n"
    )
    with pytest.raises(AnsibleFilterError, match=r"entries\[0\] \(Debian 12\): end_of_support"):
        preventcare_prerequisites(of(collected), contract, os_table=str(table))


@pytest.mark.req("PRE-02")
def test_public_ipv4_filter():
    assert preventcare_public_ipv4("100.64.1.1") == {
        "address": "100.64.1.1",
        "public": False,
        "category": "cgnat",
    }
    assert set(FilterModule().filters()) == {
        "preventcare_prerequisites",
        "preventcare_prerequisites_collected",
        "preventcare_public_ipv4",
        "preventcare_remote_tool_probes",
        "preventcare_remote_tool_services",
    }


@pytest.mark.req("PRE-06")
def test_remote_tool_filters_read_the_one_catalogue():
    probes = preventcare_remote_tool_probes(["openssh", "teamviewer", "other"])
    assert probes == {
        "openssh": {
            "units": ["ssh.service", "sshd.service"],
            "processes": ["sshd"],
            "binary": "sshd",
        },
        "teamviewer": {
            "units": ["teamviewerd.service"],
            "processes": ["teamviewerd"],
            "binary": "teamviewer",
        },
    }
    assert preventcare_remote_tool_services(["rdp", "anydesk"]) == ["TermService", "AnyDesk*"]
    assert set(preventcare_remote_tool_probes()) == {
        "openssh",
        "rdp",
        "teamviewer",
        "anydesk",
        "rustdesk",
    }
