"""The heartbeat proof's reading of Alertmanager (MON-TEL-01): counters and the relay's reply."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_heartbeat import deliveries, relay_reply
from preventcare_site_day_filters import (
    preventcare_alertmanager_deliveries,
    preventcare_waived,
)

# Alertmanager 0.25 (Debian 12) /metrics as a live instance gave it after refusing a login 13
# times, then accepting the mail on the 14th request: the notification counters still read
# "1 attempted, 0 failed" (their failure is counted only when the retries give up).
METRICS_025 = """\
# TYPE alertmanager_notification_requests_failed_total counter
alertmanager_notification_requests_failed_total{integration="email"} 13
alertmanager_notification_requests_failed_total{integration="webhook"} 0
# TYPE alertmanager_notification_requests_total counter
alertmanager_notification_requests_total{integration="email"} 14
alertmanager_notification_requests_total{integration="webhook"} 5
alertmanager_notifications_failed_total{integration="email"} 0
alertmanager_notifications_total{integration="email"} 1
"""
# Still refusing: the notification counters would say one mail attempted and none failed.
METRICS_REFUSING = """\
alertmanager_notification_requests_failed_total{integration="email"} 4
alertmanager_notification_requests_total{integration="email"} 4
alertmanager_notifications_failed_total{integration="email"} 0
alertmanager_notifications_total{integration="email"} 1
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
def test_delivered_is_requests_minus_refusals_of_the_email_integration():
    assert deliveries(METRICS_025) == {"attempts": 14, "failed": 13, "delivered": 1}
    assert deliveries(METRICS_REFUSING) == {"attempts": 4, "failed": 4, "delivered": 0}
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
