"""Stop early, with the contract's own message, when preventcare.yml is not readable YAML.

Ansible reads group_vars before any task runs, and its parser error does not name the
file. This plugin runs before host_group_vars (see vars_plugins_enabled in ansible.cfg),
reads the inventory's contract the way bin/preventcare-contract does, and fails with
the file, line and column. It adds no variables; every other check stays with the
preventcare_contract action, which lists all problems at once.
"""

from __future__ import annotations

import os
import stat

import ansible.module_utils as _amu

# The project's one import bootstrap for Ansible runs. AnsiballZ gives modules their
# ansible.module_utils.<name> imports; controller-side plugins get them from this line.
# Ansible loads vars plugins when it reads the inventory, before it templates a filter or
# runs an action, so every filter and action plugin of the project finds module_utils/
# here (molecule's generated ansible.cfg enables this plugin too). Outside Ansible (bin/
# tools, pytest) the same is done by bin/preventcare_env.py.
_MU = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "module_utils")
_MU in _amu.__path__ or _amu.__path__.append(_MU)

from ansible import constants as C  # noqa: E402 - Ansible's own spelling
from ansible.errors import AnsibleError  # noqa: E402
from ansible.module_utils.preventcare_contract import format_problems  # noqa: E402
from ansible.module_utils.preventcare_contract_file import (  # noqa: E402
    extract_contract,
    read_yaml_file,
    vault_password_problems,
)
from ansible.plugins.loader import filter_loader, test_loader  # noqa: E402
from ansible.plugins.vars import BaseVarsPlugin  # noqa: E402

DOCUMENTATION = """
name: preventcare_contract_guard
short_description: Fail early with a clear message when the contract file is not valid YAML
description:
  - Reads C(group_vars/all/preventcare.yml) of each inventory folder before Ansible does and
    stops the run with the file, line, column and a hint when it cannot be parsed.
  - Stops too when a vars file of the inventory is encrypted with ansible-vault and no vault
    password was given, naming the file and the options that give one.
  - Makes Ansible's log file (C(log_path), C(ANSIBLE_LOG_PATH)) readable by its owner only
    (SEC-01); Ansible creates it with the umask, usually 0644.
  - Returns no variables.
options:
  stage:
    ini:
      - key: stage
        section: vars_preventcare_contract_guard
    env:
      - name: ANSIBLE_VARS_PLUGIN_STAGE
extends_documentation_fragment:
  - vars_plugin_staging
"""

CONTRACT = os.path.join("group_vars", "all", "preventcare.yml")
_checked: dict[tuple[str, float], str] = {}


def protect_log_file(path) -> bool:
    """Make Ansible's log file (log_path, ANSIBLE_LOG_PATH) readable by its owner only.

    Ansible creates it with the process umask (0644: any local user reads every run) when it
    starts, before any task; this runs when the inventory is read, still before any task,
    and leaves alone a file someone else owns. True when the mode was changed.
    """
    try:
        info = os.stat(path)
    except (OSError, TypeError, ValueError):
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        return False
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
        return True
    return False


protect_log_file(C.DEFAULT_LOG_PATH)


def preload_jinja_plugins() -> None:
    """Load the filter and test plugins (the project's and Ansible's) in this process.

    Every task runs in a worker process forked from this one, and the first filter a worker
    meets makes Ansible import every filter plugin of the configured paths, with the
    module_utils they import: about 0.3 s of CPU in each worker, again for every task of
    every host. Loaded here, in the main process, before the first task, they are inherited
    by every worker instead. Looking one plugin up is the public way to have the loader read
    them all; a plugin that cannot load is reported by Ansible, as it would be later.
    """
    filter_loader.get("ansible.builtin.combine")
    test_loader.get("ansible.builtin.file")


class VarsModule(BaseVarsPlugin):
    REQUIRES_ENABLED = True

    def get_vars(self, loader, path, entities, cache=True):
        super().get_vars(loader, path, entities)
        preload_jinja_plugins()  # after the first call, the loader answers from its cache
        folder = os.path.realpath(path)
        contract = os.path.join(folder, CONTRACT)
        try:
            key = (contract, os.stat(contract).st_mtime)
        except OSError:
            return {}  # no contract in this folder: nothing to guard
        if key not in _checked:
            document, problems = read_yaml_file(contract)
            if document is None and not problems:
                # Only comments: without this, the empty problem list read "contract OK".
                problems = extract_contract(None, contract)[1]
            _checked[key] = format_problems(problems, contract) if document is None else ""
        if _checked[key]:
            raise AnsibleError(_checked[key])
        # Ansible's own message for an encrypted vars file without a password names no file.
        vault = getattr(loader, "_vault", None)
        locked = vault_password_problems(folder, bool(getattr(vault, "secrets", None)))
        if locked:
            raise AnsibleError(format_problems(locked, contract))
        return {}
