"""PRE-01 against real SMTP servers on 127.0.0.1 (aiosmtpd), directly and through `ansible`."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_smtp import SUBJECT_PREFIX, SmtpCheckError, check_relay
from ansible_cli import run_module

pytestmark = [
    pytest.mark.req("PRE-01"),
    # The test relays authenticate without TLS on purpose (aiosmtpd warns about it).
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated"),
]

ROOT = Path(__file__).resolve().parents[2]
SENDER = "preventcare@client.example"
MAILBOX = "surveillance@preventcare.example"
PASSWORD = "Tr0ub4dor&3-vault-only"


def check(server, **options):
    """check_relay() with the test defaults; host/port from the server object."""
    params = {
        "host": server.host,
        "port": server.port,
        "tls": "none",
        "sender": SENDER,
        "recipient": MAILBOX,
        "helo_name": "srv-test.client.example",
        "timeout": 5,
    }
    params.update(options)
    return check_relay(**params)


def verdict(result):
    return result["status"], result["failure_class"], result["step"]


def assert_no_password(result):
    dumped = json.dumps(result)
    for secret in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in dumped
    plain = base64.b64encode(f"\0relay-user\0{PASSWORD}".encode()).decode()
    assert plain not in dumped


def test_success_sends_a_message_that_really_arrives(smtp_server):
    server = smtp_server()
    result = check(server, send_test_message=True)
    assert verdict(result) == ("PASS", None, None)
    assert result["message_sent"] is True
    assert len(result["token"]) == 16
    [message] = server.messages
    assert message["Subject"] == f"{SUBJECT_PREFIX} {result['token']}"
    assert server.handler.envelopes == [(SENDER, [MAILBOX])]
    assert [s["step"] for s in result["transcript"]] == [
        "connect",
        "banner",
        "ehlo",
        "mail",
        "rcpt",
        "data",
        "message",
        "quit",
    ]
    assert result["timings"]["total"] >= 0
    assert "SIZE 33554432" in result["capabilities"]


def test_check_mode_never_sends_data(smtp_server):
    server = smtp_server()
    result = check(server, send_test_message=True, check_mode=True)
    assert verdict(result) == ("PASS", None, None)
    assert server.messages == []
    assert result["message_sent"] is False
    assert result["token"] is None
    steps = [s["step"] for s in result["transcript"]]
    assert "data" not in steps
    assert steps[-2:] == ["rset", "quit"]


def test_starttls_with_the_client_ca(smtp_server, tls_material):
    server = smtp_server(starttls=tls_material, require_starttls=True)
    result = check(
        server, tls="starttls", ca_path=str(tls_material.ca_path), send_test_message=True
    )
    assert verdict(result) == ("PASS", None, None)
    assert result["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert result["tls_cipher"]
    assert "CN=relay.test" in result["peer_certificate"]["subject"]
    assert "CN=PreventCare test CA" in result["peer_certificate"]["issuer"]
    assert result["peer_certificate"]["not_after"].endswith("+00:00")
    steps = [s["step"] for s in result["transcript"]]
    assert steps[:6] == ["connect", "banner", "ehlo", "starttls", "tls_handshake", "ehlo"]
    assert len(server.messages) == 1


def test_implicit_tls_with_the_client_ca(smtp_server, tls_material):
    server = smtp_server(implicit_tls=tls_material)
    result = check(server, tls="tls", ca_path=str(tls_material.ca_path))
    assert verdict(result) == ("PASS", None, None)
    assert [s["step"] for s in result["transcript"]][:3] == ["connect", "tls_handshake", "banner"]


def test_starttls_with_an_unknown_ca_fails_tls(smtp_server, tls_material):
    server = smtp_server(starttls=tls_material)
    result = check(server, tls="starttls")  # system trust store: the test CA is unknown
    assert verdict(result) == ("FAIL", "tls_failed", "tls_handshake")
    assert "CERTIFICATE_VERIFY_FAILED" in result["reason"]
    assert "ca_path" in result["hint"]


def test_starttls_without_validation_passes_an_unknown_ca(smtp_server, tls_material):
    server = smtp_server(starttls=tls_material)
    result = check(server, tls="starttls", validate_certs=False)
    assert verdict(result) == ("PASS", None, None)
    assert len(result["peer_certificate"]["sha256"]) == 64


def test_tls_required_but_not_offered(smtp_server):
    server = smtp_server()
    result = check(server, tls="starttls", language="fr")
    assert verdict(result) == ("FAIL", "tls_not_offered", "ehlo")
    assert result["reply"].startswith("250 relay.test")
    assert "STARTTLS" in result["hint"]
    assert "mail" not in [s["step"] for s in result["transcript"]]


def test_auth_required_without_credentials(smtp_server):
    server = smtp_server(credentials=("relay-user", PASSWORD))
    result = check(server)
    assert verdict(result) == ("FAIL", "auth_required", "mail")
    assert result["reply"] == "530 5.7.0 Authentication required"


def test_wrong_password_fails_auth_and_is_never_shown(smtp_server):
    server = smtp_server(credentials=("relay-user", "the-right-one"))
    result = check(server, username="relay-user", password=PASSWORD)
    assert verdict(result) == ("FAIL", "auth_failed", "auth")
    assert result["reply"].startswith("535 5.7.8")
    assert result["transcript"][3]["command"] == "AUTH PLAIN ********"
    assert_no_password(result)


def test_right_password_passes_and_is_never_shown(smtp_server):
    server = smtp_server(credentials=("relay-user", PASSWORD))
    result = check(server, username="relay-user", password=PASSWORD, send_test_message=True)
    assert verdict(result) == ("PASS", None, None)
    assert len(server.messages) == 1
    assert_no_password(result)


def test_password_echoed_by_the_server_is_redacted(raw_server):
    """Some servers quote the bad line back in their error: the credentials never survive it."""

    def respond(line):
        if line.startswith(b"EHLO"):
            return b"250-relay.test\r\n250 AUTH PLAIN\r\n"
        if line.startswith(b"AUTH"):
            return b"535 5.7.8 cannot decode " + line + b"\r\n"
        return b"221 Bye\r\n"

    server = raw_server(b"220 relay.test ESMTP\r\n", respond)
    result = check(server, username="relay-user", password=PASSWORD)
    assert verdict(result) == ("FAIL", "auth_failed", "auth")
    assert result["reply"] == "535 5.7.8 cannot decode AUTH PLAIN ********"
    assert_no_password(result)


@pytest.mark.parametrize(
    ("replies", "expected", "reply"),
    [
        pytest.param(
            {"mail_reply": "553 5.7.1 Sender address rejected: not owned by user"},
            ("FAIL", "sender_rejected", "mail"),
            "553 5.7.1 Sender address rejected: not owned by user",
            id="sender-rejected",
        ),
        pytest.param(
            {"rcpt_reply": "550 5.7.1 Relaying denied"},
            ("FAIL", "relay_denied", "rcpt"),
            "550 5.7.1 Relaying denied",
            id="relay-denied",
        ),
        pytest.param(
            {"rcpt_reply": "450 4.7.1 Recipient address rejected: Greylisted"},
            ("FAIL", "temporary", "rcpt"),
            "450 4.7.1 Recipient address rejected: Greylisted",
            id="greylisting",
        ),
        pytest.param(
            {"data_reply": "554 5.7.1 Message rejected as spam"},
            ("FAIL", "message_rejected", "message"),
            "554 5.7.1 Message rejected as spam",
            id="message-rejected",
        ),
    ],
)
def test_relay_refusals(smtp_server, replies, expected, reply):
    server = smtp_server(**replies)
    result = check(server, send_test_message=True)
    assert verdict(result) == expected
    assert result["reply"] == reply
    assert server.messages == []
    assert result["message_sent"] is False


def test_starttls_offered_then_refused_is_a_tls_failure(raw_server):
    """A relay that advertises STARTTLS and answers it 454 4.7.0: TLS is broken there."""

    def respond(line):
        if line.startswith(b"EHLO"):
            return b"250-relay.test\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n"
        if line.startswith(b"STARTTLS"):
            return b"454 4.7.0 TLS not available due to local problem\r\n"
        return b"221 Bye\r\n"

    server = raw_server(b"220 relay.test ESMTP\r\n", respond)
    result = check(server, tls="starttls")
    assert verdict(result) == ("FAIL", "tls_failed", "starttls")
    assert result["reply"] == "454 4.7.0 TLS not available due to local problem"
    assert "STARTTLS" in result["hint"]
    assert "greylisting" not in result["hint"].lower()


def test_421_at_banner_is_temporary(raw_server):
    server = raw_server(b"421 4.3.2 Service not available, closing transmission channel\r\n")
    result = check(server)
    assert verdict(result) == ("FAIL", "temporary", "banner")
    assert result["reply"].startswith("421 4.3.2")


def test_silent_server_times_out_within_the_timeout(raw_server):
    server = raw_server()  # accepts TCP, never says a word
    start = time.monotonic()
    result = check(server, timeout=1)
    elapsed = time.monotonic() - start
    assert verdict(result) == ("FAIL", "timeout", "banner")
    assert 0.9 <= elapsed < 2.5


def test_connection_refused(closed_port):
    result = check(type("Closed", (), {"host": "127.0.0.1", "port": closed_port}))
    assert verdict(result) == ("FAIL", "refused", "connect")
    assert f"127.0.0.1:{closed_port}" in result["hint"]


def test_unresolvable_name():
    # RFC 2606 reserves .invalid: it never resolves.
    result = check(type("Nowhere", (), {"host": "relay.preventcare-test.invalid", "port": 25}))
    assert verdict(result) == ("FAIL", "dns", "connect")
    assert "relay.preventcare-test.invalid" in result["hint"]


# --- the module run by ansible itself ---------------------------------------------------------


def run_ansible(tmp_path, args, *extra):
    return run_module("preventcare_smtp_dialogue", args, tmp_path, *extra)


def test_ansible_module_success(smtp_server, tmp_path):
    server = smtp_server(credentials=("relay-user", PASSWORD))
    args = {
        "host": server.host,
        "port": server.port,
        "tls": "none",
        "username": "relay-user",
        "password": PASSWORD,
        "sender": SENDER,
        "recipient": MAILBOX,
        "send_test_message": True,
        "language": "fr",
    }
    code, result, output = run_ansible(tmp_path, args)
    assert code == 0
    assert (result["status"], result["changed"]) == ("PASS", True)
    assert [m["Subject"] for m in server.messages] == [f"{SUBJECT_PREFIX} {result['token']}"]
    assert "boîte de surveillance" in result["hint"]
    assert PASSWORD not in output


def test_ansible_module_check_mode_sends_nothing(smtp_server, tmp_path):
    server = smtp_server()
    args = {"host": server.host, "port": server.port, "tls": "none", "sender": SENDER}
    args.update(recipient=MAILBOX, send_test_message=True)
    code, result, _ = run_ansible(tmp_path, args, "--check")
    assert code == 0
    assert (result["status"], result["changed"], result["token"]) == ("PASS", False, None)
    assert server.messages == []


def test_ansible_module_reports_a_relay_failure_without_failing(smtp_server, tmp_path):
    server = smtp_server(rcpt_reply="550 5.7.1 Relaying denied")
    args = {"host": server.host, "port": server.port, "tls": "none", "sender": SENDER}
    args.update(recipient=MAILBOX)
    code, result, _ = run_ansible(tmp_path, args)
    assert code == 0
    assert (result["status"], result["failure_class"]) == ("FAIL", "relay_denied")


def test_ansible_module_bad_port_gives_a_clear_message(tmp_path):
    args = {"host": "relay.client.example", "port": 70000, "sender": SENDER, "recipient": MAILBOX}
    code, result, output = run_ansible(tmp_path, args)
    assert code != 0
    assert "localhost | FAILED!" in output
    assert "port 70000 is out of range" in result["msg"]
    assert "1-65535" in result["msg"]


def test_unreadable_ca_file_is_a_clear_argument_error(tmp_path):
    missing = tmp_path / "client-ca.pem"
    with pytest.raises(
        SmtpCheckError, match=r"cannot load the CA certificate file .*client-ca\.pem"
    ):
        check(type("Any", (), {"host": "127.0.0.1", "port": 25}), ca_path=str(missing))
