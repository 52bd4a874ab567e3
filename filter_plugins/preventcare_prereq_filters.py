"""Filters that judge the prerequisite evidence (PRE-01 … PRE-09) on the controller."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_data import plain
from ansible.module_utils.preventcare_prereq import (
    classify_public_ipv4,
    evaluate,
    load_tables,
)

# What playbooks/prerequisites.yml registers on each host.
REGISTERED = {
    "evidence": "__prerequisites_evidence",
    "evidence_plain": "__prerequisites_evidence_plain",
    "smtp": "__prerequisites_smtp",
    "win_evidence": "__prerequisites_win_evidence",
    "win_smtp": "__prerequisites_win_smtp",
    "win_updates": "__prerequisites_win_updates",
}
WINDOWS_CONNECTIONS = ("winrm", "psrp")


def _ran(outcome):
    return isinstance(outcome, Mapping) and bool(outcome) and not outcome.get("skipped")


def _bundle(host, variables):
    """The evidence of one host as evaluate_host() wants it, or None when it was not in the run."""
    registered = {key: plain(variables.get(name)) for key, name in REGISTERED.items()}
    if not any(isinstance(v, Mapping) for v in registered.values()):
        return None  # outside --limit: no task ever ran for it
    connection = str(variables.get("ansible_connection") or "")
    shell = str(variables.get("ansible_shell_type") or "")
    windows = connection in WINDOWS_CONNECTIONS or shell == "powershell"
    roles = variables.get("preventcare_roles") or []
    bundle = {
        "host": host,
        "platform": "windows" if windows else "linux",
        "roles": [str(r) for r in roles] if isinstance(roles, Sequence) else [],
    }
    if windows:
        bundle.update(
            evidence=registered["win_evidence"],
            smtp=registered["win_smtp"],
            win_updates=registered["win_updates"],
        )
        return bundle
    first, plain = registered["evidence"] or {}, registered["evidence_plain"]
    bundle["smtp"] = registered["smtp"]
    bundle["evidence"] = first
    if not first.get("unreachable") and "evidence" not in first and _ran(plain):
        # become failed before the module ran; the unprivileged run gives the rest.
        bundle["evidence"] = plain
        # sudo's own refusal is in module_stderr; msg only says the result was not JSON.
        message = " ".join(str(first.get("module_stderr") or first.get("msg") or "").split())
        bundle["become_error"] = message[:300] or "privilege escalation failed"
    return bundle


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


def preventcare_prerequisites(
    hostvars,
    hosts,
    contract,
    *,
    egress_url=None,
    egress_result=None,
    hardware=None,
    today=None,
    os_table=None,
    hardware_table=None,
):
    """Every prerequisite result of the run, contract-level first, then host by host."""
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError(
            f"preventcare_prerequisites expects hostvars, got {type(hostvars).__name__}"
        )
    if isinstance(hosts, str) or not isinstance(hosts, Sequence):
        raise AnsibleFilterError(
            f"preventcare_prerequisites: hosts must be a list of host names, "
            f"got {type(hosts).__name__} {hosts!r}"
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
    bundles = []
    for host in hosts:
        if str(host) not in hostvars:
            continue
        bundle = _bundle(str(host), hostvars[str(host)])
        if bundle is not None:
            bundles.append(bundle)
    return evaluate(bundles, contract, tables, _today(today), _egress(egress_url, egress_result))


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
            "preventcare_public_ipv4": preventcare_public_ipv4,
        }
