"""VIS-03 backups, performance and availability, security updates, and the technical dossier."""

from __future__ import annotations

from ansible.module_utils.preventcare_dossier import drift
from ansible.module_utils.preventcare_linux_compliance import epoch

DAY = 86400


def _backup_metric(facts, name, job):
    for m in facts.get("metrics") or []:
        if m["name"] == name and m["labels"].get("backup_job") == job:
            return m["value"]
    return None


def check_backups(judge_for, facts, ctx):
    """Per contract job on this server: age and result of the last run (MON-BK-03)."""
    if not ctx.backup_jobs:
        return [judge_for("backups.last").verdict("NOT_APPLICABLE", "backup.na")]
    results = []
    codes = {v: k for k, v in ctx.backup_codes.items()}
    max_age = ctx.backup_max_age_hours
    for job in ctx.backup_jobs:
        judge = judge_for(f"backups.{job}")
        status = _backup_metric(facts, "preventcare_backup_last_status", job)
        ended = _backup_metric(facts, "preventcare_backup_last_end_timestamp_seconds", job)
        outcome = codes.get(int(status)) if status is not None else None
        age = None if ended is None else round((ctx.now - ended) / 3600, 1)
        evidence = {"job": job, "outcome": outcome, "age_hours": age, "max_age_hours": max_age}
        if status is None or ended is None:
            results.append(judge.verdict("FAIL", "backup.never", evidence, job=job))
        elif outcome != "success":
            results.append(
                judge.verdict("FAIL", "backup.failed", evidence, job=job, outcome=outcome or status)
            )
        elif age > max_age:
            results.append(judge.verdict("FAIL", "backup.old", evidence, job=job, age=age))
        else:
            results.append(judge.verdict("PASS", "backup.pass", evidence, job=job, age=age))
    return results


def check_backup_failures(judge, ctx):
    """Backup alert episodes since the last visit, from the site's Prometheus."""
    if not ctx.backup_jobs:
        return [judge.verdict("NOT_APPLICABLE", "backup.na")]
    if not ctx.site.get("available"):
        reason = ctx.site.get("reason") or "-"
        return [judge.verdict("WARN", "backup_failures.unknown", {"reason": reason}, reason=reason)]
    found = [e for e in ctx.episodes if e.get("alert") in ctx.backup_alerts]
    evidence = {"episodes": found, "since": ctx.period_from}
    if found:
        return [judge.verdict("WARN", "backup_failures.some", evidence, count=len(found))]
    return [judge.verdict("PASS", "backup_failures.none", evidence, since=ctx.period_from)]


def check_uptime(judge, facts, ctx):
    reboots = facts.get("reboots")
    days = round((facts.get("uptime_seconds") or 0) / DAY, 1)
    evidence = {"boot_time": facts.get("boot_time"), "uptime_days": days, "reboots": reboots}
    unexpected = [e for e in ctx.episodes if e.get("alert") in ctx.reboot_alerts]
    evidence["unexpected_reboot_alerts"] = len(unexpected)
    count = "?" if reboots is None else len(reboots)
    if unexpected:
        return [judge.verdict("WARN", "uptime.reboots", evidence, count=len(unexpected))]
    return [judge.verdict("PASS", "uptime.pass", evidence, days=days, count=count)]


def check_resources(judge, facts, ctx):
    load, memory = facts.get("load") or {}, facts.get("memory") or {}
    evidence = {"load": load, "memory": memory}
    problems = []
    if (
        load.get("load15") is not None
        and load["load15"] / max(load.get("cpus") or 1, 1) > (ctx.limits["load_per_cpu_warn"])
    ):
        problems.append(f"load {load['load15']} on {load.get('cpus')} CPU")
    total, available = memory.get("total_bytes"), memory.get("available_bytes")
    if total and available is not None:
        free = round(100 * available / total, 1)
        evidence["memory_available_percent"] = free
        if free < ctx.limits["memory_available_warn_percent"]:
            problems.append(f"memory available {free} %")
    if problems:
        return [judge.verdict("WARN", "resources.warn", evidence, problems="; ".join(problems))]
    return [judge.verdict("PASS", "resources.pass", evidence)]


def check_disks(judge, facts, ctx):
    """Free space now (MON-SYS-06's threshold) and days until full at the current rate."""
    trends = {
        t.get("mount"): t for t in ctx.site.get("disk_trends") or [] if t.get("host") == ctx.host
    }
    disks, full, soon = [], [], []
    for fs in facts.get("filesystems") or []:
        if not fs.get("size_bytes"):
            continue
        free = round(100 * fs["free_bytes"] / fs["size_bytes"], 1)
        days = (trends.get(fs["mount"]) or {}).get("days_until_full")
        disks.append({"mount": fs["mount"], "free_percent": free, "days_until_full": days})
        if free < ctx.low_disk_percent:
            full.append(f"{fs['mount']} {free} %")
        elif days is not None and days < ctx.limits["disk_full_warn_days"]:
            soon.append(f"{fs['mount']} {round(days)} d")
    evidence = {"filesystems": disks, "trend": "available" if trends else ctx.site.get("reason")}
    if full:
        return [judge.verdict("FAIL", "disk.full", evidence, mounts=", ".join(full))]
    if soon:
        return [judge.verdict("WARN", "disk.soon", evidence, mounts=", ".join(soon))]
    return [judge.verdict("PASS", "disk.pass", evidence, count=len(disks))]


def check_updates(judge, facts, ctx):
    info = facts.get("updates") or {}
    pending = info.get("pending_security")
    last = epoch(info.get("last_install"))
    age = None if last is None else round((ctx.now - last) / DAY)
    evidence = dict(info, days_since_last_install=age)
    if pending is None:
        return [judge.verdict("WARN", "updates.unknown", evidence)]
    if pending and (age is None or age > ctx.limits["updates_overdue_days"]):
        return [judge.verdict("FAIL", "updates.overdue", evidence, count=pending, days=age or "?")]
    if pending or info.get("reboot_required"):
        return [judge.verdict("WARN", "updates.pending", evidence, count=pending)]
    return [judge.verdict("PASS", "updates.pass", evidence, days=age if age is not None else "?")]


def check_dossier(judge_for, facts_by_host, ctx):
    """Drift between the last technical document and the current facts, item by item."""
    document = ctx.technical
    if not document:
        return [
            judge_for(host, "dossier.drift").verdict("NOT_APPLICABLE", "dossier.none")
            for host in facts_by_host
        ]
    before = document.get("hosts") or {}
    current = {h: f.get("dossier") for h, f in facts_by_host.items() if f.get("dossier")}
    changes = drift(
        {h: e for h, e in before.items() if h in current or h not in ctx.all_hosts}, current
    )
    results = []
    for host in sorted(set(current) | {c["host"] for c in changes}):
        own = [c for c in changes if c["host"] == host]
        judge = judge_for(host, "dossier.drift")
        evidence = {"document": ctx.technical_path, "changes": own}
        if own:
            summary = "; ".join(f"{c['change']} {c['kind']} {c['value']}" for c in own)
            results.append(
                judge.verdict("WARN", "dossier.drift", evidence, count=len(own), changes=summary)
            )
        else:
            results.append(judge.verdict("PASS", "dossier.pass", evidence, run=ctx.technical_run))
    return results
