"""PRE-01/02/03/05/06/08 on Windows, judged from English and French outputs.

The fixtures under tests/fixtures/windows/prereq/ were built from Microsoft's documentation
(see each _source or .source.md), not captured live: no Windows host exists here.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_prereq import evaluate_host, load_tables
from ansible.module_utils.preventcare_prereq_access import check_admin_access
from ansible.module_utils.preventcare_prereq_hardware import check_hardware
from ansible.module_utils.preventcare_prereq_network import check_static_addressing
from ansible.module_utils.preventcare_prereq_os import check_os_support, check_security_updates
from ansible.module_utils.preventcare_prereq_relay import check_smtp
from ansible.module_utils.preventcare_prereq_remote import check_remote_assistance
from ansible.module_utils.preventcare_windows import parse_whoami_groups, windows_privilege

ROOT = Path(__file__).resolve().parents[2]
PREREQ = ROOT / "tests" / "fixtures" / "windows" / "prereq"
SMTP = ROOT / "tests" / "fixtures" / "windows" / "smtp"
TODAY = datetime.date(2026, 11, 26)
TABLES = load_tables()
CONTRACT = {
    "language": "fr",
    "remote_assistance": {"tools": ["rdp", "teamviewer", "anydesk"]},
    "smtp_relay": {"host": "relay.martin.example", "port": 587, "tls": "starttls"},
}


def part(name):
    return json.loads((PREREQ / name).read_text(encoding="utf-8"))["result"]


def whoami(name, user="MARTIN\\preventcare"):
    return {
        "privilege": {
            "user": user,
            "user_sid": "S-1-5-21-1004336348-1177238915-682003330-1107",
            "whoami_groups_csv": (PREREQ / name).read_text(encoding="utf-8"),
            "token_group_sids": [],
        }
    }


def evidence(*names, **extra):
    merged = {"platform": "windows"}
    for name in names:
        merged.update(part(name))
    merged.update(extra)
    return merged


# ---------------------------------------------------------------- PRE-08


@pytest.mark.req("PRE-08")
@pytest.mark.parametrize(
    ("fixture", "member", "elevated", "label"),
    [
        ("whoami_groups_elevated_en.csv", True, True, "S-1-16-12288"),
        ("whoami_groups_elevated_fr.csv", True, True, "S-1-16-12288"),
        ("whoami_groups_elevated_fr_codepage.csv", True, True, "S-1-16-12288"),
        ("whoami_groups_filtered_en.csv", True, False, "S-1-16-8192"),
        ("whoami_groups_filtered_fr.csv", True, False, "S-1-16-8192"),
        ("whoami_groups_user_fr.csv", False, False, "S-1-16-8448"),
    ],
)
def test_whoami_groups_are_judged_by_sid(fixture, member, elevated, label):
    privilege = whoami(fixture)["privilege"]
    assert windows_privilege(privilege) == (member, elevated, label, "whoami /groups /fo csv")


@pytest.mark.req("PRE-08")
def test_french_headers_and_names_are_read_through_the_sid_column():
    rows = parse_whoami_groups((PREREQ / "whoami_groups_elevated_fr.csv").read_text("utf-8"))
    admins = next(r for r in rows if r["sid"] == "S-1-5-32-544")
    assert admins["name"] == "BUILTIN\\Administrateurs"
    label = rows[-1]
    assert (label["name"], label["sid"]) == (
        "Étiquette obligatoire\\Niveau obligatoire élevé",
        "S-1-16-12288",
    )


@pytest.mark.req("PRE-08")
@pytest.mark.parametrize(
    ("fixture", "lang", "status", "words", "hint"),
    [
        ("whoami_groups_elevated_en.csv", "en", "PASS", "high-integrity token", ""),
        ("whoami_groups_elevated_fr.csv", "fr", "PASS", "jeton d'intégrité élevée", ""),
        ("whoami_groups_filtered_en.csv", "en", "FAIL", "is not elevated (S-1-16-8192)", "UAC"),
        (
            "whoami_groups_filtered_fr.csv",
            "fr",
            "FAIL",
            "n'est pas élevé",
            "LocalAccountTokenFilterPolicy",
        ),
        (
            "whoami_groups_user_fr.csv",
            "fr",
            "FAIL",
            "n'est pas membre",
            "groupe local Administrateurs",
        ),
    ],
)
def test_admin_access_windows(fixture, lang, status, words, hint):
    outcome = check_admin_access("srv-ad01", whoami(fixture), platform="windows", lang=lang)
    assert outcome["status"] == status
    assert words in outcome["title"]
    assert hint in outcome["hint"]
    assert outcome["evidence"]["administrators_sid_present"] is (
        fixture != "whoami_groups_user_fr.csv"
    )


@pytest.mark.req("PRE-08")
@pytest.mark.parametrize(
    ("sids", "status"),
    [
        (["S-1-1-0", "S-1-5-32-544", "S-1-5-32-545"], "PASS"),
        (["S-1-1-0", "S-1-5-32-545"], "FAIL"),
        ([], "FAIL"),
    ],
)
def test_token_groups_are_the_fallback_when_whoami_output_is_missing(sids, status):
    privilege = {"user": "MARTIN\\preventcare", "whoami_groups_csv": "", "token_group_sids": sids}
    outcome = check_admin_access(
        "srv-ad01", {"privilege": privilege}, platform="windows", lang="en"
    )
    assert outcome["status"] == status
    if not sids:
        assert "whoami /groups /fo csv" in outcome["hint"]


# ---------------------------------------------------------------- PRE-02


@pytest.mark.req("PRE-02")
def test_manual_address_passes():
    outcome = check_static_addressing(
        "srv-app01", part("network_static_en.json"), platform="windows", lang="en"
    )
    assert outcome["status"] == "PASS"
    assert outcome["title"] == "srv-app01 is statically addressed (Ethernet0 10.10.1.11/24)"
    (row,) = outcome["evidence"]["addresses"]
    assert (row["prefix_origin"], row["suffix_origin"], row["dhcp"]) == (
        "Manual",
        "Manual",
        "Disabled",
    )


@pytest.mark.req("PRE-02")
def test_dhcp_lease_fails_naming_the_interface():
    outcome = check_static_addressing(
        "srv-app01", part("network_dhcp_fr.json"), platform="windows", lang="fr"
    )
    assert outcome["status"] == "FAIL"
    assert "Ethernet 2 192.168.1.23/24" in outcome["title"]
    assert "PrefixOrigin=Dhcp, SuffixOrigin=Dhcp, Dhcp=Enabled" in outcome["title"]
    assert "Set-NetIPInterface -InterfaceIndex 12 -Dhcp Disabled" in outcome["hint"]


@pytest.mark.req("PRE-02")
def test_apipa_only_means_no_routable_address():
    outcome = check_static_addressing(
        "srv-app01", part("network_apipa_en.json"), platform="windows", lang="en"
    )
    assert (outcome["status"], outcome["title"]) == (
        "FAIL",
        "srv-app01 has no routable IPv4 address",
    )


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    "origin",
    [3, "3", "Dhcp", {"Type": "PrefixOrigin", "String": "Dhcp", "Value": 3}],
)
def test_enum_shapes_are_all_understood(origin):
    network = part("network_static_en.json")
    address = next(a for a in network["network"]["ip_addresses"] if a["IPAddress"] == "10.10.1.11")
    address["PrefixOrigin"] = origin
    outcome = check_static_addressing("srv-app01", network, platform="windows", lang="en")
    assert outcome["status"] == "FAIL"
    assert "PrefixOrigin=Dhcp" in outcome["title"]


# ---------------------------------------------------------------- PRE-03


@pytest.mark.req("PRE-03")
def test_hyperv_guest_is_recognised_and_passes():
    outcome = check_hardware(
        "srv-app01",
        part("hardware_hyperv_vm_en.json"),
        platform="windows",
        lang="en",
        table=TABLES["hardware"],
    )
    assert outcome["status"] == "PASS"
    assert outcome["title"] == (
        "srv-app01: 4 CPU, 8.0 GiB RAM, 57.0 GiB free on C: (virtual machine, Hyper-V)"
    )


@pytest.mark.req("PRE-03")
def test_physical_hyperv_host_is_not_taken_for_a_vm_and_low_disk_fails():
    outcome = check_hardware(
        "srv-ad01",
        part("hardware_dell_small_fr.json"),
        platform="windows",
        lang="fr",
        table=TABLES["hardware"],
        roles=["domain_controller", "file_server"],
    )
    assert outcome["status"] == "FAIL"
    assert outcome["evidence"]["virtual"] is None
    assert outcome["evidence"]["hypervisor_present"] is True
    assert outcome["evidence"]["kind"] == "physique, Dell Inc. PowerEdge T150"
    assert "9.6 Gio libres sur C: < 20 Gio" in outcome["title"]
    assert "8.1 % libres sur C: < 15 %" in outcome["title"]
    assert "RAM" not in outcome["title"]  # 3.9 GiB reported for 4 GiB installed: tolerated


# ---------------------------------------------------------------- PRE-05


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize(
    ("fixture", "lang", "status", "words"),
    [
        (
            "os_2019_en.json",
            "en",
            "PASS",
            "Windows Server 2019 is maintained by its vendor until 2029-01-09",
        ),
        ("os_2025_en.json", "en", "PASS", "until 2034-11-14"),
        ("os_2025_fr.json", "fr", "PASS", "jusqu'au 2034-11-14"),
        ("os_2022_fr.json", "fr", "PASS", "jusqu'au 2031-10-14"),
        ("os_2016_fr.json", "fr", "WARN", "s'arrête le 2027-01-12, dans 47 jours"),
        ("os_2012r2_fr.json", "fr", "FAIL", "Windows 6.3 < Windows Server 2016"),
        ("os_windows10_en.json", "en", "WARN", "is a workstation edition"),
    ],
)
def test_windows_os_support(fixture, lang, status, words):
    outcome = check_os_support(
        "srv-ad01", part(fixture), platform="windows", lang=lang, table=TABLES["os"], today=TODAY
    )
    assert outcome["status"] == status, outcome["title"]
    assert words in outcome["title"]


@pytest.mark.req("PRE-05")
def test_powershell_below_5_1_is_unmanageable():
    old = part("os_2019_en.json")
    old["powershell"]["PSVersion"] = "5.0.10586.117"
    outcome = check_os_support(
        "srv-ad01", old, platform="windows", lang="en", table=TABLES["os"], today=TODAY
    )
    assert outcome["status"] == "FAIL"
    assert "PowerShell 5.0.10586.117 < 5.1" in outcome["title"]


def search(name):
    """The win_powershell result of scripts/windows/pending_updates.ps1 for a fixture."""
    return {"changed": False, "failed": False, "result": part(name), "error": []}


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pending_windows_security_updates_are_counted_by_category_id(lang):
    outcome = check_security_updates(
        "srv-app01",
        {},
        platform="windows",
        lang="en",
        win_updates=search(f"updates_pending_{lang}.json"),
    )
    assert (outcome["status"], outcome["blocking"]) == ("WARN", False)
    # Two security updates; the critical and definition updates are not counted as security.
    assert outcome["title"] == "2 pending security update(s) on srv-app01"
    assert "KB5046615" in outcome["hint"] and "KB5046543" in outcome["hint"]
    assert "KB2267602" not in outcome["hint"]
    assert outcome["evidence"]["critical"] == 1


@pytest.mark.req("PRE-05")
def test_french_server_gets_the_same_verdict_as_an_english_one():
    verdicts = [
        check_security_updates(
            "srv-app01",
            {},
            platform="windows",
            lang="fr",
            win_updates=search(f"updates_pending_{lang}.json"),
        )
        for lang in ("en", "fr")
    ]
    english, french = verdicts
    assert (french["status"], french["title"]) == (english["status"], english["title"])
    assert french["evidence"]["security"] == english["evidence"]["security"] == 2
    # The display names differ, the category IDs do not.
    categories = {
        lang: {
            c["name"]
            for u in part(f"updates_pending_{lang}.json")["updates"]
            for c in u["categories"]
        }
        for lang in ("en", "fr")
    }
    assert "Security Updates" in categories["en"] and "Security Updates" not in categories["fr"]


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize(
    ("win_updates", "status", "words"),
    [
        ({"changed": False, "result": {"updates": [], "error": None}}, "PASS", ""),
        (
            {
                "changed": False,
                "result": json.loads((PREREQ / "updates_unreachable_fr.json").read_text())[
                    "result"
                ],
            },
            "WARN",
            "HResult 0x8024402C",
        ),
        (
            {
                "failed": True,
                "msg": "Unhandled exception while executing module",
                "error": [
                    {
                        "exception": {
                            "message": "Access is denied. (Exception from HRESULT: 0x80070005)"
                        },
                        "fully_qualified_error_id": "System.UnauthorizedAccessException",
                    }
                ],
            },
            "WARN",
            "0x80070005",
        ),
        ({"skipped": True}, "WARN", "did not run"),
        (None, "WARN", "did not run"),
    ],
)
def test_windows_update_search_outcomes(win_updates, status, words):
    outcome = check_security_updates(
        "srv-app01", {}, platform="windows", lang="en", win_updates=win_updates
    )
    assert outcome["status"] == status
    assert words in outcome["hint"]


# ---------------------------------------------------------------- PRE-06


@pytest.mark.req("PRE-06")
@pytest.mark.parametrize(
    ("fixture", "status", "words", "hint"),
    [
        ("remote_rdp_en.json", "PASS", "RDP est installé et actif", ""),
        (
            "remote_rdp_denied_teamviewer_stopped_fr.json",
            "FAIL",
            "Installé mais inactif sur srv-ad01 : RDP, TeamViewer",
            "Start-Service TeamViewer",
        ),
        ("remote_anydesk_numeric_en.json", "PASS", "AnyDesk", ""),
    ],
)
def test_windows_remote_assistance(fixture, status, words, hint):
    outcome = check_remote_assistance(
        "srv-ad01", part(fixture), platform="windows", lang="fr", contract=CONTRACT
    )
    assert outcome["status"] == status
    assert words in outcome["title"]
    assert hint in outcome["hint"]


@pytest.mark.req("PRE-06")
def test_rdp_denied_by_registry_is_not_running():
    outcome = check_remote_assistance(
        "srv-ad01",
        part("remote_rdp_denied_teamviewer_stopped_fr.json"),
        platform="windows",
        lang="en",
        contract={"language": "en", "remote_assistance": {"tools": ["rdp"]}},
    )
    assert outcome["status"] == "FAIL"
    assert outcome["evidence"]["tools"]["rdp"]["fDenyTSConnections"] == 1
    assert "fDenyTSConnections 0" in outcome["hint"]


# ---------------------------------------------------------------- PRE-01


@pytest.mark.req("PRE-01")
@pytest.mark.parametrize(
    ("fixture", "status", "words"),
    [
        ("success_starttls_en.json", "PASS", "relaie le courrier de srv-ad01"),
        ("refused_fr.json", "FAIL", "refused à l'étape connect"),
        ("relay_denied_en.json", "FAIL", "relay_denied à l'étape rcpt"),
        ("tls_no_common_algorithm_en.json", "FAIL", "tls_failed à l'étape tls_handshake"),
    ],
)
def test_windows_smtp_transcript_is_judged_by_the_shared_classifier(fixture, status, words):
    win_powershell = {
        "changed": False,
        "result": json.loads((SMTP / fixture).read_text())["result"],
    }
    outcome = check_smtp(
        "srv-ad01", win_powershell, lang="fr", platform="windows", contract=CONTRACT
    )
    assert outcome["status"] == status
    assert words in outcome["title"]
    if status == "FAIL":
        assert outcome["hint"]
        assert outcome["evidence"]["transcript"]


@pytest.mark.req("PRE-01")
def test_windows_tls_failure_keeps_schannel_code():
    result = json.loads((SMTP / "tls_no_common_algorithm_en.json").read_text())["result"]
    outcome = check_smtp(
        "srv-ad01",
        {"changed": False, "result": result},
        lang="en",
        platform="windows",
        contract={**CONTRACT, "language": "en"},
    )
    assert outcome["status"] == "FAIL"
    assert "AuthenticationException 0x80090331" in outcome["hint"]


# ---------------------------------------------------------------- whole host


@pytest.mark.req("PRE-02")
@pytest.mark.req("PRE-03")
@pytest.mark.req("PRE-05")
@pytest.mark.req("PRE-06")
@pytest.mark.req("PRE-08")
def test_whole_french_windows_host():
    script_result = evidence(
        "os_2016_fr.json",
        "network_dhcp_fr.json",
        "hardware_dell_small_fr.json",
        "remote_rdp_denied_teamviewer_stopped_fr.json",
        privilege=whoami("whoami_groups_elevated_fr.csv")["privilege"],
        errors=[],
    )
    bundle = {
        "host": "srv-ad01",
        "platform": "windows",
        "roles": ["domain_controller"],
        "evidence": {"changed": False, "result": script_result},
        "smtp": {
            "changed": False,
            "result": json.loads((SMTP / "refused_fr.json").read_text())["result"],
        },
        "win_updates": search("updates_pending_fr.json"),
    }
    results = evaluate_host(bundle, CONTRACT, TABLES, TODAY)
    assert [(r["requirement"], r["status"]) for r in results] == [
        ("PRE-01", "FAIL"),
        ("PRE-02", "FAIL"),
        ("PRE-03", "FAIL"),
        ("PRE-05", "WARN"),
        ("PRE-05", "WARN"),
        ("PRE-06", "FAIL"),
        ("PRE-08", "PASS"),
    ]
    assert all(r["host"] == "srv-ad01" for r in results)
    json.dumps(results)


# ---------------------------------------------------------------- failed evidence sections


def _host(script_result, **extra):
    return {
        "host": "srv-ad01",
        "platform": "windows",
        "roles": [],
        "evidence": {"changed": False, "result": script_result},
        "smtp": {},
        "win_updates": search("updates_pending_en.json"),
        **extra,
    }


@pytest.mark.req("PRE-02")
@pytest.mark.req("PRE-08")
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_failed_section_says_collection_failed_with_its_message(lang):
    failed = json.loads((PREREQ / "evidence_sections_denied_en.json").read_text())["result"]
    results = {
        r["check"]: r
        for r in evaluate_host(_host(failed), {**CONTRACT, "language": lang}, TABLES, TODAY)
    }
    for check, section in (("static_addressing", "network"), ("admin_access", "privilege")):
        outcome = results[check]
        assert outcome["status"] == "FAIL"
        assert outcome["evidence"]["collection_errors"][0]["section"] == section
        assert ("collection failed" if lang == "en" else "échec de la collecte") in outcome["title"]
        assert "Access denied" in outcome["title"]
        # Never the guess the missing data would have given.
        assert "routable" not in outcome["title"] and "could not be read" not in outcome["title"]
    # The sections that were read are still judged.
    assert results["hardware"]["evidence"].get("collection_errors") is None
    assert results["os_support"]["status"] in ("PASS", "WARN")


@pytest.mark.req("PRE-05")
@pytest.mark.req("PRE-08")
@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("evidence_requires_fail_en.json", "ScriptRequiresUnmatchedPSVersion"),
        ("evidence_ps4_bootstrap_en.json", "Ansible requires PowerShell v5.1"),
        ("evidence_constrained_language_en.json", "language mode"),
    ],
)
def test_a_failed_evidence_script_fails_every_check_with_its_message(fixture, words):
    outcome = json.loads((PREREQ / fixture).read_text())["outcome"]
    results = evaluate_host(_host({}, evidence=outcome), CONTRACT, TABLES, TODAY)
    judged = [r for r in results if r["requirement"] != "PRE-01"]
    assert {r["check"] for r in judged} == {
        "static_addressing",
        "hardware",
        "os_support",
        "remote_assistance",
        "admin_access",
    }
    for result in judged:
        assert result["status"] == "FAIL"
        assert words in result["evidence"]["error"]
