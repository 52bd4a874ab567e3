"""Shared pytest set-up: make the project's plugins importable as Ansible sees them."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import ansible.module_utils

ROOT = Path(__file__).resolve().parent.parent

# Modules import shared code as ansible.module_utils.<name>; AnsiballZ builds that
# namespace for modules only, so the tests extend it the same way the controller
# plugins do (see action_plugins/*.py).
if str(ROOT / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(ROOT / "module_utils"))

for folder in ("library", "filter_plugins", "action_plugins", "bin"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))


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
