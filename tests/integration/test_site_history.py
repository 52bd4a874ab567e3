"""VIS-03 anomalies since the last visit: site_history against a REAL Prometheus, then episodes.

Two real Prometheus servers (Debian's binary, on loopback, with their own data folders):

- **backfilled**: six months of a site's history written as OpenMetrics and turned into TSDB
  blocks by `promtool tsdb create-blocks-from openmetrics` - the ALERTS series the rule
  engine writes (one sample per evaluation while an alert fires), the node_exporter and
  windows_exporter free-space gauges, Alertmanager's notification counters. The episodes are
  known, so the test checks what the engineer would read: a 90-second RAID episode found in a
  six-month period queried at a 24-minute step, an hourly rule's episode in one piece, an
  episode still going on, one that ended before the last visit left out, the days until a
  disk is full, the heartbeat's last notification failed;
- **live**: a Prometheus whose rules really fire (a tiny exporter toggles a gauge for a few
  seconds) and a real Alertmanager that mails the alert to an SMTP server (aiosmtpd): the
  episode comes from the rule engine's own ALERTS, the ongoing one from /api/v1/alerts, the
  heartbeat from Alertmanager's own counters scraped by Prometheus.

And a Prometheus that cannot be reached (refused, silent) gives a clear error, no exception.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from ansible.module_utils import preventcare_anomalies as anomalies
from ansible.module_utils.preventcare_prometheus_api import site_history
from browser import look
from required_tools import require

DAY = 86400
NOW = int(time.time()) // 60 * 60
PERIOD_START = NOW - 183 * DAY  # the last visit, six months ago
# The episodes written into the backfilled history (times in seconds before NOW).
RAID_AT = NOW - 40 * DAY + 517  # 90 s: four samples 30 s apart, far shorter than the step
SERVICE_AT = NOW - 20 * DAY  # RequiredServiceDown, hourly rule: one sample an hour for 6 h
AGENT_AT = NOW - 6 * 3600  # MonitoringAgentDown, still firing now
WATCHDOG_FROM = NOW - DAY
OLD_AT = PERIOD_START - 3 * DAY  # ended before the last visit: not an anomaly of this period
STRADDLE_AT = PERIOD_START - 3600  # firing across the last visit


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _labels(**labels):
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def _alert(alertname, requirement, criticality, item, **labels):
    return _labels(
        alertname=alertname,
        alertstate="firing",
        requirement=requirement,
        criticality=criticality,
        preventcare_item=item,
        **labels,
    )


def backfill_lines():
    """The six months as OpenMetrics lines, grouped by metric family."""
    alerts = []
    watchdog = _alert(
        "Watchdog", "MON-TEL-01", "none", "tel_watchdog", instance="preventcare-monitor"
    )
    # promtool writes 2 h blocks and reads the input once per block: the always-firing
    # Watchdog is written for the last day only (the history before it is a monitoring gap).
    alerts += [f"ALERTS{{{watchdog}}} 1 {t}" for t in range(WATCHDOG_FROM, NOW + 1, 30)]
    raid = _alert(
        "RaidDegraded", "MON-HW-01", "significant", "hw_raid_degraded",
        instance="srv-lin01", job="preventcare-node", component="raid", device="md0",
    )  # fmt: skip
    alerts += [f"ALERTS{{{raid}}} 1 {RAID_AT + k * 30}" for k in range(4)]
    service = _alert(
        "RequiredServiceDown", "MON-SYS-08", "significant", "sys_service_down",
        instance="srv-lin02", job="preventcare-node", name="cron.service",
    )  # fmt: skip
    alerts += [f"ALERTS{{{service}}} 1 {SERVICE_AT + k * 3600}" for k in range(7)]
    agent = _alert(
        "MonitoringAgentDown", "MON-SYS-09", "significant", "sys_exporter_down",
        instance="10.10.1.11:9182", job="preventcare-windows",
    )  # fmt: skip
    alerts += [f"ALERTS{{{agent}}} 1 {t}" for t in range(AGENT_AT, NOW + 1, 30)]
    old = _alert(
        "ProcessorTimeHigh", "MON-SYS-05", "moderate", "sys_processor",
        instance="srv-lin01", job="preventcare-node",
    )  # fmt: skip
    alerts += [f"ALERTS{{{old}}} 1 {OLD_AT + k * 30}" for k in range(60)]
    straddle = _alert(
        "SiteVpnLinkDown", "MON-TEL-02", "major", "tel_vpn_down",
        instance="10.10.1.1", job="preventcare-vpn", site="lyon",
    )  # fmt: skip
    alerts += [f"ALERTS{{{straddle}}} 1 {t}" for t in range(STRADDLE_AT, PERIOD_START + 7200, 30)]

    disks = {"node_filesystem_avail_bytes": [], "node_filesystem_size_bytes": []}
    windows = {"windows_logical_disk_free_bytes": [], "windows_logical_disk_size_bytes": []}
    root = _labels(instance="srv-lin01", job="preventcare-node", mountpoint="/",
                   device="/dev/sda1", fstype="ext4")  # fmt: skip
    data = _labels(instance="srv-lin01", job="preventcare-node", mountpoint="/srv",
                   device="/dev/sdb1", fstype="xfs")  # fmt: skip
    tmp = _labels(instance="srv-lin01", job="preventcare-node", mountpoint="/run",
                  device="tmpfs", fstype="tmpfs")  # fmt: skip
    c_drive = _labels(instance="srv-app01", job="preventcare-windows", volume="C:")
    for t in range(NOW - 8 * DAY, NOW + 1, 3600):
        left = NOW - t
        # /: 100 GB, 40 GB free now, 1 GB used per day; /srv: steady; C: 2 GB a day.
        disks["node_filesystem_avail_bytes"] += [
            f"node_filesystem_avail_bytes{{{root}}} {40e9 + left / DAY * 1e9:.0f} {t}",
            f"node_filesystem_avail_bytes{{{data}}} 500000000000 {t}",
            f"node_filesystem_avail_bytes{{{tmp}}} 1000000 {t}",
        ]
        disks["node_filesystem_size_bytes"] += [
            f"node_filesystem_size_bytes{{{root}}} 100000000000 {t}",
            f"node_filesystem_size_bytes{{{data}}} 1000000000000 {t}",
            f"node_filesystem_size_bytes{{{tmp}}} 2000000 {t}",
        ]
        windows["windows_logical_disk_free_bytes"].append(
            f"windows_logical_disk_free_bytes{{{c_drive}}} {10e9 + left / DAY * 2e9:.0f} {t}"
        )
        windows["windows_logical_disk_size_bytes"].append(
            f"windows_logical_disk_size_bytes{{{c_drive}}} 120000000000 {t}"
        )

    stack = _labels(integration="email", instance="127.0.0.1:9093", job="preventcare-stack")
    sent, failed = [], []
    for t in range(NOW - 6 * 3600, NOW + 1, 15):
        # Mailed every hour; the last one, 10 minutes ago, refused (request and refusal
        # counted together).
        attempts = sum(1 for h in (5, 4, 3, 2, 1) if t >= NOW - h * 3600) + (t >= NOW - 600)
        sent.append(f"alertmanager_notification_requests_total{{{stack}}} {attempts} {t}")
        failed.append(
            f"alertmanager_notification_requests_failed_total{{{stack}}} {int(t >= NOW - 600)} {t}"
        )
    families = {"ALERTS": alerts, **disks, **windows,
                "alertmanager_notification_requests_total": sent,
                "alertmanager_notification_requests_failed_total": failed}  # fmt: skip
    out = []
    for name, lines in families.items():
        kind = "counter" if name.endswith("_total") else "gauge"
        out.append(f"# TYPE {name.removesuffix('_total')} {kind}")
        out += sorted(lines, key=lambda line: (line.split(" ")[0], int(line.split(" ")[-1])))
    return out


class Prometheus:
    """Debian's prometheus on loopback, on a data folder of its own."""

    def __init__(self, folder: Path, config: dict, extra=()):
        self.folder = folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log = folder / "prometheus.log"
        self.process = subprocess.Popen(
            [
                require("prometheus", "site_history is tested against a real Prometheus"),
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                "--storage.tsdb.retention.time=2y",
                f"--web.listen-address=127.0.0.1:{self.port}",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        deadline = time.monotonic() + 60
        while not self._ready():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                pytest.fail(f"Prometheus did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.3)

    def _ready(self):
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                return answer.status == 200
        except urllib.error.HTTPError as exc:
            return exc.code == 401  # up, behind basic auth
        except OSError:
            return False

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    promtool = require("promtool", "the history is backfilled with promtool")
    folder = tmp_path_factory.mktemp("prometheus-backfilled")
    source = folder / "history.om"
    source.write_text("\n".join([*backfill_lines(), "# EOF"]) + "\n", encoding="utf-8")
    done = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(folder / "data")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    server = Prometheus(folder, {"global": {"scrape_interval": "15s"}, "scrape_configs": []})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def history(backfilled):
    return site_history(backfilled.url, PERIOD_START, NOW, timeout=60)


HOSTS = {"10.10.1.11": "srv-app01"}


def _found(found, alert):
    return [e for e in found if e["alert"] == alert]


@pytest.mark.req("VIS-03")
def test_every_part_is_read_and_small(history):
    assert history["error"] is None
    for part in ("alerts", "disks", "heartbeat"):
        assert "error" not in history[part], history[part]
    assert history["prometheus"]["version"].startswith("2.")
    # Six months at a step that keeps the query under 11,000 points, whole seconds of 30 s.
    step = history["alerts"]["step"]
    assert (history["alerts"]["query_end"] - history["alerts"]["query_start"]) / step < 11000
    assert step % 30 == 0 and step >= 1380
    # Runs, not points: the always-firing Watchdog is one run, the whole answer a few kB.
    assert len(json.dumps(history)) < 20_000


@pytest.mark.req("VIS-03")
def test_an_episode_far_shorter_than_the_step_is_found_to_the_evaluation(history):
    found = _found(anomalies.episodes(history, "en"), "RaidDegraded")
    assert len(found) == 1, found
    raid = found[0]
    assert history["alerts"]["step"] > 10 * 90
    assert raid["host"] == "srv-lin01"
    assert raid["requirement"] == "MON-HW-01"
    assert raid["criticality"] == "significant"
    assert abs(anomalies.parse_time(raid["start"]) - RAID_AT) <= 30
    assert abs(anomalies.parse_time(raid["end"]) - (RAID_AT + 90)) <= 30
    assert 60 <= raid["duration_seconds"] <= 150
    assert raid["ongoing"] is False


@pytest.mark.req("VIS-03")
def test_an_hourly_rule_episode_is_one_episode_not_seven(history):
    found = _found(anomalies.episodes(history, "fr"), "RequiredServiceDown")
    assert len(found) == 1, found
    assert found[0]["host"] == "srv-lin02"
    assert abs(anomalies.parse_time(found[0]["start"]) - SERVICE_AT) <= 30
    assert abs(found[0]["duration_seconds"] - 6 * 3600) <= 3600 + 60


@pytest.mark.req("VIS-03")
@pytest.mark.req("ALR-02")
def test_ongoing_and_period_edges(history):
    found = anomalies.episodes(history, "en", hosts=HOSTS)
    agent = _found(found, "MonitoringAgentDown")
    assert len(agent) == 1 and agent[0]["ongoing"] is True
    assert agent[0]["host"] == "srv-app01"  # instance 10.10.1.11:9182 -> inventory name
    # Ended three days before the last visit: not in this period.
    assert _found(found, "ProcessorTimeHigh") == []
    vpn = _found(found, "SiteVpnLinkDown")
    assert len(vpn) == 1 and vpn[0]["criticality"] == "major"
    assert vpn[0]["started_before_period"] is True
    # The heartbeat is not an anomaly.
    assert _found(found, "Watchdog") == []
    section = anomalies.anomalies(history, "en", hosts=HOSTS)
    assert section["available"] is True and section["reason"] is None
    assert sorted(e["alert"] for e in section["episodes"]) == sorted(
        ["SiteVpnLinkDown", "RaidDegraded", "RequiredServiceDown", "MonitoringAgentDown"]
    )
    starts = [anomalies.parse_time(e["start"]) for e in section["episodes"]]
    assert starts == sorted(starts)


@pytest.mark.req("VIS-03")
def test_disk_trend_days_until_full(history):
    trends = anomalies.disk_trends(history)
    assert trends["available"] is True
    by_mount = {(v["host"], v["volume"]): v for v in trends["volumes"]}
    assert ("srv-lin01", "/run") not in by_mount  # tmpfs is not a disk
    root = by_mount[("srv-lin01", "/")]
    assert root["days_until_full"] == pytest.approx(40, rel=0.02)
    assert root["free_percent"] == pytest.approx(40, abs=0.1)
    assert by_mount[("srv-lin01", "/srv")]["days_until_full"] is None  # steady: never
    c_drive = by_mount[("srv-app01", "C:")]
    assert c_drive["platform"] == "windows"
    assert c_drive["days_until_full"] == pytest.approx(5, rel=0.02)
    # The soonest full first.
    assert trends["volumes"][0]["volume"] == "C:"


@pytest.mark.req("VIS-03")
def test_heartbeat_last_notification_failed(history):
    beat = anomalies.heartbeat(history)
    assert beat["available"] is True
    assert beat["succeeded"] is False
    assert abs(anomalies.parse_time(beat["last_attempt_at"]) - (NOW - 600)) <= 60
    assert beat["failures"] == 1


@pytest.mark.req("VIS-04")
def test_weekly_chart_of_the_real_episodes_in_a_real_browser(history, tmp_path):
    svg = anomalies.weekly_chart_svg(anomalies.episodes(history, "fr"), PERIOD_START, NOW, "fr")
    page = tmp_path / "chart.html"
    page.write_text(f'<!DOCTYPE html><html lang="fr"><meta charset="utf-8"><body>{svg}</body>',
                    encoding="utf-8")  # fmt: skip
    seen = look(page, tmp_path / "chart.png", size="800,320")
    for words in ("Épisodes d'alerte par semaine, par criticité", "significative", "majeure"):
        assert words in seen.text, seen.text
    # Four episodes in the period, each in a week of its own: four bars.
    assert seen.dom.count("data-count=") == 4


# --------------------------------------------------------------------------- unreachable
@pytest.mark.req("VIS-03")
def test_refused_connection_is_a_clear_error_in_every_part(closed_port):
    history = site_history(f"http://127.0.0.1:{closed_port}", PERIOD_START, NOW, timeout=3)
    assert "connection refused" in history["error"]
    for part in ("alerts", "disks", "heartbeat"):
        assert history[part] == {"error": history["error"]}
    section = anomalies.anomalies(history, "en")
    assert section["available"] is False and "connection refused" in section["reason"]
    assert section["episodes"] == []
    assert anomalies.heartbeat(history)["available"] is False


@pytest.mark.req("VIS-03")
def test_silent_server_times_out_with_the_reason(raw_server):
    silent = raw_server()
    started = time.monotonic()
    history = site_history(f"http://{silent.host}:{silent.port}", PERIOD_START, NOW, timeout=1)
    assert time.monotonic() - started < 10
    assert "within 1 s" in history["error"], history["error"]


@pytest.mark.req("VIS-03")
def test_refused_credentials_are_named(backfilled):
    # Debian's Prometheus takes basic auth from a web config file (issue 11 puts one on sites).
    folder = backfilled.folder.parent / "auth"
    folder.mkdir(exist_ok=True)
    # bcrypt of "right-password" (Python's crypt, METHOD_BLOWFISH): only the hash is in the file.
    web = {
        "basic_auth_users": {
            "preventcare": "$2b$10$HdibYGvZN7jYiz0QBrK.h.qGJfXlHaG.5nc2KFO9LaKDsRjAYCXR2"
        }
    }
    (folder / "web.yml").write_text(yaml.safe_dump(web), encoding="utf-8")
    server = Prometheus(folder, {"scrape_configs": []}, [f"--web.config.file={folder / 'web.yml'}"])
    try:
        wrong = site_history(server.url, NOW - 3600, NOW, username="preventcare", password="x")
        assert "refused the credentials (HTTP 401)" in wrong["error"]
        assert "x" not in wrong["error"].split(":")[-1]
        right = site_history(
            server.url, NOW - 3600, NOW, username="preventcare", password="right-password"
        )
        assert right["error"] is None, right["error"]
    finally:
        server.stop()


# --------------------------------------------------------------------------- live rules
class Flag(http.server.BaseHTTPRequestHandler):
    """A one-gauge exporter: preventcare_test_fault is 1 while `on` is set."""

    on = threading.Event()

    def do_GET(self):
        body = f"preventcare_test_fault {1 if self.on.is_set() else 0}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.req("VIS-03")
@pytest.mark.req("MON-TEL-01")
def test_live_rules_episode_ongoing_alert_and_mailed_heartbeat(tmp_path, smtp_server):
    require("prometheus-alertmanager", "the heartbeat is read from a real Alertmanager")
    sink = smtp_server()
    exporter = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flag)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    am_port = _free_port()
    am_dir = tmp_path / "am"
    am_dir.mkdir()
    (am_dir / "am.yml").write_text(
        yaml.safe_dump(
            {
                "route": {"receiver": "mail", "group_wait": "1s", "group_interval": "2s"},
                "receivers": [
                    {
                        "name": "mail",
                        "email_configs": [
                            {
                                "to": "surveillance@example.test",
                                "from": "monitor@example.test",
                                "smarthost": f"127.0.0.1:{sink.port}",
                                "require_tls": False,
                            }
                        ],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    alertmanager = subprocess.Popen(
        ["prometheus-alertmanager", f"--config.file={am_dir / 'am.yml'}",
         f"--storage.path={am_dir / 'data'}", f"--web.listen-address=127.0.0.1:{am_port}",
         "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=(am_dir / "log").open("w"),
    )  # fmt: skip
    rules = {
        "groups": [
            {
                "name": "preventcare-test-1s",
                "interval": "1s",
                "rules": [
                    {
                        "alert": "Watchdog",
                        "expr": "vector(1)",
                        "labels": {
                            "requirement": "MON-TEL-01",
                            "criticality": "none",
                            "preventcare_item": "tel_watchdog",
                            "instance": "preventcare-monitor",
                        },
                    },
                    {
                        "alert": "RaidDegraded",
                        "expr": "preventcare_test_fault > 0",
                        "labels": {
                            "requirement": "MON-HW-01",
                            "criticality": "significant",
                            "preventcare_item": "hw_raid_degraded",
                        },
                    },
                    {
                        "alert": "ServerRebooted",
                        "expr": "vector(1)",
                        "labels": {
                            "requirement": "MON-SYS-07",
                            "criticality": "moderate",
                            "preventcare_item": "sys_reboot",
                            "instance": "srv-lin02",
                        },
                    },
                ],
            }
        ]
    }
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yml")],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]
        },
        "scrape_configs": [
            {"job_name": "preventcare-node", "static_configs": [
                {"targets": [f"127.0.0.1:{exporter.server_port}"],
                 "labels": {"instance": "srv-lin01"}}]},
            {"job_name": "preventcare-stack", "static_configs": [
                {"targets": [f"127.0.0.1:{am_port}"]}]},
        ],
    }  # fmt: skip
    server = Prometheus(tmp_path, config)
    try:
        started = time.time()
        time.sleep(4)
        Flag.on.set()
        time.sleep(3.5)
        Flag.on.clear()
        # The heartbeat's mail reaches the sink and Alertmanager's counter is scraped.
        deadline = time.monotonic() + 40
        beat = None
        while time.monotonic() < deadline:
            beat = anomalies.heartbeat(site_history(server.url, started, time.time()))
            if beat.get("succeeded") and sink.messages:
                break
            time.sleep(1)
        assert sink.messages, "Alertmanager mailed nothing"
        assert beat["succeeded"] is True, beat
        time.sleep(3)  # a scrape and an evaluation after the fault cleared: resolved
        history = site_history(server.url, started - 60, time.time())
        found = anomalies.episodes(history, "en")
        raid = _found(found, "RaidDegraded")
        assert len(raid) == 1, found
        assert raid[0]["host"] == "srv-lin01" and raid[0]["ongoing"] is False
        assert 1 <= raid[0]["duration_seconds"] <= 6
        rebooted = _found(found, "ServerRebooted")
        assert len(rebooted) == 1 and rebooted[0]["ongoing"] is True
        assert history["alerts"]["resolution"] == 1  # the rule group's own interval
    finally:
        server.stop()
        alertmanager.terminate()
        alertmanager.wait(timeout=20)
        exporter.shutdown()
