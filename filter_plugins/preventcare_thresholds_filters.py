"""Filters turning the booklet's thresholds and the contract's overrides into Prometheus rules."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_problems import format_problems
from ansible.module_utils.preventcare_thresholds import (
    alert_routes,
    contract_rule_params,
    load_thresholds,
    merge_overrides,
    render_rules,
)


def _table(table):
    if table is None or isinstance(table, str):
        try:
            return load_thresholds(table)
        except ValueError as exc:
            raise AnsibleFilterError(str(exc)) from exc
    if isinstance(table, dict):
        return table
    raise AnsibleFilterError(
        f"preventcare_thresholds_merge: table must be a path or a mapping, "
        f"not {type(table).__name__} {table!r}"
    )


def preventcare_thresholds_merge(overrides, table=None):
    """Merge `preventcare.thresholds` over the table (default data/thresholds.yml)."""
    merged, problems = merge_overrides(_table(table), overrides)
    if problems:
        raise AnsibleFilterError(
            format_problems(
                problems, "invalid threshold overrides in the contract; fix these fields:"
            )
        )
    return merged


def preventcare_rules(merged, platform, lang="en", params=None):
    """A Prometheus rule file ({"groups": [...]}) for linux, windows or site."""
    if not isinstance(merged, dict) or "items" not in merged:
        raise AnsibleFilterError(
            "preventcare_rules expects the output of preventcare_thresholds_merge, "
            f"got {type(merged).__name__}"
        )
    if params is not None and not isinstance(params, dict):
        raise AnsibleFilterError(
            f"preventcare_rules: params must be a mapping, not {type(params).__name__}"
        )
    try:
        return {"groups": render_rules(merged, platform, lang, params)}
    except (ValueError, KeyError) as exc:
        raise AnsibleFilterError(f"preventcare_rules: {exc}") from exc


def preventcare_alert_routes(merged, daily_window_minutes):
    """Alertmanager routes and time intervals from the merged table's delivery hints."""
    if not isinstance(merged, dict) or "items" not in merged:
        raise AnsibleFilterError(
            "preventcare_alert_routes expects the output of preventcare_thresholds_merge, "
            f"got {type(merged).__name__}"
        )
    try:
        return alert_routes(merged, int(daily_window_minutes))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(
            f"preventcare_alert_routes: daily window must be a number of minutes, "
            f"got {daily_window_minutes!r} ({exc})"
        ) from exc


def preventcare_rule_params(contract):
    """The rule parameters the contract sets (monitor instance, backup hosts)."""
    if not isinstance(contract, dict):
        raise AnsibleFilterError(
            f"preventcare_rule_params expects the validated contract, got {type(contract).__name__}"
        )
    return contract_rule_params(contract)


class FilterModule:
    """PreventCare threshold filters."""

    def filters(self):
        return {
            "preventcare_thresholds_merge": preventcare_thresholds_merge,
            "preventcare_rules": preventcare_rules,
            "preventcare_alert_routes": preventcare_alert_routes,
            "preventcare_rule_params": preventcare_rule_params,
        }
