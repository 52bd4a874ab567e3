"""Write a checklist report (prerequisites, visit sheet) on the controller, in four formats."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.module_utils import preventcare_report as report
from ansible.module_utils.preventcare_contract import contacts_from_vars, contract_secrets
from ansible.module_utils.preventcare_visit import visit_section

# ansible-core 2.19 (the pinned one) hands inline vault values to plugins still encrypted.
from ansible.parsing.vault import EncryptedString
from ansible.plugins.action import ActionBase
from jinja2 import TemplateError

DOCUMENTATION = r"""
---
action: preventcare_write_report
short_description: Write a PreventCare checklist report (prerequisites, visit sheet)
description:
  - Builds the report document from the evaluated results and writes it under
    C(<dest>/<client id>/<run id>/<kind>.<ext>) in the contract's language, each file written
    atomically with mode 0640, in a run folder created for it alone (0750, like every folder
    from C(dest) down) by C(create_run_dir) of module_utils/preventcare_report.py.
  - Runs on the controller only and never connects to a host.
  - Never fails because of the results; it returns the blocking failures for the playbook to act on.
  - Masks the SMTP password and every connection or vault password it can see (SEC-01); a
    prerequisites report never carries the contacts' names, e-mails or phones (SEC-02).
options:
  kind:
    description: Which checklist.
    type: str
    choices: [prerequisites, visit]
    default: prerequisites
  results:
    description: Result dicts of every host (host, requirement, check, status, blocking, title,
      evidence, hint).
    type: list
    elements: dict
    required: true
  contract:
    description: The validated contract (C(preventcare_contract)).
    type: dict
    required: true
  run_id:
    description: The run's identity (C(preventcare_run_id)), the report folder's name.
    type: str
    required: true
  dest:
    description: The reports root (C(preventcare_reports_dir)).
    type: path
    required: true
  formats:
    description: Files to write; C(junit) is JUnit XML, one test case per result.
    type: list
    elements: str
    choices: [json, html, md, junit]
    default: [json, html, md]
  visit:
    description:
      - For C(kind=visit) - C(plan) (the C(preventcare_visit_plan) filter's result), C(notes)
        (path of the engineer's notes file, may be empty) and C(site) (what the site's
        Prometheus said - anomalies, or why they are missing).
      - The previous sheet and the notes are read here; a corrupt one is a warning in the sheet.
    type: dict
attributes:
  check_mode:
    support: full
    description: Nothing is written; the result tells what would be.
"""

EXAMPLES = r"""
- name: Write the prerequisites report
  preventcare_write_report:
    kind: prerequisites
    results: "{{ __prerequisites_results }}"
    contract: "{{ preventcare_contract }}"
    run_id: "{{ preventcare_run_id }}"
    dest: "{{ preventcare_reports_dir }}"
    formats: [json, html, md, junit]
  register: __prereq_report
"""

RETURN = r"""
files:
  description: Format to path of each file written.
  returned: success
  type: dict
  sample: {json: reports/martin/20261126T064847Z/prerequisites.json}
dir:
  description: The report folder, created for this report only (never an existing one).
  returned: success
  type: str
run_id:
  description: The run id the folder is named after; a new one when a folder with the given
    id already existed (two runs in the same second).
  returned: success
  type: str
counts:
  description: Number of results per status.
  returned: success
  type: dict
blocking_failures:
  description: Blocking FAIL results, and each unreachable host once.
  returned: success
  type: list
  elements: dict
table:
  description: The console summary, one line per item (host x requirement, then a legend).
  returned: success
  type: list
  elements: str
"""

# Connection passwords a host may carry; their values are masked too (SEC-01).
_HOST_SECRETS = (
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_become_password",
    "ansible_become_pass",
    "ansible_winrm_password",
)
_OMIT_PREFIX = "__omit_place_holder__"


class ActionModule(ActionBase):
    """Controller-side report writer."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("kind", "results", "contract", "run_id", "dest", "formats", "visit"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        try:
            kind, formats, dest = self._arguments(args)
            secrets = self._secrets(task_vars)
            visit = None
            if kind == "visit":
                options = args.get("visit") or {}
                visit = visit_section(
                    options.get("plan"),
                    options.get("notes"),
                    args.get("results"),
                    options.get("site"),
                )
            document = report.build_report(
                args.get("results"),
                args.get("contract"),
                args.get("run_id"),
                kind,
                secrets=secrets,
                visit=visit,
                contacts=contacts_from_vars(task_vars, self._templar.template),
            )
        except report.ReportError as exc:
            return {**result, "failed": True, "msg": f"preventcare_write_report: {exc}"}
        problems = report.schema_problems(document, self._root())
        if problems:
            return {
                **result,
                "failed": True,
                "msg": "preventcare_write_report: the report does not match "
                "schemas/report.schema.json (a bug in the report writer; please report it): "
                + "; ".join(problems[:10]),
            }

        folder = os.path.join(dest, document["client"]["id"], document["run_id"])
        if not self._play_context.check_mode:
            try:
                # Never an existing folder: a run with the same id gets a new one (no report
                # is lost); the document names the folder it is in.
                texts = report.render_all(document, formats, self._templates())
                client = document["client"]["id"]
                folder = str(report.create_run_dir(dest, client, document["run_id"]))
                if os.path.basename(folder) != document["run_id"]:
                    document["run_id"] = os.path.basename(folder)
                    texts = report.render_all(document, formats, self._templates())
                files = {fmt: os.path.join(folder, report.file_name(kind, fmt)) for fmt in formats}
                for fmt, path in files.items():
                    report.write_file(path, texts[fmt])
            except TemplateError as exc:
                return {
                    **result,
                    "failed": True,
                    "msg": "preventcare_write_report: the report templates under "
                    f"{self._templates()} cannot be rendered ({type(exc).__name__}: {exc}); "
                    "restore them from the repository.",
                }
            except OSError as exc:
                return {
                    **result,
                    "failed": True,
                    "msg": f"preventcare_write_report: cannot write the report under {folder}: "
                    f"{exc.strerror or exc}. Check that the folder is writable, or set "
                    "preventcare_reports_root to a writable folder.",
                }
        else:
            files = {fmt: os.path.join(folder, report.file_name(kind, fmt)) for fmt in formats}
        table = report.console_table(document)
        result.update(
            # Check mode writes nothing, so nothing changed (the message says where it would go).
            changed=not self._play_context.check_mode,
            files=files,
            dir=folder,
            run_id=document["run_id"],
            counts=document["counts"],
            blocking_failures=report.blocking_failures(
                [r for section in document["hosts"] for r in section["results"]]
            ),
            table=table,
            msg=self._message(document, files),
        )
        return result

    def _message(self, document, files):
        check = self._play_context.check_mode
        where = files.get("html") or next(iter(files.values()))
        if document["kind"] == "visit":
            counts = document["counts"]
            attention = counts["FAIL"] + counts["WARN"] + counts["UNREACHABLE"]
            return (
                f"visit sheet {'would be' if check else 'written to'} {where}: {attention} item(s) "
                f"need attention ({counts['FAIL']} FAIL, {counts['WARN']} WARN, "
                f"{counts['UNREACHABLE']} UNREACHABLE)"
            )
        return (
            f"{document['kind']} report {'would go to' if check else 'written to'} "
            f"{os.path.dirname(where)}: {len(document['blocking_failures'])} blocking problem(s)"
        )

    @staticmethod
    def _arguments(args):
        kind = args.get("kind", "prerequisites")
        if kind not in report.KINDS:
            raise report.ReportError(f"kind is {kind!r}: expected one of {', '.join(report.KINDS)}")
        formats = args.get("formats", ["json", "html", "md"])
        if isinstance(formats, str):
            formats = [f.strip() for f in formats.split(",") if f.strip()]
        if not isinstance(formats, list | tuple) or not formats:
            raise report.ReportError(
                f"formats is {formats!r}: give a list among {', '.join(report.FORMATS)}"
            )
        unknown = [f for f in formats if f not in report.FORMATS]
        if unknown:
            raise report.ReportError(
                f"formats {', '.join(map(str, unknown))} unknown: "
                f"choose among {', '.join(report.FORMATS)}"
            )
        dest = args.get("dest")
        if not isinstance(dest, str) or not dest.strip():
            raise report.ReportError(
                "dest is missing: give the reports root (preventcare_reports_dir, set by "
                "playbooks/validate_contract.yml)"
            )
        return kind, list(dict.fromkeys(formats)), os.path.abspath(os.path.expanduser(dest))

    def _secrets(self, task_vars):
        """Every password value this task can see: the contract's secrets (SMTP, remote_write,
        exporters, web endpoints), vault_* values and the inventory's connection passwords."""
        found = []
        raw = task_vars.get("preventcare")
        if isinstance(raw, Mapping):
            try:
                resolved = self._templar.template(raw)
            except AnsibleError:
                resolved = {}
            for value in contract_secrets(resolved).values():
                found.extend(value if isinstance(value, list) else [value])
        for name in list(task_vars):
            if name.startswith("vault_") or name in _HOST_SECRETS:
                found.append(self._value(task_vars, name))
        hostvars = task_vars.get("hostvars")
        for host in (task_vars.get("groups") or {}).get("all", []):
            for name in _HOST_SECRETS:
                found.append(self._value(hostvars, host, name))
        found = [str(s) if isinstance(s, EncryptedString) else s for s in found]
        return [s for s in found if isinstance(s, str) and not s.startswith(_OMIT_PREFIX)]

    def _value(self, data, *path):
        """data[path...] resolved by the templar, or None when absent or unresolvable."""
        try:
            for key in path:
                if not isinstance(data, Mapping) or key not in data:
                    return None
                data = data[key]
            value = self._templar.template(data) if isinstance(data, str) else data
            # An inline !vault value reaches plugins encrypted; str() decrypts it.
            if isinstance(value, str | EncryptedString):
                return str(value)
        except (AnsibleError, KeyError, TypeError, ValueError):
            return None
        return None

    @staticmethod
    def _root():
        return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))

    def _templates(self):
        return os.path.join(self._root(), "templates", "reports")
