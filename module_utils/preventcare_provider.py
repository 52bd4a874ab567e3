"""The provider inventory (inventories/provider/): validation and the client model it watches.

The provider's file is checked with the contract's machinery (preventcare_contract.
validate_document) against schemas/provider.schema.json, plus the checks a schema cannot make:
e-mail addresses, durations, the console host in the inventory, and every client inventory it
names, which must exist and hold a valid contract. Controller-side only; never raises.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping

from ansible.module_utils.preventcare_contract import (
    describe_value,
    is_opaque,
    valid_email,
    validate_contract,
    validate_document,
)
from ansible.module_utils.preventcare_contract_file import (
    inventory_hosts as contract_inventory_hosts,
)
from ansible.module_utils.preventcare_contract_file import load_contract_file, read_yaml_file
from ansible.module_utils.preventcare_problems import Problem
from ansible.module_utils.preventcare_problems import format_problems as list_problems
from ansible.module_utils.preventcare_thresholds import parse_duration

ROOT = "preventcare_provider"
EXAMPLE_FILE = "inventories/provider/group_vars/all/provider.yml"
SCHEMA_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
    "schemas",
    "provider.schema.json",
)
CONTRACT = os.path.join("group_vars", "all", "preventcare.yml")
DEFAULTS = {
    "language": "fr",
    "timezone": "Europe/Paris",
    "heartbeat": {"window": "1h", "grace": "10m"},
    "escalation": {"level2_after": "1h"},
}
# Zabbix's own accounts and those the role creates (roles/supervision_console/vars/main.yml).
RESERVED_LOGINS = (
    "admin",
    "guest",
    "preventcare-level1",
    "preventcare-level2",
    "preventcare-support-desk",
)
# Zabbix's nodata() needs at least 30 s; a heartbeat window is at least that.
MIN_WINDOW = 30


@functools.lru_cache(maxsize=1)
def load_schema() -> dict:
    with open(SCHEMA_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def with_defaults(data: dict) -> dict:
    result = dict(data)
    for key, value in DEFAULTS.items():
        if isinstance(value, dict):
            result[key] = {**value, **(result.get(key) or {})}
        else:
            result.setdefault(key, value)
    return result


def _duration(add, parts, value, minimum=0):
    if not isinstance(value, str) or is_opaque(value):
        return  # a value of another type is the schema's to report
    try:
        seconds = parse_duration(value)
    except ValueError:
        add(
            parts,
            f"{describe_value(value)} is not a duration",
            "write digits and a unit, such as 10m, 1h or 1h30m",
        )
        return
    if seconds < minimum:
        add(parts, f"{describe_value(value)} is too short", f"at least {minimum} s")


def _emails(data):
    yield ("surveillance", "address"), (data.get("surveillance") or {}).get("address")
    yield ("outgoing_mail", "sender"), (data.get("outgoing_mail") or {}).get("sender")
    for team in ("level1", "level2"):
        yield ("teams", team, "email"), ((data.get("teams") or {}).get(team) or {}).get("email")
    yield ("support_desk", "email"), (data.get("support_desk") or {}).get("email")
    for team, operators in _operators(data):
        for index, operator in enumerate(operators):
            yield ("teams", team, "operators", index, "email"), operator.get("email")


def _operators(data):
    """(team, [operator mappings]) for each team of the provider."""
    teams = data.get("teams") or {}
    for team in ("level1", "level2"):
        operators = (teams.get(team) or {}).get("operators") or []
        yield (
            team,
            [o for o in operators if isinstance(o, Mapping)] if isinstance(operators, list) else [],
        )


def _check_logins(data, add):
    """An operator's login is one account of the console: unique, and not one the role owns."""
    seen = {}
    for team, operators in _operators(data):
        for index, operator in enumerate(operators):
            login = operator.get("login")
            if not isinstance(login, str):
                continue
            parts = ("teams", team, "operators", index, "login")
            if login.lower() in RESERVED_LOGINS:
                add(
                    parts,
                    f"{describe_value(login)} is an account of the console itself",
                    "choose another login",
                )
            elif login in seen:
                add(
                    parts,
                    f"{describe_value(login)} is already {seen[login]}",
                    "each technician has one login",
                )
            else:
                seen[login] = f"an operator of {team}"


def _semantics(base_dir, console_hosts, clients_out):
    def check(data, add):
        for parts, value in _emails(data):
            if isinstance(value, str) and not is_opaque(value) and not valid_email(value):
                add(
                    parts,
                    f"{describe_value(value)} is not a valid e-mail address",
                    "write it like name@example.com",
                )
        _check_logins(data, add)
        heartbeat = data.get("heartbeat") or {}
        _duration(add, ("heartbeat", "window"), heartbeat.get("window"), MIN_WINDOW)
        _duration(add, ("heartbeat", "grace"), heartbeat.get("grace"))
        _duration(
            add,
            ("escalation", "level2_after"),
            (data.get("escalation") or {}).get("level2_after"),
            60,
        )
        host = (data.get("console") or {}).get("host")
        if console_hosts is not None and isinstance(host, str) and host not in console_hosts:
            add(
                ("console", "host"),
                f"{describe_value(host)} is not a host of the inventory",
                "put the console host in inventories/provider/hosts.yml, group 'console'",
            )
        _check_clients(data, base_dir, add, clients_out)

    return check


def _check_clients(data, base_dir, add, clients_out):
    seen = {}
    address = (data.get("surveillance") or {}).get("address")
    for index, entry in enumerate(data.get("clients") or []):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("inventory"), str):
            continue
        parts = ("clients", index, "inventory")
        folder = os.path.normpath(os.path.join(base_dir, entry["inventory"]))
        contract_file = os.path.join(folder, CONTRACT)
        if not os.path.isdir(folder):
            add(
                parts,
                f"the client inventory {describe_value(entry['inventory'])} does not exist",
                f"looked for the folder {folder}; the path is relative to {base_dir}",
            )
            continue
        if not os.path.isfile(contract_file):
            add(
                parts,
                f"{describe_value(entry['inventory'])} has no contract",
                f"expected {contract_file}",
            )
            continue
        client = load_client(folder)
        for problem in client.pop("problems"):
            add(
                parts,
                f"its contract is invalid: {problem}",
                "check it with bin/preventcare-contract",
            )
        if client["id"] is None:
            continue
        if client["id"] in seen:
            add(
                parts,
                f"client {client['id']!r} is already watched (clients[{seen[client['id']]}])",
                "each client inventory appears once",
            )
            continue
        seen[client["id"]] = index
        if address and client["surveillance_mailbox"] != address:
            add(
                parts,
                f"client {client['id']!r} mails {client['surveillance_mailbox']!r}, "
                f"not the surveillance address {address!r}",
                "its contract's surveillance_mailbox must be the console's address",
            )
        clients_out.append(client)


def _groups(document) -> dict:
    """{host: set of group names} of a YAML inventory's top-level children."""
    found: dict[str, set] = {}

    def walk(name, group, depth):
        if not isinstance(group, Mapping) or depth > 8:
            return
        for host in group.get("hosts") or {}:
            if isinstance(host, str):
                found.setdefault(host, set()).add(name)
        for child, sub in (group.get("children") or {}).items():
            walk(child, sub, depth + 1)
            for names in found.values():
                if child in names:
                    names.add(name)

    for name, group in (document or {}).items() if isinstance(document, Mapping) else []:
        walk(name, group, 0)
    return found


def _host_vars(document) -> dict:
    out: dict[str, dict] = {}

    def walk(group, inherited, depth):
        if not isinstance(group, Mapping) or depth > 8:
            return
        merged = {**inherited, **(group.get("vars") or {})}
        for host, variables in (group.get("hosts") or {}).items():
            out.setdefault(host, {}).update({**merged, **(variables or {})})
        for sub in (group.get("children") or {}).values():
            walk(sub, merged, depth + 1)

    for group in (document or {}).values() if isinstance(document, Mapping) else []:
        walk(group, {}, 0)
    return out


def load_client(folder: str) -> dict:
    """What the console needs of one client inventory, with the problems found reading it."""
    contract, problems = load_contract_file(os.path.join(folder, CONTRACT))
    hosts_file = os.path.join(folder, "hosts.yml")
    document, more = read_yaml_file(hosts_file) if os.path.isfile(hosts_file) else (None, [])
    problems = list(problems) + list(more)
    hosts = contract_inventory_hosts(document) if document is not None else None
    if contract is not None:
        problems += validate_contract(contract, hosts, base_dir=folder)
    if problems or not isinstance(contract, Mapping):
        return {"id": None, "problems": problems or [Problem(folder, "unreadable contract")]}
    groups = _groups(document)
    variables = _host_vars(document)
    servers = []
    for host in hosts or []:
        platform = "windows" if "windows" in groups.get(host, ()) else "linux"
        servers.append(
            {
                "name": host,
                "platform": platform,
                "site": str(variables.get(host, {}).get("preventcare_site", "")),
                "monitor": host == contract["monitor_host"],
            }
        )
    clients_contacts = [
        c["email"]
        for c in contract.get("contacts", [])
        if c.get("side") == "client" and c.get("email")
    ]
    monitor_site = next((s["site"] for s in servers if s["monitor"]), "")
    return {
        "id": contract["client"]["id"],
        "name": contract["client"]["name"],
        "language": contract.get("language", "fr"),
        "timezone": contract.get("timezone", "Europe/Paris"),
        "surveillance_mailbox": contract.get("surveillance_mailbox"),
        "monitor": contract["monitor_host"],
        "monitor_site": monitor_site,
        "contacts": clients_contacts,
        "thresholds": contract.get("thresholds") or {},
        "servers": servers,
        "inventory": folder,
        "problems": [],
    }


def validate_provider(data, base_dir: str, console_hosts=None):
    """(problems, provider with defaults, clients) of the provider inventory's data."""
    clients: list[dict] = []
    try:
        schema = load_schema()
    except (OSError, ValueError) as exc:
        return [Problem(ROOT, f"cannot read {SCHEMA_FILE} ({type(exc).__name__})")], {}, []
    problems = validate_document(
        data, schema, ROOT, EXAMPLE_FILE, _semantics(base_dir, console_hosts, clients)
    )
    if problems:
        return problems, {}, []
    return [], with_defaults(data), clients


def format_problems(problems, source: str) -> str:
    count = len(problems)
    return list_problems(
        problems,
        f"The provider inventory {source} has {count} problem{'s' if count > 1 else ''}:",
        "Fix every line above: nothing was changed on the console.",
    )
