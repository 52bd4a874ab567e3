"""How a secret is hidden: one mask, and every form in which a secret can leak.

Controller code (contract, reports) and the SMTP module that runs on the servers mask
secrets the same way; the Windows SMTP script writes the same mask.
"""

from __future__ import annotations

import base64

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
