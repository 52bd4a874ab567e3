"""The report writer (module_utils/preventcare_report.py): document, renderings, console table."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from ansible.module_utils.preventcare_report import (
    ABBREVIATIONS,
    LABELS,
    STATUSES,
    ReportError,
    build_report,
    console_table,
    render,
    schema_problems,
)
from ansible.module_utils.preventcare_visit import visit_section

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates" / "reports"
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
RUN_ID = "20261126T064847Z"
WHEN = datetime(2026, 11, 26, 6, 48, 50, tzinfo=UTC)
PASSWORD = "Tr0ub4dor&3-vault-only"
USERNAME = "preventcare@martin.example"
HOSTILE = "<script>alert('x')</script> | `tick` *star* [link](http://evil.example)"


def contract(language="fr"):
    return {
        "client": {"id": "martin", "name": "Boulangeries Martin SARL"},
        "language": language,
        "contacts": [
            {
                "name": "Claire Martin",
                "side": "client",
                "role": "Gérante",
                "email": "claire.martin@martin.example",
                "phone": "+33 4 72 00 00 01",
            },
            {
                "name": "Julien Roche",
                "side": "provider",
                "role": "Ingénieur système référent",
                "email": "julien.roche@preventcare.example",
                "phone": "+33 4 78 00 00 02",
            },
        ],
        "smtp_relay": {"auth": {"username": USERNAME, "password": "********"}},
    }


def result(host, requirement, check, status, blocking=True, **extra):
    item = {
        "host": host,
        "requirement": requirement,
        "check": check,
        "status": status,
        "blocking": blocking,
        "title": f"{requirement} {check} on {host}",
        "evidence": {},
        "hint": "" if status == "PASS" else f"fix {check} on {host}",
    }
    item.update(extra)
    return item


def sample_results():
    """A realistic run: contract checks, a good, a bad, an unreachable and a Windows host."""
    return [
        result("srv-lin01", "PRE-05", "pending_updates", "WARN", blocking=False),
        result(
            "srv-lin01",
            "PRE-01",
            "smtp_relay",
            "PASS",
            evidence={"reply": "250 2.0.0 Ok: queued", "capabilities": ["SIZE 10240000"]},
        ),
        result("srv-lin01", "PRE-02", "static_addressing", "PASS"),
        result("srv-lin01", "PRE-08", "admin_access", "PASS"),
        result("contract", "PRE-07", "server_room_phone", "DECLARED", blocking=False),
        result("contract", "PRE-02", "public_ip", "FAIL", evidence={"public_ip": "203.0.113.10"}),
        result(
            "srv-dyn",
            "PRE-02",
            "static_addressing",
            "FAIL",
            evidence={"addresses": [{"local": "10.89.7.12", "dynamic": True, "valid_life": 3600}]},
        ),
        result("srv-dyn", "PRE-08", "admin_access", "FAIL"),
        result("srv-dyn", "PRE-03", "hardware", "FAIL", blocking=False),
        result("srv-ad01", "PRE-01", "smtp_relay", "UNREACHABLE"),
        result("srv-ad01", "PRE-02", "static_addressing", "UNREACHABLE"),
        result("srv-app01", "PRE-06", "remote_assistance", "NOT_APPLICABLE", blocking=False),
    ]


def build(results=None, language="fr", kind="prerequisites", **options):
    if kind == "visit":
        period = {"from": "2026-06-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "source": "default"}
        options.setdefault("visit", visit_section(period, "", []))
    return build_report(
        sample_results() if results is None else results,
        contract(language),
        RUN_ID,
        kind,
        generated_at=WHEN,
        **options,
    )


def every_rendering(document):
    return {fmt: render(document, fmt, TEMPLATES) for fmt in ("json", "md", "html", "junit")}


# --- the document ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_document_validates_against_the_versioned_schema(language):
    document = build(language=language)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert schema_problems(document, ROOT) == []
    assert document["schema_version"] == 1
    assert SCHEMA["$id"].endswith(":1")
    # The JSON file is the same document.
    assert json.loads(render(document, "json", TEMPLATES)) == document


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        pytest.param(lambda d: d.pop("schema_version"), "schema_version", id="no-version"),
        pytest.param(
            lambda d: d["hosts"][1]["results"][0].update(status="OK"), "status", id="bad-status"
        ),
        pytest.param(lambda d: d["counts"].pop("DECLARED"), "DECLARED", id="incomplete-counts"),
        pytest.param(
            lambda d: d.update(contacts=[{"name": "Claire Martin"}]), "contacts", id="contacts"
        ),
    ],
)
def test_schema_rejects_a_document_that_breaks_the_format(edit, where):
    document = build()
    edit(document)
    problems = schema_problems(document, ROOT)
    assert problems
    assert where in " ".join(problems)
    assert all(len(p) < 300 for p in problems)  # readable, not the whole document


def test_identity_counts_and_verdict():
    document = build()
    assert document["client"] == {"id": "martin", "name": "Boulangeries Martin SARL"}
    assert (document["kind"], document["run_id"], document["language"]) == (
        "prerequisites",
        RUN_ID,
        "fr",
    )
    assert document["generated_at"] == "2026-11-26T06:48:50Z"
    assert document["counts"] == {
        "PASS": 3,
        "WARN": 1,
        "FAIL": 4,
        "UNREACHABLE": 2,
        "NOT_APPLICABLE": 1,
        "DECLARED": 1,
    }
    assert document["onboarding_blocked"] is True
    assert [r["id"] for r in document["requirements"]] == [
        "PRE-01",
        "PRE-02",
        "PRE-03",
        "PRE-05",
        "PRE-06",
        "PRE-07",
        "PRE-08",
    ]
    assert document["requirements"][0]["name"] == "Relais SMTP vers la boîte de surveillance"


def test_blocking_failures_are_blocking_fails_and_each_unreachable_host_once():
    blocking = build()["blocking_failures"]
    assert [(b["host"], b["requirement"], b["check"], b["status"]) for b in blocking] == [
        ("contract", "PRE-02", "public_ip", "FAIL"),
        ("srv-dyn", "PRE-02", "static_addressing", "FAIL"),
        ("srv-dyn", "PRE-08", "admin_access", "FAIL"),
        ("srv-ad01", "PRE-01", "smtp_relay", "UNREACHABLE"),
    ]
    assert blocking[1]["hint"] == "fix static_addressing on srv-dyn"


def test_nothing_blocking_when_only_warnings_and_non_blocking_fails():
    results = [
        result("srv-lin01", "PRE-05", "pending_updates", "WARN", blocking=False),
        result("srv-lin01", "PRE-03", "hardware", "FAIL", blocking=False),
        result("contract", "PRE-07", "server_room_phone", "DECLARED", blocking=False),
    ]
    document = build(results)
    assert document["onboarding_blocked"] is False
    assert document["blocking_failures"] == []
    assert "Rien ne bloque la mise en service." in render(document, "md", TEMPLATES)


def test_hosts_keep_every_host_contract_first_results_in_requirement_order():
    document = build()
    assert [h["host"] for h in document["hosts"]] == [
        "contract",
        "srv-lin01",
        "srv-dyn",
        "srv-ad01",
        "srv-app01",
    ]
    lin = document["hosts"][1]
    assert [r["requirement"] for r in lin["results"]] == ["PRE-01", "PRE-02", "PRE-05", "PRE-08"]
    statuses = {h["host"]: h["status"] for h in document["hosts"]}
    assert statuses == {
        "contract": "FAIL",
        "srv-lin01": "WARN",
        "srv-dyn": "FAIL",
        "srv-ad01": "UNREACHABLE",
        "srv-app01": "NOT_APPLICABLE",
    }
    assert lin["counts"]["PASS"] == 3


def test_evidence_is_kept_as_observed():
    document = build()
    dyn = next(h for h in document["hosts"] if h["host"] == "srv-dyn")
    assert dyn["results"][0]["evidence"] == {
        "addresses": [{"local": "10.89.7.12", "dynamic": True, "valid_life": 3600}]
    }


# --- secrets and personal data --------------------------------------------------------------


@pytest.mark.req("SEC-01")
def test_the_smtp_password_never_appears_in_any_format():
    plain_auth = base64.b64encode(f"\0{USERNAME}\0{PASSWORD}".encode()).decode()
    results = sample_results()
    results[1]["evidence"]["transcript"] = [
        {"step": "auth", "command": f"AUTH PLAIN {plain_auth}", "reply": [f"535 bad {PASSWORD}"]},
        {"step": "auth_password", "command": base64.b64encode(PASSWORD.encode()).decode()},
    ]
    results[5]["hint"] = f"the relay said: password {PASSWORD} rejected"
    document = build(results, secrets=[PASSWORD])
    for fmt, text in every_rendering(document).items():
        for leaked in (PASSWORD, plain_auth, base64.b64encode(PASSWORD.encode()).decode()):
            assert leaked not in text, fmt
    assert "AUTH PLAIN ********" in json.dumps(document)
    assert "535 bad ********" in json.dumps(document)


@pytest.mark.req("SEC-02")
def test_contacts_personal_data_never_appear_in_a_prerequisites_report():
    results = sample_results()
    results[4]["evidence"] = {
        "declared_by": "Claire Martin",
        "date": "2026-10-12",
        "note": "call CLAIRE MARTIN on +33472000001 or claire.martin@martin.example",
    }
    results[4]["title"] = "Téléphone attesté par Julien Roche (+33 4 78 00 00 02)"
    document = build(results)
    renderings = every_rendering(document)
    for fmt, text in renderings.items():
        for personal in (
            "Claire Martin",
            "CLAIRE MARTIN",
            "Julien Roche",
            "claire.martin@martin.example",
            "+33472000001",
            "72 00 00 01",
            "78 00 00 02",
        ):
            assert personal not in text, (fmt, personal)
    declared = document["hosts"][0]["results"][-1]
    assert declared["evidence"]["declared_by"] == "[Gérante]"
    assert declared["evidence"]["date"] == "2026-10-12"  # not a phone number: kept
    assert "contacts" not in document


def test_a_visit_sheet_may_carry_the_contacts():
    document = build(kind="visit")
    assert [c["name"] for c in document["contacts"]] == ["Claire Martin", "Julien Roche"]
    assert schema_problems(document, ROOT) == []


# --- renderings ----------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_html_is_self_contained_printable_and_escaped(language):
    results = sample_results()
    results[6]["hint"] = HOSTILE
    results[6]["evidence"]["raw"] = HOSTILE
    html = render(build(results, language=language), "html", TEMPLATES)
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags
    assert "link" not in parser.tags and "img" not in parser.tags
    assert not [v for k, v in parser.attrs if k in ("src", "href") and not v.startswith("#")]
    assert "@import" not in html and "url(" not in html
    assert "<style>" in html and "@media print" in html
    assert "&lt;script&gt;" in html
    assert f'<html lang="{language}">' in html
    # Every status is colour-coded and also written out (readable printed in black and white).
    for status in ("PASS", "WARN", "FAIL", "UNREACHABLE", "NOT_APPLICABLE", "DECLARED"):
        assert f".s-{status} " in html or f".s-{status}{{" in html.replace(" {", "{")
        assert f'class="status s-{status}">{status}</span>' in html
    heading = "Rapport de prérequis" if language == "fr" else "Prerequisites report"
    assert f"<h1>{heading} — Boulangeries Martin SARL</h1>" in html
    assert "10.89.7.12" in html  # the evidence is shown


@pytest.mark.parametrize("language", ["fr", "en"])
def test_markdown_tables_survive_hostile_text(language):
    results = sample_results()
    results[6]["hint"] = HOSTILE + "\nsecond line"
    markdown = render(build(results, language=language), "md", TEMPLATES)
    rows = [line for line in markdown.splitlines() if line.startswith("| PRE-")]
    assert len(rows) == len(results)
    for row in rows:  # five columns: six unescaped pipes, whatever the text holds
        assert len(re.findall(r"(?<!\\)\|", row)) == 6, row
    assert "<script>" not in markdown
    assert r"\<script\>" in markdown
    assert "second line" in markdown


def test_markdown_speaks_the_contract_language():
    french = render(build(language="fr"), "md", TEMPLATES)
    english = render(build(language="en"), "md", TEMPLATES)
    assert french.startswith("# Rapport de prérequis — Boulangeries Martin SARL")
    assert "## Problèmes bloquants" in french
    assert "| PRE-02 | `static_addressing` | FAIL (bloquant) |" in french
    assert english.startswith("# Prerequisites report — Boulangeries Martin SARL")
    assert "**Onboarding is blocked: 4 blocking problem(s) to fix first.**" in english
    assert "## srv-ad01 — UNREACHABLE (unreachable)" in english


def test_junit_has_one_testcase_per_result_with_the_right_outcome():
    results = sample_results()
    results[0]["evidence"] = {"apt": "\x1b[31mcolour\x1b[0m and a NUL \x00"}  # raw tool output
    xml = render(build(results), "junit", TEMPLATES)
    root = ET.fromstring(xml.encode())
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(results)
    outcome = {}
    for case in cases:
        children = [c.tag for c in case]
        outcome[(case.get("classname"), case.get("name"))] = children
    assert outcome[("srv-dyn", "PRE-02 static_addressing")] == ["failure"]
    assert outcome[("srv-dyn", "PRE-03 hardware")] == ["failure"]
    assert outcome[("srv-ad01", "PRE-01 smtp_relay")] == ["error"]
    assert outcome[("srv-app01", "PRE-06 remote_assistance")] == ["skipped"]
    assert outcome[("srv-lin01", "PRE-01 smtp_relay")] == ["system-out"]
    assert outcome[("contract", "PRE-07 server_room_phone")] == ["system-out"]
    declared = root.find("./testsuite[@name='contract']/testcase[@name='PRE-07 server_room_phone']")
    assert declared.find("system-out").text.startswith("DECLARED (déclaré, non vérifié)")
    hardware = root.find("./testsuite[@name='srv-dyn']/testcase[@name='PRE-03 hardware']")
    assert hardware.find("failure").get("message").endswith("(non bloquant)")
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "12",
        "failures": "4",
        "errors": "2",
        "skipped": "1",
    }
    assert root.find("./testsuite[@name='srv-dyn']").get("failures") == "3"


def test_console_table_one_row_per_host_one_column_per_requirement():
    lines = console_table(build(language="en"))
    header, rule, *rows = lines[:7]
    assert header.split() == [
        "Host",
        "PRE-01",
        "PRE-02",
        "PRE-03",
        "PRE-05",
        "PRE-06",
        "PRE-07",
        "PRE-08",
    ]
    assert set(rule.replace(" ", "")) == {"-"}
    cells = {row.split()[0]: row.split()[1:] for row in rows}
    assert cells["Contract"] == ["-", "FAIL!", "-", "-", "-", "DECL", "-"]
    assert cells["srv-lin01"] == ["ok", "ok", "-", "WARN", "-", "-", "ok"]
    assert cells["srv-dyn"] == ["-", "FAIL!", "FAIL", "-", "-", "-", "FAIL!"]
    assert cells["srv-ad01"] == ["UNRCH", "UNRCH", "-", "-", "-", "-", "-"]
    assert cells["srv-app01"] == ["-", "-", "-", "-", "n/a", "-", "-"]
    assert lines[7].startswith("Legend: ok = PASS (pass)")
    assert "! = blocking" in lines[7]
    assert lines[8] == "4 host(s), 12 result(s), 4 blocking problem(s)"
    # Columns line up: every cell of a column starts at the header's offset.
    offsets = [m.start() for m in re.finditer(r"\S+", header)]
    for row in rows:
        assert [m.start() for m in re.finditer(r"\S+", row)] == offsets


def test_console_table_in_french():
    lines = console_table(build())
    assert lines[0].split()[0] == "Serveur"
    assert lines[2].startswith("Contrat")
    assert "UNRCH = UNREACHABLE (injoignable)" in lines[-2]


def test_every_status_has_a_label_in_both_languages():
    for language in ("fr", "en"):
        assert set(LABELS[language]["status"]) == set(STATUSES)
    assert set(ABBREVIATIONS) == set(STATUSES)
    assert len(set(ABBREVIATIONS.values())) == len(STATUSES)


# --- bad input ----------------------------------------------------------------------------


ONE = result("srv", "PRE-01", "smtp", "PASS")  # one valid result, to break in one place


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: build_report("PASS", contract(), RUN_ID),
            "results must be a list of result dicts, got str",
            id="results-not-a-list",
        ),
        pytest.param(
            lambda: build_report([{"host": "srv-lin01"}], contract(), RUN_ID),
            "results[0] (host srv-lin01) has no 'requirement'",
            id="missing-key",
        ),
        pytest.param(
            lambda: build_report([{**ONE, "status": "OK"}], contract(), RUN_ID),
            "results[0] (host srv).status is 'OK', expected one of PASS, WARN",
            id="bad-status",
        ),
        pytest.param(
            lambda: build_report([{**ONE, "requirement": "pre 1"}], contract(), RUN_ID),
            "results[0] (host srv).requirement is 'pre 1', expected an ID like",
            id="bad-requirement",
        ),
        pytest.param(
            lambda: build_report([{**ONE, "blocking": "yes"}], contract(), RUN_ID),
            "results[0] (host srv).blocking is 'yes', expected true or false",
            id="bad-blocking",
        ),
        pytest.param(
            lambda: build_report([], {"client": {"name": "X"}}, RUN_ID),
            "contract.client.id is None",
            id="contract-without-id",
        ),
        pytest.param(
            lambda: build_report([], None, RUN_ID),
            "contract must be the validated contract dict, got NoneType",
            id="no-contract",
        ),
        pytest.param(
            lambda: build_report([], {**contract(), "language": "de"}, RUN_ID),
            "contract.language is 'de': expected one of fr, en",
            id="bad-language",
        ),
        pytest.param(
            lambda: build_report([], contract(), "../../etc"),
            "run_id is '../../etc': expected a folder name",
            id="run-id-escapes",
        ),
        pytest.param(
            lambda: build_report([], contract(), RUN_ID, "audit"),
            "kind is 'audit': expected one of prerequisites, visit",
            id="bad-kind",
        ),
    ],
)
def test_bad_input_gives_a_clear_message(call, message):
    with pytest.raises(ReportError) as caught:
        call()
    assert message in str(caught.value)


def test_every_malformed_result_is_listed_at_once():
    bad = [result("a", "PRE-01", "x", "OK"), 42, result("b", "PRE-02", "y", "PASS", title=None)]
    with pytest.raises(ReportError) as caught:
        build_report(bad, contract(), RUN_ID)
    text = str(caught.value)
    assert "results[0] (host a).status" in text
    assert "results[1] is a int, expected a result dict" in text
    assert "results[2] (host b).title is None" in text
