"""The contract check: every kind of bad input gives the message a user can act on."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from ansible.module_utils.preventcare_contract import (
    MASK,
    VaultText,
    format_problems,
    load_schema,
    normalise_contract,
    validate_contract,
)
from ansible.module_utils.preventcare_contract_file import (
    inventory_hosts,
    load_contract_file,
)

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "bin" / "preventcare-contract"
FIXTURES = ROOT / "tests" / "fixtures" / "contracts"
EXAMPLE = ROOT / "inventories" / "example"
SECRET = "Tr3s-S3cret-Password"


def _example() -> dict:
    data, problems = load_contract_file(EXAMPLE / "group_vars" / "all" / "preventcare.yml")
    assert problems == []
    return copy.deepcopy(data)


EXAMPLE_HOSTS = inventory_hosts(yaml.safe_load((EXAMPLE / "hosts.yml").read_text()))


def _report(data, hosts=EXAMPLE_HOSTS) -> tuple[list, str]:
    problems = validate_contract(data, hosts)
    return problems, format_problems(problems, "preventcare.yml")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "preventcare.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the schema itself


def test_schema_is_a_valid_versioned_draft_2020_12_schema():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(":1")
    assert "schema_version" in schema["required"]


@pytest.mark.parametrize("inventory", ["example", "demo"])
def test_shipped_contracts_are_valid(inventory):
    folder = ROOT / "inventories" / inventory
    data, problems = load_contract_file(folder / "group_vars" / "all" / "preventcare.yml")
    hosts = inventory_hosts(yaml.safe_load((folder / "hosts.yml").read_text()))
    assert problems == []
    assert validate_contract(data, hosts) == []


@pytest.mark.parametrize("name", ["minimal.yml", "vault-inline.yml"])
def test_good_fixtures_are_valid(name):
    data, problems = load_contract_file(FIXTURES / "good" / name)
    assert problems == []
    assert validate_contract(data, ["srv01"]) == []


def test_inline_vault_and_unsafe_values_are_opaque_strings():
    data, _ = load_contract_file(FIXTURES / "good" / "vault-inline.yml")
    password = data["smtp_relay"]["auth"]["password"]
    assert isinstance(password, VaultText)
    assert password.startswith("$ANSIBLE_VAULT;1.1;AES256")
    assert data["client"]["name"] == "Client {{ literally }}"


def test_defaults_are_applied_and_the_password_is_masked():
    data, _ = load_contract_file(FIXTURES / "good" / "minimal.yml")
    normal = normalise_contract(data)
    assert normal["language"] == "fr"
    assert normal["timezone"] == "Europe/Paris"
    assert normal["thresholds"] == {}
    assert normal["smtp_relay"]["validate_certs"] is True
    example = _example()
    example["smtp_relay"]["auth"]["password"] = SECRET
    normal = normalise_contract(example)
    assert normal["smtp_relay"]["auth"]["password"] == MASK
    assert SECRET not in repr(normal)
    assert example["smtp_relay"]["auth"]["password"] == SECRET  # the input is left alone


# ------------------------------------------------------------------ reading the file


def test_malformed_yaml_shows_line_and_column(tmp_path):
    path = _write(
        tmp_path,
        """\
        ---
        preventcare:
          schema_version: 1
          client:
            id: martin
             name: Boulangeries Martin
        """,
    )
    data, problems = load_contract_file(path)
    assert data is None
    text = format_problems(problems, str(path))
    assert "line 6, column 10" in text
    assert "malformed YAML: mapping values are not allowed here" in text
    assert "indentation" in text


def test_empty_file_is_reported():
    data, problems = load_contract_file(FIXTURES / "bad" / "empty.yml")
    assert data is None
    assert [p.message for p in problems] == [
        "the file is empty (it holds no variables, only comments or blank lines)"
    ]
    assert "preventcare:" in problems[0].hint


def test_missing_preventcare_key_suggests_the_misspelling():
    data, problems = load_contract_file(FIXTURES / "bad" / "no-preventcare.yml")
    assert data is None
    assert "no top-level 'preventcare' key" in problems[0].message
    assert problems[0].hint == "is 'preventcar' a misspelling of it?"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\n- a\n- b\n", "the file holds list instead of variables"),
        ("---\npreventcare:\n", "the contract is empty"),
        ("$ANSIBLE_VAULT;1.1;AES256\n6134\n", "the whole file is encrypted with ansible-vault"),
        (
            "---\npreventcare:\n  date: 2026-13-45\n",
            "line 3, column 9: malformed YAML: invalid value",
        ),
        ("---\npreventcare:\n  x: !!python/object:os.system ls\n", "line 3, column 6"),
        ("---\npreventcare:\n  a: 1\n  a: 2\n", "key 'a' is defined twice in the same mapping"),
        ("---\npreventcare:\n  a: 1\n\tb: 2\n", "line 4, column 1: malformed YAML"),
    ],
)
def test_unusable_files_are_explained(tmp_path, text, message):
    _, problems = load_contract_file(_write(tmp_path, text))
    assert message in format_problems(problems, "f")


def test_unreadable_files_are_explained(tmp_path):
    _, missing = load_contract_file(tmp_path / "nope.yml")
    assert "cannot read the file: No such file or directory" in missing[0].message
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    _, problems = load_contract_file(binary)
    assert problems[0].message.startswith("not UTF-8 text")


# ------------------------------------------------------------------ one test per kind of mistake


def _set(path, value):
    def mutate(data):
        *parents, last = path
        for key in parents:
            # Optional sections absent from the example are created on the way.
            data = data.setdefault(key, {}) if isinstance(data, dict) else data[key]
        data[last] = value

    return mutate


def _delete(path):
    def mutate(data):
        *parents, last = path
        for key in parents:
            data = data[key]
        del data[last]

    return mutate


def _rename(old, new):
    def mutate(data):
        data[new] = data.pop(old)

    return mutate


FIELD_CASES = [
    # (mutation, path shown, message, hint, number of problems)
    pytest.param(
        _set(("smtp_relay", "port"), "25x"),
        "preventcare.smtp_relay.port",
        "expected integer, got string '25x'",
        "write a whole number between 1 and 65535, without quotes",
        1,
        id="wrong-type-port",
    ),
    pytest.param(
        _set(("smtp_relay", "port"), 70000),
        "preventcare.smtp_relay.port",
        "70000 is above the maximum 65535",
        "use a value between 1 and 65535",
        1,
        id="port-out-of-range",
    ),
    pytest.param(
        _set(("contacts", 0, "phone"), 472000001),
        "preventcare.contacts[0].phone",
        "expected string, got integer 472000001",
        "quote the value so that YAML reads it as text",
        1,
        id="unquoted-phone",
    ),
    pytest.param(
        _set(("smtp_relay", "validate_certs"), "yes"),
        "preventcare.smtp_relay.validate_certs",
        "expected boolean, got string 'yes'",
        "write true or false, without quotes",
        1,
        id="quoted-boolean",
    ),
    pytest.param(
        _set(("smtp_relay", "host"), None),
        "preventcare.smtp_relay.host",
        "expected string, got nothing (empty value)",
        "fill in the value or remove the key",
        1,
        id="empty-value",
    ),
    pytest.param(
        _delete(("surveillance_mailbox",)),
        "preventcare.surveillance_mailbox",
        "missing required key 'surveillance_mailbox': the surveillance team's address "
        "that receives every alert",
        "add it; inventories/example/group_vars/all/preventcare.yml shows an example",
        1,
        id="missing-required-key",
    ),
    pytest.param(
        _delete(("smtp_relay", "tls")),
        "preventcare.smtp_relay.tls",
        "missing required key 'tls': none, starttls",
        "add it",
        1,
        id="missing-nested-key",
    ),
    pytest.param(
        _rename("smtp_relay", "smtp_rellay"),
        "preventcare.smtp_rellay",
        "unknown key 'smtp_rellay'",
        "did you mean 'smtp_relay'?",
        2,
        id="unknown-key-smtp_rellay",
    ),
    pytest.param(
        _rename("surveillance_mailbox", "survelliance_mailbox"),
        "preventcare.survelliance_mailbox",
        "unknown key 'survelliance_mailbox'",
        "did you mean 'surveillance_mailbox'?",
        2,
        id="unknown-key-survelliance_mailbox",
    ),
    pytest.param(
        _set(("options", "colour"), "blue"),
        "preventcare.options.colour",
        "unknown key 'colour'",
        "allowed keys here: antivirus_from_provider, security_box",
        1,
        id="unknown-key-nothing-close",
    ),
    pytest.param(
        _set(("smtp_relay", "tls"), "startls"),
        "preventcare.smtp_relay.tls",
        "unknown value 'startls'",
        "did you mean 'starttls'?",
        1,
        id="enum-typo",
    ),
    pytest.param(
        _set(("contacts", 1, "email"), "paul.girard@martin"),
        "preventcare.contacts[1].email",
        "'paul.girard@martin' is not a valid e-mail address",
        "write it like name@example.com",
        1,
        id="bad-contact-email",
    ),
    pytest.param(
        _set(("surveillance_mailbox",), "surveillance at preventcare.example"),
        "preventcare.surveillance_mailbox",
        "'surveillance at preventcare.example' is not a valid e-mail address",
        "name@example.com",
        1,
        id="bad-mailbox",
    ),
    pytest.param(
        _set(("public_ip",), "203.0.113.300"),
        "preventcare.public_ip",
        "'203.0.113.300' is not an IPv4 address",
        "write the fixed public IPv4 address",
        1,
        id="bad-public-ip",
    ),
    pytest.param(
        _set(("public_ip",), "2001:db8::10"),
        "preventcare.public_ip",
        "'2001:db8::10' is not an IPv4 address",
        "IPv4",
        1,
        id="ipv6-public-ip",
    ),
    pytest.param(
        _set(("sites", 0, "vpn_peer"), "10.10.1"),
        "preventcare.sites[0].vpn_peer",
        "'10.10.1' is not an IP address",
        "like 10.10.1.254",
        1,
        id="bad-vpn-peer",
    ),
    pytest.param(
        _set(("sites", 1, "subnets"), ["10.10.2.0/33"]),
        "preventcare.sites[1].subnets[0]",
        "'10.10.2.0/33' is not a valid subnet",
        "CIDR notation, like 10.10.1.0/24",
        1,
        id="bad-cidr",
    ),
    pytest.param(
        _set(("sites", 1, "subnets"), ["10.10.2.20/24"]),
        "preventcare.sites[1].subnets[0]",
        "'10.10.2.20/24' is not a valid subnet",
        "host bits are set; did you mean '10.10.2.0/24'?",
        1,
        id="cidr-host-bits",
    ),
    pytest.param(
        _set(("sites", 1, "name"), "lyon"),
        "preventcare.sites[1].name",
        "site name 'lyon' is already used by sites[0]",
        "give every site its own name",
        1,
        id="duplicate-site",
    ),
    pytest.param(
        _set(("timezone",), "Europe/Pariss"),
        "preventcare.timezone",
        "unknown time zone 'Europe/Pariss'",
        "did you mean 'Europe/Paris'?",
        1,
        id="timezone-typo",
    ),
    pytest.param(
        _set(("timezone",), "Paris time"),
        "preventcare.timezone",
        "unknown time zone 'Paris time'",
        "use an IANA name such as Europe/Paris",
        1,
        id="timezone-unknown",
    ),
    pytest.param(
        _set(("monitor_host",), "mon1"),
        "preventcare.monitor_host",
        "'mon1' is not a host of the inventory",
        "did you mean 'mon01'?",
        1,
        id="monitor-host-not-in-inventory",
    ),
    pytest.param(
        _set(("backup", 1, "host"), "srv-nas01"),
        "preventcare.backup[1].host",
        "'srv-nas01' is not a host of the inventory",
        "inventory host",
        1,
        id="backup-host-not-in-inventory",
    ),
    pytest.param(
        _set(("thresholds", "MON-SYS-05", "value"), 120),
        "preventcare.thresholds.MON-SYS-05.value",
        "120 % is outside 0-100",
        "write a percentage from 0 to 100",
        1,
        id="threshold-120-percent",
    ),
    pytest.param(
        _set(("thresholds", "MON-SYS-05", "duration"), "twenty minutes"),
        "preventcare.thresholds.MON-SYS-05.duration",
        "'twenty minutes' is not a Prometheus duration",
        "write e.g. '20m', '1h30m' or '0s'",
        1,
        id="duration-in-words",
    ),
    pytest.param(
        _set(("thresholds", "MON-SYS-5"), {"value": 90}),
        "preventcare.thresholds.MON-SYS-5",
        "unknown requirement ID or item 'MON-SYS-5'",
        "did you mean 'MON-SYS-05'?",
        1,
        id="threshold-key",
    ),
    pytest.param(
        _set(("thresholds", "MON-SYS-05", "criticality"), "critical"),
        "preventcare.thresholds.MON-SYS-05.criticality",
        "'critical' is not an ALR-02 criticality",
        "use one of: none, minor, moderate, significant, major",
        1,
        id="criticality",
    ),
    pytest.param(
        _set(("smtp_relay", "tls"), "none"),
        "preventcare.smtp_relay.auth",
        "SMTP credentials with tls: none would cross the network in clear",
        "set tls: starttls",
        1,
        id="auth-without-tls",
    ),
    pytest.param(
        _set(("smtp_relay", "tls"), "tls"),
        "preventcare.smtp_relay.tls",
        "implicit TLS on port 587",
        "port 465 for implicit TLS",
        1,
        id="implicit-tls-on-587",
    ),
    pytest.param(
        _set(
            ("monitoring", "windows_exporter"),
            {"url": "https://deploy.example.net/x.msi", "version": "0.31.3"},
        ),
        "preventcare.monitoring.windows_exporter.checksum",
        "missing required key 'checksum': SHA-256 of the MSI",
        "add it",
        2,
        id="windows-exporter-incomplete",
    ),
    pytest.param(
        _set(("monitoring", "windows_exporter", "version"), "0.30.5"),
        "preventcare.monitoring.windows_exporter.version",
        "windows_exporter 0.30.5 lacks metrics the rules use",
        "deploy 0.30.6 or later",
        1,
        id="windows-exporter-too-old",
        marks=[pytest.mark.req("MON-SYS-03"), pytest.mark.req("SET-01")],
    ),
    pytest.param(
        _set(("monitoring", "windows_exporter", "version"), "0.29.2"),
        "preventcare.monitoring.windows_exporter.version",
        "windows_exporter 0.29.2 lacks metrics the rules use",
        "PagingFileUsageHigh",
        1,
        id="windows-exporter-no-pagefile-collector",
        marks=[pytest.mark.req("MON-SYS-03")],
    ),
    pytest.param(
        _set(("monitoring", "windows_exporter", "url"), "file:///C:/deploy/x.msi"),
        "preventcare.monitoring.windows_exporter.url",
        "",
        "",
        1,
        id="windows-exporter-file-url-refused",
        marks=[pytest.mark.req("SET-01")],
    ),
    pytest.param(
        _set(("monitoring", "windows_exporter", "controller_file"), "files/x.msi"),
        "preventcare.monitoring.windows_exporter",
        "give exactly one source of the MSI, not both url and controller_file",
        "controller_file",
        1,
        id="windows-exporter-two-sources",
        marks=[pytest.mark.req("SET-01")],
    ),
    pytest.param(
        _set(("hardware_prerequisites", "linux", "min_memory_gb"), 4),
        "preventcare.hardware_prerequisites.linux.min_memory_gb",
        "unknown key 'min_memory_gb'",
        "did you mean 'min_memory_mib'?",
        1,
        id="hardware-unknown-key",
    ),
    pytest.param(
        _set(("client", "id"), "Martin SARL"),
        "preventcare.client.id",
        "'Martin SARL' is not a valid slug",
        "lower-case letters, digits and dashes",
        1,
        id="client-id-slug",
    ),
    pytest.param(
        _set(("client", "users"), 0),
        "preventcare.client.users",
        "0 is below the minimum 1",
        "at least 1",
        1,
        id="no-users",
    ),
    pytest.param(
        _set(("schema_version",), 2),
        "preventcare.schema_version",
        "unsupported value 2",
        "this tool understands schema_version: 1",
        1,
        id="schema-version",
    ),
    pytest.param(
        _set(("contacts",), [{**_example()["contacts"][0]}]),
        "preventcare.contacts",
        "no contact on the provider side",
        "side: provider",
        1,
        id="no-provider-contact",
    ),
    pytest.param(
        _set(("homologation", "date"), "2026-02-30"),
        "preventcare.homologation.date",
        "'2026-02-30' is not a date",
        "YYYY-MM-DD",
        1,
        id="bad-date",
    ),
    pytest.param(
        _set(("remote_assistance", "tools"), ["openssh", "openssh"]),
        "preventcare.remote_assistance.tools",
        "lists 'openssh' more than once",
        "remove the duplicate",
        1,
        id="duplicate-tool",
    ),
    pytest.param(
        _set((True,), "from an unquoted 'on:' key"),
        "preventcare[true]",
        "key true is not text (YAML read it as boolean)",
        "quote the key",
        1,
        id="boolean-key",
    ),
]


@pytest.mark.parametrize(("mutate", "path", "message", "hint", "count"), FIELD_CASES)
def test_each_mistake_is_named_with_its_path_and_a_fix(mutate, path, message, hint, count):
    data = _example()
    mutate(data)
    problems, text = _report(data)
    assert len(problems) == count, text
    assert f"{path}: {message}" in text
    assert hint in next(p.hint for p in problems if p.path == path)


# ------------------------------------------------------------------ PRE-09


PRE09_CASES = [
    pytest.param(
        {"antivirus_from_provider": True, "security_box": "none"},
        ["windows_server", "database", "backup"],
        "PRE-09: the antivirus was bought from the provider "
        "(options.antivirus_from_provider: true) but 'protection_suite' is not subscribed",
        id="antivirus-bought-no-protection-suite",
    ),
    pytest.param(
        {"antivirus_from_provider": False, "security_box": "premium"},
        ["windows_server", "database", "backup", "security_basic"],
        "PRE-09: the security box is 'premium' (options.security_box) "
        "but 'security_premium' is not subscribed",
        id="premium-box-only-security-basic",
    ),
    pytest.param(
        {"antivirus_from_provider": False, "security_box": "none"},
        ["windows_server", "database"],
        "PRE-09: the 'backup' service is missing",
        id="missing-backup-service",
    ),
    pytest.param(
        {"antivirus_from_provider": False, "security_box": "none"},
        ["windows_server", "database", "backup", "protection_suite"],
        "PRE-09: 'protection_suite' is subscribed but options.antivirus_from_provider is false",
        id="protection-suite-without-antivirus",
    ),
    pytest.param(
        {"antivirus_from_provider": False, "security_box": "basic"},
        ["windows_server", "database", "backup"],
        "PRE-09: the security box is 'basic' (options.security_box) "
        "but 'security_basic' is not subscribed",
        id="basic-box-no-security-basic",
    ),
]


@pytest.mark.req("PRE-09")
@pytest.mark.parametrize(("options", "services", "message"), PRE09_CASES)
def test_services_must_match_what_the_client_bought(options, services, message):
    data = _example()
    data["options"], data["services"] = options, services
    problems, text = _report(data)
    assert f"preventcare.services: {message}" in text
    assert all(p.path == "preventcare.services" for p in problems), text


@pytest.mark.req("PRE-09")
@pytest.mark.parametrize(
    ("antivirus", "box", "extra"),
    [
        (False, "none", []),
        (True, "none", ["protection_suite"]),
        (False, "basic", ["security_basic"]),
        (True, "premium", ["protection_suite", "security_premium"]),
    ],
)
def test_consistent_services_pass(antivirus, box, extra):
    data = _example()
    data["options"] = {"antivirus_from_provider": antivirus, "security_box": box}
    data["services"] = ["windows_server", "database", "backup", *extra]
    assert validate_contract(data, EXAMPLE_HOSTS) == []


# ------------------------------------------------------------------ all at once, secrets


def test_several_problems_are_all_listed_in_one_block():
    data, problems = load_contract_file(FIXTURES / "bad" / "many-problems.yml")
    assert problems == []
    problems = validate_contract(data, EXAMPLE_HOSTS)
    text = format_problems(problems, "many-problems.yml")
    expected = [
        "preventcare.client.id: 'Martin SARL' is not a valid slug",
        "preventcare.client.users: 0 is below the minimum 1",
        "preventcare.timezone: unknown time zone 'Europe/Pariss'",
        "preventcare.contacts: no contact on the provider side",
        "preventcare.contacts[0].email: 'claire.martin@' is not a valid e-mail address",
        "preventcare.sites[0].subnets[0]: '10.10.1.0/33' is not a valid subnet",
        "preventcare.sites[0].vpn_peer: '10.10.1.300' is not an IP address",
        "preventcare.services: PRE-09: the 'backup' service is missing",
        "preventcare.smtp_relay.port: 70000 is above the maximum 65535",
        "preventcare.smtp_relay.tls: unknown value 'startls'",
        "preventcare.surveillance_mailbox: missing required key 'surveillance_mailbox'",
        "preventcare.survelliance_mailbox: unknown key 'survelliance_mailbox'",
        "preventcare.public_ip: '203.0.113' is not an IPv4 address",
        "preventcare.monitor_host: 'mon02' is not a host of the inventory",
        "preventcare.thresholds.MON-SYS-05.value: 120 % is outside 0-100",
        "preventcare.thresholds.MON-SYS-05.duration: 'twenty minutes' is not a Prometheus duration",
    ]
    for line in expected:
        assert line in text
    assert text.startswith(f"The PreventCare contract in many-problems.yml has {len(problems)} ")
    assert text.count("\n  - ") == len(problems)
    assert SECRET not in text


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param({"username": "u", "password": 12345678}, id="password-integer"),
        pytest.param({"username": "u", "password": [SECRET]}, id="password-list"),
        pytest.param({"username": "u", "password": {"value": SECRET}}, id="password-mapping"),
        pytest.param({"username": "u", "password": SECRET, "pasword": SECRET}, id="extra-key"),
        pytest.param(SECRET, id="auth-is-the-password"),
        pytest.param({"username": SECRET, "password": SECRET}, id="same-as-username"),
    ],
)
def test_the_password_is_never_printed(auth):
    data = _example()
    data["smtp_relay"]["auth"] = auth
    data["smtp_relay"]["port"] = "25x"  # and something else is wrong too
    problems, text = _report(data)
    everything = text + " ".join(v for p in problems for v in p.to_dict().values())
    assert problems
    assert SECRET not in everything
    assert "12345678" not in everything


@pytest.mark.parametrize(
    "path",
    [("smtp_relay", "sender"), ("surveillance_mailbox",), ("contacts", 0, "email")],
)
def test_a_password_pasted_into_another_field_is_masked(path):
    data = _example()
    data["smtp_relay"]["auth"]["password"] = SECRET
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = SECRET
    problems, text = _report(data)
    assert "'********' is not a valid e-mail address" in text
    assert SECRET not in text + " ".join(v for p in problems for v in p.to_dict().values())


def test_garbage_instead_of_a_contract_is_explained():
    assert validate_contract(None)[0].message == "the contract is empty"
    problems = validate_contract(["a", "list"])
    assert problems[0].message == "expected a mapping, got list"
    problems = validate_contract({"schema_version": 10**5000, 7: {"x": [[[[None]]]]}})
    text = format_problems(problems, "x")
    assert "preventcare.schema_version: integer far too large" in text
    assert "preventcare[7]: key 7 is not text (YAML read it as integer)" in text


def test_recursive_alias_and_deep_nesting_are_reported(tmp_path):
    path = _write(tmp_path, "---\npreventcare: &loop\n  schema_version: 1\n  client: *loop\n")
    data, problems = load_contract_file(path)
    assert problems == []
    text = format_problems(validate_contract(data), "f")
    assert "preventcare.client: refers to itself through a YAML alias" in text
    deep = {"client": []}
    node = deep["client"]
    for _ in range(200):
        node.append([])
        node = node[0]
    assert "nested too deeply" in format_problems(validate_contract(deep), "f")


# ------------------------------------------------------------------ set-up day (issue 13)


@pytest.mark.req("SET-05")
def test_a_contract_with_60_users_and_no_set_up_duration_names_the_field_to_add():
    data = _example()
    data["client"]["users"] = 60
    problems, text = _report(data)
    assert [p.path for p in problems] == ["preventcare.client.setup_duration_days"]
    assert "(60 here)" in text and "SET-05" in text
    data["client"]["setup_duration_days"] = 3
    assert _report(data)[0] == []


@pytest.mark.req("SET-05")
def test_below_50_users_the_set_up_duration_may_be_absent():
    data = _example()
    data["client"]["users"] = 49
    assert _report(data)[0] == []


def _waiver(**changes):
    waiver = {
        "requirement": "PRE-02",
        "check": "public_ip",
        "reason": "Fixed IP ordered from the operator, delivery on 2026-12-15",
        "author": "Julien Roche",
        "date": "2026-12-01",
    }
    waiver.update(changes)
    return {k: v for k, v in waiver.items() if v is not None}


@pytest.mark.req("PRE-04")
def test_a_waiver_with_its_reason_author_and_date_is_accepted():
    data = _example()
    data["waivers"] = [_waiver(), _waiver(requirement="PRE-03", check=None, host="srv-lin01")]
    assert _report(data)[0] == []


@pytest.mark.req("PRE-04")
@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"reason": None}, "preventcare.waivers[0].reason", "missing required key 'reason'"),
        ({"reason": "   "}, "preventcare.waivers[0].reason", "a waiver without a reason"),
        ({"author": None}, "preventcare.waivers[0].author", "missing required key 'author'"),
        ({"date": "1/12/2026"}, "preventcare.waivers[0].date", "is not a date"),
        ({"host": "srv-nowhere"}, "preventcare.waivers[0].host", "not a host of the inventory"),
        ({"requirement": "SET-01"}, "preventcare.waivers[0].requirement", "SET-01"),
    ],
)
def test_a_waiver_without_a_reason_or_with_a_wrong_field_is_refused(changes, path, words):
    data = _example()
    data["waivers"] = [_waiver(**changes)]
    problems, text = _report(data)
    assert path in [p.path for p in problems], text
    assert words in text
