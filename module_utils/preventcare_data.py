"""The project's data: its tables (data/*.yml) and the plain values every layer exchanges."""

from __future__ import annotations

import collections
import functools
import ipaddress
import json
import os
import re
from collections.abc import Mapping

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
DATA_DIR = os.path.join(ROOT, "data")
REPORT_SCHEMA = os.path.join(ROOT, "schemas", "report.schema.json")


def _requirement_id_pattern():
    # The report schema defines what a requirement ID looks like; Python reads it there.
    with open(REPORT_SCHEMA, encoding="utf-8") as handle:
        return json.load(handle)["$defs"]["requirement_id"]["pattern"]


REQUIREMENT_ID = re.compile(_requirement_id_pattern())
# libyaml's parser where PyYAML was built with it: the tables are read on every run, and the
# pure-Python SafeLoader takes ten times as long (about 0.8 s of a compliance run).
_TABLE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SCALARS = {bool: bool, int: int, float: float, str: str}


def plain(value, depth=0):
    """A JSON-able copy with builtin types only (Ansible hands over tagged/lazy/unsafe types)."""
    if value is None or depth > 64:
        return None if value is None else "..."
    # Exact builtin types first: a fleet's results are hundreds of thousands of values.
    kind = type(value)
    if kind not in _SCALARS and kind is not dict and kind is not list:
        kind = next((k for k in _SCALARS if isinstance(value, k)), None)  # bool before int
        if kind is None:
            kind = dict if isinstance(value, Mapping) else list
            if kind is list and not isinstance(value, list | tuple | set | frozenset):
                return str(value)
    if kind is dict:
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if kind is list:
        return [plain(v, depth + 1) for v in value]
    return _SCALARS[kind](value)


def as_dict(value):
    return value if isinstance(value, dict) else {}


def as_list(value):
    """A list; PowerShell's ConvertTo-Json writes a one-item array as an object."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return list(value) if isinstance(value, (list, tuple)) else []


def routable_v4(address):
    """An IPv4 address a server is reached at: not loopback, link-local, unspecified, multicast."""
    try:
        ip = ipaddress.IPv4Address(str(address))
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def data_path(name):
    """The path of a table under data/."""
    return os.path.join(DATA_DIR, name)


def load_table(path, what="table"):
    """A YAML mapping with schema_version 1; ValueError naming `what` and the path otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            table = yaml.load(handle, Loader=_TABLE_LOADER)
    except OSError as exc:
        raise ValueError(f"cannot read the {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"the {what} {path} is not valid YAML: {exc}") from None
    if not isinstance(table, dict) or table.get("schema_version") != 1:
        raise ValueError(f"the {what} {path} must be a mapping with schema_version: 1")
    return table


# PRE-06: a remote-assistance tool outside the catalogue, attested by the engineer.
OTHER_REMOTE_TOOL = "other"


@functools.cache
def remote_tools_catalogue():
    """data/remote_assistance.yml: {tool: {label, linux: {...}, windows: {...}}}."""
    path = data_path("remote_assistance.yml")
    tools = load_table(path, "remote-assistance catalogue").get("tools")
    if not isinstance(tools, dict) or not tools:
        raise ValueError(f"the remote-assistance catalogue {path} has no `tools` mapping")
    return tools


# What both evidence readers (preventcare_linux, preventcare_windows) say of a server's
# hardware (PRE-03): the system volume is "/" or the system drive ("C:").
HardwareFacts = collections.namedtuple(
    "HardwareFacts",
    "cpu_cores memory_bytes system_mount system_size_bytes system_free_bytes "
    "vendor model virtual container",
)
