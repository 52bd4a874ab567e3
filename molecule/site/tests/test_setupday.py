"""The set-up day as the engineer and the client find it once playbooks/site_day.yml has run.

Four containers: the relay (Postfix, the surveillance mailbox behind it), the monitor host
and two Linux servers. The technical document is read from the scenario's reports folder and
compared with what the containers themselves say (names, addresses, services, shares).
"""

from __future__ import annotations

import datetime
import email.header
import json
import mailbox
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import icalendar
import jsonschema
import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "module_utils"))
from browser import look  # noqa: E402
from preventcare_calendar import is_working_day, next_visit  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1]
CONTRACT = yaml.safe_load(
    (SCENARIO / "inventory" / "group_vars" / "all" / "preventcare.yml").read_text(encoding="utf-8")
)["preventcare"]
CLIENT = CONTRACT["client"]
REPORTS = Path(os.environ["PCD_SITE_REPORTS"]) / CLIENT["id"]
SCHEMA = json.loads((ROOT / "schemas" / "technical.schema.json").read_text(encoding="utf-8"))
SPOOL = "/var/mail/surveillance"
LINUX = {"mon01": "pcd-mon01", "srv-lin01": "pcd-srv-lin01", "srv-lin02": "pcd-srv-lin02"}
WINDOWS = ("srv-ad01", "srv-app01")
ALL_HOSTS = (*LINUX, *WINDOWS)

relay = testinfra.get_host("podman://pcd-relay")
WATCHDOG = re.compile(r"· Watchdog( \(\u00d7\d+\))?$")


def _latest(name: str) -> Path:
    found = sorted(REPORTS.glob(f"*/{name}"))
    assert found, f"no {name} under {REPORTS}"
    return found[-1]


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(_latest("technical.json").read_text(encoding="utf-8"))


def _container(host: str):
    return testinfra.get_host(f"podman://{LINUX[host]}")


def _global_addresses(host: str) -> list[str]:
    links = json.loads(_container(host).check_output("ip -j addr"))
    return sorted(
        info["local"]
        for link in links
        for info in link.get("addr_info", [])
        if info.get("scope") == "global"
    )


def _enabled_services(host: str) -> list[str]:
    out = _container(host).check_output(
        "systemctl list-unit-files --type=service --state=enabled --no-legend"
    )
    units = [line.split()[0] for line in out.splitlines() if line.strip()]
    return sorted({u.removesuffix(".service") for u in units if "@" not in u})


def _subject(message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"] or "")))


# --------------------------------------------------------------------------- MON-TEL-01
@pytest.mark.req("MON-TEL-01")
def test_the_heartbeat_email_reached_the_surveillance_mailbox_through_the_relay(tmp_path):
    deadline = time.monotonic() + 60
    subjects = []
    while time.monotonic() < deadline:
        box = relay.run(f"cat {SPOOL} 2>/dev/null || true").stdout
        (tmp_path / "mbox").write_text(box, encoding="utf-8")
        messages = list(mailbox.mbox(tmp_path / "mbox"))
        subjects = [_subject(m) for m in messages]
        # A count suffix (U+00D7 and N): the set-up day's proof joins the Watchdog's group.
        watchdog = [m for m, s in zip(messages, subjects, strict=True) if WATCHDOG.search(s)]
        if watchdog:
            break
        time.sleep(1)
    else:
        log = relay.run("tail -n 20 /var/log/postfix.log").stdout
        raise AssertionError(f"no Watchdog mail in {SPOOL}: {subjects}\n{log}")
    message = watchdog[0]
    assert _subject(message).startswith(
        f"[PreventCare {CLIENT['id']}] sans impact · MON-TEL-01 · mon01 · Watchdog"
    )
    assert message["Delivered-To"] == CONTRACT["surveillance_mailbox"]
    # it came from the monitor host, through the relay the contract names
    assert "mon01" in " ".join(message.get_all("Received") or [])


# --------------------------------------------------------------------------- SET-04
@pytest.mark.req("SET-04")
def test_the_technical_document_matches_its_schema_and_names_the_client(document):
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert document["kind"] == "technical"
    assert document["client"]["name"] == CLIENT["name"]
    assert document["language"] == CONTRACT["language"]
    # SEC-02: the technical document is where the contacts belong
    assert [c["email"] for c in document["contacts"]] == [c["email"] for c in CONTRACT["contacts"]]


@pytest.mark.req("SET-04")
@pytest.mark.parametrize("host", list(LINUX))
def test_every_linux_server_holds_the_containers_real_name_addresses_and_services(document, host):
    record = next(s for s in document["servers"] if s["host"] == host)
    facts = _container(host)
    assert record["hostname"].split(".")[0] == facts.check_output("hostname -s")
    assert sorted(a["address"].split("/")[0] for a in record["addresses"]) == _global_addresses(
        host
    )
    assert record["services"] == _enabled_services(host)
    pretty = facts.check_output(". /etc/os-release && echo $PRETTY_NAME")
    assert record["os"]["name"] == pretty
    assert record["os"]["end_of_support"]  # Debian 12 is in data/os_support.yml
    # systemd-detect-virt names the container manager (podman, or container-other)
    assert record["kind"] == "virtual" and record["virtualization"]
    assert record["site"] == "villeurbanne"
    # what the set-up day installed is among the services started at boot
    assert "prometheus-node-exporter" in record["services"]
    # the dossier the compliance run compares is the same facts, as its module defines them
    entry = document["dossier"]["hosts"][host]
    assert entry["addresses"] == _global_addresses(host)
    assert entry["services"] == _enabled_services(host)


@pytest.mark.req("SET-04")
def test_the_file_servers_shares_and_the_monitor_hosts_stack_are_in_the_document(document):
    shares = {(s["host"], s["share"]) for s in document["information_system"]["shares"]}
    assert {("srv-lin02", "smb:Commun"), ("srv-lin02", "smb:Direction")} <= shares
    assert ("srv-lin02", "nfs:/srv/archives") in shares
    assert document["dossier"]["hosts"]["srv-lin02"]["shares"] == [
        "nfs:/srv/archives",
        "smb:Commun",
        "smb:Direction",
    ]
    mon = next(s for s in document["servers"] if s["host"] == "mon01")
    assert {"prometheus", "prometheus-alertmanager"} <= set(mon["services"])
    assert mon["server"] is False  # the monitor host alone is not one of the client's servers


@pytest.mark.req("SET-04")
def test_every_section_of_the_document_holds_the_sites_data(document):
    network = {s["name"]: s for s in document["network"]["sites"]}
    villeurbanne = network["villeurbanne"]
    assert villeurbanne["router"] == "Stormshield SN160"
    assert {s["host"] for s in villeurbanne["servers"]} == set(LINUX)
    assert document["network"]["public_ip"] == CONTRACT.get("public_ip")  # none in the lab
    info = document["information_system"]
    backup = next(b for b in info["backup"] if b["host"] == "srv-lin01")
    assert backup["where"] == "/mnt/backup" and backup["schedule"] == "daily 23:00"
    assert {m["host"] for m in info["messaging"]} == set(LINUX)  # the send-only Postfix
    policy = {u["host"]: u["policy"] for u in info["update_policy"]}
    assert policy["srv-lin01"] == "unattended_security"  # SET-02 set it
    assert info["remote_assistance"] == CONTRACT["remote_assistance"]["tools"]
    assert document["peripherals"] == {"printers": [], "ups": []}
    preventcare = document["preventcare"]
    assert preventcare["relay"]["host"] == "pcd-relay"
    assert preventcare["mailbox"] == CONTRACT["surveillance_mailbox"]
    overridden = [t["requirement"] for t in preventcare["thresholds"] if t["overridden"]]
    assert overridden == ["MON-SYS-05"]
    agents = {m["host"]: m["agent"] for m in preventcare["monitored"]}
    assert agents["srv-lin01"] == "node_exporter" and agents["srv-ad01"] == "windows_exporter"


@pytest.mark.req("SET-04")
def test_the_windows_servers_no_run_reached_are_listed_as_not_read(document):
    for host in WINDOWS:
        record = next(s for s in document["servers"] if s["host"] == host)
        assert record["errors"] and "not read" in record["errors"][0]
        assert record["site"] == "lyon"


@pytest.mark.req("PRE-04")
def test_the_waived_blocking_prerequisite_is_recorded_with_its_reason(document):
    homologation = document["homologation"]
    waiver = CONTRACT["waivers"][0]
    waived = [(w["host"], w["requirement"], w["check"]) for w in homologation["waived"]]
    assert ("contract", "PRE-02", "public_ip") in waived
    assert homologation["open"] == []
    assert homologation["status"] == CONTRACT["homologation"]["status"]
    entry = next(w for w in homologation["waived"] if w["check"] == "public_ip")
    assert entry["waiver"]["reason"] == waiver["reason"]
    assert Path(homologation["prerequisites_report"]).is_file()


@pytest.mark.req("SET-05")
def test_the_set_up_duration_is_two_days_for_four_servers(document):
    # srv-lin01, srv-lin02 and the two Windows servers; mon01 is the monitor host only
    assert document["sizing"] == {"users": 18, "servers": 4, "days": 2, "rule": "medium"}


@pytest.mark.req("SET-04")
def test_the_network_diagram_names_every_host_site_and_router(document):
    assert document["diagram"] == {"file": "network.svg"}
    svg = (_latest("technical.json").parent / "network.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg")
    # the labels as drawn (Graphviz writes "-" as &#45;): the text of every <text> element
    drawn = {
        node.text for node in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
    }
    for name in (*ALL_HOSTS, "Site lyon", "Site villeurbanne", "Stormshield SN160", "VPN"):
        assert name in drawn, (name, sorted(drawn))
    # and it is embedded in the HTML page
    html = (_latest("technical.json").parent / "technical.html").read_text(encoding="utf-8")
    assert "<svg" in html and "srv-lin02" in html


@pytest.mark.req("SET-04")
def test_the_pdf_opens_names_the_client_and_every_host_and_its_first_page_renders(tmp_path):
    pdf = _latest("technical.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert CLIENT["name"] in text
    for host in ALL_HOSTS:
        assert host in text, host
    assert "Document technique" in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image  # noqa: PLC0415 - WeasyPrint's own dependency

    image = Image.open(png).convert("L")
    width, height = image.size
    assert width < height  # A4 portrait
    dark = sum(1 for value in image.getdata() if value < 128)
    # a page with text on it: neither blank nor a solid block
    assert 0.005 < dark / (width * height) < 0.5, dark / (width * height)


@pytest.mark.req("SET-04")
def test_the_html_document_reads_right_in_a_browser(tmp_path):
    page = look(_latest("technical.html"), tmp_path / "technical.png")
    for heading in (
        "1. Informations administratives",
        "2. Serveurs",
        "3. Réseau",
        "4. Système d'information",
        "5. Autres périphériques",
        "6. Configuration PreventCare",
        "7. Homologation et dérogations",
        "8. Visites préventives",
        "Schéma du réseau",
    ):
        assert heading in page.text, heading
    for value in (CLIENT["name"], *ALL_HOSTS, CONTRACT["contacts"][0]["name"]):
        assert value in page.text, value
    assert CONTRACT["waivers"][0]["reason"] in page.text
    assert "{{" not in page.text and "Traceback" not in page.text


@pytest.mark.req("SET-04")
def test_the_markdown_document_has_every_section(document):
    text = _latest("technical.md").read_text(encoding="utf-8")
    for n in range(1, 9):
        assert f"\n## {n}. " in text
    assert "srv-lin02" in text and "network.svg" in text


# --------------------------------------------------------------------------- VIS-01
@pytest.mark.req("VIS-01")
def test_the_visit_plan_holds_five_visits_on_working_days_in_the_contract_year(document):
    ics = _latest("visit-plan.ics").read_text(encoding="utf-8")
    events = list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))
    days = [e.decoded("dtstart") for e in events]
    # 2 visits + one per server beyond the first: 4 servers, 5 visits
    assert len(days) == 5
    start = datetime.date.fromisoformat(CLIENT["contract_start"])
    assert all(start <= d < start.replace(year=start.year + 1) for d in days)
    assert all(is_working_day(d) for d in days)
    assert [d.isoformat() for d in days] == [v["date"] for v in document["visits"]["visits"]]
    assert next_visit(ics, start) == days[0].isoformat()
    assert "srv-lin01" in str(events[0]["description"])


def test_the_run_folder_holds_every_file_of_the_set_up_day():
    folder = _latest("technical.json").parent
    names = {p.name for p in folder.iterdir()}
    expected = {"technical.json", "technical.md", "technical.html", "technical.pdf"}
    assert expected | {"network.svg", "visit-plan.ics", "prerequisites.html"} <= names
    for path in folder.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o640", path
    # no secret of the contract in any text file (SEC-01)
    secret = yaml.safe_load((SCENARIO / "inventory/group_vars/all/vault.yml").read_text())
    for path in folder.iterdir():
        if path.suffix != ".pdf":
            assert secret["vault_preventcare_smtp_password"] not in path.read_text("utf-8")
