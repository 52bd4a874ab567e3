#!/usr/bin/python
"""Ansible module: gather, in one execution, the evidence for the PRE-02..PRE-08 checks.

Why about 1,000 lines in one file: one remote execution per server is the design (DESIGN.md,
"one round trip"), so this module reads every source itself; it is a gatherer class whose
methods each read one source, and pure parsers of each tool's output below it, each tested on
captured outputs (tests/unit/test_evidence_module.py).
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preventcare_evidence
short_description: Gather a Linux server's prerequisite evidence in one pass (PRE-02 to PRE-08)
description:
  - Reads, without changing anything, what the controller needs to judge the PreventCare
    prerequisites of a Linux server - operating system, IP addresses with their kernel flags
    and the configuration that explains each one, hardware, pending updates, remote-assistance
    tools and privilege.
  - Judges nothing; C(module_utils/preventcare_prereq*.py) do that on the controller, for this
    module's output and for C(scripts/windows/prereq_evidence.ps1)'s alike.
  - Every source is optional - a missing command or file leaves its field empty and, when it
    was expected to work, a line in RV(evidence.errors); the module fails only on bad arguments.
  - Meant to run with C(become=true), so that RV(evidence.privilege.euid=0) proves privilege
    escalation works (PRE-08).
version_added: "0.1.0"
author: PreventCare project
options:
  tools:
    description:
      - Remote-assistance tools to look for, each with how it is found - its systemd
        C(units), its C(processes) (names in C(/proc/*/comm)) and its C(binary) on PATH.
      - The playbook takes them from C(data/remote_assistance.yml) for the contract's
        C(remote_assistance.tools) (filter C(preventcare_remote_tool_probes)).
    type: dict
    default: {}
  package_updates:
    description: Count pending updates (apt, dnf or yum). Disable to save time.
    type: bool
    default: true
  smtp:
    description:
      - When given, the PRE-01 SMTP dialogue with the relay is held in the same execution,
        from this server, and its verdict returned as RV(smtp); the options are those of
        M(preventcare_smtp_dialogue) (host, port, tls, validate_certs, ca_path, ca_data,
        username, password, sender, recipient, send_test_message, helo_name, timeout,
        language).
      - A relay problem or a bad option never fails the module; RV(smtp) says what happened.
    type: dict
  compliance:
    description:
      - When given, also read the compliance facts of the visit checklist (VIS-03) in the same
        execution and return them as RV(compliance), in the shape of
        C(docs/compliance-facts.md). Keys - C(units) (systemd units whose state to read),
        C(packages) (whose installed version to read), C(textfile_dir) (the folder of
        node_exporter's textfile collector), C(since) (ISO-8601 start of the period, for the
        reboots), and on the monitor host C(site) (C(url) of the site's Prometheus, with
        C(username), C(password), C(ca_file), C(timeout)): its alert history, disk trends and
        heartbeat over the period are returned raw as RV(compliance.site_history).
    type: dict
  refresh_package_lists:
    description:
      - Refresh the package lists first (C(apt-get update), C(dnf makecache)). The only change
        this module can make; never done in check mode.
      - Without it, pending updates are counted from the lists already on the server, whose age
        is returned in RV(evidence.updates.lists_age_days).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Everything is read the same way; the package lists are never refreshed.
  diff_mode:
    support: none
notes:
  - Commands run with C(LANG=C) so that their output does not depend on the server's locale.
  - Sources read - C(/etc/os-release); C(ip -j addr); NetworkManager (C(nmcli -t));
    systemd-networkd (C(/run/systemd/netif/links), C(/run/systemd/netif/leases)); ifupdown
    (C(/etc/network/interfaces) and what it sources); netplan (C(/etc/netplan/*.yaml));
    dhclient lease files; C(/proc/cpuinfo), C(/proc/meminfo), C(/proc/self/mounts) and
    C(statvfs); C(/sys/class/dmi/id); C(systemd-detect-virt); C(apt-get -s dist-upgrade) or
    C(dnf updateinfo list --security); C(systemctl show), C(/proc/*/comm), C(ss -ltnp);
    C(sudo -n).
"""

EXAMPLES = r"""
- name: Gather the prerequisite evidence as root
  preventcare_evidence:
    tools: "{{ preventcare_contract.remote_assistance.tools | preventcare_remote_tool_probes }}"
  become: true
  register: __prerequisites_evidence

- name: Count pending updates from freshly refreshed package lists
  preventcare_evidence:
    refresh_package_lists: true
  become: true
"""

RETURN = r"""
changed:
  description: True only when the package lists were refreshed or a test message was sent.
  returned: always
  type: bool
smtp:
  description:
    - The SMTP dialogue's verdict (status, failure_class, step, reply, hint, transcript, ...),
      as M(preventcare_smtp_dialogue) returns it; the password is never in it.
    - C({failed, msg}) when the dialogue's options are wrong.
  returned: when O(smtp) is given
  type: dict
evidence:
  description: Everything observed, as plain data.
  returned: always
  type: dict
  contains:
    platform:
      description: Always C(linux).
      type: str
    collected_at:
      description: UTC time of the collection, ISO 8601.
      type: str
    os:
      description: os-release fields (id, id_like, version_id, version_codename, pretty_name),
        kernel, architecture and the Python version running the module.
      type: dict
    network:
      description:
        - C(addresses) - one entry per address of C(ip -j addr) - interface, family (inet,
          inet6), address, prefixlen, scope, dynamic (the kernel's flag, set for DHCP leases),
          valid_lifetime and preferred_lifetime in seconds (null means forever), flags.
        - C(sources) - what configures each interface - interface, manager (networkmanager,
          systemd-networkd, ifupdown, netplan, dhclient), method (dhcp, static, manual,
          link-local, disabled, unknown) and file or connection; dhclient leases also give
          address, expire and expired.
        - C(errors) - sources that exist but could not be read.
      type: dict
    hardware:
      description: cpu_cores (logical), cpu_model, memory_bytes, mounts (mount, device, fstype,
        size_bytes, free_bytes - the space available to users), system_mount, dmi (sys_vendor,
        product_name, product_version, board_vendor, board_name, chassis_vendor, bios_vendor),
        virtualization (vm, container, source).
      type: dict
    updates:
      description:
        - manager (apt, dnf, yum or null), refreshed, lists_age_days, pending (all upgradable
          packages), security (those from a security suite or advisory), security_packages
          (names, at most 100), error.
        - Package lists are not refreshed unless O(refresh_package_lists=true).
      type: dict
    remote_assistance:
      description: tools - per tool (openssh, rdp, teamviewer, anydesk, rustdesk) installed,
        running, units (systemd unit -> LoadState/ActiveState), processes, binary and
        listening TCP ports; systemd (whether systemd is the init system).
      type: dict
    privilege:
      description: uid, euid, user (name of euid), sudo_user (the connecting user when the
        module runs through sudo), sudo (path, tested_user, rc, message of C(sudo -n true) for
        the connecting user). Privilege escalation worked if and only if euid is 0.
      type: dict
    errors:
      description: Sections that raised unexpectedly, with the error text.
      type: list
      elements: dict
  sample:
    platform: linux
    os: {id: debian, version_id: "12", pretty_name: Debian GNU/Linux 12 (bookworm)}
    privilege: {uid: 0, euid: 0, user: root, sudo_user: preventcare}
compliance:
  description: The compliance facts (docs/compliance-facts.md), when C(compliance) is given.
  returned: when compliance is given
  type: dict
"""

# Ansible's layout: the documentation blocks come before the imports.
import glob  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import pwd  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

# Targets may run Python 3.8: no datetime.UTC, no zip(strict=).
UTC = timezone.utc  # noqa: UP017

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.preventcare_linux_compliance import (  # noqa: E402
    compliance_facts,
    systemctl_blocks,
)
from ansible.module_utils.preventcare_smtp import SMTP_OPTIONS, relay_check  # noqa: E402

C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}
FOREVER = 0xFFFFFFFF
SBIN = ["/usr/sbin", "/sbin", "/usr/local/sbin"]
# Filesystems that hold data (pseudo filesystems such as proc, tmpfs or overlay do not).
REAL_FS = {
    "ext2",
    "ext3",
    "ext4",
    "xfs",
    "btrfs",
    "zfs",
    "jfs",
    "reiserfs",
    "f2fs",
    "vfat",
    "exfat",
    "ntfs",
    "ntfs3",
    "bcachefs",
}
DMI_FIELDS = (
    "sys_vendor",
    "product_name",
    "product_version",
    "board_vendor",
    "board_name",
    "chassis_vendor",
    "bios_vendor",
)
NM_METHODS = {"auto": "dhcp", "manual": "static"}
_TRUE = ("yes", "true", "on", "1")


class Gatherer:
    """Reads one server. `root` prefixes every file path, so tests can give a fake tree."""

    def __init__(self, module, root="/", now=None):
        self.module = module
        self.root = root
        self.now = now if now is not None else time.time()
        self.errors = []

    # -------------------------------------------------------------- plumbing
    def path(self, name):
        return os.path.join(self.root, name.lstrip("/"))

    def read(self, name):
        """Text of a file, or None when absent or unreadable."""
        try:
            with open(self.path(name), encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return None

    def glob(self, pattern):
        return sorted(glob.glob(self.path(pattern)))

    def unroot(self, name):
        """A path as the server names it (without the test root)."""
        if self.root in ("", "/"):
            return name
        return "/" + os.path.relpath(name, self.root)

    def binary(self, name, sbin=False):
        return self.module.get_bin_path(name, required=False, opt_dirs=SBIN if sbin else [])

    def run(self, args):
        """(rc, stdout, stderr) in the C locale; never raises."""
        try:
            return self.module.run_command(args, environ_update=C_LOCALE)
        except Exception as exc:  # a command that cannot even start
            return 127, "", str(exc)

    def guarded(self, section, function, *args):
        try:
            return function(*args)
        except Exception as exc:  # one broken source must not hide the others
            self.errors.append({"section": section, "error": f"{type(exc).__name__}: {exc}"})
            return None

    # -------------------------------------------------------------- os
    def os_info(self):
        text = self.read("/etc/os-release") or self.read("/usr/lib/os-release") or ""
        fields = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not key.startswith("#"):
                fields[key.strip().lower()] = value.strip().strip("\"'")
        uname = os.uname()
        return {
            "id": fields.get("id"),
            "id_like": fields.get("id_like", "").split(),
            "version_id": fields.get("version_id"),
            "version_codename": fields.get("version_codename"),
            "pretty_name": fields.get("pretty_name"),
            "name": fields.get("name"),
            "kernel": uname.release,
            "architecture": uname.machine,
            "hostname": uname.nodename,
            "python": platform.python_version(),
        }

    # -------------------------------------------------------------- network
    def network(self):
        errors = []
        links, addresses = self.ip_addresses(errors)
        sources = []
        for name, collect in (
            ("networkmanager", self.networkmanager),
            ("systemd-networkd", self.networkd),
            ("ifupdown", self.ifupdown),
            ("netplan", self.netplan),
            ("dhclient", self.dhclient),
        ):
            try:
                sources += collect(links, errors)
            except Exception as exc:
                errors.append({"source": name, "error": f"{type(exc).__name__}: {exc}"})
        return {"addresses": addresses, "sources": sources, "errors": errors}

    def ip_addresses(self, errors):
        """({ifindex: name}, [address]) from `ip -j addr`, or `ip -o addr` on old iproute2."""
        ip = self.binary("ip", sbin=True)
        if not ip:
            errors.append({"source": "ip", "error": "the ip command (iproute2) is not installed"})
            return {}, []
        rc, out, err = self.run([ip, "-j", "addr", "show"])
        if rc == 0 and out.strip().startswith("["):
            return parse_ip_json(out)
        rc, out, err = self.run([ip, "-o", "addr", "show"])
        if rc != 0:
            errors.append({"source": "ip", "error": (err or out).strip()[:300]})
            return {}, []
        return parse_ip_oneline(out)

    def networkmanager(self, links, errors):
        nmcli = self.binary("nmcli")
        if not nmcli:
            return []
        rc, out, err = self.run(
            [nmcli, "-t", "-f", "NAME,UUID,TYPE,DEVICE", "connection", "show", "--active"]
        )
        if rc != 0:
            errors.append({"source": "networkmanager", "error": (err or out).strip()[:300]})
            return []
        sources = []
        for line in out.splitlines():
            fields = split_terse(line)
            if len(fields) < 4 or not fields[3] or fields[2] == "loopback":
                continue
            name, uuid, device = fields[0], fields[1], fields[3]
            rc, detail, err = self.run(
                [nmcli, "-t", "-f", "ipv4.method", "connection", "show", uuid]
            )
            method = "unknown"
            for item in detail.splitlines():
                key, _, value = item.partition(":")
                if key == "ipv4.method":
                    method = NM_METHODS.get(value.strip(), value.strip() or "unknown")
            sources.append(
                {
                    "interface": device,
                    "manager": "networkmanager",
                    "method": method,
                    "connection": name,
                }
            )
        return sources

    def networkd(self, links, errors):
        sources = []
        for link_file in self.glob("/run/systemd/netif/links/*"):
            index = os.path.basename(link_file)
            state = parse_env(self.read(self.unroot(link_file)) or "")
            network_file = state.get("NETWORK_FILE")
            if not network_file:
                continue
            name = links.get(index)
            config = parse_networkd(self.read(network_file) or "")
            lease = self.read(f"/run/systemd/netif/leases/{index}")
            if lease is not None or config["dhcp"]:
                method = "dhcp"
            elif config["addresses"]:
                method = "static"
            else:
                method = "unknown"
            source = {
                "interface": name or index,
                "manager": "systemd-networkd",
                "method": method,
                "file": network_file,
            }
            if lease is not None:
                source["address"] = parse_env(lease).get("ADDRESS")
            sources.append(source)
        return sources

    def ifupdown(self, links, errors):
        sources, seen = [], set()
        pending = ["/etc/network/interfaces"]
        while pending:
            name = pending.pop(0)
            if name in seen:
                continue
            seen.add(name)
            text = self.read(name)
            if text is None:
                continue
            for line in text.splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) >= 4 and words[0] == "iface" and words[2] == "inet":
                    method = {"dhcp": "dhcp", "static": "static", "manual": "manual"}.get(
                        words[3], words[3]
                    )
                    if method != "loopback":
                        sources.append(
                            {
                                "interface": words[1],
                                "manager": "ifupdown",
                                "method": method,
                                "file": name,
                            }
                        )
                elif len(words) >= 2 and words[0] in ("source", "source-directory"):
                    pattern = words[1]
                    if not pattern.startswith("/"):
                        pattern = "/etc/network/" + pattern
                    if words[0] == "source-directory":
                        pattern = pattern.rstrip("/") + "/*"
                    for match in self.glob(pattern):
                        if os.path.isfile(match):
                            pending.append(self.unroot(match))
        return sources

    def netplan(self, links, errors):
        sources = []
        for name in self.glob("/etc/netplan/*.yaml") + self.glob("/etc/netplan/*.yml"):
            shown = self.unroot(name)
            text = self.read(shown)
            if text is None:
                errors.append({"source": "netplan", "error": f"{shown} is not readable"})
                continue
            for iface, settings in netplan_interfaces(text).items():
                dhcp = str(settings.get("dhcp4", "")).lower() in _TRUE
                addresses = [a for a in settings.get("addresses", []) if "." in str(a)]
                method = "dhcp" if dhcp else ("static" if addresses else "unknown")
                sources.append(
                    {"interface": iface, "manager": "netplan", "method": method, "file": shown}
                )
        return sources

    def dhclient(self, links, errors):
        sources = []
        for pattern in (
            "/var/lib/dhcp/dhclient*.leases",
            "/var/lib/dhclient/*.lease*",
            "/var/lib/NetworkManager/dhclient-*.lease",
        ):
            for name in self.glob(pattern):
                shown = self.unroot(name)
                for lease in parse_dhclient_leases(self.read(shown) or ""):
                    expire = lease.get("expire")
                    expired = expire is not None and expire < self.now
                    sources.append(
                        {
                            "interface": lease.get("interface"),
                            "manager": "dhclient",
                            "method": "dhcp",
                            "address": lease.get("address"),
                            "expire": iso(expire),
                            "expired": expired,
                            "file": shown,
                        }
                    )
        # An expired lease no longer holds an address: keep it out of the judgement.
        return [s for s in sources if not s["expired"]]

    # -------------------------------------------------------------- hardware
    def hardware(self):
        cpuinfo = self.read("/proc/cpuinfo") or ""
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.splitlines()
                if line.lower().startswith(("model name", "hardware", "cpu model"))
            ),
            None,
        )
        memory = None
        for line in (self.read("/proc/meminfo") or "").splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
        dmi = {}
        for field in DMI_FIELDS:
            value = self.read(f"/sys/class/dmi/id/{field}")
            dmi[field] = value.strip() if value and value.strip() else None
        return {
            "cpu_cores": os.cpu_count(),
            "cpu_model": model,
            "memory_bytes": memory,
            "mounts": self.mounts(),
            "system_mount": "/",
            "dmi": dmi,
            "virtualization": self.virtualization(cpuinfo),
        }

    def mounts(self):
        found = {}
        for line in (self.read("/proc/self/mounts") or "").splitlines():
            parts = line.split()
            if len(parts) < 3:
                continue
            device, mount, fstype = (unescape_mount(p) for p in parts[:3])
            if mount != "/" and fstype not in REAL_FS:
                continue
            try:
                stats = os.statvfs(self.path(mount))
            except OSError:
                continue
            found[mount] = {
                "mount": mount,
                "device": device,
                "fstype": fstype,
                "size_bytes": stats.f_blocks * stats.f_frsize,
                "free_bytes": stats.f_bavail * stats.f_frsize,
            }
        return sorted(found.values(), key=lambda m: m["mount"])

    def virtualization(self, cpuinfo):
        detect = self.binary("systemd-detect-virt")
        result = {"vm": None, "container": None, "source": None}
        if detect:
            result["source"] = "systemd-detect-virt"
            for kind in ("vm", "container"):
                rc, out, _ = self.run([detect, f"--{kind}"])
                value = out.strip()
                if rc == 0 and value and value != "none":
                    result[kind] = value
            return result
        result["source"] = "cpuinfo"
        if re.search(r"^flags\s*:.*\bhypervisor\b", cpuinfo, re.MULTILINE):
            result["vm"] = "unknown hypervisor"
        if os.path.exists(self.path("/run/.containerenv")):
            result["container"] = "podman"
        elif os.path.exists(self.path("/.dockerenv")):
            result["container"] = "docker"
        return result

    # -------------------------------------------------------------- updates
    def updates(self, refresh, check_mode):
        info = {
            "manager": None,
            "refreshed": False,
            "lists_age_days": None,
            "pending": None,
            "security": None,
            "security_packages": [],
            "error": None,
        }
        apt_get = self.binary("apt-get")
        dnf = self.binary("dnf") or self.binary("yum")
        if apt_get:
            info["manager"] = "apt"
            if refresh and not check_mode:
                rc, out, err = self.run([apt_get, "-q", "update"])
                info["refreshed"] = True
                if rc != 0:
                    info["error"] = "apt-get update: " + (err or out).strip()[-300:]
            info["lists_age_days"] = self.apt_lists_age()
            # dist-upgrade, not upgrade: a kernel security fix pulls a new package that plain
            # `upgrade` keeps back.
            rc, out, err = self.run([apt_get, "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"])
            if rc != 0:
                info["error"] = "apt-get -s dist-upgrade: " + (err or out).strip()[-300:]
                return info
            pending, security = parse_apt_simulation(out)
        elif dnf:
            info["manager"] = os.path.basename(dnf)
            if refresh and not check_mode:
                rc, out, err = self.run([dnf, "-q", "makecache"])
                info["refreshed"] = True
                if rc != 0:
                    info["error"] = "makecache: " + (err or out).strip()[-300:]
            cache = [] if info["refreshed"] else ["-C"]
            rc, out, err = self.run([dnf, "-q", *cache, "check-update"])
            if rc not in (0, 100):
                info["error"] = "check-update: " + (err or out).strip()[-300:]
                return info
            pending = parse_dnf_check_update(out)
            rc, out, err = self.run([dnf, "-q", *cache, "updateinfo", "list", "--security"])
            if rc != 0:
                info["error"] = "updateinfo: " + (err or out).strip()[-300:]
                return info
            security = parse_dnf_updateinfo(out)
        else:
            info["error"] = "no supported package manager (apt-get, dnf, yum)"
            return info
        info["pending"] = len(pending)
        info["security"] = len(security)
        info["security_packages"] = security[:100]
        return info

    def apt_lists_age(self):
        newest = None
        for name in self.glob("/var/lib/apt/lists/*Release") + self.glob(
            "/var/lib/apt/lists/*_Packages*"
        ):
            try:
                mtime = os.path.getmtime(name)
            except OSError:
                continue
            newest = mtime if newest is None else max(newest, mtime)
        return None if newest is None else round((self.now - newest) / 86400, 1)

    # -------------------------------------------------------------- remote assistance
    def remote_assistance(self, tools):
        systemd = os.path.isdir(self.path("/run/systemd/system"))
        units = {}
        systemctl = self.binary("systemctl")
        wanted_units = [u for probe in tools.values() for u in probe.get("units") or ()]
        if systemd and systemctl and wanted_units:
            _, out, _ = self.run(
                [systemctl, "show", "-p", "Id,LoadState,ActiveState", "--", *wanted_units]
            )
            units = parse_systemctl_show(out, wanted_units)
        processes = self.process_names()
        ports = self.listening_ports()
        states = {}
        for tool, probe in tools.items():
            unit_names = probe.get("units") or ()
            process_names = probe.get("processes") or ()
            binary = probe.get("binary")
            tool_units = {u: units[u] for u in unit_names if u in units}
            found = sorted(p for p in process_names if p in processes)
            path = self.binary(binary, sbin=True) if binary else None
            installed = bool(path) or any(
                u.get("LoadState") == "loaded" for u in tool_units.values()
            )
            running = bool(found) or any(
                u.get("ActiveState") == "active" for u in tool_units.values()
            )
            states[tool] = {
                "installed": installed,
                "running": running,
                "units": tool_units,
                "processes": found,
                "binary": path,
                "listening": sorted({port for name, port in ports if name in process_names}),
            }
        return {"systemd": systemd, "tools": states}

    def process_names(self):
        names = set()
        for comm in self.glob("/proc/[0-9]*/comm"):
            try:
                with open(comm, encoding="utf-8", errors="replace") as handle:
                    names.add(handle.read().strip())
            except OSError:
                continue
        return names

    def listening_ports(self):
        ss = self.binary("ss", sbin=True)
        if not ss:
            return []
        rc, out, _ = self.run([ss, "-ltnp"])
        return parse_ss(out) if rc == 0 else []

    # -------------------------------------------------------------- privilege
    def privilege(self):
        euid = os.geteuid()
        try:
            user = pwd.getpwuid(euid).pw_name
        except KeyError:
            user = str(euid)
        sudo_user = os.environ.get("SUDO_USER")
        info = {
            "uid": os.getuid(),
            "euid": euid,
            "user": user,
            "sudo_user": sudo_user,
            "sudo": None,
        }
        sudo = self.binary("sudo")
        if not sudo:
            info["sudo"] = {
                "path": None,
                "tested_user": None,
                "rc": None,
                "message": "not installed",
            }
            return info
        if euid == 0 and sudo_user and sudo_user != "root":
            # As root: does the connecting user have non-interactive sudo of its own?
            args, tested = [sudo, "-n", "-u", sudo_user, sudo, "-n", "true"], sudo_user
        elif euid != 0:
            args, tested = [sudo, "-n", "true"], user
        else:
            info["sudo"] = {"path": sudo, "tested_user": None, "rc": None, "message": None}
            return info
        rc, out, err = self.run(args)
        message = (err or out).strip().splitlines()
        info["sudo"] = {
            "path": sudo,
            "tested_user": tested,
            "rc": rc,
            "message": message[0][:200] if message else None,
        }
        return info

    # -------------------------------------------------------------- all
    def gather(self, tools, package_updates, refresh, check_mode):
        evidence = {
            "platform": "linux",
            "collected_at": iso(self.now),
            "os": self.guarded("os", self.os_info),
            "network": self.guarded("network", self.network),
            "hardware": self.guarded("hardware", self.hardware),
            "updates": None,
            "remote_assistance": self.guarded("remote_assistance", self.remote_assistance, tools),
            "privilege": self.guarded("privilege", self.privilege),
        }
        if package_updates:
            evidence["updates"] = self.guarded("updates", self.updates, refresh, check_mode)
        evidence["errors"] = self.errors
        return evidence


# ---------------------------------------------------------------- parsers (pure)


def iso(timestamp):
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lifetime(value):
    if value in (None, "forever") or (isinstance(value, int) and value >= FOREVER):
        return None
    if isinstance(value, str):
        value = int(value.rstrip("sec"))
        return None if value >= FOREVER else value
    return value


def parse_ip_json(text):
    """`ip -j addr` -> ({ifindex: ifname}, [address])."""
    links, addresses = {}, []
    for link in json.loads(text):
        name = link.get("ifname")
        links[str(link.get("ifindex"))] = name
        for info in link.get("addr_info") or []:
            flags = sorted(
                key for key, value in info.items() if value is True and key not in ("dynamic",)
            )
            addresses.append(
                {
                    "interface": info.get("label") or name,
                    "family": info.get("family"),
                    "address": info.get("local"),
                    "prefixlen": info.get("prefixlen"),
                    "scope": info.get("scope"),
                    "dynamic": bool(info.get("dynamic")),
                    "valid_lifetime": _lifetime(info.get("valid_life_time")),
                    "preferred_lifetime": _lifetime(info.get("preferred_life_time")),
                    "flags": flags,
                }
            )
    return links, addresses


_ONELINE = re.compile(
    r"^(?P<index>\d+):\s+(?P<name>\S+)\s+(?P<family>inet6?)\s+(?P<address>[^/\s]+)/(?P<prefix>\d+)"
    r"(?P<rest>.*)$"
)


def parse_ip_oneline(text):
    """`ip -o addr` (iproute2 without JSON) -> same shape as parse_ip_json."""
    links, addresses = {}, []
    for line in text.splitlines():
        match = _ONELINE.match(line.replace("\\", " "))
        if not match:
            continue
        rest = match.group("rest").split()
        links[match.group("index")] = match.group("name")

        def after(word, words=rest):
            return words[words.index(word) + 1] if word in words[:-1] else None

        # IPv4 lines end with the label (eth0, eth0:1) before valid_lft; IPv6 lines have none.
        name = match.group("name")
        before = rest[rest.index("valid_lft") - 1] if "valid_lft" in rest[1:] else None
        label = before if before and before.startswith(name) else name
        addresses.append(
            {
                "interface": label,
                "family": match.group("family"),
                "address": match.group("address"),
                "prefixlen": int(match.group("prefix")),
                "scope": after("scope"),
                "dynamic": "dynamic" in rest,
                "valid_lifetime": _lifetime(after("valid_lft")),
                "preferred_lifetime": _lifetime(after("preferred_lft")),
                "flags": sorted(
                    w for w in ("noprefixroute", "deprecated", "temporary") if w in rest
                ),
            }
        )
    return links, addresses


def split_terse(line):
    """nmcli -t fields: ':' separates, '\\:' and '\\\\' are escapes."""
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def parse_env(text):
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    return values


def parse_networkd(text):
    """DHCP= and Address= of the [Network] section of a .network file."""
    section, dhcp, addresses = None, False, []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if section == "Network" and key == "DHCP":
            dhcp = value.lower() in ("yes", "true", "ipv4", "both", "1", "on")
        elif (section == "Network" and key == "Address") or (
            section == "Address" and key == "Address"
        ):
            addresses.append(value)
    return {"dhcp": dhcp, "addresses": addresses}


def mini_yaml(text):
    """The block-mapping subset of YAML that netplan files use (no PyYAML on most servers)."""
    root = {}
    stack = [(-1, root)]
    last_key = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#") or line.strip() == "---":
            continue
        indent = len(line) - len(line.lstrip())
        content = line.strip()
        while stack and indent <= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1] if stack else root
        if content.startswith("- "):
            key = last_key.get(id(parent))
            if key is not None:
                if not isinstance(parent.get(key), list):
                    parent[key] = []
                parent[key].append(content[2:].strip().strip("\"'"))
            continue
        key, sep, value = content.partition(":")
        if not sep:
            continue
        key, value = key.strip().strip("\"'"), value.strip()
        last_key[id(parent)] = key
        if value == "":
            child = {}
            parent[key] = child
            stack.append((indent, child))
            last_key[id(child)] = None
        elif value.startswith("[") and value.endswith("]"):
            parent[key] = [v.strip().strip("\"'") for v in value[1:-1].split(",") if v.strip()]
        else:
            parent[key] = value.strip("\"'")
    return root


def netplan_interfaces(text):
    """{interface: settings} of a netplan file (set-name wins over the key)."""
    try:
        import yaml  # noqa: PLC0415 - often absent on servers: mini_yaml is the fallback

        document = yaml.safe_load(text) or {}
    except Exception:
        document = mini_yaml(text)
    network = document.get("network") if isinstance(document, dict) else None
    found = {}
    if not isinstance(network, dict):
        return found
    for kind in ("ethernets", "bonds", "bridges", "vlans", "wifis"):
        for key, settings in (network.get(kind) or {}).items():
            if not isinstance(settings, dict):
                continue
            name = settings.get("set-name") or key
            found[str(name)] = {
                "dhcp4": settings.get("dhcp4", False),
                "addresses": [str(a) for a in settings.get("addresses") or []],
            }
    return found


_LEASE_TIME = re.compile(r"^\d\s+(\d{4})/(\d{2})/(\d{2})\s+(\d{2}):(\d{2}):(\d{2})")


def parse_dhclient_leases(text):
    """The last lease block per interface of a dhclient lease file."""
    leases, current = {}, None
    for raw in text.splitlines():
        line = raw.strip().rstrip(";")
        if line.startswith("lease") and line.endswith("{"):
            current = {}
        elif line == "}" and current is not None:
            leases[current.get("interface")] = current
            current = None
        elif current is not None:
            key, _, value = line.partition(" ")
            if key == "interface":
                current["interface"] = value.strip('"')
            elif key == "fixed-address":
                current["address"] = value.strip()
            elif key == "expire":
                match = _LEASE_TIME.match(value.strip())
                if match:
                    stamp = datetime(*(int(g) for g in match.groups()), tzinfo=UTC)
                    current["expire"] = stamp.timestamp()
    return list(leases.values())


_APT_INST = re.compile(r"^Inst (\S+) (?:\[[^\]]*\] )?\(\S+ (.*)\)")


def parse_apt_simulation(text):
    """(all packages, security packages) that `apt-get -s dist-upgrade` would install."""
    pending, security = [], []
    for line in text.splitlines():
        match = _APT_INST.match(line)
        if not match:
            continue
        name, origins = match.group(1), match.group(2)
        pending.append(name)
        # Origins look like "Debian-Security:12/stable-security [amd64]" or
        # "Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64]".
        if re.search(r"-security\b|\bSecurity\b", origins):
            security.append(name)
    return pending, security


def parse_dnf_check_update(text):
    """Package names of `dnf -q check-update` (obsoletes section excluded)."""
    names = []
    for line in text.splitlines():
        if line.startswith("Obsoleting"):
            break
        parts = line.split()
        if len(parts) == 3 and "." in parts[0]:
            names.append(parts[0])
    return names


def parse_dnf_updateinfo(text):
    """Distinct packages of `dnf updateinfo list --security` (ADVISORY SEVERITY/Sec. NEVRA)."""
    packages = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "Sec" in parts[1] and parts[2] not in packages:
            packages.append(parts[2])
    return packages


def parse_systemctl_show(text, wanted):
    """{unit: {LoadState, ActiveState}} from `systemctl show -p Id,LoadState,ActiveState`."""
    blocks = systemctl_blocks(text, wanted)
    return {
        name: {"LoadState": block.get("LoadState"), "ActiveState": block.get("ActiveState")}
        for name, block in blocks.items()
    }


_SS_USERS = re.compile(r'\("([^"]+)",pid=\d+')


def parse_ss(text):
    """[(process name, port)] of `ss -ltnp`."""
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[0] != "LISTEN":
            continue
        port = parts[3].rsplit(":", 1)[-1]
        if not port.isdigit():
            continue
        for name in _SS_USERS.findall(line) or [None]:
            found.append((name, int(port)))
    return found


def unescape_mount(field):
    """/proc/mounts escapes space, tab, newline and backslash as octal."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def main():
    module = AnsibleModule(
        argument_spec={
            "tools": {"type": "dict", "default": {}},
            "package_updates": {"type": "bool", "default": True},
            "refresh_package_lists": {"type": "bool", "default": False},
            "smtp": {"type": "dict", "options": SMTP_OPTIONS},
            "compliance": {
                "type": "dict",
                "options": {
                    "units": {"type": "list", "elements": "str", "default": []},
                    "packages": {"type": "list", "elements": "str", "default": []},
                    "textfile_dir": {"type": "str"},
                    "since": {"type": "str"},
                    "site": {
                        "type": "dict",
                        "options": {
                            "url": {"type": "str", "required": True},
                            "username": {"type": "str"},
                            "password": {"type": "str", "no_log": True},
                            "ca_file": {"type": "str"},
                            "timeout": {"type": "int", "default": 10},
                        },
                    },
                },
            },
        },
        supports_check_mode=True,
    )
    params = module.params
    bad = sorted(t for t, p in params["tools"].items() if not isinstance(p, dict))
    if bad:
        module.fail_json(
            msg="preventcare_evidence: tools must map each tool to {units, processes, binary}; "
            f"not a mapping: {', '.join(bad)}"
        )
    gatherer = Gatherer(module)
    evidence = gatherer.gather(
        params["tools"],
        params["package_updates"],
        params["refresh_package_lists"],
        module.check_mode,
    )
    refreshed = bool((evidence.get("updates") or {}).get("refreshed"))
    result = {"evidence": evidence}
    if params["smtp"] is not None:
        # The same execution holds the PRE-01 dialogue: one round trip per server.
        result["smtp"] = relay_check(params["smtp"], module.check_mode)
    if params["compliance"] is not None:
        result["compliance"] = compliance_facts(gatherer, params["compliance"], evidence)
    sent = bool(result.get("smtp", {}).get("message_sent"))
    module.exit_json(changed=refreshed or sent, **result)


if __name__ == "__main__":
    main()
