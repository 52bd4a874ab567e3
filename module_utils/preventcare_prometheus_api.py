"""Read a site's history from its Prometheus HTTP API: alert episodes, disk trends, heartbeat.

Runs ON THE MONITOR HOST, inside the compliance evidence module, next to the site's
Prometheus: Python standard library only (urllib), Python 3.9 or later. It returns raw,
JSON-serialisable and small data; every judgement (what an episode is, how many days until a
disk is full, whether the heartbeat works) is made on the controller by
module_utils/preventcare_anomalies.py.

`site_history(base_url, start, end)` answers three parts, each with its own error so that one
failure does not hide the others; a Prometheus that cannot be reached at all (refused,
timeout, bad certificate, refused credentials) gives every part the same error and the
top-level "error", never an exception.

**Alerts** (VIS-03 "anomalies detected since the last visit"). Prometheus writes one sample of
ALERTS{alertstate="firing"} per firing alert at every evaluation of its rule group, and a
stale marker when it resolves. Over six months a range query must take a step of about
24 minutes (11,000 points per series at most), and a plain `ALERTS` sampled at that step would
miss an alert that fired for two minutes between two steps. So:
  A  max_over_time(ALERTS{alertstate="firing"}[S]) at step S: the windows [t-S, t] tile the
     period, so every raw sample falls in a window - no episode is missed, however short;
  B  min_over_time(timestamp(ALERTS{alertstate="firing"})[S:R]) and
  C  max_over_time(timestamp(...)[S:R]), instant queries at the windows where runs start and
     end only: the first and last sample times in the window, through a subquery at the
     resolution R (the smallest rule-group interval), so that an episode's start and end are
     known to one evaluation, not to one step. (The same subquery as a range query over six
     months took 25 s on this project's test machine; a few instant ones take milliseconds.)
Consecutive windows with samples are returned as runs [window_start, window_end, first, last]
per series: a few numbers per episode instead of 11,000 points (the Watchdog, always firing,
is one run). A rule evaluated every hour writes one sample an hour, so its runs have gaps
shorter than its interval: the controller merges them, with the group intervals read here
from /api/v1/rules. /api/v1/alerts gives the alerts active at the end (ongoing episodes).

**Disks**: free and total bytes of every real file system (node_exporter) and lettered volume
(windows_exporter), and deriv() of the free bytes over 7 days: disk use follows a daily cycle
(backups, logs, temporary files) and a weekly one (weekly full backups, rotations); a shorter
window reads a cycle as a trend, a week holds both and is still "the current rate" for a visit
every six months. The span of data actually in the window is given too (a new site has less).

**Heartbeat** (MON-TEL-01): Alertmanager's own counters of requests to the relay and refused
ones (e-mail integration, see preventcare_heartbeat for why these), scraped by the site Prometheus
(job preventcare-stack), over the last three heartbeat periods, reduced to their change points.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from ansible.module_utils import preventcare_heartbeat as heartbeat_counters

SCHEMA_VERSION = 1
# Prometheus refuses a range query of more than 11,000 points per series; two points are kept
# for aligning the first and last windows on the step.
MAX_POINTS = 11000
# The smallest rule-group interval of data/thresholds.yml, used when /api/v1/rules is silent.
DEFAULT_RESOLUTION = 30
DISK_WINDOW = "7d"
# Resolution of the subquery that finds the oldest sample of the disk window.
DISK_SPAN_RESOLUTION = "5m"
# The Watchdog is mailed every hour (data/thresholds.yml tel_watchdog.delivery.repeat):
# three periods hold at least two heartbeats when it works.
HEARTBEAT_WINDOW = 3 * 3600
# Windows whose first and last sample times are looked up (one small query each).
MAX_REFINE = 600
HEARTBEAT_STEP = 15  # the site's scrape interval (monitor_site_scrape_interval)
NOTIFIER = "email"

FIRING = 'ALERTS{alertstate="firing"}'
# Pseudo and container file systems are not the server's disks.
_LINUX_FS = (
    'fstype!~"tmpfs|ramfs|devtmpfs|squashfs|nsfs|iso9660|fuse\\\\.lxcfs|autofs",'
    'mountpoint!~"/(proc|sys|dev|run|snap)(/.*)?|/var/lib/(docker|containers)/.*"'
)
_DISK_QUERIES = {
    "linux": {
        "avail": "node_filesystem_avail_bytes{%s}" % _LINUX_FS,  # noqa: UP031 - PromQL braces
        "size": "node_filesystem_size_bytes{%s}" % _LINUX_FS,  # noqa: UP031
    },
    "windows": {
        "avail": 'windows_logical_disk_free_bytes{volume=~"[A-Za-z]:"}',
        "size": 'windows_logical_disk_size_bytes{volume=~"[A-Za-z]:"}',
    },
}


class PrometheusError(Exception):
    """A query that did not succeed, with a reason a person can act on."""


class Unreachable(PrometheusError):
    """Prometheus did not answer at all: every later query would fail the same way."""


# --------------------------------------------------------------------------- time
def to_timestamp(value):
    """Unix seconds from a number, an aware datetime or an ISO 8601 string (Z allowed)."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"not a time: {value!r} (use Unix seconds or ISO 8601)") from None
    else:
        raise ValueError(f"not a time: {value!r} (use Unix seconds or ISO 8601)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)  # noqa: UP017 - Python 3.9
    return moment.timestamp()


def choose_steps(start, end, resolution=DEFAULT_RESOLUTION):
    """(step S, aligned start, aligned end) for a range query over [start, end].

    S is a whole multiple of the resolution R, so the subquery's points (multiples of R) end
    exactly on each window's end; the first point is aligned down and the last up, so the
    windows cover the whole period with at most MAX_POINTS points.
    """
    resolution = max(math.ceil(resolution), 1)
    period = max(end - start, resolution)
    step = max(resolution, math.ceil(period / (MAX_POINTS - 3) / resolution) * resolution)
    first = math.floor(start / step) * step
    last = math.ceil(end / step) * step
    return step, first, last


# --------------------------------------------------------------------------- HTTP
class Client:
    """GET requests to one Prometheus, with optional basic auth and a CA file."""

    def __init__(self, base_url, *, timeout=10, username=None, password=None, ca_file=None):
        self.base_url = str(base_url).rstrip("/")
        self.timeout = timeout
        self.headers = {"Accept": "application/json", "User-Agent": "preventcare-compliance"}
        if username is not None:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            self.headers["Authorization"] = "Basic " + token
        self.context = None
        if self.base_url.startswith("https:"):
            try:
                self.context = ssl.create_default_context(cafile=ca_file or None)
            except (OSError, ssl.SSLError) as exc:
                raise Unreachable(f"cannot read the CA file {ca_file}: {exc}") from None

    def get(self, path, **params):
        """The `data` of a successful API answer; PrometheusError with the reason otherwise."""
        url = f"{self.base_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as r:
                body = r.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except urllib.error.URLError as exc:
            raise Unreachable(self._reason(exc.reason)) from None
        except (socket.timeout, TimeoutError):  # noqa: UP041 - distinct before 3.10
            raise Unreachable(f"no answer from {self.base_url} within {self.timeout} s") from None
        except (OSError, ValueError) as exc:  # reset connection, bad URL
            raise Unreachable(f"{self.base_url}: {exc}") from None
        try:
            answer = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PrometheusError(
                f"{self.base_url}{path} did not answer JSON: is it Prometheus?"
            ) from None
        if not isinstance(answer, dict) or answer.get("status") != "success":
            detail = answer.get("error") if isinstance(answer, dict) else None
            raise PrometheusError(f"Prometheus refused {path}: {detail or 'no status'}")
        return answer.get("data")

    def _reason(self, reason):
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return f"no answer from {self.base_url} within {self.timeout} s"
        if isinstance(reason, ssl.SSLError):
            return f"TLS with {self.base_url} failed: {reason}"
        if isinstance(reason, ConnectionRefusedError):
            return f"connection refused by {self.base_url} (is Prometheus running?)"
        if isinstance(reason, socket.gaierror):
            return f"cannot resolve the host of {self.base_url}: {reason}"
        return f"cannot reach {self.base_url}: {reason}"

    def _http_error(self, exc):
        if exc.code in (401, 403):
            return Unreachable(
                f"{self.base_url} refused the credentials (HTTP {exc.code}): check the "
                "Prometheus username and password"
            )
        try:
            detail = json.loads(exc.read().decode("utf-8")).get("error")
        except (OSError, ValueError, AttributeError):
            detail = None
        return PrometheusError(f"HTTP {exc.code} from {self.base_url}: {detail or exc.reason}")

    # ---- queries
    def query(self, expr, at):
        data = self.get("/api/v1/query", query=expr, time=_num(at))
        return data.get("result", []) if isinstance(data, dict) else []

    def query_range(self, expr, start, end, step):
        data = self.get(
            "/api/v1/query_range", query=expr, start=_num(start), end=_num(end), step=_num(step)
        )
        return data.get("result", []) if isinstance(data, dict) else []


def _num(value):
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _labels(series):
    return {k: v for k, v in sorted(series.get("metric", {}).items()) if k != "__name__"}


def _key(labels):
    return tuple(sorted(labels.items()))


# --------------------------------------------------------------------------- parts
def _runs(points, step):
    """Consecutive points of a range series, one step apart, as [[first_t, last_t], ...]."""
    runs = []
    for stamp, _value in points:
        t = float(stamp)
        if runs and abs(t - runs[-1][1] - step) < 1e-3:
            runs[-1][1] = t
        else:
            runs.append([t, t])
    return runs


def _rules(client):
    """{alertname: {"interval": s, "for": s}} from /api/v1/rules (largest interval per name)."""
    data = client.get("/api/v1/rules", type="alert")
    rules = {}
    for group in (data or {}).get("groups", []):
        interval = float(group.get("interval") or 0)
        for rule in group.get("rules", []):
            name = rule.get("name")
            if rule.get("type", "alerting") != "alerting" or not name:
                continue
            known = rules.setdefault(name, {"interval": interval, "for": 0.0})
            known["interval"] = max(known["interval"], interval)
            known["for"] = max(known["for"], float(rule.get("duration") or 0))
    return rules


def _active(client):
    data = client.get("/api/v1/alerts")
    active = []
    for alert in (data or {}).get("alerts", []):
        active.append(
            {
                "labels": dict(sorted((alert.get("labels") or {}).items())),
                "state": alert.get("state"),
                "active_at": _iso_to_ts(alert.get("activeAt")),
            }
        )
    return active


_GO_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _iso_to_ts(text):
    """Unix seconds of a Go time (RFC 3339 with up to nanoseconds), None when it is not one."""
    match = _GO_TIME.match(text) if isinstance(text, str) else None
    if not match:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return to_timestamp(match.group(1) + zone) + float(match.group(2) or 0)


def _refine(client, series, step, resolution, limit=MAX_REFINE):
    """First and last sample times of the windows where runs start and end.

    One instant subquery per distinct window, for every series at once: a window holds
    step / resolution inner points, so each query is cheap, where one subquery over the whole
    period at the evaluation resolution takes tens of seconds. Past `limit` windows the runs
    keep their window bounds (known to one step) and a warning says so.
    """
    wanted = {"min": set(), "max": set()}
    for entry in series:
        for run in entry["runs"]:
            wanted["min"].add(run[0] + step)
            wanted["max"].add(run[1])
    found = {}
    asked = 0
    skipped = 0
    for func, times in wanted.items():
        for t in sorted(times):
            if asked >= limit:
                skipped += 1
                continue
            asked += 1
            expr = f"{func}_over_time(timestamp({FIRING})[{step}s:{resolution}s])"
            for item in client.query(expr, t):
                found[(func, t, _key(_labels(item)))] = float(item["value"][1])
    for entry in series:
        for run in entry["runs"]:
            run[2] = found.get(("min", run[0] + step, entry["_key"]))
            run[3] = found.get(("max", run[1], entry["_key"]))
    if skipped:
        return [f"{skipped} episode bounds known to the step only ({limit} windows refined)"]
    return []


def alerts_part(client, start, end, resolution=None):
    """Runs of ALERTS{alertstate="firing"} per series over [start, end] (see the header)."""
    warnings = []
    try:
        rules = _rules(client)
    except Unreachable:
        raise
    except PrometheusError as exc:
        rules = {}
        warnings.append(f"rule intervals unknown: {exc}")
    if resolution is None:
        intervals = [r["interval"] for r in rules.values() if r["interval"] > 0]
        resolution = min(intervals) if intervals else DEFAULT_RESOLUTION
    step, first, last = choose_steps(start, end, resolution)
    res = max(math.ceil(resolution), 1)
    seen = client.query_range(f"max_over_time({FIRING}[{step}s])", first, last, step)
    series = []
    for item in seen:
        labels = _labels(item)
        runs = [[a - step, b, None, None] for a, b in _runs(item.get("values", []), step)]
        series.append({"labels": labels, "runs": runs, "_key": _key(labels)})
    warnings += _refine(client, series, step, res)
    for entry in series:
        del entry["_key"]
    try:
        active = _active(client)
    except Unreachable:
        raise
    except PrometheusError as exc:
        active = None
        warnings.append(f"active alerts unknown: {exc}")
    return {
        "query_start": first,
        "query_end": last,
        "step": step,
        "resolution": res,
        "series": series,
        "rules": rules,
        "active": active,
        "warnings": warnings,
    }


def disks_part(client, end):
    """Free and total bytes and the 7-day rate of the free bytes, per file system."""
    volumes = {}
    for platform, queries in _DISK_QUERIES.items():
        avail = queries["avail"]
        asked = {
            "avail_bytes": avail,
            "size_bytes": queries["size"],
            "deriv_bytes_per_second": f"deriv({avail}[{DISK_WINDOW}])",
            "oldest_sample": (
                f"min_over_time(timestamp({avail})[{DISK_WINDOW}:{DISK_SPAN_RESOLUTION}])"
            ),
        }
        for field, expr in asked.items():
            for item in client.query(expr, end):
                labels = _labels(item)
                entry = volumes.setdefault(
                    (platform, *_key(labels)), {"platform": platform, "labels": labels}
                )
                value = float(item["value"][1])
                entry[field] = value if math.isfinite(value) else None
    out = []
    for entry in volumes.values():
        oldest = entry.pop("oldest_sample", None)
        entry["span_seconds"] = max(end - oldest, 0.0) if oldest is not None else None
        for field in ("avail_bytes", "size_bytes", "deriv_bytes_per_second"):
            entry.setdefault(field, None)
        out.append(entry)
    out.sort(key=lambda e: (e["platform"], sorted(e["labels"].items())))
    return {"at": end, "window": DISK_WINDOW, "volumes": out}


def _changes(points, step):
    """Change points of a counter's range series: the first, each change or gap, the last."""
    out = []
    previous = None
    for stamp, value in points:
        t, v = float(stamp), float(value)
        if previous is None or v != previous[1] or abs(t - previous[0] - step) > 1e-3:
            out.append([t, v])
        previous = (t, v)
    if previous is not None and (not out or out[-1][0] != previous[0]):
        out.append([previous[0], previous[1]])
    return out


def heartbeat_part(client, end, window=HEARTBEAT_WINDOW, step=HEARTBEAT_STEP):
    """Alertmanager's e-mail requests and refusals over the last window, as change points."""
    start = end - window
    out = {"at": end, "window_seconds": window, "step": step, "integration": NOTIFIER}
    for field, metric in (
        ("attempts", heartbeat_counters.REQUESTS),
        ("failures", heartbeat_counters.REFUSED),
    ):
        expr = f'sum by (integration) ({metric}{{integration="{NOTIFIER}"}})'
        result = client.query_range(expr, start, end, step)
        out[field] = _changes(result[0].get("values", []), step) if result else []
    return out


def site_history(
    base_url, start, end, *, timeout=10, username=None, password=None, ca_file=None,
    resolution=None,
):  # fmt: skip
    """The site's raw history between start and end (Unix seconds, datetimes or ISO 8601).

    Returns {"schema_version", "base_url", "start", "end", "queried_at", "error",
    "prometheus", "alerts", "disks", "heartbeat"}; each part is its data or {"error": reason}.
    """
    history = {
        "schema_version": SCHEMA_VERSION,
        "base_url": str(base_url),
        "queried_at": time.time(),
        "error": None,
    }
    try:
        start, end = to_timestamp(start), to_timestamp(end)
        if end <= start:
            raise ValueError("the end of the period must come after its start")
        client = Client(
            base_url, timeout=timeout, username=username, password=password, ca_file=ca_file
        )
    except (ValueError, PrometheusError) as exc:
        history["error"] = str(exc)
        for part in ("prometheus", "alerts", "disks", "heartbeat"):
            history[part] = {"error": str(exc)}
        return history
    history.update(start=start, end=end)
    parts = (
        ("prometheus", lambda: client.get("/api/v1/status/buildinfo")),
        ("alerts", lambda: alerts_part(client, start, end, resolution)),
        ("disks", lambda: disks_part(client, end)),
        ("heartbeat", lambda: heartbeat_part(client, end)),
    )
    for name, run in parts:
        if history["error"]:
            history[name] = {"error": history["error"]}
            continue
        try:
            history[name] = run()
        except Unreachable as exc:
            history["error"] = str(exc)
            history[name] = {"error": str(exc)}
        except PrometheusError as exc:
            history[name] = {"error": str(exc)}
        except Exception as exc:  # an odd answer must not hide the other parts
            history[name] = {"error": f"unexpected answer: {type(exc).__name__}: {exc}"}
    if isinstance(history.get("prometheus"), dict) and "error" not in history["prometheus"]:
        history["prometheus"] = {"version": history["prometheus"].get("version")}
    return history
