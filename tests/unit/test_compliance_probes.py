"""What the compliance run reads on each server (VIS-03), decided once for the fleet."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.module_utils.preventcare_contract import normalise_contract
from preventcare_compliance_filters import preventcare_compliance_probes

EXAMPLE = Path(__file__).resolve().parents[2] / "inventories/example/group_vars/all/preventcare.yml"


@pytest.fixture
def contract():
    return normalise_contract(yaml.safe_load(EXAMPLE.read_text("utf-8"))["preventcare"])


@pytest.mark.req("VIS-03")
def test_each_linux_server_reads_the_units_of_its_own_tools_and_jobs(contract):
    probes = preventcare_compliance_probes(
        ["srv-lin01", "mon01"], contract, since="2026-06-01T00:00:00Z"
    )
    assert list(probes) == ["srv-lin01", "mon01"]
    # srv-lin01 runs the contract's "daily" backup job: its timer is read there only.
    assert "preventcare-backup@daily.timer" in probes["srv-lin01"]["units"]
    assert not any(u.startswith("preventcare-backup@") for u in probes["mon01"]["units"])
    for probe in probes.values():
        assert probe["units"][0] == "prometheus-node-exporter.service"
        assert len(probe["units"]) == len(set(probe["units"]))
        assert "prometheus-node-exporter" in probe["packages"]
        assert probe["textfile_dir"] == "/var/lib/prometheus/node-exporter"
        assert probe["since"] == "2026-06-01T00:00:00Z"


@pytest.mark.req("VIS-03")
def test_windows_servers_read_their_services_and_no_probe_is_made_for_nobody(contract):
    probes = preventcare_compliance_probes(["srv-ad01"], contract, platform="windows")
    assert probes["srv-ad01"]["units"][:1] == ["windows_exporter"]
    assert probes["srv-ad01"]["textfile_dir"] == "C:\\ProgramData\\PreventCare\\textfile"
    assert "since" not in probes["srv-ad01"]
    assert preventcare_compliance_probes([], contract) == {}
