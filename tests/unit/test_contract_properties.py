"""Whatever YAML-shaped data it gets, the contract check answers with problems, never a crash."""

from __future__ import annotations

import copy
import datetime
import os
from pathlib import Path

import yaml
from ansible.module_utils.preventcare_contract import (
    Problem,
    UnsafeText,
    VaultText,
    format_problems,
    load_schema,
    validate_contract,
)
from ansible.module_utils.preventcare_contract_file import (
    extract_contract,
    load_contract_file,
    parse_yaml_text,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILE = ROOT / "inventories" / "example" / "group_vars" / "all" / "preventcare.yml"
HOSTS = ["srv-ad01", "srv-app01", "srv-lin01", "mon01"]
SECRET = "Hyp0thesis-S3cret-Value"
FAST = settings(
    max_examples=int(os.environ.get("PREVENTCARE_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

EXAMPLE, _ = load_contract_file(EXAMPLE_FILE)
KNOWN_KEYS = sorted(
    set(load_schema()["properties"])
    | {"host", "port", "tls", "auth", "password", "name", "value", "MON-SYS-05", "smtp_rellay"}
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    # Beyond 64 bits; 10**5000 (whose repr Python refuses) is in test_contract.py.
    st.sampled_from([0, -1, 65536, 2**63, 10**4200, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "{{ x }}", "25x", "10.0.0.0/33", "a@b", "Europe/Paris", "20m", "../.."]),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=8),
    st.text(max_size=10).map(VaultText),
    st.text(max_size=10).map(UnsafeText),
    st.frozensets(st.integers(), max_size=3),
)
keys = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.text(max_size=12),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.dates(),
)
yaml_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children, children),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=40,
)


def _paths(value, prefix=()):
    """Every path to a value of the example contract, containers included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


EXAMPLE_PATHS = [p for p in _paths(EXAMPLE) if p and p != ("smtp_relay", "auth", "password")]


def _with_secret() -> dict:
    data = copy.deepcopy(EXAMPLE)
    data["smtp_relay"]["auth"]["password"] = SECRET
    return data


def _check_answer(problems) -> str:
    """The invariants of every answer: problems, readable, nothing internal."""
    assert isinstance(problems, list)
    assert all(isinstance(p, Problem) for p in problems)
    assert all(p.path.startswith("preventcare") and p.message for p in problems)
    assert not [p for p in problems if "internal error" in p.message]
    text = format_problems(problems, "preventcare.yml")
    assert isinstance(text, str)
    return text


@FAST
@given(yaml_like)
def test_arbitrary_data_never_raises(data):
    _check_answer(validate_contract(data, HOSTS))
    _check_answer(validate_contract(data))


@FAST
@given(st.dictionaries(st.sampled_from(KNOWN_KEYS), yaml_like, max_size=12))
def test_arbitrary_contract_shaped_mappings_never_raise(data):
    problems = validate_contract(data, HOSTS)
    _check_answer(problems)
    assert problems, "a mapping of random values cannot be a valid contract"


@FAST
@given(st.sampled_from(EXAMPLE_PATHS), yaml_like)
def test_replacing_any_value_never_raises_nor_prints_the_password(path, value):
    data = _with_secret()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problems = validate_contract(data, HOSTS)
    text = _check_answer(problems)
    assert SECRET not in text + repr([p.to_dict() for p in problems])


@FAST
@given(st.sampled_from(EXAMPLE_PATHS))
def test_deleting_any_key_is_reported_when_required(path):
    data = _with_secret()
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    problems = validate_contract(data, HOSTS)
    text = _check_answer(problems)
    if len(path) == 1 and path[0] in load_schema()["required"]:
        assert f"missing required key '{path[0]}'" in text
    assert SECRET not in text


@FAST
@given(st.sampled_from(EXAMPLE_PATHS), keys, yaml_like)
def test_adding_a_key_anywhere_never_raises(path, key, value):
    data = _with_secret()
    target = data
    for part in path:
        target = target[part]
    if isinstance(target, dict):
        target[key] = value
    elif isinstance(target, list):
        target.append(value)
    _check_answer(validate_contract(data, HOSTS))


# Alphabet and length chosen so that a secret cannot occur by chance in the report.
_secret_text = st.text(min_size=6, max_size=20, alphabet="QXZJ")


@FAST
@given(
    st.one_of(
        st.text(min_size=4, max_size=30, alphabet=st.characters(categories=["L", "N"])),
        st.lists(_secret_text, min_size=1, max_size=3),
        st.dictionaries(st.just("value"), _secret_text, min_size=1),
        _secret_text.map(lambda s: {"nested": [s]}),
        st.integers(min_value=10**9, max_value=10**12),
    )
)
def test_the_password_never_appears_whatever_it_is(password):
    def answer(value):
        data = copy.deepcopy(EXAMPLE)
        data["smtp_relay"]["auth"]["password"] = value
        data["smtp_relay"]["port"] = "25x"
        problems = validate_contract(data, HOSTS)
        assert any(p.path == "preventcare.smtp_relay.port" for p in problems)
        return _check_answer(problems) + " ".join(v for p in problems for v in p.to_dict().values())

    # A password that is also a word of the messages ("then") would be found by chance.
    neutral = answer("QXZJQXZJQXZJ")
    assume(not any(secret in neutral for secret in _strings_in(password)))
    text = answer(password)
    for secret in _strings_in(password):
        assert secret not in text


def _strings_in(value):
    if isinstance(value, (str, int)):
        yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


@FAST
@given(st.text(max_size=200))
def test_arbitrary_text_files_never_raise(text):
    document, problems = parse_yaml_text(text, "f.yml")
    contract, more = extract_contract(document, "f.yml") if not problems else (None, [])
    if contract is not None:
        _check_answer(validate_contract(contract, HOSTS))
    assert all(isinstance(p, Problem) for p in problems + more)


@FAST
@given(yaml_like.filter(lambda v: not isinstance(v, (bytes, frozenset))))
def test_any_dumped_document_reads_back_without_raising(value):
    try:
        text = yaml.safe_dump({"preventcare": value}, allow_unicode=True)
    except (yaml.YAMLError, ValueError):
        return  # not representable by safe_dump (tuples, str subclasses, huge integers)
    document, problems = parse_yaml_text(text, "f.yml")
    contract, more = extract_contract(document, "f.yml")
    assert problems == []
    if contract is not None:
        _check_answer(validate_contract(contract, HOSTS))
    assert all(isinstance(p, Problem) for p in more)


def test_pathological_documents_are_refused_with_a_problem():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefgh":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [{', '.join(['*' + previous] * 10)}]\n"
    bomb += "preventcare: {schema_version: 1, client: *h}\n"
    document, problems = parse_yaml_text(bomb, "bomb.yml")
    assert problems == []
    started = datetime.datetime.now()
    answer = validate_contract(document["preventcare"])
    assert (datetime.datetime.now() - started).total_seconds() < 5
    assert "far too large" in _check_answer(answer)
    _, deep = parse_yaml_text("---\npreventcare: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yml")
    assert all(isinstance(p, Problem) for p in deep)
    _, huge = parse_yaml_text("---\npreventcare:\n  port: " + "9" * 5000 + "\n", "huge.yml")
    assert "line 3, column 9: malformed YAML: invalid value" in format_problems(huge, "huge.yml")
