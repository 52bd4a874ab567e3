"""A Linux server's compliance facts (VIS-03), read on the server inside `preventcare_evidence`.

`compliance_facts(g, options, base)` returns the shape of docs/compliance-facts.md from the
module's gatherer `g` (its read/run/glob/binary/guarded plumbing) and the prerequisite
evidence `base` it already read (hardware, network, updates), so nothing is read twice. Every
section is guarded: a source that fails leaves its field None and a line in `errors`. Nothing
here changes the server. Pure parsers are below, tested on captured outputs.
"""

from __future__ import annotations

import math
import os
import re
from datetime import datetime, timezone

from ansible.module_utils.preventcare_dossier import (
    dossier_entry,
    enabled_services,
    nfs_exports,
    samba_shares,
)
from ansible.module_utils.preventcare_prometheus_api import site_history
from ansible.module_utils.preventcare_scrape import parse_samples
from ansible.module_utils.preventcare_sensors import parse_mdstat

ADMIN_GROUPS = ("sudo", "wheel", "admin")
# Targets may run Python 3.8: no datetime.UTC.
UTC = timezone.utc  # noqa: UP017
SIGNATURES = ("/var/lib/clamav/daily.cld", "/var/lib/clamav/daily.cvd")
REBOOT_FLAG = "/run/reboot-required"


def iso(timestamp):
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(text):
    """Seconds since the epoch of an ISO-8601 UTC text, or None."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def compliance_facts(g, options, base):
    """The facts of docs/compliance-facts.md for this server."""
    since = epoch(options.get("since"))
    units = options.get("units") or []
    hardware = base.get("hardware") or {}
    facts = {
        "platform": "linux",
        "collected_at": iso(g.now),
        "units": g.guarded("units", unit_states, g, units) if units else {},
        "packages": g.guarded("packages", package_versions, g, options.get("packages") or []),
        "metrics": g.guarded("metrics", textfile_metrics, g, options.get("textfile_dir")),
        "directory": g.guarded("directory", directory, g),
        "admins": g.guarded("admins", admins, g),
        "password_policy": g.guarded("password_policy", password_policy, g),
        "raid": g.guarded("raid", raid, g),
        "bonds": g.guarded("bonds", bonds, g),
        "ups": g.guarded("ups", ups, g),
        "load": g.guarded("load", load, g, hardware.get("cpu_cores")),
        "memory": g.guarded("memory", memory, g),
        "filesystems": [
            {k: m[k] for k in ("mount", "size_bytes", "free_bytes")}
            for m in hardware.get("mounts") or []
        ],
        "updates": g.guarded("updates", updates, g, base.get("updates")),
        "antivirus": g.guarded("antivirus", antivirus, g),
        "dossier": g.guarded("dossier", dossier, g, base.get("network")),
    }
    facts.update(g.guarded("boots", boots, g, since) or {})
    site = options.get("site")
    if site:
        # The monitor host asks its own Prometheus: no port of it need be open to the controller.
        facts["site_history"] = site_history(
            site["url"],
            since if since is not None else g.now - 183 * 86400,
            g.now,
            timeout=site.get("timeout") or 10,
            username=site.get("username"),
            password=site.get("password"),
            ca_file=site.get("ca_file"),
        )
    return facts


# ---------------------------------------------------------------- sections


def unit_states(g, names):
    systemctl = g.binary("systemctl")
    if not systemctl:
        raise RuntimeError("systemctl is not installed")
    _, out, _ = g.run(
        [systemctl, "show", "-p", "Id,LoadState,ActiveState,UnitFileState", "--", *names]
    )
    return parse_unit_states(out, names)


def package_versions(g, names):
    if not names:
        return {}
    dpkg = g.binary("dpkg-query")
    if dpkg:
        _, out, _ = g.run([dpkg, "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"])
        installed = parse_dpkg_versions(out)
    else:
        rpm = g.binary("rpm")
        if not rpm:
            raise RuntimeError("neither dpkg-query nor rpm is installed")
        _, out, _ = g.run([rpm, "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\tii \n"])
        installed = parse_dpkg_versions(out)
    return {name: installed.get(name) for name in names}


def textfile_metrics(g, folder):
    if not folder:
        return []
    samples = []
    for path in g.glob(os.path.join(folder, "*.prom")):
        with open(path, encoding="utf-8", errors="replace") as handle:
            for sample in parse_samples(handle.read()):
                if not sample["name"].startswith("preventcare_"):
                    continue
                # NaN means "not measured" (docs/sensors.md); JSON has no NaN.
                if math.isnan(sample["value"]):
                    sample["value"] = None
                samples.append(sample)
    return samples


def directory(g):
    """Whether sssd joins the server to a directory, and to which domain."""
    conf = g.read("/etc/sssd/sssd.conf")
    realm = g.binary("realm", sbin=True)
    domain = None
    if realm:
        rc, out, _ = g.run([realm, "list", "--name-only"])
        names = [line.strip() for line in out.splitlines() if line.strip()] if rc == 0 else []
        domain = names[0] if names else None
    if domain is None and conf:
        match = re.search(r"^\s*domains\s*=\s*([^\s,]+)", conf, re.MULTILINE)
        domain = match.group(1) if match else None
    tool = "realmd" if realm else ("sssd" if conf is not None else None)
    return {
        "role": "member" if domain else "standalone",
        "domain": domain,
        "joined": bool(domain),
        "errors": [],
        "tool": tool,
    }


def admins(g):
    return parse_admins(
        g.read("/etc/passwd") or "", g.read("/etc/group") or "", g.read("/etc/shadow")
    )


def password_policy(g):
    texts = [g.read("/etc/login.defs") or "", g.read("/etc/security/pwquality.conf") or ""]
    texts += [g.read(p) or "" for p in g.glob("/etc/security/pwquality.conf.d/*.conf")]
    texts += [g.read("/etc/pam.d/common-password") or "", g.read("/etc/pam.d/system-auth") or ""]
    return parse_password_policy(texts)


def raid(g):
    text = g.read("/proc/mdstat")
    if text is None:
        return []
    return [{"name": r.device, "healthy": r.ok, "detail": r.detail} for r in parse_mdstat(text)]


def bonds(g):
    found = []
    for path in g.glob("/proc/net/bonding/*"):
        found.append(parse_bond(os.path.basename(path), g.read(g.unroot(path)) or ""))
    return found


def ups(g):
    upsc = g.binary("upsc")
    if not upsc:
        return {"tool": None, "units": []}
    rc, out, _ = g.run([upsc, "-l"])
    units = []
    for name in out.split() if rc == 0 else []:
        _, status, _ = g.run([upsc, f"{name}@localhost", "ups.status"])
        units.append({"name": name, "status": status.strip() or None})
    return {"tool": "nut", "units": units}


def load(g, cpus):
    fields = (g.read("/proc/loadavg") or "").split()
    return {"load15": float(fields[2]) if len(fields) > 2 else None, "cpus": cpus or 1}


def memory(g):
    values = parse_meminfo(g.read("/proc/meminfo") or "")
    return {
        "total_bytes": values.get("MemTotal"),
        "available_bytes": values.get("MemAvailable"),
    }


def updates(g, pending):
    pending = pending or {}
    return {
        "pending": pending.get("pending"),
        "pending_security": pending.get("security"),
        "last_install": iso(last_install(g)),
        "reboot_required": os.path.exists(g.path(REBOOT_FLAG)),
    }


def last_install(g):
    """When a package was last installed or upgraded: dpkg's log, else the rpm database."""
    newest = None
    for path in g.glob("/var/log/dpkg.log*"):
        if path.endswith(".gz"):
            continue
        stamp = parse_dpkg_log_last(g.read(g.unroot(path)) or "")
        if stamp is not None:
            newest = stamp if newest is None else max(newest, stamp)
    if newest is None:
        rpm = g.binary("rpm")
        if rpm:
            _, out, _ = g.run([rpm, "-qa", "--qf", "%{INSTALLTIME}\n"])
            stamps = [int(x) for x in out.split() if x.isdigit()]
            newest = max(stamps) if stamps else None
    return newest


def antivirus(g):
    """ClamAV's signature age, when ClamAV is the server's antivirus."""
    ages = []
    for name in SIGNATURES:
        try:
            ages.append((g.now - os.path.getmtime(g.path(name))) / 86400)
        except OSError:
            continue
    if not ages:
        return {"product": None, "running": None, "signature_age_days": None}
    return {"product": "clamav", "running": None, "signature_age_days": round(min(ages), 2)}


def dossier(g, network):
    addresses = [a.get("address") for a in (network or {}).get("addresses") or []]
    services = enabled_services(g.root) or []
    shares = samba_shares(g.read("/etc/samba/smb.conf"))
    for path in ["/etc/exports", *[g.unroot(p) for p in g.glob("/etc/exports.d/*.exports")]]:
        shares += nfs_exports(g.read(path))
    return dossier_entry(addresses=addresses, services=services, shares=shares)


def boots(g, since):
    """boot_time and uptime from /proc, reboots since `since` from the journal's boot list."""
    uptime = float((g.read("/proc/uptime") or "0").split()[0])
    found = {"boot_time": iso(g.now - uptime), "uptime_seconds": round(uptime), "reboots": None}
    journalctl = g.binary("journalctl")
    if journalctl:
        rc, out, _ = g.run([journalctl, "--list-boots", "--no-pager", "-q"])
        if rc == 0:
            starts = parse_list_boots(out)
            found["reboots"] = [iso(s) for s in starts if since is None or s >= since]
    return found


# ---------------------------------------------------------------- parsers (pure)


def systemctl_blocks(text, names):
    """{unit: {property: value}} of `systemctl show -p ... -- UNIT...` output: one blank-line
    separated block per unit, in the order asked (a missing unit still gets its block)."""
    blocks, current = [], {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, _, value = line.partition("=")
        current[key] = value
    return dict(zip(names, blocks))  # noqa: B905 - systemctl answers in order


def parse_unit_states(text, names):
    """{unit: {present, active, enabled}} from `systemctl show -p Id,LoadState,...` blocks."""
    blocks = systemctl_blocks(text, names)
    return {
        name: {
            "present": blocks.get(name, {}).get("LoadState") not in (None, "not-found"),
            "active": blocks.get(name, {}).get("ActiveState") == "active",
            "enabled": blocks.get(name, {}).get("UnitFileState")
            in ("enabled", "static", "alias", "generated"),
        }
        for name in names
    }


def parse_dpkg_versions(text):
    """{package: version} of installed packages (status `ii`) from dpkg-query or rpm output."""
    versions = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].startswith("ii"):
            versions[parts[0].split(":")[0]] = parts[1]
    return versions


def parse_admins(passwd, group, shadow):
    """Accounts with uid 0 and members of the administrators' groups."""
    accounts = {}
    for line in passwd.splitlines():
        fields = line.split(":")
        if len(fields) >= 7:
            accounts[fields[0]] = {"uid": fields[2], "primary_gid": fields[3]}
    admin_gids, members = set(), set()
    for line in group.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] in ADMIN_GROUPS:
            admin_gids.add(fields[2])
            members.update(m for m in fields[3].split(",") if m)
    empty = None
    if shadow is not None:
        empty = {
            f.split(":")[0]
            for f in shadow.splitlines()
            if f.count(":") >= 1 and f.split(":")[1] == ""
        }
    found = []
    for name, account in accounts.items():
        uid0 = account["uid"] == "0"
        if uid0 or name in members or account["primary_gid"] in admin_gids:
            found.append(
                {
                    "name": name,
                    "sid": None,
                    "uid0": uid0,
                    "empty_password": None if empty is None else name in empty,
                    "enabled": None,
                }
            )
    return found


def parse_password_policy(texts):
    """{min_length, max_age_days} from login.defs, pwquality and PAM texts (last one wins)."""
    min_length = max_age = None
    for text in texts:
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()  # noqa: PLW2901 - the comment is dropped
            match = re.match(r"^PASS_MAX_DAYS\s+(\d+)$", line)
            if match:
                max_age = int(match.group(1))
            match = re.match(r"^minlen\s*=\s*(\d+)$", line) or re.search(
                r"pam_(?:pwquality|cracklib|unix)\.so.*\bminlen=(\d+)", line
            )
            if match:
                min_length = int(match.group(1))
            if re.match(r"^PASS_MIN_LEN\s+(\d+)$", line) and min_length is None:
                min_length = int(line.split()[1])
    # 99999 is login.defs' "never expires".
    return {"min_length": min_length, "max_age_days": None if max_age == 99999 else max_age}


def parse_bond(name, text):
    """A bond's member count and how many are up, from /proc/net/bonding/<bond>."""
    members = up = 0
    in_slave = False
    for line in text.splitlines():
        if line.startswith("Slave Interface:"):
            members += 1
            in_slave = True
        elif in_slave and line.startswith("MII Status:"):
            up += line.split(":", 1)[1].strip() == "up"
            in_slave = False
    return {"name": name, "members": members, "up": up}


def parse_meminfo(text):
    values = {}
    for line in text.splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            values[parts[0]] = int(parts[1]) * (1024 if parts[-1] == "kB" else 1)
    return values


_DPKG_ACTION = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (install|upgrade) ")


def parse_dpkg_log_last(text):
    """Epoch of the last install/upgrade line of a dpkg.log text (written in local time,
    read here on the server itself, so its local time zone is the right one)."""
    last = None
    for line in text.splitlines():
        match = _DPKG_ACTION.match(line)
        if match:
            last = match.group(1)
    if last is None:
        return None
    return datetime.strptime(last, "%Y-%m-%d %H:%M:%S").timestamp()


_BOOT_LINE = re.compile(r"^\s*-?\d+\s+[0-9a-f]{32}\s+\w{3}\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


def parse_list_boots(text):
    """Start epochs of the boots `journalctl --list-boots` lists: "IDX BOOT-ID Day
    YYYY-MM-DD HH:MM:SS ZONE-Day ...", in the server's local time, read on the server."""
    return [
        datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").timestamp()
        for match in map(_BOOT_LINE.match, text.splitlines())
        if match
    ]
