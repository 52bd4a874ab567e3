"""VIS-03 "alert tools": installed, enabled, running and at the version the project installs.

Each tool of data/compliance.yml that applies to the server is one item; so are the heartbeat
(the site's last notification, on the monitor host) and the services the rules require
(MON-SYS-08). Judged on the facts of docs/compliance-facts.md, the same for both platforms.
"""

from __future__ import annotations

import re

# The set-up day's tag that re-installs each tool (playbooks/site_day.yml).
TAGS = {
    "agent": "monitor_agent",
    "site": "monitor_site",
    "hardware_notifier": "hardware_sensors",
    "eventlog": "eventlog_collector",
    "backup_manager": "backup_manager",
    "antivirus": "antivirus",
}
# The collectors whose last run is itself a metric: a timer that runs but fails shows here.
COLLECTOR_METRICS = {
    "hardware_notifier": "preventcare_hardware_collector_last_run_timestamp_seconds",
    "eventlog": "preventcare_eventlog_collector_last_run_timestamp_seconds",
}


def version_tuple(text):
    """(1, 5, 0) of '1.5.0-1+b6' or '2:1.0.3'; () when there is no number."""
    text = str(text or "").split(":", 1)[-1]
    return tuple(int(n) for n in re.findall(r"\d+", re.split(r"[-~+]", text, maxsplit=1)[0]))


def tool_units(spec, jobs):
    """The units of a tool, the backup manager's expanded per contract job."""
    units = []
    for unit in spec.get("units") or []:
        units += [unit.format(job=job) for job in jobs] if "{job}" in unit else [unit]
    return units


def applies(name, ctx):
    """Whether tool `name` belongs on this server, and why not when it does not."""
    if name == "site":
        return ctx.is_monitor, "not the monitor host"
    if name == "backup_manager":
        return bool(ctx.backup_jobs), "no backup job of the contract runs here"
    if name == "antivirus" and ctx.platform == "linux":
        return ctx.linux_antivirus != "none", "the contract names no Linux antivirus"
    return True, ""


def tool_problems(spec, units, facts, ctx, name):
    """What is wrong with one tool, as short phrases (empty: nothing)."""
    problems = []
    states = facts.get("units") or {}
    for unit in units:
        state = states.get(unit) or {}
        if not state.get("present"):
            problems.append(f"{unit} absent")
        elif not state.get("active"):
            problems.append(f"{unit} stopped")
        elif not state.get("enabled"):
            problems.append(f"{unit} not enabled at boot")
    versions = facts.get("packages") or {}
    for package, minimum in (spec.get("packages") or {}).items():
        installed = versions.get(package)
        if installed is None:
            problems.append(f"{package} not installed")
        elif version_tuple(installed) < version_tuple(minimum):
            problems.append(f"{package} {installed} older than {minimum}")
    metric = COLLECTOR_METRICS.get(name)
    if metric and ctx.platform == "linux" and not problems:
        last = [m["value"] for m in facts.get("metrics") or [] if m["name"] == metric]
        stale = ctx.limits["collector_stale_minutes"] * 60
        if not last or last[0] is None or ctx.now - last[0] > stale:
            problems.append(f"{metric} not written for {ctx.limits['collector_stale_minutes']} min")
    return problems


def check_tools(judge_for, facts, ctx):
    results = []
    for name, spec in ctx.tools.items():
        judge = judge_for(f"tools.{name}")
        tool = judge.text(f"tool.{name}")
        ok, why = applies(name, ctx)
        if not ok:
            results.append(judge.verdict("NOT_APPLICABLE", "tools.na", {}, tool=tool, why=why))
            continue
        units = tool_units(spec, ctx.backup_jobs)
        problems = tool_problems(spec, units, facts, ctx, name)
        evidence = {
            "units": {u: (facts.get("units") or {}).get(u) for u in units},
            "versions": {
                p: (facts.get("packages") or {}).get(p) for p in spec.get("packages") or {}
            },
            "minimum_versions": dict(spec.get("packages") or {}),
        }
        if problems:
            evidence["problems"] = problems
            results.append(
                judge.verdict(
                    "FAIL",
                    "tools.fail",
                    evidence,
                    tool=tool,
                    problems="; ".join(problems),
                    tag=TAGS.get(name, name),
                )
            )
        else:
            results.append(judge.verdict("PASS", "tools.pass", evidence, tool=tool))
    return results


def check_required_services(judge, facts, ctx):
    """MON-SYS-08's required units/services: present and running."""
    states = facts.get("units") or {}
    missing = [
        u
        for u in ctx.required_units
        if not (states.get(u) or {}).get("present") or not (states.get(u) or {}).get("active")
    ]
    evidence = {"required": list(ctx.required_units), "not_running": missing}
    if missing:
        return [judge.verdict("FAIL", "services.fail", evidence, units=", ".join(missing))]
    return [judge.verdict("PASS", "services.pass", evidence, count=len(ctx.required_units))]


def check_heartbeat(judge, ctx):
    """The site's last heartbeat notification (monitor host only): MON-TEL-01 works."""
    if not ctx.is_monitor:
        return [judge.verdict("NOT_APPLICABLE", "heartbeat.na")]
    beat = ctx.site.get("heartbeat") or {}
    if not ctx.site.get("available") or beat.get("ok") is None:
        reason = ctx.site.get("reason") or beat.get("error") or "no notification metric"
        return [judge.verdict("WARN", "heartbeat.unknown", {"reason": reason}, reason=reason)]
    if beat["ok"]:
        return [judge.verdict("PASS", "heartbeat.pass", beat, last=beat.get("last_success"))]
    return [judge.verdict("FAIL", "heartbeat.fail", beat, last=beat.get("last_success") or "-")]
