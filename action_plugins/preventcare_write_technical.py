"""Write the technical document (SET-04) and the visit plan (VIS-01) on the controller."""

from __future__ import annotations

import datetime
import glob
import json
import os
import shutil
import subprocess
from collections.abc import Mapping

import jinja2
import jsonschema
from ansible.module_utils import preventcare_report as report
from ansible.module_utils import preventcare_technical as technical
from ansible.module_utils.preventcare_calendar import PlanError, visit_ics, visit_plan
from ansible.module_utils.preventcare_contract import contacts_from_vars
from ansible.module_utils.preventcare_data import data_path, load_table
from ansible.module_utils.preventcare_prereq_os import find_os_entry
from ansible.module_utils.preventcare_secrets import scrub, secret_forms
from ansible.module_utils.preventcare_sizing import SizingError, setup_duration
from ansible.module_utils.preventcare_thresholds import (
    format_threshold,
    human_duration,
    load_thresholds,
    merge_overrides,
    parse_duration,
)
from ansible.module_utils.preventcare_verdict import load_texts
from ansible.plugins.action import ActionBase

DOCUMENTATION = r"""
---
action: preventcare_write_technical
short_description: Write the PreventCare technical document and the visit plan
description:
  - Shapes every server's facts (C(preventcare_dossier_facts) on Linux,
    C(scripts/windows/technical_facts.ps1) on Windows) with the contract into the technical
    document (schemas/technical.schema.json), in the contract's language, and writes under
    C(<dest>/<client id>/<run id>/) - C(technical.json), C(technical.md), C(technical.html)
    (self-contained, printable), C(technical.pdf) (WeasyPrint, from the HTML), C(network.svg)
    (Graphviz, for multi-server or multi-site clients, embedded in the HTML) and
    C(visit-plan.ics) (VIS-01).
  - Runs on the controller only and never connects to a host.
  - Reports C(changed) when the document differs from the client's previous technical
    document (its run identity and time aside); a new run folder is written either way.
  - Masks the SMTP password and every vault value it is given (SEC-01); contacts appear,
    since this is one of the two documents they may appear in (SEC-02).
options:
  hosts:
    description: One item per inventory server - host, platform (linux or windows), site,
      roles, and C(gathered), the registered result of C(preventcare_dossier_facts) (Linux)
      or of the C(technical_facts.ps1) win_powershell task (Windows); null when that stage
      did not run for the host, which the document then lists as not read.
    type: list
    elements: dict
    required: true
  contract:
    description: The validated contract (C(preventcare_contract)).
    type: dict
    required: true
  run_id: {description: The run's identity (C(preventcare_run_id)), type: str, required: true}
  dest: {description: The reports root (C(preventcare_reports_dir)), type: path, required: true}
  prerequisites:
    description: This run's prerequisites - C(report) (its file) and C(blocking) (the blocking
      failures); the waivers that cover them are listed in the document.
    type: dict
  monitored:
    description: Host to C({agent, port, sensors}) of what the set-up day installed.
    type: dict
  today:
    description: The set-up day (YYYY-MM-DD) the visit plan's contract year holds; default today.
    type: str
attributes:
  check_mode:
    support: full
    description: Nothing is written; the result says where it would go.
"""

EXAMPLES = r"""
- name: Write the technical document
  preventcare_write_technical:
    hosts: "{{ __technical_hosts }}"
    contract: "{{ preventcare_contract }}"
    run_id: "{{ preventcare_run_id }}"
    dest: "{{ preventcare_reports_dir }}"
"""

RETURN = r"""
files: {description: File name to path of each file written, returned: success, type: dict}
dir: {description: The run folder, returned: success, type: str}
summary: {description: One line per server, returned: success, type: list, elements: str}
visits: {description: The planned visit dates, returned: success, type: list, elements: str}
sizing: {description: The set-up duration (days, rule), returned: success, type: dict}
"""

NAME = "preventcare_write_technical"
_VOLATILE = ("run_id", "generated_at")


def _root():
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def _labels(lang):
    texts = load_texts("technical")
    return {key: texts.template(key, lang) for key in texts.entries}


class TechnicalFailure(Exception):
    """A failure the engineer can act on; its text is the task's message."""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(
        ("hosts", "contract", "run_id", "dest", "prerequisites", "monitored", "today")
    )

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        try:
            return {**result, **self._run(self._task.args, task_vars or {})}
        except TechnicalFailure as exc:
            return {**result, "failed": True, "msg": f"{NAME}: {exc}"}

    def _run(self, args, task_vars):  # noqa: PLR0915 - one step per file, in order
        contract = args.get("contract")
        if not isinstance(contract, Mapping):
            raise TechnicalFailure("contract must be the validated contract (preventcare_contract)")
        try:
            client_id, client_name, lang = report.contract_identity(contract)
            report.check_run_id(args.get("run_id"))
        except report.ReportError as exc:
            raise TechnicalFailure(str(exc)) from None
        dest = args.get("dest")
        if not isinstance(dest, str) or not dest.strip():
            raise TechnicalFailure(
                "dest is missing: give the reports root (preventcare_reports_dir)"
            )
        dest = os.path.abspath(os.path.expanduser(dest))
        labels = _labels(lang)
        records = self._records(args.get("hosts"))
        servers = [r for r in records if technical.is_server(r, contract)]
        client = contract["client"]
        now = datetime.datetime.now(datetime.UTC)
        try:
            sizing = setup_duration(
                client.get("users"), len(servers), client.get("setup_duration_days")
            )
            today = args.get("today") or now.date().isoformat()
            plan = visit_plan(max(len(servers), 1), client.get("contract_start"), today, lang)
        except (SizingError, PlanError) as exc:
            raise TechnicalFailure(str(exc)) from None
        merged, problems = merge_overrides(load_thresholds(), contract.get("thresholds") or {})
        if problems:
            raise TechnicalFailure("the contract's threshold overrides are invalid: validate it")
        # SEC-02: the technical document is one of the two places the contacts appear: as the
        # contract writes them, not as the validated (masked) contract carries them.
        contacts = contacts_from_vars(task_vars, self._templar.template)
        if contacts is not None:
            contract = {**contract, "contacts": contacts}
        document = technical.build_technical(
            records,
            contract,
            args["run_id"],
            generated_at=now,
            sizing=sizing,
            plan=plan,
            thresholds=merged,
            prerequisites=self._prerequisites(args.get("prerequisites")),
            monitored=args.get("monitored"),
            os_table=load_table(data_path("os_support.yml"), "OS support table"),
            find_os_entry=find_os_entry,
            formatters=(format_threshold, human_duration, parse_duration),
        )
        relay_user = ((contract.get("smtp_relay") or {}).get("auth") or {}).get("username")
        hidden = secret_forms(self._secrets(task_vars), relay_user)
        document = scrub(json.loads(json.dumps(document, default=str)), hidden)
        self._check_schema(document)

        files = {"technical.json": json.dumps(document, indent=2, ensure_ascii=False) + "\n"}
        svg = ""
        if document["diagram"]:
            svg = self._svg(technical.diagram_dot(document, labels))
            files[technical.DIAGRAM_FILE] = svg
        html = self._render("html", document, labels, svg)
        files["technical.html"] = html
        files["technical.md"] = self._render("md", document, labels, svg)
        hosts_text = ", ".join(r["host"] for r in document["servers"] if r["server"])
        files[technical.CALENDAR_FILE] = visit_ics(
            plan,
            client_id=client_id,
            client_name=client_name,
            summary=labels["visit_summary"],
            description=labels["visit_description"].format(hosts=hosts_text),
            generated_at=now,
        )
        changed = self._differs_from_previous(dest, client_id, args["run_id"], document)
        folder = os.path.join(dest, client_id, args["run_id"])
        if not self._play_context.check_mode:
            files["technical.pdf"] = self._pdf(html)
            try:
                written = report.write_run_files(dest, client_id, args["run_id"], files)
            except OSError as exc:
                raise TechnicalFailure(
                    f"cannot write the technical document under {folder}: "
                    f"{exc.strerror or exc}; set preventcare_reports_root to a writable folder"
                ) from None
        else:
            written = {name: os.path.join(folder, name) for name in [*files, "technical.pdf"]}
        return {
            "changed": changed and not self._play_context.check_mode,
            "files": written,
            "dir": folder,
            "sizing": sizing,
            "visits": [v["date"] for v in plan["visits"]],
            "summary": self._summary(document, labels),
            "msg": f"technical document "
            f"{'would go to' if self._play_context.check_mode else 'written to'} {folder}",
        }

    # ------------------------------------------------------------ inputs

    @staticmethod
    def _records(hosts):
        if not isinstance(hosts, list) or not hosts:
            raise TechnicalFailure(
                "hosts must list every server with its facts (host, platform, facts or result)"
            )
        codes = load_table(data_path("thresholds.yml"), "thresholds table")["textfile_metrics"][
            "preventcare_backup_last_status"
        ]["codes"]
        records = []
        for index, item in enumerate(hosts):
            if not isinstance(item, Mapping) or not isinstance(item.get("host"), str):
                raise TechnicalFailure(f"hosts[{index}] has no host name")
            name, platform = item["host"], item.get("platform")
            if platform not in ("linux", "windows"):
                raise TechnicalFailure(f"hosts[{index}] ({name}): platform is {platform!r}")
            gathered = item.get("gathered")
            if not isinstance(gathered, Mapping):
                record = technical.unreachable_host(
                    name, platform, "not read in this run (stage not run or host not reached)"
                )
            elif gathered.get("unreachable") or gathered.get("failed"):
                record = technical.unreachable_host(name, platform, gathered.get("msg"))
            elif platform == "linux":
                record = technical.linux_host(name, gathered.get("facts"), codes=codes)
            else:
                record = technical.windows_host(name, gathered)
            record["site"] = item.get("site")
            record["roles"] = [str(r) for r in item.get("roles") or []]
            records.append(record)
        return records

    def _secrets(self, task_vars):
        """The contract's secrets (validate_contract.yml keeps them apart) and vault_* values."""
        found = []
        for name in (
            "preventcare_contract_secrets",
            *[v for v in task_vars if v.startswith("vault_")],
        ):
            try:
                value = self._templar.template(task_vars.get(name))
            except Exception:
                continue
            values = value.values() if isinstance(value, Mapping) else [value]
            found += [str(v) for v in values if isinstance(v, str) and v]
        return found

    @staticmethod
    def _prerequisites(value):
        """The report's file and its blocking failures, reduced to what the document shows."""
        value = value if isinstance(value, Mapping) else {}
        keys = ("host", "requirement", "check", "status", "title")
        blocking = [
            {k: item.get(k) for k in keys}
            for item in value.get("blocking") or []
            if isinstance(item, Mapping)
        ]
        return {"report": value.get("report"), "blocking": blocking}

    @staticmethod
    def _check_schema(document):
        with open(os.path.join(_root(), "schemas", "technical.schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        errors = sorted(
            jsonschema.Draft202012Validator(schema).iter_errors(document),
            key=lambda e: list(e.absolute_path),
        )
        if errors:
            shown = "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message[:200]}"
                for e in errors[:10]
            )
            raise TechnicalFailure(
                "the document does not match schemas/technical.schema.json (a bug in the "
                f"writer; please report it): {shown}"
            )

    # ------------------------------------------------------------ outputs

    @staticmethod
    def _render(fmt, document, labels, svg):
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(os.path.join(_root(), "templates", "reports")),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters.update(md=report._md_escape)
        try:
            return env.get_template(f"technical.{fmt}.j2").render(
                doc=document, t=labels, diagram_svg=svg
            )
        except jinja2.TemplateError as exc:
            raise TechnicalFailure(
                f"templates/reports/technical.{fmt}.j2 cannot be rendered "
                f"({type(exc).__name__}: {exc}): a bug in the writer or a template changed by "
                "hand; please report it"
            ) from None

    @staticmethod
    def _svg(dot_text):
        dot = shutil.which("dot")
        if not dot:
            raise TechnicalFailure(
                "Graphviz's dot is not installed on the controller: apt-get install graphviz "
                "(scripts/setup.sh installs it)"
            )
        run = subprocess.run(
            [dot, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=60, check=False
        )
        if run.returncode != 0:
            raise TechnicalFailure(f"Graphviz refused the network diagram: {run.stderr.strip()}")
        # Inline in the HTML: drop the XML prolog and DOCTYPE, keep the <svg> element.
        return run.stdout[run.stdout.index("<svg") :]

    @staticmethod
    def _pdf(html):
        try:
            import weasyprint  # noqa: PLC0415 - heavy, and only needed when writing
        except (ImportError, OSError) as exc:
            raise TechnicalFailure(
                f"WeasyPrint cannot load ({exc}): run scripts/setup.sh, which installs it and "
                "the pango libraries it needs"
            ) from None
        return weasyprint.HTML(string=html, base_url=_root()).write_pdf()

    @staticmethod
    def _differs_from_previous(dest, client_id, run_id, document):
        """True when the client's latest earlier technical.json says something else."""
        earlier = sorted(
            p
            for p in glob.glob(os.path.join(dest, client_id, "*", "technical.json"))
            if os.path.basename(os.path.dirname(p)) < run_id
        )
        if not earlier:
            return True
        try:
            with open(earlier[-1], encoding="utf-8") as handle:
                previous = json.load(handle)
        except (OSError, ValueError):
            return True

        def stable(doc):
            doc = {k: v for k, v in doc.items() if k not in _VOLATILE}
            homologation = dict(doc.get("homologation") or {})
            homologation.pop("prerequisites_report", None)
            return {**doc, "homologation": homologation}

        return stable(previous) != stable(document)

    @staticmethod
    def _summary(document, labels):
        lines = []
        for record in document["servers"]:
            addresses = ", ".join(a["address"] for a in record["addresses"]) or "-"
            kind = labels.get(f"kind_{record['kind']}", labels["unknown"])
            lines.append(
                f"{record['host']}: {record['os']['name'] or labels['unknown']}, {kind}, "
                f"{addresses}, {len(record['services'])} {labels['services'].lower()}, "
                f"{len(record['shares'])} {labels['shares'].lower()}"
            )
        return lines
