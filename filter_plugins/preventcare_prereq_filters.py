"""Filters that judge the prerequisite evidence (PRE-01 … PRE-09) on the controller."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_data import plain
from ansible.module_utils.preventcare_prereq import evaluate, load_tables
from ansible.module_utils.preventcare_prereq_network import classify_public_ipv4
from ansible.module_utils.preventcare_prereq_remote import (
    linux_probes,
    remote_tools_catalogue,
    windows_services,
)
from ansible.module_utils.preventcare_verdict import PLATFORMS


def _egress(url, outcome):
    if not url:
        return None
    outcome = plain(outcome) if isinstance(outcome, Mapping) else {}
    if outcome.get("failed") or not outcome:
        return {"url": url, "error": str(outcome.get("msg") or "the request did not run")}
    return {"url": url, "observed": outcome.get("content")}


def _today(today):
    if today is None or today == "":
        return datetime.date.today()
    if isinstance(today, datetime.date):
        return today
    try:
        return datetime.date.fromisoformat(str(today))
    except ValueError:
        raise AnsibleFilterError(
            f"preventcare_prerequisites: today must be a date YYYY-MM-DD, got {today!r}"
        ) from None


def preventcare_prerequisites_collected(hosts, hostvars):
    """Each host's evidence for the judge, in inventory order, from what the gathering plays
    left in hostvars: the Linux play's registered results as they are (no task per host to
    hand them over), the Windows play's own hand-over (__prerequisites_collected). A host
    neither play ran on (left out by --limit) is not on the report. An unreachable host's
    result is kept: the judge makes every check of it UNREACHABLE."""
    if isinstance(hosts, (str, Mapping)) or not isinstance(hosts, Sequence):
        raise AnsibleFilterError(
            "preventcare_prerequisites_collected expects a list of hosts, got "
            f"{type(hosts).__name__}"
        )
    collected = []
    for host in hosts:
        variables = hostvars[host]
        if "__prerequisites_collected" in variables:
            collected.append(variables["__prerequisites_collected"])
        elif "__prerequisites_evidence" in variables:
            collected.append(
                {
                    "host": str(host),
                    "platform": "linux",
                    "roles": variables.get("preventcare_roles") or [],
                    "evidence": variables["__prerequisites_evidence"],
                    "evidence_plain": variables.get("__prerequisites_evidence_plain") or {},
                }
            )
    return collected


def preventcare_prerequisites(
    collected,
    contract,
    *,
    egress_url=None,
    egress_result=None,
    hardware=None,
    today=None,
    os_table=None,
    hardware_table=None,
):
    """Every prerequisite result of the run, contract-level first, then host by host.

    collected: one structure per host, as playbooks/prerequisites.yml hands it over
    ({host, platform, roles, evidence, evidence_plain, smtp, win_updates}).
    """
    if isinstance(collected, (str, Mapping)) or not isinstance(collected, Sequence):
        raise AnsibleFilterError(
            "preventcare_prerequisites expects the list of each host's collected evidence, "
            f"got {type(collected).__name__}"
        )
    hosts = [plain(item) for item in collected]
    malformed = [h for h in hosts if not isinstance(h, dict) or h.get("platform") not in PLATFORMS]
    if malformed:
        raise AnsibleFilterError(
            "preventcare_prerequisites: each host's evidence must be a mapping with a platform "
            f"({' or '.join(PLATFORMS)}); got {str(malformed[0])[:120]}"
        )
    if not isinstance(contract, Mapping):
        raise AnsibleFilterError(
            "preventcare_prerequisites: contract must be the validated contract "
            f"(preventcare_contract), got {type(contract).__name__}"
        )
    if hardware is not None and not isinstance(hardware, Mapping):
        raise AnsibleFilterError(
            "preventcare_prerequisites: hardware overrides must be a mapping like "
            f"{{min_memory_mib: 4096}}, got {type(hardware).__name__} {hardware!r}"
        )
    try:
        tables = load_tables(os_table, hardware_table)
    except ValueError as exc:
        raise AnsibleFilterError(f"preventcare_prerequisites: {exc}") from None
    contract = plain(contract)
    overrides = plain(hardware) if hardware else contract.get("hardware_prerequisites")
    tables["hardware_overrides"] = overrides or {}
    return evaluate(hosts, contract, tables, _today(today), _egress(egress_url, egress_result))


def _tools(tools, name):
    if tools is None:
        return list(remote_tools_catalogue())
    if isinstance(tools, str) or not isinstance(tools, Sequence):
        raise AnsibleFilterError(
            f"{name} expects the contract's remote_assistance.tools (a list of tool names), "
            f"got {type(tools).__name__} {tools!r}"
        )
    return [str(t) for t in tools]


def preventcare_remote_tool_probes(tools=None):
    """How the evidence module finds each tool on Linux (all catalogued tools by default)."""
    return linux_probes(_tools(tools, "preventcare_remote_tool_probes"))


def preventcare_remote_tool_services(tools=None):
    """The Windows service names the evidence script reads (all catalogued tools by default)."""
    return windows_services(_tools(tools, "preventcare_remote_tool_services"))


def preventcare_public_ipv4(value):
    """{public: bool, category: why not} for an IPv4 address (PRE-02)."""
    if not isinstance(value, str):
        raise AnsibleFilterError(
            f"preventcare_public_ipv4 expects an IPv4 address as text, "
            f"got {type(value).__name__} {value!r}"
        )
    public, why = classify_public_ipv4(value)
    return {"address": value, "public": public, "category": why}


class FilterModule:
    """PreventCare prerequisite filters."""

    def filters(self):
        return {
            "preventcare_prerequisites": preventcare_prerequisites,
            "preventcare_prerequisites_collected": preventcare_prerequisites_collected,
            "preventcare_public_ipv4": preventcare_public_ipv4,
            "preventcare_remote_tool_probes": preventcare_remote_tool_probes,
            "preventcare_remote_tool_services": preventcare_remote_tool_services,
        }
