"""library/preventcare_evidence.py: mocked commands and fake file trees, then a real run here."""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

import preventcare_evidence as module_under_test
import pytest
from ansible.module_utils.preventcare_prereq_remote import linux_probes, remote_tools_catalogue
from preventcare_evidence import (
    Gatherer,
    mini_yaml,
    netplan_interfaces,
    parse_ip_json,
    parse_ip_oneline,
    parse_ss,
    parse_systemctl_show,
    split_terse,
)

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "tests" / "fixtures" / "linux"
NOW = datetime.datetime(2026, 11, 26, 8, 0, tzinfo=datetime.UTC).timestamp()


class FakeModule:
    """AnsibleModule stand-in: installed binaries and canned (rc, stdout, stderr) per command."""

    def __init__(self, binaries=(), outputs=None):
        self.binaries = set(binaries)
        self.outputs = outputs or {}
        self.calls = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return f"/usr/bin/{name}" if name in self.binaries else None

    def run_command(self, args, environ_update=None, **kwargs):
        assert environ_update and environ_update["LANG"] == "C"
        command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(args))
        self.calls.append(command)
        for prefix, outcome in self.outputs.items():
            if command.startswith(prefix):
                return outcome(command) if callable(outcome) else outcome
        return 127, "", f"{command}: not mocked"


def fixture(name):
    return (LINUX / name).read_text(encoding="utf-8")


def gatherer(binaries=(), outputs=None, root=None):
    fake = FakeModule(binaries, outputs)
    return Gatherer(fake, root=str(root or LINUX / "roots" / "debian12"), now=NOW), fake


# ---------------------------------------------------------------- operating system


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize(
    ("root", "os_id", "version", "like"),
    [
        ("debian12", "debian", "12", []),
        ("ubuntu2204", "ubuntu", "22.04", ["debian"]),
        ("rhel9", "rhel", "9.4", ["fedora"]),
    ],
)
def test_os_release_is_read(root, os_id, version, like):
    reader, _ = gatherer(root=LINUX / "roots" / root)
    info = reader.os_info()
    assert (info["id"], info["version_id"], info["id_like"]) == (os_id, version, like)
    assert info["python"].startswith("3.")


# ---------------------------------------------------------------- network


@pytest.mark.req("PRE-02")
def test_ip_json_keeps_the_dynamic_flag_and_the_lifetime():
    links, addresses = parse_ip_json(fixture("ip_addr_static_and_lease.json"))
    assert links == {"1": "lo", "74": "eth0", "76": "eth1"}
    by_address = {a["address"]: a for a in addresses}
    assert by_address["10.10.2.20"]["dynamic"] is False
    assert by_address["10.10.2.20"]["valid_lifetime"] is None  # forever
    assert by_address["192.168.1.57"]["dynamic"] is True
    assert by_address["192.168.1.57"]["valid_lifetime"] == 3600


@pytest.mark.req("PRE-02")
def test_old_iproute2_without_json_gives_the_same_addresses():
    from_json = parse_ip_json(fixture("ip_addr_static_and_lease.json"))[1]
    from_text = parse_ip_oneline(fixture("ip_addr_oneline_static_and_lease.txt"))[1]
    keys = ("interface", "family", "address", "prefixlen", "scope", "dynamic", "valid_lifetime")
    assert [tuple(a[k] for k in keys) for a in from_text] == [
        tuple(a[k] for k in keys) for a in from_json
    ]


@pytest.mark.req("PRE-02")
def test_network_falls_back_to_oneline_output():
    reader, fake = gatherer(
        {"ip"},
        {
            "ip -j addr show": (255, "", 'Option "-j" is unknown, try "ip -help".'),
            "ip -o addr show": (0, fixture("ip_addr_oneline_static_and_lease.txt"), ""),
        },
    )
    network = reader.network()
    assert [a["address"] for a in network["addresses"] if a["family"] == "inet"] == [
        "127.0.0.1",
        "10.10.2.20",
        "192.168.1.57",
    ]
    assert network["errors"] == []
    assert fake.calls[:2] == ["ip -j addr show", "ip -o addr show"]


@pytest.mark.req("PRE-02")
def test_missing_ip_command_is_reported_not_raised():
    reader, _ = gatherer()
    network = reader.network()
    assert network["addresses"] == []
    assert network["errors"][0]["source"] == "ip"


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    ("root", "expected"),
    [
        (
            "networkd_dhcp",
            {
                "interface": "eth1",
                "manager": "systemd-networkd",
                "method": "dhcp",
                "file": "/etc/systemd/network/20-wired.network",
                "address": "192.168.1.57",
            },
        ),
        (
            "netplan_dhcp",
            {
                "interface": "eth1",
                "manager": "netplan",
                "method": "dhcp",
                "file": "/etc/netplan/50-cloud-init.yaml",
            },
        ),
        (
            "netplan_static",
            {
                "interface": "eth0",
                "manager": "netplan",
                "method": "static",
                "file": "/etc/netplan/01-netcfg.yaml",
            },
        ),
        (
            "ifupdown_dhcp",
            {
                "interface": "eth1",
                "manager": "ifupdown",
                "method": "dhcp",
                "file": "/etc/network/interfaces.d/eth1",
            },
        ),
        (
            "ifupdown_static",
            {
                "interface": "eth0",
                "manager": "ifupdown",
                "method": "static",
                "file": "/etc/network/interfaces",
            },
        ),
        (
            "dhclient",
            {
                "interface": "eth1",
                "manager": "dhclient",
                "method": "dhcp",
                "address": "192.168.1.57",
                "expire": "2099-12-30T11:00:00Z",
                "expired": False,
                "file": "/var/lib/dhcp/dhclient.eth1.leases",
            },
        ),
    ],
)
def test_configuration_sources(root, expected):
    reader, _ = gatherer(
        {"ip"},
        {"ip -j addr show": (0, fixture("ip_addr_static_and_lease.json"), "")},
        root=LINUX / "roots" / root,
    )
    assert reader.network()["sources"] == [expected]


@pytest.mark.req("PRE-02")
def test_networkmanager_connections_and_methods():
    def method(command):
        uuid = command.rsplit(" ", 1)[1]
        name = "nmcli_method_auto.txt" if uuid.startswith("8f0d") else "nmcli_method_manual.txt"
        return 0, fixture(name), ""

    reader, _ = gatherer(
        {"nmcli"},
        {
            "nmcli -t -f NAME,UUID,TYPE,DEVICE connection show --active": (
                0,
                fixture("nmcli_active.txt"),
                "",
            ),
            "nmcli -t -f ipv4.method connection show": method,
        },
    )
    found = reader.networkmanager({}, [])
    assert found == [
        {
            "interface": "eth0",
            "manager": "networkmanager",
            "method": "dhcp",
            "connection": "Wired connection 1",
        },
        {
            "interface": "eth0.20",
            "manager": "networkmanager",
            "method": "static",
            "connection": "Bureau: VLAN 20",
        },
    ]


@pytest.mark.req("PRE-02")
def test_networkmanager_not_running_is_an_error_line():
    reader, _ = gatherer(
        {"nmcli"},
        {"nmcli -t": (8, "", "Error: NetworkManager is not running.")},
    )
    errors = []
    assert reader.networkmanager({}, errors) == []
    assert errors == [
        {"source": "networkmanager", "error": "Error: NetworkManager is not running."}
    ]


def test_terse_fields_unescape_colons():
    assert split_terse(r"Bureau\: VLAN 20:uuid:vlan:eth0.20") == [
        "Bureau: VLAN 20",
        "uuid",
        "vlan",
        "eth0.20",
    ]


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    "name",
    ["netplan_dhcp/etc/netplan/50-cloud-init.yaml", "netplan_static/etc/netplan/01-netcfg.yaml"],
)
def test_minimal_yaml_reads_netplan_like_pyyaml(name, monkeypatch):
    text = (LINUX / "roots" / name).read_text()
    with_pyyaml = netplan_interfaces(text)
    monkeypatch.setitem(sys.modules, "yaml", None)  # a server without PyYAML: import fails
    without = netplan_interfaces(text)
    assert set(without) == set(with_pyyaml)
    for iface, settings in with_pyyaml.items():
        # mini_yaml keeps scalars as text: true and "true" mean the same to the gatherer.
        assert str(without[iface]["dhcp4"]).lower() == str(settings["dhcp4"]).lower()
        assert without[iface]["addresses"] == settings["addresses"]
    assert mini_yaml(text)["network"]["version"] == "2"


# ---------------------------------------------------------------- hardware


@pytest.mark.req("PRE-03")
def test_virtualisation_from_systemd_detect_virt():
    reader, _ = gatherer(
        {"systemd-detect-virt"},
        {
            "systemd-detect-virt --vm": (0, "kvm\n", ""),
            "systemd-detect-virt --container": (1, "none\n", ""),
        },
    )
    assert reader.virtualization("") == {
        "vm": "kvm",
        "container": None,
        "source": "systemd-detect-virt",
    }


@pytest.mark.req("PRE-03")
def test_virtualisation_without_systemd_uses_the_cpu_flag():
    reader, _ = gatherer()
    cpuinfo = "processor\t: 0\nflags\t\t: fpu vme de pse hypervisor lahf_lm\n"
    assert reader.virtualization(cpuinfo)["vm"] == "unknown hypervisor"


@pytest.mark.req("PRE-03")
def test_hardware_reads_proc_and_dmi(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_text("MemTotal:        8029064 kB\nMemFree: 1 kB\n")
    (tmp_path / "proc" / "cpuinfo").write_text("model name\t: Intel(R) Xeon(R) E-2314 CPU\n")
    (tmp_path / "proc" / "self").mkdir()
    (tmp_path / "proc" / "self" / "mounts").write_text(
        "/dev/sda2 / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/sda3 /srv\\040data xfs rw 0 0\n"
    )
    (tmp_path / "srv data").mkdir()
    dmi = tmp_path / "sys" / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("Dell Inc.\n")
    (dmi / "product_name").write_text("PowerEdge T150\n")
    reader, _ = gatherer(root=tmp_path)
    info = reader.hardware()
    assert info["memory_bytes"] == 8029064 * 1024
    assert info["cpu_model"] == "Intel(R) Xeon(R) E-2314 CPU"
    assert info["cpu_cores"] == os.cpu_count()
    assert [m["mount"] for m in info["mounts"]] == ["/", "/srv data"]
    assert all(m["size_bytes"] > 0 for m in info["mounts"])
    assert (info["dmi"]["sys_vendor"], info["dmi"]["product_name"]) == (
        "Dell Inc.",
        "PowerEdge T150",
    )
    assert info["dmi"]["board_vendor"] is None


# ---------------------------------------------------------------- updates


@pytest.mark.req("PRE-05")
def test_apt_counts_without_refreshing_by_default():
    reader, fake = gatherer(
        {"apt-get"},
        {
            "apt-get -s -o Debug::NoLocking=1 dist-upgrade": (
                0,
                fixture("apt_simulate_debian12.txt"),
                "",
            )
        },
    )
    info = reader.updates(refresh=False, check_mode=False)
    assert (info["manager"], info["pending"], info["security"], info["refreshed"]) == (
        "apt",
        7,
        5,
        False,
    )
    assert not any(call.startswith("apt-get -q update") for call in fake.calls)


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize(("check_mode", "refreshed"), [(False, True), (True, False)])
def test_apt_refresh_only_outside_check_mode(check_mode, refreshed):
    reader, fake = gatherer(
        {"apt-get"},
        {
            "apt-get -q update": (0, "Reading package lists...", ""),
            "apt-get -s": (0, fixture("apt_simulate_ubuntu2204.txt"), ""),
        },
    )
    info = reader.updates(refresh=True, check_mode=check_mode)
    assert info["refreshed"] is refreshed
    assert ("apt-get -q update" in fake.calls) is refreshed
    assert info["security_packages"] == ["libssl3", "openssl"]


@pytest.mark.req("PRE-05")
def test_dnf_counts_from_the_cache():
    reader, fake = gatherer(
        {"dnf"},
        {
            "dnf -q -C check-update": (100, fixture("dnf_check_update_rhel9.txt"), ""),
            "dnf -q -C updateinfo list --security": (
                0,
                fixture("dnf_updateinfo_security_rhel9.txt"),
                "",
            ),
        },
    )
    info = reader.updates(refresh=False, check_mode=False)
    assert (info["manager"], info["pending"], info["security"]) == ("dnf", 4, 4)
    assert "dnf -q makecache" not in fake.calls


@pytest.mark.req("PRE-05")
def test_dnf_without_cache_reports_why():
    reader, _ = gatherer(
        {"dnf"},
        {"dnf -q -C check-update": (1, "", "Error: Cache-only enabled but no cache for 'baseos'")},
    )
    info = reader.updates(refresh=False, check_mode=False)
    assert info["security"] is None
    assert "Cache-only enabled" in info["error"]


# ---------------------------------------------------------------- remote assistance


@pytest.mark.req("PRE-06")
def test_units_processes_and_ports(tmp_path):
    (tmp_path / "run" / "systemd" / "system").mkdir(parents=True)
    reader, _ = gatherer(
        {"systemctl", "ss", "sshd", "teamviewer"},
        {
            "systemctl show": (0, fixture("systemctl_show_units.txt"), ""),
            "ss -ltnp": (0, fixture("ss_ltnp.txt"), ""),
        },
        root=tmp_path,
    )
    info = reader.remote_assistance(linux_probes(list(remote_tools_catalogue())))
    tools = info["tools"]
    assert info["systemd"] is True
    assert (tools["openssh"]["installed"], tools["openssh"]["running"]) == (True, True)
    assert tools["openssh"]["listening"] == [22]
    assert (tools["teamviewer"]["installed"], tools["teamviewer"]["running"]) == (True, False)
    assert tools["teamviewer"]["units"]["teamviewerd.service"]["ActiveState"] == "failed"
    assert (tools["rdp"]["installed"], tools["rdp"]["running"]) == (False, False)


def test_systemctl_show_blocks_follow_the_order_asked():
    units = ["ssh.service", "sshd.service", "xrdp.service"]
    parsed = parse_systemctl_show(fixture("systemctl_show_units.txt"), units)
    assert parsed["xrdp.service"] == {"LoadState": "not-found", "ActiveState": "inactive"}


def test_ss_output_names_the_listening_process():
    assert ("sshd", 22) in parse_ss(fixture("ss_ltnp.txt"))
    assert ("prometheus-node", 9100) in parse_ss(fixture("ss_ltnp.txt"))


# ---------------------------------------------------------------- privilege


@pytest.mark.req("PRE-08")
def test_root_through_sudo_tests_the_connecting_users_own_sudo(monkeypatch):
    monkeypatch.setattr(module_under_test.os, "geteuid", lambda: 0)
    monkeypatch.setenv("SUDO_USER", "preventcare")
    reader, fake = gatherer(
        {"sudo"}, {"sudo -n -u preventcare": (1, "", "sudo: a password is required\n")}
    )
    info = reader.privilege()
    assert fake.calls == ["sudo -n -u preventcare /usr/bin/sudo -n true"]
    assert (info["euid"], info["sudo_user"]) == (0, "preventcare")
    assert info["sudo"] == {
        "path": "/usr/bin/sudo",
        "tested_user": "preventcare",
        "rc": 1,
        "message": "sudo: a password is required",
    }


@pytest.mark.req("PRE-08")
def test_unprivileged_run_tests_sudo_directly(monkeypatch):
    monkeypatch.setattr(module_under_test.os, "geteuid", lambda: 4242)
    monkeypatch.delenv("SUDO_USER", raising=False)
    reader, fake = gatherer({"sudo"}, {"sudo -n true": (0, "", "")})
    info = reader.privilege()
    assert fake.calls == ["sudo -n true"]
    assert info["euid"] == 4242
    assert (info["sudo"]["tested_user"], info["sudo"]["rc"]) == ("4242", 0)


def test_a_broken_section_does_not_hide_the_others(monkeypatch):
    reader, _ = gatherer()

    def broken():
        raise ValueError("unreadable os-release")

    monkeypatch.setattr(reader, "os_info", broken)
    evidence = reader.gather(
        linux_probes(["openssh"]), package_updates=False, refresh=False, check_mode=True
    )
    assert evidence["os"] is None
    assert evidence["errors"] == [{"section": "os", "error": "ValueError: unreadable os-release"}]
    assert evidence["privilege"]["euid"] == os.geteuid()
