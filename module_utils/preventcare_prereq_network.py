"""PRE-02: a fixed public IP (declared, and seen from the internet) and static addressing."""

from __future__ import annotations

import ipaddress

from ansible.module_utils.preventcare_data import as_dict
from ansible.module_utils.preventcare_ipv4 import classify_public_ipv4
from ansible.module_utils.preventcare_platforms import evidence_reader
from ansible.module_utils.preventcare_prereq_contract import contract_judge
from ansible.module_utils.preventcare_verdict import Judge


def check_public_ip(contract):
    """PRE-02: the declared public IP is a public unicast IPv4 address."""
    judge = contract_judge(contract, "PRE-02", "public_ip", blocking=True)
    declared = as_dict(contract).get("public_ip")
    if declared in (None, ""):
        return judge.verdict("FAIL", "public_ip.missing", {"public_ip": None})
    public, why = classify_public_ipv4(declared)
    if public:
        return judge.verdict(
            "PASS", "public_ip.pass", {"public_ip": declared, "public": True}, ip=declared
        )
    return judge.verdict(
        "FAIL",
        "public_ip.fail",
        {"public_ip": declared, "public": False, "category": why},
        ip=declared,
        reason=judge.text(f"ip_reason.{why}"),
    )


def check_egress_ip(contract, url=None, observed=None, error=None):
    """PRE-02: the address the internet sees (read from `url` on the controller) is the declared.

    NOT_APPLICABLE without a URL; WARN when the URL could not be read.
    """
    judge = contract_judge(contract, "PRE-02", "egress_ip", blocking=False)
    declared = as_dict(contract).get("public_ip")
    if not url:
        return judge.verdict("NOT_APPLICABLE", "egress.na", {"url": None})
    seen = str(observed or "").strip()
    evidence = {"url": url, "declared": declared, "observed": seen or None}
    try:
        seen_ip = str(ipaddress.ip_address(seen)) if seen else None
    except ValueError:
        seen_ip = None
        error = error or f"the answer is not an IP address: {seen[:60]!r}"
    if error or seen_ip is None:
        evidence["error"] = str(error or "empty answer")
        return judge.verdict("WARN", "egress.error", evidence, url=url, error=evidence["error"])
    if declared and seen_ip == str(declared).strip():
        return judge.verdict("PASS", "egress.pass", evidence, observed=seen_ip)
    return judge.verdict(
        "FAIL", "egress.fail", evidence, observed=seen_ip, declared=declared or "-"
    )


def check_static_addressing(host, evidence, *, platform, lang):
    """PRE-02: every routable IPv4 address of the host is static."""
    reader = evidence_reader(platform)
    judge = Judge.of("prerequisites", host, "PRE-02", "static_addressing", lang)
    rows = reader.addressing(evidence)
    shown = {"addresses": rows}
    errors = as_dict(as_dict(evidence).get("network")).get("errors")
    if errors:
        shown["collection_errors"] = errors
    if not rows:
        return judge.verdict("FAIL", "static.none", shown)
    dynamic = [r for r in rows if r["dynamic"]]
    if not dynamic:
        listing = ", ".join(f"{r['interface']} {r['address']}/{r['prefixlen']}" for r in rows)
        return judge.verdict("PASS", "static.pass", shown, addresses=listing)
    details, fixes = [], []
    for row in dynamic:
        why = ", ".join(judge.text(key, **values) for key, values in reader.dynamic_reasons(row))
        details.append(f"{row['interface']} {row['address']}/{row['prefixlen']} ({why})")
        key, values = reader.static_fix(row)
        fixes.append(judge.text(key if judge.texts.has(key) else "fix.kernel", **values))
    hint = " ".join([judge.text("static.hint.intro"), *fixes])
    return judge.verdict("FAIL", "static.fail", shown, hint=hint, details="; ".join(details))
