"""Reading a contract file: YAML with Ansible's tags, every reading problem with its place.

The one loader every tool uses (bin/preventcare-contract, bin/preventcare-rules, the
contract-guard vars plugin): duplicate keys, control characters, malformed YAML and a
file encrypted whole are each a Problem naming the file, line and column; `!vault` and
`!unsafe` values stay opaque. Validation of what is read is preventcare_contract's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import yaml
from ansible.module_utils.preventcare_contract import (
    CONNECTION_SECRETS,
    EXAMPLE_FILE,
    MAX_DEPTH,
    ROOT,
    VAULT_HINT,
    UnsafeText,
    VaultText,
    value_summary,
)
from ansible.module_utils.preventcare_problems import Problem, closest


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
            Problem(
                source,
                "the file is empty (it holds no variables, only comments or blank lines)",
                f"it must define 'preventcare:'; {example}",
            )
        ]
    if not isinstance(document, Mapping):
        return None, [
            Problem(
                source,
                f"the file holds {value_summary(document)} instead of variables",
                f"it must start with 'preventcare:'; {example}",
            )
        ]
    if ROOT not in document:
        names = [k for k in document if isinstance(k, str)]
        close = closest(ROOT, names)
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


# ---------------------------------------------------------------- the inventory around it

_YAML_SUFFIXES = (".yml", ".yaml", ".json", "")
VAULT_HEADER = "$ANSIBLE_VAULT;"


def _vars_files(folder, kind, name):
    """group_vars/<name>(.yml|.yaml|.json) and every file under group_vars/<name>/."""
    base = os.path.join(folder, kind)
    found = [os.path.join(base, name + suffix) for suffix in _YAML_SUFFIXES]
    found = [f for f in found if os.path.isfile(f)]
    directory = os.path.join(base, name)
    if os.path.isdir(directory):
        for root, _dirs, files in sorted(os.walk(directory)):
            found += [os.path.join(root, f) for f in sorted(files)]
    return found


def _file_vars(path):
    """The variables of a group_vars/host_vars file; {} when unreadable or encrypted."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            text = handle.read(2_000_000)
    except OSError:
        return {}
    if text.lstrip().startswith(VAULT_HEADER):
        return {}
    document, _problems = parse_yaml_text(text, path)
    return document if isinstance(document, Mapping) else {}


def inventory_files(sources) -> list[str]:
    """The YAML inventory files among Ansible's inventory sources (folders or files)."""
    files = []
    for given in sources or ():
        source = os.fspath(given)
        if os.path.isdir(source):
            for name in sorted(os.listdir(source)):
                path = os.path.join(source, name)
                if os.path.isfile(path) and name.endswith((".yml", ".yaml")):
                    files.append(path)
        elif os.path.isfile(source) and source.endswith((".yml", ".yaml")):
            files.append(source)
    return files


def read_inventory(sources, expand=None) -> dict:
    """What the YAML inventory files say about each host, before Ansible merges it.

    {"hosts": {name: {"addresses": [(where, ansible_host)], "site": preventcare_site}},
     "secrets": [(where, variable, value)]} - a host defined in two groups keeps both
    addresses (Ansible would keep one silently); secrets are the connection passwords
    (CONNECTION_SECRETS) of hosts.yml, group_vars and host_vars, as written.
    """
    reader = _InventoryReader(expand)
    folders = []
    for path in inventory_files(sources):
        document, problems = read_yaml_file(path)
        if problems or not isinstance(document, Mapping) or "plugin" in document:
            continue  # unreadable (reported by Ansible) or an inventory plugin's config
        folders.append(os.path.dirname(os.path.abspath(path)))
        for group_name, group in document.items():
            if isinstance(group_name, str):
                reader.walk(group_name, group, (), os.path.basename(path), 0)
    for folder in dict.fromkeys(folders):
        reader.read_vars_files(folder)
    reader.resolve_sites()
    return {"hosts": reader.hosts, "secrets": reader.secrets}


class _InventoryReader:
    """Walks a YAML inventory's groups, then its group_vars/ and host_vars/ files."""

    def __init__(self, expand):
        self.expand = expand
        self.hosts: dict[str, dict] = {}
        self.secrets: list[tuple] = []
        self.group_vars: dict[str, dict] = {}
        self.membership: dict[str, list[str]] = {}

    def note_secrets(self, where, variables):
        for name in CONNECTION_SECRETS:
            if isinstance(variables, Mapping) and name in variables:
                self.secrets.append((where, name, variables[name]))

    def walk(self, group_name, group, lineage, where, depth):
        if not isinstance(group, Mapping) or depth > MAX_DEPTH:
            return
        variables = group.get("vars")
        if isinstance(variables, Mapping):
            self.group_vars.setdefault(group_name, dict(variables))
            self.note_secrets(f"{where}: {group_name}.vars", variables)
        entries = group.get("hosts")
        for pattern, host_vars in entries.items() if isinstance(entries, Mapping) else ():
            if isinstance(pattern, str):
                for name in self.expand(pattern) if self.expand else [pattern]:
                    self.add_host(name, host_vars, (*lineage, group_name), where)
        children = group.get("children")
        for child, body in children.items() if isinstance(children, Mapping) else ():
            if isinstance(child, str):
                self.walk(child, body, (*lineage, group_name), where, depth + 1)

    def add_host(self, name, host_vars, groups, where):
        record = self.hosts.setdefault(name, {"addresses": [], "site": None})
        member = self.membership.setdefault(name, [])
        member += [g for g in groups if g not in member]
        if not isinstance(host_vars, Mapping):
            return
        here = f"{where}: {groups[-1]}.hosts.{name}"
        if "ansible_host" in host_vars:
            record["addresses"].append((here, host_vars["ansible_host"]))
        if record["site"] is None and "preventcare_site" in host_vars:
            record["site"] = host_vars["preventcare_site"]
        self.note_secrets(here, host_vars)

    def read_vars_files(self, folder):
        groups = {g for member in self.membership.values() for g in member}
        for group in ["all", *sorted(self.group_vars.keys() | groups)]:
            for path in _vars_files(folder, "group_vars", group):
                variables = _file_vars(path)
                known = self.group_vars.setdefault(group, {})
                known.update({k: v for k, v in variables.items() if k not in known})
                self.note_secrets(os.path.relpath(path, folder), variables)
        for name, record in self.hosts.items():
            for path in _vars_files(folder, "host_vars", name):
                variables = _file_vars(path)
                self.note_secrets(os.path.relpath(path, folder), variables)
                if "preventcare_site" in variables:
                    record["site"] = variables["preventcare_site"]

    def resolve_sites(self):
        """A host without its own preventcare_site takes its nearest group's."""
        for name, record in self.hosts.items():
            if record["site"] is not None:
                continue
            for group in [*reversed(self.membership.get(name, [])), "all"]:
                if "preventcare_site" in self.group_vars.get(group, {}):
                    record["site"] = self.group_vars[group]["preventcare_site"]
                    break


def encrypted_vars_files(folder) -> list[str]:
    """Files of group_vars/ and host_vars/ under `folder` encrypted whole with ansible-vault."""
    found = []
    for kind in ("group_vars", "host_vars"):
        base = os.path.join(folder, kind)
        for root, _dirs, files in sorted(os.walk(base)):
            for name in sorted(files):
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as handle:
                        head = handle.read(64)
                except OSError:
                    continue
                if head.lstrip().startswith(VAULT_HEADER.encode()):
                    found.append(path)
    return found


def vault_password_problems(folder, has_vault_secrets: bool) -> list[Problem]:
    """An encrypted vars file with no vault password given: name it, say how to give one."""
    if has_vault_secrets:
        return []
    return [
        Problem(
            path,
            "this file is encrypted with ansible-vault and no vault password was given",
            VAULT_HINT,
        )
        for path in encrypted_vars_files(folder)
    ]
