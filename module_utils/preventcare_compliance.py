"""VIS-03: replay the visit checklist on every server's facts, on the controller.

Pure functions: the facts of each server (docs/compliance-facts.md; the Linux module returns
them, preventcare_windows_compliance shapes Windows's), the validated contract, what the site's
Prometheus said (anomalies, disk trends, heartbeat) and the last technical document in;
result dicts out (preventcare_verdict), one list for the visit sheet. Each concern has its
module:
    preventcare_compliance_tools       alert tools, required services, heartbeat
    preventcare_compliance_security    directory, administrators, passwords, RAID, power,
                                       bonding, antivirus, security box, UPS
    preventcare_compliance_operations  backups, uptime, resources, disks, updates, dossier
Texts are data/texts/compliance.yml; limits and tools data/compliance.yml.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible.module_utils import preventcare_compliance_operations as ops
from ansible.module_utils import preventcare_compliance_security as sec
from ansible.module_utils import preventcare_compliance_tools as tools
from ansible.module_utils.preventcare_data import as_dict, as_list, data_path, load_table
from ansible.module_utils.preventcare_verdict import Judge, check_platform, contract_language

CATALOGUE = "compliance"
REQUIREMENT = "VIS-03"
# The items an unreachable server gets, every one UNREACHABLE (VIS-04).
HOST_ITEMS = (
    "tools",
    "services",
    "directory",
    "admins",
    "password",
    "raid",
    "power",
    "bonds",
    "backups",
    "antivirus",
    "ups",
    "uptime",
    "resources",
    "disks",
    "updates",
)


@dataclass
class Context:
    """What one server's judgement needs besides its facts."""

    host: str
    platform: str
    lang: str
    now: float
    limits: dict
    tools: dict
    required_units: list
    is_monitor: bool = False
    backup_jobs: list = field(default_factory=list)
    linux_antivirus: str = "none"
    security_box: str = "none"
    site: dict = field(default_factory=dict)
    episodes: list = field(default_factory=list)
    period_from: str | None = None
    backup_codes: dict = field(default_factory=dict)
    backup_max_age_hours: float = 26
    backup_alerts: tuple = ()
    reboot_alerts: tuple = ()
    low_disk_percent: float = 10


@dataclass
class DossierContext:
    technical: dict | None
    technical_path: str | None
    technical_run: str | None
    all_hosts: tuple


def load_tables():
    return (
        load_table(data_path("compliance.yml"), "compliance table"),
        load_table(data_path("thresholds.yml"), "thresholds table"),
    )


def backup_jobs(contract, host):
    """Names of the contract's backup jobs that run on `host` (default name: daily)."""
    return [
        j.get("name") or "daily"
        for j in as_list(as_dict(contract).get("backup"))
        if as_dict(j).get("host") == host
    ]


def required_units(thresholds, platform):
    """The units (Linux) or services (Windows) MON-SYS-08's rules require."""
    key = "linux_required_units" if platform == "linux" else "windows_required_services"
    return list(thresholds["params"][key])


def host_context(host, *, platform, contract, site, period_from, monitor_host, now, tables):
    """The Context of `host` from the contract, the site's history and the data tables."""
    compliance, thresholds = tables
    contract = as_dict(contract)
    items, params = thresholds["items"], thresholds["params"]
    jobs = backup_jobs(contract, host)
    by_item = {name: item["alert"] for name, item in items.items()}
    return Context(
        host=host,
        platform=check_platform(platform),
        lang=contract_language(contract),
        now=now,
        limits=compliance["limits"],
        tools=compliance["tools"][platform],
        required_units=list(
            params[f"{platform}_required_{'units' if platform == 'linux' else 'services'}"]
        ),
        is_monitor=host == monitor_host,
        backup_jobs=jobs,
        linux_antivirus=as_dict(contract.get("antivirus")).get("linux_tool", "none"),
        security_box=as_dict(contract.get("options")).get("security_box", "none"),
        site=as_dict(site),
        episodes=[e for e in as_list(as_dict(site).get("episodes")) if e.get("host") == host],
        period_from=period_from,
        backup_codes=thresholds["textfile_metrics"]["preventcare_backup_last_status"]["codes"],
        backup_max_age_hours=float(items["bk_not_received"]["value"]),
        backup_alerts=tuple(v for k, v in by_item.items() if k.startswith("bk_")),
        reboot_alerts=(by_item["sys_reboot"],),
        low_disk_percent=float(items["sys_low_disk"]["value"]),
    )


def _judges(host, lang):
    def judge_for(check):
        return Judge.of(CATALOGUE, host, REQUIREMENT, check, lang, blocking=False)

    return judge_for


def evaluate_host(facts, ctx):
    """Every checklist item of one reachable server."""
    judge_for = _judges(ctx.host, ctx.lang)
    results = tools.check_tools(judge_for, facts, ctx)
    results += tools.check_required_services(judge_for("services.required"), facts, ctx)
    results += tools.check_heartbeat(judge_for("tools.heartbeat"), ctx)
    for name, check in (
        ("access.directory", sec.check_directory),
        ("access.admins", sec.check_admins),
        ("access.password_policy", sec.check_password_policy),
        ("redundancy.raid", sec.check_raid),
        ("redundancy.power", sec.check_power),
        ("redundancy.bonding", sec.check_bonds),
        ("antivirus.signatures", sec.check_antivirus),
        ("perimeter.ups", sec.check_ups),
        ("performance.uptime", ops.check_uptime),
        ("performance.resources", ops.check_resources),
        ("performance.disks", ops.check_disks),
        ("updates.security", ops.check_updates),
    ):
        results += check(judge_for(name), facts, ctx)
    results += ops.check_backups(judge_for, facts, ctx)
    results += ops.check_backup_failures(judge_for("backups.failures"), ctx)
    results += sec.check_security_box(judge_for("perimeter.security_box"), ctx)
    results += [
        judge_for("collection").verdict(
            "WARN", "collection_failed", e, section=e.get("section"), msg=e.get("error")
        )
        for e in as_list(facts.get("errors"))
    ]
    return results


def unreachable_host(host, outcome, lang):
    """A server the run could not reach: every item UNREACHABLE."""
    judge_for = _judges(host, lang)
    return [judge_for(item).unreachable(outcome) for item in HOST_ITEMS]


def evaluate(hosts, *, contract, site, period_from, monitor_host, technical=None, now=None):
    """All results: `hosts` maps each inventory host to {platform, facts} or {platform, failed}.

    technical: {document (its dossier section), path, run} of the last technical document.
    """
    tables = load_tables()
    now = time.time() if now is None else now
    lang = contract_language(contract)
    results, reachable = [], {}
    for host, entry in hosts.items():
        facts = entry.get("facts")
        if not isinstance(facts, dict):
            results += unreachable_host(host, entry.get("failed") or {}, lang)
            continue
        reachable[host] = facts
        ctx = host_context(
            host,
            platform=entry.get("platform", "linux"),
            contract=contract,
            site=site,
            period_from=period_from,
            monitor_host=monitor_host,
            now=now,
            tables=tables,
        )
        results += evaluate_host(facts, ctx)
    technical = technical or {}
    dossier = DossierContext(
        technical=technical.get("document"),
        technical_path=technical.get("path"),
        technical_run=technical.get("run"),
        all_hosts=tuple(hosts),
    )

    def judge_for(host, check):
        return Judge.of(CATALOGUE, host, REQUIREMENT, check, lang, blocking=False)

    results += ops.check_dossier(judge_for, reachable, dossier)
    return results
