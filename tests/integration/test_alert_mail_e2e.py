"""Alert e-mails end to end, from a site converged with playbooks/site_day.yml to a mailbox.

A monitor host and a Linux server run as systemd containers; the example contract is copied
with its SMTP relay pointed at a real SMTP server on this machine (aiosmtpd), which the
containers reach as host.containers.internal. The relay's certificate comes from a private
CA that the contract names (smtp_relay.ca_path), and the relay takes no mail without
STARTTLS and the contract's login: a mail that arrives was sent by an Alertmanager that
trusts that CA and holds the vault's password (decrypted by systemd, never on disk: SEC-01).
The tests read what the surveillance team would read: the Watchdog heartbeat, then the mail of a
required service stopped on the server, timed from the moment the rule's condition is met
(MON-SYS-09: within one minute).

Only the rule under test is changed, through the contract's threshold overrides: the required
services rule is evaluated hourly in production (MON-SYS-08, "checked every hour"); the contract
brings it to the counters' 30 s interval so its mail leaves on the counters' timing. The scrape
interval, Alertmanager's group_wait and every other setting stay the production ones.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from ansible.module_utils.preventcare_alertmail import Rejection, read_mail
from required_tools import require
from site_lab import (
    EXAMPLE,
    HOST_FROM_CONTAINERS,
    PROMETHEUS,
    ROOT,
    LabError,
    MailSink,
    SiteLab,
)
from smtp_servers import make_tls_material

pytestmark = pytest.mark.podman

MONITOR, SERVER = "mon01", "srv-lin01"
UNIT = "cron.service"  # a required unit (params.linux_required_units) every Debian server runs
OVERRIDES = {"sys_service_down": {"interval": "30s"}}
BOOKLET_DELAY = 60  # seconds, MON-SYS-09
SENSORS_IMAGE = "localhost/preventcare-sensors:test"  # the set-up day's packages preinstalled
TABLE = yaml.safe_load((ROOT / "data" / "thresholds.yml").read_text(encoding="utf-8"))
_EXAMPLE = ROOT / "inventories" / "example" / "group_vars" / "all"
RELAY_USER = yaml.safe_load((_EXAMPLE / "preventcare.yml").read_text(encoding="utf-8"))[
    "preventcare"
]["smtp_relay"]["auth"]["username"]
RELAY_PASSWORD = yaml.safe_load((_EXAMPLE / "vault.yml").read_text(encoding="utf-8"))[
    "vault_preventcare_smtp_password"
]
# The heartbeat's subject, with the count Alertmanager's group adds when the set-up day's
# proof has joined it (U+00D7 and N).
WATCHDOG = re.compile(r" · Watchdog( \(\u00d7\d+\))?$")


class Site:
    def __init__(self, lab: SiteLab, sink: MailSink, contract: dict):
        self.lab, self.sink, self.contract = lab, sink, contract

    def subjects(self) -> list[str]:
        return [arrival.subject for arrival in self.sink.arrivals]

    def firing(self, alertname: str, instance: str) -> dict | None:
        alerts = self.lab.api(f"{PROMETHEUS}/api/v1/alerts")["data"]["alerts"]
        return next(
            (
                alert
                for alert in alerts
                if alert["labels"]["alertname"] == alertname
                and alert["labels"].get("instance") == instance
                and alert["state"] == "firing"
            ),
            None,
        )

    def local_time(self, rfc3339: str) -> str:
        """A Prometheus time as the French mail writes it, in the contract's time zone."""
        return (
            _instant(rfc3339)
            .astimezone(ZoneInfo(self.contract["timezone"]))
            .strftime("%d/%m/%Y %H:%M:%S %Z")
        )


def _use_the_lab_relay(port: int, ca_path: Path):
    def edit(contract: dict):
        contract["smtp_relay"] = {
            "host": HOST_FROM_CONTAINERS,
            "port": port,
            "tls": "starttls",
            "ca_path": str(ca_path),
            "sender": contract["smtp_relay"]["sender"],
            # The example's login; its password comes from the example's vault.
            "auth": contract["smtp_relay"]["auth"],
        }
        contract["thresholds"] = {**contract.get("thresholds", {}), **OVERRIDES}

    return edit


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require("podman", "the alert e-mail test runs real test hosts")
    tls = make_tls_material(tmp_path_factory.mktemp("relay-ca"), names=(HOST_FROM_CONTAINERS,))
    sink = MailSink(tls, login=(RELAY_USER, RELAY_PASSWORD)).start()
    lab = SiteLab(
        tmp_path_factory.mktemp("alert-e2e"),
        servers=(SERVER,),
        image=SENSORS_IMAGE,
        image_script="tests/containers/sensors/build-image.sh",
    )
    try:
        try:
            lab.start()
            lab.shell(
                SERVER,
                # /mnt/backup: the contract's backup disk, which the set-up day checks first;
                # cron and sshd: what a Debian server runs and the required-services rule expects.
                "mkdir -p /mnt/backup && apt-get update -q >/dev/null && "
                "DEBIAN_FRONTEND=noninteractive "
                "apt-get install -q -y --no-install-recommends cron openssh-server >/dev/null",
                timeout=300,
            )
            inventory = lab.write_inventory(_use_the_lab_relay(sink.port, tls.ca_path))
            lab.converge()
        except LabError as exc:
            pytest.fail(f"the test site could not be set up: {exc}", pytrace=False)
        text = (inventory / "group_vars" / "all" / "preventcare.yml").read_text(encoding="utf-8")
        site = Site(lab, sink, yaml.safe_load(text)["preventcare"])
        site.ca_pem = tls.ca_path.read_text(encoding="ascii")
        yield site
    finally:
        lab.stop()
        sink.stop()


def _instant(rfc3339: str) -> datetime.datetime:
    """A Prometheus time (nanoseconds, Z) as an aware datetime."""
    return datetime.datetime.fromisoformat(rfc3339[:26].rstrip("Z") + "+00:00")


def _expected_lines(item: str, host: str, summary_end: str) -> list[str]:
    """Lines of the French alert mail (preventcare.tmpl) for one booklet item."""
    entry = TABLE["items"][item]
    level = TABLE["levels"][entry["criticality"]]
    summary = entry["summary"]["fr"]
    return [
        f"Alerte : [{entry['requirement']}] {summary[:1].upper()}{summary[1:]}{summary_end}",
        f"Serveur : {host}",
        f"Exigence : {entry['requirement']}",
        f"Criticité : {level['label']['fr']}",
        f"Traitement (ALR-02) : {level['handling']['fr']}",
    ]


@pytest.mark.req("MON-TEL-01")
@pytest.mark.req("ALR-01")
@pytest.mark.req("ALR-02")
def test_the_watchdog_heartbeat_reaches_the_surveillance_mailbox_in_french(site):
    mail = site.sink.wait_for(lambda a: WATCHDOG.search(a.subject), timeout=120)
    assert mail, f"no Watchdog heartbeat within 120 s of the set-up; received: {site.subjects()}"

    mailbox = site.contract["surveillance_mailbox"]
    assert mail.rcpt_tos == [mailbox]
    assert mail.message["To"] == mailbox
    assert mail.mail_from == site.contract["smtp_relay"]["sender"]
    # The set-up day's heartbeat proof joins the Watchdog's group: the subject may end with
    # the group's count.
    assert mail.subject.startswith(
        f"[PreventCare martin] sans impact · MON-TEL-01 · {MONITOR} · Watchdog"
    )
    for line in _expected_lines("tel_watchdog", MONITOR, f" sur {MONITOR}"):
        assert line in mail.body, f"{line!r} missing from the heartbeat:\n{mail.body}"
    assert "Valeur mesurée : 1." in mail.body
    # Read right after the mail: a busy machine may answer the API a few seconds late.
    watchdog = site.lab.wait_for(lambda: site.firing("Watchdog", MONITOR), timeout=60)
    assert watchdog, "Prometheus has no firing Watchdog"
    # The mail gives the alert's start in the contract's zone. When the set-up restarts
    # Prometheus after the first heartbeat (a busy machine runs the handler late), the
    # Watchdog starts again, one or more rule evaluations later: the mail's start is then
    # an earlier activation of the same alert, within the few minutes of the set-up.
    since = re.search(r"Depuis le : (\d\d/\d\d/\d{4} \d\d:\d\d:\d\d \S+)", mail.body)
    assert since, mail.body
    active = _instant(watchdog["activeAt"])
    zone = ZoneInfo(site.contract["timezone"])
    starts = {
        (active - datetime.timedelta(seconds=k)).astimezone(zone).strftime("%d/%m/%Y %H:%M:%S %Z")
        for k in range(301)
    }
    assert since.group(1) in starts, (since.group(1), watchdog["activeAt"])


@pytest.mark.req("ALR-01")
@pytest.mark.req("SEC-04")
def test_the_mail_signer_trusts_the_contracts_private_ca_for_the_relay(site):
    """The contract's CA file reaches the monitor host, and only the relay's TLS uses it.

    The example's vault holds the client's alert-signing key, so Alertmanager hands every mail
    to the local mail signer (loopback), which logs in to the relay over STARTTLS.
    """
    installed = site.lab.exec(MONITOR, "cat", "/etc/prometheus/preventcare-relay-ca.pem").stdout
    assert installed == site.ca_pem
    config = yaml.safe_load(
        site.lab.exec(MONITOR, "cat", "/etc/prometheus/alertmanager.yml").stdout
    )
    assert config["global"]["smtp_smarthost"] == "127.0.0.1:10025"
    signer = json.loads(site.lab.exec(MONITOR, "cat", "/etc/preventcare/mail-signer.json").stdout)
    relay = site.contract["smtp_relay"]
    assert (signer["host"], signer["port"], signer["tls"]) == (
        relay["host"],
        relay["port"],
        "starttls",
    )
    assert signer["ca_file"] == "/etc/prometheus/preventcare-relay-ca.pem"
    assert signer["validate_certs"] is True
    # The relay refuses MAIL before STARTTLS: this heartbeat crossed a verified TLS session.
    assert site.sink.wait_for(lambda a: WATCHDOG.search(a.subject), timeout=120)


@pytest.mark.req("SEC-01")
def test_the_relay_password_travels_but_is_nowhere_in_clear_on_the_monitor_host(site):
    assert site.sink.wait_for(lambda a: WATCHDOG.search(a.subject), timeout=120)
    monitor = site.lab.address(MONITOR)
    # The example's vault holds a signing key: the mail signer logs in for Alertmanager.
    assert (RELAY_USER, monitor) in site.sink.login.logins, (
        f"the monitor ({monitor}) never logged in to the relay: {site.sink.login.logins}"
    )
    lab = site.lab
    found = lab.exec(
        MONITOR, "grep", "-rlF", "--", RELAY_PASSWORD, "/etc", "/var/lib/prometheus",
        "/var/lib/preventcare", check=False,
    )  # fmt: skip
    assert found.returncode == 1, f"the SMTP password is in clear in: {found.stdout}"
    mode = lab.exec(MONITOR, "stat", "-c", "%a", "/etc/credstore.encrypted").stdout.strip()
    assert mode == "700"
    lab.exec(MONITOR, "test", "-f", "/etc/credstore.encrypted/preventcare-smtp-password")
    config = yaml.safe_load(lab.exec(MONITOR, "cat", "/etc/prometheus/alertmanager.yml").stdout)
    # Alertmanager holds no password: the signer's unit has systemd decrypt it into memory.
    assert "smtp_auth_password_file" not in config["global"]
    unit = lab.exec(MONITOR, "systemctl", "cat", "preventcare-mail-signer.service").stdout
    assert (
        "LoadCredentialEncrypted=smtp_password:/etc/credstore.encrypted/preventcare-smtp-password"
        in unit
    )


@pytest.mark.req("SET-02")
@pytest.mark.req("SEC-01")
def test_a_servers_local_mail_reaches_the_relay_with_the_contracts_login(site):
    """What smartd, mdadm or cron send on a server: through its satellite Postfix, logged in."""
    lab, subject = site.lab, f"satellite {uuid.uuid4().hex[:12]}"
    lab.shell(SERVER, f"printf 'Subject: {subject}\\n\\nsmartd would say\\n' | sendmail root")
    mail = site.sink.wait_for(lambda a: a.subject == subject, timeout=90)
    queue = lab.exec(SERVER, "postqueue", "-p", check=False).stdout
    assert mail, f"the server's mail never reached the relay; its queue:\n{queue}"
    assert mail.rcpt_tos == [site.contract["surveillance_mailbox"]]
    assert mail.mail_from == site.contract["smtp_relay"]["sender"]
    server = lab.address(SERVER)
    assert (RELAY_USER, server) in site.sink.login.logins, (
        f"the satellite ({server}) sent without logging in: {site.sink.login.logins}"
    )
    found = lab.exec(
        SERVER, "grep", "-rlF", "--", RELAY_PASSWORD, "/etc", "/var/spool/postfix", check=False
    )
    assert found.returncode == 1, f"the SMTP password is in clear in: {found.stdout}"


@pytest.mark.req("SEC-04")
def test_the_heartbeat_carries_a_block_signed_with_the_clients_key(site):
    """What the surveillance console verifies: the machine-readable block and its HMAC."""
    mail = site.sink.wait_for(lambda a: WATCHDOG.search(a.subject), timeout=120)
    assert mail, f"no Watchdog heartbeat within 120 s; received: {site.subjects()}"
    key = yaml.safe_load((EXAMPLE / "group_vars" / "all" / "vault.yml").read_text())[
        "vault_preventcare_alert_signing_key"
    ]
    signed = read_mail(mail.message.as_bytes(), {"martin": key.encode()})
    assert (signed.client, signed.monitor) == ("martin", MONITOR)
    # The set-up day's proof posts its own copy of the Watchdog, which joins the Watchdog's
    # group: the first heartbeat mail holds one alert or both, all of them the Watchdog.
    assert 1 <= len(signed.alerts) <= 2, signed.alerts
    for alert in signed.alerts:
        assert (alert["alert"], alert["requirement"], alert["status"]) == (
            "Watchdog",
            "MON-TEL-01",
            "firing",
        ), signed.alerts
    with pytest.raises(Rejection, match="forged"):
        read_mail(mail.message.as_bytes(), {"martin": b"another client's key"})


@pytest.mark.req("MON-SYS-08")
@pytest.mark.req("MON-SYS-09")
@pytest.mark.req("ALR-01")
@pytest.mark.req("ALR-02")
def test_a_stopped_required_service_is_mailed_within_the_booklets_minute(
    site, capsys, record_property
):
    lab = site.lab

    def unit_running():
        found = lab.query(
            f'node_systemd_unit_state{{instance="{SERVER}",name="{UNIT}",state="active"}}'
        )
        return found and found[0]["value"][1] == "1"

    # The unit is seen running first, so that stopping it is the change the monitor reacts to.
    assert lab.wait_for(unit_running, timeout=90), f"Prometheus never saw {UNIT} active"
    groups = lab.api(f"{PROMETHEUS}/api/v1/rules?type=alert")["data"]["groups"]
    group, rule = next(
        (g, r)
        for g in groups
        if g["name"].startswith("preventcare-linux-")
        for r in g["rules"]
        if r["name"] == "RequiredServiceDown"
    )
    assert group["interval"] == 30, "the contract's interval override did not reach the rules"
    hold = rule["duration"]  # the rule's own `for:`, in seconds

    def is_alert(arrival):
        return arrival.subject.endswith(f" · {SERVER} · RequiredServiceDown")

    stopped_at = time.time()
    lab.exec(SERVER, "systemctl", "stop", UNIT)
    condition_met = stopped_at + hold
    # Waited for longer than the booklet's minute so that a late mail is measured, not lost.
    mail = site.sink.wait_for(is_alert, timeout=hold + 3 * BOOKLET_DELAY)
    assert mail, (
        f"no RequiredServiceDown mail {hold + 3 * BOOKLET_DELAY} s after stopping {UNIT}; "
        f"received: {site.subjects()}"
    )
    alert = site.firing("RequiredServiceDown", SERVER)
    assert alert, "Prometheus has no firing RequiredServiceDown for the server"
    active_at = _instant(alert["activeAt"])
    delay = mail.at - condition_met
    report = (
        f"\nMON-SYS-09: {UNIT} stopped on {SERVER}; the rule's for: {hold:g} s; "
        f"Prometheus active {active_at.timestamp() - stopped_at:+.1f} s; "
        f"mail received {delay:.1f} s after the condition was met "
        f"({mail.at - active_at.timestamp():.1f} s after activeAt; booklet: {BOOKLET_DELAY} s)"
    )
    record_property("mon_sys_09_delay_seconds", round(delay, 1))
    with capsys.disabled():
        print(report)

    assert mail.subject == (
        f"[PreventCare martin] significative · MON-SYS-08 · {SERVER} · RequiredServiceDown"
    )
    assert mail.rcpt_tos == [site.contract["surveillance_mailbox"]]
    site_name = "villeurbanne"
    for line in _expected_lines(
        "sys_service_down", f"{SERVER} ({site_name})", f" sur {SERVER} ({UNIT})"
    ):
        assert line in mail.body, f"{line!r} missing from the alert:\n{mail.body}"
    assert "Valeur mesurée : 0." in mail.body  # node_systemd_unit_state{state="active"}
    assert f"Depuis le : {site.local_time(alert['activeAt'])}" in mail.body, mail.body
    assert stopped_at - 1 <= active_at.timestamp() <= mail.at

    assert delay <= BOOKLET_DELAY, (
        f"the alert mail left {delay:.1f} s after the condition was met, more than the "
        f"booklet's {BOOKLET_DELAY} s (scrape 15 s + rule interval 30 s + group_wait 10 s "
        "should stay under 60 s)" + report
    )
