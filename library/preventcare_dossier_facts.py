#!/usr/bin/python
"""Ansible module: read, in one execution, what the technical document says about a Linux server.

A gatherer only: it reads sources and returns their raw content; the controller shapes them
(module_utils/preventcare_technical.py, module_utils/preventcare_dossier.py), so that the same
shaping serves the set-up day's document and the compliance run's dossier drift.
"""

from __future__ import annotations

import glob
import json
import os
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.preventcare_dossier import enabled_services

DOCUMENTATION = r"""
---
module: preventcare_dossier_facts
short_description: Read a Linux server's facts for the PreventCare technical document (SET-04)
description:
  - Reads, without changing anything, the facts the technical document lists for a Linux
    server - identity (host name, domain), operating system, hardware or virtual platform,
    global IP addresses and routes, services enabled at boot, SMB shares and NFS exports,
    printers, UPS, the update policy, the mail service and the last backup results the
    PreventCare backup manager wrote.
  - Judges nothing; every field is raw text or a list for the controller to shape.
  - Every source is optional - a missing command or file leaves its field empty (null).
version_added: "0.1.0"
author: PreventCare project
options:
  textfile_dir:
    description: The node exporter's textfile-collector folder, where the backup manager
      writes its results.
    type: path
    default: /var/lib/prometheus/node-exporter
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
notes:
  - Commands run with C(LANG=C) so that their output does not depend on the server's locale.
  - Sources read - C(/etc/os-release); C(hostname -f); C(ip -j addr); C(ip -j route);
    C(/sys/class/dmi/id); C(systemd-detect-virt);
    the [Install] links of enabled services under C(/etc/systemd/system); C(/etc/samba/smb.conf);
    C(/etc/exports); C(lpstat -v); C(upsc -l); C(apt-config dump); the textfiles
    C(<textfile_dir>/preventcare_backup_*.prom).
"""

EXAMPLES = r"""
- name: Read the server's facts for the technical document
  preventcare_dossier_facts:
  become: true
  register: __technical_facts
"""

RETURN = r"""
facts:
  description: Raw facts, each null when its source is absent.
  returned: always
  type: dict
  contains:
    hostname: {description: C(hostname -f) (else the short name), type: str}
    os_release: {description: C(/etc/os-release) as key/value pairs, type: dict}
    ip_addr: {description: C(ip -j addr) parsed, type: list}
    routes: {description: C(ip -j route) parsed, type: list}
    dmi: {description: vendor, product and serial from C(/sys/class/dmi/id), type: dict}
    virtualization: {description: C(systemd-detect-virt) output (C(none) on hardware), type: str}
    enabled_services: {description: unit names enabled at boot, type: list}
    smb_conf: {description: text of C(/etc/samba/smb.conf), type: str}
    exports: {description: text of C(/etc/exports), type: str}
    printers: {description: C(lpstat -v) output, type: str}
    ups: {description: C(upsc -l) output, type: str}
    apt_periodic: {description: C(apt-config dump) lines for unattended upgrades, type: str}
    backup_metrics: {description: file name to content of the backup textfiles, type: dict}
"""

C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}
_MAX_TEXT = 200_000


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(_MAX_TEXT)
    except OSError:
        return None


def parse_os_release(text):
    values = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


class Gatherer:
    def __init__(self, module):
        self.module = module

    def run(self, *argv):
        binary = self.module.get_bin_path(argv[0], required=False, opt_dirs=["/usr/sbin", "/sbin"])
        if not binary:
            return None
        rc, out, _err = self.module.run_command(
            [binary, *argv[1:]], environ_update=C_LOCALE, check_rc=False
        )
        return out if rc == 0 else None

    def json_of(self, *argv):
        out = self.run(*argv)
        try:
            return json.loads(out) if out else None
        except ValueError:
            return None

    def facts(self):
        dmi = {
            key: (_read(f"/sys/class/dmi/id/{name}") or "").strip() or None
            for key, name in (
                ("vendor", "sys_vendor"),
                ("product", "product_name"),
                ("serial", "product_serial"),
            )
        }
        backups = {}
        folder = self.module.params["textfile_dir"]
        for path in sorted(glob.glob(os.path.join(folder, "preventcare_backup_*.prom"))):
            backups[os.path.basename(path)] = _read(path)
        virt = self.run("systemd-detect-virt")
        if virt is None:  # exits 1 and prints "none" on bare metal
            binary = self.module.get_bin_path("systemd-detect-virt", required=False)
            virt = "none" if binary else None
        apt = self.run("apt-config", "dump", "APT::Periodic", "Unattended-Upgrade")
        return {
            "hostname": (self.run("hostname", "-f") or socket.gethostname()).strip(),
            "os_release": parse_os_release(_read("/etc/os-release")),
            "ip_addr": self.json_of("ip", "-j", "addr"),
            "routes": self.json_of("ip", "-j", "route"),
            "dmi": dmi,
            "virtualization": virt.strip() if virt else None,
            "enabled_services": enabled_services(),
            "smb_conf": _read("/etc/samba/smb.conf"),
            "exports": _read("/etc/exports"),
            "printers": self.run("lpstat", "-v"),
            "ups": self.run("upsc", "-l"),
            "apt_periodic": apt,
            "backup_metrics": backups,
        }


def main():
    module = AnsibleModule(
        argument_spec={
            "textfile_dir": {"type": "path", "default": "/var/lib/prometheus/node-exporter"}
        },
        supports_check_mode=True,
    )
    module.exit_json(changed=False, facts=Gatherer(module).facts())


if __name__ == "__main__":
    main()
