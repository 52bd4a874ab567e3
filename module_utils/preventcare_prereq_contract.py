"""PRE-04, PRE-07, PRE-09: what the contract itself records (homologation, phone, services)."""

from __future__ import annotations

from ansible.module_utils.preventcare_contract import service_problems
from ansible.module_utils.preventcare_data import as_dict, as_list
from ansible.module_utils.preventcare_verdict import Judge, contract_language


def contract_judge(contract, requirement, check, *, blocking):
    """The judge of a check on the contract itself (host "contract"), in its language."""
    lang = contract_language(contract)
    return Judge.of("prerequisites", "contract", requirement, check, lang, blocking=blocking)


def check_homologation(contract):
    """PRE-04: homologation status recorded in the contract."""
    judge = contract_judge(contract, "PRE-04", "homologation", blocking=False)
    homologation = as_dict(as_dict(contract).get("homologation"))
    status = homologation.get("status")
    shown = {"status": status, "date": homologation.get("date")}
    if status in ("configured_by_provider", "homologated"):
        status_text = judge.text(f"homologation.{status}", date=homologation.get("date") or "?")
        return judge.verdict("PASS", "homologation.pass", shown, status_text=status_text)
    key = "homologation.pending" if status == "pending" else "homologation.missing"
    return judge.verdict("WARN", key, shown)


def check_phone_attestation(contract):
    """PRE-07: a declared attestation is DECLARED, never PASS; none is a WARN.

    No attestation is not evidence that there is no telephone, and the fix is paperwork the
    engineer collects on site: a warning, not a blocking failure. The declarant's name is
    personal data (SEC-02) and stays out of the evidence.
    """
    judge = contract_judge(contract, "PRE-07", "server_room_phone", blocking=False)
    phone = as_dict(as_dict(as_dict(contract).get("attestations")).get("server_room_phone"))
    if phone:
        evidence = {"declared": True, "date": phone.get("date"), "verified": False}
        return judge.verdict("DECLARED", "phone.declared", evidence, date=phone.get("date") or "?")
    return judge.verdict("WARN", "phone.missing", {"declared": False, "verified": False})


def check_services(contract):
    """PRE-09: the subscribed services match the options, by the contract validation's rule."""
    judge = contract_judge(contract, "PRE-09", "services", blocking=True)
    services = as_list(as_dict(contract).get("services"))
    shown = {"services": services, "options": as_dict(as_dict(contract).get("options"))}
    problems = [message for message, _hint in service_problems(as_dict(contract))]
    if problems:
        shown["problems"] = problems
        joined = "; ".join(problems)
        return judge.verdict("FAIL", "services.fail", shown, hint=joined, problems=joined)
    return judge.verdict(
        "PASS", "services.pass", shown, services=", ".join(str(s) for s in services)
    )
