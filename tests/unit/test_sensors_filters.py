"""The Windows vendor filter: the same judgement as the unit-tested parser, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from preventcare_sensors_filters import FilterModule

ROOT = Path(__file__).resolve().parents[2]
VENDORS = yaml.safe_load((ROOT / "data" / "hardware_vendors.yml").read_text(encoding="utf-8"))
vendor = FilterModule().filters()["preventcare_windows_vendor"]


@pytest.mark.req("SET-06")
def test_the_filter_picks_the_dell_agent_for_a_dell_server():
    system = json.loads((ROOT / "tests/fixtures/windows/sensors/system_dell_fr.json").read_text())
    assert vendor(system, VENDORS)["agent"] == "dell_ism"


@pytest.mark.parametrize(("system", "catalogue"), [("text", VENDORS), ({}, "nope")])
def test_bad_input_is_a_filter_error_naming_the_problem(system, catalogue):
    with pytest.raises(AnsibleFilterError, match="preventcare_windows_vendor"):
        vendor(system, catalogue)
