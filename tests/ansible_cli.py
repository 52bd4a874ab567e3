"""Run Ansible's commands from this virtualenv as a user does, and read what they print."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(tool: str, *args, cwd: Path = ROOT, env: dict | None = None, timeout: int = 300):
    """(exit code, stdout, stdout + stderr) of an Ansible command; a traceback fails the test."""
    done = subprocess.run(
        [str(BIN / tool), *map(str, args)],
        cwd=cwd,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    return done.returncode, done.stdout, output


def run_playbook(inventory, playbook, tmp_path: Path, *extra, env: dict | None = None):
    """ansible-playbook with the project's ansible.cfg; reports and fact cache under tmp_path."""
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts"),
        **(env or {}),
    }
    reports = f"preventcare_reports_root={tmp_path / 'reports'}"
    code, _, output = run(
        "ansible-playbook", "-i", inventory, playbook, "-e", reports, *extra, env=env
    )
    return code, output


def run_module(module: str, args: dict, workdir: Path, *extra, target=("localhost",), env=None):
    """One of the project's modules run by `ansible` ad hoc: (exit code, result, output)."""
    config = workdir / "ansible.cfg"
    config.write_text("[defaults]\n")  # not the project's cfg: no fact cache, no inventory
    env = {
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_MODULE_UTILS": str(ROOT / "module_utils"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        **(env or {}),
    }
    command = [*target, "-M", ROOT / "library", "-m", module, "-a", json.dumps(args), *extra]
    code, stdout, output = run("ansible", *command, cwd=workdir, env=env, timeout=120)
    if "=> {" not in stdout:
        raise AssertionError(f"no module result from {' '.join(target)}:\n{output}")
    return code, json.loads(stdout[stdout.index("=> {") + 3 :]), output
