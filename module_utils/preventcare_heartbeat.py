"""The set-up day's proof that alerting works (MON-TEL-01): Alertmanager's own counters.

Alertmanager counts every notification attempt per integration
(`alertmanager_notifications_total{integration="email"}`) and every failed one
(`alertmanager_notifications_failed_total{integration="email"}`, with a `reason` label from
0.26 on): attempts minus failures is the number of e-mails the relay accepted. When none
was, its log holds the relay's reply in the `err="..."` field of the "Notify attempt failed"
and "Notify for alerts failed" lines; `relay_reply()` takes the last one.
"""

from __future__ import annotations

import re

_SAMPLE = re.compile(r"^(alertmanager_notifications(?:_failed)?_total)\{([^}]*)\}\s+(\S+)\s*$")
_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')
_NOTIFY = ("Notify attempt failed", "Notify for alerts failed")


def deliveries(metrics_text, integration="email"):
    """{attempts, failed, delivered} of one integration in Alertmanager's /metrics text."""
    totals = {
        "alertmanager_notifications_total": 0.0,
        "alertmanager_notifications_failed_total": 0.0,
    }
    for line in str(metrics_text or "").splitlines():
        match = _SAMPLE.match(line.strip())
        if not match or f'integration="{integration}"' not in match[2]:
            continue
        try:
            totals[match[1]] += float(match[3])
        except ValueError:
            continue
    attempts = int(totals["alertmanager_notifications_total"])
    failed = int(totals["alertmanager_notifications_failed_total"])
    return {"attempts": attempts, "failed": failed, "delivered": max(attempts - failed, 0)}


def relay_reply(log_text):
    """The last notification error Alertmanager logged (the relay's reply), or ""."""
    reply = ""
    for line in str(log_text or "").splitlines():
        if any(marker in line for marker in _NOTIFY):
            match = _ERR.search(line)
            if match:
                reply = match[1].replace('\\"', '"')
    return reply
