"""The fleet summary: which client's visit needs preparing first.

Reads the latest visit sheet of every client under the reports root
(`<root>/<client>/<run>/visit.json`, the latest by its `generated_at`) and the next planned
visit (`<root>/<client>/<run>/visit-plan.ics`, the latest run's, VEVENT DTSTART, parsed with
icalendar), and ranks the clients by open FAILs, then WARNs, then alert episodes since the
last visit, then unreachable items. A sheet that cannot be read is a warning, never a stop.
bin/preventcare-fleet writes the result as fleet.json and a self-contained fleet.html.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from ansible.module_utils.preventcare_calendar import next_visit as calendar_next_visit

SCHEMA_VERSION = 1
STATUSES = ("PASS", "WARN", "FAIL", "UNREACHABLE", "NOT_APPLICABLE", "DECLARED")


class SheetError(ValueError):
    """A visit sheet that cannot be used, with the reason."""


def _parse_time(text, what):
    if not isinstance(text, str) or not text.strip():
        raise SheetError(f"{what} is missing")
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise SheetError(f"{what} {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def read_sheet(path):
    """The parts of one visit.json the fleet needs; SheetError with the reason otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SheetError(f"cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SheetError("it is not UTF-8 text") from None
    try:
        sheet = json.loads(text)
    except ValueError as exc:
        raise SheetError(f"it is not valid JSON ({exc})") from None
    if not isinstance(sheet, dict) or sheet.get("kind") != "visit":
        raise SheetError('it is not a visit sheet (no "kind": "visit")')
    at = _parse_time(sheet.get("generated_at"), "generated_at")
    client = sheet.get("client") if isinstance(sheet.get("client"), dict) else {}
    counts = sheet.get("counts") if isinstance(sheet.get("counts"), dict) else None
    if counts is None:
        raise SheetError("it has no counts")
    try:
        counts = {status: int(counts.get(status, 0)) for status in STATUSES}
    except (TypeError, ValueError):
        raise SheetError("its counts are not numbers") from None
    section = sheet.get("anomalies") if isinstance(sheet.get("anomalies"), dict) else {}
    episodes = section.get("episodes") if isinstance(section.get("episodes"), list) else []
    available = bool(section.get("available")) if section else False
    by_level = {}
    for episode in episodes:
        level = episode.get("criticality", "") if isinstance(episode, dict) else ""
        by_level[level] = by_level.get(level, 0) + 1
    hosts = sheet.get("hosts") if isinstance(sheet.get("hosts"), list) else []
    return {
        "id": str(client.get("id") or ""),
        "name": str(client.get("name") or client.get("id") or ""),
        "run_id": str(sheet.get("run_id") or ""),
        "generated_at": at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "language": sheet.get("language"),
        "schema_version": sheet.get("schema_version"),
        "counts": counts,
        "hosts": len(hosts),
        "unreachable_hosts": sorted(
            str(h.get("host"))
            for h in hosts
            if isinstance(h, dict) and h.get("status") == "UNREACHABLE"
        ),
        "anomalies": {
            "available": available,
            "reason": section.get("reason") if section else "the sheet has no anomalies section",
            "episodes": len(episodes) if available else None,
            "ongoing": sum(1 for e in episodes if isinstance(e, dict) and e.get("ongoing")),
            "by_criticality": by_level,
        },
        "_at": at,
    }


def next_visit(ics_path, now):
    """(the first planned visit on or after now's date, ISO 8601, or None) from a visit-plan.ics."""
    try:
        text = Path(ics_path).read_bytes()
        return calendar_next_visit(text, now.date())
    except OSError as exc:
        raise SheetError(f"cannot read it: {exc.strerror or exc}") from None
    except (ValueError, KeyError) as exc:
        raise SheetError(f"it is not an iCalendar file ({exc})") from None


def _runs(client_dir):
    try:
        return sorted(p for p in client_dir.iterdir() if p.is_dir())
    except OSError:
        return []


def collect(root, now=None):
    """(clients ranked, warnings) for the reports root."""
    now = now or datetime.datetime.now(datetime.UTC)
    root = Path(root)
    warnings, clients = [], []
    try:
        client_dirs = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError as exc:
        raise SheetError(f"cannot read the reports folder {root}: {exc.strerror or exc}") from None
    for client_dir in client_dirs:
        runs = _runs(client_dir)
        sheets = []
        for run in runs:
            path = run / "visit.json"
            if not path.exists():
                continue
            try:
                sheet = read_sheet(path)
            except SheetError as exc:
                warnings.append(f"{_rel(path, root)}: {exc}; skipped")
                continue
            sheet["sheet"] = _rel(path, root)
            sheets.append(sheet)
        if not sheets:
            continue
        latest = max(sheets, key=lambda s: s["_at"])
        latest["id"] = latest["id"] or client_dir.name
        latest["name"] = latest["name"] or latest["id"]
        latest["next_visit"] = None
        plans = [run / "visit-plan.ics" for run in runs if (run / "visit-plan.ics").exists()]
        if plans:
            plan = max(plans, key=lambda p: (p.parent.name, _mtime(p)))
            try:
                latest["next_visit"] = next_visit(plan, now)
            except SheetError as exc:
                warnings.append(f"{_rel(plan, root)}: {exc}; next visit unknown")
        clients.append(latest)
    clients.sort(key=rank_key)
    for rank, client in enumerate(clients, 1):
        client["rank"] = rank
        del client["_at"]
    return clients, warnings


def rank_key(client):
    """Most FAILs first, then WARNs, then alert episodes, then unreachable items, then name."""
    counts = client["counts"]
    episodes = client["anomalies"]["episodes"] or 0
    return (-counts["FAIL"], -counts["WARN"], -episodes, -counts["UNREACHABLE"], client["name"])


def _rel(path, root):
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _mtime(path):
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0


def document(clients, warnings, root, now=None):
    now = now or datetime.datetime.now(datetime.UTC)
    return {
        "kind": "fleet",
        "schema_version": SCHEMA_VERSION,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reports_root": str(root),
        "clients": clients,
        "warnings": warnings,
    }
