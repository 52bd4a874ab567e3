"""Filters turning the booklet's thresholds and the contract's overrides into Prometheus rules."""

from __future__ import annotations

import os

import ansible.module_utils as _amu

_MU = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "module_utils")
_MU in _amu.__path__ or _amu.__path__.append(_MU)

from ansible.errors import AnsibleFilterError  # noqa: E402
from ansible.module_utils.preventcare_thresholds import (  # noqa: E402
    format_problems,
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
            "invalid threshold overrides in the contract; fix these fields:\n"
            + format_problems(problems)
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


class FilterModule:
    """PreventCare threshold filters."""

    def filters(self):
        return {
            "preventcare_thresholds_merge": preventcare_thresholds_merge,
            "preventcare_rules": preventcare_rules,
        }
