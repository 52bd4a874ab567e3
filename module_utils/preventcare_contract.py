"""Validate the PreventCare client contract (the `preventcare` variable).

Controller-side only (action plugin, CLI, tests): it needs jsonschema and PyYAML,
which managed hosts do not have. Every public function returns problems instead of
raising, whatever the input, so that a user never sees a traceback.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import functools
import ipaddress
import json
import os
import re
import zoneinfo
from collections.abc import Mapping

import jsonschema
import yaml
from ansible.module_utils.preventcare_thresholds import load_thresholds, merge_overrides

SCHEMA_VERSION = 1
ROOT = "preventcare"
MASK = "********"
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
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$"
)
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ./()-]{3,30}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIMEZONE_NAME = re.compile(r"^[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*$")


class VaultText(str):
    """Ciphertext of an inline `!vault` value: opaque, never decrypted here."""


class UnsafeText(str):
    """An `!unsafe` value: literal text that Ansible never templates."""


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the contract, phrased for the person who edits it."""

    path: str
    message: str
    hint: str = ""
    sort_key: tuple = dataclasses.field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "hint": self.hint}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" — {self.hint}" if self.hint else "")


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


def _got(value, secret: bool = False) -> str:
    name = type_name(value)
    if value is None or isinstance(value, (Mapping, list, tuple)) or secret:
        return name
    if isinstance(value, (bool, int, float, str)):
        return f"{name} {describe_value(value)}"
    return name


def _close(word, candidates) -> str | None:
    if not isinstance(word, str):
        return None
    lowered = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _choices_hint(word, candidates, what: str = "allowed values") -> str:
    close = _close(word, candidates)
    if close is not None:
        return f"did you mean '{close}'?"
    shown = sorted(candidates) if len(candidates) > 12 else list(candidates)
    more = "" if len(shown) <= 12 else f", … ({len(shown)} in all)"
    return f"{what}: {', '.join(shown[:12])}{more}"


def format_problems(problems, source: str) -> str:
    """One readable block that lists every problem (path: message — hint)."""
    problems = list(problems)
    if not problems:
        return f"contract OK ({source})"
    count = len(problems)
    lines = [f"The PreventCare contract in {source} has {count} problem{'s' if count > 1 else ''}:"]
    lines += [f"  - {problem}" for problem in problems]
    lines.append(
        "Fix every line above, then check again with: bin/preventcare-contract <inventory dir> "
        "(no host is touched until the contract is valid)."
    )
    return "\n".join(lines)


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
    with open(SCHEMA_FILE, encoding="utf-8") as handle:
        return json.load(handle)


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
    f.out.add(f.parts, f"expected {expected}, got {_got(f.value, f.secret)}", hint)


def _explain_required(f: _Failure):
    properties = f.schema.get("properties", {})
    present = list(f.value) if isinstance(f.value, Mapping) else []
    unknown = [k for k in present if k not in properties]
    for name in f.error.validator_value:
        if name in present:
            continue
        what = properties.get(name, {}).get("description", "")
        message = f"missing required key '{name}'" + (f": {what}" if what else "")
        typo = _close(name, unknown)
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
            f"expected one of {', '.join(choices)}, got {_got(f.value, f.secret)}",
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


def _check_semantics(data: dict, hosts, out: _Collector):
    timezone = data.get("timezone")
    if isinstance(timezone, str) and not is_opaque(timezone) and not valid_timezone(timezone):
        close = _close(timezone, _all_timezones())
        out.add(
            ("timezone",),
            f"unknown time zone {describe_value(timezone)}",
            f"did you mean '{close}'?" if close else "use an IANA name such as Europe/Paris",
        )
    _check_contacts(data, out)
    _check_sites(data, out)
    public_ip = data.get("public_ip")
    if isinstance(public_ip, str) and not is_opaque(public_ip):
        try:
            ipaddress.IPv4Address(public_ip)
        except ValueError:
            out.add(
                ("public_ip",),
                f"{describe_value(public_ip)} is not an IPv4 address",
                "write the fixed public IPv4 address, like 203.0.113.10",
            )
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
    _check_thresholds(data, out)
    phone = _dict(_dict(data.get("attestations")).get("server_room_phone"))
    _check_date(("attestations", "server_room_phone", "date"), phone.get("date"), out)
    _check_date(("homologation", "date"), _dict(data.get("homologation")).get("date"), out)


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
    for index, item in enumerate(contacts):
        contact = _dict(item)
        if isinstance(contact.get("side"), str):
            sides.add(contact["side"])
        _check_email(("contacts", index, "email"), contact.get("email"), out)
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
                _check_cidr(("sites", index, "subnets", number), subnet, out)
        peer = site.get("vpn_peer")
        if isinstance(peer, str) and not is_opaque(peer):
            try:
                ipaddress.ip_address(peer)
            except ValueError:
                out.add(
                    ("sites", index, "vpn_peer"),
                    f"{describe_value(peer)} is not an IP address",
                    "write the VPN peer's address, like 10.10.1.254",
                )


def _check_cidr(parts, subnet, out):
    try:
        ipaddress.ip_network(subnet, strict=True)
        return
    except ValueError:
        pass
    try:
        fixed = ipaddress.ip_network(subnet, strict=False)
        hint = f"host bits are set; did you mean '{fixed}'?"
    except ValueError:
        hint = "write a network in CIDR notation, like 10.10.1.0/24"
    out.add(parts, f"{describe_value(subnet)} is not a valid subnet", hint)


def _check_services(data, out):
    """PRE-09: the subscribed services must match what the client bought."""
    services = data.get("services")
    if not isinstance(services, list):
        return
    listed = {s for s in services if isinstance(s, str)}
    where = ("services",)
    for name in ALWAYS_REQUIRED_SERVICES:
        if name not in listed:
            out.add(
                where,
                f"PRE-09: the '{name}' service is missing",
                "windows_server, database and backup are required for every client",
            )
    options = data.get("options")
    if not isinstance(options, dict):
        return
    antivirus = options.get("antivirus_from_provider")
    if antivirus is True and "protection_suite" not in listed:
        out.add(
            where,
            "PRE-09: the antivirus was bought from the provider "
            "(options.antivirus_from_provider: true) but 'protection_suite' is not subscribed",
            "add protection_suite to services",
        )
    elif antivirus is False and "protection_suite" in listed:
        out.add(
            where,
            "PRE-09: 'protection_suite' is subscribed but options.antivirus_from_provider is false",
            "set antivirus_from_provider: true if the antivirus was bought from the provider, "
            "otherwise remove protection_suite",
        )
    box = options.get("security_box")
    if box in ("basic", "premium"):
        wanted, other = (
            f"security_{box}",
            "security_premium" if box == "basic" else "security_basic",
        )
        if wanted not in listed:
            out.add(
                where,
                f"PRE-09: the security box is '{box}' (options.security_box) "
                f"but '{wanted}' is not subscribed",
                f"add {wanted} to services",
            )
        if other in listed:
            out.add(
                where,
                f"PRE-09: '{other}' does not match the '{box}' security box",
                f"replace {other} with {wanted}, or correct options.security_box",
            )


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
    prefix = "preventcare.thresholds."
    for problem in merge_overrides(table, thresholds)[1]:
        # "preventcare.thresholds.MON-SYS-05.value" -> ("thresholds", "MON-SYS-05", "value");
        # keys may hold dots, so match them rather than split.
        rest = problem["path"][len(prefix) :]
        parts = ("thresholds",)
        for key in thresholds:
            if rest == str(key) or rest.startswith(f"{key}."):
                field = rest[len(str(key)) + 1 :]
                parts = ("thresholds", key, *((field,) if field else ()))
                break
        out.add(parts, problem["message"], problem["hint"])


# ---------------------------------------------------------------- public API


def secret_values(data) -> list[str]:
    """The SMTP password(s) found in raw contract data, to scrub from any output."""
    auth = _dict(_dict(_dict(data).get("smtp_relay")).get("auth"))
    found = [auth.get("password")]
    if isinstance(_dict(data).get("smtp_relay"), dict):
        found.append(data["smtp_relay"].get("auth"))
    return [s for s in found if isinstance(s, str) and len(s) >= 4 and not is_opaque(s)]


def scrub(problems, secrets) -> list[Problem]:
    """Replace every secret value in the problems' text by the mask."""
    secrets = sorted({s for s in secrets if isinstance(s, str) and len(s) >= 4}, key=len)[::-1]
    if not secrets:
        return list(problems)
    cleaned = []
    for problem in problems:
        fields = [problem.path, problem.message, problem.hint]
        for secret in secrets:
            fields = [f.replace(secret, MASK) for f in fields]
        cleaned.append(Problem(*fields, problem.sort_key))
    return cleaned


def validate_contract(data, inventory_hosts=None, skip_paths=()) -> list[Problem]:
    """Every problem of the contract `data`; [] when valid. Never raises.

    inventory_hosts: host names of the inventory (None skips the host checks).
    skip_paths: path tuples already reported by the caller (e.g. unresolved templates).
    """
    out = _Collector()
    out.silenced.update(tuple(p) for p in skip_paths)
    try:
        _validate(data, inventory_hosts, out)
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
    return scrub(out.sorted(), secrets)


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
            out.add((), f"expected a mapping, got {_got(plain)}", f"see {example}")
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
            f"expected a mapping, got {_got(plain)}",
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


def _host_list(hosts):
    if hosts is None:
        return None
    if isinstance(hosts, str):
        return [hosts]
    try:
        return [str.__str__(h) for h in hosts if isinstance(h, str)]
    except TypeError:
        return None


def normalise_contract(data) -> dict:
    """A plain copy of a valid contract with defaults applied and the password masked."""
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
        auth = relay.get("auth")
        if isinstance(auth, dict) and "password" in auth:
            auth["password"] = MASK
    return result


# ---------------------------------------------------------------- YAML files


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps Ansible's tags opaque and reports duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                ident = (key_node.tag, key_node.value)
                if ident in seen:
                    mark = key_node.start_mark
                    self.duplicates.append((key_node.value, mark.line + 1, mark.column + 1))
                seen.add(ident)
        return super().construct_mapping(node, deep=deep)


def _construct_checked(base):
    def construct(loader, node):
        try:
            return base(loader, node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid value {node.value[:40]!r}: {exc}", node.start_mark
            ) from None

    return construct


def _construct_vault(loader, node):
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, "!vault must tag an encrypted string", node.start_mark
        )
    return VaultText(loader.construct_scalar(node))


def _construct_unsafe(loader, node):
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return UnsafeText(loader.construct_scalar(node))


_Loader.add_constructor("!vault", _construct_vault)
_Loader.add_constructor("!unsafe", _construct_unsafe)
for _tag, _base in (
    ("tag:yaml.org,2002:int", yaml.SafeLoader.construct_yaml_int),
    ("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_timestamp),
):
    _Loader.add_constructor(_tag, _construct_checked(_base))


def parse_yaml_text(text: str, source: str):
    """(document, problems); the document is None when it cannot be read."""
    if text.lstrip().startswith("$ANSIBLE_VAULT;"):
        return None, [
            Problem(
                source,
                "the whole file is encrypted with ansible-vault",
                "keep the contract in clear text and put only secrets in vault.yml "
                "(e.g. vault_preventcare_smtp_password)",
            )
        ]
    loader = None
    try:
        loader = _Loader(text)
        document = loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        return None, [
            Problem(
                f"{source}, line {line}",
                f"character {_codepoint(exc.character)} is not allowed in YAML",
                "remove that control character (copy-paste from a PDF or a mail?)",
            )
        ]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        detail = exc.problem or "syntax error"
        if exc.context:
            detail += f" ({exc.context})"
        return None, [
            Problem(
                where,
                f"malformed YAML: {detail}",
                "check the indentation and the quoting around that line "
                "(quote values that contain ': ', '#', '{' or start with '*', '&', '!')",
            )
        ]
    except yaml.YAMLError as exc:
        return None, [Problem(source, f"malformed YAML: {exc}", "check the file's syntax")]
    except RecursionError:
        return None, [Problem(source, "malformed YAML: nested too deeply")]
    finally:
        if loader is not None:
            loader.dispose()
    problems = [
        Problem(
            f"{source}, line {line}, column {column}",
            f"key {key[:40]!r} is defined twice in the same mapping",
            "YAML would silently keep only the last one; remove or rename one of them",
        )
        for key, line, column in loader.duplicates
    ]
    return document, problems


def _codepoint(character) -> str:
    return f"U+{character:04X}" if isinstance(character, int) else repr(character)


def read_yaml_file(path):
    """(document, problems) for any YAML file, never raising."""
    source = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return None, [Problem(source, f"cannot read the file: {reason}", "check the path")]
    except (TypeError, ValueError) as exc:
        return None, [Problem(source, f"invalid file name ({exc})")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [
            Problem(source, f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8")
        ]
    try:
        return parse_yaml_text(text, source)
    except Exception as exc:  # PyYAML may raise other errors on pathological input
        return None, [Problem(source, f"cannot be read as YAML ({type(exc).__name__})")]


def extract_contract(document, source: str):
    """(contract, problems) from the top-level document of a vars file."""
    example = f"copy {EXAMPLE_FILE} and adapt it"
    if document is None:
        return None, [
            Problem(source, "the file is empty", f"it must define 'preventcare:'; {example}")
        ]
    if not isinstance(document, Mapping):
        return None, [
            Problem(
                source,
                f"the file holds {_got(document)} instead of variables",
                f"it must start with 'preventcare:'; {example}",
            )
        ]
    if ROOT not in document:
        names = [k for k in document if isinstance(k, str)]
        close = _close(ROOT, names)
        hint = f"is '{close}' a misspelling of it?" if close else example
        return None, [
            Problem(source, "no top-level 'preventcare' key: the contract is missing", hint)
        ]
    contract = document[ROOT]
    if contract is None:
        return None, [Problem(ROOT, "the contract is empty", f"fill in 'preventcare:'; {example}")]
    return contract, []


def load_contract_file(path):
    """(contract, problems) read from a preventcare.yml file; contract is None if unreadable."""
    source = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    document, problems = read_yaml_file(path)
    if document is None and problems:
        return None, problems
    contract, more = extract_contract(document, source)
    return contract, problems + more


def inventory_hosts(document, expand=None) -> list[str]:
    """Host names of a YAML inventory, walking every group's hosts and children.

    expand: optional function turning a host pattern such as web[01:03] into names.
    """
    names: list[str] = []
    seen_groups: set[int] = set()

    def walk(group, depth):
        if not isinstance(group, Mapping) or id(group) in seen_groups or depth > MAX_DEPTH:
            return
        seen_groups.add(id(group))
        hosts = group.get("hosts")
        for host in hosts if isinstance(hosts, Mapping) else []:
            if isinstance(host, str):
                for name in expand(host) if expand else [host]:
                    if name not in names:
                        names.append(name)
        children = group.get("children")
        for child in children.values() if isinstance(children, Mapping) else []:
            walk(child, depth + 1)

    for group in document.values() if isinstance(document, Mapping) else []:
        walk(group, 0)
    return names
