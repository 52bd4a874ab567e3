"""promtool proves every rendered rule on both sides of its threshold and of its duration.

The tests are generated: thresholds and durations come from data/thresholds.yml (merged
with overrides where a test says so), series shapes from tests/promtool/scenarios.yml.
Each requirement gets one promtool test file under tmp_path, run against the rule files
rendered for linux, windows and site.
"""

from __future__ import annotations

import ast
import operator
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.preventcare_thresholds import (
    LANGS,
    PLATFORMS,
    format_duration,
    load_thresholds,
    merge_overrides,
    parse_duration,
    render_rules,
)
from required_tools import require

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "tests" / "promtool" / "scenarios.yml").read_text("utf-8"))
TABLE = load_thresholds()
REQUIREMENTS = sorted({item["requirement"] for item in TABLE["items"].values()})
# How far past (or short of) a threshold the test values sit, per unit.
NUDGE = {"percent": 1, "ratio": 0.05, "ms": 10, "count": 1}
MINUTE = 60
# Holds at least this long are tested at their group's evaluation interval.
LONG = 6 * 3600
# Counter rules are tested as a live server feeds them: 15 s scrapes (monitor_site's
# default), evaluated at their group's interval, after a calm half hour.
SCRAPE = 15
CALM = 30 * MINUTE


def _promtool():
    return require("promtool", "the rule tests run Prometheus's own rule engine")


# ----------------------------------------------------------------- formulas
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
}


def calc(formula, env):
    """Evaluate the scenario arithmetic (numbers, names from env, + - * /)."""

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ValueError(f"unsupported formula {formula!r}")

    return ev(ast.parse(str(formula), mode="eval"))


def _num(value):
    return f"{value:.12g}"


# ----------------------------------------------------------------- generation
def targets(item):
    """(x that must fire, x that must not) for a numeric item; (None, None) for bool."""
    if item["unit"] == "bool":
        return None, None
    value, step = item["value"], NUDGE.get(item["unit"], 1)
    sign = 1 if item["comparison"] == ">" else -1
    cold = value if item["unit"] == "count" else value - sign * step
    return value + sign * step, cold


def find_rule(groups, name):
    for group in groups:
        for rule in group["rules"]:
            if rule["labels"]["preventcare_item"] == name:
                return rule
    raise AssertionError(f"no rendered rule for {name}")


_TOKEN = re.compile(r'\{\{ (?:\$labels\.(\w+)|\$value \| printf "([^"]+)") \}\}')


def expand(text, labels, value):
    """What Prometheus makes of an annotation for this alert (the two forms the rules use)."""
    out = _TOKEN.sub(
        lambda m: labels.get(m.group(1), "") if m.group(1) else m.group(2) % value, text
    )
    assert "{{" not in out, f"unexpected template in {text!r}"
    return out


def _series(spec, env, n_calm, n_hot, *, healthy, sample):
    calm, hot = calc(spec["calm"], env), calc(spec["hot"], env)
    if healthy:
        hot = calm
    if spec["kind"] == "counter":
        # The scenario gives increments per minute; each sample adds its share.
        calm, hot = calm * sample / MINUTE, hot * sample / MINUTE
        start = n_calm * calm + hot
        return f"0+{_num(calm)}x{n_calm} {_num(start)}+{_num(hot)}x{n_hot - 1}"
    return f"{_num(calm)}+0x{n_calm} {_num(hot)}+0x{n_hot - 1}"


def build_tests(table, scenario, platform_rules, x_hot=None, x_cold=None):
    """(evaluation step, promtool test groups) for one scenario: fires past threshold and
    duration only, as the booklet words it.

    Gauges: samples and evaluations 1 min apart (rules held for hours are evaluated at their
    group's own interval, which keeps a 26 h hold to about a hundred steps); quiet one step
    before the duration, firing one step after. Counters (settle: rate): 15 s samples after
    a calm half hour, evaluated at the group's interval; quiet at the duration - 1 min and
    firing by the duration + 2 min, counted from the first sample past the threshold - the
    rate window is part of the duration, not added to it.
    """
    name = scenario["item"]
    item = table["items"][name]
    rule = find_rule(platform_rules[scenario["platform"]], name)
    settings = table["settings"]
    duration = parse_duration(item["duration"])
    event_window = parse_duration(item["interval"]) * settings["event_window_factor"]
    if scenario["settle"] == "rate":
        sample, step = SCRAPE, parse_duration(item["interval"])
        t0 = c = CALM
        quiet_at, fire_at = c + duration - MINUTE, c + duration + 2 * MINUTE
    else:
        step = parse_duration(item["interval"]) if duration >= LONG else MINUTE
        sample = step
        rate_window = parse_duration(settings["rate_window"])
        t0 = -(-(rate_window + event_window + 5 * step) // step) * step
        c = t0 + step
        onset = {"change": c, "start": 0}[scenario["settle"]]
        fire_at, quiet_at = onset + duration + step, onset + duration - step
    # Past every check, and past the calm period when the state is there from the start.
    end = max(fire_at + (3600 if scenario.get("always") else 0) + 2 * step, c + 2 * step)
    n_calm, n_hot = t0 // sample, (end - c) // sample + 1
    code = table["textfile_metrics"]["preventcare_backup_last_status"]["codes"].get(
        item.get("status"), 0
    )
    default_hot, default_cold = targets(item)
    base = {"v": item["value"] if item["unit"] != "bool" else 1, "t0": t0, "c": c, "code": code}
    if x_hot is None:
        x_hot = calc(scenario["x_hot"], base) if "x_hot" in scenario else default_hot
    if x_cold is None:
        x_cold = calc(scenario["x_cold"], base) if "x_cold" in scenario else default_cold
    component = item.get("component", "")
    labels = {k: str(v).replace("{component}", component) for k, v in scenario["labels"].items()}
    variant = f" ({scenario['variant']})" if "variant" in scenario else ""
    title = f"{item['requirement']} {name} {scenario['platform']}{variant}"

    def run(kind, x):
        env = dict(base, x=x if x is not None else 0, e=fire_at)
        series = [
            {
                "series": spec["series"].replace("{component}", component),
                "values": _series(
                    spec, env, n_calm, n_hot, healthy=kind == "cold" and x is None, sample=sample
                ),
            }
            for spec in scenario["series"]
            if spec.get("only", kind) == kind
        ]
        return env, series

    env, series = run("hot", x_hot)
    value = calc(scenario.get("value", "x"), env)
    alert = {
        "exp_labels": dict(labels, **rule["labels"]),
        "exp_annotations": {k: expand(v, labels, value) for k, v in rule["annotations"].items()},
    }
    checks = []
    if quiet_at >= 0:
        checks.append({"eval_time": format_duration(quiet_at), "exp_alerts": []})
    checks.append({"eval_time": format_duration(fire_at), "exp_alerts": [alert]})
    if scenario.get("always"):
        checks.append({"eval_time": format_duration(fire_at + 3600), "exp_alerts": [alert]})
    hot_desc = "fault" if x_hot is None else f"x={_num(x_hot)}"
    tests = [
        {
            "name": f"{title}: {hot_desc} fires after {item['duration']}, not before",
            "interval": format_duration(sample),
            "input_series": series,
            "alert_rule_test": [dict(check, alertname=rule["alert"]) for check in checks],
        }
    ]
    if not scenario.get("always"):
        _, series = run("cold", x_cold)
        cold_desc = "healthy" if x_cold is None else f"x={_num(x_cold)}"
        tests.append(
            {
                "name": f"{title}: {cold_desc} never fires",
                "interval": format_duration(sample),
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": format_duration(t), "alertname": rule["alert"], "exp_alerts": []}
                    for t in (fire_at, end - step)
                ],
            }
        )
    return step, tests


def write_rules(directory, table, lang="en", params=None):
    """Render the three rule files; returns ({platform: groups}, [paths])."""
    rendered, paths = {}, []
    for platform in PLATFORMS:
        rendered[platform] = render_rules(table, platform, lang, params)
        path = directory / f"preventcare-{platform}.rules.yml"
        path.write_text(
            yaml.safe_dump({"groups": rendered[platform]}, allow_unicode=True, sort_keys=False),
            "utf-8",
        )
        paths.append(path)
    return rendered, paths


def run_promtool(directory, paths, tests):
    """Run `promtool test rules`; tests maps an evaluation step (s) to its test groups."""
    files = []
    for step, groups in sorted(tests.items()):
        test_file = directory / f"tests-{format_duration(step)}.yml"
        test_file.write_text(
            yaml.safe_dump(
                {
                    "rule_files": [p.name for p in paths],
                    "evaluation_interval": format_duration(step),
                    "tests": groups,
                },
                allow_unicode=True,
                sort_keys=False,
            ),
            "utf-8",
        )
        files.append(test_file.name)
    return subprocess.run(
        [_promtool(), "test", "rules", *files],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def collect(table, scenarios, rendered, *, x_hot=None, x_cold=None, first_only=False):
    """Test groups of several scenarios, keyed by evaluation step."""
    tests = {}
    for scenario in scenarios:
        step, groups = build_tests(table, scenario, rendered, x_hot, x_cold)
        tests.setdefault(step, []).extend(groups[:1] if first_only else groups)
    return tests


def scenarios_for(requirement):
    items = TABLE["items"]
    return [s for s in SPEC["scenarios"] if items[s["item"]]["requirement"] == requirement]


# ----------------------------------------------------------------- tests
def test_every_rendered_rule_has_a_scenario():
    """No rule escapes promtool: each (item, platform) rendered has a scenario."""
    covered = {(s["item"], s["platform"]) for s in SPEC["scenarios"]}
    rendered = {
        (rule["labels"]["preventcare_item"], platform)
        for platform in PLATFORMS
        for group in render_rules(TABLE, platform, "en", SPEC["params"])
        for rule in group["rules"]
    }
    assert rendered - covered == set()
    assert covered - rendered == set()


@pytest.mark.parametrize(
    "requirement",
    [pytest.param(req, id=req, marks=pytest.mark.req(req)) for req in REQUIREMENTS],
)
def test_rules_fire_past_threshold_and_duration_only(requirement, tmp_path):
    """Each rule fires just past its threshold once its duration has run, never just short."""
    _promtool()
    rendered, paths = write_rules(tmp_path, TABLE, "fr", SPEC["params"])
    tests = collect(TABLE, scenarios_for(requirement), rendered)
    assert tests, f"no promtool scenario for {requirement}"
    result = run_promtool(tmp_path, paths, tests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.req("MON-SYS-05")
def test_contract_override_moves_the_threshold(tmp_path):
    """MON-SYS-05 raised by the contract: fires just past the new value, silent below it,
    although the same load fires under the booklet's rule."""
    _promtool()
    base = TABLE["items"]["sys_processor"]["value"]
    raised = base + 2
    merged, problems = merge_overrides(TABLE, {"MON-SYS-05": {"value": raised}})
    assert problems == []
    scenarios = [s for s in SPEC["scenarios"] if s["item"] == "sys_processor"]
    assert {s["platform"] for s in scenarios} == {"linux", "windows"}

    over = tmp_path / "override"
    over.mkdir()
    rendered, paths = write_rules(over, merged, "en", SPEC["params"])
    tests = collect(merged, scenarios, rendered, x_hot=raised + 1, x_cold=raised - 1)
    result = run_promtool(over, paths, tests)
    assert result.returncode == 0, result.stdout + result.stderr

    # Control: the load that stays silent under the override fires under the booklet.
    booklet = tmp_path / "booklet"
    booklet.mkdir()
    rendered, paths = write_rules(booklet, TABLE, "en", SPEC["params"])
    tests = collect(TABLE, scenarios, rendered, x_hot=raised - 1, x_cold=base - 1, first_only=True)
    result = run_promtool(booklet, paths, tests)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_promtool_check_rules_accepts_every_rendered_file(platform, lang, tmp_path):
    """The rule files rendered with the table's own params pass `promtool check rules`."""
    path = tmp_path / f"{platform}.yml"
    groups = render_rules(TABLE, platform, lang)
    path.write_text(yaml.safe_dump({"groups": groups}, allow_unicode=True), "utf-8")
    result = subprocess.run(
        [_promtool(), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(g["rules"]) for g in groups)
    assert f"SUCCESS: {count} rules found" in result.stdout


def test_cli_output_passes_promtool_check(tmp_path):
    """bin/preventcare-rules on the example contract writes three files promtool accepts."""
    contract = ROOT / "inventories" / "example" / "group_vars" / "all" / "preventcare.yml"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bin" / "preventcare-rules"),
            "--contract",
            str(contract),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    files = sorted(tmp_path.glob("*.rules.yml"))
    assert [f.name for f in files] == [f"preventcare-{p}.rules.yml" for p in sorted(PLATFORMS)]
    check = subprocess.run(
        [_promtool(), "check", "rules", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
