"""The requirement-citation tool finds the tests that name each requirement."""

import importlib.machinery
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "bin" / "preventcare-reqs"


def _load_tool():
    loader = importlib.machinery.SourceFileLoader("preventcare_reqs", str(TOOL))
    spec = importlib.util.spec_from_loader("preventcare_reqs", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _project(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "requirements.md").write_text(
        "| ID | what |\n|---|---|\n| PRE-01 | relay |\n| MON-SYS-05 | cpu |\n| VIS-04 | sheet |\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.req("PRE-01")
            def test_relay():
                assert "MON-SYS-05" != "in a body, so not a citation"

            class TestCpu:
                @pytest.mark.parametrize(
                    "x", [pytest.param(1, marks=pytest.mark.req("MON-SYS-05"))]
                )
                def test_cpu(self, x):
                    pass
            """
        )
    )
    (tmp_path / "molecule").mkdir()
    (tmp_path / "molecule" / "rules.yml").write_text('---\ntests:\n  - name: "MON-SYS-05 fires"\n')
    return tmp_path


def test_each_requirement_lists_the_tests_citing_it(tmp_path):
    tool = _load_tool()
    root = _project(tmp_path)
    cited = tool.citations(root)
    assert cited["PRE-01"] == {"tests/test_a.py::test_relay"}
    assert cited["MON-SYS-05"] == {
        "tests/test_a.py::TestCpu::test_cpu",
        "molecule/rules.yml: MON-SYS-05 fires",
    }
    assert "VIS-04" not in cited
    assert tool.requirement_ids(root) == ["MON-SYS-05", "PRE-01", "VIS-04"]


def test_cli_lists_every_requirement_of_the_project():
    result = subprocess.run(
        [sys.executable, str(TOOL)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    listed = [line.split(":")[0] for line in result.stdout.splitlines() if line[:1].isupper()]
    spec_ids = _load_tool().requirement_ids()
    assert set(spec_ids) <= set(listed)
    assert len(spec_ids) >= 40
    # Marks added at run time (promtool cases parametrized from data/thresholds.yml) count too.
    block = result.stdout.split("MON-SYS-03:")[1].split("\n\n")[0].split("MON-SYS-04:")[0]
    assert "test_rules_promtool.py::" in block
