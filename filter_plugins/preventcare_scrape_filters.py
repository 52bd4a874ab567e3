"""Filters of molecule/windows: the series the Windows rules read, and what a scrape lacks."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_scrape import missing_series, rule_series


def preventcare_rule_series(groups):
    """{metric: label names} that rendered rule groups read from windows_exporter."""
    if not isinstance(groups, list):
        raise AnsibleFilterError("preventcare_rule_series expects the rule groups (a list)")
    return rule_series(groups)


def preventcare_missing_series(text, wanted):
    """What the rules read (preventcare_rule_series) that the scrape text lacks."""
    if not isinstance(wanted, dict):
        raise AnsibleFilterError("preventcare_missing_series expects {metric: [labels]}")
    return missing_series(wanted, text)


class FilterModule:
    """PreventCare scrape filters."""

    def filters(self):
        return {
            "preventcare_rule_series": preventcare_rule_series,
            "preventcare_missing_series": preventcare_missing_series,
        }
