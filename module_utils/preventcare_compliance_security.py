"""VIS-03 "security systems": access control, redundancy, antivirus, security box and UPS."""

from __future__ import annotations

# Hardware components of preventcare_hardware_ok that stand for redundancy (MON-HW-01).
_NOT_MEASURED = ("not_applicable", "no_sensor")
# NUT's ups.status words (networkupstools.org, "ups.status"): on line, on battery, low battery,
# replace battery, overloaded, forced shutdown.
_UPS_BAD = ("OB", "LB", "RB", "OVER", "FSD")


def check_directory(judge, facts, ctx):
    info = facts.get("directory")
    if info is None:
        return [judge.verdict("WARN", "directory.unknown")]
    if info.get("role") == "standalone":
        return [judge.verdict("NOT_APPLICABLE", "directory.na", info)]
    errors = [e for e in info.get("errors") or [] if e.get("count")]
    if errors:
        ids = ", ".join(f"{e['id']} ({e['count']})" for e in errors)
        return [judge.verdict("FAIL", "directory.fail", info, ids=ids)]
    if info.get("joined") is False:
        return [judge.verdict("FAIL", "directory.unjoined", info)]
    return [judge.verdict("PASS", "directory.pass", info, domain=info.get("domain") or "-")]


def check_admins(judge, facts, ctx):
    accounts = facts.get("admins")
    if accounts is None:
        return [judge.verdict("WARN", "admins.unknown")]
    names = ", ".join(a["name"] for a in accounts) or "-"
    evidence = {"administrators": accounts}
    empty = [a["name"] for a in accounts if a.get("empty_password")]
    if empty:
        return [judge.verdict("FAIL", "admins.empty", evidence, names=", ".join(empty))]
    extra_root = [a["name"] for a in accounts if a.get("uid0") and a["name"] != "root"]
    if extra_root:
        return [judge.verdict("FAIL", "admins.uid0", evidence, names=", ".join(extra_root))]
    return [judge.verdict("PASS", "admins.pass", evidence, count=len(accounts), names=names)]


def check_password_policy(judge, facts, ctx):
    policy = facts.get("password_policy")
    if policy is None:
        return [judge.verdict("WARN", "password.unknown")]
    minimum, max_age = ctx.limits["password_min_length"], ctx.limits["password_max_age_days"]
    weak = []
    if (policy.get("min_length") or 0) < minimum:
        weak.append(f"min_length {policy.get('min_length')} < {minimum}")
    if policy.get("max_age_days") is None or policy["max_age_days"] > max_age:
        weak.append(f"max_age_days {policy.get('max_age_days')} > {max_age}")
    if weak:
        return [judge.verdict("WARN", "password.weak", policy, problems="; ".join(weak))]
    return [judge.verdict("PASS", "password.pass", policy, **policy)]


def _hardware(facts, component):
    return [
        m
        for m in facts.get("metrics") or []
        if m["name"] == "preventcare_hardware_ok" and m["labels"].get("component") == component
    ]


def check_raid(judge, facts, ctx):
    arrays = list(facts.get("raid") or [])
    arrays += [
        {"name": m["labels"].get("device"), "healthy": m["value"] == 1, "detail": "controller"}
        for m in _hardware(facts, "raid")
        if m["value"] is not None and m["labels"].get("device") not in _NOT_MEASURED
    ]
    if not arrays:
        return [judge.verdict("NOT_APPLICABLE", "raid.na")]
    bad = [a for a in arrays if not a["healthy"]]
    if bad:
        detail = "; ".join(f"{a['name']}: {a.get('detail') or 'degraded'}" for a in bad)
        return [judge.verdict("FAIL", "raid.fail", {"arrays": arrays}, detail=detail)]
    return [judge.verdict("PASS", "raid.pass", {"arrays": arrays}, count=len(arrays))]


def check_power(judge, facts, ctx):
    supplies = [
        m for m in _hardware(facts, "psu") if m["labels"].get("device") not in _NOT_MEASURED
    ]
    if not supplies:
        unmeasured = _hardware(facts, "psu")
        why = unmeasured[0]["labels"].get("device") if unmeasured else "no_sensor"
        if why == "not_applicable":
            return [judge.verdict("NOT_APPLICABLE", "power.na")]
        return [judge.verdict("DECLARED", "power.declared", {"reading": why})]
    evidence = {
        "supplies": [{"device": m["labels"].get("device"), "ok": m["value"]} for m in supplies]
    }
    failed = [m["labels"].get("device") for m in supplies if m["value"] != 1]
    if failed:
        return [judge.verdict("FAIL", "power.fail", evidence, devices=", ".join(failed))]
    if len(supplies) < 2:
        return [judge.verdict("WARN", "power.single", evidence)]
    return [judge.verdict("PASS", "power.pass", evidence, count=len(supplies))]


def check_bonds(judge, facts, ctx):
    bonds = facts.get("bonds")
    if not bonds:
        return [judge.verdict("NOT_APPLICABLE", "bonds.na")]
    down = [b for b in bonds if b["up"] < b["members"] or b["members"] < 2]
    if down:
        detail = ", ".join(f"{b['name']} {b['up']}/{b['members']}" for b in down)
        return [judge.verdict("FAIL", "bonds.fail", {"bonds": bonds}, detail=detail)]
    return [judge.verdict("PASS", "bonds.pass", {"bonds": bonds}, count=len(bonds))]


def check_antivirus(judge, facts, ctx):
    if ctx.platform == "linux" and ctx.linux_antivirus == "none":
        return [judge.verdict("NOT_APPLICABLE", "antivirus.na")]
    info = facts.get("antivirus") or {}
    age = info.get("signature_age_days")
    if age is None:
        return [judge.verdict("DECLARED", "antivirus.declared", info)]
    if info.get("running") is False:
        return [judge.verdict("FAIL", "antivirus.stopped", info)]
    limit = ctx.limits["signature_max_age_days"]
    if age > limit:
        return [judge.verdict("FAIL", "antivirus.old", info, age=round(age, 1), limit=limit)]
    return [judge.verdict("PASS", "antivirus.pass", info, age=round(age, 1))]


def check_security_box(judge, ctx):
    box = ctx.security_box
    if box == "none":
        return [judge.verdict("NOT_APPLICABLE", "security_box.na")]
    return [judge.verdict("DECLARED", "security_box.declared", {"option": box}, option=box)]


def check_ups(judge, facts, ctx):
    ups = facts.get("ups") or {}
    units = ups.get("units") or []
    if not ups.get("tool") or not units:
        return [judge.verdict("DECLARED", "ups.declared")]
    bad = [u for u in units if any(w in (u.get("status") or "").split() for w in _UPS_BAD)]
    unknown = [u for u in units if not u.get("status")]
    if bad:
        detail = ", ".join(f"{u['name']}: {u['status']}" for u in bad)
        return [judge.verdict("FAIL", "ups.fail", ups, detail=detail)]
    if unknown:
        return [
            judge.verdict("WARN", "ups.unknown", ups, names=", ".join(u["name"] for u in unknown))
        ]
    return [judge.verdict("PASS", "ups.pass", ups, count=len(units))]
