"""PRE-01: the security appliance's SMTP relay carries mail from the server to the mailbox."""

from __future__ import annotations

from ansible.module_utils.preventcare_data import as_dict
from ansible.module_utils.preventcare_platforms import evidence_reader
from ansible.module_utils.preventcare_verdict import Judge, failure_message

# What the report shows of the dialogue; the transcript is already masked (SEC-01).
SHOWN = (
    "failure_class",
    "step",
    "reply",
    "reason",
    "enhanced_status",
    "capabilities",
    "tls_version",
    "tls_cipher",
    "peer_certificate",
    "timings",
    "token",
    "message_sent",
    "transcript",
)


def check_smtp(host, outcome, *, platform, lang, contract=None):
    """PRE-01 from the SMTP dialogue's result (module on Linux, script on Windows)."""
    judge = Judge.of("prerequisites", host, "PRE-01", "smtp_relay", lang)
    outcome = as_dict(outcome)
    relay = as_dict(as_dict(contract).get("smtp_relay"))
    target = f"{relay.get('host', '?')}:{relay.get('port', '?')}"
    if outcome.get("unreachable"):
        return judge.unreachable(outcome)
    verdict = evidence_reader(platform).smtp_outcome(outcome, relay, lang)
    if verdict is None:
        msg = failure_message(outcome) if outcome else "the SMTP task did not run"
        return judge.verdict("FAIL", "smtp.error", {"relay": target, "error": msg}, msg=msg)
    shown = {"relay": target, **{k: verdict.get(k) for k in SHOWN if k in verdict}}
    if verdict.get("status") == "PASS":
        return judge.verdict("PASS", "smtp.pass", shown, relay=target)
    return judge.verdict(
        "FAIL",
        "smtp.fail",
        shown,
        hint=verdict.get("hint") or "",
        relay=target,
        failure_class=verdict.get("failure_class") or "?",
        step=verdict.get("step") or "?",
    )
