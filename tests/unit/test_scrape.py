"""The series the Windows rules read, checked against a windows_exporter scrape.

molecule/windows runs the same check on a live scrape when a Windows host is given; here
it runs on tests/fixtures/windows/scrape/, built from the exporter's source at its tag.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils.preventcare_scrape import missing_series, rule_series
from ansible.module_utils.preventcare_thresholds import (
    load_thresholds,
    merge_overrides,
    render_rules,
)

SCRAPE = Path(__file__).resolve().parents[2] / "tests/fixtures/windows/scrape"
WANTED = rule_series(render_rules(merge_overrides(load_thresholds(), {})[0], "windows"))


@pytest.mark.req("SET-01")
@pytest.mark.req("MON-SYS-03")
@pytest.mark.req("MON-SYS-08")
def test_the_rules_read_what_windows_exporter_0_31_publishes():
    text = (SCRAPE / "windows_exporter_0.31.0.prom").read_text(encoding="utf-8")
    assert missing_series(WANTED, text) == []
    assert WANTED["windows_service_state"] == ["name", "state"]
    assert "windows_pagefile_limit_bytes" in WANTED
    assert "windows_system_boot_time_timestamp" in WANTED


@pytest.mark.req("MON-SYS-03")
def test_an_exporter_without_the_pagefile_collector_or_new_boot_time_is_caught():
    text = (SCRAPE / "windows_exporter_0.31.0.prom").read_text(encoding="utf-8")
    old = "\n".join(
        line.replace(
            "windows_system_boot_time_timestamp", "windows_system_boot_time_timestamp_seconds"
        )
        for line in text.splitlines()
        if "windows_pagefile" not in line
    )
    assert missing_series(WANTED, old) == [
        "windows_pagefile_free_bytes",
        "windows_pagefile_limit_bytes",
        "windows_system_boot_time_timestamp",
    ]


def test_a_missing_label_is_named():
    text = 'windows_service_state{name="x"} 1\n'
    assert missing_series({"windows_service_state": ["name", "state"]}, text) == [
        "windows_service_state{state}"
    ]


def test_label_values_are_not_taken_for_metrics():
    groups = [{"rules": [{"expr": 'up{name=~"windows_exporter|windows_foo"} == 0'}]}]
    assert rule_series(groups) == {}
