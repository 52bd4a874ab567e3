"""VIS-03 anomalies since the last visit (ALR-02 criticality, VIS-04 sheet): pure functions.

Histories are written by hand in the shape module_utils/preventcare_prometheus_api.py returns
(tests/integration/test_site_history.py reads real ones from a real Prometheus).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from ansible.module_utils import preventcare_anomalies as anomalies
from ansible.module_utils import preventcare_prometheus_api as api

T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z
DAY = 86400
START, END = T0, T0 + 183 * DAY
STEP = 1440


def labels(alert, item, requirement, criticality, instance, **extra):
    return {
        "alertname": alert,
        "alertstate": "firing",
        "preventcare_item": item,
        "requirement": requirement,
        "criticality": criticality,
        "instance": instance,
        **extra,
    }


def history(series=(), *, rules=None, active=None, disks=None, beat=None):
    return {
        "schema_version": 1,
        "start": START,
        "end": END,
        "error": None,
        "alerts": {
            "query_start": START,
            "query_end": END,
            "step": STEP,
            "resolution": 30,
            "series": list(series),
            "rules": rules or {},
            "active": active,
            "warnings": [],
        },
        "disks": disks or {"at": END, "window": "7d", "volumes": []},
        "heartbeat": beat
        or {
            "at": END,
            "window_seconds": 10800,
            "step": 15,
            "attempts": [],
            "failures": [],
        },
    }


def run(first, last, step=STEP):
    """A run of windows around [first, last] with its known first and last sample times."""
    window_start = (first // step) * step
    window_end = (last // step + 1) * step
    return [window_start, window_end, first, last]


RAID = labels("RaidDegraded", "hw_raid_degraded", "MON-HW-01", "significant", "srv-lin01")


# --------------------------------------------------------------------------- episodes
@pytest.mark.req("VIS-03")
@pytest.mark.req("ALR-02")
def test_an_episode_carries_host_requirement_criticality_and_times():
    at = START + 10 * DAY
    found = anomalies.episodes(history([{"labels": RAID, "runs": [run(at, at + 90)]}]), "fr")
    assert found == [
        {
            "host": "srv-lin01",
            "instance": "srv-lin01",
            "alert": "RaidDegraded",
            "item": "hw_raid_degraded",
            "requirement": "MON-HW-01",
            "criticality": "significant",
            "criticality_label": "significative",
            "subject": {},
            "start": anomalies.format_time(at),
            # resolved at the next evaluation (30 s, the table's interval for the item)
            "end": anomalies.format_time(at + 120),
            "duration_seconds": 120,
            "ongoing": False,
            "started_before_period": False,
        }
    ]


@pytest.mark.req("VIS-02")
@pytest.mark.req("VIS-03")
def test_host_port_instances_map_to_inventory_names():
    agent = labels("MonitoringAgentDown", "sys_exporter_down", "MON-SYS-09", "significant",
                   "10.10.1.11:9182", job="preventcare-windows")  # fmt: skip
    six = dict(agent, instance="[fd00::5]:9100")
    at = START + DAY
    data = history([{"labels": agent, "runs": [run(at, at + 600)]},
                    {"labels": six, "runs": [run(at, at + 600)]}])  # fmt: skip
    hosts = {"10.10.1.11": "srv-app01", "fd00::5": "srv-lin09"}
    assert sorted(e["host"] for e in anomalies.episodes(data, "en", hosts=hosts)) == [
        "srv-app01",
        "srv-lin09",
    ]
    # Without a mapping the address stays, without its port.
    assert {e["host"] for e in anomalies.episodes(data, "en")} == {"10.10.1.11", "fd00::5"}


@pytest.mark.req("VIS-03")
def test_an_hourly_rule_is_one_episode_and_a_missed_evaluation_splits_it():
    down = labels("RequiredServiceDown", "sys_service_down", "MON-SYS-08", "significant",
                  "srv-lin02", name="cron.service")  # fmt: skip
    at = START + 20 * DAY
    hourly = [run(at + h * 3600, at + h * 3600) for h in range(6)]
    # One evaluation without the alert (at +6 h), then firing again at +7 h.
    again = [run(at + 7 * 3600, at + 7 * 3600)]
    data = history([{"labels": down, "runs": hourly + again}],
                   rules={"RequiredServiceDown": {"interval": 3600, "for": 0}})  # fmt: skip
    found = anomalies.episodes(data, "en")
    assert [(e["start"], e["duration_seconds"]) for e in found] == [
        (anomalies.format_time(at), 6 * 3600),
        (anomalies.format_time(at + 7 * 3600), 3600),
    ]


@pytest.mark.req("VIS-03")
def test_ongoing_from_the_live_alerts_or_from_the_last_sample():
    at = END - 2 * DAY
    live = {"labels": RAID, "runs": [run(at, END - 20)]}
    firing = [{"labels": {k: v for k, v in RAID.items() if k != "alertstate"},
               "state": "firing", "active_at": at}]  # fmt: skip
    rules = {"RaidDegraded": {"interval": 30, "for": 0}}
    (episode,) = anomalies.episodes(history([live], rules=rules, active=firing), "en")
    assert episode["ongoing"] is True and episode["end"] is None
    assert episode["duration_seconds"] == round(END - at)
    # The live rule runs and the alert is not active: resolved, whatever the last sample.
    (episode,) = anomalies.episodes(history([live], rules=rules, active=[]), "en")
    assert episode["ongoing"] is False
    # No live rule for it: a sample within one and a half evaluations of the end decides.
    (episode,) = anomalies.episodes(history([live], active=[]), "en")
    assert episode["ongoing"] is True
    old = {"labels": RAID, "runs": [run(at, at + 600)]}
    (episode,) = anomalies.episodes(history([old], active=[]), "en")
    assert episode["ongoing"] is False


@pytest.mark.req("VIS-03")
def test_period_edges_and_the_heartbeat_is_not_an_anomaly():
    watchdog = labels("Watchdog", "tel_watchdog", "MON-TEL-01", "none", "preventcare-monitor")
    before = {"labels": RAID, "runs": [run(START - 3 * DAY, START - 3 * DAY + 600)]}
    vpn = labels("SiteVpnLinkDown", "tel_vpn_down", "MON-TEL-02", "major", "10.10.1.1",
                 site="lyon")  # fmt: skip
    across = {"labels": vpn, "runs": [run(START - 3600, START + 3600)]}
    beat = {"labels": watchdog, "runs": [run(START - DAY, END)]}
    found = anomalies.episodes(history([before, across, beat]), "en")
    assert [e["alert"] for e in found] == ["SiteVpnLinkDown"]
    assert found[0]["started_before_period"] is True
    assert found[0]["criticality_label"] == "major"


@pytest.mark.req("VIS-04")
def test_the_section_counts_levels_and_names_why_it_is_missing():
    at = START + DAY
    minor = labels("EventLogErrors", "sys_eventlog_errors", "MON-SYS-07", "minor", "srv-lin01")
    data = history([{"labels": RAID, "runs": [run(at, at + 60)]},
                    {"labels": minor, "runs": [run(at + 5, at + 5)]}])  # fmt: skip
    section = anomalies.anomalies(data, "en")
    assert section["available"] is True and section["reason"] is None
    assert list(section["counts"]) == ["none", "minor", "moderate", "significant", "major"]
    assert section["counts"]["significant"] == 1 and section["counts"]["minor"] == 1
    assert section["period"] == {
        "start": anomalies.format_time(START),
        "end": anomalies.format_time(END),
    }
    assert section["gaps"] is None  # no Watchdog: nothing proves the rules ran
    down = dict(data, alerts={"error": "connection refused by http://127.0.0.1:9090"})
    section = anomalies.anomalies(down, "fr")
    assert section["available"] is False
    assert section["reason"] == "connection refused by http://127.0.0.1:9090"
    assert section["episodes"] == [] and anomalies.episodes(down, "fr") == []
    assert anomalies.anomalies(None, "en")["available"] is False


@pytest.mark.req("VIS-03")
def test_monitoring_gaps_come_from_the_watchdog():
    watchdog = labels("Watchdog", "tel_watchdog", "MON-TEL-01", "none", "preventcare-monitor")
    outage = (START + 50 * DAY, START + 52 * DAY)
    runs = [run(START - 60, outage[0]), run(outage[1], END)]
    gaps = anomalies.monitoring_gaps(history([{"labels": watchdog, "runs": runs}]))
    assert gaps == [{"start": anomalies.format_time(outage[0]),
                     "end": anomalies.format_time(outage[1])}]  # fmt: skip


def test_bad_language_is_refused():
    with pytest.raises(ValueError, match="lang must be one of"):
        anomalies.episodes(history(), "de")


# --------------------------------------------------------------------------- disks
def volume(instance, mount, avail, size, deriv, *, span=7 * DAY, platform="linux"):
    key = "mountpoint" if platform == "linux" else "volume"
    return {"platform": platform, "labels": {"instance": instance, key: mount, "device": "sda1",
            "fstype": "ext4"}, "avail_bytes": avail, "size_bytes": size,
            "deriv_bytes_per_second": deriv, "span_seconds": span}  # fmt: skip


@pytest.mark.req("VIS-03")
def test_days_until_full_at_the_current_rate():
    gb_day = 1e9 / DAY
    disks = {"at": END, "window": "7d", "volumes": [
        volume("srv-lin01", "/", 40e9, 100e9, -gb_day),
        volume("srv-lin01", "/srv", 500e9, 1000e9, 0.0),
        volume("srv-lin01", "/home", 50e9, 100e9, +gb_day),
        volume("srv-app01", "C:", 10e9, 120e9, -2 * gb_day, span=3600, platform="windows"),
    ]}  # fmt: skip
    trends = anomalies.disk_trends(history(disks=disks))
    assert trends["available"] is True and trends["window"] == "7d"
    first, second, *others = trends["volumes"]
    assert (first["host"], first["volume"]) == ("srv-app01", "C:")
    assert first["days_until_full"] == pytest.approx(5)
    assert first["reliable"] is False  # an hour of data
    assert (second["volume"], second["days_until_full"]) == ("/", pytest.approx(40))
    assert second["free_percent"] == pytest.approx(40)
    assert second["consumption_bytes_per_day"] == pytest.approx(1e9)
    assert {v["volume"]: v["days_until_full"] for v in others} == {"/home": None, "/srv": None}


def test_disk_trends_say_why_they_are_missing():
    data = history()
    data["disks"] = {"error": "HTTP 503 from http://127.0.0.1:9090: unavailable"}
    assert anomalies.disk_trends(data) == {
        "available": False,
        "reason": "HTTP 503 from http://127.0.0.1:9090: unavailable",
        "window": None,
        "volumes": [],
    }


# --------------------------------------------------------------------------- heartbeat
def beat(attempts, failures):
    return {"at": END, "window_seconds": 10800, "step": 15, "integration": "email",
            "attempts": attempts, "failures": failures}  # fmt: skip


@pytest.mark.req("MON-TEL-01")
@pytest.mark.parametrize(
    ("attempts", "failures", "succeeded", "last"),
    [
        # hourly heartbeats, all delivered
        ([[END - 10800, 7], [END - 7200, 8], [END - 3600, 9], [END, 9]],
         [[END - 10800, 0], [END, 0]], True, END - 3600),
        # the last one refused, and each of Alertmanager's retries refused too
        ([[END - 10800, 7], [END - 3600, 8], [END - 3585, 9], [END - 3555, 10], [END, 10]],
         [[END - 10800, 0], [END - 3600, 1], [END - 3585, 2], [END - 3555, 3], [END, 3]],
         False, END - 3555),
        # the last one refused once, then accepted on Alertmanager's retry
        ([[END - 10800, 7], [END - 3600, 8], [END - 3585, 9], [END, 9]],
         [[END - 10800, 0], [END - 3600, 1], [END, 1]], True, END - 3585),
        # an earlier failure, then a delivered heartbeat
        ([[END - 10800, 7], [END - 7200, 8], [END - 3600, 9], [END, 9]],
         [[END - 10800, 0], [END - 7100, 1], [END, 1]], True, END - 3600),
        # Alertmanager restarted: the counter starts again from zero
        ([[END - 10800, 40], [END - 5000, 0], [END - 1800, 1], [END, 1]],
         [[END - 5000, 0], [END, 0]], True, END - 1800),
        # nothing sent in three hours
        ([[END - 10800, 7], [END, 7]], [[END - 10800, 0], [END, 0]], None, None),
    ],
)  # fmt: skip
def test_heartbeat_last_notification(attempts, failures, succeeded, last):
    result = anomalies.heartbeat(history(beat=beat(attempts, failures)))
    assert result["available"] is True and result["scraped"] is True
    assert result["succeeded"] is succeeded
    if last is None:
        assert result["last_attempt_at"] is None
    else:
        assert result["last_attempt_at"] == anomalies.format_time(last)
        assert result["age_seconds"] == round(END - last)


def test_heartbeat_without_alertmanager_metrics_says_so():
    result = anomalies.heartbeat(history(beat=beat([], [])))
    assert result["scraped"] is False and result["succeeded"] is None
    assert "not in Prometheus" in result["reason"]
    data = history()
    data["heartbeat"] = {"error": "no answer from http://127.0.0.1:9090 within 10 s"}
    assert anomalies.heartbeat(data)["available"] is False


# --------------------------------------------------------------------------- chart
@pytest.mark.req("VIS-04")
def test_weekly_chart_stacks_episodes_by_week_and_level():
    at = START + 14 * DAY
    data = history([
        {"labels": RAID, "runs": [run(at, at + 60), run(at + 3 * 3600, at + 3 * 3600 + 60)]},
        {"labels": dict(RAID, criticality="major", alertname="SiteVpnLinkDown"),
         "runs": [run(at + 600, at + 900)]},
    ])  # fmt: skip
    found = anomalies.episodes(data, "fr")
    svg = anomalies.weekly_chart_svg(found, START, END, "fr")
    root = ET.fromstring(svg)  # well-formed XML, nothing outside it
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = root.findall("s:rect[@data-count]", ns)
    assert sorted((b.get("data-level"), b.get("data-count")) for b in bars) == [
        ("major", "1"),
        ("significant", "2"),
    ]
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Épisodes d'alerte par semaine" in texts
    for label in ("sans impact", "mineure", "modérée", "significative", "majeure"):
        assert label in texts
    assert "href" not in svg and "url(" not in svg  # no external asset


def test_weekly_chart_counts_an_episode_begun_before_the_period_in_its_first_week():
    episode = {"start": anomalies.format_time(START - 30 * DAY), "criticality": "minor"}
    svg = anomalies.weekly_chart_svg([episode], START, START + 30 * DAY, "en")
    root = ET.fromstring(svg)
    bars = root.findall("{http://www.w3.org/2000/svg}rect[@data-count]")
    assert len(bars) == 1
    assert "Week 22 of 2026" in bars[0].find("{http://www.w3.org/2000/svg}title").text


def test_weekly_chart_empty_period_and_escaped_text(monkeypatch):
    svg = anomalies.weekly_chart_svg([], START, END, "en")
    assert "No alert episode in the period." in svg
    monkeypatch.setattr(anomalies, "_text", lambda key, lang, **v: "<b>R&D</b>")
    svg = anomalies.weekly_chart_svg([], START, END, "en")
    ET.fromstring(svg)
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in svg and "<b>" not in svg


# --------------------------------------------------------------------------- monitor side
def test_steps_keep_under_11000_points_and_cover_the_period():
    for days in (1, 30, 183, 366, 731):
        start, end = T0 + 7, T0 + 7 + days * DAY
        step, first, last = api.choose_steps(start, end, 30)
        assert step % 30 == 0
        assert first <= start - 0 and last >= end
        assert (last - first) / step + 1 <= 11000
    assert api.choose_steps(T0, T0 + 60, 30)[0] == 30


def test_runs_and_change_points():
    points = [[100, "1"], [130, "1"], [160, "1"], [250, "1"]]
    assert api._runs(points, 30) == [[100.0, 160.0], [250.0, 250.0]]
    counter = [[0, "3"], [15, "3"], [30, "4"], [45, "4"], [90, "4"]]
    assert api._changes(counter, 15) == [[0.0, 3.0], [30.0, 4.0], [90.0, 4.0]]


def test_times_in_every_spelling():
    assert api.to_timestamp("2026-06-01T10:00:00Z") == 1_780_308_000
    assert api.to_timestamp("2026-06-01T12:00:00+02:00") == 1_780_308_000
    assert api.to_timestamp(1_780_308_000) == 1_780_308_000
    assert api._iso_to_ts("2026-06-01T10:00:00.123456789Z") == pytest.approx(1_780_308_000.123)
    assert anomalies.parse_time("2026-06-01T10:00:00Z") == 1_780_308_000
    with pytest.raises(ValueError, match="not a time"):
        api.to_timestamp("yesterday")


def test_bad_period_is_an_error_not_an_exception():
    result = api.site_history("http://127.0.0.1:9", END, START)
    assert result["error"] == "the end of the period must come after its start"
    assert result["alerts"] == {"error": result["error"]}
