"""PRE-01: the SMTP transcript classifier, on Python-shaped and Windows transcripts (EN and FR)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_secrets import MASK
from ansible.module_utils.preventcare_smtp import (
    FAILURE_CLASSES,
    HINTS,
    STEPS,
    classify,
    summarize,
)

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = ROOT / "tests" / "fixtures" / "windows" / "smtp"

pytestmark = pytest.mark.req("PRE-01")


def step(name, code=None, *reply, command=None, error=None):
    entry = {"step": name, "command": command, "code": code, "reply": list(reply), "elapsed_ms": 1}
    if error:
        entry["error"] = error
    return entry


def err(kind, code=None, name=None, reason=None, message="(text)"):
    return {"type": kind, "code": code, "name": name, "reason": reason, "message": message}


CONNECT = {**step("connect"), "host": "relay.client.example", "port": 587}
BANNER = step("banner", 220, "relay.client.example ESMTP")
EHLO_TLS = step("ehlo", 250, "relay.client.example", "SIZE 1000", "STARTTLS")
EHLO_PLAIN = step("ehlo", 250, "relay.client.example", "SIZE 1000")
EHLO_AUTH = step("ehlo", 250, "relay.client.example", "AUTH PLAIN LOGIN")
STARTTLS = [step("starttls", 220, "2.0.0 Ready"), step("tls_handshake", None, "TLSv1.3 X")]
MAIL = step("mail", 250, "2.1.0 Ok")
RCPT = step("rcpt", 250, "2.1.5 Ok")
QUIT = step("quit", 221, "Bye")
HEAD = [CONNECT, BANNER, EHLO_TLS, *STARTTLS, EHLO_AUTH]
SENT = [
    step("data", 354, "go ahead"),
    step(
        "message", 250, "2.0.0 ok", command="(test message) Subject: PreventCare PRE-01 test ab12"
    ),
]


def case(case_id, transcript, expect, text="", **options):
    """expect: "STATUS failure_class step" ("-" for none); text: found in reply or reason."""
    status, failure_class, failed_step = (None if w == "-" else w for w in expect.split())
    return pytest.param(transcript, options, (status, failure_class, failed_step), text, id=case_id)


def at_connect(kind, code, name=None):
    return [{**CONNECT, "error": err(kind, code, name)}]


CASES = [
    case("pass-check", [*HEAD, MAIL, RCPT, step("rset", 250, "Ok"), QUIT], "PASS - -"),
    case("pass-sent", [*HEAD, MAIL, RCPT, *SENT, QUIT], "PASS - -", "250 2.0.0 ok"),
    case("pass-quit-fails", [*HEAD, MAIL, RCPT, step("quit", error=err("Closed"))], "PASS - -"),
    case(
        "pass-helo-fallback",
        [CONNECT, BANNER, step("ehlo", 502, "5.5.1"), step("helo", 250, "hi"), MAIL, RCPT],
        "PASS - -",
        tls="none",
    ),
    case("pass-none-opportunistic-tls", [*HEAD, MAIL, RCPT, QUIT], "PASS - -", tls="none"),
    case("dns-python", at_connect("gaierror", -2), "FAIL dns connect"),
    case("dns-windows-11004", at_connect("SocketException", 11004), "FAIL dns connect"),
    case("refused-python", at_connect("ConnectionRefusedError", 111), "FAIL refused connect"),
    case("refused-errno", at_connect("OSError", 111, "ECONNREFUSED"), "FAIL refused connect"),
    case(
        "unreachable-errno", at_connect("OSError", 113, "EHOSTUNREACH"), "FAIL unreachable connect"
    ),
    case("unreachable-windows", at_connect("SocketException", 10065), "FAIL unreachable connect"),
    case("timeout-connect-windows", at_connect("SocketException", 10060), "FAIL timeout connect"),
    case(
        "timeout-banner",
        [CONNECT, step("banner", error=err("TimeoutError", message="timed out"))],
        "FAIL timeout banner",
        "timed out",
    ),
    case(
        "temporary-banner-421",
        [CONNECT, step("banner", 421, "4.3.2 Service not available"), QUIT],
        "FAIL temporary banner",
        "421 4.3.2 Service not available",
    ),
    case(
        "protocol-banner-554",
        [CONNECT, step("banner", 554, "5.7.1 go away"), QUIT],
        "FAIL protocol banner",
        "554 5.7.1 go away",
    ),
    case(
        "protocol-closed",
        [CONNECT, BANNER, step("ehlo", error=err("ConnectionClosed"))],
        "FAIL protocol ehlo",
    ),
    case(
        "protocol-bad-reply",
        [CONNECT, step("banner", error=err("BadReply", message="HTTP/1.1"))],
        "FAIL protocol banner",
        "HTTP/1.1",
    ),
    case("protocol-empty", [], "FAIL protocol connect", "empty"),
    case(
        "tls-not-offered",
        [CONNECT, BANNER, EHLO_PLAIN, QUIT],
        "FAIL tls_not_offered ehlo",
        "STARTTLS",
        tls="starttls",
    ),
    case(
        "tls-not-offered-helo",
        [CONNECT, BANNER, step("ehlo", 500, "what?"), step("helo", 250, "hi"), QUIT],
        "FAIL tls_not_offered helo",
        tls="starttls",
    ),
    case(
        "tls-failed-verify",
        [
            *HEAD[:4],
            step("tls_handshake", error=err("SSLCertVerificationError", 1, reason="VERIFY: bad")),
        ],
        "FAIL tls_failed tls_handshake",
        "VERIFY: bad",
    ),
    case(
        "tls-failed-implicit",
        [CONNECT, step("tls_handshake", error=err("SSLError", 1, reason="WRONG_VERSION_NUMBER"))],
        "FAIL tls_failed tls_handshake",
        "WRONG_VERSION_NUMBER",
        tls="tls",
    ),
    case(
        "tls-starttls-refused",
        [CONNECT, BANNER, EHLO_TLS, step("starttls", 502, "5.5.1 no"), QUIT],
        "FAIL tls_failed starttls",
        "502 5.5.1 no",
    ),
    case(
        "tls-starttls-454-not-available",
        [CONNECT, BANNER, EHLO_TLS, step("starttls", 454, "4.7.0 TLS not available"), QUIT],
        "FAIL tls_failed starttls",
        "454 4.7.0 TLS not available",
    ),
    case(
        "auth-failed-535",
        [*HEAD, step("auth", 535, "5.7.8 Authentication credentials invalid"), QUIT],
        "FAIL auth_failed auth",
        "535 5.7.8",
        auth=True,
    ),
    case(
        "auth-failed-login-password",
        [
            *HEAD,
            step("auth", 334, "VXNlcm5hbWU6"),
            step("auth_username", 334, "UGFzc3dvcmQ6"),
            step("auth_password", 535, "5.7.8 bad"),
            QUIT,
        ],
        "FAIL auth_failed auth_password",
        "535",
        auth=True,
    ),
    case(
        "auth-not-advertised",
        [CONNECT, BANNER, EHLO_PLAIN, QUIT],
        "FAIL auth_failed ehlo",
        "AUTH not advertised",
        tls="none",
        auth=True,
    ),
    case(
        "auth-no-mechanism",
        [CONNECT, BANNER, step("ehlo", 250, "x", "AUTH CRAM-MD5"), QUIT],
        "FAIL auth_failed ehlo",
        "CRAM-MD5",
        tls="none",
        auth=True,
    ),
    case(
        "auth-required-530",
        [*HEAD, step("mail", 530, "5.7.0 Authentication required"), QUIT],
        "FAIL auth_required mail",
        "530 5.7.0 Authentication required",
    ),
    case(
        "sender-rejected",
        [*HEAD, step("mail", 553, "5.7.1 Sender address rejected"), QUIT],
        "FAIL sender_rejected mail",
        "553 5.7.1 Sender address rejected",
    ),
    case(
        "relay-denied",
        [*HEAD, MAIL, step("rcpt", 550, "5.7.1 Relaying denied"), QUIT],
        "FAIL relay_denied rcpt",
        "550 5.7.1 Relaying denied",
    ),
    case(
        "relay-denied-unknown-user",
        [*HEAD, MAIL, step("rcpt", 550, "5.1.1 User unknown"), QUIT],
        "FAIL relay_denied rcpt",
        "5.1.1",
    ),
    case(
        "greylisting",
        [*HEAD, MAIL, step("rcpt", 450, "4.7.1 Greylisted"), QUIT],
        "FAIL temporary rcpt",
        "450 4.7.1 Greylisted",
    ),
    case(
        # Postfix's default defer_unauth_destination (RFC 5321 reply 454, RFC 3463 4.7.1).
        "relay-deferred-by-postfix-policy",
        [*HEAD, MAIL, step("rcpt", 454, "4.7.1 <s@x.example>: Relay access denied"), QUIT],
        "FAIL relay_denied rcpt",
        "454 4.7.1",
    ),
    case(
        "data-rejected",
        [*HEAD, MAIL, RCPT, step("data", 554, "5.5.1 No valid recipients"), QUIT],
        "FAIL message_rejected data",
        "554",
    ),
    case(
        "message-rejected",
        [*HEAD, MAIL, RCPT, SENT[0], step("message", 554, "5.7.1 spam"), QUIT],
        "FAIL message_rejected message",
        "554 5.7.1 spam",
    ),
    case(
        "message-temporary",
        [*HEAD, MAIL, RCPT, SENT[0], step("message", 451, "4.3.0 later"), QUIT],
        "FAIL temporary message",
        "451",
    ),
    case("protocol-unexpected-354", [*HEAD, step("mail", 354, "?")], "FAIL protocol mail", "354"),
    case("protocol-stopped-before-rcpt", [*HEAD, MAIL], "FAIL protocol mail", "RCPT"),
]


@pytest.mark.parametrize(("transcript", "options", "expected", "text"), CASES)
def test_classify(transcript, options, expected, text):
    verdict = classify(transcript, **options)
    assert (verdict["status"], verdict["failure_class"], verdict["step"]) == expected
    assert text in f"{verdict['reply']} {verdict['reason']}"
    assert verdict["hint"]
    if verdict["failure_class"]:
        assert verdict["failure_class"] in FAILURE_CLASSES


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_failure_class_has_a_hint_in_both_languages(language):
    assert set(FAILURE_CLASSES) | {"pass", "pass_sent"} <= set(HINTS[language])
    assert set(HINTS["en"]) == set(HINTS["fr"])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_hint_speaks_of_what_can_happen_at_its_step(language):
    """Greylisting only where it happens (RCPT); a refused STARTTLS is the appliance's TLS."""
    refused_tls = classify(
        [CONNECT, BANNER, EHLO_TLS, step("starttls", 454, "4.7.0 TLS not available"), QUIT],
        language=language,
    )
    assert refused_tls["failure_class"] == "tls_failed"
    assert "STARTTLS" in refused_tls["hint"]
    assert "greylisting" not in refused_tls["hint"].lower()
    assert "ca_path" not in refused_tls["hint"]  # no certificate was ever sent
    at_mail = classify(
        [
            CONNECT,
            BANNER,
            EHLO_TLS,
            step("starttls", 220, "go"),
            EHLO_TLS,
            step("mail", 451, "4.3.0 try later"),
            QUIT,
        ],
        language=language,
    )
    assert (at_mail["failure_class"], at_mail["step"]) == ("temporary", "mail")
    assert "greylisting" not in at_mail["hint"].lower()
    at_rcpt = classify(
        [
            CONNECT,
            BANNER,
            EHLO_TLS,
            step("starttls", 220, "go"),
            EHLO_TLS,
            step("mail", 250, "ok"),
            step("rcpt", 450, "4.7.1 greylisted"),
            QUIT,
        ],
        language=language,
    )
    assert (at_rcpt["failure_class"], at_rcpt["step"]) == ("temporary", "rcpt")
    assert "greylisting" in at_rcpt["hint"].lower()


def test_hint_follows_the_language_and_names_the_step():
    transcript = [*HEAD, MAIL, step("rcpt", 450, "4.7.1 Greylisted"), QUIT]
    english = classify(transcript, language="en")["hint"]
    french = classify(transcript, language="fr")["hint"]
    assert "temporary error at step rcpt" in english
    assert "erreur temporaire à l'étape rcpt" in french


def test_unknown_recipient_gets_the_mailbox_hint_not_the_relay_one():
    verdict = classify([*HEAD, MAIL, step("rcpt", 550, "5.1.1 User unknown"), QUIT])
    assert verdict["enhanced_status"] == "5.1.1"
    assert "surveillance_mailbox" in verdict["hint"]
    denied = classify([*HEAD, MAIL, step("rcpt", 550, "5.7.1 Relaying denied"), QUIT])
    assert "allow this server's IP address" in denied["hint"]


def test_pass_with_a_message_tells_which_subject_to_look_for():
    verdict = classify([*HEAD, MAIL, RCPT, *SENT, QUIT], language="fr")
    assert "PreventCare PRE-01 test ab12" in verdict["hint"]


def test_hint_names_host_and_port_from_the_connect_step():
    verdict = classify([{**CONNECT, "error": err("ConnectionRefusedError", 111, "ECONNREFUSED")}])
    assert "relay.client.example:587" in verdict["hint"]


# --- Windows transcripts (scripts/windows/smtp_dialogue.ps1), built from documentation ---

WINDOWS_CASES = {
    "success_starttls_en": ("PASS", None, None, "250 2.0.0 Ok: queued as 4XbT1d3kQbz9tK"),
    "relay_denied_en": ("FAIL", "relay_denied", "rcpt", "550 5.7.1 <surveillance@"),
    "greylisting_en": ("FAIL", "temporary", "rcpt", "450 4.7.1"),
    "tls_untrusted_fr": ("FAIL", "tls_failed", "tls_handshake", "Le certificat distant"),
    "tls_no_common_algorithm_en": ("FAIL", "tls_failed", "tls_handshake", "A call to SSPI failed"),
    "refused_fr": ("FAIL", "refused", "connect", "expressément refusée"),
    "dns_en": ("FAIL", "dns", "connect", "No such host is known"),
}


def load_windows(name):
    return json.loads((WINDOWS / f"{name}.json").read_text(encoding="utf-8"))


def judge_windows(fixture, language):
    parameters = fixture["parameters"]
    return summarize(
        fixture["result"],
        tls=parameters["Tls"],
        auth="Credential" in parameters,
        language=language,
    )


def test_every_windows_fixture_is_covered():
    assert {p.stem for p in WINDOWS.glob("*.json")} == set(WINDOWS_CASES)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("name", sorted(WINDOWS_CASES))
def test_windows_transcript(name, language):
    status, failure_class, failed_step, reply = WINDOWS_CASES[name]
    verdict = judge_windows(load_windows(name), language)
    assert (verdict["status"], verdict["failure_class"], verdict["step"]) == (
        status,
        failure_class,
        failed_step,
    )
    assert reply in verdict["reply"]
    assert verdict["hint"] == verdict["hint"].strip() != ""
    if language == "fr" and status == "FAIL":
        assert verdict["hint"] != judge_windows(load_windows(name), "en")["hint"]


def test_windows_success_reports_tls_token_and_capabilities():
    verdict = judge_windows(load_windows("success_starttls_en"), "en")
    assert verdict["tls_version"] == "TLSv1.2"
    assert verdict["token"] == "5b0e6f7a9c1d2e34"
    assert verdict["message_sent"] is True
    assert "AUTH PLAIN LOGIN" in verdict["capabilities"]  # the EHLO after STARTTLS
    assert verdict["timings"]["ehlo_2"] == 3
    assert "5b0e6f7a9c1d2e34" in verdict["hint"]


def test_windows_tls_failure_reason_comes_from_the_policy_error_names():
    verdict = judge_windows(load_windows("tls_untrusted_fr"), "fr")
    assert verdict["reason"] == "RemoteCertificateChainErrors, UntrustedRoot"
    assert "UntrustedRoot" in verdict["hint"]


@pytest.mark.parametrize("name", sorted(WINDOWS_CASES))
def test_windows_judgement_uses_codes_not_localised_messages(name):
    """Replacing every exception message (e.g. French Windows) changes no verdict."""
    fixture = load_windows(name)
    scrambled = copy.deepcopy(fixture)
    for entry in scrambled["result"]["transcript"]:
        if "error" in entry:
            entry["error"]["message"] = "Fehler: Verbindung abgelehnt / 接続が拒否されました"
    before, after = judge_windows(fixture, "en"), judge_windows(scrambled, "en")
    assert (after["status"], after["failure_class"], after["step"]) == (
        before["status"],
        before["failure_class"],
        before["step"],
    )


@pytest.mark.parametrize("name", sorted(WINDOWS_CASES))
def test_windows_fixture_says_where_it_comes_from(name):
    source = load_windows(name)["_source"]
    assert "NOT captured" in source["built_from"]
    assert any(
        "rfc-editor.org" in ref or "learn.microsoft.com" in ref for ref in source["documentation"]
    )


@pytest.mark.parametrize("name", sorted(WINDOWS_CASES))
def test_windows_fixture_has_the_python_field_and_step_names(name):
    for entry in load_windows(name)["result"]["transcript"]:
        assert {"step", "command", "code", "reply", "elapsed_ms"} <= set(entry)
        assert entry["step"] in STEPS
        if "error" in entry:
            assert {"type", "code", "name", "reason", "message"} <= set(entry["error"])
        assert MASK in str(entry["command"]) or not str(entry["command"]).startswith("AUTH ")
