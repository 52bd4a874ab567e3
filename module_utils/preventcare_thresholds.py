"""The booklet's monitoring thresholds as data, and the Prometheus rules rendered from them.

Pure functions, used on the controller by filter_plugins/preventcare_thresholds_filters.py
and bin/preventcare-rules. The table is data/thresholds.yml; the contract's overrides
(`preventcare.thresholds`, keyed by requirement ID or item name) are merged over it.

Why about 800 lines in one file: the table's checks, the overrides and the rendering share
the table's vocabulary (units, durations, levels) and the PromQL expressions of each item on
Linux, Windows and the site, which are kept side by side so that a metric name is changed in
one place for all three platforms.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from string import Template

from ansible.module_utils.preventcare_data import REQUIREMENT_ID, load_table
from ansible.module_utils.preventcare_problems import Problem, did_you_mean, format_problems

DEFAULT_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "data", "thresholds.yml"
)

LEVELS = ("none", "minor", "moderate", "significant", "major")
UNITS = ("percent", "ratio", "ms", "hours", "count", "bool")
COMPARISONS = (">", "<", "==")
PLATFORMS = ("linux", "windows", "site")
LANGS = ("fr", "en")
OVERRIDE_KEYS = ("value", "duration", "interval", "criticality", "enabled", "daily_at")
OVERRIDES_PATH = "preventcare.thresholds"

_ITEM_REQUIRED = (
    "requirement",
    "alert",
    "value",
    "unit",
    "comparison",
    "duration",
    "interval",
    "criticality",
    "summary",
)
_DURATION_RE = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_DURATION_UNITS_MS = (
    365 * 86400000,
    7 * 86400000,
    86400000,
    3600000,
    60000,
    1000,
    1,
)
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


# --------------------------------------------------------------------------- durations
def parse_duration(text):
    """Return the seconds in a Prometheus duration such as "1h30m" (int unless ms are used)."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise ValueError(
            f"duration {text!r} must be a Prometheus duration string such as '20m' or '1h30m'"
        )
    match = _DURATION_RE.match(text.strip())
    if text.strip() == "0":
        return 0
    if not text.strip() or match is None:
        raise ValueError(
            f"{text!r} is not a Prometheus duration (digits and units in the order "
            "y, w, d, h, m, s, ms, e.g. '20m', '1h30m')"
        )
    total_ms = sum(
        int(part) * unit
        for part, unit in zip(match.groups(), _DURATION_UNITS_MS, strict=True)
        if part
    )
    return total_ms // 1000 if total_ms % 1000 == 0 else total_ms / 1000


def format_duration(seconds):
    """Canonical Prometheus spelling of a number of seconds: 5400 -> "1h30m", 0 -> "0s"."""
    total_ms = round(seconds * 1000)
    if total_ms == 0:
        return "0s"
    out = []
    for unit, size in zip(("y", "w", "d", "h", "m", "s", "ms"), _DURATION_UNITS_MS, strict=True):
        count, total_ms = divmod(total_ms, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def human_duration(seconds, lang):
    """A duration for people: 1200 -> "20 min", 5400 -> "1 h 30 min", 86400 -> "1 j"/"1 d"."""
    seconds = round(seconds)
    if seconds == 0:
        return "0 s"
    day = "j" if lang == "fr" else "d"
    parts = []
    for size, name in ((86400, day), (3600, "h"), (60, "min"), (1, "s")):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}")
    return " ".join(parts)


def format_number(value, lang):
    """95 -> "95", 0.95 -> "0,95" in French, "0.95" in English."""
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "fr" else text


def format_threshold(item, lang):
    """The threshold with its unit, e.g. "95 %", "0,95", "600 ms", "26 h"."""
    number = format_number(item["value"], lang)
    suffix = {"percent": " %", "ms": " ms", "hours": " h"}.get(item["unit"], "")
    return number + suffix


# --------------------------------------------------------------------------- loading
def _problem(path, message, hint="", parts=()):
    return Problem(path, message, hint, parts=parts)


def _value_error(unit, value):
    """(message, hint) when value is not a valid threshold in this unit, else None."""
    if unit == "bool":
        return (
            None if value is True else (f"{value!r} is not valid for a yes/no item", "write true")
        )
    if isinstance(value, str):
        bare = value.strip().rstrip("%").strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", bare):
            return f"{value!r} is text, not a number", f"write the number alone: {bare} ({unit})"
        return f"{value!r} is text, not a number", f"write a number in {unit}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value!r} is not a number", f"write a number in {unit}"
    bounds = {
        "percent": (not 0 <= value <= 100, f"{value:g} % is outside 0-100", "0 to 100"),
        "ms": (value <= 0, f"{value:g} ms must be greater than 0", ""),
        "hours": (value <= 0, f"{value:g} hours must be greater than 0", ""),
    }
    bad, message, hint = bounds.get(unit, (value < 0, f"{value:g} must not be negative", ""))
    return (message, f"write a percentage from {hint}" if hint else "") if bad else None


def _check_value(path, item, value):
    """Problems with a threshold value for this item's unit (empty list when fine)."""
    found = _value_error(item["unit"], value)
    return [_problem(path, *found)] if found else []


def _check_duration(path, value, what="duration"):
    try:
        parse_duration(value)
    except ValueError as exc:
        hint = (
            f"write '{value}m' for {value} minutes"
            if isinstance(value, int) and not isinstance(value, bool)
            else "write e.g. '20m', '1h30m' or '0s'"
        )
        return [_problem(path, str(exc) if what == "duration" else f"{what}: {exc}", hint)]
    return []


def _check_criticality(path, value):
    if value in LEVELS:
        return []
    return [
        _problem(
            path,
            f"{value!r} is not an ALR-02 criticality ({', '.join(LEVELS)})",
            did_you_mean(value, LEVELS) or f"use one of: {', '.join(LEVELS)}",
        )
    ]


def _check_item(path, item):
    """Problems of one item of the table."""
    if not isinstance(item, dict):
        return [_problem(path, "must be a mapping", "")]
    missing = [key for key in _ITEM_REQUIRED if key not in item]
    if missing:
        return [_problem(path, f"missing {', '.join(missing)}", "")]
    if item["unit"] not in UNITS:
        return [_problem(f"{path}.unit", f"unit must be one of {UNITS}", "")]
    problems = []
    if not REQUIREMENT_ID.match(str(item["requirement"])):
        problems.append(_problem(f"{path}.requirement", "not a SPEC ID like MON-SYS-01", ""))
    if item["comparison"] not in COMPARISONS or (
        (item["unit"] == "bool") != (item["comparison"] == "==")
    ):
        problems.append(_problem(f"{path}.comparison", "'==' for bool items, else > or <", ""))
    problems += _check_value(f"{path}.value", item, item["value"])
    problems += _check_duration(f"{path}.duration", item["duration"])
    problems += _check_duration(f"{path}.interval", item["interval"], "interval")
    problems += _check_criticality(f"{path}.criticality", item["criticality"])
    problems += [
        _problem(f"{path}.summary.{lang}", "text missing", "")
        for lang in LANGS
        if not (item["summary"] or {}).get(lang)
    ]
    return problems


def _check_levels(source, levels):
    if not isinstance(levels, dict) or set(levels) != set(LEVELS):
        return [_problem(f"{source}.levels", f"levels must be exactly {LEVELS}", "")]
    return [
        _problem(f"{source}.levels.{name}.handling.{lang}", "text missing", "")
        for name, level in levels.items()
        for lang in LANGS
        if not (level.get("handling") or {}).get(lang)
    ]


def validate_table(table, source="data/thresholds.yml"):
    """Problems in a thresholds table (the data file's own consistency)."""
    if not isinstance(table, dict) or not isinstance(table.get("items"), dict):
        return [_problem(source, "the table must be a mapping with an `items` mapping", "")]
    problems = _check_levels(source, table.get("levels"))
    settings = table.get("settings") or {}
    problems += _check_duration(f"{source}.settings.rate_window", settings.get("rate_window"))
    if not isinstance(settings.get("event_window_factor"), int):
        problems.append(_problem(f"{source}.settings.event_window_factor", "must be an int", ""))
    if not isinstance(table.get("params"), dict):
        problems.append(_problem(f"{source}.params", "must be a mapping", ""))
    alerts = {}
    for name, item in table["items"].items():
        path = f"{source}.items.{name}"
        problems += _check_item(path, item)
        alert = item.get("alert") if isinstance(item, dict) else None
        if alert in alerts:
            problems.append(_problem(f"{path}.alert", f"already used by {alerts[alert]}", ""))
        alerts[alert] = name
    return problems


def load_thresholds(path=None):
    """Read and check the thresholds table; ValueError lists every problem found."""
    path = path or DEFAULT_PATH
    table = load_table(path, "thresholds table")
    problems = validate_table(table, source=os.path.basename(path))
    if problems:
        raise ValueError(format_problems(problems, f"the thresholds table {path} is inconsistent:"))
    return table


# --------------------------------------------------------------------------- overrides
def _targets(table, key):
    """Item names an override key selects: a requirement ID (all its items) or an item name."""
    items = table["items"]
    if key in items:
        return [key]
    return [name for name, item in items.items() if item["requirement"] == key]


def merge_overrides(table, overrides):
    """Merge the contract's threshold overrides over the table.

    Returns (merged, problems); `merged` is a new table (the input is left alone) and
    `problems` lists a Problem (path, message, hint; parts under the contract root) for every
    invalid override.
    """
    merged = copy.deepcopy(table)
    problems = []
    if overrides in (None, {}):
        return merged, problems
    if not isinstance(overrides, dict):
        problems.append(
            _problem(
                OVERRIDES_PATH,
                "must be a mapping of requirement IDs to overrides, "
                f"not {type(overrides).__name__}",
                "e.g. {MON-SYS-05: {value: 97}}",
                ("thresholds",),
            )
        )
        return merged, problems
    requirements = sorted({item["requirement"] for item in table["items"].values()})
    for key, change in overrides.items():
        path = f"{OVERRIDES_PATH}.{key}"
        names = _targets(table, key)
        if not names:
            hint = did_you_mean(key, requirements + list(table["items"])) or (
                "known requirement IDs: " + ", ".join(requirements)
            )
            problems.append(
                _problem(path, f"unknown requirement ID or item {key!r}", hint, ("thresholds", key))
            )
            continue
        if not isinstance(change, dict):
            problems.append(
                _problem(
                    path,
                    "must be a mapping of settings",
                    "e.g. {value: 97, duration: 25m}",
                    ("thresholds", key),
                )
            )
            continue
        for field, new in change.items():
            fpath = f"{path}.{field}"
            if field not in OVERRIDE_KEYS:
                problems.append(
                    _problem(
                        fpath,
                        f"unknown setting {field!r}",
                        did_you_mean(field, OVERRIDE_KEYS)
                        or f"use one of: {', '.join(OVERRIDE_KEYS)}",
                        ("thresholds", key, field),
                    )
                )
                continue
            found = _check_override(fpath, table, (key, names), field, new)
            if found:
                problems += [
                    dataclasses.replace(p, parts=("thresholds", key, field)) for p in found
                ]
                continue
            for name in names:
                _apply(merged["items"][name], field, new)
    return merged, problems


def _check_value_override(path, items, key, names, new):
    if len(names) > 1:
        return [
            _problem(
                path,
                f"{key} covers several items ({', '.join(names)})",
                f"name the item instead, e.g. {OVERRIDES_PATH}.{names[0]}.value",
            )
        ]
    if items[names[0]]["unit"] == "bool":
        return [
            _problem(
                path,
                f"{key} is a yes/no alert with no threshold value",
                "set enabled: false to switch it off, or change its duration",
            )
        ]
    return _check_value(path, items[names[0]], new)


def _check_daily_at(path, items, key, names, new):
    if not all("daily_at" in (items[name].get("delivery") or {}) for name in names):
        return [_problem(path, f"{key} has no daily delivery time", "remove this setting")]
    if not isinstance(new, str) or not _HHMM_RE.match(new):
        return [_problem(path, f"{new!r} is not a time of day", 'write it quoted, e.g. "03:00"')]
    return []


def _check_enabled(path, new):
    if isinstance(new, bool):
        return []
    return [_problem(path, f"{new!r} is not true or false", "write true or false")]


def _check_override(path, table, target, field, new):
    """Problems of one override setting; target is (key, item names it selects)."""
    key, names = target
    items = table["items"]
    checks = {
        "value": lambda: _check_value_override(path, items, key, names, new),
        "duration": lambda: _check_duration(path, new, "duration"),
        "interval": lambda: _check_duration(path, new, "interval"),
        "criticality": lambda: _check_criticality(path, new),
        "enabled": lambda: _check_enabled(path, new),
        "daily_at": lambda: _check_daily_at(path, items, key, names, new),
    }
    return checks[field]()


def _apply(item, field, new):
    if field == "daily_at":
        item["delivery"]["daily_at"] = new
    else:
        item[field] = new
    item.setdefault("overridden", [])
    if field not in item["overridden"]:
        item["overridden"].append(field)


# --------------------------------------------------------------------------- rules
# PromQL per item and platform. $cmp/$value are the threshold, $rate_window and
# $event_window the look-back windows, $event_window_s the same in seconds, $job
# the platform's scrape job, other $names come from the table's `params`.
# `subject` names the labels shown after the host in the annotations.
_NATIVE = {
    "sys_disk_time": {
        # Busy time of the device, i.e. the complement of Windows' "% Idle Time".
        "linux": (
            "rate(node_disk_io_time_seconds_total[$rate_window]) * 100 $cmp $value",
            "device",
        ),
        "windows": (
            "100 * (1 - rate(windows_logical_disk_idle_seconds_total"
            '{volume!~"HarddiskVolume.*|_Total"}[$rate_window])) $cmp $value',
            "volume",
        ),
    },
    "sys_disk_queue": {
        # Sum of in-flight request time per second = average queue length.
        "linux": (
            "rate(node_disk_io_time_weighted_seconds_total[$rate_window]) $cmp $value",
            "device",
        ),
        "windows": (
            "(rate(windows_logical_disk_read_seconds_total"
            '{volume!~"HarddiskVolume.*|_Total"}[$rate_window])'
            " + rate(windows_logical_disk_write_seconds_total"
            '{volume!~"HarddiskVolume.*|_Total"}[$rate_window])) $cmp $value',
            "volume",
        ),
    },
    "sys_paging": {
        "linux": (
            "100 * (1 - node_memory_SwapFree_bytes / node_memory_SwapTotal_bytes) $cmp $value",
            "",
        ),
        "windows": (
            "100 * (1 - windows_pagefile_free_bytes / windows_pagefile_limit_bytes) $cmp $value",
            "file",
        ),
    },
    "sys_committed_memory": {
        # Windows' commit limit is RAM + page files; Linux' CommitLimit is only
        # enforced with vm.overcommit_memory=2, so RAM + swap is the same measure.
        "linux": (
            "100 * node_memory_Committed_AS_bytes"
            " / (node_memory_MemTotal_bytes + node_memory_SwapTotal_bytes) $cmp $value",
            "",
        ),
        "windows": (
            "100 * windows_memory_committed_bytes / windows_memory_commit_limit $cmp $value",
            "",
        ),
    },
    "sys_processor": {
        "linux": (
            "100 - avg by (instance) "
            '(rate(node_cpu_seconds_total{mode="idle"}[$rate_window])) * 100 $cmp $value',
            "",
        ),
        "windows": (
            "100 - avg by (instance) "
            '(rate(windows_cpu_time_total{mode="idle"}[$rate_window])) * 100 $cmp $value',
            "",
        ),
    },
    "sys_low_disk": {
        "linux": (
            '100 * node_filesystem_avail_bytes{mountpoint=~"$linux_mountpoints",'
            'fstype!~"tmpfs|ramfs|squashfs|overlay"} / node_filesystem_size_bytes $cmp $value',
            "mountpoint",
        ),
        "windows": (
            '100 * windows_logical_disk_free_bytes{volume=~"$windows_volumes"}'
            " / windows_logical_disk_size_bytes $cmp $value",
            "volume",
        ),
    },
    "sys_reboot": {
        # A recent boot time rather than changes(): boot time jitters by a second.
        "linux": ("time() - node_boot_time_seconds < $event_window_s", ""),
        # windows_system_boot_time_timestamp: windows_exporter 0.30.6 and later, the oldest the
        # contract accepts (0.30.0-0.30.5 named it ..._seconds, <= 0.29 system_up_time).
        "windows": ("time() - windows_system_boot_time_timestamp < $event_window_s", ""),
    },
    "sys_service_down": {
        # Stopped, or absent from a server whose exporter answers: $*_absent adds one
        # clause per required name (see _required_clauses), valued 0 like a stopped one.
        "linux": (
            'node_systemd_unit_state{state="active",name=~"$linux_required_units"} == 0'
            "$linux_required_units_absent",
            "name",
        ),
        "windows": (
            'windows_service_state{state="running",name=~"$windows_required_services"} == 0'
            "$windows_required_services_absent",
            "name",
        ),
    },
    "sys_service_unwanted": {
        "linux": (
            'node_systemd_unit_state{state="active",name=~"$linux_unwanted_units"} == 1',
            "name",
        ),
        "windows": (
            'windows_service_state{state="running",name=~"$windows_unwanted_services"} == 1',
            "name",
        ),
    },
    "hw_raid_degraded": {
        "linux": (
            '(node_md_disks_required - ignoring (state) node_md_disks{state="active"} > 0)'
            " or ($hardware_ok == 0)",
            "device",
        ),
    },
    "hw_physical_disk": {
        # diskdrive collector of windows_exporter (enabled by the Windows role).
        "windows": ('(windows_diskdrive_status{status="OK"} == 0) or ($hardware_ok == 0)', "name"),
    },
    "hw_nic": {
        "linux": (
            '(node_network_carrier{device=~"$linux_nic_devices"} == 0) or ($hardware_ok == 0)',
            "device",
        ),
    },
}

# Rules on the textfile metrics and the scrape itself: the same on both platforms,
# scoped to the platform's job so that each series is judged once.
_SHARED = {
    "sys_eventlog_errors": (
        'increase(preventcare_eventlog_errors_total{job=~"$job"}[$event_window]) $cmp $value',
        "source",
    ),
    "sys_exporter_down": ('up{job=~"$job"} == 0', ""),
    "hw_raid_degraded": ("$hardware_ok == 0", "device"),
    "hw_physical_disk": ("$hardware_ok == 0", "device"),
    "hw_fan": ("$hardware_ok == 0", "device"),
    "hw_power_supply": ("$hardware_ok == 0", "device"),
    "hw_battery": ("$hardware_ok == 0", "device"),
    "hw_nic": ("$hardware_ok == 0", "device"),
    "hw_tape": ("$hardware_ok == 0", "device"),
    "bk_failed": ('preventcare_backup_last_status{job=~"$job"} == $status_code', "backup_job"),
    "bk_incomplete": ('preventcare_backup_last_status{job=~"$job"} == $status_code', "backup_job"),
    "bk_cancelled": ('preventcare_backup_last_status{job=~"$job"} == $status_code', "backup_job"),
    "bk_not_received": (
        '(time() - preventcare_backup_last_end_timestamp_seconds{job=~"$job"}) / 3600 $cmp $value',
        "backup_job",
    ),
    "bk_never_received": (
        'up{job=~"$job",instance=~"$backup_instances"} == 1 unless on (instance) '
        'preventcare_backup_last_end_timestamp_seconds{job=~"$job"}',
        "",
    ),
}

_SITE = {
    "tel_watchdog": ("vector(1)", ""),
    "tel_latency": (
        'probe_icmp_duration_seconds{job=~"$vpn_probe_job",phase="rtt"} * 1000 $cmp $value',
        "",
    ),
    "tel_vpn_down": ('probe_success{job=~"$vpn_probe_job"} == 0', ""),
    "av_console_unreachable": ('probe_success{job=~"$antivirus_probe_job"} == 0', ""),
}

_TEXT = {
    "fr": {
        "on": "sur",
        "value": "Valeur mesurée",
        "threshold": "Seuil",
        "condition": "Condition",
        "every": "période d'évaluation",
        "criticality": "Criticité",
        "handling": "Traitement (ALR-02)",
    },
    "en": {
        "on": "on",
        "value": "Measured value",
        "threshold": "Threshold",
        "condition": "Condition",
        "every": "evaluation period",
        "criticality": "Criticality",
        "handling": "Handling (ALR-02)",
    },
}


# List parameters: names whose absence is an alert too -> (the series that says a name
# exists on a server, whatever its state; regex flags for the name). Windows service names
# are matched without regard to case, as Windows does.
_REQUIRED_NAMES = {
    "linux_required_units": ('node_systemd_unit_state{state="active",name=~"%s"}', ""),
    "windows_required_services": ('windows_service_state{state="running",name=~"%s"}', "(?i)"),
}


def _names(value):
    """A list parameter as a list of names (a --param gives them comma-separated)."""
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()]
    return [str(n) for n in value or ()]


def _required_clauses(names, job, present, flags):
    """PromQL clauses, one per name, present on a scraped server that has no such name."""
    return "".join(
        f' or (0 * label_replace(up{{job=~"{_promql_string(job)}"}} == 1, "name", '
        f'"{_promql_string(name)}", "", "") unless on (instance) '
        + present % _promql_string(flags + re.escape(name))
        + ")"
        for name in names
    )


def _promql_string(text):
    """Escape a regex or name for a double-quoted PromQL string."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def _number(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def rule_expression(table, name, platform, params=None):
    """(PromQL, subject label) for one item on one platform, or None if it does not apply."""
    item = table["items"][name]
    if platform == "site":
        spec = _SITE.get(name)
    elif platform in ("linux", "windows"):
        spec = _NATIVE.get(name, {}).get(platform) or _SHARED.get(name)
    else:
        raise ValueError(f"unknown platform {platform!r}: use one of {', '.join(PLATFORMS)}")
    if spec is None:
        return None
    values = dict(table["params"])
    values.update(params or {})
    settings = table["settings"]
    interval = parse_duration(item["interval"])
    event_window = interval * settings["event_window_factor"]
    job = values.get(f"{platform}_job", "")
    subst = {}
    for key, val in values.items():
        if key in _REQUIRED_NAMES:
            names, (present, flags) = _names(val), _REQUIRED_NAMES[key]
            subst[f"{key}_absent"] = _required_clauses(names, job, present, flags)
            pattern = "|".join(re.escape(n) for n in names)
            subst[key] = _promql_string(f"{flags}({pattern})" if names else "")
        else:
            subst[key] = _promql_string(val)
    subst.update(
        job=_promql_string(job),
        cmp=item["comparison"],
        value="" if item["unit"] == "bool" else _number(item["value"]),
        rate_window=settings["rate_window"],
        event_window=format_duration(event_window),
        event_window_s=_number(event_window),
        status_code=_number(
            (table.get("textfile_metrics") or {})
            .get("preventcare_backup_last_status", {})
            .get("codes", {})
            .get(item.get("status"), -1)
        ),
        hardware_ok=(
            f'preventcare_hardware_ok{{component="{item.get("component", "")}",'
            f'job=~"{_promql_string(job)}"}}'
        ),
    )
    expr, subject = spec
    return Template(expr).substitute(subst), subject


def _annotations(table, name, subject, lang, instance=None):
    item = table["items"][name]
    words = _TEXT[lang]
    level = table["levels"][item["criticality"]]
    summary = item["summary"][lang].format(
        threshold=format_threshold(item, lang),
        duration=human_duration(parse_duration(item["duration"]), lang),
    )
    summary = summary[:1].upper() + summary[1:]
    # Prometheus expands $labels from the query's result, not from the rule's labels: a rule
    # whose instance is a rule label (the Watchdog's vector(1)) names its host literally.
    host = instance or "{{ $labels.instance }}"
    if subject:
        host += " ({{ $labels.%s }})" % subject  # noqa: UP031 - braces belong to Go templates
    unit = {"percent": " %", "ms": " ms", "hours": " h"}.get(item["unit"], "")
    if name == "sys_reboot":
        unit = " s"  # the rule's value is the uptime
    value = '{{ $value | printf "%.4g" }}' + unit
    sep = " : " if lang == "fr" else ": "
    interval = human_duration(parse_duration(item["interval"]), lang)
    rule_word = words["condition" if item["unit"] == "bool" else "threshold"]
    description = (
        f"{words['value']}{sep}{value}. "
        f"{rule_word}{sep}{summary} ({words['every']}{sep}{interval}). "
        f"{words['criticality']}{sep}{level['label'][lang]}. "
        f"{words['handling']}{sep}{level['handling'][lang]}"
    )
    return {
        "summary": f"[{item['requirement']}] {summary} {words['on']} {host}",
        "description": description,
    }


def rule_hold(table, name, platform):
    """The rule's `for:` in seconds: the item's duration, less the rate window on counters.

    A rule on rate(...[window]) only holds once its window is full of samples past the
    threshold, so the window is the first part of the duration (settings.rate_window).
    """
    duration = parse_duration(table["items"][name]["duration"])
    spec = _NATIVE.get(name, {}).get(platform) if platform in ("linux", "windows") else None
    if spec and "$rate_window" in spec[0]:
        return max(duration - parse_duration(table["settings"]["rate_window"]), 0)
    return duration


def render_rules(merged, platform, lang="en", params=None):
    """Prometheus rule groups (list of dicts) for `linux`, `windows` or `site`.

    One group per evaluation interval; every rule is labelled with its requirement
    and ALR-02 criticality, and annotated in `lang` (fr or en).
    """
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}: use one of {', '.join(PLATFORMS)}")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    unknown = sorted(set(params or {}) - set(merged["params"]))
    if unknown:
        hints = [did_you_mean(key, merged["params"]) for key in unknown]
        raise ValueError(
            f"unknown rule parameter(s) {', '.join(unknown)}; "
            + ("; ".join(h for h in hints if h) or "known: " + ", ".join(merged["params"]))
        )
    groups = {}
    for name, item in merged["items"].items():
        if item.get("enabled", True) is False:
            continue
        found = rule_expression(merged, name, platform, params)
        if found is None:
            continue
        expr, subject = found
        rule = {"alert": item["alert"], "expr": expr}
        hold = rule_hold(merged, name, platform)
        if hold:
            rule["for"] = format_duration(hold)
        rule["labels"] = {
            "requirement": item["requirement"],
            "criticality": item["criticality"],
            "preventcare_item": name,
        }
        instance = None
        if name == "tel_watchdog":
            instance = dict(merged["params"], **(params or {}))["monitor_instance"]
            rule["labels"]["instance"] = instance
        rule["annotations"] = _annotations(merged, name, subject, lang, instance)
        interval = format_duration(parse_duration(item["interval"]))
        group = groups.setdefault(
            interval,
            {"name": f"preventcare-{platform}-{interval}", "interval": interval, "rules": []},
        )
        group["rules"].append(rule)
    return sorted(groups.values(), key=lambda g: parse_duration(g["interval"]))


def contract_rule_params(contract):
    """The rule parameters that come from the contract: the monitor host and backup hosts."""
    params = {}
    if contract.get("monitor_host"):
        params["monitor_instance"] = str(contract["monitor_host"])
    hosts = sorted(
        {
            str(b["host"])
            for b in contract.get("backup") or []
            if isinstance(b, dict) and b.get("host")
        }
    )
    if hosts:
        # Scrape targets are "host" or "host:port".
        names = "|".join(h.replace(".", "\\.") for h in hosts)
        params["backup_instances"] = f"({names})(:[0-9]+)?"
    return params


def alert_routes(merged, daily_window_minutes):
    """Alertmanager's routes and time intervals, from the table's delivery hints.

    {"routes": [{alert, requirement, repeat_interval?, active_time_intervals?}],
     "time_intervals": [{name, start_time, end_time}]}: the Watchdog every hour (MON-TEL-01),
    link alerts until the link is restored (MON-TEL-02), the daily low-disk mail inside a
    short window starting at its local time (MON-SYS-06). The template adds the time zone.
    """
    routes, intervals = [], {}
    for _name, item in sorted(merged["items"].items()):
        delivery = item.get("delivery")
        if not delivery or item.get("enabled", True) is False:
            continue
        route = {"alert": item["alert"], "requirement": item["requirement"]}
        daily_at = delivery.get("daily_at")
        if daily_at:
            name = "preventcare-daily-" + daily_at.replace(":", "")
            hours, minutes = (int(part) for part in daily_at.split(":"))
            end = min(hours * 60 + minutes + int(daily_window_minutes), 24 * 60)
            intervals[name] = {
                "name": name,
                "start_time": daily_at,
                "end_time": "{:02d}:{:02d}".format(*divmod(end, 60)),
            }
            route["active_time_intervals"] = [name]
            # Once inside the window, not again until the next day's window.
            route["repeat_interval"] = delivery.get("repeat") or "1h"
        elif delivery.get("repeat"):
            route["repeat_interval"] = delivery["repeat"]
        routes.append(route)
    return {"routes": routes, "time_intervals": [intervals[k] for k in sorted(intervals)]}
