"""PRE-01 against a real Postfix relay that relays only for its mynetworks (podman containers).

The module runs on the test hosts themselves, as on a client's servers, so the relay judges
each host by its own address: the host inside mynetworks gets its test message delivered to
the surveillance mailbox behind the relay; the host outside gets Postfix's own refusal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from required_tools import require

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "containers" / "postfix"))

from postfix_relay import (
    INSIDE_IP,
    MAILBOX,
    POSTFIX_SETTINGS,
    RELAY_IP,
    LabError,
    PostfixLab,
    run_module,
)

pytestmark = [pytest.mark.req("PRE-01"), pytest.mark.podman]

SENDER = "preventcare@client.test"


@pytest.fixture(scope="module")
def lab():
    require("podman", "this test runs a real Postfix relay in a container")
    started = PostfixLab()
    try:
        started.start()
    except LabError as exc:
        started.stop()
        pytest.fail(f"the Postfix test relay could not start: {exc}", pytrace=False)
    yield started
    started.stop()


def smtp_args(**options):
    args = {
        "host": RELAY_IP,
        "port": 25,
        "tls": "starttls",
        # Postfix's own self-signed certificate: validation is tested on its own below.
        "validate_certs": False,
        "sender": SENDER,
        "recipient": MAILBOX,
        "language": "en",
        "timeout": 10,
    }
    args.update(options)
    return args


def test_inside_host_relays_and_the_message_really_arrives(lab, tmp_path):
    code, result, output = run_module(lab.inside, smtp_args(send_test_message=True), tmp_path)
    assert code == 0, output
    assert (result["status"], result["failure_class"], result["changed"]) == ("PASS", None, True)
    assert result["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert "STARTTLS" not in result["capabilities"]  # the EHLO after STARTTLS
    assert result["reply"].startswith("250 2.0.0 Ok: queued as ")
    token = result["token"]
    box = lab.wait_for_mail(f"X-PreventCare-Token: {token}")
    assert f"Subject: PreventCare PRE-01 test {token}" in box
    assert f"Delivered-To: {MAILBOX}" in box
    # The relay saw the server's own address, as on a client's network.
    assert f"[{INSIDE_IP}]" in box


def test_outside_host_gets_postfix_relay_denied(lab, tmp_path):
    before = lab.message_count()
    code, result, output = run_module(lab.outside, smtp_args(send_test_message=True), tmp_path)
    assert code == 0, output  # a relay problem is reported, never a failed task
    assert (result["status"], result["failure_class"], result["step"]) == (
        "FAIL",
        "relay_denied",
        "rcpt",
    )
    assert result["reply"] == f"554 5.7.1 <{MAILBOX}>: Relay access denied"
    assert result["enhanced_status"] == "5.7.1"
    assert "allow this server's IP address" in result["hint"]
    assert result["message_sent"] is False
    assert lab.message_count() == before


def test_certificate_validation_is_on_by_default(lab, tmp_path):
    args = smtp_args(send_test_message=True)
    del args["validate_certs"]
    code, result, output = run_module(lab.inside, args, tmp_path)
    assert code == 0, output
    assert (result["status"], result["failure_class"], result["step"]) == (
        "FAIL",
        "tls_failed",
        "tls_handshake",
    )
    assert result["reason"] == "CERTIFICATE_VERIFY_FAILED: self-signed certificate"
    assert result["message_sent"] is False


def test_check_mode_talks_to_the_relay_but_sends_nothing(lab, tmp_path):
    before = lab.message_count()
    code, result, output = run_module(
        lab.inside, smtp_args(send_test_message=True), tmp_path, "--check"
    )
    assert code == 0, output
    assert (result["status"], result["changed"], result["token"]) == ("PASS", False, None)
    assert [s["step"] for s in result["transcript"]][-2:] == ["rset", "quit"]
    assert lab.message_count() == before


def test_debian_default_deferred_relay_is_still_a_relay_denial(lab, tmp_path):
    # Debian's default main.cf defers relaying instead of refusing it.
    default = "permit_mynetworks permit_sasl_authenticated defer_unauth_destination"
    lab.configure({**POSTFIX_SETTINGS, "smtpd_relay_restrictions": default})
    try:
        _, result, _ = run_module(lab.outside, smtp_args(), tmp_path)
    finally:
        lab.configure(POSTFIX_SETTINGS)
    assert (result["status"], result["step"]) == ("FAIL", "rcpt")
    assert result["reply"] == f"454 4.7.1 <{MAILBOX}>: Relay access denied"
    assert result["failure_class"] == "relay_denied"
