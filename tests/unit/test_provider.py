"""The provider inventory: validated like a client contract, bad input caught before any change."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.preventcare_provider import format_problems, validate_provider

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "inventories" / "provider"
PROVIDER = yaml.safe_load((PROVIDER_DIR / "group_vars/all/provider.yml").read_text())[
    "preventcare_provider"
]


def _check(data, base=PROVIDER_DIR, hosts=("console01",)):
    problems, provider, clients = validate_provider(data, str(base), list(hosts))
    return [str(p) for p in problems], provider, clients


@pytest.mark.req("ALR-01")
def test_the_shipped_provider_inventory_is_valid_and_watches_the_example_client():
    problems, provider, clients = _check(PROVIDER)
    assert problems == []
    assert [c["id"] for c in clients] == ["martin"]
    martin = clients[0]
    assert martin["monitor"] == "mon01" and martin["monitor_site"] == "villeurbanne"
    assert {s["name"]: s["platform"] for s in martin["servers"]} == {
        "srv-ad01": "windows",
        "srv-app01": "windows",
        "srv-lin01": "linux",
        "mon01": "linux",
    }
    assert martin["contacts"] == ["claire.martin@martin.example", "paul.girard@martin.example"]
    assert provider["heartbeat"] == {"window": "1h", "grace": "10m"}


def _edited(**paths):
    data = copy.deepcopy(PROVIDER)
    for path, value in paths.items():
        *parents, last = path.split("__")
        node = data
        for part in parents:
            node = node[part]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return data


@pytest.mark.req("ALR-02")
def test_support_technicians_have_one_login_each_that_is_not_the_consoles_own():
    technician = {
        "login": "c.martin",
        "name": "Claire Bis",
        "email": "claire.bis@preventcare.example",
    }
    data = _edited(teams__level2__operators=[technician, {**technician, "login": "admin"}])
    problems, _, _ = _check(data)
    assert problems == [
        "preventcare_provider.teams.level2.operators[0].login: 'c.martin' is already an operator "
        "of level1 — each technician has one login",
        "preventcare_provider.teams.level2.operators[1].login: 'admin' is an account of the "
        "console itself — choose another login",
    ]
    problems, _, _ = _check(_edited(teams__level1__operators=[{**technician, "login": "guest"}]))
    assert problems == [
        "preventcare_provider.teams.level1.operators[0].login: 'guest' is an account of the "
        "console itself — choose another login"
    ]
    bad_mail = {**technician, "login": "c.bis", "email": "claire"}
    problems, _, _ = _check(_edited(teams__level1__operators=[bad_mail]))
    assert problems == [
        "preventcare_provider.teams.level1.operators[0].email: 'claire' is not a valid e-mail "
        "address — write it like name@example.com"
    ]


@pytest.mark.req("ALR-01")
def test_a_client_inventory_that_does_not_exist_is_named_with_its_path():
    data = _edited(clients=[{"inventory": "../example"}, {"inventory": "../durand"}])
    problems, _, clients = _check(data)
    assert problems == [
        "preventcare_provider.clients[1].inventory: the client inventory '../durand' does not "
        f"exist — looked for the folder {PROVIDER_DIR.parent / 'durand'}; the path is relative to "
        f"{PROVIDER_DIR}"
    ]
    assert clients == []


@pytest.mark.req("ALR-02")
def test_a_team_without_an_e_mail_address_is_refused():
    problems, _, _ = _check(_edited(teams__level2__email=KeyError))
    assert len(problems) == 1
    assert problems[0].startswith(
        "preventcare_provider.teams.level2.email: missing required key 'email': the team's address"
    )
    problems, _, _ = _check(_edited(support_desk__email="support-at-preventcare"))
    assert problems == [
        "preventcare_provider.support_desk.email: 'support-at-preventcare' is not a valid e-mail "
        "address — write it like name@example.com"
    ]


@pytest.mark.req("MON-TEL-01")
@pytest.mark.parametrize("grace", ["ten minutes", "10", "1h 10m", 600, ""])
def test_a_grace_that_is_not_a_duration_is_refused(grace):
    problems, _, _ = _check(_edited(heartbeat__grace=grace))
    assert len(problems) == 1, problems
    assert problems[0].startswith("preventcare_provider.heartbeat.grace: ")


@pytest.mark.req("MON-TEL-01")
def test_a_heartbeat_window_shorter_than_zabbixs_nodata_minimum_is_refused():
    problems, _, _ = _check(_edited(heartbeat__window="10s"))
    assert problems == ["preventcare_provider.heartbeat.window: '10s' is too short — at least 30 s"]


def test_unknown_keys_wrong_types_and_the_console_host_are_explained():
    data = _edited(heartbeat__graze="10m", console__host="console02", clients="../example")
    problems, _, _ = _check(data)
    joined = "\n".join(problems)
    assert "preventcare_provider.heartbeat.graze" in joined and "grace" in joined
    assert "preventcare_provider.clients: expected a list" in joined
    assert "preventcare_provider.console.host: 'console02' is not a host of the inventory" in joined


def test_a_client_with_an_invalid_contract_or_another_mailbox_is_refused(tmp_path):
    client = tmp_path / "durand"
    shutil.copytree(ROOT / "inventories" / "example", client)
    contract_file = client / "group_vars/all/preventcare.yml"
    contract = yaml.safe_load(contract_file.read_text())
    contract["preventcare"]["client"]["id"] = "durand"
    contract["preventcare"]["surveillance_mailbox"] = "autre@preventcare.example"
    contract_file.write_text(yaml.safe_dump(contract, allow_unicode=True))
    provider_dir = tmp_path / "provider"
    provider_dir.mkdir()
    data = _edited(clients=[{"inventory": "../durand"}])
    problems, _, _ = _check(data, base=provider_dir)
    assert problems == [
        "preventcare_provider.clients[0].inventory: client 'durand' mails "
        "'autre@preventcare.example', not the surveillance address "
        "'surveillance@preventcare.example' — its contract's surveillance_mailbox must be the "
        "console's address"
    ]
    contract["preventcare"]["smtp_relay"]["port"] = "vingt-cinq"
    contract_file.write_text(yaml.safe_dump(contract, allow_unicode=True))
    problems, _, _ = _check(data, base=provider_dir)
    assert (
        len(problems) == 1 and "its contract is invalid: preventcare.smtp_relay.port" in problems[0]
    )


@pytest.mark.parametrize("data", [None, [], "provider", {"schema_version": 1}])
def test_garbage_is_reported_never_raised(data):
    problems, _, _ = _check(data)
    assert problems
    assert "The provider inventory x has" in format_problems(
        validate_provider(data, str(PROVIDER_DIR))[0], "x"
    )
