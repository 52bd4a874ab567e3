"""Validate the provider inventory and read the client inventories it watches, on the controller."""

from __future__ import annotations

import os

from ansible.module_utils.preventcare_provider import (
    format_problems,
    validate_provider,
)
from ansible.plugins.action import ActionBase

DOCUMENTATION = r"""
---
action: preventcare_validate_provider
short_description: Validate the PreventCare provider inventory and read its clients
description:
  - Checks the provider's data against C(schemas/provider.schema.json) with the contract's
    validator, then the e-mail addresses, the durations, the console host and every client
    inventory it names (each must exist and hold a valid contract).
  - Runs on the controller only and never connects to a host; lists every problem at once.
options:
  provider:
    description: The provider's data (the C(preventcare_provider) variable).
    type: dict
    required: true
  base_dir:
    description: The provider inventory's folder; client inventories are relative to it.
    type: path
    required: true
  console_hosts:
    description: Host names of the inventory's C(console) group.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Validate the provider inventory before touching the console
  preventcare_validate_provider:
    provider: "{{ preventcare_provider }}"
    base_dir: "{{ inventory_dir }}"
    console_hosts: "{{ groups['console'] | default([]) }}"
  run_once: true
"""

RETURN = r"""
provider:
  description: The provider's data with defaults applied.
  returned: success
  type: dict
clients:
  description: One entry per client inventory (id, name, language, monitor, servers, contacts).
  returned: success
  type: list
  elements: dict
problems:
  description: Every problem found, each with path, message and hint.
  returned: failure
  type: list
  elements: dict
"""


class ActionModule(ActionBase):
    """Controller-side validation of the provider inventory."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("provider", "base_dir", "console_hosts"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result["changed"] = False
        args = self._task.args
        base_dir = str(args.get("base_dir") or "")
        source = os.path.join(base_dir, "group_vars", "all", "provider.yml")
        if args.get("provider") is None:
            result["failed"] = True
            result["msg"] = (
                "The provider inventory is missing: the variable 'preventcare_provider' is not "
                f"defined. Define it in {source} (see inventories/provider/)."
            )
            return result
        hosts = args.get("console_hosts")
        try:
            problems, provider, clients = validate_provider(
                args["provider"], base_dir, None if hosts is None else [str(h) for h in hosts]
            )
        except Exception as exc:  # never a traceback
            result["failed"] = True
            result["msg"] = f"internal error while checking {source} ({type(exc).__name__})"
            return result
        if problems:
            result["failed"] = True
            result["msg"] = format_problems(problems, source)
            result["problems"] = [p.to_dict() for p in problems]
            return result
        result["provider"] = provider
        result["clients"] = clients
        result["msg"] = f"provider inventory OK: {len(clients)} client(s)"
        return result
