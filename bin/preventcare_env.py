"""Make the project's module_utils importable outside Ansible (bin/ tools, pytest).

Controller code imports shared logic as ``ansible.module_utils.<name>``, the name the
modules get from AnsiballZ. Inside Ansible runs the contract-guard vars plugin extends
that package's path; the tools and the tests import this module instead. When the
toolchain is missing (a python3 without Ansible), it reruns the tool with the project's
virtualenv, or says how to.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _toolchain_missing(exc: ImportError) -> None:
    prog = Path(sys.argv[0]).name or "preventcare"
    if VENV_PYTHON.is_file() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
        # Started by a python3 without the toolchain: rerun with the project's virtualenv.
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), sys.argv[0], *sys.argv[1:]])
    sys.stderr.write(
        f"{prog}: cannot import {exc.name or 'a dependency'}; run it with the project's "
        f"virtualenv ({VENV_PYTHON}), created by scripts/setup.sh\n"
    )
    raise SystemExit(2)


try:
    import ansible.module_utils as _amu
except ImportError as _exc:  # pragma: no cover - depends on the interpreter
    _toolchain_missing(_exc)
else:
    _MU = str(ROOT / "module_utils")
    _MU in _amu.__path__ or _amu.__path__.append(_MU)
