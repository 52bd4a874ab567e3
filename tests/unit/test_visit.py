"""The visit sheet's own parts (VIS-04): period, previous sheet, changes, notes, rendering."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ansible.module_utils import preventcare_report as report
from ansible.module_utils import preventcare_visit as visit

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CONTRACT = {
    "client": {"id": "martin", "name": "Martin SARL", "users": 5, "contract_start": "2026-01-05"},
    "language": "en",
    "contacts": [{"name": "Jeanne Martin", "email": "jeanne@martin.example", "role": "gérante"}],
}


def result(host, check, status, title="t"):
    return {
        "host": host,
        "requirement": "VIS-03",
        "check": check,
        "status": status,
        "blocking": False,
        "title": title,
        "evidence": {},
        "hint": "" if status == "PASS" else "do it",
    }


def write_sheet(root, run, results, generated_at="2026-06-02T08:00:00Z"):
    folder = root / "martin" / run
    folder.mkdir(parents=True)
    document = report.build_report(results, CONTRACT, run, "visit", visit=_empty_visit())
    document["generated_at"] = generated_at
    (folder / "visit.json").write_text(json.dumps(document), encoding="utf-8")
    return folder / "visit.json"


def _empty_visit():
    return visit.visit_section({"from": "a", "to": "b", "source": "default"}, "", [])


@pytest.mark.req("VIS-04")
def test_the_period_starts_at_the_previous_sheet_else_the_contract_start(tmp_path):
    first = visit.plan(str(tmp_path), "martin", CONTRACT, now=NOW)
    assert (first["from"], first["source"]) == ("2026-01-05T00:00:00Z", "contract_start")
    assert first["previous_path"] is None
    no_start = visit.plan(str(tmp_path), "martin", {"client": {"id": "martin"}}, now=NOW)
    assert no_start["source"] == "default"
    path = write_sheet(tmp_path, "20260602T080000Z", [result("srv01", "tools.agent", "PASS")])
    second = visit.plan(str(tmp_path), "martin", CONTRACT, now=NOW)
    assert (second["from"], second["source"]) == ("2026-06-02T08:00:00Z", "previous_sheet")
    assert second["previous_path"] == str(path)
    # This run's own folder is never its own previous sheet.
    assert (
        visit.plan(str(tmp_path), "martin", CONTRACT, now=NOW, exclude_run="20260602T080000Z")[
            "source"
        ]
        == "contract_start"
    )


@pytest.mark.req("VIS-04")
def test_a_corrupt_previous_sheet_is_a_warning_and_the_one_before_is_used(tmp_path):
    write_sheet(
        tmp_path,
        "20260301T080000Z",
        [result("srv01", "tools.agent", "FAIL")],
        "2026-03-01T08:00:00Z",
    )
    broken = tmp_path / "martin" / "20260602T080000Z"
    broken.mkdir()
    (broken / "visit.json").write_text("{not json", encoding="utf-8")
    found = visit.plan(str(tmp_path), "martin", CONTRACT, now=NOW)
    assert found["from"] == "2026-03-01T08:00:00Z"
    assert len(found["warnings"]) == 1
    assert "20260602T080000Z/visit.json: ignored" in found["warnings"][0]


@pytest.mark.req("VIS-04")
def test_new_and_resolved_findings_against_the_previous_sheet(tmp_path):
    path = write_sheet(
        tmp_path,
        "20260602T080000Z",
        [result("srv01", "tools.agent", "FAIL"), result("srv01", "updates.security", "WARN")],
    )
    previous = visit.read_previous(str(path), [])
    now = [result("srv01", "tools.agent", "PASS"), result("srv02", "backups.daily", "FAIL")]
    found = visit.changes(previous, now)
    assert found["previous_run"] == "20260602T080000Z"
    assert [(c["host"], c["check"]) for c in found["new"]] == [("srv02", "backups.daily")]
    assert [c["check"] for c in found["resolved"]] == ["tools.agent", "updates.security"]


@pytest.mark.req("VIS-04")
def test_the_engineers_notes_are_merged_and_a_bad_file_is_a_warning(tmp_path):
    notes = tmp_path / "notes.yml"
    notes.write_text(
        "advice: [Add a second disk to srv01]\n"
        "questions:\n  - {text: 'How long are backups kept?', host: srv01}\n"
        "actions: [Replaced the UPS battery]\n",
        encoding="utf-8",
    )
    warnings = []
    merged = visit.read_notes(str(notes), warnings)
    assert merged["questions"] == [{"text": "How long are backups kept?", "host": "srv01"}]
    assert warnings == []
    notes.write_text("advice: [unclosed\n", encoding="utf-8")
    assert visit.read_notes(str(notes), warnings) == {"advice": [], "questions": [], "actions": []}
    assert "notes file" in warnings[0]
    notes.write_text("remarks: [x]\n", encoding="utf-8")
    visit.read_notes(str(notes), warnings)
    assert "unknown section(s) remarks" in warnings[1]
    visit.read_notes(str(tmp_path / "missing.yml"), warnings)
    assert "No such file" in warnings[2]


@pytest.mark.req("VIS-04")
def test_the_sheet_matches_its_schema_and_renders_in_four_formats(tmp_path):
    results = [
        result("srv01", "tools.agent", "PASS"),
        result("srv01", "backups.daily", "FAIL", "Backup <failed> & not run"),
        result("srv02", "tools.agent", "UNREACHABLE"),
    ]
    section = visit.visit_section(
        {"from": "2026-06-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "source": "previous_sheet"},
        "",
        results,
        {"available": False, "reason": "connection refused"},
    )
    document = report.build_report(results, CONTRACT, "20261201T120000Z", "visit", visit=section)
    assert report.schema_problems(document, str(ROOT)) == []
    assert document["contacts"][0]["email"] == "jeanne@martin.example"
    html = report.render(document, "html", str(ROOT / "templates" / "reports"))
    assert "Backup &lt;failed&gt; &amp; not run" in html
    assert "connection refused" in html
    assert "2 item(s) need attention (1 fail, 0 warning, 1 unreachable)" in html
    md = report.render(document, "md", str(ROOT / "templates" / "reports"))
    assert "## Anomalies since the last visit" in md
    junit = ET.fromstring(report.render(document, "junit", str(ROOT / "templates" / "reports")))
    assert len(junit.findall(".//testcase")) == 3
    assert len(junit.findall(".//failure")) == 1
    lines = report.console_table(document)
    assert lines[0].split() == ["Host", "backups", "tools"]
    assert lines[-1].startswith("2 item(s) need attention")


@pytest.mark.req("VIS-04")
def test_a_prerequisites_report_may_not_carry_a_visit_part():
    document = report.build_report([result("srv01", "x", "PASS")], CONTRACT, "20261201T120000Z")
    document["visit"] = _empty_visit()
    assert report.schema_problems(document, str(ROOT))
