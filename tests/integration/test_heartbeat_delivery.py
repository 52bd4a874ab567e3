"""MON-TEL-01, SEC-01: what the heartbeat proof reads is what the relay did.

A real Alertmanager (Debian's 0.25) with the monitor_site role's rendered configuration
mails through a real relay (aiosmtpd) that asks for STARTTLS and the contract's login, with
the password file systemd would decrypt for the service. With the right password the mail
arrives and the proof's counters (module_utils/preventcare_heartbeat.py) say delivered;
with a wrong one nothing arrives, the counters say every request was refused, and the
relay's reply is read from Alertmanager's log. Alertmanager's notification counters would
read "1 attempted, 0 failed" meanwhile: that is why the proof does not use them.
"""

from __future__ import annotations

import time

import pytest
from alertmanager_lab import GROUP_WAIT, Alertmanager, example_contract, render
from ansible.module_utils.preventcare_heartbeat import deliveries, relay_reply
from site_lab import MailSink
from smtp_servers import make_tls_material

USER = "preventcare@martin.example"
PASSWORD = "Relay-pass-4821"
HEARTBEAT = {
    "alertname": "Watchdog",
    "instance": "mon01",
    "requirement": "MON-TEL-01",
    "criticality": "none",
}


def _alertmanager(tmp_path, name, sink, ca_path, password):
    contract = example_contract()
    contract["smtp_relay"] = {
        "host": "localhost",
        "port": sink.port,
        "tls": "starttls",
        "validate_certs": True,
        "ca_path": str(ca_path),
        "auth": {"username": USER, "password": "(vaulted)"},
        "sender": contract["smtp_relay"]["sender"],
    }
    config, folder = render(tmp_path, name, contract)
    # Where the role's systemd drop-in has the service's credential decrypted, and the CA file
    # the role installs: here, files of the test's own.
    secret = folder / "smtp_password"
    secret.write_text(password, encoding="utf-8")
    assert config["global"]["smtp_auth_username"] == USER
    config["global"]["smtp_auth_password_file"] = str(secret)
    for receiver in config["receivers"]:
        for mail in receiver.get("email_configs", []):
            mail["tls_config"]["ca_file"] = str(ca_path)
    return Alertmanager(config, folder)


def _wait(predicate, timeout, step=0.5):
    deadline = time.monotonic() + timeout
    while not (found := predicate()) and time.monotonic() < deadline:
        time.sleep(step)
    return found


@pytest.fixture
def relay(tmp_path):
    tls = make_tls_material(tmp_path / "tls")
    sink = MailSink(tls, login=(USER, PASSWORD)).start()
    yield sink, tls.ca_path
    sink.stop()


@pytest.mark.req("MON-TEL-01")
@pytest.mark.req("SEC-01")
def test_a_heartbeat_the_relay_accepts_is_counted_delivered(tmp_path, relay):
    sink, ca_path = relay
    manager = _alertmanager(tmp_path, "good", sink, ca_path, PASSWORD)
    try:
        assert deliveries(manager.metrics())["delivered"] == 0
        manager.push(HEARTBEAT, {"summary": "heartbeat"})
        mail = sink.wait_for(lambda a: "Watchdog" in a.subject, timeout=GROUP_WAIT + 20)
        assert mail, f"no heartbeat reached the relay: {manager.log.read_text()[-1500:]}"
        assert sink.login.logins and sink.login.logins[0][0] == USER
        counted = _wait(lambda: deliveries(manager.metrics())["delivered"] >= 1, timeout=10)
        assert counted, manager.metrics()
    finally:
        manager.stop()


@pytest.mark.req("MON-TEL-01")
def test_a_heartbeat_the_relay_refuses_is_never_counted_delivered(tmp_path, relay):
    sink, ca_path = relay
    manager = _alertmanager(tmp_path, "refused", sink, ca_path, "not-the-password")
    try:
        manager.push(HEARTBEAT, {"summary": "heartbeat"})
        # The first request and at least one retry, each refused.
        refused = _wait(
            lambda: deliveries(manager.metrics())["failed"] >= 2, timeout=GROUP_WAIT + 20
        )
        assert refused, manager.metrics()
        counts = deliveries(manager.metrics())
        assert counts["delivered"] == 0 and counts["attempts"] == counts["failed"], counts
        assert sink.arrivals == []
        # Alertmanager's notification counters, which the proof read before: one attempt, no
        # failure, while every request is refused.
        text = manager.metrics()
        assert 'alertmanager_notifications_total{integration="email"} 1' in text
        assert 'alertmanager_notifications_failed_total{integration="email"} 0' in text
        reply = relay_reply(manager.log.read_text())
        assert "535" in reply, reply
    finally:
        manager.stop()
