"""The technical document's shaping (SET-04): Windows and Linux facts, the document, the diagram."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from ansible.module_utils.preventcare_contract_file import load_contract_file
from ansible.module_utils.preventcare_data import data_path, load_table
from ansible.module_utils.preventcare_dossier import drift
from ansible.module_utils.preventcare_prereq_os import find_os_entry
from ansible.module_utils.preventcare_technical import (
    build_technical,
    diagram_dot,
    linux_host,
    split_waived,
    update_policy,
    windows_host,
)
from ansible.module_utils.preventcare_thresholds import (
    format_threshold,
    human_duration,
    load_thresholds,
    merge_overrides,
    parse_duration,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "windows" / "technical"
SCHEMA = json.loads((ROOT / "schemas" / "technical.schema.json").read_text(encoding="utf-8"))
NOW = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)


def _fixture(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _linux_facts():
    return {
        "hostname": "srv-lin01.martin.local",
        "os_release": {
            "ID": "debian",
            "VERSION_ID": "12",
            "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)",
        },
        "ip_addr": [
            {
                "ifname": "lo",
                "addr_info": [{"local": "127.0.0.1", "prefixlen": 8, "scope": "host"}],
            },
            {
                "ifname": "eth0",
                "addr_info": [
                    {"local": "10.10.2.20", "prefixlen": 24, "scope": "global"},
                    {"local": "fe80::1", "prefixlen": 64, "scope": "link"},
                ],
            },
        ],
        "routes": [{"dst": "default", "gateway": "10.10.2.254"}],
        "dmi": {"vendor": "Dell Inc.", "product": "PowerEdge T150", "serial": "ABC"},
        "virtualization": "none",
        "enabled_services": ["ssh.service", "cron.service", "postfix.service", "getty@.service"],
        "smb_conf": "[global]\n workgroup = MARTIN\n[compta]\n path = /srv/compta\n",
        "exports": "/srv/archives 10.10.2.0/24(ro)\n",
        "printers": "device for Atelier: ipp://10.10.2.60/ipp/print\n",
        "ups": "eaton\n",
        "apt_periodic": 'APT::Periodic::Unattended-Upgrade "1";\n',
        "backup_metrics": {
            "preventcare_backup_daily.prom": (
                'preventcare_backup_last_status{backup_job="daily",software="cpio_tar"} 0\n'
                "preventcare_backup_last_end_timestamp_seconds"
                '{backup_job="daily",software="cpio_tar"} 1764626400\n'
            )
        },
    }


CODES = {"success": 0, "failed": 1, "incomplete": 2, "cancelled": 3}


# ---------------------------------------------------------------- Windows
@pytest.mark.req("SET-04")
def test_an_english_domain_controller_is_shaped_from_numbers_and_ids():
    record = windows_host("srv-ad01", _fixture("dc_en.json"))
    assert record["domain_role"] == "primary_domain_controller"
    assert record["domain"] == "martin.local"
    assert record["kind"] == "physical"
    assert (record["vendor"], record["model"]) == ("HPE", "ProLiant ML350 Gen10")
    assert "AD-Domain-Services" in record["features"]
    # Special shares are left out by their flag, not their names; NETLOGON/SYSVOL are real shares.
    assert record["shares"] == ["smb:NETLOGON", "smb:SYSVOL", "smb:Commun", "smb:Compta"]
    assert record["logon_scripts"] == ["drives\\map-compta.cmd", "logon.bat"]
    assert record["services"] == ["DNS", "LanmanServer", "NTDS", "Spooler", "windows_exporter"]
    assert [a["address"] for a in record["addresses"]] == ["10.10.1.10/24"]
    assert record["update_policy"] == "scheduled_install"
    assert [p["name"] for p in record["printers"]] == ["Microsoft Print to PDF", "Accueil-MFP"]
    assert record["dossier"] == {
        "addresses": ["10.10.1.10"],
        "services": ["DNS", "LanmanServer", "NTDS", "Spooler", "windows_exporter"],
        "shares": ["smb:Commun", "smb:Compta", "smb:NETLOGON", "smb:SYSVOL"],
    }


@pytest.mark.req("SET-04")
def test_a_french_member_server_gives_the_same_shapes_whatever_its_language():
    record = windows_host("srv-app01", _fixture("member_fr.json"))
    assert record["domain_role"] == "member_server"
    assert record["kind"] == "virtual"  # HypervisorPresent
    assert record["shares"] == ["smb:Sauvegardes SQL"]
    assert record["services"] == ["LanmanServer", "MSSQLSERVER"]
    assert record["ups"] == [{"name": "Batterie APC Smart-UPS 1500", "status": "on_mains"}]
    assert record["update_policy"] == "wsus:download_notify_install"
    # a section the script could not read is said, with its locale-independent HResult
    assert record["features"] == []
    assert record["errors"] == ["features: 0x80070005"]
    assert record["identity"]["build"] == 17763


@pytest.mark.parametrize(
    ("updates", "policy"),
    [
        ({"NoAutoUpdate": 1, "AUOptions": 4}, "disabled"),
        ({"AUOptions": 2}, "notify_download"),
        ({}, "not_configured"),
        (None, "not_configured"),
        ({"AUOptions": 4, "WUServer": "http://wsus:8530"}, "wsus:scheduled_install"),
    ],
)
def test_the_windows_update_policy_is_read_from_its_policy_numbers(updates, policy):
    assert update_policy(updates) == policy


def test_an_empty_windows_result_gives_an_empty_record_not_a_traceback():
    record = windows_host("srv-x", {"output": []})
    assert record["services"] == [] and record["shares"] == [] and record["kind"] is None


# ---------------------------------------------------------------- Linux
@pytest.mark.req("SET-04")
def test_a_linux_server_is_shaped_with_its_shares_printers_and_last_backup():
    record = linux_host("srv-lin01", _linux_facts(), codes=CODES)
    assert record["domain"] == "martin.local"
    assert record["kind"] == "physical"
    assert record["addresses"] == [{"interface": "eth0", "address": "10.10.2.20/24"}]
    assert record["gateway"] == "10.10.2.254"
    assert record["shares"] == ["smb:compta", "nfs:/srv/archives"]
    assert record["printers"] == [
        {"name": "Atelier", "port": "ipp://10.10.2.60/ipp/print", "driver": None}
    ]
    assert record["mail_services"] == ["postfix"]
    assert record["update_policy"] == "unattended_security"
    assert record["backups"] == [
        {
            "job": "daily",
            "software": "cpio_tar",
            "status": "success",
            "ended": "2025-12-01T22:00:00Z",
        }
    ]
    # the dossier entry is the shared module's, so the compliance run compares like with like
    assert record["dossier"] == {
        "addresses": ["10.10.2.20"],
        "services": ["cron", "postfix", "ssh"],
        "shares": ["nfs:/srv/archives", "smb:compta"],
    }


def test_a_container_is_virtual_and_missing_sources_stay_unknown():
    facts = {"virtualization": "podman", "hostname": "mon01"}
    record = linux_host("mon01", facts, codes=CODES)
    assert record["kind"] == "virtual" and record["virtualization"] == "podman"
    assert record["domain"] is None and record["update_policy"] == "unknown"
    assert linux_host("x", {}, codes=CODES)["kind"] is None


# ---------------------------------------------------------------- the document
def _contract():
    data, problems = load_contract_file(ROOT / "inventories/example/group_vars/all/preventcare.yml")
    assert problems == []
    data["waivers"] = [
        {
            "requirement": "PRE-02",
            "check": "public_ip",
            "reason": "Fixed IP ordered",
            "author": "Julien Roche",
            "date": "2026-12-01",
        }
    ]
    return data


def _document(contract=None):
    contract = contract or _contract()
    hosts = [
        {
            **windows_host("srv-ad01", _fixture("dc_en.json")),
            "site": "lyon",
            "roles": ["domain_controller"],
        },
        {
            **windows_host("srv-app01", _fixture("member_fr.json")),
            "site": "lyon",
            "roles": ["database"],
        },
        {
            **linux_host("srv-lin01", _linux_facts(), codes=CODES),
            "site": "villeurbanne",
            "roles": ["accounting"],
        },
        {
            **linux_host("mon01", {"virtualization": "kvm"}, codes=CODES),
            "site": "villeurbanne",
            "roles": ["monitor"],
        },
    ]
    merged, problems = merge_overrides(load_thresholds(), contract.get("thresholds") or {})
    assert problems == []
    blocking = [
        {
            "host": "contract",
            "requirement": "PRE-02",
            "check": "public_ip",
            "status": "FAIL",
            "title": "not public",
        },
        {
            "host": "srv-lin01",
            "requirement": "PRE-06",
            "check": "remote_assistance",
            "status": "FAIL",
            "title": "none",
        },
    ]
    return build_technical(
        hosts,
        contract,
        "20261201T093000Z",
        generated_at=NOW,
        sizing={"days": 2, "rule": "medium"},
        plan={
            "year_start": "2026-12-01",
            "year_end": "2027-11-30",
            "visits": [
                {
                    "number": n,
                    "date": f"2027-0{n}-10",
                    "target": f"2027-0{n}-10",
                    "moved_because": [],
                }
                for n in range(1, 5)
            ],
        },
        thresholds=merged,
        prerequisites={"report": "prerequisites.html", "blocking": blocking},
        monitored={"srv-lin01": {"agent": "node_exporter", "port": 9100, "sensors": ["smartd"]}},
        os_table=load_table(data_path("os_support.yml")),
        find_os_entry=find_os_entry,
        formatters=(format_threshold, human_duration, parse_duration),
    )


@pytest.mark.req("SET-04")
def test_the_document_matches_its_schema_and_holds_every_section():
    document = _document()
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert document["kind"] == "technical" and document["schema_version"] == 1
    servers = {s["host"]: s for s in document["servers"]}
    assert servers["srv-ad01"]["os"]["end_of_support"] == "2031-10-14"
    assert servers["mon01"]["server"] is False  # the monitor host alone is not a client server
    assert [c["name"] for c in document["contacts"]][:1] == [
        "Claire Martin"
    ]  # SEC-02: allowed here
    shares = {(s["host"], s["share"]) for s in document["information_system"]["shares"]}
    assert ("srv-ad01", "smb:Compta") in shares and ("srv-lin01", "nfs:/srv/archives") in shares
    overridden = [t for t in document["preventcare"]["thresholds"] if t["overridden"]]
    assert [t["requirement"] for t in overridden] == ["MON-SYS-05"]
    assert "97" in overridden[0]["threshold"]
    backup = {b["host"]: b for b in document["information_system"]["backup"]}
    assert backup["srv-lin01"]["last"]["status"] == "success"
    assert backup["srv-ad01"]["last"] is None
    assert document["diagram"] == {"file": "network.svg"}
    assert "password" not in json.dumps(document["preventcare"]["relay"])


@pytest.mark.req("PRE-04")
def test_waived_and_open_blocking_prerequisites_are_recorded_in_the_homologation_section():
    homologation = _document()["homologation"]
    assert [(w["host"], w["requirement"]) for w in homologation["waived"]] == [
        ("contract", "PRE-02")
    ]
    assert homologation["waived"][0]["waiver"]["reason"] == "Fixed IP ordered"
    assert [(o["host"], o["requirement"]) for o in homologation["open"]] == [
        ("srv-lin01", "PRE-06")
    ]


def test_an_unreachable_host_is_never_waived():
    waived, open_ = split_waived(
        [{"host": "a", "requirement": "PRE-02", "check": "x", "status": "UNREACHABLE"}],
        [{"requirement": "PRE-02", "reason": "r", "author": "a", "date": "2026-01-01"}],
    )
    assert waived == [] and len(open_) == 1


@pytest.mark.req("SET-04")
def test_the_dossier_section_is_what_the_compliance_run_compares():
    document = _document()
    hosts = document["dossier"]["hosts"]
    assert set(hosts) == {"srv-ad01", "srv-app01", "srv-lin01", "mon01"}
    assert hosts["srv-app01"]["shares"] == ["smb:Sauvegardes SQL"]
    current = json.loads(json.dumps(hosts))
    current["srv-lin01"]["services"].remove("postfix")
    assert drift(hosts, current) == [
        {"host": "srv-lin01", "kind": "service", "change": "removed", "value": "postfix"}
    ]


@pytest.mark.req("SET-04")
def test_the_diagram_names_every_site_server_router_and_the_vpn_link():
    document = _document()
    labels = yaml.safe_load((ROOT / "data/texts/technical.yml").read_text())["texts"]
    dot = diagram_dot(document, {k: v["en"] for k, v in labels.items()})
    for name in ("srv-ad01", "srv-app01", "srv-lin01", "mon01", "Site lyon", "Site villeurbanne"):
        assert name in dot
    assert "10.10.1.254" in dot and "style=dashed" in dot
    assert document["network"]["public_ip"] in dot


def test_a_single_server_single_site_client_has_no_diagram():
    contract = _contract()
    contract["sites"] = contract["sites"][:1]
    hosts = [{**linux_host("srv-lin01", _linux_facts(), codes=CODES), "site": "lyon", "roles": []}]
    document = build_technical(
        hosts,
        contract,
        "r1",
        generated_at=NOW,
        sizing={"days": 1, "rule": "small"},
        plan={"year_start": "2026-12-01", "year_end": "2027-11-30", "visits": []},
        thresholds=None,
    )
    assert document["diagram"] is None
