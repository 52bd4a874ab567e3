"""PRE-03: cores, memory and free system space against the hardware table; VMs recognised.

The table is data/hardware_prerequisites.yml (platform defaults, raised by server roles),
with the contract's `hardware_prerequisites` over it.
"""

from __future__ import annotations

import re

from ansible.module_utils.preventcare_data import as_dict, as_list
from ansible.module_utils.preventcare_platforms import evidence_reader
from ansible.module_utils.preventcare_verdict import Judge, check_platform

GIB = 1024**3
MIB = 1024**2


def hardware_minimums(table, platform, roles=(), overrides=None):
    """Minimums for one host: platform defaults, raised by its roles, then contract overrides."""
    table = as_dict(table)
    overrides = as_dict(overrides)
    wanted = dict(as_dict(as_dict(table.get("defaults")).get(platform)))
    role_table = as_dict(table.get("roles"))
    role_overrides = as_dict(overrides.get("roles"))
    for role in roles or ():
        for key, value in as_dict(role_table.get(role)).items():
            wanted[key] = max(wanted.get(key, value), value)
    for key, value in overrides.items():
        if key != "roles" and isinstance(value, (int, float)) and not isinstance(value, bool):
            wanted[key] = value
    for role in roles or ():
        for key, value in as_dict(role_overrides.get(role)).items():
            wanted[key] = value
    return wanted


def _first_match(name, groups):
    subject = " ".join(str(name or "").lower().split())
    for group in as_list(groups):
        for pattern in as_list(as_dict(group).get("patterns")):
            if re.search(pattern, subject):
                return as_dict(group).get("name")
    return None


def hardware_facts(evidence, *, platform, table):
    """The platform's hardware facts, with the supported vendor and the virtual platform."""
    table = as_dict(table)
    facts = evidence_reader(platform).hardware_facts(
        evidence, lambda name: _first_match(name, table.get("virtual_platforms"))
    )
    facts["supported_vendor"] = (
        _first_match(facts["vendor"], table.get("vendors")) if facts["vendor"] else None
    )
    return facts


def _gib(value):
    return round(value / GIB, 1)


def _kind(facts, judge):
    if facts.get("container"):
        return judge.text("kind.container", platform=facts["container"])
    if facts.get("virtual"):
        return judge.text("kind.vm", platform=facts["virtual"])
    model = " ".join(str(x) for x in (facts.get("vendor"), facts.get("model")) if x) or "?"
    return judge.text("kind.physical", model=model)


def _shortfalls(facts, wanted, tolerance, judge):
    short = []
    cores = facts.get("cpu_cores")
    if wanted.get("min_cpu_cores"):
        if not isinstance(cores, int):
            short.append(judge.text("hw.unknown", what="CPU"))
        elif cores < wanted["min_cpu_cores"]:
            short.append(judge.text("hw.cores", have=cores, want=wanted["min_cpu_cores"]))
    memory = facts.get("memory_bytes")
    if wanted.get("min_memory_mib"):
        floor = wanted["min_memory_mib"] * MIB * (1 - tolerance / 100)
        if not isinstance(memory, (int, float)):
            short.append(judge.text("hw.unknown", what="RAM"))
        elif memory < floor:
            short.append(
                judge.text(
                    "hw.memory",
                    have=_gib(memory),
                    want=round(wanted["min_memory_mib"] / 1024, 1),
                )
            )
    free, size = facts.get("system_free_bytes"), facts.get("system_size_bytes")
    mount = facts.get("system_mount")
    if not isinstance(free, (int, float)):
        short.append(judge.text("hw.unknown", what=str(mount)))
        return short
    if wanted.get("min_system_free_gib") and free < wanted["min_system_free_gib"] * GIB:
        short.append(
            judge.text("hw.free", have=_gib(free), mount=mount, want=wanted["min_system_free_gib"])
        )
    percent = wanted.get("min_system_free_percent")
    if percent and isinstance(size, (int, float)) and size > 0 and free * 100 / size < percent:
        short.append(
            judge.text("hw.free_pct", have=round(free * 100 / size, 1), mount=mount, want=percent)
        )
    return short


def check_hardware(host, evidence, *, platform, lang, table, roles=(), overrides=None):
    """PRE-03: cores, RAM and free system space against the table; VMs recognised."""
    table = as_dict(table)
    judge = Judge.of("prerequisites", host, "PRE-03", "hardware", lang)
    facts = hardware_facts(evidence, platform=platform, table=table)
    wanted = hardware_minimums(table, check_platform(platform), roles, overrides)
    tolerance = table.get("memory_tolerance_percent", 0) or 0
    shown = {**facts, "kind": _kind(facts, judge), "minimums": wanted, "roles": list(roles or ())}
    short = _shortfalls(facts, wanted, tolerance, judge)
    if short:
        wanted_text = ", ".join(f"{k}={v}" for k, v in wanted.items())
        return judge.verdict(
            "FAIL", "hw.fail", shown, shortfalls="; ".join(short), wanted=wanted_text
        )
    physical = not (facts.get("virtual") or facts.get("container"))
    if physical and facts.get("vendor") and not facts.get("supported_vendor"):
        return judge.verdict("WARN", "hw.vendor", shown, vendor=facts["vendor"])
    return judge.verdict(
        "PASS",
        "hw.pass",
        shown,
        cores=facts.get("cpu_cores"),
        memory=_gib(facts.get("memory_bytes") or 0),
        free=_gib(facts.get("system_free_bytes") or 0),
        mount=facts.get("system_mount"),
        kind=shown["kind"],
    )
