"""No report lost: run folders are created exclusively, 0750 from the reports root down."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_report import (
    ReportError,
    create_run_dir,
    new_run_id,
    write_file,
)

RUN_ID = "20261201T101500Z"
BIN = Path(__file__).resolve().parents[2] / "bin"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_ids_of_the_same_second_differ():
    ids = {new_run_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}", i) for i in ids)


def test_folders_from_the_root_down_are_0750_and_files_0640(tmp_path):
    old = os.umask(0o022)
    try:
        root = tmp_path / "reports" / "nested"
        folder = create_run_dir(root, "martin", RUN_ID)
        write_file(folder / "prerequisites.json", "{}\n")
    finally:
        os.umask(old)
    assert folder == root / "martin" / RUN_ID
    for path in (tmp_path / "reports", root, root / "martin", folder):
        assert _mode(path) == 0o750, path
    assert _mode(folder / "prerequisites.json") == 0o640
    assert [p.name for p in folder.iterdir()] == ["prerequisites.json"]


def test_an_existing_run_folder_is_never_reused(tmp_path):
    first = create_run_dir(tmp_path, "martin", RUN_ID)
    (first / "prerequisites.json").write_text("first run")
    second = create_run_dir(tmp_path, "martin", RUN_ID)
    assert second != first
    assert second.name.startswith(RUN_ID + "-")
    assert (first / "prerequisites.json").read_text() == "first run"


# Each worker is a fresh interpreter (not a fork of pytest, whose threads - the SMTP
# servers of earlier tests - can hold a lock at fork time and hang the child): it waits
# for the start file, then creates its folder and prints it.
_WORKER = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
import preventcare_env
from ansible.module_utils.preventcare_report import create_run_dir
while not os.path.exists(sys.argv[3]):
    time.sleep(0.001)
print(create_run_dir(sys.argv[2], "martin", sys.argv[4]))
"""


def test_concurrent_runs_with_the_same_id_get_one_folder_each(tmp_path):
    workers = 8
    start = tmp_path / "start"
    reports = tmp_path / "reports"
    command = [sys.executable, "-c", _WORKER, str(BIN), str(reports), str(start), RUN_ID]
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(workers)
    ]
    start.touch()
    folders = []
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        folders.append(out.strip())
    assert len(set(folders)) == workers
    assert RUN_ID in {Path(f).name for f in folders}


@pytest.mark.parametrize(
    ("client", "run_id"),
    [("martin\n", RUN_ID), ("../x", RUN_ID), ("martin", RUN_ID + "\n"), ("martin", "..")],
)
def test_bad_names_are_refused(tmp_path, client, run_id):
    with pytest.raises(ReportError):
        create_run_dir(tmp_path, client, run_id)
    assert list(tmp_path.iterdir()) == []
