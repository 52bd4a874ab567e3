"""VIS-04 across a fleet: bin/preventcare-fleet ranks the clients whose visit to prepare first.

Synthetic visit sheets (the visit.json shape of the compliance run) and visit plans (iCalendar,
written with icalendar as the set-up day does) under a reports root in tmp_path; the real
command is run, its fleet.json read and its fleet.html looked at in headless chromium.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest
from browser import look

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "bin" / "preventcare-fleet"
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def sheet(client, name, at, *, fail=0, warn=0, unreachable=0, episodes=0, available=True):
    counts = {"PASS": 20, "WARN": warn, "FAIL": fail, "UNREACHABLE": unreachable,
              "NOT_APPLICABLE": 2, "DECLARED": 1}  # fmt: skip
    return {
        "kind": "visit",
        "schema_version": 1,
        "run_id": at.strftime("%Y%m%dT%H%M%SZ"),
        "generated_at": at.isoformat().replace("+00:00", "Z"),
        "language": "fr",
        "client": {"id": client, "name": name},
        "counts": counts,
        "hosts": [
            {
                "host": "srv01",
                "status": "FAIL" if fail else "PASS",
                "counts": counts,
                "results": [],
            },
            *(
                [{"host": "srv02", "status": "UNREACHABLE", "counts": {}, "results": []}]
                if unreachable
                else []
            ),
        ],
        "anomalies": {
            "available": available,
            "reason": None if available else "connection refused by http://127.0.0.1:9090",
            "episodes": [
                {
                    "host": "srv01",
                    "alert": "RaidDegraded",
                    "criticality": "significant",
                    "ongoing": i == 0,
                }
                for i in range(episodes)
            ],
        },
    }


def write(root, client, at, document):
    folder = root / client / at.strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True, exist_ok=True)
    text = document if isinstance(document, str) else json.dumps(document)
    (folder / "visit.json").write_text(text, encoding="utf-8")
    return folder


def plan(folder, *starts):
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//PreventCare//visit plan//EN")
    calendar.add("version", "2.0")
    for index, start in enumerate(starts):
        event = icalendar.Event()
        event.add("uid", f"visit-{index}@preventcare.test")
        event.add("dtstamp", NOW)
        event.add("dtstart", start)
        event.add("summary", "Visite préventive")
        calendar.add_component(event)
    (folder / "visit-plan.ics").write_bytes(calendar.to_ical())


def run_fleet(*args):
    return subprocess.run([sys.executable, str(FLEET), *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


@pytest.fixture
def reports(tmp_path):
    root = tmp_path / "reports"
    day = datetime.timedelta(days=1)
    # acme: an old sheet with many FAILs, then the latest with 1 FAIL: the latest counts.
    write(root, "acme", NOW - 200 * day, sheet("acme", "Acme SARL", NOW - 200 * day, fail=9))
    latest = write(root, "acme", NOW - day, sheet("acme", "Acme SARL", NOW - day, fail=1, warn=2))
    plan(latest, (NOW - 30 * day).date(), (NOW + 40 * day).date(), (NOW + 220 * day).date())
    # bravo: more FAILs, ranked first.
    write(root, "bravo", NOW - 2 * day,
          sheet("bravo", "Bravo & Fils", NOW - 2 * day, fail=3, episodes=1))  # fmt: skip
    # charlie and delta: no FAIL, same WARNs; charlie has more alert episodes.
    write(root, "charlie", NOW - 3 * day,
          sheet("charlie", "Charlie SA", NOW - 3 * day, warn=4, episodes=5))  # fmt: skip
    delta = sheet("delta", "Delta <SAS>", NOW - 3 * day, warn=4, available=False)
    write(root, "delta", NOW - 3 * day, delta)
    # echo: its only sheet is corrupt; foxtrot: the newest is truncated, an older one is good.
    write(root, "echo", NOW - day, '{"kind": "visit", "generated_at": ')
    write(root, "foxtrot", NOW - 5 * day, sheet("foxtrot", "Foxtrot", NOW - 5 * day, warn=1))
    write(root, "foxtrot", NOW - day, "not json at all")
    # A plan that is not iCalendar: the next visit is unknown, the client still ranked.
    (root / "charlie" / (NOW - 3 * day).strftime("%Y%m%dT%H%M%SZ") / "visit-plan.ics").write_text(
        "garbage", encoding="utf-8"
    )
    return root


@pytest.mark.req("VIS-04")
def test_clients_are_ranked_by_fails_then_warns_then_anomalies(reports, tmp_path):
    out = tmp_path / "out"
    done = run_fleet("--reports", reports, "--out", out)
    assert done.returncode == 0, done.stderr
    fleet = json.loads((out / "fleet.json").read_text(encoding="utf-8"))
    assert fleet["kind"] == "fleet" and fleet["schema_version"] == 1
    ranked = [(c["id"], c["counts"]["FAIL"], c["counts"]["WARN"], c["anomalies"]["episodes"])
              for c in fleet["clients"]]  # fmt: skip
    assert ranked == [
        ("bravo", 3, 0, 1),
        ("acme", 1, 2, 0),
        ("charlie", 0, 4, 5),
        ("delta", 0, 4, None),
        ("foxtrot", 0, 1, 0),
    ]
    acme = fleet["clients"][1]
    assert acme["rank"] == 2
    assert acme["next_visit"] == (NOW + datetime.timedelta(days=40)).date().isoformat()
    assert acme["sheet"].startswith("acme/") and acme["generated_at"].endswith("Z")
    assert fleet["clients"][0]["anomalies"]["ongoing"] == 1
    assert fleet["clients"][3]["anomalies"]["available"] is False


@pytest.mark.req("VIS-04")
def test_a_corrupt_sheet_is_a_clear_warning_and_the_others_are_ranked(reports, tmp_path):
    done = run_fleet("--reports", reports, "--out", tmp_path / "out")
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert any(line.startswith("preventcare-fleet: warning: echo/") and "not valid JSON" in line
               and line.endswith("skipped") for line in lines), done.stderr  # fmt: skip
    assert any("foxtrot/" in line and "not valid JSON" in line for line in lines)
    assert any("charlie/" in line and "visit-plan.ics" in line and "next visit unknown" in line
               for line in lines)  # fmt: skip
    assert "Traceback" not in done.stderr
    assert "5 client(s) ranked, first: Bravo & Fils" in done.stdout


def test_an_unreadable_reports_folder_is_a_usage_error(tmp_path):
    done = run_fleet("--reports", tmp_path / "missing")
    assert done.returncode == 2
    assert "cannot read the reports folder" in done.stderr and "Traceback" not in done.stderr


def test_an_empty_reports_folder_still_writes_the_page(tmp_path):
    (tmp_path / "reports").mkdir()
    done = run_fleet("--reports", tmp_path / "reports", "--lang", "en")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "reports" / "fleet.html").read_text(encoding="utf-8")
    assert "No visit sheet was found under" in page


@pytest.mark.req("VIS-04")
def test_the_page_shows_the_ranking_in_a_real_browser(reports, tmp_path):
    out = tmp_path / "out"
    assert run_fleet("--reports", reports, "--out", out).returncode == 0
    html = (out / "fleet.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    page = look(out / "fleet.html", tmp_path / "fleet.png")
    text = page.text
    assert "Synthèse du parc" in text
    # The clients read in rank order, the escaped name shown as written.
    positions = [text.index(name) for name in
                 ("Bravo & Fils", "Acme SARL", "Charlie SA", "Delta <SAS>", "Foxtrot")]  # fmt: skip
    assert positions == sorted(positions), text
    assert "inconnus" in text  # delta's anomalies could not be read
    assert "Fiches écartées" in text and "echo/" in text
