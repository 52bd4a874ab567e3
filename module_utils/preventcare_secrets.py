"""How a secret is hidden: one mask, and every form in which a secret can leak.

Controller code (contract, reports) and the SMTP module that runs on the servers mask
secrets the same way; the Windows SMTP script writes the same mask.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MASK = "********"
# Shorter values would garble every report without protecting anything.
MIN_SECRET_LENGTH = 4


def secret_forms(secrets, username=None, min_length=MIN_SECRET_LENGTH):
    """Each secret, its base64 form and its AUTH PLAIN blob (an SMTP transcript carries those).

    Longest first, so that masking a longer form is never spoiled by a shorter one.
    """
    out = set()
    for secret in secrets:
        if not isinstance(secret, str) or len(secret) < max(min_length, 1) or secret == MASK:
            continue
        out.add(secret)
        out.add(base64.b64encode(secret.encode()).decode())
        if username:
            out.add(base64.b64encode(f"\0{username}\0{secret}".encode()).decode())
    return sorted(out, key=len, reverse=True)


def mask(text, forms):
    """`text` with every form of every secret replaced by the mask."""
    for form in forms:
        if form:
            text = text.replace(form, MASK)
    return text


def scrub(value, forms=(), patterns=()):
    """A copy of a JSON-able value with every secret form masked and every pattern replaced.

    patterns: [(compiled regex, replacement)], e.g. the contacts kept out of a report.
    """
    if not any(forms) and not patterns:
        return value
    if isinstance(value, str):
        value = mask(value, forms)
        for pattern, replacement in patterns:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {scrub(k, forms, patterns): scrub(v, forms, patterns) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, forms, patterns) for v in value]
    return value


_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_STANDARD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
BCRYPT_ROUNDS = 10


def bcrypt_salt(password: str, context: str) -> str:
    """22 bcrypt-base64 characters (128 bits) derived from the password and a context.

    The same password for the same host gives the same salt, hence the same hash: the web
    configuration files that carry it change only when the password does (idempotence).
    Different hosts get different salts, and the salt reveals nothing of the password.
    """
    digest = hmac.new(password.encode(), f"preventcare-bcrypt:{context}".encode(), hashlib.sha256)
    standard = base64.b64encode(digest.digest()[:16]).decode()[:22]
    return standard.translate(str.maketrans(_STANDARD_ALPHABET, _BCRYPT_ALPHABET))


def bcrypt_hash(password: str, context: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """The bcrypt hash ($2b$) that exporter-toolkit's basic_auth_users expects (SEC-03).

    ValueError when the password is empty or the bcrypt package (in the lock) is missing.
    """
    if not isinstance(password, str) or not password:
        raise ValueError("the password to hash is empty")
    try:
        import bcrypt  # noqa: PLC0415 - only the controller's filters need it
    except ImportError:
        raise ValueError("no bcrypt on the controller: install the bcrypt Python package") from None
    setting = f"$2b${rounds:02d}${bcrypt_salt(password, context)}"
    return bcrypt.hashpw(password.encode(), setting.encode()).decode()
