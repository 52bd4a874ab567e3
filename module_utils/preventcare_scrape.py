"""What the Windows rules read, and whether a live scrape of windows_exporter has it.

Pure functions for molecule/windows (live, when a Windows host is given) and its unit tests:
rule_series() lists every metric name of the rendered rules with the label names the rules
select on or print; missing_series() compares them with a Prometheus text exposition.
"""

from __future__ import annotations

import re

_SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SUBJECT = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)")
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="')
# Labels Prometheus adds at scrape time, never in the exporter's own output.
_TARGET_LABELS = {"instance", "job"}


def rule_series(groups, prefix="windows_"):
    """{metric: sorted label names} that the rule groups read from metrics named prefix*."""
    wanted = {}
    for group in groups or []:
        for rule in group.get("rules", []):
            # Label values are strings: a service named windows_... is not a metric.
            expr = _STRING.sub('""', str(rule.get("expr", "")))
            printed = set()
            for text in (rule.get("annotations") or {}).values():
                printed.update(_SUBJECT.findall(str(text)))
            for name, selector in _SELECTOR.findall(expr):
                if not name.startswith(prefix):
                    continue
                labels = wanted.setdefault(name, set())
                labels.update(m for m, _ in _MATCHER.findall(selector or ""))
                labels.update(printed)
    return {name: sorted(labels - _TARGET_LABELS) for name, labels in sorted(wanted.items())}


def scraped_series(text):
    """{metric: set of label names} present in a Prometheus text exposition."""
    found = {}
    for raw in str(text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match:
            found.setdefault(match.group(1), set()).update(_LABEL.findall(match.group(3) or ""))
    return found


def missing_series(wanted, text):
    """['metric' or 'metric{label}'] that the rules read and the scrape lacks."""
    found = scraped_series(text)
    missing = []
    for name, labels in sorted(wanted.items()):
        if name not in found:
            missing.append(name)
            continue
        missing += [f"{name}{{{label}}}" for label in labels if label not in found[name]]
    return missing
