"""Reports of checklist results (prerequisites now, the visit sheet later): pure functions.

`build_report()` turns result dicts (see the shared interface: host, requirement, check, status,
blocking, title, evidence, hint) into the report document - the machine-readable truth that
`schemas/report.schema.json` describes. `render()` writes it as JSON, Markdown, HTML (Jinja2
templates under templates/reports/) or JUnit XML; `console_table()` gives the compact summary.

Controller-side only (action plugins and tests): it needs Jinja2 and never runs on a host.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import jsonschema
from ansible.module_utils.preventcare_data import REQUIREMENT_ID, plain
from ansible.module_utils.preventcare_secrets import scrub, secret_forms
from ansible.module_utils.preventcare_sensors import write_atomically
from ansible.module_utils.preventcare_verdict import LANGUAGES, STATUSES, load_texts

SCHEMA_VERSION = 1
# Worst first: the status a host (or a table cell) shows when it has several results.
SEVERITY = ("UNREACHABLE", "FAIL", "WARN", "DECLARED", "PASS", "NOT_APPLICABLE")
KINDS = ("prerequisites", "visit")
FORMATS = ("json", "html", "md", "junit")
EXTENSIONS = {"json": "json", "html": "html", "md": "md", "junit": "xml"}
CONTRACT_HOST = "contract"
# Contacts' personal data may only appear in the technical document and the visit sheet (SEC-02).
CONTACTS_ALLOWED = {"prerequisites": False, "visit": True}

RESULT_KEYS = ("host", "requirement", "check", "status", "blocking", "title", "evidence", "hint")
_CHECK_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# \Z: a folder name never ends with a newline ($ would allow one).
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
# Every folder from the reports root down, and every report file: the client's data.
DIR_MODE = 0o750
FILE_MODE = 0o640
RUN_DIR_ATTEMPTS = 20
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ABBREVIATIONS = {
    "PASS": "ok",
    "WARN": "WARN",
    "FAIL": "FAIL",
    "UNREACHABLE": "UNRCH",
    "NOT_APPLICABLE": "n/a",
    "DECLARED": "DECL",
}
BLOCKING_MARK = "!"
NO_RESULT = "-"


def _labels():
    """{lang: labels} for the templates: "status.PASS" becomes labels["status"]["PASS"]."""
    texts = load_texts("report")
    labels = {}
    for lang in LANGUAGES:
        for key in texts.entries:
            if key.startswith("requirement."):
                continue
            holder = labels.setdefault(lang, {})
            *parents, leaf = key.split(".")
            for parent in parents:
                holder = holder.setdefault(parent, {})
            holder[leaf] = texts.template(key, lang)  # the templates fill in {n}, {file}
    return labels


LABELS = _labels()


class ReportError(ValueError):
    """Bad input to the report writer; the message names what is wrong and what to do."""


# ---------------------------------------------------------------- input


def _matches(pattern, value):
    return isinstance(value, str) and pattern.match(value) is not None


def _result_problems(index, item):
    where = f"results[{index}]"
    if not isinstance(item, Mapping):
        return [f"{where} is a {type(item).__name__}, expected a result dict"]
    host = item.get("host")
    if isinstance(host, str) and host:
        where += f" (host {host})"
    problems = [f"{where} has no '{key}'" for key in RESULT_KEYS if key not in item]
    checks = [
        ("host", lambda v: isinstance(v, str) and v.strip() != "", "a host name"),
        ("requirement", lambda v: _matches(REQUIREMENT_ID, v), "an ID like PRE-02"),
        ("check", lambda v: _matches(_CHECK_ID, v), "a short id like static_addressing"),
        ("status", lambda v: v in STATUSES, "one of " + ", ".join(STATUSES)),
        ("blocking", lambda v: isinstance(v, bool), "true or false"),
        ("title", lambda v: isinstance(v, str), "a text"),
        ("evidence", lambda v: v is None or isinstance(v, Mapping), "a dict"),
        ("hint", lambda v: v is None or isinstance(v, str), "a text"),
    ]
    for key, ok, expected in checks:
        if key in item and not ok(item[key]):
            problems.append(f"{where}.{key} is {item[key]!r}, expected {expected}")
    return problems


def check_results(results):
    """Raise ReportError listing every malformed result."""
    if not isinstance(results, list | tuple):
        raise ReportError(
            f"results must be a list of result dicts, got {type(results).__name__}: pass the "
            "evaluated results of every host"
        )
    problems = [p for i, item in enumerate(results) for p in _result_problems(i, item)]
    if problems:
        more = len(problems) - 20
        shown = problems[:20] + ([f"... and {more} more"] if more > 0 else [])
        raise ReportError(
            "malformed results (a bug in the evaluation that produced them): " + "; ".join(shown)
        )


def contract_identity(contract):
    """(client id, client name, language) of a validated contract; ReportError when missing."""
    if not isinstance(contract, Mapping):
        raise ReportError(
            f"contract must be the validated contract dict, got {type(contract).__name__}: pass "
            "preventcare_contract, set by playbooks/validate_contract.yml"
        )
    client = contract.get("client")
    client = client if isinstance(client, Mapping) else {}
    client_id, name = client.get("id"), client.get("name")
    if not isinstance(client_id, str) or not _SAFE_SEGMENT.match(client_id):
        raise ReportError(
            f"contract.client.id is {client_id!r}: expected the client's slug (e.g. martin); "
            "did playbooks/validate_contract.yml run first?"
        )
    if not isinstance(name, str) or not name.strip():
        raise ReportError("contract.client.name is missing: give the client's company name")
    language = contract.get("language", "fr")
    if language not in LANGUAGES:
        raise ReportError(f"contract.language is {language!r}: expected one of fr, en")
    return client_id, name, language


def check_run_id(run_id):
    if not isinstance(run_id, str) or not _SAFE_SEGMENT.match(run_id) or ".." in run_id:
        raise ReportError(
            f"run_id is {run_id!r}: expected a folder name such as 20261126T064847Z "
            "(preventcare_run_id, set by playbooks/validate_contract.yml)"
        )


# ---------------------------------------------------------------- the run folder


def new_run_id(when=None) -> str:
    """A run id that sorts by time and cannot collide: UTC second plus 48 random bits."""
    stamp = (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(6)}"


def _private_dir(path: str) -> None:
    """Create `path` if missing (a concurrent run may create it too) and make it 0750."""
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
    if os.stat(path).st_uid == os.geteuid():
        os.chmod(path, DIR_MODE)  # mkdir's mode goes through the umask


def create_run_dir(reports_root, client, run_id):
    """Create <reports_root>/<client>/<run_id>/ for one run, never reusing a folder.

    The run folder is created exclusively (os.mkdir, no exist_ok): when it exists already
    (another run with the same id), a new id is drawn and tried, so no report is ever lost
    or overwritten. Every folder from the reports root down is 0750. Returns the Path of
    the folder created, whose name is the run id actually used. Raises ReportError on a
    bad client or run id, OSError when the folders cannot be created.
    """
    if not isinstance(client, str) or not _SAFE_SEGMENT.match(client) or ".." in client:
        raise ReportError(f"client id is {client!r}: expected the client's slug (e.g. martin)")
    check_run_id(run_id)
    root = os.path.abspath(os.fspath(reports_root))
    missing = []
    parent = root
    while not os.path.isdir(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for folder in reversed(missing):
        _private_dir(folder)
    _private_dir(root)
    client_dir = os.path.join(root, client)
    _private_dir(client_dir)
    candidate = run_id
    for _attempt in range(RUN_DIR_ATTEMPTS):
        path = os.path.join(client_dir, candidate)
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:
            candidate = f"{run_id}-{secrets.token_hex(3)}"
            continue
        os.chmod(path, DIR_MODE)
        return Path(path)
    raise FileExistsError(f"{client_dir}: no free run folder after {RUN_DIR_ATTEMPTS} attempts")


def write_file(path, text) -> None:
    """Write beside the target, then rename: a reader never sees half a file; mode 0640."""
    write_atomically(path, text, FILE_MODE, suffix=".tmp")


# ---------------------------------------------------------------- scrubbing


def _phone_pattern(phone):
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return None
    separators = r"[\s.\-()/]*"
    head = r"(?:\+|00)?" if phone.strip().startswith(("+", "00")) else ""
    # Not inside a longer number (a serial, a counter).
    return r"(?<!\d)" + head + separators.join(re.escape(d) for d in digits) + r"(?!\d)"


def contact_patterns(contract):
    """[(regex, replacement)] for each contact's name, e-mail and phone (SEC-02)."""
    contacts = contract.get("contacts") if isinstance(contract, Mapping) else None
    patterns = []
    for contact in contacts if isinstance(contacts, list) else []:
        if not isinstance(contact, Mapping):
            continue
        role = contact.get("role")
        replacement = f"[{role}]" if isinstance(role, str) and role.strip() else "[contact]"
        for key in ("name", "email"):
            value = contact.get(key)
            if isinstance(value, str) and len(value.strip()) >= 3:
                patterns.append((re.escape(value.strip()), replacement))
        phone = contact.get("phone")
        if isinstance(phone, str) and _phone_pattern(phone):
            patterns.append((_phone_pattern(phone), replacement))
    patterns.sort(key=lambda p: len(p[0]), reverse=True)
    return [(re.compile(p, re.IGNORECASE), r) for p, r in patterns]


# ---------------------------------------------------------------- the document


def worst(statuses):
    present = set(statuses)
    return next((s for s in SEVERITY if s in present), None)


def counts(results):
    out = dict.fromkeys(STATUSES, 0)
    for result in results:
        out[result["status"]] += 1
    return out


def is_blocking(result):
    return result["status"] == "UNREACHABLE" or (result["status"] == "FAIL" and result["blocking"])


def blocking_failures(results):
    """Blocking FAILs, and each unreachable host once (its first UNREACHABLE result)."""
    out, unreachable = [], set()
    for result in results:
        if result["status"] == "UNREACHABLE":
            if result["host"] in unreachable:
                continue
            unreachable.add(result["host"])
        if is_blocking(result):
            out.append(result)
    return out


def _requirement_key(requirement):
    prefix, _, number = requirement.rpartition("-")
    return (prefix, int(number))


def requirement_name(requirement, language):
    key = f"requirement.{requirement}"
    texts = load_texts("report")
    return texts.text(key, language) if texts.has(key) else ""


def build_report(
    results,
    contract,
    run_id,
    kind="prerequisites",
    *,
    generated_at=None,
    secrets=(),
    contacts=None,
    visit=None,
):
    """The report document (see schemas/report.schema.json). Raises ReportError on bad input.

    secrets: values to mask wherever they appear (SEC-01). For a kind that may not carry
    contacts (prerequisites), the contacts' names, e-mails and phones are masked too.
    contacts: the unmasked contacts (preventcare_contract.contract_contacts), since the
    validated contract masks them (SEC-02); default: the contract's own.
    visit: the visit sheet's own part (preventcare_visit.visit_section), kind visit only.
    """
    if kind not in KINDS:
        raise ReportError(f"kind is {kind!r}: expected one of {', '.join(KINDS)}")
    client_id, client_name, language = contract_identity(contract)
    check_run_id(run_id)
    check_results(results)
    username = (((contract.get("smtp_relay") or {}).get("auth")) or {}).get("username")
    hidden = secret_forms(list(secrets), username if isinstance(username, str) else None)
    people = {"contacts": contacts} if contacts is not None else contract
    patterns = [] if CONTACTS_ALLOWED[kind] else contact_patterns(people)

    cleaned = []
    for item in results:
        result = {key: plain(item.get(key)) for key in RESULT_KEYS}
        result["evidence"] = result["evidence"] or {}
        result["hint"] = result["hint"] or ""
        cleaned.append(scrub(result, hidden, patterns))

    by_host = {}
    for result in cleaned:
        by_host.setdefault(result["host"], []).append(result)
    hosts = []
    for host in _host_order(cleaned):
        own = by_host[host]
        own.sort(key=lambda r: (_requirement_key(r["requirement"]), r["check"]))
        status = worst(r["status"] for r in own)
        hosts.append({"host": host, "status": status, "counts": counts(own), "results": own})
    requirements = sorted({r["requirement"] for r in cleaned}, key=_requirement_key)
    blocking = blocking_failures([r for h in hosts for r in h["results"]])
    when = generated_at or datetime.now(UTC)
    document = {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "run_id": run_id,
        "generated_at": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "language": language,
        "client": scrub({"id": client_id, "name": client_name}, hidden, patterns),
        "counts": counts(cleaned),
        "onboarding_blocked": bool(blocking),
        "blocking_failures": [_brief(r) for r in blocking],
        "requirements": [
            {"id": req, "name": requirement_name(req, language)} for req in requirements
        ],
        "hosts": hosts,
    }
    if kind == "visit":
        document["visit"] = scrub(plain(visit or {}), hidden, patterns)
    if CONTACTS_ALLOWED[kind] and isinstance(people.get("contacts"), list):
        document["contacts"] = scrub(plain(people["contacts"]), hidden)
    return document


def _host_order(results):
    """The contract-level checks first, then hosts in the order the results name them."""
    seen = list(dict.fromkeys(r["host"] for r in results))
    return sorted(seen, key=lambda h: h != CONTRACT_HOST)


def _brief(result):
    return {key: result[key] for key in ("host", "requirement", "check", "status", "title", "hint")}


# ---------------------------------------------------------------- console table


def console_table(document):
    """Text lines: one row per host, one column per requirement (per area in a visit sheet),
    then a legend."""
    labels = LABELS[document["language"]]
    visit = document["kind"] == "visit"
    columns = _areas(document["hosts"]) if visit else [r["id"] for r in document["requirements"]]
    rows = []
    for section in document["hosts"]:
        cells = []
        by_area = _by_area(section["results"]) if visit else {}
        for column in columns:
            own = (
                by_area.get(column, [])
                if visit
                else [r for r in section["results"] if r["requirement"] == column]
            )
            status = worst(r["status"] for r in own)
            cell = ABBREVIATIONS[status] if status else NO_RESULT
            if any(is_blocking(r) and r["status"] == "FAIL" for r in own):
                cell += BLOCKING_MARK
            cells.append(cell)
        rows.append([_host_label(section["host"], labels), *cells])
    header = [labels["host"], *columns]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    legend = [f"{ABBREVIATIONS[s]} = {s} ({labels['status'][s]})" for s in STATUSES]
    legend.append(f"{BLOCKING_MARK} = {labels['blocking_mark']}")
    legend.append(f"{NO_RESULT} = {labels['no_result']}")
    lines.append(f"{labels['legend']}: " + ", ".join(legend))
    total = sum(document["counts"].values())
    if visit:
        counts = document["counts"]
        attention = counts["FAIL"] + counts["WARN"] + counts["UNREACHABLE"]
        lines.append(
            labels["visit"]["attention"].format(
                n=attention,
                fail=counts["FAIL"],
                warn=counts["WARN"],
                unreachable=counts["UNREACHABLE"],
            )
            if attention
            else labels["visit"]["all_clear"]
        )
        return lines
    lines.append(
        labels["totals"].format(
            hosts=sum(1 for h in document["hosts"] if h["host"] != CONTRACT_HOST),
            results=total,
            blocking=len(document["blocking_failures"]),
        )
    )
    return lines


def _host_label(host, labels):
    return labels["contract"] if host == CONTRACT_HOST else host


# ---------------------------------------------------------------- rendering


def file_name(kind, fmt):
    return f"{kind}.{EXTENSIONS[fmt]}"


# Above this many results, JSON is written without indentation: Python's C encoder only
# serves unindented output, and a fleet's sheet is read by programs, not by eye.
INDENT_LIMIT = 2000


def _result_count(document):
    return sum(len(h["results"]) for h in document["hosts"])


def render(document, fmt, templates_dir, evidence=None):
    """The document as text in one of FORMATS (`evidence`: render_all's shared _Evidence)."""
    if fmt == "json":
        indent = 2 if _result_count(document) <= INDENT_LIMIT else None
        return json.dumps(document, indent=indent, ensure_ascii=False) + "\n"
    evidence = evidence or _Evidence(document)
    if fmt == "junit":
        return render_junit(document, evidence)
    if fmt in ("md", "html"):
        return _render_template(document, fmt, templates_dir, evidence)
    raise ReportError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def render_all(document, formats, templates_dir):
    """{format: text} for each of `formats`, each result's evidence serialised once for all."""
    evidence = _Evidence(document)
    return {fmt: render(document, fmt, templates_dir, evidence) for fmt in formats}


def _md_escape(text):
    """Text safe inside a Markdown table cell: no raw HTML, no column break, no emphasis."""
    text = re.sub(r"([\\`*|<>\[\]])", r"\\\1", str(text))
    return text.replace("\r\n", "\n").replace("\n", "<br>")


def _md_code(text):
    """An inline code span that survives backticks in the text (not for table cells)."""
    text = str(text).replace("\n", " ")
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _pretty(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


class _Evidence:
    """How the pages show evidence: `page` indented for a reader, or on one line for a
    fleet-sized sheet (indentation would take most of the rendering time); `line` on one
    line, cut at 300 characters (Markdown). The one-line text of each evidence is made once
    per document (by identity: the document holds every value while it is rendered)."""

    def __init__(self, document):
        self._lines = {}
        self._indent = _result_count(document) <= INDENT_LIMIT

    def _one_line(self, value):
        key = id(value)
        text = self._lines.get(key)
        if text is None:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
            self._lines[key] = text
        return text

    def page(self, value):
        return _pretty(value) if self._indent else self._one_line(value)

    def line(self, value, limit=300):
        text = self._one_line(value)
        return text if len(text) <= limit else text[: limit - 3] + "..."


def _area(check):
    """A visit sheet's area of a check: `tools.agent` is in `tools`."""
    return str(check).split(".", 1)[0]


def _areas(hosts):
    """The areas of every result of the host sections, in first-seen order."""
    return list(dict.fromkeys(_area(r["check"]) for h in hosts for r in h["results"]))


def _by_area(results):
    """{area: its results, in order} of one host's results (one pass for every column)."""
    grouped = {}
    for result in results:
        grouped.setdefault(_area(result["check"]), []).append(result)
    return grouped


def _environment(templates_dir):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=_md_escape,
        md_code=_md_code,
        areas=_areas,
        by_area=_by_area,
        worst=lambda results: worst(r["status"] for r in results),
    )
    return env


def _render_template(document, fmt, templates_dir, evidence):
    env = _environment(templates_dir)
    names = [f"{document['kind']}.{fmt}.j2", f"report.{fmt}.j2"]
    env.filters.update(pretty=evidence.page, compact=evidence.line)
    template = env.select_template(names)
    labels = LABELS[document["language"]]
    return template.render(
        report=document,
        t=labels,
        abbreviations=ABBREVIATIONS,
        statuses=STATUSES,
        host_label=lambda host: _host_label(host, labels),
        json_file=file_name(document["kind"], "json"),
        # Looked up once per result row: a dict, not a scan of the requirements.
        requirement_names={r["id"]: r["name"] for r in document["requirements"]},
    )


def render_junit(document, evidence=None):
    """JUnit XML: one testsuite per host, one testcase per result ("PRE-02 static_addressing")."""
    labels = LABELS[document["language"]]
    evidence_text = (evidence or _Evidence(document)).page
    suites = ET.Element("testsuites", name=_xml(_suite_name(document)))
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for section in document["hosts"]:
        suite = ET.SubElement(suites, "testsuite", name=_xml(section["host"]))
        numbers = dict.fromkeys(totals, 0)
        for result in section["results"]:
            numbers["tests"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_xml(section["host"]),
                name=_xml(f"{result['requirement']} {result['check']}"),
            )
            parts = (result["title"], result["hint"], evidence_text(result["evidence"]))
            detail = _xml("\n".join(p for p in parts if p))
            status = result["status"]
            if status == "FAIL":
                numbers["failures"] += 1
                weight = labels["blocking_yes"] if result["blocking"] else labels["non_blocking"]
                message = _xml(f"{result['title']} ({weight})")
                child = ET.SubElement(case, "failure", message=message, type="FAIL")
                child.text = detail
            elif status == "UNREACHABLE":
                numbers["errors"] += 1
                child = ET.SubElement(case, "error", message=_xml(result["title"]), type=status)
                child.text = detail
            elif status == "NOT_APPLICABLE":
                numbers["skipped"] += 1
                ET.SubElement(case, "skipped", message=_xml(result["title"] or status))
            else:
                note = f"{status} ({labels['status'][status]}): {detail}"
                ET.SubElement(case, "system-out").text = _xml(note)
        for key, value in numbers.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _suite_name(document):
    title = LABELS[document["language"]]["title"][document["kind"]]
    return f"{title} {document['client']['id']} {document['run_id']}"


def _xml(text):
    """Text XML 1.0 can carry (control characters from a host's output are dropped)."""
    return _XML_INVALID.sub("", str(text))


# ---------------------------------------------------------------- writing


def write_run_files(dest, client_id, run_id, files):
    """Write {file name: text or bytes} into this run's folder dest/<client id>/<run id>/.

    The set-up day's reports share one run folder: the prerequisites report created it, the
    technical document joins it; when it is missing it is created as create_run_dir does.
    Each file is written atomically, mode 0640. Returns {name: path}. OSError propagates
    for the caller to name the folder.
    """
    check_run_id(run_id)
    if not isinstance(client_id, str) or not _SAFE_SEGMENT.match(client_id):
        raise ReportError(f"client id {client_id!r} cannot name a folder")
    folder = os.path.join(dest, client_id, run_id)
    if not os.path.isdir(folder):
        folder = str(create_run_dir(dest, client_id, run_id))
    written = {}
    for name, data in files.items():
        path = os.path.join(folder, name)
        write_file(path, data)
        written[name] = path
    return written


# ---------------------------------------------------------------- schema


def schema_path(root):
    return os.path.join(root, "schemas", "report.schema.json")


def schema_problems(document, root):
    """Every way the document departs from schemas/report.schema.json ([] when it conforms)."""
    with open(schema_path(root), encoding="utf-8") as handle:
        schema = json.load(handle)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        message = error.message
        if len(message) > 200:  # jsonschema quotes the whole instance: name the rule instead
            rule = json.dumps(error.validator_value, ensure_ascii=False)[:120]
            message = f"breaks the rule {error.validator} {rule}"
        path = "/".join(str(p) for p in error.absolute_path) or "(document)"
        problems.append(f"{path}: {message}")
    return problems
