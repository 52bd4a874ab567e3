"""The compliance run under ansible-runner, the engine AWX runs jobs with (VIS-04)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import ansible_runner
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.req("VIS-04")
def test_the_sheet_and_its_junit_file_are_among_the_jobs_artifacts(tmp_path):
    private = tmp_path / "runner"
    (private / "inventory").mkdir(parents=True)
    shutil.copytree(ROOT / "inventories" / "demo", private / "inventory", dirs_exist_ok=True)
    reports = tmp_path / "reports"
    result = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(ROOT),
        playbook=str(ROOT / "playbooks" / "compliance.yml"),
        inventory=str(private / "inventory" / "hosts.yml"),
        extravars={"preventcare_reports_root": str(reports)},
        # This virtualenv's ansible-playbook first on the PATH, as AWX's execution environment.
        envvars={
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        },
        quiet=True,
        ident="visit",
    )
    stats = next(e for e in result.events if e["event"] == "playbook_on_stats")
    artifacts = stats["event_data"]["artifact_data"]["preventcare_visit_sheet"]
    files = artifacts["files"]
    assert set(files) == {"json", "html", "md", "junit"}
    sheet = json.loads(Path(files["json"]).read_text())
    assert sheet["counts"] == artifacts["counts"]
    junit = ET.parse(files["junit"]).getroot()
    assert len(junit.findall(".//testcase")) == sum(sheet["counts"].values())
    # The job's status says whether an item is FAIL, as the plain command's exit code does.
    assert (result.status == "failed") == (sheet["counts"]["FAIL"] > 0), result.status
    stdout = (private / "artifacts" / "visit" / "stdout").read_text()
    assert "need attention" in stdout
