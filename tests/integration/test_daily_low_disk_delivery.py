"""MON-SYS-06: the low-disk mail leaves once a day at 03:00, the client's local time.

The monitor_site role's Alertmanager configuration is rendered from a contract
(tests/integration/playbooks/render_alertmanager.yml), then:
- two real Alertmanagers (Debian's binary, on loopback) load it, one with the daily window
  moved around now, one with it hours away; the same DiskSpaceLow alert is pushed to both,
  and only the first mails it to a real SMTP server (aiosmtpd);
- the rendered window is evaluated at fixed instants in winter, in summer and on both
  daylight-saving days: it opens at 03:00 in the contract's time zone all year, which UTC
  alone could not do.
"""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import pytest
from alertmanager_lab import GROUP_WAIT, Alertmanager, example_contract
from alertmanager_lab import render as render_config
from site_lab import MailSink

ZONE = "Europe/Paris"


def _contract(daily_at, sink_port):
    contract = example_contract()
    contract["timezone"] = ZONE
    contract["smtp_relay"] = {
        "host": "127.0.0.1",
        "port": sink_port,
        "tls": "none",
        "validate_certs": True,
        "sender": contract["smtp_relay"]["sender"],
    }
    contract["thresholds"] = {"MON-SYS-06": {"daily_at": daily_at}}
    return contract


def render(tmp_path, daily_at, sink_port=25):
    """The rendered alertmanager.yml (as a mapping) and the folder holding it."""
    return render_config(tmp_path, daily_at.replace(":", ""), _contract(daily_at, sink_port))


def _clock(moment):
    return moment.strftime("%H:%M")


def _windows(config):
    """{route alert name: (start, end, location)} of every route with a time interval."""
    intervals = {
        entry["name"]: entry["time_intervals"][0] for entry in config.get("time_intervals", [])
    }
    found = {}
    for route in config["route"]["routes"]:
        for name in route.get("active_time_intervals", []):
            [times] = intervals[name]["times"]
            alert = route["matchers"][0].split('"')[1]
            found[alert] = (times["start_time"], times["end_time"], intervals[name]["location"])
    return found


def _inside(window, instant):
    """Alertmanager's time interval with a location: local time of day in [start, end)."""
    start, end, location = window
    local = instant.astimezone(ZoneInfo(location))
    minutes = local.hour * 60 + local.minute

    def at(text):
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return at(start) <= minutes < at(end)


@pytest.mark.req("MON-SYS-06")
def test_the_daily_window_is_three_oclock_local_time_all_year(tmp_path):
    config, _ = render(tmp_path, "03:00")
    window = _windows(config)["DiskSpaceLow"]
    assert window[0] == "03:00" and window[2] == ZONE
    utc = datetime.UTC
    cases = [
        # (instant in UTC, inside the window?)                     local time
        (datetime.datetime(2026, 1, 15, 2, 2, tzinfo=utc), True),  # 03:02 CET
        (datetime.datetime(2026, 1, 15, 3, 2, tzinfo=utc), False),  # 04:02 CET
        (datetime.datetime(2026, 7, 15, 1, 2, tzinfo=utc), True),  # 03:02 CEST
        (datetime.datetime(2026, 7, 15, 2, 2, tzinfo=utc), False),  # 04:02 CEST
        (datetime.datetime(2026, 3, 29, 1, 2, tzinfo=utc), True),  # spring forward: 03:02 CEST
        (datetime.datetime(2026, 3, 28, 2, 2, tzinfo=utc), True),  # the day before: 03:02 CET
        (datetime.datetime(2026, 10, 25, 2, 2, tzinfo=utc), True),  # fall back: 03:02 CET
        (datetime.datetime(2026, 10, 24, 1, 2, tzinfo=utc), True),  # the day before: 03:02 CEST
        (datetime.datetime(2026, 10, 25, 1, 2, tzinfo=utc), False),  # 02:02 CET, not yet
    ]
    for instant, expected in cases:
        local = instant.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M %Z")
        assert _inside(window, instant) is expected, f"{instant:%Y-%m-%d %H:%M} UTC = {local}"


@pytest.mark.req("MON-SYS-06")
def test_the_low_disk_mail_leaves_inside_its_window_and_never_outside(tmp_path):
    """Two real Alertmanagers get the same alert; only the one whose window holds now mails."""
    sink = MailSink().start()
    now = datetime.datetime.now(ZoneInfo(ZONE))
    opened = now - datetime.timedelta(minutes=1)
    if opened.date() != now.date():  # just after midnight: a window cannot straddle it
        opened = now.replace(hour=0, minute=0)
    managers = {}
    try:
        for case, daily_at in (
            ("open", _clock(opened)),
            ("closed", _clock(now + datetime.timedelta(hours=3))),
        ):
            config, folder = render(tmp_path, daily_at, sink.port)
            assert _windows(config)["DiskSpaceLow"][0] == daily_at
            managers[case] = Alertmanager(config, folder)
        for case, manager in managers.items():
            manager.push(
                {
                    "alertname": "DiskSpaceLow",
                    "instance": f"srv-{case}",
                    "mountpoint": "/srv/compta",
                    "requirement": "MON-SYS-06",
                    "criticality": "significant",
                },
                {"summary": "[MON-SYS-06] espace disque libre < 10 %", "description": "test"},
            )
        mail = sink.wait_for(lambda a: "srv-open" in a.subject, timeout=GROUP_WAIT + 20)
        assert mail, f"no low-disk mail inside the window; received: {sink.arrivals}"
        assert "DiskSpaceLow" in mail.subject
        # The other Alertmanager holds the alert, and sends nothing while its window is shut.
        time.sleep(GROUP_WAIT + 5)
        assert [a["labels"]["instance"] for a in managers["closed"].alerts()] == ["srv-closed"]
        assert not sink.find(lambda a: "srv-closed" in a.subject), [
            a.subject for a in sink.arrivals
        ]
    finally:
        for manager in managers.values():
            manager.stop()
        sink.stop()
