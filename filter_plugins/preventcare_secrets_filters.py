"""Filters on secrets: the bcrypt hash the exporters' and web endpoints' configs carry."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_secrets import bcrypt_hash


def preventcare_bcrypt(password, context):
    """'{{ password | preventcare_bcrypt(inventory_hostname) }}': a stable bcrypt hash (SEC-03).

    The salt is derived from the password and the context, so a second run writes the same
    file; the password itself never reaches the host.
    """
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError(
            "preventcare_bcrypt expects the password (a non-empty string from the vault), "
            f"got {type(password).__name__}"
        )
    try:
        return bcrypt_hash(str(password), str(context))
    except ValueError as exc:
        raise AnsibleFilterError(f"preventcare_bcrypt: {exc}") from None


class FilterModule:
    """PreventCare secret filters."""

    def filters(self):
        return {"preventcare_bcrypt": preventcare_bcrypt}
