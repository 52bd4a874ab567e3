"""The heartbeat proof's reading of Alertmanager (MON-TEL-01): counters and the relay's reply."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_heartbeat import deliveries, relay_reply
from preventcare_site_day_filters import (
    preventcare_alertmanager_deliveries,
    preventcare_waived,
)

# Alertmanager 0.25 (Debian 12) /metrics, as scraped from a live instance's format.
METRICS_025 = """\
# HELP alertmanager_notifications_failed_total The total number of failed notifications.
# TYPE alertmanager_notifications_failed_total counter
alertmanager_notifications_failed_total{integration="email"} 2
alertmanager_notifications_failed_total{integration="webhook"} 0
# HELP alertmanager_notifications_total The total number of attempted notifications.
# TYPE alertmanager_notifications_total counter
alertmanager_notifications_total{integration="email"} 3
alertmanager_notifications_total{integration="webhook"} 5
"""
# From 0.26 the failures carry a reason label: they are summed.
METRICS_027 = """\
alertmanager_notifications_failed_total{integration="email",reason="clientError"} 1
alertmanager_notifications_failed_total{integration="email",reason="serverError"} 1
alertmanager_notifications_failed_total{integration="email",reason="other"} 0
alertmanager_notifications_total{integration="email"} 2
"""
LOG = (
    "ts=2026-12-01T10:00:10Z caller=notify.go:745 level=warn component=dispatcher "
    'receiver=surveillance integration=email[0] msg="Notify attempt failed, will retry later" '
    'attempts=1 err="establish connection to server: dial tcp 10.89.65.2:25: connect: '
    'connection refused"\n'
    "ts=2026-12-01T10:00:40Z caller=dispatch.go:352 level=error component=dispatcher "
    'msg="Notify for alerts failed" num_alerts=1 err="surveillance/email[0]: notify retry '
    "canceled after 3 attempts: send RCPT TO: 554 5.7.1 <surveillance@preventcare.test>: "
    'Relay access denied"\n'
)


@pytest.mark.req("MON-TEL-01")
def test_delivered_is_attempts_minus_failures_of_the_email_integration():
    assert deliveries(METRICS_025) == {"attempts": 3, "failed": 2, "delivered": 1}
    assert deliveries(METRICS_027) == {"attempts": 2, "failed": 2, "delivered": 0}
    assert deliveries("") == {"attempts": 0, "failed": 0, "delivered": 0}


@pytest.mark.req("MON-TEL-01")
def test_the_relays_last_reply_is_taken_from_the_log():
    assert relay_reply(LOG) == (
        "surveillance/email[0]: notify retry canceled after 3 attempts: send RCPT TO: 554 5.7.1 "
        "<surveillance@preventcare.test>: Relay access denied"
    )
    assert relay_reply("level=info msg=Completed loading of configuration file") == ""


def test_the_filters_refuse_wrong_input_clearly():
    with pytest.raises(AnsibleFilterError, match="expects the /metrics text"):
        preventcare_alertmanager_deliveries(None)
    with pytest.raises(AnsibleFilterError, match="list of blocking failures"):
        preventcare_waived("x", [])


@pytest.mark.req("PRE-04")
def test_a_waiver_for_a_whole_requirement_covers_every_host_and_check():
    blocking = [
        {"host": "srv-a", "requirement": "PRE-03", "check": "ram", "status": "FAIL"},
        {"host": "srv-b", "requirement": "PRE-03", "check": "disk", "status": "FAIL"},
        {"host": "srv-b", "requirement": "PRE-05", "check": "os_support", "status": "FAIL"},
    ]
    waiver = {
        "requirement": "PRE-03",
        "reason": "RAM ordered",
        "author": "J. Roche",
        "date": "2026-12-01",
    }
    split = preventcare_waived(blocking, [waiver])
    assert [(w["host"], w["check"]) for w in split["waived"]] == [
        ("srv-a", "ram"),
        ("srv-b", "disk"),
    ]
    assert [o["requirement"] for o in split["open"]] == ["PRE-05"]
    narrow = {**waiver, "host": "srv-a", "check": "ram"}
    assert len(preventcare_waived(blocking, [narrow])["open"]) == 2
