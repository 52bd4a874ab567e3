"""Check a password against a bcrypt hash the way the exporters do (test helper)."""

from __future__ import annotations

import warnings


def matches(password: str, hashed: str) -> bool:
    try:
        import bcrypt  # noqa: PLC0415 - optional

        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ImportError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # noqa: PLC0415 - stdlib until Python 3.13

        return crypt.crypt(password, hashed) == hashed
