"""PRE-01/02/03/05/06/08 on Linux: the evaluators judge preventcare_evidence's output."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_prereq import HOST_CHECKS, evaluate_host, load_tables
from ansible.module_utils.preventcare_prereq_access import check_admin_access
from ansible.module_utils.preventcare_prereq_hardware import check_hardware
from ansible.module_utils.preventcare_prereq_network import check_static_addressing
from ansible.module_utils.preventcare_prereq_os import check_os_support, check_security_updates
from ansible.module_utils.preventcare_prereq_relay import check_smtp
from ansible.module_utils.preventcare_prereq_remote import check_remote_assistance
from preventcare_evidence import (
    Gatherer,
    parse_apt_simulation,
    parse_dnf_check_update,
    parse_dnf_updateinfo,
    parse_ip_json,
)

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "tests" / "fixtures" / "linux"
TODAY = datetime.date(2026, 11, 26)
GIB = 1024**3
TABLES = load_tables()


def addresses(name):
    return parse_ip_json((LINUX / name).read_text())[1]


class ConfigOnly:
    """Module stand-in for reading configuration files only: no command is installed."""

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return None

    def run_command(self, args, **kwargs):
        raise AssertionError(f"unexpected command {args}")


def sources(root):
    gatherer = Gatherer(ConfigOnly(), root=str(LINUX / "roots" / root), now=TODAY_STAMP)
    errors = []
    found = []
    for collect in (gatherer.networkd, gatherer.ifupdown, gatherer.netplan, gatherer.dhclient):
        found += collect({"76": "eth1", "74": "eth0"}, errors)
    assert errors == []
    return found


TODAY_STAMP = datetime.datetime(2026, 11, 26, tzinfo=datetime.UTC).timestamp()


def evidence(**changes):
    base = {
        "platform": "linux",
        "os": {
            "id": "debian",
            "id_like": [],
            "version_id": "12",
            "pretty_name": "Debian GNU/Linux 12 (bookworm)",
            "python": "3.11.2",
        },
        "network": {"addresses": addresses("ip_addr_static.json"), "sources": [], "errors": []},
        "hardware": {
            "cpu_cores": 2,
            "memory_bytes": 2_010_000_000,  # a "2 GiB" VM reports a little less
            "mounts": [
                {
                    "mount": "/",
                    "device": "/dev/vda1",
                    "fstype": "ext4",
                    "size_bytes": 40 * GIB,
                    "free_bytes": 30 * GIB,
                }
            ],
            "system_mount": "/",
            "dmi": {"sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)"},
            "virtualization": {"vm": "kvm", "container": None, "source": "systemd-detect-virt"},
        },
        "updates": {
            "manager": "apt",
            "refreshed": False,
            "lists_age_days": 0.4,
            "pending": 0,
            "security": 0,
            "security_packages": [],
            "error": None,
        },
        "remote_assistance": {
            "systemd": True,
            "tools": {"openssh": {"installed": True, "running": True, "listening": [22]}},
        },
        "privilege": {"uid": 0, "euid": 0, "user": "root", "sudo_user": "preventcare"},
    }
    for path, value in changes.items():
        section, _, key = path.partition("__")
        if key:
            base[section][key] = value
        else:
            base[section] = value
    return base


CONTRACT = {
    "language": "fr",
    "remote_assistance": {"tools": ["openssh", "rdp"]},
    "smtp_relay": {"host": "relay.martin.example", "port": 587, "tls": "starttls"},
}


def contract(**changes):
    edited = copy.deepcopy(CONTRACT)
    edited.update(changes)
    return edited


# ---------------------------------------------------------------- PRE-02


@pytest.mark.req("PRE-02")
def test_static_addresses_pass():
    network = {"addresses": addresses("ip_addr_static.json"), "sources": sources("ifupdown_static")}
    outcome = check_static_addressing(
        "srv-lin01", {"network": network}, platform="linux", lang="en"
    )
    assert outcome["status"] == "PASS"
    assert outcome["title"] == "srv-lin01 is statically addressed (eth0 10.10.2.20/24)"
    assert outcome["evidence"]["addresses"][0]["static_sources"][0]["manager"] == "ifupdown"


@pytest.mark.parametrize(
    ("platform", "lang", "wrong"),
    [("fr", "fr", "platform must be one of linux, windows"), ("linux", "de", "lang must be")],
)
def test_checks_refuse_an_unknown_platform_or_language(platform, lang, wrong):
    network = {"addresses": addresses("ip_addr_static.json"), "sources": []}
    with pytest.raises(ValueError, match=wrong):
        check_static_addressing("srv-lin01", {"network": network}, platform=platform, lang=lang)
    with pytest.raises(TypeError):
        check_static_addressing("srv-lin01", {"network": network}, platform, lang)


@pytest.mark.req("PRE-02")
def test_finite_lifetime_without_known_source_fails_on_the_kernel_flag():
    network = {"addresses": addresses("ip_addr_static_and_lease.json"), "sources": []}
    outcome = check_static_addressing(
        "srv-lin01", {"network": network}, platform="linux", lang="fr"
    )
    assert outcome["status"] == "FAIL"
    assert outcome["blocking"] is True
    assert "eth1 192.168.1.57/24 (durée de bail finie)" in outcome["title"]
    assert "eth0" not in outcome["title"]
    assert "cloud-init" in outcome["hint"]
    row = next(r for r in outcome["evidence"]["addresses"] if r["interface"] == "eth1")
    assert (row["kernel_dynamic"], row["valid_lifetime"]) == (True, 3600)


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    ("root", "manager", "fix"),
    [
        ("networkd_dhcp", "systemd-networkd", "networkctl reload"),
        ("netplan_dhcp", "netplan", "netplan apply"),
        ("ifupdown_dhcp", "ifupdown", "'iface eth1 inet dhcp'"),
        ("dhclient", "dhclient", "client DHCP détient un bail"),
    ],
)
def test_dhcp_source_is_named_with_its_fix(root, manager, fix):
    network = {"addresses": addresses("ip_addr_static_and_lease.json"), "sources": sources(root)}
    outcome = check_static_addressing(
        "srv-lin01", {"network": network}, platform="linux", lang="fr"
    )
    assert outcome["status"] == "FAIL"
    assert f"DHCP dans {manager}" in outcome["title"]
    assert fix in outcome["hint"]


@pytest.mark.req("PRE-02")
def test_networkmanager_dhcp_fix_names_the_connection():
    network = {
        "addresses": addresses("ip_addr_static_and_lease.json"),
        "sources": [
            {
                "interface": "eth1",
                "manager": "networkmanager",
                "method": "dhcp",
                "connection": "Wired connection 1",
            }
        ],
    }
    outcome = check_static_addressing(
        "srv-lin01", {"network": network}, platform="linux", lang="en"
    )
    assert "DHCP in networkmanager Wired connection 1" in outcome["title"]
    assert "nmcli connection modify 'Wired connection 1' ipv4.method manual" in outcome["hint"]
    assert "ipv4.addresses 192.168.1.57/24" in outcome["hint"]


@pytest.mark.req("PRE-02")
def test_dhcp_configuration_fails_even_when_the_kernel_shows_no_lifetime():
    # Some DHCP clients add the leased address without a lifetime: the configuration decides.
    source = {"interface": "eth0", "manager": "ifupdown", "method": "dhcp", "file": "/etc/x"}
    network = {"addresses": addresses("ip_addr_static.json"), "sources": [source]}
    outcome = check_static_addressing(
        "srv-lin01", {"network": network}, platform="linux", lang="en"
    )
    assert outcome["status"] == "FAIL"
    assert "eth0 10.10.2.20/24 (DHCP in ifupdown /etc/x)" in outcome["title"]


@pytest.mark.req("PRE-02")
def test_lease_for_another_address_is_ignored():
    stale = {"interface": "eth0", "manager": "dhclient", "method": "dhcp", "address": "10.10.2.99"}
    network = {"addresses": addresses("ip_addr_static.json"), "sources": [stale]}
    outcome = check_static_addressing(
        "srv-lin01", {"network": network}, platform="linux", lang="en"
    )
    assert outcome["status"] == "PASS"


@pytest.mark.req("PRE-02")
def test_only_loopback_fails_without_routable_address():
    loopback = [a for a in addresses("ip_addr_static.json") if a["interface"] == "lo"]
    outcome = check_static_addressing(
        "srv-lin01", {"network": {"addresses": loopback}}, platform="linux", lang="en"
    )
    assert outcome["status"] == "FAIL"
    assert outcome["title"] == "srv-lin01 has no routable IPv4 address"


# ---------------------------------------------------------------- PRE-03


def hardware(evidence_value, roles=(), overrides=None, lang="fr"):
    return check_hardware(
        "srv-lin01",
        evidence_value,
        platform="linux",
        lang=lang,
        table=TABLES["hardware"],
        roles=roles,
        overrides=overrides,
    )


@pytest.mark.req("PRE-03")
def test_small_vm_meets_the_linux_minimums_and_is_recognised():
    outcome = hardware(evidence())
    assert outcome["status"] == "PASS"
    assert outcome["title"] == (
        "srv-lin01 : 2 CPU, 1.9 Gio de RAM, 30.0 Gio libres sur / (machine virtuelle, kvm)"
    )
    assert outcome["evidence"]["virtual"] == "kvm"


@pytest.mark.req("PRE-03")
def test_vm_recognised_from_dmi_without_systemd_detect_virt():
    base = evidence()
    base["hardware"]["virtualization"] = {"vm": None, "container": None, "source": "cpuinfo"}
    outcome = hardware(base, lang="en")
    assert outcome["evidence"]["virtual"] == "KVM / QEMU"
    assert "virtual machine, KVM / QEMU" in outcome["title"]


@pytest.mark.req("PRE-03")
@pytest.mark.parametrize(
    ("changes", "roles", "expected"),
    [
        ({"cpu_cores": 1}, (), ["1 CPU < 2"]),
        ({"memory_bytes": 1 * GIB}, (), ["1.0 Gio de RAM < 2.0 Gio"]),
        ({}, ("database",), ["2 CPU < 4", "1.9 Gio de RAM < 8.0 Gio"]),
        ({}, ("monitor",), ["1.9 Gio de RAM < 4.0 Gio"]),
    ],
)
def test_shortfalls_are_listed(changes, roles, expected):
    base = evidence()
    base["hardware"].update(changes)
    outcome = hardware(base, roles=roles)
    assert outcome["status"] == "FAIL"
    for text in expected:
        assert text in outcome["title"]
    assert "hardware_prerequisites" in outcome["hint"]


@pytest.mark.req("PRE-03")
def test_free_space_below_the_percentage_fails():
    base = evidence()
    base["hardware"]["mounts"][0].update(size_bytes=100 * GIB, free_bytes=12 * GIB)
    outcome = hardware(base)
    assert outcome["status"] == "FAIL"
    assert "12.0 % libres sur / < 15 %" in outcome["title"]


@pytest.mark.req("PRE-03")
def test_contract_overrides_replace_the_table():
    overrides = {"roles": {"database": {"min_cpu_cores": 2, "min_memory_mib": 2048}}}
    outcome = hardware(evidence(), roles=("database",), overrides=overrides)
    assert outcome["status"] == "PASS"
    assert outcome["evidence"]["minimums"]["min_cpu_cores"] == 2


@pytest.mark.req("PRE-03")
@pytest.mark.parametrize(
    ("vendor", "model", "status"),
    [
        ("Dell Inc.", "PowerEdge R350", "PASS"),
        ("HPE", "ProLiant DL20 Gen10 Plus", "PASS"),
        ("LENOVO", "ThinkSystem ST50 V2", "PASS"),
        ("Supermicro", "SYS-5019C-M", "WARN"),
    ],
)
def test_physical_vendor_is_checked_against_the_notifier_list(vendor, model, status):
    base = evidence()
    base["hardware"]["dmi"] = {"sys_vendor": vendor, "product_name": model}
    base["hardware"]["virtualization"] = {"vm": None, "container": None}
    outcome = hardware(base, lang="en")
    assert outcome["status"] == status
    if status == "PASS":
        assert f"physical, {vendor} {model}" in outcome["title"]
    else:
        assert outcome["blocking"] is False
        assert "MON-HW-01" in outcome["hint"]


# ---------------------------------------------------------------- PRE-05


def os_evidence(os_id, version, python="3.11.2"):
    return evidence(os={"id": os_id, "version_id": version, "pretty_name": None, "python": python})


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize(
    ("os_id", "version", "today", "status", "words"),
    [
        ("debian", "12", TODAY, "PASS", "jusqu'au 2028-06-30"),
        ("debian", "13", TODAY, "PASS", "jusqu'au 2030-06-30"),
        ("debian", "11", TODAY, "FAIL", "depuis le 2026-08-31"),
        ("debian", "9", TODAY, "FAIL", "Debian 9 (stretch)"),
        ("debian", "12", datetime.date(2028, 2, 1), "WARN", "dans 150 jours"),
        ("debian", "12", datetime.date(2028, 7, 1), "FAIL", "depuis le 2028-06-30"),
        ("ubuntu", "24.04", TODAY, "PASS", "Ubuntu 24.04 LTS"),
        ("ubuntu", "22.04", TODAY, "WARN", "s'arrête le 2027-04-30, dans 155 jours"),
        ("ubuntu", "20.04", TODAY, "WARN", "seul Ubuntu Pro (ESM) le couvre, jusqu'au 2030-04-30"),
        ("ubuntu", "16.04", TODAY, "FAIL", "Ubuntu 16.04 LTS n'est plus maintenu"),
        ("rhel", "9.4", TODAY, "PASS", "Red Hat Enterprise Linux 9"),
        ("rhel", "10.0", TODAY, "PASS", "2035-05-31"),
        ("rhel", "7.9", TODAY, "WARN", "Extended Life-cycle Support (ELS)"),
        ("centos", "7", TODAY, "FAIL", "CentOS Linux 7"),
        ("rocky", "8.10", TODAY, "PASS", "Rocky Linux 8"),
        ("almalinux", "9.5", TODAY, "PASS", "AlmaLinux 9"),
        ("fedora", "41", TODAY, "WARN", "ne figure pas dans la table"),
    ],
)
def test_os_end_of_support(os_id, version, today, status, words):
    outcome = check_os_support(
        "srv-lin01",
        os_evidence(os_id, version),
        platform="linux",
        lang="fr",
        table=TABLES["os"],
        today=today,
    )
    assert outcome["status"] == status, outcome["title"]
    assert words in outcome["title"]
    assert outcome["blocking"] is (status in ("PASS", "FAIL"))
    if outcome["evidence"]["table_entry"]:
        assert outcome["evidence"]["source"].startswith("https://")


@pytest.mark.req("PRE-05")
def test_python_too_old_for_ansible_core_fails():
    outcome = check_os_support(
        "srv-lin01",
        os_evidence("debian", "12", "3.7.3"),
        platform="linux",
        lang="en",
        table=TABLES["os"],
        today=TODAY,
    )
    assert outcome["status"] == "FAIL"
    assert "Python 3.7.3 < 3.8" in outcome["title"]


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize(
    ("fixture", "parser", "pending", "security"),
    [
        (
            "apt_simulate_debian12.txt",
            "apt",
            7,
            ["libgcrypt20", "libssl3", "tzdata", "openssl", "linux-libc-dev"],
        ),
        ("apt_simulate_ubuntu2204.txt", "apt", 4, ["libssl3", "openssl"]),
    ],
)
def test_apt_simulation_counts_security_updates(fixture, parser, pending, security):
    found, secure = parse_apt_simulation((LINUX / fixture).read_text())
    assert (len(found), secure) == (pending, security)
    updates = {"manager": parser, "pending": pending, "security": len(security)}
    updates["security_packages"] = secure
    outcome = check_security_updates(
        "srv-lin01", evidence(updates=updates), platform="linux", lang="fr"
    )
    assert outcome["status"] == "WARN"
    assert outcome["blocking"] is False
    assert (
        outcome["title"] == f"{len(security)} mise(s) à jour de sécurité en attente sur srv-lin01"
    )
    assert "libssl3" in outcome["hint"]


@pytest.mark.req("PRE-05")
def test_dnf_outputs_count_distinct_security_packages():
    pending = parse_dnf_check_update((LINUX / "dnf_check_update_rhel9.txt").read_text())
    security = parse_dnf_updateinfo((LINUX / "dnf_updateinfo_security_rhel9.txt").read_text())
    assert pending == ["kernel.x86_64", "openssl.x86_64", "openssl-libs.x86_64", "tzdata.noarch"]
    assert len(security) == 4
    assert "openssl-libs-1:3.0.7-27.el9_4.1.x86_64" in security


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize(
    ("updates", "status", "words"),
    [
        ({"manager": "apt", "security": 0, "lists_age_days": 0.5}, "PASS", "No pending"),
        ({"manager": "apt", "security": 0, "lists_age_days": 30.2}, "WARN", "30 days old"),
        ({"manager": "apt", "security": 0, "lists_age_days": None}, "WARN", "no package lists"),
        (
            {"manager": "apt", "security": 0, "lists_age_days": 30.2, "refreshed": True},
            "PASS",
            "No pending",
        ),
        (
            {"manager": None, "security": None, "error": "no supported package manager"},
            "WARN",
            "could not be counted",
        ),
        (
            {"manager": "dnf", "security": None, "error": "updateinfo: Cache-only enabled"},
            "WARN",
            "could not be counted",
        ),
    ],
)
def test_security_update_edge_cases(updates, status, words):
    outcome = check_security_updates(
        "srv-lin01", evidence(updates=updates), platform="linux", lang="en"
    )
    assert outcome["status"] == status
    assert words in outcome["title"]
    if updates.get("error"):
        assert updates["error"] in outcome["hint"]


# ---------------------------------------------------------------- PRE-06


@pytest.mark.req("PRE-06")
@pytest.mark.parametrize(
    ("tools", "wanted", "status", "words"),
    [
        ({"openssh": {"installed": True, "running": True}}, ["openssh"], "PASS", "OpenSSH"),
        (
            {"openssh": {"installed": True, "running": False}},
            ["openssh"],
            "FAIL",
            "Installé mais inactif sur srv-lin01 : OpenSSH",
        ),
        (
            {"openssh": {"installed": False, "running": False}},
            ["openssh", "anydesk"],
            "FAIL",
            "(OpenSSH, AnyDesk)",
        ),
        ({}, ["other"], "DECLARED", "« other »"),
        (
            {"openssh": {"installed": False}, "rustdesk": {"installed": True, "running": True}},
            ["openssh", "rustdesk"],
            "PASS",
            "RustDesk",
        ),
    ],
)
def test_remote_assistance(tools, wanted, status, words):
    base = evidence(remote_assistance={"systemd": True, "tools": tools})
    outcome = check_remote_assistance(
        "srv-lin01",
        base,
        platform="linux",
        lang="fr",
        contract=contract(remote_assistance={"tools": wanted}),
    )
    assert outcome["status"] == status
    assert words in outcome["title"]
    if "inactif" in words:  # the fix names the unit
        assert "systemctl enable --now ssh" in outcome["hint"]


@pytest.mark.req("PRE-06")
def test_contract_without_a_tool_fails():
    edited = contract()
    del edited["remote_assistance"]
    outcome = check_remote_assistance(
        "srv-lin01", evidence(), platform="linux", lang="en", contract=edited
    )
    assert outcome["status"] == "FAIL"
    assert "remote_assistance.tools" in outcome["hint"]


# ---------------------------------------------------------------- PRE-08


@pytest.mark.req("PRE-08")
def test_uid_zero_after_become_passes():
    outcome = check_admin_access("srv-lin01", evidence(), platform="linux", lang="en")
    assert outcome["status"] == "PASS"
    assert (
        outcome["title"]
        == "Privilege escalation works on srv-lin01 (uid 0, connected as preventcare)"
    )


@pytest.mark.req("PRE-08")
def test_refused_become_fails_with_the_reason_and_the_sudoers_fix():
    unprivileged = evidence(
        privilege={
            "uid": 1001,
            "euid": 1001,
            "user": "preventcare",
            "sudo_user": None,
            "sudo": {"rc": 1, "message": "sudo: a password is required"},
        }
    )
    outcome = check_admin_access(
        "srv-lin01", unprivileged, platform="linux", lang="en", become_error="Missing sudo password"
    )
    assert outcome["status"] == "FAIL"
    assert outcome["blocking"] is True
    assert "Missing sudo password" in outcome["title"]
    assert "preventcare ALL=(ALL) NOPASSWD: ALL" in outcome["hint"]
    assert outcome["evidence"]["become_error"] == "Missing sudo password"


@pytest.mark.req("PRE-08")
def test_non_root_without_become_error_reports_sudo():
    unprivileged = evidence(
        privilege={
            "uid": 1001,
            "euid": 1001,
            "user": "preventcare",
            "sudo": {"rc": 1, "message": "sudo: a password is required"},
        }
    )
    outcome = check_admin_access("srv-lin01", unprivileged, platform="linux", lang="fr")
    assert "euid 1001; sudo -n: sudo: a password is required" in outcome["title"]


# ---------------------------------------------------------------- PRE-01


SMTP_PASS = {"changed": False, "status": "PASS", "failure_class": None, "step": None, "hint": "ok"}
SMTP_FAIL = {
    "changed": False,
    "status": "FAIL",
    "failure_class": "relay_denied",
    "step": "rcpt",
    "reply": "550 5.7.1 Relaying denied",
    "hint": "Sur le boîtier, autorisez l'adresse IP de ce serveur",
    "transcript": [],
}


@pytest.mark.req("PRE-01")
@pytest.mark.parametrize(
    ("outcome", "status", "title", "hint"),
    [
        (SMTP_PASS, "PASS", "relaie le courrier de srv-lin01", ""),
        (SMTP_FAIL, "FAIL", "relay_denied à l'étape rcpt", "autorisez l'adresse IP"),
        (
            {
                "failed": True,
                "msg": "preventcare_smtp_dialogue: invalid arguments: port 70000 is out of range",
            },
            "FAIL",
            "n'a pas pu s'exécuter",
            "port 70000 is out of range",
        ),
        (
            {"unreachable": True, "msg": "ssh: connect to host 10.10.2.20 port 22"},
            "UNREACHABLE",
            "injoignable",
            "port 22",
        ),
    ],
)
def test_smtp_module_result_becomes_a_result(outcome, status, title, hint):
    verdict = check_smtp("srv-lin01", outcome, lang="fr", platform="linux", contract=CONTRACT)
    assert (verdict["requirement"], verdict["check"], verdict["status"]) == (
        "PRE-01",
        "smtp_relay",
        status,
    )
    assert verdict["blocking"] is True
    assert title in verdict["title"]
    assert hint in verdict["hint"]
    assert (
        verdict["evidence"].get("relay", "relay.martin.example:587") == "relay.martin.example:587"
    )


# ---------------------------------------------------------------- whole host


@pytest.mark.req("PRE-02")
@pytest.mark.req("PRE-03")
@pytest.mark.req("PRE-05")
@pytest.mark.req("PRE-06")
@pytest.mark.req("PRE-08")
def test_unreachable_host_gets_one_result_per_requirement():
    bundle = {
        "host": "srv-down",
        "platform": "linux",
        "evidence": {"unreachable": True, "msg": "Failed to connect to the host via ssh"},
    }
    results = evaluate_host(bundle, CONTRACT, TABLES, TODAY)
    assert [(r["requirement"], r["check"], r["status"]) for r in results] == [
        (req, check, "UNREACHABLE") for req, check in HOST_CHECKS
    ]
    assert all("Failed to connect" in r["hint"] for r in results)


@pytest.mark.req("PRE-05")
def test_failed_gathering_is_reported_for_each_check():
    bundle = {
        "host": "srv-old",
        "platform": "linux",
        "evidence": {"failed": True, "msg": "SyntaxError: invalid syntax (python 3.5)"},
        "smtp": SMTP_PASS,
    }
    results = evaluate_host(bundle, CONTRACT, TABLES, TODAY)
    assert results[0]["status"] == "PASS"  # the SMTP dialogue ran on its own
    assert {r["status"] for r in results[1:]} == {"FAIL"}
    assert "Python 3.8" in results[1]["hint"]


@pytest.mark.req("PRE-02")
@pytest.mark.req("PRE-03")
@pytest.mark.req("PRE-05")
@pytest.mark.req("PRE-06")
@pytest.mark.req("PRE-08")
def test_whole_linux_host():
    bundle = {
        "host": "srv-lin01",
        "platform": "linux",
        "roles": ["accounting"],
        "evidence": {"changed": False, "evidence": evidence()},
        "smtp": SMTP_FAIL,
    }
    results = evaluate_host(bundle, CONTRACT, TABLES, TODAY)
    statuses = {(r["requirement"], r["check"]): r["status"] for r in results}
    assert statuses == {
        ("PRE-01", "smtp_relay"): "FAIL",
        ("PRE-02", "static_addressing"): "PASS",
        ("PRE-03", "hardware"): "PASS",
        ("PRE-05", "os_support"): "PASS",
        ("PRE-05", "security_updates"): "PASS",
        ("PRE-06", "remote_assistance"): "PASS",
        ("PRE-08", "admin_access"): "PASS",
    }
    json.dumps(results)  # plain data, ready for the report
