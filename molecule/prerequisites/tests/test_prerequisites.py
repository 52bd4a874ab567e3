"""The prerequisites run as an engineer starts it, on the scenario's containers.

The run is expected to fail (blocking prerequisites): its exit code and its report are
asserted, item by item. The relay is an aiosmtpd sink on the scenario network's gateway
(host.containers.internal for the containers) that refuses to relay for srv-dynamic, so that
PRE-01 is seen to run from each server, with that server's own address.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import testinfra
import yaml
from aiosmtpd.controller import Controller

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY") or Path(__file__).resolve().parents[3])
sys.path.insert(0, str(ROOT / "tests"))

from smtp_servers import RecordingHandler  # noqa: E402

SCENARIO = ROOT / "molecule" / "prerequisites"
INVENTORY = SCENARIO / "inventory"
CONTRACT = yaml.safe_load((INVENTORY / "group_vars" / "all" / "preventcare.yml").read_text())
NETWORK = "preventcare-prerequisites"
CONTAINERS = {"srv-static": "pcpre-static", "srv-dynamic": "pcpre-dynamic"}
CONTAINERS.update({"srv-nosudo": "pcpre-nosudo"})
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
SUBJECT = "PreventCare PRE-01 test"


def _env():
    # The project's own configuration, not the one molecule prepared for its playbooks.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "containers" / "containers.conf"))
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return env


def _podman_json(*args):
    done = subprocess.run(
        ["podman", *args], env=_env(), capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout)


class PeerPolicyHandler(RecordingHandler):
    """Relays for every client address but the denied ones; remembers who sent what."""

    def __init__(self, denied):
        super().__init__()
        self.denied = set(denied)
        self.senders = []  # (client address, subject)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if session.peer[0] in self.denied:
            return "550 5.7.1 Relaying denied for this address"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        self.senders.append((session.peer[0], self.messages[-1]["Subject"]))
        return reply


@pytest.fixture(scope="module")
def addresses():
    """Inventory host name -> the container's address on the scenario network."""
    found = {}
    for host, container in CONTAINERS.items():
        [info] = _podman_json("container", "inspect", container)
        found[host] = info["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]
    return found


@pytest.fixture(scope="module")
def relay(addresses):
    [network] = _podman_json("network", "inspect", NETWORK)
    gateway = network["subnets"][0]["gateway"]
    handler = PeerPolicyHandler(denied=[addresses["srv-dynamic"]])
    controller = Controller(
        handler,
        hostname=gateway,
        port=CONTRACT["preventcare"]["smtp_relay"]["port"],
        server_hostname="relay.lab.test",
        ready_timeout=5,
    )
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture(scope="module")
def run(relay, tmp_path_factory):
    """ansible-playbook -i molecule/prerequisites/inventory playbooks/prerequisites.yml."""
    work = tmp_path_factory.mktemp("prerequisites-run")
    env = _env()
    env["ANSIBLE_CACHE_PLUGIN_CONNECTION"] = str(work / "facts")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            str(INVENTORY),
            "playbooks/prerequisites.yml",
            "-e",
            json.dumps(
                {
                    "preventcare_reports_root": str(work / "reports"),
                    "preventcare_prerequisites_send_test_message": True,
                }
            ),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    runs = list((work / "reports" / "prereq-lab").iterdir())
    assert len(runs) == 1, done.stdout + done.stderr
    report = json.loads((runs[0] / "prerequisites.json").read_text())
    results = {(r["host"], r["check"]): r for h in report["hosts"] for r in h["results"]}
    return {"done": done, "folder": runs[0], "report": report, "results": results}


# --- the test hosts are what the scenario says they are --------------------------------


def test_srv_dynamic_carries_a_leased_address():
    host = testinfra.get_host("podman://pcpre-dynamic")
    [eth0] = json.loads(host.check_output("ip -j -4 addr show dev eth0"))
    assert eth0["addr_info"][0]["dynamic"] is True
    assert 0 < eth0["addr_info"][0]["valid_life_time"] <= 3600


def test_srv_nosudo_user_has_no_sudo():
    host = testinfra.get_host("podman://pcpre-nosudo")
    probe = host.run("runuser -u technician -- sudo -n true")
    assert probe.rc != 0
    assert "a password is required" in probe.stderr


# --- the run -------------------------------------------------------------------------------


def test_run_fails_after_writing_the_report(run):
    done = run["done"]
    output = done.stdout + done.stderr
    # 4, Ansible's code for a run with unreachable hosts: srv-gone counts unreachable=1 in the
    # recap once the report is written (the blocking failures are reported all the same).
    assert done.returncode == 4, output
    assert re.search(r"^srv-gone\s+:.*\bunreachable=1\b", output, re.MULTILINE), output
    assert "blocking prerequisite(s) failed" in output
    assert "Traceback" not in output
    names = sorted(p.name for p in run["folder"].iterdir())
    assert names == ["prerequisites.html", "prerequisites.json", "prerequisites.md"]
    for path in run["folder"].iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    # The console table: one row per server, the contract's checks first.
    assert "Contract     -       FAIL!" in done.stdout
    assert "srv-gone     UNRCH   UNRCH" in done.stdout


def test_run_changes_nothing_on_any_server_but_the_test_message(run):
    """Checking prerequisites is read-only: a server shows a change only for the PRE-01 test
    message it sent (the run asks for one), and none where the relay refused it."""
    recap = run["done"].stdout.split("PLAY RECAP")[-1]
    for host in ("srv-static", "srv-dynamic", "srv-nosudo"):
        sent = run["results"][(host, "smtp_relay")]["evidence"]["message_sent"]
        changed = re.search(rf"^{host}\s+: ok=\d+\s+changed=(\d+)\b", recap, re.MULTILINE)
        assert changed, recap
        assert int(changed.group(1)) == int(sent), (host, sent, recap)


def test_report_is_valid_and_in_the_contract_language(run):
    report = run["report"]
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert (report["kind"], report["language"]) == ("prerequisites", "en")
    assert report["client"] == {"id": "prereq-lab", "name": "PreventCare prerequisites lab"}
    assert [h["host"] for h in report["hosts"]] == [
        "contract",
        "srv-static",
        "srv-dynamic",
        "srv-nosudo",
        "srv-gone",
    ]
    assert report["onboarding_blocked"] is True
    markdown = (run["folder"] / "prerequisites.md").read_text()
    assert markdown.startswith("# Prerequisites report — PreventCare prerequisites lab")


def _item(host, check, status, *, blocking=True, req):
    return pytest.param(
        host, check, status, blocking, id=f"{host}-{check}", marks=pytest.mark.req(req)
    )


@pytest.mark.parametrize(
    ("host", "check", "status", "blocking"),
    [
        _item("contract", "public_ip", "FAIL", req="PRE-02"),
        _item("contract", "egress_ip", "NOT_APPLICABLE", blocking=False, req="PRE-02"),
        _item("contract", "homologation", "PASS", blocking=False, req="PRE-04"),
        _item("contract", "server_room_phone", "DECLARED", blocking=False, req="PRE-07"),
        _item("contract", "services", "PASS", req="PRE-09"),
        _item("srv-static", "smtp_relay", "PASS", req="PRE-01"),
        _item("srv-static", "static_addressing", "PASS", req="PRE-02"),
        _item("srv-static", "hardware", "PASS", req="PRE-03"),
        _item("srv-static", "os_support", "PASS", req="PRE-05"),
        _item("srv-static", "remote_assistance", "FAIL", req="PRE-06"),
        _item("srv-static", "admin_access", "PASS", req="PRE-08"),
        _item("srv-dynamic", "smtp_relay", "FAIL", req="PRE-01"),
        _item("srv-dynamic", "static_addressing", "FAIL", req="PRE-02"),
        _item("srv-dynamic", "admin_access", "PASS", req="PRE-08"),
        _item("srv-nosudo", "admin_access", "FAIL", req="PRE-08"),
        # Without root, what needs no privilege is still checked.
        _item("srv-nosudo", "smtp_relay", "PASS", req="PRE-01"),
        _item("srv-nosudo", "static_addressing", "PASS", req="PRE-02"),
        _item("srv-nosudo", "os_support", "PASS", req="PRE-05"),
        *(
            _item("srv-gone", check, "UNREACHABLE", req=req)
            for req, check in (
                ("PRE-01", "smtp_relay"),
                ("PRE-02", "static_addressing"),
                ("PRE-03", "hardware"),
                ("PRE-05", "os_support"),
                ("PRE-06", "remote_assistance"),
                ("PRE-08", "admin_access"),
            )
        ),
    ],
)
def test_report_item(run, host, check, status, blocking):
    item = run["results"][(host, check)]
    assert (item["status"], item["blocking"]) == (status, blocking), item
    assert item["title"]
    if status in ("FAIL", "UNREACHABLE", "DECLARED"):
        assert item["evidence"], item
    if status in ("FAIL", "UNREACHABLE"):
        assert item["hint"], item


@pytest.mark.req("PRE-02")
def test_dynamic_address_evidence_names_the_lease(run, addresses):
    item = run["results"][("srv-dynamic", "static_addressing")]
    [row] = item["evidence"]["addresses"]
    assert row["address"] == addresses["srv-dynamic"]
    assert row["kernel_dynamic"] is True
    assert 0 < row["valid_lifetime"] <= 3600
    assert addresses["srv-dynamic"] in item["title"]
    static = run["results"][("srv-static", "static_addressing")]
    assert static["evidence"]["addresses"][0]["address"] == addresses["srv-static"]


@pytest.mark.req("PRE-08")
def test_no_sudo_evidence_and_hint(run):
    item = run["results"][("srv-nosudo", "admin_access")]
    assert item["evidence"]["uid"] == 1000
    assert item["evidence"]["connecting_user"] == "technician"
    assert item["evidence"]["sudo"]["message"] == "sudo: a password is required"
    assert "sudoers" in item["hint"]


@pytest.mark.req("PRE-01")
def test_smtp_runs_from_each_server_with_its_own_address(run, relay, addresses):
    denied = run["results"][("srv-dynamic", "smtp_relay")]
    assert denied["evidence"]["failure_class"] == "relay_denied"
    assert denied["evidence"]["reply"] == "550 5.7.1 Relaying denied for this address"
    passed = run["results"][("srv-static", "smtp_relay")]
    token = passed["evidence"]["token"]
    assert (addresses["srv-static"], f"{SUBJECT} {token}") in relay.senders
    senders = {address for address, _ in relay.senders}
    assert addresses["srv-dynamic"] not in senders


def test_blocking_failures_list_every_blocking_problem_once(run):
    blocking = {
        (b["host"], b["requirement"], b["status"]) for b in run["report"]["blocking_failures"]
    }
    assert ("contract", "PRE-02", "FAIL") in blocking
    assert ("srv-dynamic", "PRE-02", "FAIL") in blocking
    assert ("srv-nosudo", "PRE-08", "FAIL") in blocking
    assert [b for b in blocking if b[0] == "srv-gone"] == [("srv-gone", "PRE-01", "UNREACHABLE")]
    assert ("srv-static", "PRE-02", "FAIL") not in blocking


@pytest.mark.req("SEC-02")
def test_contacts_never_appear_in_the_prerequisites_report(run):
    for path in run["folder"].iterdir():
        text = path.read_text()
        for contact in CONTRACT["preventcare"]["contacts"]:
            for key in ("name", "email", "phone"):
                assert contact[key] not in text, (path.name, key)
