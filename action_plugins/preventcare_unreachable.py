"""Count a host that a play could not reach as unreachable in the recap, after the report."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

DOCUMENTATION = r"""
---
action: preventcare_unreachable
short_description: Report a host, found unreachable earlier in the run, as unreachable
description:
  - The gathering plays keep an unreachable server in the run (C(ignore_unreachable)) so that
    the report lists it as UNREACHABLE; Ansible then counts it as C(ignored), and the recap, AWX
    and ansible-runner see no unreachable host.
  - This action, run for those hosts once the report is written, returns an unreachable result
    without connecting again, so that the host counts C(unreachable=1) in the PLAY RECAP and the
    run's exit code is Ansible's own for unreachable hosts (4).
  - Runs on the controller only and never connects to the host.
options:
  msg:
    description: Why the host is unreachable, as the report says.
    type: str
    default: the host could not be reached earlier in this run
attributes:
  check_mode:
    support: full
    description: The same result in check mode, which reads the same evidence.
"""

EXAMPLES = r"""
- name: Count the server as unreachable in the recap, as the report does
  preventcare_unreachable:
    msg: "{{ inventory_hostname }} was unreachable: see the report"
  when: __prerequisites_unreachable | default(false)
"""

RETURN = r"""
unreachable:
  description: Always true.
  returned: always
  type: bool
"""


class ActionModule(ActionBase):
    """An unreachable result with no connection."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("msg",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        message = self._task.args.get("msg") or "the host could not be reached earlier in this run"
        result.update(unreachable=True, changed=False, msg=str(message))
        return result
