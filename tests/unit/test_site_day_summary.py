"""The set-up day's closing summary (playbooks/callback_plugins/preventcare_site_day.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location(
    "preventcare_site_day_callback", ROOT / "playbooks/callback_plugins/preventcare_site_day.py"
)
callback = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(callback)


class _Display:
    def __init__(self):
        self.lines = []

    def banner(self, text):
        self.lines.append(f"== {text}")

    def display(self, text, **_):
        self.lines.append(text)


class _Result:
    def __init__(self, host, name, changed=False):
        self._host = SimpleNamespace(get_name=lambda: host)
        self.task_name = name
        self._changed = changed

    def is_changed(self):
        return self._changed


def _run(playbook):
    plugin = callback.CallbackModule()
    plugin._display = _Display()
    plugin.v2_playbook_on_start(SimpleNamespace(_file_name=f"/x/playbooks/{playbook}"))
    plugin.v2_playbook_on_play_start(SimpleNamespace(tags=["sensors"]))
    plugin.v2_runner_on_ok(_Result("srv-lin01", "Install smartmontools", changed=True))
    plugin.v2_runner_on_ok(_Result("srv-lin01", "Check the disks"))
    plugin.v2_runner_on_skipped(_Result("srv-lin01", "Install the Windows agent"))
    plugin.v2_playbook_on_play_start(SimpleNamespace(tags=["document"]))
    plugin.v2_runner_on_failed(_Result("srv-lin02", "Read the facts"), ignore_errors=False)
    plugin.v2_playbook_on_stats(None)
    return plugin._display.lines


def test_each_host_gets_its_stages_counts_and_changed_tasks():
    lines = _run("site_day.yml")
    text = "\n".join(lines)
    assert lines[0].startswith("== PREVENTCARE SET-UP DAY")
    assert "srv-lin01:" in lines
    assert "  sensors        1 ok, 1 changed, 1 skipped" in lines
    assert "      changed: Install smartmontools" in lines
    assert "  document       1 failed" in lines
    # stages that did not run for a server are said, not left out silently
    assert "not run here: prerequisites, baseline, monitor, heartbeat, document" in text


def test_it_says_nothing_for_another_playbook():
    assert _run("prerequisites.yml") == []
