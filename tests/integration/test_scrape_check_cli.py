"""bin/preventcare-scrape-check as a user runs it on a rule file and a saved scrape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "bin" / "preventcare-scrape-check"


def _rule(expr: str, alert: str = "A") -> list:
    return [{"name": "g", "rules": [{"alert": alert, "expr": expr}]}]


def test_the_cli_prints_what_is_missing_and_exits_1(tmp_path):
    rules = tmp_path / "r.yml"
    rules.write_text(
        yaml.safe_dump({"groups": _rule("preventcare_backup_last_status == 1", "BackupFailed")})
    )
    metrics = tmp_path / "m.prom"
    metrics.write_text("up 1\n")
    done = subprocess.run(
        [sys.executable, str(CLI), "--rules", str(rules), "--metrics", str(metrics)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "  - BackupFailed: preventcare_backup_last_status" in done.stdout
    done = subprocess.run(
        [sys.executable, str(CLI), "--rules", str(tmp_path / "nope.yml"), "--metrics", "-"],
        capture_output=True, text=True, check=False, input="",
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot read" in done.stderr
    assert "Traceback" not in done.stderr
