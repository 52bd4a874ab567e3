"""The live-scrape helper: which metrics and labels a rule file reads that a scrape lacks."""

from __future__ import annotations

import pytest
from ansible.module_utils.preventcare_scrape import alternatives, missing, parse_scrape


def _rule(expr: str, alert: str = "A") -> list:
    return [{"name": "g", "rules": [{"alert": alert, "expr": expr}]}]


def test_selectors_skip_functions_aggregations_keywords_and_label_lists():
    branches = alternatives(
        '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",job=~"x"}[5m]))'
        " * 100 > 95"
    )
    assert [[str(s) for s in b] for b in branches] == [['node_cpu_seconds_total{mode="idle"}']]


def test_an_or_gives_alternatives_and_unless_reads_both_sides():
    branches = alternatives(
        '(node_md_disks_required - ignoring (state) node_md_disks{state="active"} > 0)'
        ' or (preventcare_hardware_ok{component="raid"} == 0)'
    )
    assert [[s.metric for s in b] for b in branches] == [
        ["node_md_disks_required", "node_md_disks"],
        ["preventcare_hardware_ok"],
    ]
    (branch,) = alternatives(
        'up{job=~"j"} == 1 unless on (instance) preventcare_backup_x{job=~"j"}'
    )
    assert [s.metric for s in branch] == ["up", "preventcare_backup_x"]


@pytest.mark.req("SET-01")
def test_missing_lists_the_rules_no_series_can_feed():
    groups = _rule('preventcare_hardware_ok{component="fan",job=~"n"} == 0', "FanFailed")
    groups += _rule('node_network_carrier{device=~"(en|eth).*"} == 0', "NetworkCardFailed")
    scrape = (
        "# HELP x\n"
        'preventcare_hardware_ok{component="disk",device="/dev/sda"} 1\n'
        'node_network_carrier{device="eth0"} 1\n'
    )
    assert missing(groups, scrape) == [
        {"alert": "FanFailed", "selectors": ['preventcare_hardware_ok{component="fan"}']}
    ]
    scrape += 'preventcare_hardware_ok{component="fan",device="not_applicable"} NaN\n'
    assert missing(groups, scrape) == []


def test_one_fed_branch_of_an_or_is_enough_and_an_empty_regex_needs_only_the_metric():
    groups = _rule('(node_md_disks{state="active"} == 0) or (preventcare_hardware_ok == 0)')
    groups += _rule('node_systemd_unit_state{state="active",name=~""} == 1', "Unwanted")
    scrape = 'preventcare_hardware_ok{component="raid",device="md0"} 1\n'
    assert [p["alert"] for p in missing(groups, scrape)] == ["Unwanted"]
    scrape += 'node_systemd_unit_state{name="cron.service",state="active"} 1\n'
    assert missing(groups, scrape) == []


def test_negative_and_regex_matchers_are_judged():
    groups = _rule('node_filesystem_avail_bytes{mountpoint=~"/|/srv.*",fstype!~"tmpfs"} < 1')
    assert missing(groups, 'node_filesystem_avail_bytes{mountpoint="/run",fstype="ext4"} 1\n')
    assert missing(groups, 'node_filesystem_avail_bytes{mountpoint="/",fstype="tmpfs"} 1\n')
    assert not missing(groups, 'node_filesystem_avail_bytes{mountpoint="/srv/a",fstype="ext4"} 1\n')


def test_scrape_parsing_reads_escaped_label_values():
    series = parse_scrape('m{a="x\\"y",b="z"} 1\n# TYPE m gauge\nplain 2\n')
    assert series == {"m": [{"a": 'x"y', "b": "z"}], "plain": [{}]}
