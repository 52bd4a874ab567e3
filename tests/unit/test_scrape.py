"""The Windows rules checked against a windows_exporter scrape, by the live-scrape helper.

molecule/windows runs the same check on a live scrape when a Windows host is given; here
it runs on tests/fixtures/windows/scrape/, built from the exporter's source at its tag.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils.preventcare_scrape import missing
from ansible.module_utils.preventcare_thresholds import (
    load_thresholds,
    merge_overrides,
    render_rules,
)
from preventcare_scrape_filters import preventcare_scrape_missing

SCRAPE = Path(__file__).resolve().parents[2] / "tests/fixtures/windows/scrape"
GROUPS = render_rules(merge_overrides(load_thresholds(), {})[0], "windows")


def _scrape():
    return (SCRAPE / "windows_exporter_0.31.0.prom").read_text(encoding="utf-8")


@pytest.mark.req("SET-01")
@pytest.mark.req("MON-SYS-03")
@pytest.mark.req("MON-SYS-08")
def test_the_rules_read_what_windows_exporter_0_31_publishes():
    """Every rule is fed, but those the project's own collectors (textfile) feed."""
    assert preventcare_scrape_missing(_scrape(), GROUPS, collectors=False) == []
    fed_by_collectors = {p["alert"] for p in missing(GROUPS, _scrape())}
    assert "BackupFailed" in fed_by_collectors
    assert "EventLogErrors" in fed_by_collectors


@pytest.mark.req("MON-SYS-03")
def test_an_exporter_without_the_pagefile_collector_or_new_boot_time_is_caught():
    old = "\n".join(
        line.replace(
            "windows_system_boot_time_timestamp", "windows_system_boot_time_timestamp_seconds"
        )
        for line in _scrape().splitlines()
        if "windows_pagefile" not in line
    )
    assert sorted(preventcare_scrape_missing(old, GROUPS, collectors=False)) == [
        "PagingFileUsageHigh: windows_pagefile_free_bytes, windows_pagefile_limit_bytes",
        "ServerRebooted: windows_system_boot_time_timestamp",
    ]


def test_a_series_without_the_label_the_rule_selects_on_is_named():
    groups = [{"rules": [{"alert": "X", "expr": 'windows_service_state{state="running"} == 0'}]}]
    text = 'windows_service_state{name="x",state="stopped"} 1\n'
    assert missing(groups, text) == [
        {"alert": "X", "selectors": ['windows_service_state{state="running"}']}
    ]
