"""Shared pytest set-up: make the project's plugins importable as Ansible sees them."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The plugins' folders, so tests import them by file name; bin/preventcare_env makes
# module_utils importable as ansible.module_utils.<name>, as the tools do.
for folder in ("library", "filter_plugins", "action_plugins", "bin"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

import preventcare_env  # noqa: E402, F401


def pytest_collection_modifyitems(config, items):
    """With PREVENTCARE_REQ_REPORT=FILE, record the requirement IDs each test proves.

    bin/preventcare-reqs reads it: IDs given at run time (parametrized from
    data/thresholds.yml, say) do not appear literally in the source.
    """
    out = os.environ.get("PREVENTCARE_REQ_REPORT")
    if not out:
        return
    marks = {
        item.nodeid: sorted({m.args[0] for m in item.iter_markers("req") if m.args})
        for item in items
    }
    Path(out).write_text(json.dumps(marks, indent=1), encoding="utf-8")
