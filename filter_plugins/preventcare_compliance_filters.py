"""Filters of the compliance run (VIS-03): what to read on each server, and the judgement."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_compliance import (
    backup_jobs,
    evaluate,
    load_tables,
    required_units,
)
from ansible.module_utils.preventcare_compliance_tools import tool_units
from ansible.module_utils.preventcare_data import as_dict, plain
from ansible.module_utils.preventcare_visit import plan, site_findings
from ansible.module_utils.preventcare_windows_compliance import compliance_facts


def preventcare_compliance_probes(hosts, contract, since=None, platform="linux"):
    """{host: what to read on it} for every host of a platform: the `compliance` option of
    preventcare_evidence (Linux), the variables of playbooks/tasks/compliance_windows.yml
    (Windows). Computed once for the fleet on the controller, not once per host."""
    compliance, thresholds = load_tables()
    contract = as_dict(plain(contract))
    tool_specs = compliance["tools"][platform]
    required = required_units(thresholds, platform)
    probes = {}
    for host in hosts or ():
        jobs = backup_jobs(contract, host)
        units, packages = [], []
        for spec in tool_specs.values():
            units += tool_units(spec, jobs)
            packages += list(spec.get("packages") or {})
        probe = {
            "units": list(dict.fromkeys(units + required)),
            "packages": list(dict.fromkeys(packages)),
            "textfile_dir": compliance["textfile_dir"][platform],
        }
        if since:
            probe["since"] = str(since)
        probes[str(host)] = probe
    return probes


def preventcare_visit_plan(contract, reports_dir, run_id=None):
    """The period, previous sheet and last technical document of this visit."""
    contract = as_dict(plain(contract))
    client = as_dict(contract.get("client")).get("id")
    if not client:
        raise AnsibleFilterError("preventcare_visit_plan: the contract has no client id")
    return plan(str(reports_dir), client, contract, exclude_run=run_id)


def _entry(result, platform):
    """{platform, facts} of a reachable server, {platform, failed} otherwise."""
    result = as_dict(plain(result))
    if not result or result.get("unreachable") or result.get("failed") or result.get("skipped"):
        return {"platform": platform, "failed": result or {"msg": "no evidence was gathered"}}
    if platform == "windows":
        return {"platform": platform, "facts": compliance_facts(result)}
    facts = result.get("compliance")
    if not isinstance(facts, Mapping):
        return {"platform": platform, "failed": {"msg": "the evidence module returned no facts"}}
    return {"platform": platform, "facts": facts}


def preventcare_compliance(
    hosts, hostvars, contract, visit_plan, *, windows=(), site=None, now=None
):
    """Every checklist result of the inventory's `hosts`, from what each one registered.

    hostvars[host].__compliance_evidence is the Linux module's result;
    hostvars[host].preventcare_compliance_raw the Windows script's.
    """
    if isinstance(hosts, str | Mapping):
        raise AnsibleFilterError("preventcare_compliance expects the list of inventory hosts")
    contract = as_dict(plain(contract))
    visit_plan = as_dict(plain(visit_plan))
    windows = set(windows or ())
    collected = {}
    for host in hosts:
        own = hostvars[host]
        name = "preventcare_compliance_raw" if host in windows else "__compliance_evidence"
        # A host left out of the run (--limit) registered nothing: it is not on the sheet.
        # An unreachable one did register (ignore_unreachable) and gets every item UNREACHABLE.
        if name not in own:
            continue
        collected[host] = _entry(own.get(name), "windows" if host in windows else "linux")
    try:
        return evaluate(
            collected,
            contract=contract,
            site=as_dict(plain(site)) or {"available": False, "reason": "no site monitor"},
            period_from=visit_plan.get("from"),
            monitor_host=contract.get("monitor_host"),
            technical=visit_plan.get("technical"),
            now=now,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"preventcare_compliance: {type(exc).__name__}: {exc}") from exc


def preventcare_site_findings(monitor_host, hostvars, contract, hosts=()):
    """What the site's Prometheus said over the period, read by the monitor host's evidence:
    {available, reason, episodes, disk_trends, heartbeat, chart_svg}."""
    contract = as_dict(plain(contract))
    if not monitor_host or monitor_host not in hostvars:
        return {"available": False, "reason": f"the monitor host {monitor_host} is not in this run"}
    result = as_dict(plain(hostvars[monitor_host].get("__compliance_evidence")))
    history = as_dict(result.get("compliance")).get("site_history")
    if not history:
        why = "unreachable" if result.get("unreachable") or result.get("failed") else "not read"
        return {"available": False, "reason": f"the site history of {monitor_host} was {why}"}
    return site_findings(history, contract, hosts=_scrape_names(hosts, hostvars))


def _scrape_names(hosts, hostvars):
    """{address or name a scrape target may carry: inventory name} of the inventory's hosts."""
    names = {}
    for host in hosts or ():
        own = hostvars[host]
        for key in ("preventcare_monitor_address", "ansible_host"):
            value = plain(own.get(key))
            if isinstance(value, str) and value:
                names.setdefault(value, host)
        names[host] = host
    return names


class FilterModule:
    def filters(self):
        return {
            "preventcare_compliance_probes": preventcare_compliance_probes,
            "preventcare_visit_plan": preventcare_visit_plan,
            "preventcare_compliance": preventcare_compliance,
            "preventcare_site_findings": preventcare_site_findings,
        }
