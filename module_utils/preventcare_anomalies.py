"""The anomalies since the last visit, judged on the controller from a site's raw history.

The history is what module_utils/preventcare_prometheus_api.py `site_history` read from the
site's Prometheus on the monitor host (VIS-03: "report in detail the anomalies detected during
the monitoring period since the last visit"). Pure functions, no I/O but the project's tables:

- `episodes(history, lang, hosts=None)`: every alert episode of the period, each with its host,
  requirement and ALR-02 criticality (the rule labels of data/thresholds.yml);
- `anomalies(history, lang, hosts=None)`: the visit sheet's section - available or why not,
  the episodes, counts per criticality, gaps in the monitoring itself;
- `disk_trends(history)`: days until each volume is full at the current rate;
- `heartbeat(history)`: whether Alertmanager's last notification succeeded (MON-TEL-01);
- `weekly_chart_svg(episodes, start, end, lang)`: an inline SVG of episodes per ISO week,
  stacked by criticality, with no external asset.

Times in the results are ISO 8601 UTC strings ("2026-06-01T10:00:00Z").
"""

from __future__ import annotations

import datetime
import functools
import itertools
import math
import re
from html import escape

from ansible.module_utils.preventcare_thresholds import load_thresholds, parse_duration
from ansible.module_utils.preventcare_verdict import check_language, load_texts

DAY = 86400
# Two samples of one alert series further apart than this many evaluation intervals belong to
# two episodes: at least one evaluation in between did not find the alert firing.
SAME_EPISODE_INTERVALS = 1.5
# An evaluation interval for an alert whose rule is neither live nor in the table.
FALLBACK_INTERVAL = 60
HEARTBEAT_ITEM = "tel_watchdog"
# A trend read from less than a day of data mixes the daily cycle into the rate.
RELIABLE_SPAN = DAY
# Labels that identify the rule or the scrape rather than what failed on the host.
_NOT_SUBJECT = frozenset(
    {"alertname", "alertstate", "requirement", "criticality", "preventcare_item", "instance",
     "job", "site"}
)  # fmt: skip
_HOST_PORT = re.compile(r"^\[?(?P<host>[^\]]+?)\]?:(?P<port>\d+)$")
# One colour per ALR-02 level, from calm to alarming (grey, blue, yellow, orange, red).
COLOURS = {
    "none": "#9e9e9e",
    "minor": "#4e79a7",
    "moderate": "#e0b400",
    "significant": "#f28e2b",
    "major": "#d62728",
}


# --------------------------------------------------------------------------- tables
@functools.cache
def _table():
    return load_thresholds()


def levels():
    """The ALR-02 criticality levels, least to most severe, as data/thresholds.yml lists them."""
    return list(_table()["levels"])


def level_label(level, lang):
    found = _table()["levels"].get(level)
    return found["label"][lang] if found else str(level)


def _texts():
    return load_texts("visit")


def _text(key, lang, **values):
    return _texts().text(key, lang, **values)


# --------------------------------------------------------------------------- time
def format_time(stamp):
    """ISO 8601 UTC of Unix seconds, to the second: 1780308000 -> "2026-06-01T10:00:00Z"."""
    moment = datetime.datetime.fromtimestamp(round(stamp), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value):
    """Unix seconds of an ISO 8601 string (Z allowed), a datetime or a number."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"not a time: {value!r} (ISO 8601 expected)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


# --------------------------------------------------------------------------- history
def _part(history, name):
    """(the part's data, None) or (None, why it is missing)."""
    if not isinstance(history, dict):
        return None, "no history was read from the site's Prometheus"
    part = history.get(name)
    if not isinstance(part, dict):
        return None, history.get("error") or f"the history has no {name} part"
    if part.get("error"):
        return None, str(part["error"])
    return part, None


def host_of(labels, hosts=None):
    """The inventory host of a series: its instance label, without a port, through `hosts`.

    The project's scrape jobs set instance to the inventory name already; other targets
    (the monitoring stack, probes, a job written by hand) carry host:port, and `hosts` maps an
    address or a name (with or without the port) to the inventory name.
    """
    hosts = hosts or {}
    instance = str(labels.get("instance", ""))
    if instance in hosts:
        return hosts[instance]
    match = _HOST_PORT.match(instance)
    bare = match.group("host") if match else instance
    return hosts.get(bare, bare)


def _interval(labels, rules):
    live = (rules or {}).get(labels.get("alertname"), {}).get("interval")
    if live:
        return float(live)
    item = _table()["items"].get(labels.get("preventcare_item"))
    if item:
        return float(parse_duration(item["interval"]))
    return float(FALLBACK_INTERVAL)


def _pieces(runs):
    """(first sample, last sample) of each run, window bounds where no sample time is known."""
    out = []
    for window_start, window_end, first, last in runs:
        start = first if first is not None else window_start
        end = last if last is not None else window_end
        out.append((float(start), float(max(end, start))))
    return sorted(out)


def _merge(pieces, gap):
    merged = []
    for start, end in pieces:
        if merged and start - merged[-1][1] <= gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _is_heartbeat(labels):
    return labels.get("preventcare_item") == HEARTBEAT_ITEM or labels.get("alertname") == "Watchdog"


def _firing_keys(active):
    keys = set()
    for alert in active or []:
        if alert.get("state") == "firing":
            labels = {k: v for k, v in alert.get("labels", {}).items() if k != "alertstate"}
            keys.add(tuple(sorted(labels.items())))
    return keys


def episodes(history, lang, *, hosts=None):
    """The alert episodes of the period, oldest first; [] when the history has none.

    Each: {host, instance, alert, item, requirement, criticality, criticality_label, subject,
    start, end, duration_seconds, ongoing, started_before_period}. `end` is the evaluation
    that found the alert resolved (last firing sample + the rule's interval), None while
    ongoing; `duration_seconds` runs to the end of the period for an ongoing episode. The
    Watchdog (the heartbeat, firing on purpose) is not an anomaly and is left out.
    """
    check_language(lang)
    part, _why = _part(history, "alerts")
    if part is None:
        return []
    period_start, period_end = float(history["start"]), float(history["end"])
    rules = part.get("rules") or {}
    resolution = float(part.get("resolution") or 0)
    active = part.get("active")
    firing_now = _firing_keys(active)
    rank = {level: i for i, level in enumerate(levels())}
    found = []
    for series in part.get("series", []):
        labels = series.get("labels", {})
        if _is_heartbeat(labels):
            continue
        interval = _interval(labels, rules)
        merged = _merge(_pieces(series.get("runs", [])), SAME_EPISODE_INTERVALS * interval)
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "alertstate"))
        for index, (first, last) in enumerate(merged):
            is_last = index == len(merged) - 1
            # /api/v1/alerts is the truth for a rule Prometheus runs now; for a rule it no
            # longer runs (or a history without rules), the last sample's age decides.
            if active is not None and labels.get("alertname") in rules:
                ongoing = is_last and key in firing_now
            else:
                ongoing = is_last and last >= period_end - SAME_EPISODE_INTERVALS * interval
            end = None if ongoing else min(last + interval, max(period_end, last))
            if (end if end is not None else period_end) < period_start or first > period_end:
                continue
            criticality = labels.get("criticality", "")
            found.append(
                {
                    "host": host_of(labels, hosts),
                    "instance": labels.get("instance", ""),
                    "alert": labels.get("alertname", ""),
                    "item": labels.get("preventcare_item", ""),
                    "requirement": labels.get("requirement", ""),
                    "criticality": criticality,
                    "criticality_label": level_label(criticality, lang),
                    "subject": {k: v for k, v in labels.items() if k not in _NOT_SUBJECT},
                    "start": format_time(first),
                    "end": None if end is None else format_time(end),
                    "duration_seconds": round((period_end if end is None else end) - first),
                    "ongoing": ongoing,
                    "started_before_period": first < period_start - resolution,
                    "_rank": rank.get(criticality, -1),
                    "_first": first,
                }
            )
    found.sort(key=lambda e: (e["_first"], -e["_rank"], e["host"], e["alert"]))
    for episode in found:
        del episode["_rank"], episode["_first"]
    return found


def monitoring_gaps(history):
    """Periods without any Watchdog sample (Prometheus stopped): alerts there are unknown.

    None when the history holds no Watchdog at all (nothing proves the rules ran).
    """
    part, _why = _part(history, "alerts")
    if part is None:
        return None
    beats = [s for s in part.get("series", []) if _is_heartbeat(s.get("labels", {}))]
    if not beats:
        return None
    start, end = float(history["start"]), float(history["end"])
    interval = _interval(beats[0]["labels"], part.get("rules"))
    slack = SAME_EPISODE_INTERVALS * interval + float(part.get("step") or 0)
    pieces = _merge(
        _pieces([run for s in beats for run in s.get("runs", [])]),
        SAME_EPISODE_INTERVALS * interval,
    )
    gaps, cursor = [], start
    for first, last in pieces:
        if first - cursor > slack:
            gaps.append({"start": format_time(cursor), "end": format_time(min(first, end))})
        cursor = max(cursor, last)
    if end - cursor > slack:
        gaps.append({"start": format_time(cursor), "end": format_time(end)})
    return gaps


def anomalies(history, lang, *, hosts=None):
    """The visit sheet's anomalies section.

    {available, reason, period: {start, end}, step_seconds, resolution_seconds, episodes,
    counts: {level: n, ...every level}, gaps: [{start, end}] or None}; when the history could
    not be read, available is False, reason says why and episodes is [].
    """
    check_language(lang)
    part, why = _part(history, "alerts")
    section = {
        "available": part is not None,
        "reason": why,
        "period": None,
        "step_seconds": None,
        "resolution_seconds": None,
        "episodes": [],
        "counts": dict.fromkeys(levels(), 0),
        "gaps": None,
    }
    if isinstance(history, dict) and history.get("start") is not None:
        section["period"] = {
            "start": format_time(float(history["start"])),
            "end": format_time(float(history["end"])),
        }
    if part is None:
        return section
    section.update(step_seconds=part.get("step"), resolution_seconds=part.get("resolution"))
    section["episodes"] = episodes(history, lang, hosts=hosts)
    for episode in section["episodes"]:
        if episode["criticality"] in section["counts"]:
            section["counts"][episode["criticality"]] += 1
    section["gaps"] = monitoring_gaps(history)
    return section


# --------------------------------------------------------------------------- disks
def _volume_name(entry):
    labels = entry.get("labels", {})
    return labels.get("mountpoint") or labels.get("volume") or labels.get("device", "")


def disk_trends(history, *, hosts=None):
    """Days until each volume is full at the rate of the history's window (7 days).

    {available, reason, window, volumes: [{host, instance, platform, volume, device, fstype,
    avail_bytes, size_bytes, free_percent, consumption_bytes_per_day, days_until_full,
    span_seconds, reliable}]}, the soonest full first. days_until_full is None when the
    volume is not filling up (steady or freed); reliable is False when less than a day of data
    stands behind the rate.
    """
    part, why = _part(history, "disks")
    out = {"available": part is not None, "reason": why, "window": None, "volumes": []}
    if part is None:
        return out
    out["window"] = part.get("window")
    for entry in part.get("volumes", []):
        labels = entry.get("labels", {})
        avail, size = entry.get("avail_bytes"), entry.get("size_bytes")
        deriv = entry.get("deriv_bytes_per_second")
        days = None
        if avail is not None and deriv is not None and deriv < 0:
            days = max(avail, 0) / -deriv / DAY
        span = entry.get("span_seconds")
        out["volumes"].append(
            {
                "host": host_of(labels, hosts),
                "instance": labels.get("instance", ""),
                "platform": entry.get("platform"),
                "volume": _volume_name(entry),
                "device": labels.get("device", ""),
                "fstype": labels.get("fstype", ""),
                "avail_bytes": avail,
                "size_bytes": size,
                "free_percent": (100 * avail / size) if avail is not None and size else None,
                "consumption_bytes_per_day": None if deriv is None else -deriv * DAY,
                "days_until_full": days,
                "span_seconds": span,
                "reliable": span is not None and span >= RELIABLE_SPAN,
            }
        )
    out["volumes"].sort(
        key=lambda v: (
            v["days_until_full"] is None,
            v["days_until_full"] or 0,
            v["host"],
            v["volume"],
        )
    )
    return out


# --------------------------------------------------------------------------- heartbeat
def _increases(points, since, step):
    """[(time, increase)] of a counter's change points; a reset counts its new value.

    A counter that appears after the window's start (Alertmanager started or restarted then)
    counts its first value: those notifications were all sent inside the window.
    """
    out = []
    if points and points[0][0] > since + step and points[0][1] > 0:
        out.append((float(points[0][0]), points[0][1]))
    for (_t0, v0), (t1, v1) in itertools.pairwise(points):
        if v1 > v0:
            out.append((float(t1), v1 - v0))
        elif v1 < v0 and v1 > 0:
            out.append((float(t1), v1))
    return out


def heartbeat(history):
    """Alertmanager's last e-mail notification and whether it succeeded (MON-TEL-01).

    {available, reason, scraped, last_attempt_at, succeeded, attempts, failures,
    window_seconds, age_seconds}: attempts and failures are the requests to the relay and the
    refused ones over the window (three heartbeat periods); last_attempt_at is when Prometheus
    first saw the last request (within one step); succeeded is None when none was seen. The
    counters are per integration, not per alert: any mail proves the relay, the Watchdog's
    hourly one included.
    """
    part, why = _part(history, "heartbeat")
    out = {
        "available": part is not None,
        "reason": why,
        "scraped": False,
        "last_attempt_at": None,
        "succeeded": None,
        "attempts": 0,
        "failures": 0,
        "window_seconds": None,
        "age_seconds": None,
    }
    if part is None:
        return out
    out["window_seconds"] = part.get("window_seconds")
    sent, failed = part.get("attempts") or [], part.get("failures") or []
    out["scraped"] = bool(sent)
    if not sent:
        out["reason"] = _texts().text("anomalies.heartbeat.no_metrics", "en")
        return out
    step = float(part.get("step") or 0)
    since = float(part.get("at", 0)) - float(part.get("window_seconds") or 0)
    attempts, failures = _increases(sent, since, step), _increases(failed, since, step)
    out["attempts"] = round(sum(n for _t, n in attempts))
    out["failures"] = round(sum(n for _t, n in failures))
    if attempts:
        last = attempts[-1][0]
        out["last_attempt_at"] = format_time(last)
        out["age_seconds"] = round(float(part.get("at", last)) - last)
        # The relay accepted a mail in that last step if it got more requests than refusals
        # (a refused mail is retried: several requests, all refused).
        refused = sum(n for t, n in failures if last - step < t <= last)
        out["succeeded"] = attempts[-1][1] > refused
    return out


# --------------------------------------------------------------------------- chart
def _week_start(stamp):
    day = datetime.datetime.fromtimestamp(stamp, datetime.UTC).date()
    return day - datetime.timedelta(days=day.isoweekday() - 1)


def _nice_top(count):
    if count <= 5:
        return max(count, 1)
    magnitude = 10 ** math.floor(math.log10(count))
    for factor in (1, 2, 5, 10):
        if count <= factor * magnitude:
            return factor * magnitude
    return count  # pragma: no cover - the loop always returns


def _weekly_counts(episodes, start, end, order):
    first_week, last_week = _week_start(start), _week_start(end)
    weeks = []
    day = first_week
    while day <= last_week:
        weeks.append(day)
        day += datetime.timedelta(days=7)
    counts = {week: dict.fromkeys(order, 0) for week in weeks}
    for episode in episodes:
        week = max(_week_start(max(parse_time(episode["start"]), start)), first_week)
        level = episode.get("criticality")
        if week in counts and level in counts[week]:
            counts[week][level] += 1
    return weeks, counts


def _legend(order, lang, left, y):
    out, x = [], left
    for level in order:
        label = level_label(level, lang)
        out.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" '
            f'fill="{COLOURS.get(level, "#555555")}"/>'
        )
        out.append(f'<text x="{x + 14}" y="{y}">{escape(label)}</text>')
        x += 24 + 7 * len(label)
    return out


def _grid(y_top, box, lang):
    left, top, plot_w, plot_h = box
    out = []
    for tick in sorted({0, y_top, *(round(y_top * f) for f in (0.25, 0.5, 0.75))}):
        y = top + plot_h - plot_h * tick / y_top
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            'stroke="#dddddd" stroke-width="1"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    axis = escape(_text("anomalies.chart.axis", lang))
    middle = top + plot_h / 2
    out.append(
        f'<text x="12" y="{middle:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {middle:.1f})">{axis}</text>'
    )
    return out


def _bars(week, index, counts, geometry, *, order, lang):
    left, top, plot_h, slot, bar, y_top = geometry
    iso_year, iso_week, _ = week.isocalendar()
    x = left + index * slot + (slot - bar) / 2
    y = top + plot_h
    out = []
    for level in order:
        count = counts[level]
        if not count:
            continue
        h = plot_h * count / y_top
        y -= h
        tip = _text(
            "anomalies.chart.bar", lang, week=iso_week, year=iso_year, count=count,
            level=level_label(level, lang),
        )  # fmt: skip
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="{COLOURS.get(level, "#555555")}" data-level="{escape(level)}" '
            f'data-count="{count}"><title>{escape(tip)}</title></rect>'
        )
    return out, x + bar / 2, iso_week


def weekly_chart_svg(episodes, start, end, lang, *, width=760, height=260):
    """Stacked bars of episodes per ISO week (by the week each began), one colour per level.

    An episode that began before `start` counts in the first week. Every text is escaped; the
    SVG needs nothing outside itself. start and end: Unix seconds or ISO 8601.
    """
    check_language(lang)
    start, end = parse_time(start), parse_time(end)
    if end < start:
        raise ValueError("the chart's period ends before it starts")
    order = levels()
    weeks, counts = _weekly_counts(episodes, start, end, order)
    title = escape(_text("anomalies.chart.title", lang))
    left, right, top, bottom = 44, 12, 34, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max(sum(c.values()) for c in counts.values())
    y_top = _nice_top(highest)
    slot = plot_w / len(weeks)
    geometry = (left, top, plot_h, slot, max(slot * 0.7, 1.0), y_top)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="preventcare-weekly-chart" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{title}</title>",
        f'<text x="{left}" y="18" font-size="13" font-weight="bold">{title}</text>',
        *_grid(y_top, (left, top, plot_w, plot_h), lang),
    ]
    label_every = max(1, math.ceil(len(weeks) / 14))
    for index, week in enumerate(weeks):
        bars, centre, iso_week = _bars(week, index, counts[week], geometry, order=order, lang=lang)
        out += bars
        if index % label_every == 0:
            name = escape(_text("anomalies.chart.week", lang, week=iso_week))
            out.append(
                f'<text x="{centre:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{name}</text>'
            )
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#333333" stroke-width="1"/>'
    )
    if highest == 0:
        empty = escape(_text("anomalies.chart.empty", lang))
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            f'text-anchor="middle" fill="#555555">{empty}</text>'
        )
    # Every level in the legend, in order, so the colours read the same on every sheet.
    out += _legend(order, lang, left, height - 16)
    out.append("</svg>")
    return "\n".join(out)
