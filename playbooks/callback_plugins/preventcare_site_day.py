"""Callback: the set-up day's closing summary - per host and per stage, what was installed or
changed (the changed tasks), what was skipped, what failed.

Loaded from the playbooks' own callback_plugins folder, it speaks only when the playbook is
site_day.yml; the stdout callback stays the default one. A stage is a play's first tag among
the set-up day's stages (see STAGES), so the summary follows the playbook's own order.
"""

from __future__ import annotations

import os
from collections import defaultdict

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
---
name: preventcare_site_day
type: aggregate
short_description: Per-host summary of the PreventCare set-up day
description:
  - At the end of playbooks/site_day.yml, prints for every host and stage the number of
    tasks that were ok, changed, skipped or failed, and the names of the changed tasks.
  - Silent for every other playbook.
"""

STAGES = (
    "prerequisites",
    "baseline",
    "sensors",
    "monitor",
    "heartbeat",
    "document",
)
PLAYBOOK = "site_day.yml"
_SHOWN_CHANGES = 12


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "preventcare_site_day"
    # Found beside the playbooks; it only speaks for site_day.yml.
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self):
        super().__init__()
        self._active = False
        self._stage = None
        self._counts = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        self._changed = defaultdict(lambda: defaultdict(list))

    def v2_playbook_on_start(self, playbook):
        self._active = os.path.basename(playbook._file_name) == PLAYBOOK

    def v2_playbook_on_play_start(self, play):
        tags = list(play.tags or [])
        self._stage = next((t for t in tags if t in STAGES), None)

    def _record(self, result, outcome):
        if not self._active or not self._stage:
            return
        host = result._host.get_name()
        self._counts[host][self._stage][outcome] += 1
        if outcome == "changed":
            self._changed[host][self._stage].append(result.task_name)

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result.is_changed() else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        if not self._active or not self._counts:
            return
        self._display.banner("PREVENTCARE SET-UP DAY: WHAT EACH HOST GOT")
        for host in sorted(self._counts):
            self._display.display(f"{host}:")
            for stage in STAGES:
                counts = self._counts[host].get(stage)
                if not counts:
                    continue
                figures = ", ".join(
                    f"{counts[k]} {k}"
                    for k in ("ok", "changed", "skipped", "failed", "ignored", "unreachable")
                    if counts.get(k)
                )
                self._display.display(f"  {stage:<14} {figures}")
                changed = list(dict.fromkeys(self._changed[host].get(stage, [])))
                for name in changed[:_SHOWN_CHANGES]:
                    self._display.display(f"      changed: {name}")
                if len(changed) > _SHOWN_CHANGES:
                    self._display.display(f"      ... and {len(changed) - _SHOWN_CHANGES} more")
            missing = [s for s in STAGES if s not in self._counts[host]]
            if missing and host != "localhost":
                self._display.display(f"  not run here: {', '.join(missing)}")
