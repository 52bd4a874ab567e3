"""The set-up day's proof that alerting works (MON-TEL-01): Alertmanager's own counters.

Alertmanager counts every request to the relay per integration, once it has its answer
(`alertmanager_notification_requests_total{integration="email"}`), and every refused one
(`alertmanager_notification_requests_failed_total`): requests minus refusals is the number of
e-mails the relay accepted. Not `alertmanager_notifications_total` / `..._failed_total`: those
count a notification when its retries start and its failure only when they give up (minutes
later, at the group's next flush), so a mail the relay keeps refusing reads "attempted, not
failed" meanwhile (seen live on Debian 12's 0.25 against a relay refusing the login).
When no e-mail was accepted, the log holds the relay's reply in the `err="..."` field of
the "Notify attempt failed" and "Notify for alerts failed" lines; `relay_reply()` takes the
last one.
"""

from __future__ import annotations

import re

REQUESTS = "alertmanager_notification_requests_total"
REFUSED = "alertmanager_notification_requests_failed_total"
_SAMPLE = re.compile(
    r"^(alertmanager_notification_requests(?:_failed)?_total)\{([^}]*)\}\s+(\S+)\s*$"
)
_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')
_NOTIFY = ("Notify attempt failed", "Notify for alerts failed")


def deliveries(metrics_text, integration="email"):
    """{attempts, failed, delivered} of one integration in Alertmanager's /metrics text.

    attempts and failed are requests to the relay and refused ones (a retried mail counts once
    per request); delivered is the e-mails it accepted.
    """
    totals = {REQUESTS: 0.0, REFUSED: 0.0}
    for line in str(metrics_text or "").splitlines():
        match = _SAMPLE.match(line.strip())
        if not match or f'integration="{integration}"' not in match[2]:
            continue
        try:
            totals[match[1]] += float(match[3])
        except ValueError:
            continue
    attempts, failed = int(totals[REQUESTS]), int(totals[REFUSED])
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
