"""The signed machine-readable part of the alert mails: parsing and signature checks (SEC-04)."""

from __future__ import annotations

import copy
import email.message
import email.policy
import json

import pytest
from ansible.module_utils.preventcare_alertmail import (
    BEGIN,
    END,
    FORGED,
    HEADER,
    MALFORMED,
    STALE,
    UNKNOWN_CLIENT,
    UNSIGNED,
    Rejection,
    canonical,
    read_mail,
    sign_message,
    signature,
)

KEY = b"martin-key"
KEYS = {"martin": KEY, "durand": b"durand-key"}
NOW = 1_796_000_000
BODY = {
    "v": 1,
    "client": "martin",
    "monitor": "mon01",
    "alerts": [
        {
            "alert": "RequiredServiceDown",
            "item": "sys_service_down",
            "instance": "srv-lin01",
            "site": "villeurbanne",
            "requirement": "MON-SYS-08",
            "criticality": "significant",
            "status": "firing",
            "starts_at": NOW - 60,
            "ends_at": 0,
            "fingerprint": "3f2a9c0d1e5b7a64",
        }
    ],
}


def _mail(body=BODY, block: str | None = None, cte: str = "quoted-printable") -> bytes:
    """An alert mail as Alertmanager writes it: human text, then the block, quoted-printable."""
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["From"] = "preventcare@martin.example"
    message["To"] = "surveillance@preventcare.example"
    message["Subject"] = "[PreventCare martin] significative · MON-SYS-08 · srv-lin01"
    text = block if block is not None else f"{BEGIN}\n{json.dumps(body)}\n{END}\n"
    message.set_content("Alerte : service arrêté — Criticité : significative\n\n" + text, cte=cte)
    return message.as_bytes()


def _signed(body=BODY, key=KEY, at=NOW, cte="quoted-printable") -> bytes:
    return sign_message(_mail(body, cte=cte), key, now=at)


@pytest.mark.req("SEC-04")
@pytest.mark.req("ALR-01")
def test_a_signed_mail_is_read_back_with_every_field():
    mail = read_mail(_signed(), KEYS, now=NOW + 5)
    assert (mail.client, mail.monitor, mail.signed_at) == ("martin", "mon01", NOW)
    assert mail.alerts == BODY["alerts"]


@pytest.mark.req("SEC-04")
def test_the_signature_covers_the_canonical_body_whatever_the_key_order_or_spacing():
    shuffled = json.loads(json.dumps(BODY))
    shuffled = dict(reversed(list(shuffled.items())))
    assert canonical(shuffled) == canonical(BODY)
    raw = sign_message(_mail(block=f"{BEGIN}\n{json.dumps(shuffled, indent=3)}\n{END}"), KEY, NOW)
    assert read_mail(raw, KEYS, now=NOW).alerts == BODY["alerts"]
    # An 8-bit body that went through a relay as base64 verifies the same.
    assert read_mail(sign_message(_mail(cte="base64"), KEY, NOW), KEYS, now=NOW).client == "martin"


def _reason(raw: bytes, now: float = NOW) -> str:
    with pytest.raises(Rejection) as caught:
        read_mail(raw, KEYS, now=now)
    return caught.value.reason


@pytest.mark.req("SEC-04")
def test_an_unsigned_mail_is_refused():
    assert _reason(_mail()) == UNSIGNED


@pytest.mark.req("SEC-04")
def test_a_mail_signed_with_another_clients_key_is_forged():
    assert _reason(_signed(key=b"durand-key")) == FORGED


@pytest.mark.req("SEC-04")
@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "resolved"), ("instance", "srv-ad01"), ("criticality", "none")],
)
def test_a_signed_mail_whose_block_was_changed_is_forged(field, value):
    raw = _signed(cte="8bit").decode()  # unwrapped, so that the test can edit the block
    changed = copy.deepcopy(BODY)
    changed["alerts"][0][field] = value
    original = json.dumps(BODY)
    assert original in raw
    assert _reason(raw.replace(original, json.dumps(changed)).encode()) == FORGED


@pytest.mark.req("SEC-04")
def test_a_forged_header_with_a_made_up_digest_is_forged():
    raw = f"{HEADER}: v=1; t={NOW}; hmac-sha256={'0' * 64}\r\n".encode() + _mail()
    assert _reason(raw) == FORGED


@pytest.mark.req("SEC-04")
def test_a_second_signature_header_added_on_the_way_is_refused():
    raw = f"{HEADER}: {signature(BODY, KEY, NOW)}\r\n".encode() + _signed()
    assert _reason(raw) == FORGED


@pytest.mark.req("SEC-04")
def test_a_client_without_a_key_at_the_console_is_unknown():
    other = copy.deepcopy(BODY)
    other["client"] = "inconnu"
    assert _reason(_signed(other)) == UNKNOWN_CLIENT


@pytest.mark.req("SEC-04")
def test_an_old_or_future_signature_is_stale():
    assert _reason(_signed(at=NOW - 8 * 24 * 3600)) == STALE
    assert _reason(_signed(at=NOW + 3600)) == STALE


@pytest.mark.req("SEC-04")
@pytest.mark.parametrize(
    ("block", "detail"),
    [
        ("no block at all", "no PreventCare alert block"),
        (f"{BEGIN}\n{{not json\n{END}", "not JSON"),
        (f"{BEGIN}\n[1, 2]\n{END}", "not a JSON object"),
        (f'{BEGIN}\n{{"v": 2}}\n{END}', "version"),
        (f"{BEGIN}\n{json.dumps({**BODY, 'alerts': []})}\n{END}", "'alerts'"),
        (f"{BEGIN}\n{json.dumps({**BODY, 'client': 'a b'})}\n{END}", "'client'"),
    ],
)
def test_a_malformed_block_is_refused_with_what_is_wrong(block, detail):
    with pytest.raises(Rejection) as caught:
        read_mail(_mail(block=block), KEYS, now=NOW)
    assert caught.value.reason == MALFORMED
    assert detail in caught.value.detail


@pytest.mark.req("SEC-04")
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "pending"),
        ("criticality", "urgent"),
        ("starts_at", "yesterday"),
        ("starts_at", True),
        ("fingerprint", ""),
        ("instance", "srv lin01; rm -rf /"),
    ],
)
def test_an_alert_with_a_bad_field_is_malformed(field, value):
    body = copy.deepcopy(BODY)
    body["alerts"][0][field] = value
    with pytest.raises(Rejection) as caught:
        sign_message(_mail(body), KEY, NOW)
    assert caught.value.reason == MALFORMED
    assert field in caught.value.detail


@pytest.mark.req("SEC-04")
@pytest.mark.parametrize(
    "raw", [b"", b"\x00\xff\xfe", b"Subject: x\r\n\r\n" + b"\xc3" * 1000, b"Content-Type: ???\r\n"]
)
def test_garbage_is_malformed_never_a_traceback(raw):
    assert _reason(raw) == MALFORMED
