"""Validate the PreventCare client contract (the `preventcare` variable).

Controller-side only (action plugin, CLI, tests): it needs jsonschema and PyYAML,
which managed hosts do not have. Every public function returns problems instead of
raising, whatever the input, so that a user never sees a traceback. Reading a contract
file is preventcare_contract_file.py.

Why about 1,100 lines in one file: it is one concern, the contract's validation, and most of
it is messages - one explanation per kind of schema failure and one per cross-field rule,
each with its hint - that share the path rendering, the value descriptions and the sorted
problem collector defined here.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import ipaddress
import json
import os
import re
import unicodedata
import zoneinfo
from collections.abc import Mapping

import jsonschema
from ansible.module_utils.preventcare_data import OTHER_REMOTE_TOOL, remote_tools_catalogue
from ansible.module_utils.preventcare_ipv4 import classify_public_ipv4
from ansible.module_utils.preventcare_problems import Problem, closest, did_you_mean
from ansible.module_utils.preventcare_problems import format_problems as list_problems
from ansible.module_utils.preventcare_secrets import MASK, secret_forms
from ansible.module_utils.preventcare_secrets import scrub as scrub_value
from ansible.module_utils.preventcare_sizing import CONTRACT_USERS_MIN
from ansible.module_utils.preventcare_thresholds import load_thresholds, merge_overrides

SCHEMA_VERSION = 1
ROOT = "preventcare"
EXAMPLE_FILE = "inventories/example/group_vars/all/preventcare.yml"
SCHEMA_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
    "schemas",
    "contract.schema.json",
)

ALWAYS_REQUIRED_SERVICES = ("windows_server", "database", "backup")
VAULT_HINT = "give the vault password: --ask-vault-pass / --vault-id"

# Guards against hostile or absurd input: nesting, alias bombs, integers whose
# repr() Python refuses to build (more than 4300 digits).
MAX_DEPTH = 32
MAX_NODES = 100_000
MAX_INT_BITS = 64

_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})\Z"
)
# \Z, not $: Python's $ also matches before a trailing newline, which would let "a@b.fr\n"
# through to the SMTP dialogue.
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
_PHONE = re.compile(r"^\+?[0-9][0-9 ./()-]{3,30}\Z")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIMEZONE_NAME = re.compile(r"^[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*\Z")


class VaultText(str):
    """Ciphertext of an inline `!vault` value: opaque, never decrypted here."""


class UnsafeText(str):
    """An `!unsafe` value: literal text that Ansible never templates."""


# ---------------------------------------------------------------- rendering


def render_path(parts: tuple = (), root: str = ROOT) -> str:
    """('smtp_relay', 'port') -> 'preventcare.smtp_relay.port'; list indexes as [0]."""
    out = root
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and _SIMPLE_KEY.match(part):
            out += "." + part
        else:
            out += f"[{describe_value(part)}]"
    return out


def type_name(value) -> str:
    """The YAML-level name of a value's type, as a user would say it."""
    if value is None:
        return "nothing (empty value)"
    if isinstance(value, VaultText):
        return "vault-encrypted string"
    for kind, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        (Mapping, "mapping"),
        ((list, tuple), "list"),
        (datetime.date, "date"),
        (bytes, "binary data"),
        ((set, frozenset), "set"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def describe_value(value, secret: bool = False) -> str:  # noqa: PLR0911 - one case per type
    """A short, safe rendering of a value; secrets and containers are never dumped."""
    if secret:
        return "(hidden)"
    if value is None:
        return "nothing"
    if isinstance(value, VaultText):
        return "(vault-encrypted value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "a very large integer" if value.bit_length() > MAX_INT_BITS else str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, str):
        text = str.__str__(value)
        return repr(text[:60] + "…") if len(text) > 60 else repr(text)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a value of type " + type_name(value)


def value_summary(value, secret: bool = False) -> str:
    """'string 'abc'' / 'integer 7' / 'mapping': what a value is, for a message."""
    name = type_name(value)
    if value is None or isinstance(value, (Mapping, list, tuple)) or secret:
        return name
    if isinstance(value, (bool, int, float, str)):
        return f"{name} {describe_value(value)}"
    return name


def _choices_hint(word, candidates, what: str = "allowed values") -> str:
    hint = did_you_mean(word, candidates) if isinstance(word, str) else ""
    if hint:
        return hint
    shown = sorted(candidates) if len(candidates) > 12 else list(candidates)
    more = "" if len(shown) <= 12 else f", … ({len(shown)} in all)"
    return f"{what}: {', '.join(shown[:12])}{more}"


def format_problems(problems, source: str) -> str:
    """One readable block that lists every problem (path: message — hint)."""
    problems = list(problems)
    if not problems:
        return f"contract OK ({source})"
    count = len(problems)
    return list_problems(
        problems,
        f"The PreventCare contract in {source} has {count} problem{'s' if count > 1 else ''}:",
        "Fix every line above, then check again with: bin/preventcare-contract <inventory dir> "
        "(no host is touched until the contract is valid).",
    )


# ---------------------------------------------------------------- value checks


def valid_email(text) -> bool:
    return isinstance(text, str) and len(text) <= 254 and bool(_EMAIL.match(text))


def valid_hostname(text) -> bool:
    """An IP address or an RFC 1123 host name."""
    if not isinstance(text, str) or not text or len(text) > 253:
        return False
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    labels = text[:-1].split(".") if text.endswith(".") else text.split(".")
    return all(_HOST_LABEL.match(label) for label in labels)


def valid_timezone(name) -> bool:
    if not isinstance(name, str) or not _TIMEZONE_NAME.match(name) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError, OSError: all mean "no such zone"
        return False
    return True


def valid_date(text) -> bool:
    if not isinstance(text, str) or not _DATE.match(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_opaque(value) -> bool:
    """Vault ciphertext and Jinja templates can only be judged once Ansible resolves them."""
    if isinstance(value, VaultText):
        return True
    return (
        isinstance(value, str)
        and not isinstance(value, UnsafeText)
        and ("{{" in value or "{%" in value)
    )


def _is_secret(parts: tuple) -> bool:
    return "password" in parts or parts == ("smtp_relay", "auth")


# ---------------------------------------------------------------- schema


@functools.lru_cache(maxsize=1)
def load_schema() -> dict:
    """The contract schema, with the remote-assistance tools of the one catalogue."""
    with open(SCHEMA_FILE, encoding="utf-8") as handle:
        schema = json.load(handle)
    tools = schema["properties"]["remote_assistance"]["properties"]["tools"]["items"]
    tools["enum"] = [*remote_tools_catalogue(), OTHER_REMOTE_TOOL]
    return schema


@functools.lru_cache(maxsize=1)
def _validator():
    return jsonschema.Draft202012Validator(load_schema())


def _top_order(schema: dict | None = None) -> dict:
    try:
        properties = (schema or load_schema())["properties"]
        return {key: index for index, key in enumerate(properties)}
    except Exception:
        return {}


class _Collector:
    """Gathers problems with a stable document-like order and no duplicates.

    root and example name the document (the client contract by default; the provider
    inventory reuses the same machinery with its own schema, see validate_document).
    """

    def __init__(self, root: str = ROOT, example: str = EXAMPLE_FILE, schema: dict | None = None):
        self.items: list[Problem] = []
        self.silenced: set[tuple] = set()
        self.root, self.example = root, example
        self._order = _top_order(schema)

    def add(self, parts: tuple, message: str, hint: str = ""):
        if any(parts[: len(s)] == s for s in self.silenced):
            return
        key = tuple(
            (0, self._order.get(p, 99)) if i == 0 and isinstance(p, str) else _part_key(p)
            for i, p in enumerate(parts)
        )
        problem = Problem(render_path(parts, self.root), message, hint, key)
        if problem not in self.items:
            self.items.append(problem)

    def sorted(self) -> list[Problem]:
        return sorted(self.items, key=lambda p: p.sort_key)


def _part_key(part):
    if isinstance(part, int) and not isinstance(part, bool):
        return (1, part, "")
    return (2, 0, str(part) if isinstance(part, str) else type_name(part))


def _plain(value, parts, out: _Collector, state: dict, depth: int = 0):
    """Copy YAML/Ansible data into plain JSON-like Python, reporting what cannot be."""
    state["nodes"] += 1
    if state["nodes"] > MAX_NODES:
        state["too_big"] = True
        return None
    if depth > MAX_DEPTH:
        out.add(parts, "nested too deeply", "the contract is at most a few levels deep")
        out.silenced.add(parts)
        return None
    if not isinstance(value, Mapping | list | tuple):
        return _plain_scalar(value, parts, out)
    if id(value) in state["active"]:
        out.add(parts, "refers to itself through a YAML alias", "remove the recursive alias")
        out.silenced.add(parts)
        return None
    state["active"].add(id(value))
    try:
        if isinstance(value, Mapping):
            return _plain_mapping(value, parts, out, state, depth)
        return [
            _plain(item, (*parts, index), out, state, depth + 1) for index, item in enumerate(value)
        ]
    finally:
        state["active"].discard(id(value))


# Exact builtin types for the schema; unquoted YAML dates become ISO text.
_SCALARS = (
    (bool, bool),
    (int, int),
    (float, float),
    (datetime.date, lambda v: v.isoformat()),
)


def _plain_scalar(value, parts, out: _Collector):
    if isinstance(value, str):
        if type(value) is str or isinstance(value, VaultText | UnsafeText):
            return value
        return str.__str__(value)  # drop subclasses (Ansible tagged strings)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        out.add(parts, "integer far too large", "check this value; no contract field needs it")
        out.silenced.add(parts)
        return None
    for kind, convert in _SCALARS:
        if isinstance(value, kind):
            return convert(value)
    return value  # other YAML types (sets, binary) fail the schema's type checks


def _plain_mapping(value, parts, out, state, depth) -> dict:
    result = {}
    for key in list(value.keys()):
        if not isinstance(key, str):
            out.add(
                (*parts, key),
                f"key {describe_value(key)} is not text (YAML read it as {type_name(key)})",
                "keys are names such as 'smtp_relay'; quote the key "
                "(YAML reads yes/no/on/off as booleans and bare numbers as numbers)",
            )
            continue
        name = str.__str__(key)
        result[name] = _plain(value[key], (*parts, name), out, state, depth + 1)
    return result


def _schema_problems(data, out: _Collector, validator=None):
    for error in (validator or _validator()).iter_errors(data):
        try:
            _explain(error, out)
        except Exception as exc:  # an unexpected shape must still be reported, not raised
            parts = tuple(error.absolute_path)
            out.add(parts, f"internal error while explaining this value ({type(exc).__name__})")


@dataclasses.dataclass
class _Failure:
    """One jsonschema error, unpacked for the explain_* functions."""

    parts: tuple
    value: object
    schema: dict
    error: jsonschema.ValidationError
    secret: bool
    out: _Collector


def _explain(error, out: _Collector):
    parts = tuple(error.absolute_path)
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    handler = _EXPLAIN.get(error.validator)
    if "propertyNames" in error.schema_path:
        out.add(
            (*parts, value),
            f"unknown requirement ID {describe_value(value)}",
            "threshold keys are requirement IDs such as MON-SYS-05 (see SPEC.md)",
        )
    elif handler is not None:
        handler(_Failure(parts, value, schema, error, _is_secret(parts), out))
    else:
        out.add(parts, "invalid value" if _is_secret(parts) else error.message)


def _explain_type(f: _Failure):
    wanted = f.error.validator_value
    wanted = wanted if isinstance(wanted, list) else [wanted]
    names = {"object": "a mapping", "array": "a list", "null": "nothing"}
    expected = " or ".join(names.get(w, w) for w in wanted)
    hint = ""
    if f.value is None:
        hint = "fill in the value or remove the key"
    elif is_opaque(f.value):
        hint = "only secrets may be templates or vault values; write the value itself"
    elif "string" in wanted and isinstance(f.value, (int, float, bool)):
        hint = "quote the value so that YAML reads it as text"
    elif "integer" in wanted or "number" in wanted:
        low, high = f.schema.get("minimum"), f.schema.get("maximum")
        kind = "a whole number" if "integer" in wanted else "a number"
        if low is not None and high is not None:
            hint = f"write {kind} between {low} and {high}, without quotes"
        elif low is not None:
            hint = f"write {kind} of at least {low}, without quotes"
        else:
            hint = f"write {kind} without quotes"
    elif "boolean" in wanted:
        hint = "write true or false, without quotes"
    elif f.schema.get("description"):
        hint = f"{f.parts[-1] if f.parts else f.out.root}: {f.schema['description']}"
    f.out.add(f.parts, f"expected {expected}, got {value_summary(f.value, f.secret)}", hint)


def _explain_required(f: _Failure):
    properties = f.schema.get("properties", {})
    present = list(f.value) if isinstance(f.value, Mapping) else []
    unknown = [k for k in present if k not in properties]
    for name in f.error.validator_value:
        if name in present:
            continue
        what = properties.get(name, {}).get("description", "")
        message = f"missing required key '{name}'" + (f": {what}" if what else "")
        typo = closest(name, unknown) if isinstance(name, str) else None
        hint = (
            f"is '{typo}' a misspelling of it?"
            if typo
            else f"add it; {f.out.example} shows an example"
        )
        f.out.add((*f.parts, name), message, hint)


def _explain_additional(f: _Failure):
    allowed = list(f.schema.get("properties", {}))
    if not isinstance(f.value, Mapping):
        return
    for key in f.value:
        if key not in allowed:
            f.out.add(
                (*f.parts, key),
                f"unknown key {describe_value(key)}",
                _choices_hint(key, allowed, "allowed keys here"),
            )


def _explain_enum(f: _Failure):
    choices = [str(c) for c in f.error.validator_value]
    what = "service" if f.parts[:1] == ("services",) else "value"
    if isinstance(f.value, str) and not f.secret:
        f.out.add(
            f.parts, f"unknown {what} {describe_value(f.value)}", _choices_hint(f.value, choices)
        )
    else:
        f.out.add(
            f.parts,
            f"expected one of {', '.join(choices)}, got {value_summary(f.value, f.secret)}",
            _choices_hint(None, choices),
        )


def _explain_const(f: _Failure):
    f.out.add(
        f.parts,
        f"unsupported value {describe_value(f.value, f.secret)}",
        f"this tool understands schema_version: {SCHEMA_VERSION}",
    )


def _explain_bound(f: _Failure):
    low, high = f.schema.get("minimum"), f.schema.get("maximum")
    shown = describe_value(f.value, f.secret)
    if f.error.validator == "maximum":
        message = f"{shown} is above the maximum {high}"
    else:
        message = f"{shown} is below the minimum {low}"
    hint = f"use a value between {low} and {high}" if None not in (low, high) else ""
    if not hint:
        hint = f"use a value of at least {low}" if low is not None else f"use at most {high}"
    f.out.add(f.parts, message, hint)


def _explain_min_length(f: _Failure):
    what = f.schema.get("description", "")
    f.out.add(f.parts, "must not be empty", f"give {what}" if what else "give a value")


def _explain_min_items(f: _Failure):
    count = f.error.validator_value
    what = f.schema.get("description", "")
    f.out.add(
        f.parts,
        f"needs at least {count} item{'s' if count != 1 else ''}",
        f"list {what}" if what else "",
    )


def _explain_unique(f: _Failure):
    seen, repeated = [], []
    for item in f.value if isinstance(f.value, list) else []:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.append(item)
    shown = ", ".join(describe_value(r) for r in repeated[:5]) or "an item"
    f.out.add(f.parts, f"lists {shown} more than once", "remove the duplicate")


def _explain_pattern(f: _Failure):
    if f.parts == ("client", "id"):
        f.out.add(
            f.parts,
            f"{describe_value(f.value)} is not a valid slug",
            "use lower-case letters, digits and dashes, starting with a letter or digit "
            "(e.g. 'martin'); it names the report folder",
        )
    else:
        f.out.add(f.parts, f"{describe_value(f.value, f.secret)} has the wrong form")


def _explain_min_properties(f: _Failure):
    f.out.add(
        f.parts,
        "gives no value, duration or criticality",
        "set at least one of value, duration, criticality, or remove the entry",
    )


_EXPLAIN = {
    "type": _explain_type,
    "required": _explain_required,
    "additionalProperties": _explain_additional,
    "enum": _explain_enum,
    "const": _explain_const,
    "minimum": _explain_bound,
    "maximum": _explain_bound,
    "minLength": _explain_min_length,
    "minItems": _explain_min_items,
    "uniqueItems": _explain_unique,
    "pattern": _explain_pattern,
    "minProperties": _explain_min_properties,
}


# ---------------------------------------------------------------- cross-field rules


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _check_email(parts, value, out):
    if isinstance(value, str) and not is_opaque(value) and not valid_email(value):
        out.add(
            parts,
            f"{describe_value(value)} is not a valid e-mail address",
            "write it like name@example.com",
        )


def _check_host(parts, value, hosts, out, what):
    if hosts is None or not isinstance(value, str) or is_opaque(value) or not value:
        return
    if value not in hosts:
        known = _choices_hint(value, hosts, "inventory hosts") if hosts else "it has no hosts"
        out.add(
            parts, f"{describe_value(value)} is not a host of the inventory", f"{what}; {known}"
        )


# Legacy zone names of the tz database's "backward" file and of POSIX: they still resolve, but
# CET is not France (no history before 1977, Brussels' rules since tzdata 2024b) and EST5EDT
# is not a place; the hint names the IANA zone a client of that area means.
_LEGACY_ZONES = {
    "CET": "Europe/Paris",
    "MET": "Europe/Paris",
    "WET": "Europe/Lisbon",
    "EET": "Europe/Athens",
    "GMT": "Europe/London",
    "EST": "America/New_York",
    "MST": "America/Denver",
    "HST": "Pacific/Honolulu",
    "EST5EDT": "America/New_York",
    "CST6CDT": "America/Chicago",
    "MST7MDT": "America/Denver",
    "PST8PDT": "America/Los_Angeles",
}
_LEGACY_AREAS = ("US/", "Canada/", "Mexico/", "Brazil/", "Chile/", "SystemV/", "Etc/GMT")
_PLAIN_ZONES = ("UTC", "Etc/UTC")


def legacy_timezone(name) -> str | None:
    """The IANA zone to write instead of a legacy alias (CET, US/Eastern...), else None."""
    if not isinstance(name, str) or name in _PLAIN_ZONES:
        return None
    if name in _LEGACY_ZONES:
        return _LEGACY_ZONES[name]
    if "/" not in name or name.startswith(_LEGACY_AREAS):
        return "Europe/Paris"
    return None


def _check_timezone(timezone, out):
    if not isinstance(timezone, str) or is_opaque(timezone):
        return
    if not valid_timezone(timezone):
        close = closest(timezone, _all_timezones())
        out.add(
            ("timezone",),
            f"unknown time zone {describe_value(timezone)}",
            f"did you mean '{close}'?" if close else "use an IANA name such as Europe/Paris",
        )
        return
    instead = legacy_timezone(timezone)
    if instead:
        out.add(
            ("timezone",),
            f"{describe_value(timezone)} is a legacy alias, not an IANA zone of a place",
            f"write the IANA zone of the client's site, e.g. {instead}",
        )


def _check_public_ip(value, out):
    """PRE-02: the declared fixed IP must be public; the set-up still judges the real egress."""
    if not isinstance(value, str) or is_opaque(value):
        return
    public, why = classify_public_ipv4(value)
    if why == "not_ipv4":
        out.add(
            ("public_ip",),
            f"{describe_value(value)} is not an IPv4 address",
            "write the fixed public IPv4 address the ISP gave the client",
        )
    elif not public:
        out.add(
            ("public_ip",),
            f"{describe_value(value)} is not a public address ({why.replace('_', ' ')} range)",
            "declare the fixed public IPv4 address the ISP gave the client (not a LAN, CGNAT, "
            "loopback or documentation address); PRE-02 compares it with the site's egress",
        )


# SET-05: 1 or 2 days below 50 users (sized from the contract by the set-up day); from 50
# users the booklet leaves the duration to the contract (preventcare_sizing's rule).
def _check_setup_duration(client: dict, out):
    users, days = client.get("users"), client.get("setup_duration_days")
    if not isinstance(users, int) or isinstance(users, bool):
        return
    if users >= CONTRACT_USERS_MIN and days is None:
        out.add(
            ("client", "setup_duration_days"),
            f"SET-05: from {CONTRACT_USERS_MIN} users ({users} here) the contract sets "
            "the set-up duration, and none is given",
            "add client.setup_duration_days: the number of set-up days agreed in the contract",
        )
    elif users < CONTRACT_USERS_MIN and days is not None:
        out.add(
            ("client", "setup_duration_days"),
            f"SET-05: below {CONTRACT_USERS_MIN} users the set-up duration follows the "
            "booklet's table (1 day, or 2 from 10 users or 3 servers), not the contract",
            "remove setup_duration_days, or correct client.users",
        )


_CONTROL_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}


def control_characters(text) -> list[str]:
    """Control and invisible format characters of a text (Unicode categories Cc, Cf)."""
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cf")]


def _check_control_characters(value, parts, out):
    """No field may hold a control character: a trailing newline (a YAML block scalar, a
    copy-paste) desynchronises the SMTP dialogue and ends up in folder names."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_control_characters(item, (*parts, key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_control_characters(item, (*parts, index), out)
    elif isinstance(value, str) and not isinstance(value, VaultText):
        found = control_characters(value)
        if not found:
            return
        first = found[0]
        name = _CONTROL_NAMES.get(first, f"U+{ord(first):04X}")
        where = " at the end" if value.endswith(first) and len(found) == 1 else ""
        out.add(
            parts,
            f"contains {name}{where} (a control character)",
            "write the value on one line, quoted, without | or > (a YAML block scalar ends "
            "with a newline); retype it if it was pasted from a PDF or a mail",
        )
        out.silenced.add(parts)  # its other checks would only repeat the same mistake


def _check_semantics(data: dict, hosts, out: _Collector):
    _check_control_characters(data, (), out)
    _check_timezone(data.get("timezone"), out)
    _check_contacts(data, out)
    _check_sites(data, out)
    _check_public_ip(data.get("public_ip"), out)
    _check_setup_duration(_dict(data.get("client")), out)
    networks = _list(_dict(data.get("monitoring")).get("admin_networks"))
    for index, network in enumerate(networks):
        if isinstance(network, str) and not is_opaque(network):
            _check_cidr(("monitoring", "admin_networks", index), network, out)
    relay = _dict(data.get("smtp_relay"))
    host = relay.get("host")
    if isinstance(host, str) and host and not is_opaque(host) and not valid_hostname(host):
        out.add(
            ("smtp_relay", "host"),
            f"{describe_value(host)} is neither a host name nor an IP address",
            "write the relay's DNS name or IP address, like relay.example.com",
        )
    _check_email(("smtp_relay", "sender"), relay.get("sender"), out)
    _check_relay_security(relay, out)
    _check_email(("surveillance_mailbox",), data.get("surveillance_mailbox"), out)
    _check_services(data, out)
    _check_host(
        ("monitor_host",), data.get("monitor_host"), hosts, out, "it runs Prometheus for the client"
    )
    for index, job in enumerate(_list(data.get("backup"))):
        _check_host(
            ("backup", index, "host"),
            _dict(job).get("host"),
            hosts,
            out,
            "the backup runs on an inventory host",
        )
    _check_backup(data, out)
    _check_antivirus(data, out)
    _check_thresholds(data, out)
    _check_windows_exporter(_dict(_dict(data.get("monitoring")).get("windows_exporter")), out)
    phone = _dict(_dict(data.get("attestations")).get("server_room_phone"))
    _check_date(("attestations", "server_room_phone", "date"), phone.get("date"), out)
    _check_date(("homologation", "date"), _dict(data.get("homologation")).get("date"), out)
    _check_date(("client", "contract_start"), _dict(data.get("client")).get("contract_start"), out)
    _check_waivers(data, hosts, out)


def _check_waivers(data, hosts, out):
    for index, item in enumerate(_list(data.get("waivers"))):
        waiver = _dict(item)
        reason = waiver.get("reason")
        if isinstance(reason, str) and not is_opaque(reason) and not reason.strip():
            out.add(
                ("waivers", index, "reason"),
                "is blank: a waiver without a reason cannot go into the technical document",
                "write why the set-up goes on without this prerequisite, as agreed with the client",
            )
        host = waiver.get("host")
        if isinstance(host, str) and host != "contract" and hosts:
            _check_host(("waivers", index, "host"), host, hosts, out, "the waiver covers a host")
        _check_date(("waivers", index, "date"), waiver.get("date"), out)


# The first windows_exporter release whose metric names are all those the Windows rules use:
# windows_system_boot_time_timestamp appears in 0.30.6 (0.30.0-0.30.5 only have
# ..._boot_time_timestamp_seconds) and the pagefile collector in 0.30.0 (<= 0.29 has
# windows_os_paging_*), read at the release tags of prometheus-community/windows_exporter
# (internal/collector/system/system.go, internal/collector/pagefile/pagefile.go).
WINDOWS_EXPORTER_MIN_VERSION = (0, 30, 6)


def _check_windows_exporter(exporter: dict, out: _Collector):
    parts = ("monitoring", "windows_exporter")
    if not exporter:
        return
    sources = [key for key in ("url", "controller_file") if key in exporter]
    if len(sources) != 1:
        out.add(
            parts,
            "give exactly one source of the MSI"
            + (f", not both {' and '.join(sources)}" if sources else ""),
            "url: https://... (or a UNC path) that each server reads, or controller_file: a path "
            "on the controller that is copied to each server",
        )
    version = exporter.get("version")
    if isinstance(version, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)*", version):
        numbers = tuple(int(x) for x in version.split("."))
        if numbers < WINDOWS_EXPORTER_MIN_VERSION:
            minimum = ".".join(str(x) for x in WINDOWS_EXPORTER_MIN_VERSION)
            out.add(
                (*parts, "version"),
                f"windows_exporter {version} lacks metrics the rules use "
                "(windows_system_boot_time_timestamp, the pagefile collector)",
                f"deploy {minimum} or later; ServerRebooted and PagingFileUsageHigh "
                "would never fire",
            )


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SCHEDULE = re.compile(
    r"^(?:(?P<daily>daily)\s+|(?P<days>[a-z]{3}(?:,[a-z]{3})*)\s+)?(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})$"
)
_WINDOWS_TARGET = re.compile(r"^(?:[A-Za-z]:\\?|\\\\[^\\]+\\[^\\]+.*)$")


def parse_schedule(text):
    """'daily 22:30', '22:30' or 'mon,thu 22:30' -> (days or None for every day, 'HH:MM');
    None when the text is not a schedule (SET-03: "when")."""
    if not isinstance(text, str):
        return None
    match = _SCHEDULE.match(text.strip().lower())
    if not match or int(match["hour"]) > 23 or int(match["minute"]) > 59:
        return None
    days = match["days"].split(",") if match["days"] else None
    if days and (any(d not in _WEEKDAYS for d in days) or len(set(days)) != len(days)):
        return None
    return days, f"{int(match['hour']):02d}:{match['minute']}"


def _check_backup(data: dict, out: _Collector):
    """SET-03: each job says what, where, when and how long, in a form the roles can apply."""
    seen: dict[tuple, int] = {}
    artifacts = _dict(data.get("artifacts"))
    for index, item in enumerate(_list(data.get("backup"))):
        job = _dict(item)
        here = ("backup", index)
        schedule = job.get("schedule")
        if (
            isinstance(schedule, str)
            and not is_opaque(schedule)
            and parse_schedule(schedule) is None
        ):
            out.add(
                (*here, "schedule"),
                f"{describe_value(schedule)} is not a time of day the backup can run at",
                "write HH:MM (every day), 'daily 22:30' or days and a time: 'mon,wed,fri 22:30' "
                "(days: mon tue wed thu fri sat sun)",
            )
        software, where = job.get("software"), job.get("where")
        if isinstance(where, str) and where and not is_opaque(where):
            if software == "cpio_tar" and (not where.startswith("/") or " " in where.strip()):
                out.add(
                    (*here, "where"),
                    f"{describe_value(where)} is not an absolute path on the Linux server",
                    "give the mount point of the backup disk or share (/mnt/backup) or the tape "
                    "device (/dev/nst0); describe the medium in a YAML comment",
                )
            if software == "windows_server_backup" and not _WINDOWS_TARGET.match(where):
                out.add(
                    (*here, "where"),
                    f"{describe_value(where)} is not a Windows Server Backup target",
                    "give a drive letter (E:) or a UNC share (\\\\nas\\backup$\\srv01)",
                )
        if "archiver" in job and software != "cpio_tar":
            out.add(
                (*here, "archiver"),
                "archiver applies to the Linux manager (cpio_tar), "
                f"not to {describe_value(software)}",
                "remove archiver, or set software: cpio_tar",
            )
        if software == "arcserve" and "arcserve_agent" not in artifacts:
            out.add(
                (*here, "software"),
                "arcserve needs the Arcserve agent installer in the contract's artifacts",
                "add artifacts.arcserve_agent: {url, version, checksum, product_id}",
            )
        key = (job.get("host"), job.get("name", "daily"))
        if all(isinstance(k, str) for k in key):
            if key in seen:
                out.add(
                    (*here, "name"),
                    f"{key[0]} already has a backup job named {describe_value(key[1])} "
                    f"(backup[{seen[key]}])",
                    "give each job of a server its own name: it labels its metrics and alerts",
                )
            seen.setdefault(key, index)


def _check_antivirus(data: dict, out: _Collector):
    """MON-AV-01: the Protection Suite needs its agent's installer; a bought one is watched."""
    antivirus = _dict(data.get("antivirus"))
    product = antivirus.get("product")
    if product == "trend_micro" and "trend_micro_agent" not in _dict(data.get("artifacts")):
        out.add(
            ("antivirus", "product"),
            "trend_micro needs the agent installer in the contract's artifacts",
            "add artifacts.trend_micro_agent: {url, version, checksum, product_id}",
        )
    options = _dict(data.get("options"))
    if product == "none" and options.get("antivirus_from_provider") is True:
        out.add(
            ("antivirus", "product"),
            "the antivirus was bought from the provider but antivirus.product is none",
            "set product: trend_micro (the Protection Suite), or correct "
            "options.antivirus_from_provider",
        )


def _check_relay_security(relay: dict, out: _Collector):
    tls, port = relay.get("tls"), relay.get("port")
    if tls == "none" and isinstance(relay.get("auth"), dict):
        out.add(
            ("smtp_relay", "auth"),
            "SMTP credentials with tls: none would cross the network in clear",
            "set tls: starttls (or tls), or remove auth if the relay trusts the servers' addresses",
        )
    if tls == "tls" and port in (25, 587):
        out.add(
            ("smtp_relay", "tls"),
            f"implicit TLS on port {port}, which speaks plain SMTP first",
            "use tls: starttls on ports 25/587, or port 465 for implicit TLS",
        )


@functools.lru_cache(maxsize=1)
def _all_timezones() -> tuple:
    try:
        return tuple(sorted(zoneinfo.available_timezones()))
    except Exception:
        return ()


def _check_date(parts, value, out):
    if isinstance(value, str) and not is_opaque(value) and not valid_date(value):
        out.add(parts, f"{describe_value(value)} is not a date", "write it as YYYY-MM-DD, quoted")


def _check_contacts(data, out):
    contacts = data.get("contacts")
    if not isinstance(contacts, list):
        return
    sides = set()
    emails: dict[str, int] = {}
    for index, item in enumerate(contacts):
        contact = _dict(item)
        if isinstance(contact.get("side"), str):
            sides.add(contact["side"])
        _check_email(("contacts", index, "email"), contact.get("email"), out)
        email = contact.get("email")
        if isinstance(email, str) and not is_opaque(email):
            if email.strip().lower() in emails:
                out.add(
                    ("contacts", index, "email"),
                    f"the same e-mail address as contacts[{emails[email.strip().lower()]}]",
                    "give each contact their own address (a shared mailbox is one contact)",
                )
            emails.setdefault(email.strip().lower(), index)
        phone = contact.get("phone")
        if isinstance(phone, str) and not is_opaque(phone) and not _PHONE.match(phone):
            out.add(
                ("contacts", index, "phone"),
                f"{describe_value(phone)} is not a telephone number",
                'write digits, spaces and an optional leading +, quoted: "+33 4 72 00 00 01"',
            )
    for side, who in (("client", "the client's manager"), ("provider", "the referent engineer")):
        if side not in sides:
            out.add(
                ("contacts",),
                f"no contact on the {side} side",
                f"add at least one contact with side: {side} (e.g. {who})",
            )


def _check_sites(data, out):
    names: dict[str, int] = {}
    networks: list[tuple[tuple, object, int]] = []
    for index, item in enumerate(_list(data.get("sites"))):
        site = _dict(item)
        name = site.get("name")
        if isinstance(name, str):
            if name in names:
                out.add(
                    ("sites", index, "name"),
                    f"site name {describe_value(name)} is already used by sites[{names[name]}]",
                    "give every site its own name",
                )
            names.setdefault(name, index)
        for number, subnet in enumerate(_list(site.get("subnets"))):
            if isinstance(subnet, str) and not is_opaque(subnet):
                parts = ("sites", index, "subnets", number)
                if _check_cidr(parts, subnet, out):
                    _check_overlap(parts, ipaddress.ip_network(subnet), index, networks, out)
        _check_address(
            ("sites", index, "vpn_peer"),
            site.get("vpn_peer"),
            out,
            ipaddress.ip_address,
            "an IP address",
            "write the VPN peer's address, like 10.10.1.254",
        )


def _check_address(parts, value, out, parse, what, hint):  # noqa: PLR0917 - one per field
    """An address written as text must parse (a vault or template value is checked later)."""
    if not isinstance(value, str) or is_opaque(value):
        return
    try:
        parse(value)
    except ValueError:
        out.add(parts, f"{describe_value(value)} is not {what}", hint)


def _check_overlap(parts, network, site, networks, out):
    """Two sites cannot hold the same addresses: the network plan and the probes would lie."""
    for other_parts, other, other_site in networks:
        if other_site != site and network.version == other.version and network.overlaps(other):
            out.add(
                parts,
                f"{network} overlaps {other} of {render_path(other_parts)[len(ROOT) + 1 :]}",
                "each site has its own subnets; correct the prefix or the site of one of them",
            )
            break
    networks.append((parts, network, site))


def _check_cidr(parts, subnet, out) -> bool:
    try:
        ipaddress.ip_network(subnet, strict=True)
        return True
    except ValueError:
        pass
    try:
        fixed = ipaddress.ip_network(subnet, strict=False)
        hint = f"host bits are set; did you mean '{fixed}'?"
    except ValueError:
        hint = "write a network in CIDR notation, like 10.10.1.0/24"
    out.add(parts, f"{describe_value(subnet)} is not a valid subnet", hint)
    return False


def _check_services(data, out):
    for message, hint in service_problems(data):
        out.add(("services",), message, hint)


def service_problems(data):
    """PRE-09: [(message, hint)] where the subscribed services do not match what was bought."""
    found = []
    services = _dict(data).get("services")
    if not isinstance(services, list):
        return found
    listed = {s for s in services if isinstance(s, str)}
    for name in ALWAYS_REQUIRED_SERVICES:
        if name not in listed:
            found.append(
                (
                    f"PRE-09: the '{name}' service is missing",
                    "windows_server, database and backup are required for every client",
                )
            )
    options = data.get("options")
    if not isinstance(options, dict):
        return found
    antivirus = options.get("antivirus_from_provider")
    if antivirus is True and "protection_suite" not in listed:
        found.append(
            (
                "PRE-09: the antivirus was bought from the provider "
                "(options.antivirus_from_provider: true) but 'protection_suite' is not subscribed",
                "add protection_suite to services",
            )
        )
    elif antivirus is False and "protection_suite" in listed:
        found.append(
            (
                "PRE-09: 'protection_suite' is subscribed "
                "but options.antivirus_from_provider is false",
                "set antivirus_from_provider: true if the antivirus was bought from the provider, "
                "otherwise remove protection_suite",
            )
        )
    box = options.get("security_box")
    if box in ("basic", "premium"):
        wanted, other = (
            f"security_{box}",
            "security_premium" if box == "basic" else "security_basic",
        )
        if wanted not in listed:
            found.append(
                (
                    f"PRE-09: the security box is '{box}' (options.security_box) "
                    f"but '{wanted}' is not subscribed",
                    f"add {wanted} to services",
                )
            )
        if other in listed:
            found.append(
                (
                    f"PRE-09: '{other}' does not match the '{box}' security box",
                    f"replace {other} with {wanted}, or correct options.security_box",
                )
            )
    return found


@functools.lru_cache(maxsize=1)
def _threshold_table():
    return load_thresholds()


def _check_thresholds(data, out):
    """The overrides are judged by the thresholds table itself: one set of rules for both."""
    thresholds = data.get("thresholds")
    if not isinstance(thresholds, dict) or not thresholds:
        return
    try:
        table = _threshold_table()
    except ValueError as exc:
        out.add(("thresholds",), str(exc), "restore data/thresholds.yml from the repository")
        return
    for problem in merge_overrides(table, thresholds)[1]:
        out.add(problem.parts or ("thresholds",), problem.message, problem.hint)


# ---------------------------------------------------------------- public API


# The contract's secrets: a name for the plays that need one, and where it is written ("*":
# every item of a list; the value is then the list of the items' secrets, None where an item
# has none). The validated contract masks each; playbooks/validate_contract.yml keeps their
# values apart, as no_log facts, for the one task that uses each (SEC-01).
SECRET_FIELDS = {
    "smtp_relay_password": ("smtp_relay", "auth", "password"),
    "remote_write_passwords": ("monitoring", "remote_write", "*", "basic_auth", "password"),
    "exporter_password": ("monitoring", "exporter_auth", "password"),
    "web_password": ("monitoring", "web_auth", "password"),
}
# Personal data of people (SEC-02): masked in the validated contract, which plays print at
# -v; the technical document and the visit sheet read them with contract_contacts().
CONTACT_FIELDS = ("name", "email", "phone")
PERSON_FIELDS = (("attestations", "server_room_phone", "declared_by"),)
# Connection passwords an inventory may hold (WinRM above all); like the contract's secrets,
# each must be a vault value or a template naming one, never clear text.
CONNECTION_SECRETS = (
    "ansible_password",
    "ansible_pass",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_winrm_password",
    "ansible_become_password",
    "ansible_become_pass",
)


def _at(data, parts):
    """data[parts...], where an integer part indexes a list; None when absent."""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            data = data[part] if isinstance(data, list) and 0 <= part < len(data) else None
        else:
            data = _dict(data).get(part)
    return data


def secret_paths(data):
    """[(name, index or None, concrete path)] of every secret field present in `data`."""
    found = []
    for name, pattern in SECRET_FIELDS.items():
        if "*" not in pattern:
            holder = _at(data, pattern[:-1])
            if isinstance(holder, Mapping) and pattern[-1] in holder:
                found.append((name, None, pattern))
            continue
        star = pattern.index("*")
        for index, item in enumerate(_list(_at(data, pattern[:star]))):
            holder = _at(item, pattern[star + 1 : -1])
            if isinstance(holder, Mapping) and pattern[-1] in holder:
                found.append((name, index, (*pattern[:star], index, *pattern[star + 1 :])))
    return found


def contract_secrets(data) -> dict:
    """{name: value} of every secret the contract holds (see SECRET_FIELDS)."""
    out: dict = {}
    for name, pattern in SECRET_FIELDS.items():
        if "*" in pattern:
            star = pattern.index("*")
            items = _list(_at(data, pattern[:star]))
            values = [_at(item, pattern[star + 1 :]) for item in items]
            if any(v not in (None, "") for v in values):
                out[name] = values
            continue
        value = _at(data, pattern)
        if value not in (None, ""):
            out[name] = value
    return out


def secret_values(data) -> list[str]:
    """The secrets found in raw contract data, to scrub from any output."""
    found = [_at(data, parts) for _name, _index, parts in secret_paths(data)]
    # A password written where the auth mapping belongs is a secret too.
    found.append(_at(data, ("smtp_relay", "auth")))
    return [s for s in found if isinstance(s, str) and len(s) >= 4 and not is_opaque(s)]


def is_secret_path(parts) -> bool:
    """Whether `parts` (a concrete path, list items as integers) is a SECRET_FIELDS field."""
    for pattern in SECRET_FIELDS.values():
        if len(pattern) == len(parts) and all(
            want == got or (want == "*" and isinstance(got, int))
            for want, got in zip(pattern, parts, strict=True)
        ):
            return True
    return False


def clear_secret_problem(parts) -> Problem:
    """A secret written in clear text in the contract (SEC-01), at its path."""
    return Problem(
        render_path(parts),
        "a secret written in clear text in the contract",
        "put it in the inventory's vault file (ansible-vault encrypt group_vars/all/vault.yml) "
        'and refer to it: password: "{{ vault_... }}", or write an inline !vault value',
        (0, 99),
    )


def clear_secrets(data) -> list[tuple]:
    """Paths of secret fields holding clear text (not a !vault value, not a template)."""
    return [
        parts
        for _name, _index, parts in secret_paths(data)
        if isinstance(_at(data, parts), str) and not is_opaque(_at(data, parts))
    ]


def contract_contacts(data) -> list[dict]:
    """The contacts, unmasked, for the technical document and the visit sheet only (SEC-02).

    `data` is the contract as written (the `preventcare` variable read by an action plugin,
    or load_contract_file()), never the validated contract, whose contacts are masked.
    """
    state = {"nodes": 0, "active": set(), "too_big": False}
    plain = _plain(_dict(data).get("contacts"), ("contacts",), _Collector(), state)
    return [c for c in _list(plain) if isinstance(c, dict)]


def contacts_from_vars(task_vars, template) -> list[dict] | None:
    """The contacts as the contract writes them, for an action plugin that writes one of the
    two documents allowed to show them (SEC-02): read from the `preventcare` variable on the
    controller (the validated contract masks them), templated with `template` (the plugin's
    templar), so they never pass through a printed variable. None when absent or unreadable.
    """
    from ansible.errors import AnsibleError  # noqa: PLC0415 - action plugins only

    raw = task_vars.get("preventcare")
    if not isinstance(raw, Mapping) or not isinstance(raw.get("contacts"), list):
        return None
    try:
        return contract_contacts({"contacts": template(raw["contacts"])})
    except AnsibleError:
        return None


def mask_people(result: dict) -> dict:
    """`result` (a plain contract) with every contact's name, e-mail and phone masked."""
    for contact in _list(result.get("contacts")):
        for key in CONTACT_FIELDS:
            if isinstance(contact, dict) and key in contact:
                contact[key] = MASK
    for *parents, key in PERSON_FIELDS:
        holder = _at(result, parents)
        if isinstance(holder, dict) and key in holder:
            holder[key] = MASK
    return result


def scrub(problems, secrets) -> list[Problem]:
    """The problems with every form of every secret masked in their text."""
    forms = secret_forms(secrets)
    return [Problem(*scrub_value([p.path, p.message, p.hint], forms), p.sort_key) for p in problems]


def validate_contract(
    data,
    inventory_hosts=None,
    skip_paths=(),
    base_dir=None,
    *,
    inventory=None,
    literal_secrets=None,
) -> list[Problem]:
    """Every problem of the contract `data`; [] when valid. Never raises.

    inventory_hosts: host names of the inventory (None skips the host checks; defaults to
    the hosts of `inventory`).
    skip_paths: path tuples already reported by the caller (e.g. unresolved templates).
    base_dir: the inventory folder, against which files named by the contract are found
    (None skips the file checks).
    inventory: what preventcare_contract_file.read_inventory() saw in the inventory files
    (addresses, sites and connection passwords of each host), judged by inventory_problems.
    literal_secrets: paths of secret fields that were clear text before templating, from a
    caller that hands `data` already templated (the action plugin); None: `data` is as
    written, and its secret fields are judged themselves.
    """
    out = _Collector()
    out.silenced.update(tuple(p) for p in skip_paths)
    extra: list[Problem] = []
    try:
        if inventory_hosts is None and isinstance(inventory, Mapping):
            inventory_hosts = list(_dict(inventory.get("hosts")))
        _validate(data, inventory_hosts, out)
        if base_dir is not None and isinstance(data, Mapping):
            _check_files(data, base_dir, out)
        clear = clear_secrets(data) if literal_secrets is None else list(literal_secrets)
        extra += [clear_secret_problem(tuple(parts)) for parts in clear]
        if isinstance(inventory, Mapping):
            extra += inventory_problems(inventory, data)
    except Exception as exc:  # last resort: the property tests prove this is never reached
        out.add(
            (),
            f"internal error while checking the contract ({type(exc).__name__})",
            "please report it to the PreventCare maintainers",
        )
    try:
        secrets = secret_values(data)
    except Exception:
        secrets = []
    return scrub([*out.sorted(), *extra], secrets)


def _is_clear(value) -> bool:
    return isinstance(value, str) and bool(value) and not is_opaque(value)


def inventory_problems(inventory, data) -> list[Problem]:
    """What the inventory says about the contract's hosts (see read_inventory for its shape):
    one address per host, a contract site for each, no connection password in clear text."""
    sites = {s.get("name") for s in _list(_dict(data).get("sites")) if isinstance(s, dict)}
    problems = []
    for name, record in _dict(inventory.get("hosts")).items():
        host = _dict(record)
        shown = describe_value(name)
        if isinstance(name, str) and control_characters(name):
            problems.append(
                Problem(
                    f"inventory host {shown}",
                    "the host name contains a control character",
                    "write the host name on one line, without | or >",
                )
            )
        addresses = {}
        for where, address in host.get("addresses", ()):
            addresses.setdefault(str(address), where)
        if len(addresses) > 1:
            listed = ", ".join(f"{a} ({w})" for a, w in addresses.items())
            problems.append(
                Problem(
                    f"inventory host {shown}",
                    f"defined more than once with different addresses: {listed}",
                    "Ansible would keep only one of them silently; give the host one "
                    "ansible_host, or give each machine its own name",
                )
            )
        site = host.get("site")
        if isinstance(site, str) and not is_opaque(site) and sites and site not in sites:
            problems.append(
                Problem(
                    f"inventory host {shown}: preventcare_site",
                    f"{describe_value(site)} is not a site of the contract",
                    _choices_hint(site, sorted(s for s in sites if isinstance(s, str)), "sites"),
                )
            )
    for where, variable, value in inventory.get("secrets", ()):
        if _is_clear(value):
            problems.append(
                Problem(
                    f"{where}: {variable}",
                    "a connection password (WinRM, SSH or become) written in clear text",
                    f"put it in an encrypted vault file and refer to it: {variable}: "
                    '"{{ vault_preventcare_winrm_password }}", or write an inline !vault value',
                )
            )
    return problems


def validate_document(data, schema: dict, root: str, example: str, semantics=None):
    """Every problem of another PreventCare document checked like the contract; [] when valid.

    schema: a JSON Schema (2020-12) such as schemas/provider.schema.json; root: the document's
    top-level variable, shown at the start of every path; example: the file a user can copy.
    semantics(plain, add) adds cross-field problems, add(parts, message, hint) reporting each.
    Never raises; the same explanations, hints and guards as the contract's.
    """
    out = _Collector(root, example, schema)
    try:
        state = {"nodes": 0, "active": set(), "too_big": False}
        plain = _plain(data, (), out, state)
        if state["too_big"]:
            out.add((), f"the document is far too large (more than {MAX_NODES} values)")
        elif not isinstance(plain, dict):
            out.add((), f"expected a mapping, got {value_summary(plain)}", f"see {example}")
        else:
            _schema_problems(plain, out, jsonschema.Draft202012Validator(schema))
            if semantics is not None:
                semantics(plain, out.add)
    except Exception as exc:  # same last resort as validate_contract
        out.add((), f"internal error while checking {root} ({type(exc).__name__})")
    return out.sorted()


def _validate(data, inventory_hosts, out: _Collector):
    if data is None:
        out.add(
            (),
            "the contract is empty",
            f"'preventcare:' must hold the client's contract; see {EXAMPLE_FILE}",
        )
        return
    state = {"nodes": 0, "active": set(), "too_big": False}
    plain = _plain(data, (), out, state)
    if state["too_big"]:
        out.add((), f"the contract is far too large (more than {MAX_NODES} values)")
        return
    if not isinstance(plain, dict):
        out.add(
            (),
            f"expected a mapping, got {value_summary(plain)}",
            "'preventcare:' must hold the client's contract as key: value pairs; "
            f"see {EXAMPLE_FILE}",
        )
        return
    hosts = _host_list(inventory_hosts)
    try:
        _validator()
    except Exception as exc:
        out.add((), f"cannot read the contract schema {SCHEMA_FILE} ({type(exc).__name__})")
        return
    _schema_problems(plain, out)
    _check_semantics(plain, hosts, out)


def contract_file(value, base_dir):
    """A file the contract names: absolute, or relative to the inventory folder."""
    path = os.path.expanduser(str(value))
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(str(base_dir), path))


def _check_files(data, base_dir, out):
    """Files named by the contract exist on the controller and hold what they should."""
    ca_path = _dict(_dict(data).get("smtp_relay")).get("ca_path")
    if not isinstance(ca_path, str) or not ca_path or is_opaque(ca_path):
        return
    path = contract_file(ca_path, base_dir)
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read(1_000_000)
    except OSError as exc:
        out.add(
            ("smtp_relay", "ca_path"),
            f"cannot read the CA file {path} ({exc.strerror or exc})",
            "give the PEM file of the CA that signed the relay's certificate, relative to "
            "the inventory folder (e.g. files/relay-ca.pem) or absolute",
        )
        return
    if "-----BEGIN CERTIFICATE-----" not in text:
        out.add(
            ("smtp_relay", "ca_path"),
            f"{path} holds no PEM certificate",
            "export the CA certificate in PEM (Base64, -----BEGIN CERTIFICATE-----)",
        )


def _host_list(hosts):
    if hosts is None:
        return None
    if isinstance(hosts, str):
        return [hosts]
    try:
        return [str.__str__(h) for h in hosts if isinstance(h, str)]
    except TypeError:
        return None


def normalise_contract(data, base_dir=None) -> dict:
    """A plain copy of a valid contract with defaults applied and every secret masked.

    With base_dir (the inventory folder), the files the contract names become absolute paths.
    """
    state = {"nodes": 0, "active": set(), "too_big": False}
    result = _plain(data, (), _Collector(), state)
    if not isinstance(result, dict):
        return {}
    result.setdefault("language", "fr")
    result.setdefault("timezone", "Europe/Paris")
    result.setdefault("thresholds", {})
    result.setdefault("backup", [])
    result.setdefault("attestations", {})
    relay = result.get("smtp_relay")
    if isinstance(relay, dict):
        relay.setdefault("validate_certs", True)
        if base_dir is not None and isinstance(relay.get("ca_path"), str):
            relay["ca_path"] = contract_file(relay["ca_path"], base_dir)
    for _name, _index, (*parents, key) in secret_paths(result):
        holder = _at(result, parents)
        if isinstance(holder, dict) and key in holder:
            holder[key] = MASK
    return mask_people(result)
