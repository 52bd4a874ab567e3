"""PRE-05: the operating system is maintained by its vendor, and its security updates applied.

Support dates come from data/os_support.yml (each entry cites its source); the updates
pending come from the package manager (Linux) or a Windows Update search.
"""

from __future__ import annotations

import datetime
import re

from ansible.module_utils.preventcare_data import as_dict, as_list
from ansible.module_utils.preventcare_platforms import evidence_reader
from ansible.module_utils.preventcare_verdict import Judge

STALE_LISTS_DAYS = 7


def as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _version_tuple(text_value):
    return tuple(int(p) for p in re.findall(r"\d+", str(text_value or "")))


def find_os_entry(table, identity):
    """The table entry for this OS, or None."""
    for item in as_list(as_dict(table).get("entries")):
        entry = as_dict(item)
        match = as_dict(entry.get("match"))
        if entry.get("family") != identity["family"]:
            continue
        if identity["family"] == "windows":
            if identity.get("product_type") == 1:
                return None  # a workstation shares its version numbers with a server
            if match.get("version") != identity["version"]:
                continue
            if "build" in match and match["build"] != identity.get("build"):
                continue
            return entry
        if match.get("id") != identity["id"]:
            continue
        version = identity["version"]
        if version == str(match.get("version")) or version.split(".")[0] == str(
            match.get("version")
        ):
            return entry
    return None


def _manageable(identity, table):
    """Why ansible-core cannot manage this OS, or None."""
    core = as_dict(as_dict(table).get("ansible_core"))
    if identity["family"] == "windows":
        build = identity.get("build")
        minimum = core.get("windows_min_build", 14393)
        if identity["version"] and _version_tuple(identity["version"]) < (10, 0):
            return f"Windows {identity['version']} < Windows Server 2016 (10.0.{minimum})"
        if isinstance(build, int) and build < minimum:
            return f"build {build} < {minimum} (Windows Server 2016)"
        ps = identity.get("powershell")
        ps_min = core.get("powershell_min", "5.1")
        if ps and _version_tuple(ps)[:2] < _version_tuple(ps_min)[:2]:
            return f"PowerShell {ps} < {ps_min}"
        return None
    python = identity.get("python")
    py_min = core.get("python_min", "3.8")
    if python and _version_tuple(python)[:2] < _version_tuple(py_min)[:2]:
        return f"Python {python} < {py_min}"
    return None


def _judge(host, check, lang, blocking=True):
    return Judge.of("prerequisites", host, "PRE-05", check, lang, blocking=blocking)


def check_os_support(host, evidence, *, platform, lang, table, today):
    """PRE-05: maintained by its vendor (dated table), and manageable by ansible-core."""
    judge = _judge(host, "os_support", lang)
    table = as_dict(table)
    identity = evidence_reader(platform).os_identity(evidence)
    entry = find_os_entry(table, identity)
    core = as_dict(table.get("ansible_core"))
    shown = {"os": identity, "table_entry": entry, "today": today.isoformat()}
    name = entry.get("name") if entry else identity["name"]
    unmanageable = _manageable(identity, table)
    if unmanageable:
        shown["unmanageable"] = unmanageable
        return judge.verdict(
            "FAIL",
            "os.unmanageable",
            shown,
            os=name,
            core=core.get("version", "2.19"),
            why=unmanageable,
        )
    if entry is None:
        workstation = identity["family"] == "windows" and identity.get("product_type") == 1
        key = "os.workstation" if workstation else "os.unknown"
        return judge.verdict("WARN", key, shown, hint_key="os.unknown.hint", os=name)
    end = as_date(entry["end_of_support"])
    days = (end - today).days
    shown.update(end_of_support=end.isoformat(), days_left=days, source=entry.get("source"))
    if days < 0:
        paid_until = entry.get("paid_until")
        if paid_until and as_date(paid_until) >= today:
            return judge.verdict(
                "WARN",
                "os.paid",
                shown,
                os=name,
                date=end.isoformat(),
                paid=entry.get("paid_name", "a paid extension"),
                until=as_date(paid_until).isoformat(),
            )
        return judge.verdict("FAIL", "os.eol", shown, os=name, date=end.isoformat())
    if days <= table.get("warn_days", 180):
        return judge.verdict("WARN", "os.soon", shown, os=name, date=end.isoformat(), days=days)
    return judge.verdict("PASS", "os.pass", shown, os=name, date=end.isoformat())


def check_security_updates(host, evidence, *, platform, lang, win_updates=None):
    """PRE-05: pending security updates, reported as WARN with their count."""
    # Pending updates are applied on set-up day (SET-02): they never block onboarding.
    judge = _judge(host, "security_updates", lang, blocking=False)
    pending = evidence_reader(platform).pending_updates(evidence, win_updates)
    shown, count, names = pending["shown"], pending["count"], pending["names"]
    if count is None:
        return judge.verdict("WARN", "updates.unknown", shown, why=pending["error"])
    if count:
        sample = ", ".join(str(n) for n in names[:10]) + (" …" if len(names) > 10 else "")
        return judge.verdict("WARN", "updates.warn", shown, count=count, sample=sample or "-")
    age = shown.get("lists_age_days")
    if shown.get("manager") == "apt" and age is None:
        # No apt lists at all: "0 pending" only means nothing is known yet.
        return judge.verdict("WARN", "updates.nolists", shown, hint_key="updates.stale.hint")
    if isinstance(age, (int, float)) and age > STALE_LISTS_DAYS and not shown.get("refreshed"):
        return judge.verdict("WARN", "updates.stale", shown, days=int(age))
    return judge.verdict("PASS", "updates.pass", shown)
