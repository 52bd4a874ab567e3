"""The surveillance console, end to end: a real site's alert e-mails become Zabbix problems.

The lab (molecule.yml): mon01 runs the client's PreventCare Monitor (Prometheus, Alertmanager,
the mail signer) converged with playbooks/site_day.yml; it mails through the lab's client relay
to the surveillance address, which the console's Postfix relays to the preventcare-intake
service; console01 runs Zabbix 6.0 converged with playbooks/console.yml. Every assertion reads
what the surveillance team would see: the Zabbix API (as its Admin, with the vaulted password)
and the Problems page in a real headless chromium. Only two things are shortened for the test,
both by variables: the Watchdog's hourly repeat (30 s) and the nodata window (60 s + 30 s of
grace).

The tests run in file order: they share one lab and its timeline. To keep the run short the
site's heartbeat is stopped (an Alertmanager silence on the Watchdog, so the site's other alert
mails still flow) right after the first heartbeat is seen; the alert tests run while the
nodata window elapses, and the silent-site test comes last.
"""

from __future__ import annotations

import email.message
import email.policy
import hashlib
import hmac
import json
import re
import smtplib
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

SCENARIO = Path(__file__).resolve().parents[1]
ROOT = SCENARIO.parents[1]
# The repository's test helpers: the headless browser and waiting for a condition.
sys.path.insert(0, str(ROOT / "tests"))

from browser import look  # noqa: E402
from podman_lab import wait_for as _wait_for  # noqa: E402


def wait_for(probe, timeout: float):
    """The lab's waits poll every 2 s: each probe is a call to Zabbix's API or to podman."""
    return _wait_for(probe, timeout, step=2.0)


ARTIFACTS = ROOT / "artifacts" / "console"  # git-ignored
CONSOLE, MONITOR = "pcc2-console01", "pcc2-mon01"
API = "https://10.89.61.10/zabbix"
SMTP = ("10.89.61.10", 25)
VAULT = yaml.safe_load((SCENARIO / "inventory/group_vars/all/provider_vault.yml").read_text())
PASSWORD = VAULT["vault_preventcare_console_admin_password"]
PROVIDER = yaml.safe_load((SCENARIO / "inventory/group_vars/all/provider.yml").read_text())[
    "preventcare_provider"
]
CLIENT = yaml.safe_load((SCENARIO / "clients/lab/group_vars/all/preventcare.yml").read_text())[
    "preventcare"
]
HOST = f"{CLIENT['client']['id']}.mon01"
UNIT = "cron.service"
# The lab's front end has the self-signed certificate the role made for console.fqdn.
_TLS = ssl._create_unverified_context()
_STATE: dict = {}


def _podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=120, check=check
    )


def _call(method: str, params, auth: str | None = None):
    body = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
    if auth:
        body["auth"] = auth
    request = urllib.request.Request(
        f"{API}/api_jsonrpc.php",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json-rpc"},
    )
    with urllib.request.urlopen(request, timeout=30, context=_TLS) as response:
        return json.load(response)


def api(method: str, params):
    if "auth" not in _STATE:
        _STATE["auth"] = _call("user.login", {"username": "Admin", "password": PASSWORD})["result"]
    answer = _call(method, params, _STATE["auth"])
    assert "error" not in answer, f"{method}: {answer.get('error')}"
    return answer["result"]


def problems(**tags) -> list[dict]:
    """Open problems of the lab's monitor host with the given tags (tag=value)."""
    params = {
        "output": "extend",
        "selectTags": "extend",
        "hostids": [_hostid()],
        "tags": [{"tag": k, "value": v, "operator": 1} for k, v in tags.items()],
    }
    return api("problem.get", params)


def _hostid() -> str:
    if "hostid" not in _STATE:
        found = api("host.get", {"filter": {"host": [HOST]}, "output": ["hostid"]})
        assert found, f"Zabbix has no host {HOST}"
        _STATE["hostid"] = found[0]["hostid"]
    return _STATE["hostid"]


def item(key: str, host: str = HOST) -> dict:
    found = api("item.get", {"host": host, "filter": {"key_": key}, "output": "extend"})
    assert found, f"no item {key} on {host}"
    return found[0]


def _tags(problem: dict) -> dict:
    return {t["tag"]: t["value"] for t in problem["tags"]}


def _intake_state() -> dict:
    done = _podman("exec", CONSOLE, "cat", "/var/lib/preventcare-intake/state.json")
    return json.loads(done.stdout)


def _quarantine() -> list[dict]:
    script = (
        "import glob, json; print(json.dumps([json.load(open(p)) for p in "
        "sorted(glob.glob('/var/lib/preventcare-intake/quarantine/*.json'))]))"
    )
    return json.loads(_podman("exec", CONSOLE, "python3", "-c", script).stdout)


# --------------------------------------------------------------------------- the front end
def test_the_front_end_is_https_only_and_refuses_zabbixs_default_password():
    default = _call("user.login", {"username": "Admin", "password": "zabbix"})
    assert "error" in default, "the default Admin password still works"
    assert "result" in _call("user.login", {"username": "Admin", "password": PASSWORD})
    plain = _podman(
        "exec",
        CONSOLE,
        "python3",
        "-c",
        "import http.client as h; c=h.HTTPConnection('127.0.0.1', 80); "
        "c.request('GET', '/zabbix/'); r=c.getresponse(); "
        "print(r.status, r.getheader('Location'))",
    )
    status, location = plain.stdout.split()
    assert status == "301" and location.startswith("https://"), plain.stdout


# --------------------------------------------------------------------------- heartbeat
@pytest.mark.req("MON-TEL-01")
@pytest.mark.req("ALR-01")
def test_the_sites_signed_heartbeat_reaches_zabbix():
    since = time.time()

    def beat():
        value = item("preventcare.heartbeat")
        return int(value["lastclock"]) >= since - 5 and value

    # The Watchdog leaves the site every minute here (30 s repeat, 1 min group interval).
    value = wait_for(beat, timeout=150)
    assert value, "no new heartbeat from the site reached Zabbix within 150 s"
    assert abs(int(value["lastclock"]) - int(value["lastvalue"])) < 60, (
        "the heartbeat's value is not the time the site signed it"
    )
    # nodata() recovers within seconds of a value.
    cleared = wait_for(lambda: not problems(item="heartbeat_missing"), timeout=60)
    assert cleared, "heartbeat problem while heartbeats arrive"
    # The site falls silent from here on: its Alertmanager stops mailing the Watchdog (the
    # heartbeat), while every other alert still leaves; the last test reads the outcome.
    _STATE["last_beat"] = int(item("preventcare.heartbeat")["lastclock"])
    _podman(
        "exec",
        MONITOR,
        "amtool",
        "--alertmanager.url=http://127.0.0.1:9093",
        "silence",
        "add",
        "alertname=Watchdog",
        "--duration=2h",
        "--author=molecule",
        "--comment=the site falls silent (MON-TEL-01 test)",
    )
    _STATE["silenced_at"] = time.time()


# --------------------------------------------------------------------------- a real alert
@pytest.mark.req("ALR-01")
@pytest.mark.req("ALR-02")
@pytest.mark.req("SEC-04")
def test_a_stopped_required_service_becomes_the_zabbix_problem_of_its_rule(record_property):
    stopped = time.time()
    _podman("exec", MONITOR, "systemctl", "stop", UNIT)

    def raised():
        return problems(item="sys_service_down")

    found = wait_for(raised, timeout=240)
    assert found, f"no Zabbix problem 240 s after stopping {UNIT} on the site"
    problem = found[0]
    tags = _tags(problem)
    assert tags["requirement"] == "MON-SYS-08"
    assert tags["criticality"] == "significant"
    assert tags["client"] == CLIENT["client"]["id"]
    assert problem["severity"] == "4", "significant must be High (4) in Zabbix"
    assert problem["name"].startswith("[MON-SYS-08] Service nécessaire au système arrêté sur mon01")
    trigger = api("trigger.get", {"triggerids": [problem["objectid"]], "output": ["comments"]})
    assert "enregistrement d'une demande au support" in trigger[0]["comments"]

    slot = _intake_state()["alerts"][f"{HOST}|sys_service_down"]
    signed = max(entry["t"] for entry in slot.values() if entry["status"] == "firing")
    delay = int(problem["clock"]) - signed
    _STATE["problem"] = problem
    record_property("mail_to_problem_seconds", delay)
    print(
        f"\nALR-01: {UNIT} stopped; the site signed its mail {signed - stopped:.0f} s later; "
        f"the Zabbix problem opened {delay} s after the mail was signed "
        f"({int(problem['clock']) - stopped:.0f} s after the stop)"
    )
    assert 0 <= delay <= 60, f"{delay} s from the site's mail to the Zabbix problem"


@pytest.mark.req("ALR-01")
def test_the_problems_page_shows_the_problem_in_a_real_browser():
    problem = _STATE.get("problem")
    assert problem, "the previous test raised no problem"
    query = urllib.parse.urlencode(
        {
            "name": "Admin",
            "password": PASSWORD,
            "enter": "Sign in",
            "request": "zabbix.php?action=problem.view",
        }
    )
    screenshot = ARTIFACTS / "problems.png"
    page = look(f"{API}/index.php?{query}", screenshot, size="1600,900", budget_ms=8000)
    dom = page.dom
    (ARTIFACTS / "problems.html").write_text(dom, encoding="utf-8")
    assert screenshot.stat().st_size > 10_000, "the screenshot is empty"
    assert "Service nécessaire au système arrêté sur mon01" in dom, "problem missing from the page"
    assert "High" in dom and "mon01 (Laboratoire Dupont &amp; Fils)" in dom
    print(f"\nscreenshot of the Problems page: {screenshot}")


def _mailed_to() -> set[str]:
    """Recipients the console's Postfix took mail for, from its log (mail facility).

    The lab has no MX for the clients' and teams' domains: Postfix accepts each message, tries
    to deliver it and logs `to=<address>`, which is what the console did on its side.
    """
    log = _podman("exec", CONSOLE, "journalctl", "--no-pager", "-o", "cat", "SYSLOG_FACILITY=2")
    return set(re.findall(r"\bto=<([^>]+)>", log.stdout))


@pytest.mark.req("ALR-03")
@pytest.mark.req("ALR-02")
def test_the_operator_sends_the_client_its_levels_message_from_the_console():
    problem = _STATE.get("problem")
    assert problem, "the earlier test raised no problem"
    scripts = api("script.get", {"output": ["scriptid", "name"], "filter": {"scope": 4}})
    script = next(s for s in scripts if s["name"].startswith("PreventCare: message au client"))
    done = api("script.execute", {"scriptid": script["scriptid"], "eventid": problem["eventid"]})
    assert done["response"] == "success", done
    assert done["value"].strip() == "message (significative) sent to 1 client contact(s)"
    contact = next(c["email"] for c in CLIENT["contacts"] if c["side"] == "client")
    assert wait_for(lambda: contact in _mailed_to(), timeout=30), "no mail to the client"
    # ALR-02: the significant problem registered a support request (a mail to the desk).
    assert PROVIDER["support_desk"]["email"] in _mailed_to()


@pytest.mark.req("ALR-02")
def test_a_level_1_technician_acknowledges_and_lowers_the_severity_then_messages_the_client():
    """ALR-02: the team sets the criticality; the client message follows the level it set."""
    problem = _STATE.get("problem")
    assert problem, "the earlier test raised no problem"
    technician = PROVIDER["teams"]["level1"]["operators"][0]
    password = VAULT["vault_preventcare_console_operator_passwords"][technician["login"]]
    login = _call("user.login", {"username": technician["login"], "password": password})
    assert "result" in login, f"the technician cannot log in: {login.get('error')}"
    # action 2 acknowledge + 4 message + 8 change severity; severity 3: Average (moderate).
    done = _call(
        "event.acknowledge",
        {
            "eventids": [problem["eventid"]],
            "action": 2 | 4 | 8,
            "message": "Diagnostic niveau 1 : service relancé à distance",
            "severity": 3,
        },
        login["result"],
    )
    assert "result" in done, f"the technician could not triage: {done.get('error')}"
    [seen] = api("problem.get", {"eventids": [problem["eventid"]], "output": "extend"})
    assert (seen["acknowledged"], seen["severity"]) == ("1", "3")
    scripts = api("script.get", {"output": ["scriptid", "name"], "filter": {"scope": 4}})
    script = next(s for s in scripts if s["name"].startswith("PreventCare: message au client"))
    sent = api("script.execute", {"scriptid": script["scriptid"], "eventid": problem["eventid"]})
    assert sent["value"].strip() == "message (modérée) sent to 1 client contact(s)"


@pytest.mark.req("ALR-01")
@pytest.mark.req("SEC-04")
def test_the_sites_resolved_mail_closes_the_problem():
    _podman("exec", MONITOR, "systemctl", "start", UNIT)
    started = time.time()
    closed = wait_for(lambda: not problems(item="sys_service_down"), timeout=240)
    assert closed, f"the problem is still open 240 s after {UNIT} was started again"
    print(f"\nALR-01: problem closed {time.time() - started:.0f} s after {UNIT} was started")


# --------------------------------------------------------------------------- SEC-04
def _alert_mail(fingerprint: str, header: str | None) -> email.message.EmailMessage:
    body = {
        "v": 1,
        "client": CLIENT["client"]["id"],
        "monitor": "mon01",
        "alerts": [
            {
                "alert": "RequiredServiceDown",
                "item": "sys_service_down",
                "instance": "mon01",
                "site": "villeurbanne",
                "requirement": "MON-SYS-08",
                "criticality": "significant",
                "status": "firing",
                "starts_at": int(time.time()),
                "ends_at": 0,
                "fingerprint": fingerprint,
            }
        ],
    }
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["From"] = CLIENT["smtp_relay"]["sender"]
    message["To"] = CLIENT["surveillance_mailbox"]
    message["Subject"] = "[PreventCare lab] significative · MON-SYS-08 · mon01"
    if header:
        message["X-PreventCare-Signature"] = header
    text = (
        "-----BEGIN PREVENTCARE ALERT-----\n"
        + json.dumps(body)
        + "\n-----END PREVENTCARE ALERT-----\n"
    )
    message.set_content("Alerte : service arrêté\n\n" + text)
    return message


@pytest.mark.req("SEC-04")
def test_forged_and_unsigned_mails_are_quarantined_and_raise_no_problem():
    before = len(_quarantine())
    now = int(time.time())
    forged_mac = hmac.new(b"not-the-clients-key", b"anything", hashlib.sha256).hexdigest()
    forged = _alert_mail("f0f0f0f0f0f0", f"v=1; t={now}; hmac-sha256={forged_mac}")
    unsigned = _alert_mail("0e0e0e0e0e0e", None)
    with smtplib.SMTP(*SMTP, timeout=30) as smtp:
        smtp.send_message(forged)
        smtp.send_message(unsigned)

    kept = wait_for(lambda: (q := _quarantine()) and len(q) >= before + 2 and q, timeout=60)
    assert kept, "the forged and unsigned mails were not quarantined within 60 s"
    assert sorted(n["reason"] for n in kept[before:]) == ["forged", "unsigned"]
    time.sleep(5)  # an applied mail would have opened its problem by now (see above: seconds)
    assert not problems(item="sys_service_down"), "a quarantined mail raised a problem"
    counter = item("preventcare.intake.quarantined", host="preventcare-console")
    assert int(counter["lastvalue"]) >= before + 2
    alarm = api(
        "problem.get",
        {"output": "extend", "tags": [{"tag": "requirement", "value": "SEC-04", "operator": 1}]},
    )
    assert alarm, "the console raised no problem for the quarantined mails"


# --------------------------------------------------------------------------- SEC-04 at rest
@pytest.mark.req("SEC-04")
def test_the_clients_keys_are_nowhere_in_clear_on_the_consoles_disk():
    key = yaml.safe_load((SCENARIO / "clients/lab/group_vars/all/vault.yml").read_text())[
        "vault_preventcare_alert_signing_key"
    ]
    found = _podman(
        "exec",
        CONSOLE,
        "grep",
        "-rlF",
        "--",
        key,
        "/etc",
        "/var/lib/preventcare-intake",
        "/usr/local",
        "/var/log",
        check=False,
    )
    assert found.returncode == 1, f"the client's key is in clear in: {found.stdout}"
    mode = _podman("exec", CONSOLE, "stat", "-c", "%a %U", "/etc/credstore.encrypted").stdout
    assert mode.split() == ["700", "root"]
    assert (
        "key"
        not in json.loads(_podman("exec", CONSOLE, "cat", "/etc/preventcare/intake.json").stdout)[
            "clients"
        ]["lab"]
    )
    # The service that verifies the mails holds the key, decrypted by systemd into memory.
    service = _podman("exec", CONSOLE, "systemctl", "show", "-p", "MainPID", "preventcare-intake")
    pid = service.stdout.strip().split("=")[1]
    assert pid != "0", "the intake service does not run"
    # systemd gives the service's user, and only it, read access (an ACL on a root file).
    credential = "/run/credentials/preventcare-intake.service/signing_keys"
    mine = _podman(
        "exec", "--user", "preventcare-intake", CONSOLE, "test", "-r", credential, check=False
    )
    assert mine.returncode == 0, "the intake service's user cannot read its credential"
    other = _podman("exec", "--user", "nobody", CONSOLE, "test", "-r", credential, check=False)
    assert other.returncode != 0, "another user can read the clients' keys"


# --------------------------------------------------------------------------- escalation
def _action(prefix: str) -> dict:
    actions = api(
        "action.get",
        {
            "output": "extend",
            "selectOperations": "extend",
            "selectFilter": "extend",
            "selectRecoveryOperations": "extend",
        },
    )
    return next(a for a in actions if a["name"].startswith(prefix))


def _group_ids(names) -> dict:
    groups = api("usergroup.get", {"output": ["usrgrpid", "name"], "filter": {"name": list(names)}})
    return {g["usrgrpid"]: g["name"] for g in groups}


@pytest.mark.req("ALR-02")
def test_major_problems_escalate_to_level_2_an_hour_later_unless_resolved():
    """The escalation as Zabbix will run it, read back through the API (not waited for)."""
    action = _action("PreventCare: major problems")
    assert action["status"] == "0", "the escalation action is disabled"
    assert action["esc_period"] == PROVIDER["escalation"]["level2_after"] == "1h"
    [condition] = action["filter"]["conditions"]
    # conditiontype 4: trigger severity; operator 0: equals; value 5: Disaster.
    assert (condition["conditiontype"], condition["operator"], condition["value"]) == (
        "4",
        "0",
        "5",
    )
    groups = _group_ids(
        [
            "PreventCare level 1",
            "PreventCare level 2",
            "PreventCare level 1 operators",
            "PreventCare level 2 operators",
        ]
    )
    steps = {}
    for operation in action["operations"]:
        assert operation["operationtype"] == "0"  # send message
        targets = {groups.get(g["usrgrpid"]) for g in operation["opmessage_grp"]}
        steps[(operation["esc_step_from"], operation["esc_step_to"])] = targets
    # Step 1 at once to level 1; step 2, one escalation period (1 h) later, to level 2. Zabbix
    # stops an escalation when its problem is resolved: "unless resolved".
    assert steps == {
        ("1", "1"): {"PreventCare level 1", "PreventCare level 1 operators"},
        ("2", "2"): {"PreventCare level 2", "PreventCare level 2 operators"},
    }
    assert action["pause_suppressed"] == "1"
    # Both levels hear of the resolution.
    assert [op["operationtype"] for op in action["recovery_operations"]] == ["11"]
    members = api(
        "user.get",
        {
            "output": ["username"],
            "usrgrpids": list(groups),
            "selectMedias": ["sendto"],
            "selectUsrgrps": ["name"],
        },
    )
    addresses: dict = {}
    for user in members:
        for group in user["usrgrps"]:
            addresses.setdefault(group["name"], set()).update(
                a for m in user["medias"] for a in m["sendto"]
            )
    for level in ("level1", "level2"):
        team = PROVIDER["teams"][level]
        name = f"PreventCare level {level[-1]}"
        assert addresses[name] == {team["email"]}
        assert addresses[f"{name} operators"] == {o["email"] for o in team["operators"]}


# --------------------------------------------------------------------------- silence
@pytest.mark.req("MON-TEL-01")
@pytest.mark.req("ALR-02")
def test_a_silent_site_is_a_disaster_naming_the_client_and_the_site():
    last = _STATE.get("last_beat")
    assert last, "the heartbeat test did not run"
    window = 60 + 30  # provider.yml: heartbeat window + grace
    remaining = max(0, last + window - time.time())
    found = wait_for(lambda: problems(item="heartbeat_missing"), timeout=remaining + 150)
    assert found, f"no heartbeat problem {window + 150} s after the site fell silent"
    problem = found[0]
    raised = int(problem["clock"])
    beats = int(item("preventcare.heartbeat")["lastclock"])
    print(
        f"\nMON-TEL-01: site silent; heartbeat problem raised {raised - last} s after the last "
        f"heartbeat (nodata window {window} s)"
    )
    assert beats == last, "a heartbeat arrived after the site was silenced"
    assert problem["severity"] == "5", "a silent site is a major alert: Disaster"
    assert CLIENT["client"]["name"] in problem["name"] and "villeurbanne" in problem["name"]
    assert raised - last >= window
    # ALR-02: the major escalation's first step notifies level 1 at once, and the support desk
    # registers a request; level 2 only an hour later (previous test).
    step1 = wait_for(
        lambda: (
            (found := api("alert.get", {"eventids": [problem["eventid"]], "output": "extend"}))
            and len(found) >= 2
            and found
        ),
        timeout=60,
    )
    sent_to = {a["sendto"] for a in step1 or []}
    assert PROVIDER["teams"]["level1"]["email"] in sent_to, sent_to
    assert PROVIDER["support_desk"]["email"] in sent_to, sent_to
    assert PROVIDER["teams"]["level2"]["email"] not in sent_to, "level 2 before its hour"
