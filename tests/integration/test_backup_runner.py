"""The Linux backup manager run on this machine with GNU tar and cpio (MON-BK-02/03, SET-03).

The molecule scenario `sensors` runs it as the systemd service on a converged server (tar);
this test covers both archivers, the rotation and the restore on temporary folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from required_tools import require

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "module_utils" / "preventcare_backup.py"
TABLE = yaml.safe_load((ROOT / "data" / "thresholds.yml").read_text(encoding="utf-8"))
CODES = TABLE["textfile_metrics"]["preventcare_backup_last_status"]["codes"]


def _tree(root: Path) -> dict:
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = (
            hashlib.sha256(path.read_bytes()).hexdigest()
            if path.is_file() and not path.is_symlink()
            else ""
        )
        link = os.readlink(path) if path.is_symlink() else ""
        found[str(path.relative_to(root))] = (oct(info.st_mode), digest, link)
    return found


@pytest.fixture
def lab(tmp_path):
    for tool in ("tar", "cpio", "gzip"):
        require(tool, "the backup manager archives with it")
    data = tmp_path / "data" / "compta"
    (data / "2026").mkdir(parents=True)
    (data / "2026" / "livre.dat").write_bytes(os.urandom(50_000))
    (data / "note é.txt").write_text("bilan\n", encoding="utf-8")
    (data / "scratch.tmp").write_text("x\n")
    (data / "courant").symlink_to("2026")
    os.chmod(data / "2026" / "livre.dat", 0o640)
    for folder in ("dest", "textfile", "config", "lock"):
        (tmp_path / folder).mkdir()
    return tmp_path


def _job(lab: Path, archiver: str, **changes) -> str:
    job = {
        "name": f"job-{archiver}",
        "software": "cpio_tar",
        "archiver": archiver,
        "paths": [str(lab / "data" / "compta")],
        "exclude": ["*.tmp"],
        "destination": str(lab / "dest"),
        "retention_days": 14,
        "codes": CODES,
        "textfile_dir": str(lab / "textfile"),
        "metrics": TABLE["textfile_metrics"],
        "mail_to": "",
        "lock_dir": str(lab / "lock"),
        **changes,
    }
    (lab / "config" / f"{job['name']}.json").write_text(json.dumps(job))
    return job["name"]


def _run(lab: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(RUNNER), "--config-dir", str(lab / "config"), *args],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def _status(lab: Path, name: str) -> int:
    text = (lab / "textfile" / f"preventcare_backup_{name}.prom").read_text()
    line = next(x for x in text.splitlines() if x.startswith("preventcare_backup_last_status{"))
    return int(float(line.rsplit(" ", 1)[1]))


@pytest.mark.req("MON-BK-02")
@pytest.mark.req("SET-03")
@pytest.mark.parametrize("archiver", ["tar", "cpio"])
def test_backup_then_restore_gives_back_the_tree(lab, archiver):
    name = _job(lab, archiver)
    done = _run(lab, "run", name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _status(lab, name) == CODES["success"]
    (archive,) = [p for p in (lab / "dest").iterdir()]
    assert archive.name.endswith(".tar.gz" if archiver == "tar" else ".cpio.gz")
    before = _tree(lab / "data")
    shutil.rmtree(lab / "data")
    target = lab / "restored"
    done = _run(lab, "restore", name, "--target", str(target))
    assert done.returncode == 0, done.stdout + done.stderr
    restored = _tree(target / str(lab / "data").lstrip("/"))
    assert restored == {k: v for k, v in before.items() if not k.endswith(".tmp")}


@pytest.mark.req("MON-BK-03")
@pytest.mark.parametrize("archiver", ["tar", "cpio"])
def test_a_missing_destination_is_a_failed_backup_with_a_clear_message(lab, archiver):
    name = _job(lab, archiver, destination=str(lab / "unplugged"))
    done = _run(lab, "run", name)
    assert done.returncode == 1
    assert _status(lab, name) == CODES["failed"]
    assert "No such file or directory" in done.stdout
    assert str(lab / "unplugged") in done.stdout


@pytest.mark.req("SET-03")
def test_old_archives_beyond_the_retention_are_rotated(lab):
    name = _job(lab, "tar", retention_days=1)
    old = lab / "dest" / f"{name}-20200101T000000Z.tar.gz"
    old.write_bytes(b"old")
    done = _run(lab, "run", name)
    assert done.returncode == 0, done.stdout + done.stderr
    names = sorted(p.name for p in (lab / "dest").iterdir())
    assert len(names) == 1 and names[0] != old.name


def test_unreadable_settings_are_a_clear_error(lab):
    done = _run(lab, "run", "nope")
    assert done.returncode != 0
    assert "cannot read the job settings" in done.stderr
    assert "Traceback" not in done.stderr
