"""PRE-01 … PRE-09: judge every server's evidence and the contract, on the controller.

Pure functions: each host's evidence (one structure per host, handed over by
playbooks/prerequisites.yml), the validated contract, the data tables and `today` in,
result dicts out (see preventcare_verdict). Each check lives in a module named for its
concern:
    preventcare_prereq_relay     PRE-01 SMTP relay
    preventcare_prereq_network   PRE-02 public IP, egress IP, static addressing
    preventcare_prereq_hardware  PRE-03 hardware minimums
    preventcare_prereq_os        PRE-05 vendor support, security updates
    preventcare_prereq_remote    PRE-06 remote assistance
    preventcare_prereq_access    PRE-08 administrator access
    preventcare_prereq_contract  PRE-04, PRE-07, PRE-09 (what the contract records)
Platform evidence is read by preventcare_linux / preventcare_windows; texts are
data/texts/prerequisites.yml.
"""

from __future__ import annotations

from ansible.module_utils.preventcare_data import as_dict, as_list, data_path, load_table
from ansible.module_utils.preventcare_platforms import evidence_reader
from ansible.module_utils.preventcare_prereq_access import check_admin_access
from ansible.module_utils.preventcare_prereq_contract import (
    check_homologation,
    check_phone_attestation,
    check_services,
)
from ansible.module_utils.preventcare_prereq_hardware import check_hardware
from ansible.module_utils.preventcare_prereq_network import (
    check_egress_ip,
    check_public_ip,
    check_static_addressing,
)
from ansible.module_utils.preventcare_prereq_os import (
    as_date,
    check_os_support,
    check_security_updates,
)
from ansible.module_utils.preventcare_prereq_relay import check_smtp
from ansible.module_utils.preventcare_prereq_remote import check_remote_assistance
from ansible.module_utils.preventcare_verdict import (
    Judge,
    check_platform,
    contract_language,
)

OS_TABLE = data_path("os_support.yml")
HARDWARE_TABLE = data_path("hardware_prerequisites.yml")

# The checks that need the host, one per requirement: what an unreachable host gets.
HOST_CHECKS = (
    ("PRE-01", "smtp_relay"),
    ("PRE-02", "static_addressing"),
    ("PRE-03", "hardware"),
    ("PRE-05", "os_support"),
    ("PRE-06", "remote_assistance"),
    ("PRE-08", "admin_access"),
)

# The checks judged from the evidence, in report order.
EVIDENCE_CHECKS = (
    *HOST_CHECKS[1:4],
    ("PRE-05", "security_updates"),
    *HOST_CHECKS[4:],
)

# The evidence sections each check reads (the same names on Linux and Windows): a failed
# section makes its checks "collection failed" with the section's own message.
EVIDENCE_SECTIONS = {
    "static_addressing": ("network",),
    "hardware": ("hardware",),
    "os_support": ("os",),
    "remote_assistance": ("remote_assistance",),
    "admin_access": ("privilege",),
}


def _judges(host, lang, checks):
    return [
        Judge.of("prerequisites", host, requirement, check, lang) for requirement, check in checks
    ]


def host_evidence(collected):
    """The evidence of one host as gathered: (evidence outcome, become error or None).

    On Linux a refused privilege escalation never ran the module; the unprivileged run
    that follows it gives the rest of the evidence, and sudo's refusal is PRE-08's finding.
    """
    collected = as_dict(collected)
    first = as_dict(collected.get("evidence"))
    plain = as_dict(collected.get("evidence_plain"))
    ran_plain = bool(plain) and not plain.get("skipped")
    if first.get("unreachable") or "evidence" in first or not ran_plain:
        return first, None
    # sudo's own refusal is in module_stderr; msg only says the result was not JSON.
    message = " ".join(str(first.get("module_stderr") or first.get("msg") or "").split())
    return plain, message[:300] or "privilege escalation failed"


def evaluate_host(collected, contract, tables, today):
    """Every host-level result for one server.

    collected: {host, platform (linux|windows), roles, evidence (the gathering task's
    result, with the SMTP verdict as `smtp` on Linux), evidence_plain (Linux, without
    become), smtp (Windows: the dialogue script's result), win_updates (Windows)}.
    """
    collected = as_dict(collected)
    host = collected.get("host") or "?"
    platform = check_platform(collected.get("platform"))
    lang = contract_language(contract)
    outcome, become_error = host_evidence(collected)
    if outcome.get("unreachable"):
        return [judge.unreachable(outcome) for judge in _judges(host, lang, HOST_CHECKS)]
    # Linux holds the SMTP dialogue in the evidence module's execution; Windows runs a script.
    smtp = collected["smtp"] if "smtp" in collected else outcome.get("smtp")
    results = [check_smtp(host, smtp, platform=platform, lang=lang, contract=contract)]
    # The module returns {evidence: ...}; win_powershell returns {result: ...}.
    evidence = outcome.get("evidence" if platform == "linux" else "result")
    if outcome.get("failed") or not isinstance(evidence, dict):
        msg = (
            evidence_reader(platform).task_failure(outcome)
            if outcome
            else "the gathering task did not run"
        )
        return results + [
            judge.verdict("FAIL", "no_evidence", {"error": msg}, msg=msg)
            for judge in _judges(host, lang, HOST_CHECKS[1:])
        ]
    tables = as_dict(tables)
    common = {"platform": platform, "lang": lang}
    failed = evidence_reader(platform).section_errors(evidence)
    checks = {
        "static_addressing": lambda: check_static_addressing(host, evidence, **common),
        "hardware": lambda: check_hardware(
            host,
            evidence,
            **common,
            table=tables.get("hardware"),
            roles=as_list(collected.get("roles")),
            overrides=tables.get("hardware_overrides"),
        ),
        "os_support": lambda: check_os_support(
            host, evidence, **common, table=tables.get("os"), today=today
        ),
        "security_updates": lambda: check_security_updates(
            host, evidence, **common, win_updates=collected.get("win_updates")
        ),
        "remote_assistance": lambda: check_remote_assistance(
            host, evidence, **common, contract=contract
        ),
        "admin_access": lambda: check_admin_access(
            host, evidence, **common, become_error=become_error
        ),
    }
    for requirement, check in EVIDENCE_CHECKS:
        broken = [(s, failed[s]) for s in EVIDENCE_SECTIONS.get(check, ()) if s in failed]
        if broken:
            results.append(_collection_failed(host, requirement, check, lang, broken))
        else:
            results.append(checks[check]())
    return results


def _collection_failed(host, requirement, check, lang, broken):
    """A check whose evidence section failed: the script's own message, never a guess."""
    judge = Judge.of("prerequisites", host, requirement, check, lang)
    section, msg = broken[0]
    shown = {"collection_errors": [{"section": s, "error": m} for s, m in broken]}
    return judge.verdict("FAIL", "collection_failed", shown, section=section, msg=msg)


def evaluate_contract(contract, egress=None):
    """The contract-level results (PRE-02 public IP and egress, PRE-04, PRE-07, PRE-09)."""
    egress = as_dict(egress)
    return [
        check_public_ip(contract),
        check_egress_ip(contract, egress.get("url"), egress.get("observed"), egress.get("error")),
        check_homologation(contract),
        check_phone_attestation(contract),
        check_services(contract),
    ]


def evaluate(hosts, contract, tables, today, egress=None):
    """Every result of the run: the contract's first, then each host in inventory order."""
    results = evaluate_contract(contract, egress)
    for collected in hosts:
        results += evaluate_host(collected, contract, tables, today)
    return results


def load_tables(os_path=None, hardware_path=None):
    """{os, hardware} read from data/ (or the given paths), each entry's date checked."""
    tables = {
        "os": load_table(os_path or OS_TABLE),
        "hardware": load_table(hardware_path or HARDWARE_TABLE),
    }
    for index, item in enumerate(as_list(tables["os"].get("entries"))):
        entry = as_dict(item)
        for key in ("end_of_support", "paid_until"):
            if key in entry:
                try:
                    as_date(entry[key])
                except ValueError:
                    raise ValueError(
                        f"os_support.yml entries[{index}] ({entry.get('name')}): {key} "
                        f"{entry[key]!r} is not a date (YYYY-MM-DD)"
                    ) from None
        if not entry.get("source"):
            raise ValueError(f"os_support.yml entries[{index}] ({entry.get('name')}) has no source")
    return tables
