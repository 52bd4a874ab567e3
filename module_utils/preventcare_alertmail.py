"""The signed machine-readable part of a PreventCare alert e-mail (SEC-04, ALR-01).

A site's Alertmanager writes, after the human text of each alert e-mail, one JSON object
between two marker lines: the client, the monitor host, and for every alert of the mail its
name, rule, instance, site, requirement, criticality, status, start, end and fingerprint.
Alertmanager's templates cannot compute a digest, so the site's mail signer (a small SMTP
hop on the monitor host, roles/monitor_site) adds the signature header on the way out:

    X-PreventCare-Signature: v=1; t=<unix time>; hmac-sha256=<hex>

over ``t`` and the canonical form of that JSON (sorted keys, no spaces, UTF-8), with the
client's own key from the vault. The console's intake (roles/supervision_console) recomputes
it with the same key and applies only what verifies; anything else is a `Rejection` with a
reason the quarantine counts.

Standard library only: the signer and the intake run this file on hosts without the project's
virtualenv; the controller and the tests import it as ``ansible.module_utils``.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field

BEGIN = "-----BEGIN PREVENTCARE ALERT-----"
END = "-----END PREVENTCARE ALERT-----"
HEADER = "X-PreventCare-Signature"
VERSION = 1
# A mail older than this (queued for days, or replayed) is not applied.
MAX_AGE = 7 * 24 * 3600
MAX_SKEW = 600  # seconds a signer's clock may be ahead of the console's
MAX_BODY = 256 * 1024

STATUSES = ("firing", "resolved")
CRITICALITIES = ("none", "minor", "moderate", "significant", "major")
_ALERT_FIELDS = {
    "alert": str,
    "item": str,
    "instance": str,
    "site": str,
    "requirement": str,
    "criticality": str,
    "status": str,
    "starts_at": int,
    "ends_at": int,
    "fingerprint": str,
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_SIGNATURE = re.compile(
    r"^\s*v=(?P<v>[0-9]+);\s*t=(?P<t>[0-9]{1,12});\s*hmac-sha256=(?P<mac>[0-9a-f]{64})\s*$"
)

# Reasons a mail is quarantined (the intake counts them one by one).
MALFORMED = "malformed"
UNSIGNED = "unsigned"
UNKNOWN_CLIENT = "unknown_client"
FORGED = "forged"
STALE = "stale"
REASONS = (MALFORMED, UNSIGNED, UNKNOWN_CLIENT, FORGED, STALE)


class Rejection(Exception):
    """A mail that must not be applied; `reason` is one of REASONS."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class AlertMail:
    """An authentic alert mail: who sent it and what it says."""

    client: str
    monitor: str
    signed_at: int
    alerts: list = field(default_factory=list)


def canonical(body: dict) -> bytes:
    """The bytes that are signed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(body: dict, key: bytes, signed_at: int) -> str:
    """The header value for `body` signed with `key` at unix time `signed_at`."""
    mac = hmac.new(key, b"%d\n" % signed_at + canonical(body), hashlib.sha256).hexdigest()
    return f"v={VERSION}; t={signed_at}; hmac-sha256={mac}"


def message_text(message) -> str:
    """The decoded text/plain content of a parsed message ('' when it has none)."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        return part.get_content()
    except (LookupError, ValueError):  # unknown charset, broken transfer encoding
        return ""


def extract_body(text: str) -> dict:
    """The JSON object between the markers of a mail's text; Rejection(MALFORMED) otherwise."""
    start = text.find(BEGIN)
    end = text.find(END, start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        raise Rejection(MALFORMED, "no PreventCare alert block in the mail's text")
    raw = text[start + len(BEGIN) : end].strip()
    if len(raw) > MAX_BODY:
        raise Rejection(MALFORMED, "the alert block is too large")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise Rejection(MALFORMED, f"the alert block is not JSON ({exc.args[0][:80]})") from None
    check_body(body)
    return body


def check_body(body) -> None:
    """Rejection(MALFORMED) unless `body` has the shape the sites' template writes."""
    if not isinstance(body, dict):
        raise Rejection(MALFORMED, "the alert block is not a JSON object")
    if body.get("v") != VERSION:
        raise Rejection(MALFORMED, f"unsupported alert block version {body.get('v')!r}")
    for name in ("client", "monitor"):
        if not isinstance(body.get(name), str) or not _NAME.match(body[name]):
            raise Rejection(MALFORMED, f"field {name!r} is missing or not a name")
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise Rejection(MALFORMED, "field 'alerts' is missing or empty")
    for index, alert in enumerate(alerts):
        _check_alert(index, alert)


def _check_alert(index: int, alert) -> None:
    where = f"alerts[{index}]"
    if not isinstance(alert, dict):
        raise Rejection(MALFORMED, f"{where} is not an object")
    for name, kind in _ALERT_FIELDS.items():
        value = alert.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise Rejection(MALFORMED, f"{where}.{name} is missing or not a {kind.__name__}")
    for name in ("alert", "item", "instance", "requirement", "fingerprint"):
        if not _NAME.match(alert[name]):
            raise Rejection(MALFORMED, f"{where}.{name} is not a name")
    if alert["site"] and not _NAME.match(alert["site"]):
        raise Rejection(MALFORMED, f"{where}.site is not a name")
    if alert["status"] not in STATUSES:
        raise Rejection(MALFORMED, f"{where}.status must be firing or resolved")
    if alert["criticality"] not in CRITICALITIES:
        raise Rejection(MALFORMED, f"{where}.criticality is not a booklet level")


def verify(body: dict, header, keys: dict, now: float | None = None) -> AlertMail:
    """The authentic AlertMail, or Rejection(UNSIGNED | UNKNOWN_CLIENT | FORGED | STALE).

    keys: client id -> key bytes (from the vault, through the intake's configuration).
    """
    if not header:
        raise Rejection(UNSIGNED, f"no {HEADER} header")
    match = _SIGNATURE.match(str(header))
    if not match or int(match["v"]) != VERSION:
        raise Rejection(UNSIGNED, f"the {HEADER} header is not a version {VERSION} signature")
    client = body["client"]
    key = keys.get(client)
    if not key:
        raise Rejection(UNKNOWN_CLIENT, f"no key for client {client!r}")
    signed_at = int(match["t"])
    expected = signature(body, key, signed_at).rsplit("=", 1)[1]
    if not hmac.compare_digest(expected, match["mac"]):
        raise Rejection(FORGED, f"the signature does not match client {client!r}'s key")
    now = time.time() if now is None else now
    if signed_at > now + MAX_SKEW or signed_at < now - MAX_AGE:
        raise Rejection(STALE, f"signed at {signed_at}, too far from now ({int(now)})")
    return AlertMail(client, body["monitor"], signed_at, list(body["alerts"]))


def read_mail(raw: bytes, keys: dict, now: float | None = None) -> AlertMail:
    """Parse, check and verify one raw e-mail; Rejection when it must not be applied."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        headers = message.get_all(HEADER) or []
        text = message_text(message)
    except Exception as exc:  # the email package raises many kinds on hostile input
        raise Rejection(MALFORMED, f"unreadable e-mail ({type(exc).__name__})") from None
    body = extract_body(text)
    if len(headers) > 1:
        raise Rejection(FORGED, f"{len(headers)} {HEADER} headers: one was added on the way")
    return verify(body, headers[0] if headers else None, keys, now)


def sign_message(raw: bytes, key: bytes, now: float | None = None) -> bytes:
    """The signer's job: `raw` with the signature header of its alert block prepended.

    Raises Rejection(MALFORMED) when the mail has no valid block (Alertmanager wrote it, so
    that means a broken template: the signer refuses it rather than send it unsigned).
    """
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = extract_body(message_text(message))
    signed_at = int(time.time() if now is None else now)
    line = f"{HEADER}: {signature(body, key, signed_at)}\r\n".encode("ascii")
    return line + raw
