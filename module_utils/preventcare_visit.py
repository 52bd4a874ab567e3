"""The visit sheet's own parts (VIS-04), on the controller: pure functions over files.

- `plan(reports_root, client_id, contract, now)`: the period the visit covers - from the last
  visit sheet's date (else the contract's start, else the default look-back) to now - with
  the previous sheet and the last technical document found under the client's reports.
- `changes(previous, results)`: findings new since the previous sheet, and those resolved.
- `read_notes(path)`: the engineer's notes file (advice given, questions answered, actions
  taken on site), merged into the sheet so the same document is the trace of the visit.
A corrupt or unreadable previous sheet, document or notes file is a warning in the sheet,
never the end of the run.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta

import yaml
from ansible.module_utils import preventcare_anomalies as anomalies
from ansible.module_utils.preventcare_verdict import contract_language

# Without a previous sheet or a contract start, the period is the booklet's half year.
DEFAULT_LOOKBACK_DAYS = 183
NOTE_SECTIONS = ("advice", "questions", "actions")
ATTENTION = ("FAIL", "WARN", "UNREACHABLE")


def _iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text):
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)


def _runs(reports_root, client_id, name):
    """Paths of reports/<client>/<run>/<name>, newest run first (run ids sort by time)."""
    folder = os.path.join(reports_root, client_id)
    try:
        runs = sorted(os.listdir(folder), reverse=True)
    except OSError:
        return []
    return [
        os.path.join(folder, run, name)
        for run in runs
        if os.path.isfile(os.path.join(folder, run, name))
    ]


def _read_json(path, kind, warnings):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict) or data.get("kind") != kind:
            raise ValueError(f"not a {kind} document (kind is {data.get('kind')!r})")
        return data
    except (OSError, ValueError, AttributeError) as exc:
        warnings.append(f"{path}: ignored, cannot be read as a {kind} document ({exc})")
        return None


def plan(reports_root, client_id, contract, now=None, exclude_run=None):
    """{from, to, source, previous_path, technical, warnings} of this visit."""
    now = now or datetime.now(UTC)
    warnings = []
    previous = previous_path = None
    for path in _runs(reports_root, client_id, "visit.json"):
        if exclude_run and os.path.basename(os.path.dirname(path)) == exclude_run:
            continue
        previous = _read_json(path, "visit", warnings)
        if previous:
            previous_path = path
            break
    start, source = None, None
    if previous:
        try:
            start, source = _parse_iso(previous["generated_at"]), "previous_sheet"
        except (KeyError, ValueError):
            warnings.append(f"{previous_path}: no valid generated_at; the period ignores it")
    contract_start = ((contract or {}).get("client") or {}).get("contract_start")
    if start is None and contract_start:
        start = datetime.combine(date.fromisoformat(str(contract_start)), datetime.min.time(), UTC)
        source = "contract_start"
    if start is None:
        start, source = now - timedelta(days=DEFAULT_LOOKBACK_DAYS), "default"
    technical = None
    for path in _runs(reports_root, client_id, "technical.json"):
        document = _read_json(path, "technical", warnings)
        if document:
            technical = {
                "document": document.get("dossier") or {},
                "path": path,
                "run": os.path.basename(os.path.dirname(path)),
            }
            break
    return {
        "from": _iso(min(start, now)),
        "to": _iso(now),
        "source": source,
        "previous_path": previous_path,
        "technical": technical,
        "warnings": warnings,
    }


def read_previous(path, warnings):
    """The previous visit sheet at `path`, or None (with a warning when it is unreadable)."""
    return _read_json(path, "visit", warnings) if path else None


def _findings(results):
    return {
        (r["host"], r["check"]): r
        for r in results
        if r.get("status") in ATTENTION and isinstance(r.get("host"), str)
    }


def changes(previous, results):
    """{new: [...], resolved: [...], previous_run} between the previous sheet and now."""
    if not previous:
        return {"previous_run": None, "new": [], "resolved": []}
    before = _findings(r for h in previous.get("hosts") or [] for r in h.get("results") or [])
    after = _findings(results)

    def brief(r):
        return {k: r.get(k) for k in ("host", "check", "status", "title")}

    return {
        "previous_run": previous.get("run_id"),
        "new": [brief(r) for key, r in sorted(after.items()) if key not in before],
        "resolved": [brief(r) for key, r in sorted(before.items()) if key not in after],
    }


def read_notes(path, warnings):
    """The engineer's notes: YAML {advice, questions, actions: [text or {text, host}]}."""
    empty = {section: [] for section in NOTE_SECTIONS}
    if not path:
        return empty
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if not isinstance(data, dict):
            raise ValueError("expected a mapping with advice, questions and actions")
        unknown = sorted(set(data) - set(NOTE_SECTIONS))
        if unknown:
            raise ValueError(f"unknown section(s) {', '.join(map(str, unknown))}")
        notes = {}
        for section in NOTE_SECTIONS:
            entries = data.get(section) or []
            if not isinstance(entries, list):
                raise ValueError(f"{section} must be a list")
            notes[section] = [
                {"text": str(e.get("text", "")), "host": e.get("host")}
                if isinstance(e, dict)
                else {"text": str(e), "host": None}
                for e in entries
            ]
        return notes
    except (OSError, ValueError, yaml.YAMLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        warnings.append(f"notes file {path}: ignored ({reason})")
        return empty


def site_findings(history, contract, hosts=None):
    """What the site's Prometheus said over the period, for the judges and the sheet:
    {available, reason, episodes, disk_trends, heartbeat, chart_svg, gaps}."""
    lang = contract_language(contract)
    section = anomalies.anomalies(history, lang, hosts=hosts)
    trends = anomalies.disk_trends(history, hosts=hosts)
    beat = anomalies.heartbeat(history)
    findings = {
        "available": section["available"],
        "reason": section["reason"],
        "episodes": section["episodes"],
        "gaps": section.get("gaps"),
        "disk_trends": [
            {
                "host": v.get("host"),
                "mount": v.get("volume"),
                "days_until_full": v.get("days_until_full"),
            }
            for v in trends.get("volumes") or []
        ],
        "heartbeat": {
            "ok": beat.get("succeeded") if beat.get("available") else None,
            "last_success": beat.get("last_attempt_at") if beat.get("succeeded") else None,
            "error": beat.get("reason"),
        },
        "chart_svg": "",
    }
    period = section.get("period") or {}
    if section["available"] and section["episodes"] and period:
        findings["chart_svg"] = anomalies.weekly_chart_svg(
            section["episodes"], period["start"], period["end"], lang
        )
    return findings


def visit_section(visit_plan, notes_path, results, site=None):
    """The sheet's `visit` part: period, changes since the previous sheet, anomalies, notes."""
    visit_plan = visit_plan if isinstance(visit_plan, dict) else {}
    warnings = [str(w) for w in visit_plan.get("warnings") or []]
    previous = read_previous(visit_plan.get("previous_path"), warnings)
    notes = read_notes(notes_path, warnings)
    site = site if isinstance(site, dict) else {}
    technical = visit_plan.get("technical") or {}
    return {
        "period": {k: visit_plan.get(k) for k in ("from", "to", "source")},
        "previous_sheet": visit_plan.get("previous_path") if previous else None,
        "technical_document": technical.get("path"),
        "changes": changes(previous, results),
        "anomalies": {
            "available": bool(site.get("available")),
            "reason": site.get("reason") if not site.get("available") else None,
            "episodes": list(site.get("episodes") or []),
            "chart_svg": str(site.get("chart_svg") or ""),
        },
        "notes": notes,
        "warnings": warnings,
    }
