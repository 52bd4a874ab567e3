"""Validate the PreventCare client contract on the controller, before any host is touched."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ansible.errors import AnsibleError, AnsibleUndefinedVariable
from ansible.module_utils import preventcare_contract as contract_rules
from ansible.module_utils.preventcare_contract_file import read_inventory

# ansible-core 2.19 (the pinned one) hands inline vault values to plugins still encrypted.
from ansible.parsing.vault import EncryptedString
from ansible.plugins.action import ActionBase

DOCUMENTATION = r"""
---
action: preventcare_validate_contract
short_description: Validate the PreventCare client contract
description:
  - Checks the C(preventcare) variable against C(schemas/contract.schema.json) and the
    cross-field rules (PRE-09 services, inventory hosts, formats).
  - Runs on the controller only and never connects to a host.
  - Lists every problem at once; the SMTP password never appears in the result.
options:
  contract:
    description: The contract to check. Defaults to the C(preventcare) variable.
    type: dict
  inventory_hosts:
    description: Host names that C(monitor_host) and C(backup[].host) must belong to.
      Defaults to C(groups['all']).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Validate the client contract before touching any host
  preventcare_validate_contract:
  run_once: true
"""

RETURN = r"""
contract:
  description: The contract with defaults applied and the SMTP password masked.
  returned: success
  type: dict
problems:
  description: Every problem found, each with path, message and hint.
  returned: failure
  type: list
  elements: dict
"""

_MAX_DEPTH = 32


def _expand(pattern):
    """Host ranges such as web[01:03], expanded as Ansible's YAML inventory does."""
    try:
        from ansible.plugins.inventory import detect_range, expand_hostname_range  # noqa: PLC0415

        return expand_hostname_range(pattern) if detect_range(pattern) else [pattern]
    except Exception:  # a malformed range is Ansible's to report
        return [pattern]


class ActionModule(ActionBase):
    """Controller-side contract validation."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("contract", "inventory_hosts"))
    _unresolved_parts: list[tuple]
    _literal_secrets: list[tuple]

    @classmethod
    def finalize_task_arg(cls, name, value, templar, context):
        # Resolve the contract lazily so that an undefined (vault) variable inside it
        # becomes a problem with its path, instead of failing the whole task early.
        if name == "contract":
            return templar.resolve_to_container(value)
        return super().finalize_task_arg(name, value, templar, context)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        result["changed"] = False
        # Files the contract names are found from the inventory folder; without one
        # (a contract given as an argument), they are not checked.
        self._inventory_dir = self._find_inventory_dir(task_vars)
        inventory_dir = self._inventory_dir or "inventories/<client>"
        contract_file = os.path.join(str(inventory_dir), "group_vars", "all", "preventcare.yml")

        if "contract" in self._task.args and self._task.args["contract"] is not None:
            raw, source = self._task.args["contract"], "the task argument 'contract'"
        elif "preventcare" in task_vars:
            raw, source = task_vars["preventcare"], contract_file
        else:
            result["failed"] = True
            result["msg"] = (
                "The client contract is missing: the variable 'preventcare' is not defined. "
                f"Define it in {contract_file} (copy "
                "inventories/example/group_vars/all/preventcare.yml and adapt it)."
            )
            return result

        try:
            contract, hosts, problems = self._check(raw, task_vars)
        except AnsibleError:
            raise
        except Exception as exc:  # report, never a traceback; no value is echoed (secrets)
            result["failed"] = True
            result["msg"] = (
                f"Internal error while checking the contract ({type(exc).__name__}); "
                "run bin/preventcare-contract on the inventory for details and report it."
            )
            return result
        if problems:
            result["failed"] = True
            result["msg"] = contract_rules.format_problems(problems, source)
            result["problems"] = [p.to_dict() for p in problems]
            return result
        result["contract"] = contract_rules.normalise_contract(contract, self._inventory_dir)
        name = result["contract"].get("client", {}).get("name", "?")
        count = len(hosts) if hosts is not None else 0
        result["msg"] = f"contract OK: {name} ({count} host{'s' if count != 1 else ''})"
        return result

    @staticmethod
    def _find_inventory_dir(task_vars):
        """The host's inventory folder, or (implicit localhost) the inventory source's."""
        if task_vars.get("inventory_dir"):
            return str(task_vars["inventory_dir"])
        for source in map(str, task_vars.get("ansible_inventory_sources") or ()):
            if os.path.isdir(source):
                return source
            if os.path.isfile(source):
                return os.path.dirname(os.path.abspath(source))
        return None

    def _check(self, raw, task_vars):
        """(resolved contract, inventory hosts, every problem with secrets masked)."""
        unresolved: list[contract_rules.Problem] = []
        self._unresolved_parts = []
        self._literal_secrets = []
        contract = self._resolve(raw, (), unresolved, 0)
        hosts = self._inventory_hosts(task_vars, unresolved)
        skip = self._unresolved_parts
        problems = unresolved + contract_rules.validate_contract(
            contract,
            hosts,
            skip_paths=skip,
            base_dir=self._inventory_dir,
            inventory=self._inventory(task_vars, hosts),
            literal_secrets=self._literal_secrets,
        )
        return (
            contract,
            hosts,
            contract_rules.scrub(problems, contract_rules.secret_values(contract)),
        )

    def _inventory(self, task_vars, hosts):
        """The inventory files as written (two addresses of one host, passwords in clear),
        with each host's preventcare_site as Ansible resolved it."""
        sources = [str(s) for s in task_vars.get("ansible_inventory_sources") or ()]
        view = read_inventory(sources, _expand)
        hostvars = task_vars.get("hostvars") or {}
        for name in hosts or ():
            record = view["hosts"].setdefault(name, {"addresses": [], "site": None})
            try:
                site = hostvars[name].get("preventcare_site") if name in hostvars else None
                record["site"] = self._templar.template(site) if isinstance(site, str) else site
            except AnsibleError:
                continue  # an unresolvable site is the set-up day's preflight to report
        return view

    def _inventory_hosts(self, task_vars, problems):
        if "inventory_hosts" in self._task.args:
            hosts = self._task.args["inventory_hosts"]
        else:
            hosts = (task_vars.get("groups") or {}).get("all")
        if hosts is None:
            return None
        if isinstance(hosts, str) or not isinstance(hosts, list | tuple):
            problems.append(
                contract_rules.Problem("inventory_hosts", "expected a list of host names")
            )
            return None
        return [str(h) for h in hosts]

    def _resolve(self, value, parts, problems, depth):
        """Template the contract leaf by leaf, turning each failure into a problem."""
        if depth > _MAX_DEPTH:
            return value
        if isinstance(value, Mapping):
            resolved = {}
            for key in list(value.keys()):
                try:
                    item = value[key]
                except AnsibleError as exc:  # a lazy container templates on access
                    problems.append(self._problem((*parts, key), exc, None))
                    self._unresolved_parts.append((*parts, key))
                    continue
                resolved[key] = self._resolve(item, (*parts, key), problems, depth + 1)
            return resolved
        if isinstance(value, list | tuple):
            return [
                self._resolve(item, (*parts, index), problems, depth + 1)
                for index, item in enumerate(value)
            ]
        return self._resolve_leaf(value, parts, problems, depth)

    def _resolve_leaf(self, value, parts, problems, depth):
        if not isinstance(value, str | EncryptedString):
            return value
        # Judged as written: once templated, a vault value and clear text look alike.
        if (
            contract_rules.is_secret_path(parts)
            and not isinstance(value, EncryptedString)
            and not contract_rules.is_opaque(str(value))
        ):
            self._literal_secrets.append(parts)
        try:
            templated = self._templar.template(value)
        except AnsibleError as exc:
            problems.append(self._problem(parts, exc, value))
            self._unresolved_parts.append(parts)
            return None
        if templated is not value and isinstance(templated, Mapping | list | tuple):
            return self._resolve(templated, parts, problems, depth + 1)
        return templated

    @staticmethod
    def _problem(parts, exc, value):
        path = contract_rules.render_path(parts)
        secret = "password" in parts
        text = str(getattr(exc, "message", "") or exc).strip().splitlines()
        detail = text[0][:200] if text else type(exc).__name__
        encrypted = isinstance(value, EncryptedString) or ("decrypt" in detail.lower())
        if encrypted:
            message, hint = "is vault-encrypted and cannot be decrypted", contract_rules.VAULT_HINT
        elif isinstance(exc, AnsibleUndefinedVariable) and secret:
            message, hint = f"refers to an undefined variable ({detail})", contract_rules.VAULT_HINT
        elif isinstance(exc, AnsibleUndefinedVariable):
            message = f"refers to an undefined variable ({detail})"
            hint = "define that variable or write the value itself"
        else:
            message = f"cannot be resolved ({detail})"
            hint = "check the template in this value"
        return contract_rules.Problem(path, message, hint)
