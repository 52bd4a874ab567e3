"""The console's Zabbix model, generated from the client inventories and data/thresholds.yml."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_client_message import compose
from ansible.module_utils.preventcare_console import SEVERITY, zabbix_model
from ansible.module_utils.preventcare_provider import validate_provider
from ansible.module_utils.preventcare_thresholds import load_thresholds
from preventcare_console_filters import (
    preventcare_client_messages,
    preventcare_zabbix_model,
)

ROOT = Path(__file__).resolve().parents[2]

TABLE = load_thresholds()
PROVIDER_DIR = ROOT / "inventories" / "provider"
_DATA = yaml.safe_load((PROVIDER_DIR / "group_vars/all/provider.yml").read_text())
_, PROVIDER, CLIENTS = validate_provider(_DATA["preventcare_provider"], str(PROVIDER_DIR), None)
MESSAGES = yaml.safe_load((ROOT / "roles/supervision_console/defaults/main.yml").read_text())[
    "supervision_console_client_messages"
]


def _hosts(model):
    return {h["host"]: h for h in model["zabbix_export"]["hosts"]}


def _triggers(host):
    return {i["key"]: i["triggers"][0] for i in host["items"] if i.get("triggers")}


@pytest.mark.req("ALR-01")
def test_a_host_group_per_client_and_a_host_per_server():
    model = zabbix_model(CLIENTS, TABLE, PROVIDER)
    groups = [g["name"] for g in model["zabbix_export"]["groups"]]
    assert groups == ["PreventCare/console", "PreventCare/martin"]
    hosts = _hosts(model)
    assert sorted(hosts) == [
        "martin.mon01",
        "martin.srv-ad01",
        "martin.srv-app01",
        "martin.srv-lin01",
        "preventcare-console",
    ]
    assert hosts["martin.srv-ad01"]["groups"] == [{"name": "PreventCare/martin"}]
    assert hosts["martin.srv-ad01"]["name"] == "srv-ad01 (Boulangeries Martin SARL)"


@pytest.mark.req("ALR-02")
@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("none", "INFO"),
        ("minor", "WARNING"),
        ("moderate", "AVERAGE"),
        ("significant", "HIGH"),
        ("major", "DISASTER"),
    ],
)
def test_severity_is_the_booklets_level(level, severity):
    assert SEVERITY[level] == severity


@pytest.mark.req("ALR-02")
def test_every_rule_is_a_trapper_item_and_trigger_with_its_level_and_handling():
    hosts = _hosts(zabbix_model(CLIENTS, TABLE, PROVIDER))
    linux = _triggers(hosts["martin.srv-lin01"])
    checked = 0
    for name, entry in TABLE["items"].items():
        key = f"preventcare.alert[{name}]"
        if key not in linux:
            continue
        checked += 1
        trigger = linux[key]
        assert trigger["expression"] == f"last(/martin.srv-lin01/{key})>0"
        assert trigger["priority"] == SEVERITY[entry["criticality"]], name
        assert TABLE["levels"][entry["criticality"]]["handling"]["fr"] in trigger["description"]
        assert trigger["name"].startswith(f"[{entry['requirement']}] ")
        tags = {t["tag"]: t["value"] for t in trigger["tags"]}
        assert tags == {
            "client": "martin",
            "site": "villeurbanne",
            "requirement": entry["requirement"],
            "criticality": entry["criticality"],
            "item": name,
        }
    assert checked == 23
    item = next(i for i in hosts["martin.srv-lin01"]["items"] if i["key"].endswith("[sys_paging]"))
    assert (item["type"], item["value_type"]) == ("TRAP", "UNSIGNED")


@pytest.mark.req("ALR-02")
def test_the_contracts_criticality_override_changes_the_trigger_severity():
    clients = copy.deepcopy(CLIENTS)
    clients[0]["thresholds"] = {"MON-SYS-05": {"criticality": "major"}}
    hosts = _hosts(zabbix_model(clients, TABLE, PROVIDER))
    assert _triggers(hosts["martin.srv-lin01"])["preventcare.alert[sys_processor]"]["priority"] == (
        "DISASTER"
    )


@pytest.mark.req("MON-TEL-01")
def test_the_monitor_host_has_the_heartbeat_nodata_trigger_naming_client_and_site():
    provider = copy.deepcopy(PROVIDER)
    provider["heartbeat"] = {"window": "1h", "grace": "15m"}
    hosts = _hosts(zabbix_model(CLIENTS, TABLE, provider))
    monitor = _triggers(hosts["martin.mon01"])
    trigger = monitor["preventcare.heartbeat"]
    assert trigger["expression"] == "nodata(/martin.mon01/preventcare.heartbeat,4500s)=1"
    assert trigger["priority"] == "DISASTER"
    assert "Boulangeries Martin SARL" in trigger["name"] and "villeurbanne" in trigger["name"]
    assert "preventcare.alert[tel_vpn_down]" in monitor  # the site's rules live on the monitor
    assert "preventcare.heartbeat" not in _triggers(hosts["martin.srv-lin01"])
    assert "preventcare.alert[tel_vpn_down]" not in _triggers(hosts["martin.srv-lin01"])


def test_the_filter_refuses_bad_input_with_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="clients must be a list"):
        preventcare_zabbix_model("martin", PROVIDER)
    with pytest.raises(AnsibleFilterError, match="provider must be a mapping"):
        preventcare_zabbix_model(CLIENTS, None)


@pytest.mark.req("ALR-03")
@pytest.mark.req("ALR-02")
def test_the_client_message_is_in_the_clients_language_and_follows_the_level():
    config = preventcare_client_messages(CLIENTS, PROVIDER, MESSAGES)
    message, outcome = compose(config, "martin.srv-lin01", "sys_service_down", 4)
    assert message["To"] == "claire.martin@martin.example, paul.girard@martin.example"
    assert message["From"] == "console@preventcare.example"
    assert message["Subject"] == (
        "[PreventCare] Boulangeries Martin SARL : alerte significative sur srv-lin01"
    )
    body = message.get_content()
    assert "service nécessaire au système arrêté" in body.lower()
    assert "Une demande a été enregistrée auprès de notre support" in body
    assert outcome == "message (significative) sent to 2 client contact(s)"
    # The operator lowered it to Information: "none" means no client communication.
    message, outcome = compose(config, "martin.srv-lin01", "sys_service_down", 1)
    assert message is None and "pas de communication client" in outcome
    english = copy.deepcopy(config)
    english["clients"]["martin"]["language"] = "en"
    message, _ = compose(english, "martin.mon01", "heartbeat_missing", 5)
    assert message["Subject"] == "[PreventCare] Boulangeries Martin SARL: major alert on mon01"
    assert "a technician is calling you" in message.get_content()
