"""PRE-02 (declared public IP, egress IP), PRE-04, PRE-07, PRE-09: judged from the contract."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.preventcare_contract import normalise_contract
from ansible.module_utils.preventcare_prereq import evaluate_contract
from ansible.module_utils.preventcare_prereq_contract import (
    check_homologation,
    check_phone_attestation,
    check_services,
)
from ansible.module_utils.preventcare_prereq_network import (
    check_egress_ip,
    check_public_ip,
    classify_public_ipv4,
)
from ansible.module_utils.preventcare_verdict import STATUSES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "group_vars" / "all" / "preventcare.yml"


@pytest.fixture
def contract():
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["preventcare"]
    return normalise_contract(data)


def with_changes(contract, **changes):
    edited = copy.deepcopy(contract)
    for key, value in changes.items():
        if value is None:
            edited.pop(key, None)
        else:
            edited[key] = value
    return edited


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("81.250.12.34", None),
        ("8.8.8.8", None),
        ("10.1.2.3", "private"),
        ("172.20.0.1", "private"),
        ("192.168.0.254", "private"),
        ("100.64.0.1", "cgnat"),
        ("100.127.255.254", "cgnat"),
        ("127.0.0.1", "loopback"),
        ("169.254.10.10", "link_local"),
        ("192.0.2.10", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.10", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("224.0.0.251", "multicast"),
        ("239.1.1.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("0.0.0.0", "this_network"),
        ("192.0.0.9", "ietf"),
        ("2001:db8::1", "not_ipv4"),
        ("81.250.12", "not_ipv4"),
    ],
)
def test_public_ipv4_classification(address, category):
    assert classify_public_ipv4(address) == (category is None, category)


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    ("declared", "status", "words"),
    [
        ("81.250.12.34", "PASS", "publique unicast"),
        ("203.0.113.10", "FAIL", "plage de documentation"),
        ("100.70.1.2", "FAIL", "NAT opérateur"),
        ("192.168.1.1", "FAIL", "privée (RFC 1918)"),
        (None, "FAIL", "Aucune IP publique fixe"),
    ],
)
def test_declared_public_ip(contract, declared, status, words):
    outcome = check_public_ip(with_changes(contract, public_ip=declared))
    assert (outcome["host"], outcome["requirement"], outcome["check"]) == (
        "contract",
        "PRE-02",
        "public_ip",
    )
    assert outcome["status"] == status
    assert outcome["blocking"] is True
    assert words in outcome["title"]
    assert (outcome["hint"] == "") == (status == "PASS")


@pytest.mark.req("PRE-02")
def test_public_ip_title_follows_the_contract_language(contract):
    english = check_public_ip(with_changes(contract, language="en", public_ip="10.0.0.1"))
    assert (
        english["title"]
        == "Declared public IP 10.0.0.1 is not a public address: private (RFC 1918)"
    )
    assert "professional internet access" in english["hint"]


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    ("url", "observed", "error", "status"),
    [
        (None, None, None, "NOT_APPLICABLE"),
        ("https://ip.check.example/", "81.250.12.34\n", None, "PASS"),
        ("https://ip.check.example/", "81.250.12.99", None, "FAIL"),
        ("https://ip.check.example/", "<html>blocked</html>", None, "WARN"),
        ("https://ip.check.example/", None, "Request failed: timed out", "WARN"),
    ],
)
def test_egress_ip_comparison(contract, url, observed, error, status):
    outcome = check_egress_ip(
        with_changes(contract, public_ip="81.250.12.34"), url, observed, error
    )
    assert outcome["status"] == status
    assert outcome["blocking"] is False
    if status == "FAIL":
        assert "81.250.12.99" in outcome["title"]
        assert "81.250.12.34" in outcome["title"]
    if error:
        assert error in outcome["hint"]


@pytest.mark.req("PRE-04")
@pytest.mark.parametrize(
    ("homologation", "status", "words"),
    [
        ({"status": "configured_by_provider"}, "PASS", "paramétrés par le prestataire"),
        ({"status": "homologated", "date": "2026-10-20"}, "PASS", "homologués le 2026-10-20"),
        ({"status": "pending"}, "WARN", "en attente"),
        (None, "WARN", "n'indique pas"),
    ],
)
def test_homologation(contract, homologation, status, words):
    outcome = check_homologation(with_changes(contract, homologation=homologation))
    assert (outcome["requirement"], outcome["status"]) == ("PRE-04", status)
    assert words in outcome["title"]
    if status == "WARN":
        assert "homologation.status" in outcome["hint"]


@pytest.mark.req("PRE-07")
def test_phone_attestation_is_declared_never_verified(contract):
    outcome = check_phone_attestation(contract)
    assert outcome["status"] == "DECLARED"
    assert outcome["evidence"] == {"declared": True, "date": "2026-10-12", "verified": False}
    assert "non vérifié" in outcome["title"]
    # SEC-02: the declarant is a person; the prerequisites report carries no personal data.
    assert "Claire Martin" not in str(outcome)


@pytest.mark.req("PRE-07")
def test_missing_phone_attestation_is_a_warning(contract):
    outcome = check_phone_attestation(with_changes(contract, attestations={}))
    assert (outcome["status"], outcome["blocking"]) == ("WARN", False)
    assert "attestations.server_room_phone" in outcome["hint"]


@pytest.mark.req("PRE-09")
def test_consistent_services_pass_with_what_is_subscribed(contract):
    outcome = check_services(contract)
    assert outcome["status"] == "PASS"
    assert outcome["evidence"]["services"] == [
        "windows_server",
        "database",
        "backup",
        "protection_suite",
        "security_basic",
    ]
    assert outcome["evidence"]["options"] == {
        "antivirus_from_provider": True,
        "security_box": "basic",
    }


@pytest.mark.req("PRE-09")
def test_inconsistent_services_are_named(contract):
    # The playbook never gets here (the contract validator stops the run); the evaluator still
    # tells the truth when called on its own.
    edited = with_changes(contract, services=["windows_server", "database", "backup"])
    outcome = check_services(edited)
    assert outcome["status"] == "FAIL"
    assert "protection_suite" in outcome["title"]
    assert "security_basic" in outcome["title"]


@pytest.mark.req("PRE-02")
@pytest.mark.req("PRE-04")
@pytest.mark.req("PRE-07")
@pytest.mark.req("PRE-09")
def test_contract_results_are_complete_and_well_formed(contract):
    results = evaluate_contract(contract)
    assert [(r["requirement"], r["check"]) for r in results] == [
        ("PRE-02", "public_ip"),
        ("PRE-02", "egress_ip"),
        ("PRE-04", "homologation"),
        ("PRE-07", "server_room_phone"),
        ("PRE-09", "services"),
    ]
    for outcome in results:
        assert set(outcome) == {
            "host",
            "requirement",
            "check",
            "status",
            "blocking",
            "title",
            "evidence",
            "hint",
        }
        assert outcome["host"] == "contract"
        assert outcome["status"] in STATUSES
        assert outcome["title"]
        assert "example-not-a-secret" not in str(outcome)
