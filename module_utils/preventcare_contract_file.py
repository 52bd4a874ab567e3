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
    EXAMPLE_FILE,
    MAX_DEPTH,
    ROOT,
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
            Problem(source, "the file is empty", f"it must define 'preventcare:'; {example}")
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
