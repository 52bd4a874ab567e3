"""The technical dossier's comparable facts, and the drift between two of them.

The set-up day writes, in `technical.json`, a `dossier` section: `{"hosts": {name: entry}}`
where each entry is `dossier_entry(...)`. The compliance run builds the same entries from the
current evidence and lists, item by item, what was added or removed since (VIS-03, "dossier").
Both sides build entries here so that they compare like with like:
- addresses: the host's global IP addresses (no loopback, no link-local), without prefix;
- services: the services set to start at boot (Linux: enabled systemd service units without
  the `.service` suffix; Windows: services whose start mode is Auto), which change only when
  something is installed or reconfigured, unlike the running set;
- shares: `smb:<name>` for each SMB share (smb.conf sections but [global]; Windows non-special
  shares) and `nfs:<path>` for each NFS export.
"""

from __future__ import annotations

import ipaddress
import os
import re

DOSSIER_KEYS = ("addresses", "services", "shares")
KINDS = {"addresses": "address", "services": "service", "shares": "share"}
_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
# Where `systemctl enable` makes a unit's [Install] links (WantedBy=, RequiredBy=, UpheldBy=).
_INSTALL_DIRS = (".wants", ".requires", ".upholds")


def _address(value):
    text = str(value).split("/")[0].split("%")[0].strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
        return None
    return str(ip)


def _service(value):
    name = str(value).strip()
    return name[: -len(".service")] if name.endswith(".service") else name


def dossier_entry(*, addresses=(), services=(), shares=()):
    """One host's comparable facts, normalised and sorted."""
    return {
        "addresses": sorted({a for a in map(_address, addresses or ()) if a}),
        "services": sorted({s for s in map(_service, services or ()) if s and "@" not in s}),
        "shares": sorted({str(s).strip() for s in shares or () if str(s).strip()}),
    }


def _masked(root, name):
    """`systemctl mask` links the unit itself to /dev/null, in /etc or for this boot in /run."""
    for folder in ("etc/systemd/system", "run/systemd/system"):
        try:
            if os.readlink(os.path.join(root, folder, name)) == "/dev/null":
                return True
        except OSError:
            continue
    return False


def enabled_services(root="/"):
    """Service units enabled at boot on the server under `root`, sorted; None when unreadable.

    These are the [Install] links `systemctl enable` made in /etc/systemd/system/*.wants,
    *.requires and *.upholds: what `systemctl list-unit-files --type=service --state=enabled`
    reports for services, read from the links themselves in a few milliseconds where
    list-unit-files spends about 0.4 s of CPU per server loading every unit file. A link to
    /dev/null, to a unit file that is gone, or of a masked unit is not counted, as systemctl
    does not.
    """
    system_dir = os.path.join(root, "etc/systemd/system")
    try:
        folders = [e for e in os.listdir(system_dir) if e.endswith(_INSTALL_DIRS)]
    except OSError:
        return None
    found = set()
    for entry in folders:
        folder = os.path.join(system_dir, entry)
        try:
            names = [n for n in os.listdir(folder) if n.endswith(".service")]
        except OSError:
            continue
        for link in names:
            # An instance's link (getty@tty1.service) enables its template, as systemctl says.
            name = re.sub(r"@[^.]*\.service$", "@.service", link)
            try:
                target = os.readlink(os.path.join(folder, link))
            except OSError:  # a plain file, not a link: systemd reads it as the unit itself
                found.add(name)
                continue
            if target == "/dev/null" or _masked(root, name):
                continue
            # Absolute targets name the server's own paths: look under `root`.
            if target.startswith("/"):
                real = os.path.join(root, target.lstrip("/"))
            else:
                real = os.path.join(folder, target)
            if os.path.exists(real):
                found.add(name)
    return sorted(found)


def samba_shares(text):
    """`smb:<name>` for every section of an smb.conf text but [global]."""
    shares = []
    for line in (text or "").splitlines():
        match = _SECTION.match(line)
        if match and match.group(1).strip().lower() != "global":
            shares.append(f"smb:{match.group(1).strip()}")
    return shares


def nfs_exports(text):
    """`nfs:<path>` for every export line of an /etc/exports text."""
    exports = []
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        # A path with spaces is quoted: "/srv/a b" host(rw)
        path = line[1:].split('"', 1)[0] if line.startswith('"') else line.split()[0]
        exports.append(f"nfs:{path}")
    return exports


def drift(previous, current):
    """Changes from `previous` to `current` ({host: entry} each), item by item.

    Each change is {host, kind (server, address, service, share), change (added, removed),
    value}; a server added or removed is one change, not one per fact.
    """
    previous = previous if isinstance(previous, dict) else {}
    current = current if isinstance(current, dict) else {}
    changes = []
    for host in sorted(set(previous) | set(current)):
        if host not in previous or host not in current:
            change = "added" if host in current else "removed"
            changes.append({"host": host, "kind": "server", "change": change, "value": host})
            continue
        before, after = previous[host] or {}, current[host] or {}
        for key in DOSSIER_KEYS:
            old, new = set(before.get(key) or ()), set(after.get(key) or ())
            changes += [
                {"host": host, "kind": KINDS[key], "change": "removed", "value": v}
                for v in sorted(old - new)
            ]
            changes += [
                {"host": host, "kind": KINDS[key], "change": "added", "value": v}
                for v in sorted(new - old)
            ]
    return changes
