"""The thresholds table, the contract's overrides and the rules rendered from them."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import ansible.module_utils.preventcare_thresholds as mod
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_thresholds import (
    LEVELS,
    PLATFORMS,
    alert_routes,
    format_duration,
    load_thresholds,
    merge_overrides,
    parse_duration,
    render_rules,
)
from preventcare_thresholds_filters import FilterModule

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "bin" / "preventcare-rules"
TABLE = load_thresholds()
FILTERS = FilterModule().filters()
# Every monitoring clause of SPEC that a Prometheus rule proves.
MONITORED = [f"MON-SYS-0{n}" for n in range(1, 10)] + [
    "MON-TEL-01",
    "MON-TEL-02",
    "MON-HW-01",
    "MON-BK-03",
    "MON-AV-01",
]


def all_rules(table=TABLE, lang="en", params=None):
    return [
        (platform, rule)
        for platform in PLATFORMS
        for group in render_rules(table, platform, lang, params)
        for rule in group["rules"]
    ]


def rule_for(table, name, platform, lang="en"):
    for group in render_rules(table, platform, lang):
        for rule in group["rules"]:
            if rule["labels"]["preventcare_item"] == name:
                return rule
    return None


def paths(problems):
    return [p.path for p in problems]


# ------------------------------------------------------------------ durations
@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h30m", 5400),
        ("20m", 1200),
        ("90s", 90),
        ("1d2h", 93600),
        ("1w", 604800),
        ("0s", 0),
        ("0", 0),
        ("1500ms", 1.5),
    ],
)
def test_parse_duration_reads_prometheus_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["twenty minutes", "", "20", "20 m", "1m1h", "m20", "-5m"])
def test_parse_duration_rejects_other_text_with_an_example(text):
    with pytest.raises(ValueError, match=r"not a Prometheus duration.*'1h30m'"):
        parse_duration(text)


@pytest.mark.parametrize("value", [20, None, 1.5, True])
def test_parse_duration_rejects_non_strings(value):
    with pytest.raises(ValueError, match="Prometheus duration string"):
        parse_duration(value)


@pytest.mark.parametrize("seconds", [0, 59, 1200, 5400, 93600, 604800 + 61])
def test_format_duration_round_trips(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


# ------------------------------------------------------------------ the table
def test_table_covers_every_monitoring_requirement():
    table_ids = {item["requirement"] for item in TABLE["items"].values()}
    assert set(MONITORED) <= table_ids


def test_every_threshold_requirement_is_rendered_into_a_rule():
    rendered = {rule["labels"]["requirement"] for _, rule in all_rules()}
    assert rendered == {item["requirement"] for item in TABLE["items"].values()}


@pytest.mark.req("MON-SYS-02")
def test_queue_length_is_read_as_a_ratio_not_a_percentage():
    """The booklet's "95 %" queue length is Perfmon's x100 scale: below one request."""
    item = TABLE["items"]["sys_disk_queue"]
    assert item["unit"] == "ratio"
    assert 0 < item["value"] < 1
    assert item["value"] * 100 == TABLE["items"]["sys_disk_time"]["value"]


def route(table, alert, window=20):
    """The Alertmanager route the template renders for `alert`, with its time intervals."""
    delivery = alert_routes(table, window)
    found = next(r for r in delivery["routes"] if r["alert"] == alert)
    names = found.get("active_time_intervals", [])
    return found, [t for t in delivery["time_intervals"] if t["name"] in names]


@pytest.mark.req("MON-SYS-06")
def test_low_disk_space_is_delivered_once_a_day_at_three():
    found, [interval] = route(TABLE, "DiskSpaceLow")
    assert (interval["start_time"], interval["end_time"]) == ("03:00", "03:20")
    assert parse_duration(found["repeat_interval"]) < 86400
    merged, problems = merge_overrides(TABLE, {"MON-SYS-06": {"daily_at": "04:30"}})
    assert problems == []
    _, [moved] = route(merged, "DiskSpaceLow")
    assert moved["start_time"] == "04:30"


def test_a_late_daily_window_ends_at_midnight():
    merged, _ = merge_overrides(TABLE, {"MON-SYS-06": {"daily_at": "23:50"}})
    _, [interval] = route(merged, "DiskSpaceLow", window=20)
    assert interval["end_time"] == "24:00"


@pytest.mark.req("MON-TEL-01")
def test_watchdog_always_fires_hourly_and_its_absence_is_major():
    rule = rule_for(TABLE, "tel_watchdog", "site")
    assert rule["expr"] == "vector(1)"
    assert "for" not in rule
    assert rule["labels"]["criticality"] == "none"
    assert rule["labels"]["instance"] == TABLE["params"]["monitor_instance"]
    assert TABLE["items"]["tel_watchdog"]["absence_criticality"] == "major"
    found, intervals = route(TABLE, "Watchdog")
    assert parse_duration(found["repeat_interval"]) == 3600
    assert intervals == []


@pytest.mark.req("MON-TEL-02")
def test_vpn_loss_repeats_until_the_link_is_restored():
    found, intervals = route(TABLE, "SiteVpnLinkDown")
    assert parse_duration(found["repeat_interval"]) <= 3600
    assert intervals == []
    assert rule_for(TABLE, "tel_vpn_down", "site")["labels"]["criticality"] == "major"


@pytest.mark.req("MON-BK-03")
def test_backup_status_codes_are_documented_for_the_textfile_writer():
    codes = TABLE["textfile_metrics"]["preventcare_backup_last_status"]["codes"]
    assert set(codes) == {"success", "failed", "incomplete", "cancelled"}
    assert len(set(codes.values())) == 4
    for name in ("bk_failed", "bk_incomplete", "bk_cancelled"):
        status = TABLE["items"][name]["status"]
        assert rule_for(TABLE, name, "linux")["expr"].endswith(f"== {codes[status]}")


def test_load_thresholds_reports_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read the thresholds table .*nope\.yml"):
        load_thresholds(str(tmp_path / "nope.yml"))


def test_load_thresholds_lists_every_inconsistency(tmp_path):
    broken = copy.deepcopy(TABLE)
    broken["items"]["sys_processor"]["value"] = 120
    broken["items"]["sys_paging"]["criticality"] = "urgent"
    del broken["items"]["hw_fan"]["unit"]
    path = tmp_path / "t.yml"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), "utf-8")
    with pytest.raises(ValueError) as err:
        load_thresholds(str(path))
    text = str(err.value)
    assert "items.sys_processor.value: 120 % is outside 0-100" in text
    assert "items.sys_paging.criticality: 'urgent'" in text
    assert "items.hw_fan: missing unit" in text


def test_no_threshold_number_is_written_in_the_rule_templates():
    """PromQL templates compare to $value from the table; literals are only 0/1 states."""
    templates = [expr for spec in mod._NATIVE.values() for expr, _ in spec.values()]
    templates += [expr for expr, _ in (*mod._SHARED.values(), *mod._SITE.values())]
    literal = re.findall(r"(?:[<>]=?|==|!=)\s*(\d+(?:\.\d+)?)", " ".join(templates))
    assert literal
    assert set(literal) <= {"0", "1"}, literal


@pytest.mark.parametrize(
    "name", [n for n, i in TABLE["items"].items() if i["unit"] not in ("bool",)]
)
def test_every_numeric_threshold_comes_from_the_table(name):
    """Nudge each numeric value through an override: the rendered rule follows it."""
    item = TABLE["items"][name]
    new = item["value"] + (1 if item["unit"] != "ratio" else 0.01)
    merged, problems = merge_overrides(TABLE, {name: {"value": new}})
    assert problems == []
    for platform in PLATFORMS:
        rule = rule_for(merged, name, platform)
        if rule is not None:
            assert rule["expr"].endswith(f"{item['comparison']} {new:g}"), rule["expr"]


# ------------------------------------------------------------------ overrides
@pytest.mark.req("MON-SYS-05")
def test_contract_override_replaces_value_duration_and_criticality():
    merged, problems = merge_overrides(
        TABLE, {"MON-SYS-05": {"value": 97, "duration": "25m", "criticality": "major"}}
    )
    assert problems == []
    item = merged["items"]["sys_processor"]
    assert (item["value"], item["duration"], item["criticality"]) == (97, "25m", "major")
    assert sorted(item["overridden"]) == ["criticality", "duration", "value"]
    rule = rule_for(merged, "sys_processor", "linux", "fr")
    assert rule["expr"].endswith("> 97")
    # A counter rule's rate window (1 min) is the first part of the 25 minutes.
    assert rule["for"] == "24m"
    assert "97 %" in rule["annotations"]["summary"]
    assert "25 min" in rule["annotations"]["summary"]


def test_merge_leaves_the_table_untouched():
    before = copy.deepcopy(TABLE)
    merge_overrides(TABLE, {"MON-SYS-05": {"value": 97}})
    assert before == TABLE


@pytest.mark.parametrize("overrides", [None, {}])
def test_no_override_keeps_the_booklet(overrides):
    merged, problems = merge_overrides(TABLE, overrides)
    assert problems == []
    assert merged == TABLE


@pytest.mark.req("MON-SYS-05")
@pytest.mark.parametrize(
    ("change", "path", "message", "hint"),
    [
        ({"value": 120}, "value", "120 % is outside 0-100", "0 to 100"),
        ({"value": -1}, "value", "outside 0-100", ""),
        ({"value": "97%"}, "value", "is text, not a number", "write the number alone: 97"),
        ({"value": True}, "value", "is not a number", ""),
        ({"duration": "twenty minutes"}, "duration", "not a Prometheus duration", "'20m'"),
        ({"duration": 25}, "duration", "duration string", "'25m'"),
        ({"interval": "every hour"}, "interval", "not a Prometheus duration", ""),
        ({"criticality": "majr"}, "criticality", "not an ALR-02 criticality", "'major'"),
        ({"criticality": "urgent"}, "criticality", "not an ALR-02 criticality", "none, minor"),
        ({"enabled": "no"}, "enabled", "not true or false", "true or false"),
        ({"valeu": 97}, "valeu", "unknown setting 'valeu'", "did you mean 'value'?"),
        ({"daily_at": "03:00"}, "daily_at", "no daily delivery time", "remove"),
    ],
)
def test_invalid_override_is_reported_with_path_and_hint(change, path, message, hint):
    merged, problems = merge_overrides(TABLE, {"MON-SYS-05": change})
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.path == f"preventcare.thresholds.MON-SYS-05.{path}"
    assert message in problem.message
    assert hint in problem.hint
    assert merged["items"]["sys_processor"] == TABLE["items"]["sys_processor"]


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("MON-SYS-5", "did you mean 'MON-SYS-05'?"),
        ("sys_procesor", "did you mean 'sys_processor'?"),
        ("QQQ", "known requirement IDs: MON-AV-01"),
    ],
)
def test_unknown_requirement_id_is_rejected_with_a_hint(key, hint):
    _, problems = merge_overrides(TABLE, {key: {"value": 97}})
    assert paths(problems) == [f"preventcare.thresholds.{key}"]
    assert "unknown requirement ID" in problems[0].message
    assert hint in problems[0].hint


def test_every_problem_is_reported_at_once():
    _, problems = merge_overrides(
        TABLE,
        {
            "MON-SYS-05": {"value": 120, "duration": "twenty minutes"},
            "MON-SYS-99": {"value": 1},
            "MON-SYS-03": "high",
        },
    )
    assert paths(problems) == [
        "preventcare.thresholds.MON-SYS-05.value",
        "preventcare.thresholds.MON-SYS-05.duration",
        "preventcare.thresholds.MON-SYS-99",
        "preventcare.thresholds.MON-SYS-03",
    ]


def test_value_of_a_requirement_with_several_items_must_name_the_item():
    _, problems = merge_overrides(TABLE, {"MON-SYS-07": {"value": 5}})
    assert "covers several items" in problems[0].message
    assert "preventcare.thresholds.sys_eventlog_errors.value" in problems[0].hint
    merged, problems = merge_overrides(TABLE, {"sys_eventlog_errors": {"value": 5}})
    assert problems == []
    assert rule_for(merged, "sys_eventlog_errors", "windows")["expr"].endswith("> 5")


def test_yes_no_alert_has_no_value_to_override():
    _, problems = merge_overrides(TABLE, {"sys_reboot": {"value": 3}})
    assert "no threshold value" in problems[0].message
    assert "enabled: false" in problems[0].hint


def test_requirement_wide_settings_apply_to_each_of_its_items():
    merged, problems = merge_overrides(TABLE, {"MON-HW-01": {"criticality": "major"}})
    assert problems == []
    hardware = [i for i in merged["items"].values() if i["requirement"] == "MON-HW-01"]
    assert len(hardware) > 1
    assert {i["criticality"] for i in hardware} == {"major"}


def test_disabled_item_renders_no_rule():
    merged, problems = merge_overrides(TABLE, {"hw_tape": {"enabled": False}})
    assert problems == []
    assert rule_for(merged, "hw_tape", "linux") is None
    assert "TapeDriveError" not in [r["alert"] for _, r in all_rules(merged)]


def test_overrides_must_be_a_mapping():
    _, problems = merge_overrides(TABLE, ["MON-SYS-05"])
    assert paths(problems) == ["preventcare.thresholds"]
    assert "e.g. {MON-SYS-05: {value: 97}}" in problems[0].hint


# ------------------------------------------------------------------ rendering
@pytest.mark.req("ALR-02")
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_rule_carries_requirement_and_criticality(lang):
    rules = all_rules(lang=lang)
    assert rules
    for _, rule in rules:
        item = TABLE["items"][rule["labels"]["preventcare_item"]]
        assert rule["labels"]["requirement"] == item["requirement"]
        assert rule["labels"]["criticality"] == item["criticality"]
        assert rule["labels"]["criticality"] in LEVELS


def _host(rule):
    # Prometheus fills $labels from the query's result; the Watchdog's vector(1) has none,
    # so its rule names the monitor host literally.
    return rule["labels"].get("instance", "{{ $labels.instance }}")


@pytest.mark.req("ALR-02")
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_annotations_show_value_host_and_handling_of_the_level(lang):
    for _, rule in all_rules(lang=lang):
        level = TABLE["levels"][rule["labels"]["criticality"]]
        notes = rule["annotations"]
        assert _host(rule) in notes["summary"]
        assert "{{ $value" in notes["description"]
        assert notes["summary"].startswith(f"[{rule['labels']['requirement']}] ")
        assert level["handling"][lang] in notes["description"]
        assert level["label"][lang] in notes["description"]


@pytest.mark.req("ALR-02")
def test_french_and_english_annotations_differ_and_use_their_language():
    french = {(p, r["alert"]): r for p, r in all_rules(lang="fr")}
    english = {(p, r["alert"]): r for p, r in all_rules(lang="en")}
    assert french.keys() == english.keys()
    for key, fr_rule in french.items():
        fr_notes, en_notes = fr_rule["annotations"], english[key]["annotations"]
        host = _host(fr_rule)
        assert fr_notes["summary"] != en_notes["summary"]
        assert fr_notes["description"] != en_notes["description"]
        assert "Valeur mesurée : " in fr_notes["description"]
        assert f" sur {host}" in fr_notes["summary"]
        assert "Measured value: " in en_notes["description"]
        assert f" on {host}" in en_notes["summary"]
        assert "Measured value" not in fr_notes["description"]


@pytest.mark.req("MON-SYS-02")
def test_french_numbers_use_a_decimal_comma():
    fr = rule_for(TABLE, "sys_disk_queue", "windows", "fr")["annotations"]["summary"]
    en = rule_for(TABLE, "sys_disk_queue", "windows", "en")["annotations"]["summary"]
    value = TABLE["items"]["sys_disk_queue"]["value"]
    assert f"{value:g}".replace(".", ",") in fr
    assert f"{value:g}" in en


@pytest.mark.req("ALR-02")
def test_criticality_override_changes_the_handling_text():
    merged, _ = merge_overrides(TABLE, {"MON-SYS-05": {"criticality": "major"}})
    notes = rule_for(merged, "sys_processor", "linux", "fr")["annotations"]
    assert TABLE["levels"]["major"]["handling"]["fr"] in notes["description"]
    assert TABLE["levels"]["moderate"]["handling"]["fr"] not in notes["description"]


def test_groups_follow_each_item_evaluation_interval():
    for platform in PLATFORMS:
        for group in render_rules(TABLE, platform):
            assert group["name"] == f"preventcare-{platform}-{group['interval']}"
            for rule in group["rules"]:
                item = TABLE["items"][rule["labels"]["preventcare_item"]]
                assert parse_duration(item["interval"]) == parse_duration(group["interval"])


@pytest.mark.req("MON-SYS-06")
def test_low_disk_mountpoints_come_from_a_parameter():
    groups = render_rules(TABLE, "linux", "en", {"linux_mountpoints": "/|/var/lib/pgsql"})
    expr = next(r["expr"] for g in groups for r in g["rules"] if r["alert"] == "DiskSpaceLow")
    assert 'mountpoint=~"/|/var/lib/pgsql"' in expr


def test_parameters_are_escaped_for_promql():
    groups = render_rules(TABLE, "linux", "en", {"linux_mountpoints": '/a\\.b|"c"'})
    expr = next(r["expr"] for g in groups for r in g["rules"] if r["alert"] == "DiskSpaceLow")
    assert 'mountpoint=~"/a\\\\.b|\\"c\\""' in expr


@pytest.mark.req("MON-SYS-08")
@pytest.mark.parametrize(
    "given", [["cron.service", "my-app.service"], "cron.service, my-app.service"]
)
def test_required_units_are_names_whose_absence_is_checked_too(given):
    """A list (or a --param's comma-separated text) of names: stopped, or not there at all."""
    groups = render_rules(TABLE, "linux", "en", {"linux_required_units": given})
    expr = next(
        r["expr"] for g in groups for r in g["rules"] if r["alert"] == "RequiredServiceDown"
    )
    assert 'name=~"(cron\\\\.service|my\\\\-app\\\\.service)"} == 0' in expr
    for name in ("cron.service", "my-app.service"):
        assert f'"name", "{name}", "", "") unless on (instance)' in expr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("solaris", "en", None), "unknown platform 'solaris'"),
        (("linux", "de", None), "unknown language 'de'"),
        (("linux", "en", {"linux_mountpoint": "/"}), "did you mean 'linux_mountpoints'?"),
    ],
)
def test_render_rejects_bad_arguments_clearly(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        render_rules(TABLE, *args)


# ------------------------------------------------------------------ filters
def test_merge_filter_returns_the_merged_table():
    merged = FILTERS["preventcare_thresholds_merge"]({"MON-SYS-05": {"value": 97}})
    assert merged["items"]["sys_processor"]["value"] == 97


def test_merge_filter_lists_every_invalid_field():
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS["preventcare_thresholds_merge"](
            {"MON-SYS-05": {"value": 120}, "MON-SYS-5": {"value": 1}}
        )
    text = str(err.value)
    assert "preventcare.thresholds.MON-SYS-05.value: 120 % is outside 0-100" in text
    assert "preventcare.thresholds.MON-SYS-5: unknown requirement ID" in text
    assert "did you mean 'MON-SYS-05'?" in text


def test_merge_filter_rejects_a_table_of_the_wrong_type():
    with pytest.raises(AnsibleFilterError, match="table must be a path or a mapping, not int"):
        FILTERS["preventcare_thresholds_merge"]({}, 42)


def test_rules_filter_returns_a_rule_file():
    merged = FILTERS["preventcare_thresholds_merge"](None)
    document = FILTERS["preventcare_rules"](merged, "site", "fr")
    intervals = {item["interval"] for item in merged["items"].values()}
    names = [g["name"] for g in document["groups"]]
    assert names
    assert all(n.startswith("preventcare-site-") for n in names)
    assert {n.removeprefix("preventcare-site-") for n in names} <= intervals
    assert all(g["rules"] for g in document["groups"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("not a table", "linux"), "expects the output of preventcare_thresholds_merge"),
        ((TABLE, "aix"), "unknown platform 'aix'"),
        ((TABLE, "linux", "en", "x"), "params must be a mapping, not str"),
    ],
)
def test_rules_filter_raises_a_filter_error_on_bad_input(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        FILTERS["preventcare_rules"](*args)
