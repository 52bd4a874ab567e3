"""Reading the project's data tables (data/*.yml): one reader, one set of messages."""

from __future__ import annotations

import yaml


def load_table(path, what="table"):
    """A YAML mapping with schema_version 1; ValueError naming `what` and the path otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            table = yaml.safe_load(handle)
    except OSError as exc:
        raise ValueError(f"cannot read the {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"the {what} {path} is not valid YAML: {exc}") from None
    if not isinstance(table, dict) or table.get("schema_version") != 1:
        raise ValueError(f"the {what} {path} must be a mapping with schema_version: 1")
    return table
